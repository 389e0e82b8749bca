"""Reports of a run: console summary, results.json (the source of truth), JUnit XML, a Markdown and a
self-contained HTML parity matrix, and one reproducer per failure (replayed with --replay)."""

from __future__ import annotations

import html
import json
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from xml.etree import ElementTree as ET

from polysdk_conformance.expect import body_bytes

if TYPE_CHECKING:
    from polysdk_conformance.runner import Outcome, Run

JsonDict = dict[str, Any]
STATUS_LABEL = {
    "pass": "pass",
    "fail": "FAIL",
    "known": "known",
    "stale": "STALE",
    "unsupported": "unsupported",
    "not_run": "NOT RUN",
}
MAX_TRANSCRIPT_BODY = 400
# results.json keeps the start of an error's debug text: a driver may put a whole hostile body
# there (tens of MiB), which the checks saw in full but a report reader needs only the start of.
DEBUG_REPORT_CHARS = 4096


def _file_name(case_id: str) -> str:
    return case_id.replace("/", "__").replace(":", "--")  # "proto:A/b" -> "proto--A__b"


def results(run: Run) -> JsonDict:
    return {
        "languages": run.languages,
        "contracts": run.contracts,
        "drivers": run.drivers,
        "timings_s": {key: round(value, 2) for key, value in run.timings.items()},
        "summary": summary(run),
        "format_parity": {
            case_id: {"divergences": found.divergences, "outliers": found.outliers}
            for case_id, found in run.format_parity.items()
        },
        "cases": [
            {
                "id": case.id,
                "suite": case.suite,
                "contract": case.contract,
                "operation": case.operation,
                "doc": case.doc,
                "file": case.where,
                "parity": _divergences(run, case.id),
                "format_parity": _format_divergences(run, case.plain_id),
                "sdks": {
                    lang: _outcome_json(outcome)
                    for lang in run.languages
                    if (outcome := run.outcomes.get((case.id, lang))) is not None
                },
            }
            for case in run.cases
        ],
    }


def _outcome_json(outcome: Outcome) -> JsonDict:
    return {
        "status": outcome.status,
        "failures": outcome.failures,
        "reason": outcome.reason,
        "result": _capped_debug(outcome.result),
        "journal": (outcome.report or {}).get("journal", []),
    }


def _capped_debug(result: JsonDict | None) -> JsonDict | None:
    """The result with its error's debug text cut to DEBUG_REPORT_CHARS (and how much was cut)."""
    error = (result or {}).get("error")
    if not isinstance(error, dict):
        return result
    debug = error.get("debug")
    if not isinstance(debug, str) or len(debug) <= DEBUG_REPORT_CHARS:
        return result
    cut = f"{debug[:DEBUG_REPORT_CHARS]}... ({len(debug) - DEBUG_REPORT_CHARS} more characters)"
    return {**(result or {}), "error": {**error, "debug": cut}}


def _divergences(run: Run, case_id: str) -> list[str]:
    found = run.parity.get(case_id)
    return found.divergences if found else []


def _format_divergences(run: Run, plain_id: str) -> list[str]:
    found = run.format_parity.get(plain_id)
    return found.divergences if found else []


def _outliers(run: Run, case_id: str) -> str:
    found = run.parity.get(case_id)
    return ", ".join(found.outliers) if found else ""


def _counts(run: Run, language: str, contract: str | None) -> JsonDict:
    ids = {case.id for case in run.cases if contract is None or case.contract == contract}
    per = dict.fromkeys(STATUS_LABEL, 0)
    for (case_id, lang), outcome in run.outcomes.items():
        if lang == language and case_id in ids:
            per[outcome.status] += 1
    per["parity_outlier"] = sum(
        1 for case_id, found in run.parity.items() if case_id in ids and language in found.outliers
    )
    return per


