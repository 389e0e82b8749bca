"""Reports of a run: console summary, results.json (the source of truth), JUnit XML, a Markdown and a
self-contained HTML parity matrix, and one reproducer per failure (replayed with --replay)."""

from __future__ import annotations

import base64
import difflib
import hashlib
import html
import json
import re
import shlex
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from xml.etree import ElementTree as ET

from polysdk_conformance.derive.cases import SUITE as DERIVED_SUITE
from polysdk_conformance.expect import body_bytes
from polysdk_conformance.parity import ABSENT, Difference

if TYPE_CHECKING:
    from polysdk_conformance.cases import Case
    from polysdk_conformance.parity import Comparison
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
    lines.append(f"  < surfaced: {_capped(json.dumps(shown, ensure_ascii=False))}")
    return lines


def inputs(case: Case) -> list[str]:
    """What the case fed the SDK: the call with its arguments (and client options), then the
    answers the mock was told to play, step by step -- for a derived case, the values derived from
    the contract, which a reader needs to see beside the transcript."""
    call = json.dumps(case.args, ensure_ascii=False, sort_keys=True)
    lines = [f"  call: {case.operation}({_capped(call)})"]
    if case.client:
        lines.append(f"  client: {_capped(json.dumps(case.client, ensure_ascii=False, sort_keys=True))}")
    for index, step in enumerate(case.steps):
        response = step.get("response") or {}
        rest = {key: value for key, value in response.items() if key not in ("kind", "status")}
        played = " " + _capped(json.dumps(rest, ensure_ascii=False, sort_keys=True)) if rest else ""
        lines.append(f"  mock step {index}: {response.get('kind')} {response.get('status', 200)}{played}")
    return lines


def _capped(text: str) -> str:
    return text[:MAX_TRANSCRIPT_BODY] + ("..." if len(text) > MAX_TRANSCRIPT_BODY else "")


def _body_preview(data: bytes) -> str:
    if not data:
        return ""
    text = data[:MAX_TRANSCRIPT_BODY].decode("utf-8", "replace")
    return text + ("..." if len(data) > MAX_TRANSCRIPT_BODY else "")


MAX_CONSOLE_TRANSCRIPTS = 10  # failures printed with their transcripts; the rest one line each
MAX_CONSOLE_DIVERGENCES = 20  # divergent cases named on the console; the reports have them all


def console(run: Run, out: TextIO, report_dir: Path | None = None) -> None:
    """The summary a terminal or CI log shows: each failure with its transcript and how to replay
    it (the first MAX_CONSOLE_TRANSCRIPTS in full), one line per divergent case (the forms are in
    the matrix), counts per SDK, then the verdict. A run that passes prints no details at all."""
    failing = [
        (case, outcome)
        for case in run.cases
        for language in run.languages
        if (outcome := run.outcomes.get((case.id, language))) is not None and outcome.status in PROBLEMS
    ]
    for index, (case, outcome) in enumerate(failing):
        print(
            f"\n{STATUS_LABEL[outcome.status]} {case.id} [{outcome.language}]  ({case.where})",
            file=out,
        )
        reasons = outcome.failures + ([outcome.reason] if outcome.reason else [])
        if index >= MAX_CONSOLE_TRANSCRIPTS:
            print(f"  - {reasons[0] if reasons else ''}", file=out)
            continue
        for reason in reasons:
            print(f"  - {reason}", file=out)
        if outcome.status == "fail":
            for line in inputs(case) + transcript(outcome):
                print(line, file=out)
        if report_dir is not None and _has_reproducer(outcome):
            print(
                f"  replay: {replay_command(report_dir, case.id, outcome.language, run.replay_options)}",
                file=out,
            )
    if len(failing) > MAX_CONSOLE_TRANSCRIPTS:
        print(
            f"\n({len(failing) - MAX_CONSOLE_TRANSCRIPTS} more failures shown without transcripts; "
            "every transcript is in the reports)",
            file=out,
        )
    divergent = [(case_id, found) for case_id, found in run.parity.items() if found.divergences]
    formats = [(case_id, found) for case_id, found in run.format_parity.items() if found.divergences]
    if divergent or formats:
        print(
            f"\nparity divergences ({len(divergent)} across SDKs, {len(formats)} across formats):", file=out
        )
        listed = [(case_id, found, _odd_one_out(found, len(run.languages))) for case_id, found in divergent]
        listed += [
            (f"{case_id} (openapi vs proto)", found, _across_formats(found)) for case_id, found in formats
        ]
        for case_id, found, who in listed[:MAX_CONSOLE_DIVERGENCES]:
            aspects = ", ".join(difference.aspect for difference in grouped(found.differences))
            print(f"  {case_id}: {who}; differs in {aspects}", file=out)
        if len(listed) > MAX_CONSOLE_DIVERGENCES:
            print(f"  ... and {len(listed) - MAX_CONSOLE_DIVERGENCES} more", file=out)
    counts = summary(run)
    for contract in run.contracts:
        profile = counts["profiles"][contract]
        if not profile["cases"]:  # a profile the selection left empty
            continue
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
    where = f"; report: {report_dir / 'matrix.html'}" if report_dir is not None else ""
    print(f"{verdict_line(run)}{where}", file=out)


