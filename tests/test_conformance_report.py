"""The conformance matrix (build/conformance/matrix.html) and the console summary, on a small
synthetic run: three SDKs, one failure with its transcript, one SDK out of parity, and text a
hostile case file or server could send. The page is checked in a real browser (chromium)."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest

from polysdk_conformance import parity, reports, runner
from polysdk_conformance.cases import Operation, load_cases

from . import browser
from .conftest import SPEC

HOSTILE = "<script>alert(1)</script>"
CASES = f"""suite: Fake
doc: d
cases:
  - name: get/ok
    doc: Gets an agent.
    operation: getAgent
    args: {{agent_id: a}}
    steps:
      - request: {{method: GET, path: /v1/agents/a}}
        response: {{kind: json, body: {{id: a, name: n}}}}
  - name: get/wrong
    doc: "Gets an agent; the name is decoded. {HOSTILE}"
    operation: getAgent
    args: {{agent_id: a}}
    steps:
      - request: {{method: GET, path: /v1/agents/a}}
        response: {{kind: json, body: {{id: a, name: n}}}}
  - name: get/odd
    doc: Gets an agent whose name one SDK reads differently.
    operation: getAgent
    args: {{agent_id: a}}
    steps:
      - request: {{method: GET, path: /v1/agents/a}}
        response: {{kind: json, body: {{id: a, name: n}}}}
"""
SDKS = ["go", "rust", "typescript"]
MOCK_URL = "http://127.0.0.1:9/t/0123/"


def _journal(name: str) -> list[dict[str, object]]:
    return [
        {
            "method": "GET",
            "path": "/t/0123/v1/agents/a",
            "query": "",
            "headers": [["Authorization", "Bearer tok"], ["X-Trace", name]],
            "body_base64": base64.b64encode(b"").decode(),
            "time_ms": 1.0,
            "step": 0,
        }
    ]


def synthetic_run(tmp_path: Path, operations: dict[str, Operation]) -> runner.Run:
    path = tmp_path / "cases.yaml"
    path.write_text(CASES, encoding="utf-8")
    cases = load_cases([path], operations)
    run = runner.Run(cases, SDKS)
    value = {"id": "a", "name": "n"}
    for case in cases:
        for sdk in SDKS:
            surfaced = value
            status, failures = runner.PASS, []
            if case.id == "Fake/get/wrong" and sdk == "rust":
                surfaced = {"id": "a", "name": "</pre><img src=x onerror=alert(2)>"}
                status, failures = runner.FAIL, ["value: expected name 'n', got '</pre><img src=x>'"]
            if case.id == "Fake/get/odd" and sdk == "rust":
                surfaced = {"id": "a", "name": "N", "extra": [1, 2, 3]}
            run.outcomes[(case.id, sdk)] = runner.Outcome(
                case.id,
                sdk,
                status,
                failures,
                result={"outcome": "ok", "value": surfaced, "attempts": 1},
                report={"journal": _journal(case.id)},
                line={"type": "case", "id": case.id, "base_url": MOCK_URL},
                scenario=case.scenario(),
                mock_url=MOCK_URL,
            )
    runner.compare_sdks(run)
    run.timings.update(total_s=12.5, build_s=2.0, run_s=10.0)
    return run


@pytest.fixture(scope="module")
def operations() -> dict[str, Operation]:
    return runner.contract_operations(SPEC)


@pytest.fixture
def run(tmp_path: Path, operations: dict[str, Operation]) -> runner.Run:
    return synthetic_run(tmp_path, operations)


def test_the_divergence_names_the_odd_sdk_out_with_every_form(run: runner.Run) -> None:
    found = run.parity["Fake/get/odd"]
    assert found.outliers == ["rust"]
    (difference,) = found.differences
    assert difference.aspect == "value"
    assert difference.forms["rust"] == {"id": "a", "name": "N", "extra": [1, 2, 3]}
    assert difference.forms["go"] == difference.forms["typescript"] == {"id": "a", "name": "n"}


def test_a_request_one_sdk_did_not_send_is_one_absent_request() -> None:
    journal = _journal("Fake/get/odd")
    found = parity.compare(
        {
            "go": parity.signature({"outcome": "ok"}, journal * 2),
            "rust": parity.signature({"outcome": "ok"}, journal * 2),
            "typescript": parity.signature({"outcome": "ok"}, journal),
        }
    )
    assert found.outliers == ["typescript"] and len(found.differences) > 2
    requests, second = reports.grouped(found.differences)
    assert (requests.aspect, requests.forms) == ("requests", {"go": 2, "rust": 2, "typescript": 1})
    assert second.aspect == "request 2" and second.forms["typescript"] == parity.ABSENT
    assert second.forms["go"]["method"] == "GET" and second.forms["go"]["header x-trace"] == ["Fake/get/odd"]


def test_the_page_opens_with_the_verdict_then_failures_and_divergences(
    tmp_path: Path, run: runner.Run
) -> None:
    page = reports.html_matrix(run, tmp_path / "reports")
    verdict = page.index("id='verdict' class='fail'")
    failures = page.index("data-group='failures'")
    divergences = page.index("data-group='divergences'")
    cases = page.index("data-group='cases'")
    assert verdict < failures < divergences < cases
    assert "polysdk conformance: FAILED" in page and "wall time 12.5 s" in page
    # counts per SDK: pass, FAIL, STALE, NOT RUN, known, unsupported, differs
    assert re.search(r"<th>rust</th><td class='num'>2</td><td class='num fail'>1</td>", page)
    assert "odd one out: rust" in page
    # the failure: its transcript as the mock saw it, and the commands to replay and re-run it
    card = page[failures:divergences]
    assert "&gt; GET /t/0123/v1/agents/a" in card and "X-Trace: Fake/get/wrong" in card
    # what was fed in: the call's arguments and the answer the mock played
    assert "call: getAgent({&quot;agent_id&quot;: &quot;a&quot;})" in card
    played = {"body": {"id": "a", "name": "n"}}
    assert reports._esc(f"mock step 0: json 200 {json.dumps(played)}") in card
    replay = reports.replay_command(tmp_path / "reports", "Fake/get/wrong", "rust")
    assert f"<code class='cmd'>{reports._esc(replay)}</code>" in card
    assert "polysdk conformance --lang rust --contract openapi --run Fake/get/wrong" in card
    # the side-by-side diff: rust's changed lines marked against the majority's form
    diff = page[divergences:cases]
    assert "<th>go (reference)</th><th>rust</th><th>typescript</th>" in diff
    assert "<span class='changed'> &quot;name&quot;: &quot;N&quot;</span>" in diff
    assert "<span class='ref'> &quot;name&quot;: &quot;n&quot;</span>" in diff
    assert "<span class='line'> &quot;id&quot;: &quot;a&quot;,</span>" in diff  # the same in every form
    # failing and diverging cases lead the table
    rows = re.findall(r"<tr data-suite='Fake'[^>]*><td><code>([^<]+)</code>", page[cases:])
    assert rows == ["Fake/get/wrong", "Fake/get/odd", "Fake/get/ok"]


def _derived_run(tmp_path: Path, operations: dict[str, Operation]) -> runner.Run:
    """A derived run's shape: suite Derived, cases named <operation>/<check>; listAgents fails
    on go, getAgent passes everywhere."""
    path = tmp_path / "derived.yaml"
    path.write_text(
        """suite: Derived