def summary(run: Run) -> JsonDict:
    """Counts per SDK over every profile, then per contract profile; parity across SDKs and
    across the contract formats."""
    counts: JsonDict = {}
    for language in run.languages:
        counts[language] = _counts(run, language, None)
    counts["parity_divergences"] = sum(1 for found in run.parity.values() if found.divergences)
    counts["cases"] = len(run.cases)
    counts["profiles"] = {
        contract: {
            "cases": sum(1 for case in run.cases if case.contract == contract),
            **{language: _counts(run, language, contract) for language in run.languages},
        }
        for contract in run.contracts
    }
    counts["format_parity"] = {
        "cases": len(run.format_parity),
        "divergences": sum(1 for found in run.format_parity.values() if found.divergences),
    }
    return counts


def transcript(outcome: Outcome) -> list[str]:
    """The HTTP exchange of a failure as the server saw it, plus what the SDK surfaced."""
    lines = []
    for entry in (outcome.report or {}).get("journal", []):
        query = f"?{entry['query']}" if entry["query"] else ""
        timing = f"t={entry['time_ms']:.0f} ms, step {entry['step']}"
        lines.append(f"  > {entry['method']} {entry['path']}{query}   ({timing})")
        for name, value in entry["headers"]:
            lines.append(f"  >   {name}: {value}")
        body = _body_preview(body_bytes(entry))
        if body:
            lines.append(f"  >   {body}")
    result = outcome.result or {}
    shown = {
        key: result[key]
        for key in ("outcome", "value", "error", "attempts", "events", "items")
        if key in result
    }
    text = json.dumps(shown, ensure_ascii=False)
    lines.append(
        f"  < surfaced: {text[:MAX_TRANSCRIPT_BODY]}{'...' if len(text) > MAX_TRANSCRIPT_BODY else ''}"
    )
    return lines


def _body_preview(data: bytes) -> str:
    if not data:
        return ""
    text = data[:MAX_TRANSCRIPT_BODY].decode("utf-8", "replace")
    return text + ("..." if len(data) > MAX_TRANSCRIPT_BODY else "")


def console(run: Run, out: TextIO) -> None:
    for case in run.cases:
        for language in run.languages:
            outcome = run.outcomes.get((case.id, language))
            if outcome is None or outcome.status not in ("fail", "stale", "not_run"):
                continue
            print(
                f"\n{STATUS_LABEL[outcome.status]} {case.id} [{language}]  ({case.where})",
                file=out,
            )
            for failure in outcome.failures:
                print(f"  - {failure}", file=out)
            if outcome.reason:
                print(f"  - {outcome.reason}", file=out)
            if outcome.status == "fail":
                for line in transcript(outcome):
                    print(line, file=out)
    divergent = [(case_id, found.divergences) for case_id, found in run.parity.items() if found.divergences]
    if divergent:
        print(f"\nparity divergences ({len(divergent)} cases):", file=out)
        for case_id, found in divergent:
            print(f"  {case_id}", file=out)
            for difference in found:
                print(f"    - {difference}", file=out)
    formats = [
        (case_id, found.divergences) for case_id, found in run.format_parity.items() if found.divergences
    ]
    if formats:
        print(f"\nparity divergences across contract formats ({len(formats)} cases):", file=out)
        for case_id, differences in formats:
            print(f"  {case_id} (openapi vs proto:{case_id})", file=out)
            for difference in differences:
                print(f"    - {difference}", file=out)
    counts = summary(run)
    for contract in run.contracts:
        profile = counts["profiles"][contract]
        print(f"\n{contract} contract: {profile['cases']} cases x {len(run.languages)} SDKs", file=out)
        for language in run.languages:
            per = profile[language]
            print(
                f"  {language:<11} pass {per['pass']}, fail {per['fail']}, known {per['known']}, "
                f"stale {per['stale']}, unsupported {per['unsupported']}, could not run {per['not_run']}; "
                f"differs from the others in {per['parity_outlier']} cases",
                file=out,
            )
    print(f"  parity divergences: {counts['parity_divergences']}", file=out)
    if run.format_parity:
        fp = counts["format_parity"]
        print(
            f"  parity across contract formats: {fp['cases']} cases on both, {fp['divergences']} diverge",
            file=out,
        )
    timings = run.timings
    print(
        f"  wall time {timings.get('total_s', 0):.1f} s (the whole process; driver builds "
        f"{timings.get('build_s', 0):.1f} s, cases {timings.get('run_s', 0):.1f} s, "
        f"reports {timings.get('reports_s', 0):.1f} s)",
        file=out,
    )