def verdict_line(run: Run) -> str:
    """PASSED or FAILED, the runs that failed and the cases that diverge, in one line."""
    problems = sum(1 for outcome in run.outcomes.values() if outcome.status in PROBLEMS)
    diverging = sum(1 for found in (*run.parity.values(), *run.format_parity.values()) if found.divergences)
    return f"{VERDICT_TEXT[verdict(run)].split(',')[0]}: {problems} failing, {diverging} diverging"


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
        f"**{verdict_line(run)}** (wall time {run.timings.get('total_s', 0):.1f} s)",
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


PROBLEMS = ("fail", "stale", "not_run")  # the statuses that fail a run
OPEN_CARDS = 5  # failures and divergences shown unfolded at the top of the page
MAX_DIFF_LINES = 60  # of one SDK's form in a side-by-side diff (results.json has the whole form)
MAX_DIFF_LINE = 240  # characters of one line of such a form

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;padding:1rem 1.5rem;max-width:1400px;color:#1d2125}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
#verdict{border-radius:6px;padding:.8rem 1rem;border:1px solid}
#verdict.pass{background:#e9f7ec;border-color:#7fc58f}#verdict.fail{background:#fdecec;border-color:#e08585}
#verdict.diverges{background:#fff6dd;border-color:#e0bd5c}
#verdict p{margin:.3rem 0}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #cfd4d9;padding:.2rem .5rem;text-align:left;vertical-align:top}th{background:#f1f3f5}
#cases thead th{position:sticky;top:0}
.operation-head th,.operation-head td{border-top:2px solid #8a939b}
.num{text-align:right;font-variant-numeric:tabular-nums}
.pass,.same{background:#e9f7ec}.fail,.stale,.not_run,.diverges{background:#fbe3e3}
.known,.unsupported{background:#fff4d6}
#filters{position:sticky;top:0;z-index:1;background:#fff;padding:.5rem 0;border-bottom:1px solid #cfd4d9;
display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
#filters label{white-space:nowrap}#filters input{width:18rem}
.card{border:1px solid #cfd4d9;border-left:4px solid #d9534f;border-radius:4px;margin:.5rem 0;
padding:.2rem .6rem}
.card.divergence{border-left-color:#d9a400}
.card>summary{cursor:pointer;padding:.2rem 0}.card h3{font-size:1rem;margin:.4rem 0 .2rem}
.badge{display:inline-block;border-radius:3px;padding:0 .35rem;font-size:12px;font-weight:600}
.cmd{display:block;background:#f1f3f5;padding:.2rem .4rem;margin:.2rem 0;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0;font-size:12px;background:#f8f9fa;
padding:.3rem}
code{font-size:12px;overflow-wrap:anywhere}
table.diff{width:100%;table-layout:fixed}table.diff pre{margin:0;background:none;padding:0}
.diff pre span{display:block;min-height:1.2em}.diff .changed{background:#ffd9d9}.diff .ref{background:#d9f2dd}
.muted{color:#5c656e}
"""

# Filters, search and their state in the URL's fragment (#sdk=go&suite=Retries&status=fail&q=text,
# so that a filtered view can be linked, and checked by a headless browser). It reads only the
# page's own data-* attributes and writes only `hidden` and counters: no data is ever parsed as HTML.
_SCRIPT = """
(function(){
const PROBLEMS=new Set(['fail','stale','not_run','diverges']);
const ids=['sdk','suite','status','q'];
const controls=Object.fromEntries(ids.map(k=>[k,document.getElementById('f-'+k)]));
function state(){return Object.fromEntries(ids.map(k=>[k,controls[k].value.trim()]));}
function matches(el,f){
  if(f.suite&&el.dataset.suite!==f.suite)return false;
  if(f.q&&!el.dataset.text.includes(f.q.toLowerCase()))return false;
  const pairs=el.dataset.statuses.split(' ').map(p=>p.split(':'));
  const mine=f.sdk?pairs.filter(p=>p[0]===f.sdk):pairs;
  if(f.sdk&&!mine.length)return false;
  if(!f.status)return true;
  return mine.some(p=>f.status==='problem'?PROBLEMS.has(p[1]):p[1]===f.status);
}
function apply(){
  const f=state();
  for(const group of document.querySelectorAll('[data-group]')){
    let shown=0;
    for(const el of group.querySelectorAll('[data-statuses]')){
      const ok=matches(el,f);el.hidden=!ok;if(ok)shown++;
    }
    const counter=document.getElementById('shown-'+group.dataset.group);
    if(counter)counter.textContent=String(shown);
  }
  for(const body of document.querySelectorAll('tbody.operation')){
    body.hidden=![...body.querySelectorAll('[data-statuses]')].some(el=>!el.hidden);
  }
  const params=new URLSearchParams();
  for(const k of ids)if(f[k])params.set(k,f[k]);
  const hash=params.toString();
  history.replaceState(null,'',hash?'#'+hash:location.pathname+location.search);
}
const given=new URLSearchParams(location.hash.slice(1));
for(const k of ids){
  const value=given.get(k);
  if(value!==null&&(controls[k].tagName!=='SELECT'||[...controls[k].options].some(o=>o.value===value)))
    controls[k].value=value;
  controls[k].addEventListener('input',apply);
}
apply();
})();
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
# Only this page's own script and styles run, whatever a case or a server put into the data.
_CSP = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'"
_STATUS_CHOICES = [
    ("", "any status"),
    ("problem", "failing or diverging"),
    ("fail", "FAIL"),
    ("stale", "STALE"),
    ("not_run", "NOT RUN"),
    ("diverges", "diverges from the others"),
    ("known", "known failing"),
    ("unsupported", "unsupported"),
    ("pass", "pass"),
]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def verdict(run: Run) -> str:
    """fail (a case failed, went stale or could not run), diverges (all passed, but the SDKs or the
    formats differ somewhere) or pass."""
    if run.failed():
        return "fail"
    if any(found.divergences for found in (*run.parity.values(), *run.format_parity.values())):
        return "diverges"
    return "pass"


VERDICT_TEXT = {"pass": "PASSED", "fail": "FAILED", "diverges": "PASSED, with parity divergences"}


def reproducer_path(report_dir: Path, case_id: str, language: str) -> Path:
    return report_dir / "reproducers" / language / f"{_file_name(case_id)}.json"


def replay_command(report_dir: Path, case_id: str, language: str, options: Sequence[str] = ()) -> str:
    """The replay of a reproducer; `options` are what the run needs besides (a derived run's
    `--spec FILE --derived`)."""
    target = str(reproducer_path(report_dir, case_id, language))
    return shlex.join(["polysdk", "conformance", *options, "--replay", target])


def rerun_command(case: Case, language: str, options: Sequence[str] = ()) -> str:
    """The run of this one case on this one SDK (its id as a glob that matches only itself)."""
    pattern = "".join(f"[{c}]" if c in "*?[" else c for c in case.id)
    return shlex.join(
        [
            "polysdk",
            "conformance",
            *options,
            "--lang",
            language,
            "--contract",
            case.contract,
            "--run",
            pattern,
        ]
    )


def _has_reproducer(outcome: Outcome) -> bool:
    return outcome.status in ("fail", "not_run") and outcome.line is not None


def _odd_one_out(found: Comparison, runs: int) -> str:
    """Who differs: the SDKs outside the majority, or "no majority" when every one stands alone."""
    if found.outliers and len(found.outliers) < runs:
        return "odd one out: " + ", ".join(found.outliers)
    return "no majority: " + ", ".join(found.outliers) + " all differ"


_REQUEST_ASPECT = re.compile(r"(?P<request>(?:[^:]+: )?request \d+) (?P<field>.+)")


def grouped(differences: list[Difference]) -> list[Difference]:
    """The differences with each request's aspects (method, path, a header, ...) as one: a request
    one SDK did not send reads as one absent request, not as eight absent fields."""
    out: list[Difference] = []
    requests: dict[str, Difference] = {}
    for difference in differences:
        match = _REQUEST_ASPECT.fullmatch(difference.aspect)
        if match is None:
            out.append(difference)
            continue
        request = requests.get(match["request"])
        if request is None:
            forms: dict[str, Any] = {name: {} for name in difference.forms}
            request = requests[match["request"]] = Difference(match["request"], forms, difference.sdk)
            out.append(request)
        for name, form in difference.forms.items():
            request.forms[name][match["field"]] = form
    for request in requests.values():
        for name, fields in request.forms.items():
            if all(form == ABSENT for form in fields.values()):
                request.forms[name] = ABSENT
    return out


def _across_formats(found: Comparison) -> str:
    """Who differs across contract formats: the SDKs whose OpenAPI and proto runs differ."""
    return "openapi and proto runs differ on " + ", ".join(found.outliers)


def _form_lines(form: object) -> list[str]:
    # Keys sorted: two forms that differ only in key order are the same to parity, and must look so.
    text = (
        form
        if isinstance(form, str)
        else json.dumps(form, indent=1, ensure_ascii=False, sort_keys=True, default=str)
    )
    lines = [
        line if len(line) <= MAX_DIFF_LINE else line[:MAX_DIFF_LINE] + "..." for line in text.splitlines()
    ]
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... ({len(lines) - MAX_DIFF_LINES} more lines in results.json)"]
    return lines or [""]


def _diff_table(difference: Difference, reference: str) -> str:
    """The forms side by side, one column each: the reference's lines that another form lacks, and
    each other form's lines the reference lacks, are marked."""
    lines = {name: _form_lines(form) for name, form in difference.forms.items()}
    changed: dict[str, set[int]] = {name: set() for name in lines}
    for name, mine in lines.items():
        if name == reference:
            continue
        matcher = difflib.SequenceMatcher(None, lines[reference], mine, autojunk=False)
        for tag, ref_start, ref_end, start, end in matcher.get_opcodes():
            if tag != "equal":
                changed[reference].update(range(ref_start, ref_end))
                changed[name].update(range(start, end))
    head = "".join(f"<th>{_esc(name)}{' (reference)' if name == reference else ''}</th>" for name in lines)
    cells = []
    for name, mine in lines.items():
        mark = "ref" if name == reference else "changed"
        # A block per line (copied as lines): a marked line's background spans the column.
        body = "".join(
            f"<span class='{mark if index in changed[name] else 'line'}'>{_esc(line)}</span>"
            for index, line in enumerate(mine)
        )
        cells.append(f"<td><pre>{body}</pre></td>")
    return f"<table class='diff'><tr>{head}</tr><tr>{''.join(cells)}</tr></table>"


def _reference(found: Comparison, names: list[str]) -> str:
    """The form the others are diffed against: one of the majority's (the first, without one)."""
    return next((name for name in names if name not in found.outliers), names[0])


def _card_attributes(suite: str, statuses: list[str], text: str) -> str:
    return (
        f"data-suite='{_esc(suite)}' data-statuses='{_esc(' '.join(statuses))}' "
        f"data-text='{_esc(text.lower())}'"
    )


def _failure_card(
    case: Case, outcome: Outcome, report_dir: Path, unfold: bool, options: Sequence[str] = ()
) -> str:
    label = STATUS_LABEL[outcome.status]
    attributes = _card_attributes(
        case.suite, [f"{outcome.language}:{outcome.status}"], f"{case.id} {case.doc}"
    )
    parts = [
        f"<details class='card failure' {attributes}"
        f"{' open' if unfold else ''}><summary><span class='badge {outcome.status}'>{_esc(label)}</span> "
        f"<code>{_esc(case.id)}</code> on <b>{_esc(outcome.language)}</b> "
        f"<span class='muted'>{_esc(case.where)}</span></summary>",
        f"<p>{_esc(case.doc)}</p>",
    ]
    reasons = outcome.failures + ([outcome.reason] if outcome.reason else [])
    if reasons:
        parts.append("<ul>" + "".join(f"<li>{_esc(reason)}</li>" for reason in reasons) + "</ul>")
    if outcome.status == "fail":
        parts.append("<h3>Inputs (the call, and what the mock was told to answer)</h3>")
        parts.append(f"<pre>{_esc(chr(10).join(line.removeprefix('  ') for line in inputs(case)))}</pre>")
        parts.append("<h3>HTTP transcript (as the mock saw it)</h3>")
        parts.append(
            f"<pre>{_esc(chr(10).join(line.removeprefix('  ') for line in transcript(outcome)))}</pre>"
        )
    if _has_reproducer(outcome):
        replay = replay_command(report_dir, case.id, outcome.language, options)
        parts.append(f"<h3>Replay</h3><code class='cmd'>{_esc(replay)}</code>")
    rerun = rerun_command(case, outcome.language, options)
    parts.append(f"<h3>Run it again</h3><code class='cmd'>{_esc(rerun)}</code>")
    parts.append("</details>")
    return "".join(parts)


def _divergence_card(
    case_id: str, suite: str, doc: str, found: Comparison, who: str, title: str, unfold: bool
) -> str:
    """One divergence: who differs (`who`), then each aspect's forms side by side."""
    statuses = [f"{language}:diverges" for language in found.outliers]
    differences = grouped(found.differences)
    parts = [
        f"<details class='card divergence' {_card_attributes(suite, statuses, case_id + ' ' + doc)}"
        f"{' open' if unfold else ''}><summary><span class='badge diverges'>{_esc(title)}</span> "
        f"<code>{_esc(case_id)}</code> &mdash; <b>{_esc(who)}</b> "
        f"<span class='muted'>({_plural(len(differences), 'aspect')})</span></summary>",
        f"<p>{_esc(doc)}</p>" if doc else "",
    ]
    for difference in differences:
        names = list(difference.forms)
        reference = (
            names[0] if difference.sdk else _reference(found, names)
        )  # across formats: the OpenAPI run is the reference
        parts.append(f"<h3>{_esc(difference.aspect)}</h3>{_diff_table(difference, reference)}")
    parts.append("</details>")
    return "".join(parts)


def _verdict_section(run: Run) -> str:
    counts = summary(run)
    state = verdict(run)
    contracts = ", ".join(run.contracts)
    divergences = counts["parity_divergences"]
    formats = counts["format_parity"]
    timings = run.timings
    lines = [
        f"<section id='verdict' class='{state}'><h1>polysdk conformance: {_esc(VERDICT_TEXT[state])}</h1>",
        f"<p>{len(run.cases)} cases ({_esc(contracts)} contracts) &times; {len(run.languages)} SDKs; "
        f"<b>{divergences}</b> parity divergences across SDKs"
        + (f", <b>{formats['divergences']}</b> across contract formats" if run.format_parity else "")
        + f"; wall time {timings.get('total_s', 0):.1f} s (driver builds {timings.get('build_s', 0):.1f} s, "
        f"cases {timings.get('run_s', 0):.1f} s).</p>",
        "<table class='counts'><tr><th>SDK</th><th>pass</th><th>FAIL</th><th>STALE</th><th>NOT RUN</th>"
        "<th>known</th><th>unsupported</th><th>differs from the others</th></tr>",
    ]
    for language in run.languages:
        per = counts[language]
        flagged = (*PROBLEMS, "parity_outlier")  # shown red when not 0
        cells = "".join(
            f"<td class='num{' fail' if per[key] and key in flagged else ''}'>{per[key]}</td>"
            for key in ("pass", "fail", "stale", "not_run", "known", "unsupported", "parity_outlier")
        )
        lines.append(f"<tr><th>{_esc(language)}</th>{cells}</tr>")
    lines.append("</table></section>")
    return "".join(lines)


def _filters(run: Run) -> str:
    suites = sorted({case.suite for case in run.cases})
    sdk_options = "".join(f"<option value='{_esc(lang)}'>{_esc(lang)}</option>" for lang in run.languages)
    suite_options = "".join(f"<option value='{_esc(suite)}'>{_esc(suite)}</option>" for suite in suites)
    status_options = "".join(f"<option value='{_esc(v)}'>{_esc(t)}</option>" for v, t in _STATUS_CHOICES)
    return (
        "<nav id='filters'>"
        f"<label>SDK <select id='f-sdk'><option value=''>every SDK</option>{sdk_options}</select></label>"
        "<label>suite <select id='f-suite'><option value=''>every suite</option>"
        f"{suite_options}</select></label>"
        f"<label>status <select id='f-status'>{status_options}</select></label>"
        "<label>search <input id='f-q' type='search' placeholder='case id or description'></label>"
        f"<span class='muted'>showing <b id='shown-cases'>{len(run.cases)}</b> of {len(run.cases)} "
        "cases</span>"
        "</nav>"
    )


def _attention(run: Run, report_dir: Path) -> str:
    """Failures, then divergences across SDKs and across formats: what to look at first."""
    by_id = {case.id: case for case in run.cases}
    failing = [
        (case, outcome)
        for case in run.cases
        for language in run.languages
        if (outcome := run.outcomes.get((case.id, language))) is not None and outcome.status in PROBLEMS
    ]
    divergent = [(by_id[case_id], found) for case_id, found in run.parity.items() if found.divergences]
    formats = [(case_id, found) for case_id, found in run.format_parity.items() if found.divergences]
    if not (failing or divergent or formats):
        return "<p>Every case passed on every SDK, and the SDKs agree on each.</p>"
    out = []
    if failing:
        out.append(
            "<div data-group='failures'><h2>Failures "
            f"(<span id='shown-failures'>{len(failing)}</span> of {len(failing)})</h2>"
        )
        out += [
            _failure_card(case, outcome, report_dir, index < OPEN_CARDS, run.replay_options)
            for index, (case, outcome) in enumerate(failing)
        ]
        out.append("</div>")
    if divergent or formats:
        total = len(divergent) + len(formats)
        out.append(
            "<div data-group='divergences'><h2>Parity divergences "
            f"(<span id='shown-divergences'>{total}</span> of {total})</h2>"
        )
        runs = len(run.languages)
        out += [
            _divergence_card(
                case.id,
                case.suite,
                case.doc,
                found,
                _odd_one_out(found, runs),
                "diverges",
                index < OPEN_CARDS,
            )
            for index, (case, found) in enumerate(divergent)
        ]
        out += [
            _divergence_card(
                case_id,
                case_id.split("/")[0],
                "",
                found,
                _across_formats(found),
                "openapi vs proto",
                index < OPEN_CARDS,
            )
            for index, (case_id, found) in enumerate(formats)
        ]
        out.append("</div>")
    return "".join(out)


def _case_row(run: Run, case: Case) -> str:
    statuses, cells = [], []
    for language in run.languages:
        outcome = run.outcomes.get((case.id, language))
        if outcome is None:
            cells.append("<td>-</td>")
            continue
        statuses.append(f"{language}:{outcome.status}")
        detail = outcome.failures + ([outcome.reason] if outcome.reason else [])
        cell = _esc(STATUS_LABEL[outcome.status])
        if detail:
            cell = f"<details><summary>{cell}</summary><pre>{_esc(chr(10).join(detail))}</pre></details>"
        cells.append(f"<td class='{outcome.status}'>{cell}</td>")
    found = run.parity.get(case.id)
    if found and found.divergences:
        statuses += [f"{language}:diverges" for language in found.outliers]
        aspects = ", ".join(difference.aspect for difference in grouped(found.differences))
        cells.append(
            f"<td class='diverges'>{_esc(_odd_one_out(found, len(run.languages)))}"
            f"<br><small>{_esc(aspects)}</small></td>"
        )
    else:
        cells.append("<td class='same'>same</td>")
    attributes = _card_attributes(case.suite, statuses, f"{case.id} {case.doc}")
    return (
        f"<tr {attributes}><td><code>{_esc(case.id)}</code>"
        f"<br><small>{_esc(case.doc)}</small></td>{''.join(cells)}</tr>"
    )


def _case_groups(run: Run) -> list[str]:
    """The case table's bodies: hand-written cases in one, failing and diverging first (then in
    file order); derived cases in one body per operation, headed by the operation's counts, the
    operations with a problem first. A contract's derived run has hundreds of operations: grouped,
    a maintainer sees which operation breaks, not a flat list of a thousand rows."""
    by_operation: dict[str, list[Case]] = {}
    written = []
    for case in run.cases:
        if case.suite == DERIVED_SUITE:
            by_operation.setdefault(case.operation, []).append(case)
        else:
            written.append(case)
    out = []
    if written:
        ordered = sorted(written, key=lambda case: not _needs_attention(run, case))  # stable
        out.append("<tbody>" + "".join(_case_row(run, case) for case in ordered) + "</tbody>")
    groups = sorted(by_operation.items(), key=lambda item: not any(_needs_attention(run, c) for c in item[1]))
    for operation, cases in groups:
        ordered = sorted(cases, key=lambda case: not _needs_attention(run, case))
        rows = "".join(_case_row(run, case) for case in ordered)
        head = _operation_head(run, operation, cases)
        out.append(f"<tbody class='operation' data-operation='{_esc(operation)}'>{head}{rows}</tbody>")
    return out


def _operation_head(run: Run, operation: str, cases: list[Case]) -> str:
    """One operation's header row: its cases passed per SDK, and how many are at parity."""
    passed = []
    for language in run.languages:
        outcomes = [run.outcomes.get((case.id, language)) for case in cases]
        ran = [outcome for outcome in outcomes if outcome is not None]
        good = sum(outcome.status == "pass" for outcome in ran)
        # Coloured as the run is judged: known-failing and unsupported cases are not problems.
        css = "fail" if any(outcome.status in PROBLEMS for outcome in ran) else "pass"
        passed.append(f"<td class='num {css}'>{good}/{len(ran)}</td>")
    at_parity = sum(not (found := run.parity.get(case.id)) or not found.divergences for case in cases)
    css = "same" if at_parity == len(cases) else "diverges"
    return (
        f"<tr class='operation-head'><th><code>{_esc(operation)}</code> "
        f"<span class='muted'>{_plural(len(cases), 'case')}</span></th>{''.join(passed)}"
        f"<td class='num {css}'>{at_parity}/{len(cases)} same</td></tr>"
    )


def _needs_attention(run: Run, case: Case) -> bool:
    found = run.parity.get(case.id)
    return bool(found and found.divergences) or any(
        (outcome := run.outcomes.get((case.id, language))) is not None and outcome.status in PROBLEMS
        for language in run.languages
    )


def html_matrix(run: Run, report_dir: Path) -> str:
    """A self-contained page (inline CSS and script, nothing fetched): the verdict, then what
    failed or diverges, then every case with filters and a search. Every piece of data is escaped:
    case files, servers' bodies and SDKs' messages are untrusted text."""
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>polysdk conformance matrix</title>",
        f"<style>{_CSS}</style></head><body>",
        _verdict_section(run),
        _filters(run),
        _attention(run, report_dir),
        "<h2>Pass rate per suite</h2><table><tr><th>suite</th>",
    ]
    out += [f"<th>{_esc(lang)}</th>" for lang in run.languages] + ["<th>at parity</th></tr>"]
    for suite, rates, at_parity in _suite_rates(run):
        out.append(
            f"<tr><td>{_esc(suite)}</td>"
            + "".join(f"<td class='num'>{_esc(rates[lang])}</td>" for lang in run.languages)
            + f"<td class='num'>{_esc(at_parity)}</td></tr>"
        )
    out.append("</table><div data-group='cases'><h2>Cases (failing and diverging first)</h2>")
    out.append("<table id='cases'><thead><tr><th>case</th>")
    out += [f"<th>{_esc(lang)}</th>" for lang in run.languages] + ["<th>parity</th></tr></thead>"]
    out += _case_groups(run)
    out.append("</table></div>")
    if run.format_parity:
        out.append("<h2>Across contract formats (openapi vs proto)</h2><table><tr><th>case</th>")
        out += [f"<th>{_esc(lang)}</th>" for lang in run.languages] + ["</tr>"]
        for case_id, across in run.format_parity.items():
            out.append(f"<tr><td><code>{_esc(case_id)}</code></td>")
            for language in run.languages:
                cell = _format_cell(run, case_id, language, across.outliers)
                css = {"same": "same", "diverges": "diverges"}.get(cell, "")
                out.append(f"<td class='{css}'>{_esc(cell)}</td>")
            out.append("</tr>")
        out.append("</table>")
    out.append(f"<script>{_SCRIPT}</script></body></html>\n")
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
    (report_dir / "matrix.html").write_text(html_matrix(run, report_dir), encoding="utf-8")
    for (case_id, language), outcome in sorted(run.outcomes.items()):
        if not _has_reproducer(outcome):
            continue
        target = reproducer_path(report_dir, case_id, language)
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
                    "replay": replay_command(report_dir, case_id, language, run.replay_options),
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