doc: d
cases:
  - name: getAgent/required
    doc: Gets an agent.
    operation: getAgent
    args: {agent_id: a}
    steps:
      - request: {method: GET, path: /v1/agents/a}
        response: {kind: json, body: {id: a, name: n}}
  - name: listAgents/required
    doc: Lists agents.
    operation: listAgents
    args: {}
    steps:
      - request: {method: GET, path: /v1/agents}
        response: {kind: json, body: {data: [], has_more: false}}
  - name: getAgent/status-404
    doc: Gets an agent; 404.
    operation: getAgent
    args: {agent_id: a}
    steps:
      - request: {method: GET, path: /v1/agents/a}
        response: {kind: json, body: {id: a, name: n}}
""",
        encoding="utf-8",
    )
    cases = load_cases([path], operations)
    run = runner.Run(cases, SDKS)
    for case in cases:
        for sdk in SDKS:
            failing = case.id == "Derived/listAgents/required" and sdk == "go"
            run.outcomes[(case.id, sdk)] = runner.Outcome(
                case.id,
                sdk,
                runner.FAIL if failing else runner.PASS,
                ["value: differs"] if failing else [],
                result={"outcome": "ok", "value": {"id": "a", "name": "n"}, "attempts": 1},
                report={"journal": _journal(case.id)},
                line={"type": "case", "id": case.id, "base_url": MOCK_URL},
                scenario=case.scenario(),
                mock_url=MOCK_URL,
            )
    runner.compare_sdks(run)
    return run


def test_derived_cases_are_grouped_by_operation_with_its_counts(
    tmp_path: Path, operations: dict[str, Operation]
) -> None:
    """A derived run's table has one body per operation, headed by its counts per SDK, the
    operation with a failure first; the filters hide an operation none of whose cases match."""
    run = _derived_run(tmp_path, operations)
    page = reports.html_matrix(run, tmp_path)
    table = page[page.index("<table id='cases'>") :]
    groups = re.findall(r"<tbody class='operation' data-operation='(\w+)'>", table)
    assert groups == ["listAgents", "getAgent"]  # the one with a failure first
    heads = re.findall(r"<tr class='operation-head'>(.*?)</tr>", table)
    assert "<code>listAgents</code> <span class='muted'>1 case</span>" in heads[0]
    assert "<td class='num fail'>0/1</td><td class='num pass'>1/1</td>" in heads[0]
    assert "<code>getAgent</code> <span class='muted'>2 cases</span>" in heads[1]
    assert "<td class='num pass'>2/2</td>" in heads[1] and "2/2 same" in heads[1]
    reports.write_all(run, tmp_path / "reports")
    with browser.DevTools((tmp_path / "reports" / "matrix.html").as_uri(), tmp_path) as tab:
        visible = (
            "[...document.querySelectorAll('tbody.operation')].filter(b => !b.hidden)"
            ".map(b => b.dataset.operation)"
        )
        assert tab.evaluate(visible) == ["listAgents", "getAgent"]
        status = "document.getElementById('f-status')"
        tab.evaluate(f"{status}.value = 'fail'; {status}.dispatchEvent(new Event('input'))")
        assert tab.evaluate(visible) == ["listAgents"]


def test_untrusted_text_is_escaped_and_only_the_pages_script_may_run(tmp_path: Path, run: runner.Run) -> None:
    page = reports.html_matrix(run, tmp_path)
    assert HOSTILE not in page and "<img" not in page
    assert reports._esc(HOSTILE) in page
    assert page.count("<script>") == 1 and "http://" not in page.replace(MOCK_URL, "")
    csp = re.search(r"content=\"(default-src 'none'[^\"]+)\"", page)
    assert csp is not None and f"'sha256-{reports._SCRIPT_HASH}'" in csp.group(1)


def test_a_divergence_across_formats_names_the_sdk_and_diffs_its_two_runs(
    tmp_path: Path, run: runner.Run
) -> None:
    runs = {
        contract: parity.format_signature({"outcome": "ok", "value": {"id": value}}, [])
        for contract, value in (("openapi", "a"), ("proto", "b"))
    }
    run.format_parity = {"Fake/get/ok": parity.compare_formats({"go": runs})}
    page = reports.html_matrix(run, tmp_path)
    assert "openapi and proto runs differ on go" in page
    assert "<h3>go: value</h3><table class='diff'><tr><th>openapi (reference)</th><th>proto</th>" in page
    out = io.StringIO()
    reports.console(run, out)
    assert (
        "  Fake/get/ok (openapi vs proto): openapi and proto runs differ on go; differs in go: value"
        in out.getvalue().splitlines()
    )


def test_a_passing_run_says_so(tmp_path: Path, operations: dict[str, Operation]) -> None:
    run = synthetic_run(tmp_path, operations)
    for key, outcome in run.outcomes.items():
        outcome.status, outcome.failures = runner.PASS, []
        if key[1] == "rust":
            outcome.result = {"outcome": "ok", "value": {"id": "a", "name": "n"}, "attempts": 1}
    runner.compare_sdks(run)
    assert reports.verdict(run) == "pass"
    page = reports.html_matrix(run, tmp_path)
    assert "id='verdict' class='pass'" in page and "polysdk conformance: PASSED" in page
    assert "Every case passed on every SDK" in page and "data-group='failures'" not in page
    out = io.StringIO()
    reports.console(run, out, tmp_path)
    assert out.getvalue().splitlines()[-1].startswith("PASSED:")


def test_the_console_summarises_failures_and_divergences(tmp_path: Path, run: runner.Run) -> None:
    out = io.StringIO()
    reports.console(run, out, tmp_path / "reports")
    text = out.getvalue()
    assert "FAIL Fake/get/wrong [rust]" in text and "  > GET /t/0123/v1/agents/a" in text
    assert '  call: getAgent({"agent_id": "a"})' in text
    assert reports.replay_command(tmp_path / "reports", "Fake/get/wrong", "rust") in text
    # a divergence is one line naming the SDK and the aspects; the forms are in the reports
    assert "  Fake/get/odd: odd one out: rust; differs in value" in text
    assert '"extra"' not in text
    assert (
        text.splitlines()[-1]
        == f"FAILED: 1 failing, 2 diverging; report: {tmp_path / 'reports' / 'matrix.html'}"
    )
    assert "**FAILED: 1 failing, 2 diverging** (wall time 12.5 s)" in reports.markdown(run)


def test_the_matrix_in_a_real_browser(tmp_path: Path, run: runner.Run) -> None:
    """Chromium opens the page: the verdict is there, the filters (set from the URL's fragment)
    hide what does not match, and a screenshot is kept in build/screenshots/."""
    reports.write_all(run, tmp_path / "reports")
    page = tmp_path / "reports" / "matrix.html"
    assert json.loads((page.parent / "reproducers" / "rust" / "Fake__get__wrong.json").read_text())
    shot = browser.screenshot(page.as_uri(), tmp_path, "conformance-matrix.png", size="1280,1400")
    assert len(browser.png_colours(shot)) >= 5  # a blank page has one colour
    dom = browser.dump_dom(page.as_uri(), tmp_path)
    assert 'id="verdict" class="fail"' in dom and "polysdk conformance: FAILED" in dom
    assert 'id="shown-cases">3<' in dom and 'id="shown-failures">1<' in dom

    def shown(fragment: str) -> tuple[str, str, str]:
        dom = browser.dump_dom(f"{page.as_uri()}#{fragment}", tmp_path)
        counts = (
            re.search(rf'id="shown-{group}">(\d+)<', dom) for group in ("cases", "failures", "divergences")
        )
        found = tuple(match.group(1) if match else "" for match in counts)
        return found[0], found[1], found[2]

    # rust's wrong value is a failure and a divergence too
    assert shown("status=problem") == ("2", "1", "2")
    assert shown("sdk=go&status=problem") == ("0", "0", "0")
    assert shown("sdk=rust&status=diverges") == ("2", "0", "2")
    assert shown("status=pass&sdk=typescript") == ("3", "0", "0")
    assert shown("q=whose+name") == ("1", "0", "1")
    assert shown("suite=Nope") == ("3", "1", "2")  # an unknown suite is ignored, not an empty page


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_in_a_log_is_a_line_when_an_sdk_is_done() -> None:
    log = io.StringIO()
    progress = runner.Progress(2, ["go", "rust"], log)
    progress.LOG_EVERY_S = float("inf")  # only the lines that do not depend on the clock
    for language, status in (("go", "pass"), ("rust", "fail"), ("go", "pass"), ("rust", "pass")):
        progress.tick(language, status)
    assert log.getvalue().splitlines() == [
        "  running: go 2/2  rust 1/2 (1 failing)",
        "  running: go 2/2  rust 2/2 (1 failing)",
    ]


def test_progress_on_a_terminal_rewrites_one_line() -> None:
    terminal = _Terminal()
    progress = runner.Progress(2, ["go"], terminal)
    progress.LIVE_EVERY_S = 0.0
    progress.tick("go", "pass")
    progress.tick("go", "not_run")
    assert terminal.getvalue() == ("\r\x1b[K  running: go 1/2\r\x1b[K  running: go 2/2 (1 failing)\n")


def test_the_filters_answer_a_user_in_a_real_browser(tmp_path: Path, run: runner.Run) -> None:
    """Chromium driven over the DevTools protocol: choosing a status, an SDK or typing a search
    narrows the lists at once and puts the view into the URL."""
    reports.write_all(run, tmp_path / "reports")
    page = tmp_path / "reports" / "matrix.html"

    def choose(control: str, value: str) -> object:
        return (
            f"(() => {{ const c = document.getElementById('f-{control}'); c.value = {json.dumps(value)};"
            " c.dispatchEvent(new Event('input'));"
            " return ['cases', 'failures', 'divergences'].map("
            "g => document.getElementById('shown-' + g).textContent).concat([location.hash]); })()"
        )

    with browser.DevTools(page.as_uri(), tmp_path) as tab:
        assert tab.evaluate("document.getElementById('verdict').className") == "fail"
        assert tab.evaluate(choose("status", "fail")) == ["1", "1", "0", "#status=fail"]
        assert tab.evaluate(choose("sdk", "go")) == ["0", "0", "0", "#sdk=go&status=fail"]
        assert tab.evaluate(choose("status", "")) == ["3", "0", "0", "#sdk=go"]
        assert tab.evaluate(choose("sdk", "")) == ["3", "1", "2", ""]
        assert tab.evaluate(choose("q", "WHOSE name")) == ["1", "0", "1", "#q=WHOSE+name"]
        hidden = "[...document.querySelectorAll('#cases tr[data-suite]')].map(r => r.hidden)"
        assert tab.evaluate(hidden) == [True, False, True]  # wrong, odd, ok: only odd matches