def junit(run: Run) -> bytes:
    suites = ET.Element("testsuites", name="polysdk conformance")
    for language in run.languages:
        outcomes = [
            run.outcomes[(case.id, language)] for case in run.cases if (case.id, language) in run.outcomes
        ]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"conformance.{language}",
            tests=str(len(outcomes)),
            failures=str(sum(o.status in ("fail", "stale") for o in outcomes)),
            errors=str(sum(o.status == "not_run" for o in outcomes)),
            skipped=str(sum(o.status in ("known", "unsupported") for o in outcomes)),
        )
        for outcome in outcomes:
            suite_name, _, name = outcome.case_id.partition("/")
            testcase = ET.SubElement(suite, "testcase", classname=f"{language}.{suite_name}", name=name)
            if outcome.status in ("fail", "stale"):
                failure = ET.SubElement(
                    testcase, "failure", message=(outcome.failures or [outcome.reason])[0]
                )
                failure.text = "\n".join([*outcome.failures, outcome.reason, *transcript(outcome)])
            elif outcome.status == "not_run":
                ET.SubElement(testcase, "error", message=outcome.reason)
            elif outcome.status in ("known", "unsupported"):
                ET.SubElement(testcase, "skipped", message=f"{outcome.status}: {outcome.reason}")
    parity_suite = ET.SubElement(
        suites,
        "testsuite",
        name="conformance.parity",
        tests=str(len(run.cases)),
        failures=str(sum(1 for found in run.parity.values() if found.divergences)),
    )
    for case in run.cases:
        testcase = ET.SubElement(parity_suite, "testcase", classname=f"parity.{case.suite}", name=case.id)
        found = _divergences(run, case.id)
        if found:
            ET.SubElement(testcase, "failure", message=found[0]).text = "\n".join(found)
    if run.format_parity:
        formats = ET.SubElement(
            suites,
            "testsuite",
            name="conformance.format-parity",
            tests=str(len(run.format_parity)),
            failures=str(sum(1 for found in run.format_parity.values() if found.divergences)),
        )
        for case_id, across in run.format_parity.items():
            testcase = ET.SubElement(
                formats, "testcase", classname=f"format-parity.{case_id.split('/')[0]}", name=case_id
            )
            if across.divergences:
                ET.SubElement(testcase, "failure", message=across.divergences[0]).text = "\n".join(
                    across.divergences
                )
    ET.indent(suites)
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data


def _suite_rates(run: Run) -> list[tuple[str, dict[str, str], str]]:
    rows = []
    for suite in sorted({case.suite for case in run.cases}):
        ids = [case.id for case in run.cases if case.suite == suite]
        rates = {}
        for language in run.languages:
            passed = sum(
                1
                for i in ids
                if run.outcomes.get((i, language)) and run.outcomes[(i, language)].status == "pass"
            )
            rates[language] = f"{passed}/{len(ids)}"
        at_parity = sum(1 for i in ids if not _divergences(run, i))
        rows.append((suite, rates, f"{at_parity}/{len(ids)}"))
    return rows


def markdown(run: Run) -> str:
    head = "| case | " + " | ".join(run.languages) + " | parity |"
    rule = "|---|" + "---|" * (len(run.languages) + 1)
    lines = [
        "# Conformance matrix",
        "",
        "## Pass rate per suite",
        "",
        "| suite | " + " | ".join(run.languages) + " | at parity |",
        rule,
    ]
    for suite, rates, at_parity in _suite_rates(run):
        lines.append(
            f"| {suite} | " + " | ".join(rates[lang] for lang in run.languages) + f" | {at_parity} |"
        )
    lines += ["", "## Cases", "", head, rule]
    for case in run.cases:
        cells = [
            STATUS_LABEL[run.outcomes[(case.id, lang)].status] if (case.id, lang) in run.outcomes else "-"
            for lang in run.languages
        ]
        parity_cell = f"diverges ({_outliers(run, case.id)})" if _divergences(run, case.id) else "same"
        lines.append(f"| `{case.id}` | " + " | ".join(cells) + f" | {parity_cell} |")
    if run.format_parity:
        lines += [
            "",
            "## Across contract formats (openapi vs proto)",
            "",
            "| case | " + " | ".join(run.languages) + " |",
            "|---|" + "---|" * len(run.languages),
        ]
        for case_id, found in run.format_parity.items():
            cells = [_format_cell(run, case_id, lang, found.outliers) for lang in run.languages]
            lines.append(f"| `{case_id}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _format_cell(run: Run, case_id: str, language: str, outliers: list[str]) -> str:
    """same | diverges | - (not run on both formats)."""
    ran = [
        outcome
        for case in run.cases
        if case.plain_id == case_id
        and (outcome := run.outcomes.get((case.id, language))) is not None
        and outcome.status not in ("unsupported", "not_run")
    ]
    if len(ran) < 2:
        return "-"
    return "diverges" if language in outliers else "same"


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
th{background:#f4f4f4;position:sticky;top:0}.pass,.same{background:#e6f6e6}
.fail,.stale,.not_run,.diverges{background:#fbe3e3}
.known,.unsupported{background:#fff4d6}details{margin:.2rem 0}
pre{white-space:pre-wrap;margin:.3rem 0;font-size:12px}
code{font-size:12px}
"""


def html_matrix(run: Run) -> str:
    esc = html.escape
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>polysdk conformance matrix</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>polysdk conformance matrix</h1>",
        f"<p>{len(run.cases)} cases ({esc(', '.join(run.contracts))} contracts) &times; "
        f"{len(run.languages)} SDKs; wall time "
        f"{run.timings.get('total_s', 0):.1f} s.</p>",
        "<h2>Pass rate per suite</h2><table><tr><th>suite</th>",
    ]
    out += [f"<th>{esc(lang)}</th>" for lang in run.languages] + ["<th>at parity</th></tr>"]
    for suite, rates, at_parity in _suite_rates(run):
        out.append(
            f"<tr><td>{esc(suite)}</td>"
            + "".join(f"<td>{esc(rates[lang])}</td>" for lang in run.languages)
            + f"<td>{esc(at_parity)}</td></tr>"
        )
    out.append("</table><h2>Cases</h2><table><tr><th>case</th>")
    out += [f"<th>{esc(lang)}</th>" for lang in run.languages] + ["<th>parity</th></tr>"]
    for case in run.cases:
        out.append(f"<tr><td><code>{esc(case.id)}</code><br><small>{esc(case.doc)}</small></td>")
        for language in run.languages:
            outcome = run.outcomes.get((case.id, language))
            if outcome is None:
                out.append("<td>-</td>")
                continue
            detail = outcome.failures + ([outcome.reason] if outcome.reason else [])
            cell = esc(STATUS_LABEL[outcome.status])
            if detail:
                cell = f"<details><summary>{cell}</summary><pre>{esc(chr(10).join(detail))}</pre></details>"
            out.append(f"<td class='{outcome.status}'>{cell}</td>")
        found = _divergences(run, case.id)
        if found:
            summary_text = esc(f"diverges ({_outliers(run, case.id)})")
            out.append(
                f"<td class='diverges'><details><summary>{summary_text}</summary>"
                f"<pre>{esc(chr(10).join(found))}</pre></details></td></tr>"
            )
        else:
            out.append("<td class='same'>same</td></tr>")
    out.append("</table>")
    if run.format_parity:
        out.append("<h2>Across contract formats (openapi vs proto)</h2><table><tr><th>case</th>")
        out += [f"<th>{esc(lang)}</th>" for lang in run.languages] + ["</tr>"]
        for case_id, across in run.format_parity.items():
            out.append(f"<tr><td><code>{esc(case_id)}</code></td>")
            for language in run.languages:
                cell = _format_cell(run, case_id, language, across.outliers)
                css = {"same": "same", "diverges": "diverges"}.get(cell, "")
                if cell == "diverges":
                    mine = [d for d in across.divergences if d.startswith(f"{language}: ")]
                    cell_html = (
                        f"<details><summary>diverges</summary><pre>{esc(chr(10).join(mine))}</pre></details>"
                    )
                else:
                    cell_html = esc(cell)
                out.append(f"<td class='{css}'>{cell_html}</td>")
            out.append("</tr>")
        out.append("</table>")
    out.append("</body></html>\n")
    return "".join(out)


def write_all(run: Run, report_dir: Path) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    # Streamed, not built as one string: a result can hold hundreds of megabytes (a driver's debug
    # text of a 32 MiB body), and joining then re-encoding them cost seconds of every run.
    with (report_dir / "results.json").open("w", encoding="utf-8") as out:
        for chunk in json.JSONEncoder(indent=1, ensure_ascii=False).iterencode(results(run)):
            out.write(chunk)
        out.write("\n")
    (report_dir / "junit.xml").write_bytes(junit(run))
    (report_dir / "matrix.md").write_text(markdown(run), encoding="utf-8")
    (report_dir / "matrix.html").write_text(html_matrix(run), encoding="utf-8")
    reproducers = report_dir / "reproducers"
    for (case_id, language), outcome in sorted(run.outcomes.items()):
        if outcome.status not in ("fail", "not_run") or outcome.line is None:
            continue
        target = reproducers / language / f"{_file_name(case_id)}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            json.dumps(
                {
                    "language": language,
                    "case": case_id,
                    "contract": next((case.contract for case in run.cases if case.id == case_id), "openapi"),
                    "failures": outcome.failures or [outcome.reason],
                    "scenario": outcome.scenario,
                    "case_line": outcome.line,
                    "mock_url": outcome.mock_url,
                    "replay": shlex.join(
                        ["polysdk", "conformance", *run.replay_options, "--replay", str(target)]
                    ),
                    "by_hand": "polysdk mock --port 8900 &  # then POST the scenario to "
                    "http://127.0.0.1:8900/_mock/scenarios, put the returned base_url into case_line "
                    "and pipe case_line (one line) into the driver",
                },
                indent=1,
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )


def replay(path: Path, driver_argv: Callable[[str, str], list[str]], spec: Path) -> int:
    """Replays one reproducer: a fresh mock, the scenario, the case line into the SDK's driver
    (of the reproducer's contract profile: `driver_argv(language, contract)`)."""
    from polysdk_conformance.mock import MockServer

    data = json.loads(path.read_text(encoding="utf-8"))
    argv = driver_argv(data["language"], data.get("contract", "openapi"))
    with MockServer(spec_path=spec) as mock:
        token = mock.register(data["scenario"])
        # The case line names the old run's mock URL (in base_url, maybe in env): point it here.
        line = json.loads(json.dumps(data["case_line"]).replace(data["mock_url"], mock.url(token)))
        print(f"$ {' '.join(argv)} <<< {json.dumps(line, ensure_ascii=False)}")
        done = subprocess.run(
            argv,
            input=(json.dumps(line) + "\n").encode("utf-8"),
            capture_output=True,
            timeout=120,
            check=False,
        )
        print(done.stdout.decode("utf-8", "replace"))
        if done.stderr:
            print(done.stderr.decode("utf-8", "replace"))
        print(json.dumps(mock.report(token), indent=1, ensure_ascii=False))
    return 0
