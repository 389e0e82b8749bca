"""The conformance kit's own tests: case files, known-failing lists, canonical wire forms, the
expectations, parity, and the runner driving a protocol-speaking fake driver (no SDK needed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from polysdk_conformance import cases as case_files
from polysdk_conformance import expect, known, parity, reports, runner
from polysdk_conformance.cases import CASES_DIR, CaseError, Operation, load_cases
from polysdk_conformance.wire import canonical_path, canonical_query, canonical_time, canonical_value

from .conftest import FIXTURES, SPEC

FAKE_DRIVER = [sys.executable, str(FIXTURES / "conformance" / "fake_driver.py")]


@pytest.fixture(scope="module")
def operations() -> dict[str, Operation]:
    return runner.contract_operations(SPEC)


def write_cases(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(body, encoding="utf-8")
    return path


GET_CASE = """
  - name: {name}
    doc: Gets an agent.
    operation: getAgent
    args: {{agent_id: {agent}}}
    steps:
      - request: {{method: GET, path: /v1/agents/{agent}}}
        response: {{kind: json, body: {{id: a, name: n}}}}
"""


def suite(*names: str, agent: str = "a") -> str:
    return "suite: Fake\ndoc: d\ncases:\n" + "".join(GET_CASE.format(name=n, agent=agent) for n in names)


# -- case files ---------------------------------------------------------------------------


def test_the_shipped_cases_load_and_cover_every_category(operations: dict[str, Operation]) -> None:
    loaded = load_cases([CASES_DIR], operations)
    assert len(loaded) >= 150
    suites = {case.suite for case in loaded}
    assert {
        "Requests",
        "Responses",
        "Errors",
        "Retries",
        "Timeouts",
        "Cancellation",
        "Streaming",
        "Pagination",
        "Auth",
        "Config",
        "Malformed",
    } <= suites
    assert len({case.id for case in loaded}) == len(loaded)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            suite("get/x").replace("operation: getAgent", "operation: getAgnet"),
            ["cases.yaml:7 at #/cases/0/operation", "did you mean 'getAgent'"],
        ),
        (
            suite("get/x").replace("kind: json", "kind: jsn"),
            ["cases.yaml:11 at #/cases/0/steps/0/response/kind"],
        ),
        (suite("Bad Name"), ["at #/cases/0/name", "does not match"]),
        (suite("get/x") + "    surprise: 1\n", ["cases.yaml:5 at #/cases/0", "surprise"]),
        (suite("get/x", "get/x"), ["defined twice"]),
        (suite("get/x").replace("args:", "take: 2\n    args:"), ["at #/cases/0/take", "take applies"]),
        ("suite: Fake\ndoc: d\ncases: [\n", ["cases.yaml:4", "invalid YAML"]),
    ],
)
def test_a_malformed_case_file_is_one_located_error(
    tmp_path: Path, operations: dict[str, Operation], body: str, expected: list[str]
) -> None:
    path = write_cases(tmp_path, body)
    with pytest.raises(CaseError) as caught:
        load_cases([path], operations)
    message = str(caught.value)
    for fragment in expected:
        assert fragment in message


def test_the_cli_exits_2_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_cases(tmp_path, suite("get/x").replace("getAgent", "nope"))
    assert runner.main(["--cases", str(path), "--list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and "hint:" in err


def test_repeat_expands_and_is_bounded() -> None:
    assert case_files.expand({"a": [{"$repeat": "ab", "times": 3}]}) == {"a": ["ababab"]}
    with pytest.raises(ValueError, match="at most"):
        case_files.expand({"$repeat": "x", "times": case_files.REPEAT_LIMIT + 1})


def test_a_base_url_prefix_reaches_the_scenario(tmp_path: Path, operations: dict[str, Operation]) -> None:
    body = suite("get/x").replace("args:", "client: {base_url: '{mock}api/v2/'}\n    args:")
    (case,) = load_cases([write_cases(tmp_path, body)], operations)
    assert case.scenario()["prefix"] == "/api/v2"
    assert runner.case_line(case, "http://m/t/x/")["base_url"] == "http://m/t/x/api/v2/"


# -- known-failing lists ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("Fake/get/x", "has no reason"),
        ("Fake/*  # everything", "too broad"),
        ("*/get/x  # any suite", "too broad"),
        ("Fake/get/nothing  # stale", "matches no case"),
    ],
)
def test_bad_known_failing_entries_are_refused(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "go.txt"
    path.write_text(f"# header\n{line}\n", encoding="utf-8")
    with pytest.raises(CaseError, match=problem) as caught:
        known.read_list(path, ["Fake/get/x", "Fake/get/y"])
    assert f"{path}:2" in str(caught.value)


def test_write_list_keeps_reasons_and_drops_fixed_entries(tmp_path: Path) -> None:
    path = tmp_path / "go.txt"
    path.write_text("Fake/get/*  # the old reason\n", encoding="utf-8")
    previous = known.read_list(path, ["Fake/get/x", "Fake/get/y"])
    known.write_list(path, {"Fake/get/y": "new failure", "Fake/put/z": "another"}, previous)
    entries = known.read_list(path, ["Fake/get/y", "Fake/put/z"])
    assert [(e.pattern, e.reason) for e in entries] == [
        ("Fake/get/y", "the old reason"),
        ("Fake/put/z", "another"),
    ]


# -- canonical forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        ("/v1/agents/a%2Fb", "/v1/agents/a%2fb", True),
        ("/v1/agents/a%2Fb", "/v1/agents/a/b", False),
        ("/v1/agents/a%3Ab", "/v1/agents/a:b", True),
        ("/v1/agents/%2E%2E", "/v1/agents/..", True),
        ("/v1/agents/caf%C3%A9", "/v1/agents/café", True),
    ],
)
def test_canonical_paths(left: str, right: str, equal: bool) -> None:
    assert (canonical_path(left) == canonical_path(right)) is equal


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        ("labels%5Bteam%5D=x", "labels[team]=x", True),
        ("q=a+b", "q=a%20b", True),
        ("q=a%2Bb", "q=a+b", False),
        ("q=a%26b", "q=a&b", False),
        ("status=a|b", "status=a%7Cb", True),
        ("limit=2&cursor=c", "cursor=c&limit=2", True),
        ("status=a&status=b", "status=b&status=a", False),
    ],
)
def test_canonical_queries(left: str, right: str, equal: bool) -> None:
    assert (canonical_query(left) == canonical_query(right)) is equal


def test_canonical_times_compare_instants() -> None:
    assert canonical_time("2025-02-03T09:02:03.500+01:00") == "2025-02-03T08:02:03.5Z"
    assert canonical_time("2025-02-03T08:02:03.000Z") == "2025-02-03T08:02:03Z"
    assert canonical_time("2025-02-03") is None
    assert canonical_value({"a": ["2025-02-03T08:02:03.000000Z"]}) == {"a": ["2025-02-03T08:02:03Z"]}


# -- expectations ---------------------------------------------------------------------------


def test_same_keeps_booleans_apart_from_numbers() -> None:
    assert expect.same({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not expect.same(True, 1)
    assert not expect.same({"a": None}, {})
    assert expect.first_difference({"a": {"b": 1}}, {"a": {"b": 2}}) == "/a/b: got 2, want 1"


def test_check_reports_surface_and_wire_failures(tmp_path: Path, operations: dict[str, Operation]) -> None:
    body = suite("get/x").replace(
        "    steps:", "    expect: {attempts: 1, wire: {present: [Authorization]}}\n    steps:"
    )
    (case,) = load_cases([write_cases(tmp_path, body)], operations)
    journal = [{"seq": 0, "method": "GET", "path": "/v1/agents/a", "query": "", "headers": [], "step": 0}]
    result = {"outcome": "ok", "value": {"id": "a", "name": "m"}, "attempts": 2}
    failures = expect.check(case, operations["getAgent"], result, {"journal": journal})
    assert failures == [
        'value differs at /name: got "m", want "n"',
        "the SDK reports 2 attempts; the server received 1",
        "request 1: header Authorization is missing",
    ]


# -- parity ---------------------------------------------------------------------------------


def entry(headers: list[list[str]], body: bytes = b"") -> dict[str, Any]:
    import base64

    return {
        "method": "POST",
        "path": "/v1/x",
        "query": "",
        "headers": headers,
        "body_base64": base64.b64encode(body).decode(),
    }


def test_parity_ignores_transport_headers_and_key_values_but_not_behaviour() -> None:
    go = parity.signature(
        {"outcome": "ok", "value": 1},
        [
            entry(
                [["User-Agent", "go"], ["Idempotency-Key", "k1"], ["Content-Type", "application/json"]],
                b'{"a":1}',
            ),
            entry([["Idempotency-Key", "k1"]]),
        ],
    )
    ts = parity.signature(
        {"outcome": "ok", "value": 1},
        [
            entry(
                [["user-agent", "node"], ["idempotency-key", "zz"], ["content-type", "application/json"]],
                b'{ "a": 1 }',
            ),
            entry([["idempotency-key", "zz"]]),
        ],
    )
    assert parity.compare({"go": go, "typescript": ts}) == parity.Comparison([], [])
    rust = parity.signature(
        {"outcome": "ok", "value": 1},
        [
            entry([["idempotency-key", "a"], ["content-type", "application/json"]], b'{"a":1}'),
            entry([["idempotency-key", "b"]]),
        ],
    )
    (difference,) = parity.compare({"go": go, "rust": rust}).divergences
    assert difference.startswith("request 2 header idempotency-key:")
    assert parity.compare({"go": go, "rust": rust, "typescript": ts}).outliers == ["rust"]


# -- the runner with a fake driver ------------------------------------------------------------


def run_fake(
    tmp_path: Path,
    operations: dict[str, Operation],
    body: str,
    known_lists: dict[str, list[known.Entry]] | None = None,
) -> runner.Run:
    loaded = load_cases([write_cases(tmp_path, body)], operations)
    return runner.execute(
        loaded,
        ["go", "rust"],
        operations,
        known_lists or {},
        sdk_root=tmp_path,
        cache=tmp_path / "cache",
        logs=tmp_path / "logs",
        mock_factory=lambda: runner.LocalMock(None),
        commands={"go": FAKE_DRIVER, "rust": "no cargo here"},
    )


def test_a_crashed_driver_loses_only_its_in_flight_case(
    tmp_path: Path, operations: dict[str, Operation], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "WINDOW", 1)
    run = run_fake(tmp_path, operations, suite("get/one", "get/crash", "get/two"))
    status = {case_id: o.status for (case_id, lang), o in run.outcomes.items() if lang == "go"}
    assert status == {"Fake/get/one": "pass", "Fake/get/crash": "not_run", "Fake/get/two": "pass"}
    assert "exited with code 3" in run.outcomes[("Fake/get/crash", "go")].reason
    assert {o.status for (_, lang), o in run.outcomes.items() if lang == "rust"} == {"not_run"}
    assert run.failed()


def test_a_hung_case_is_reported_by_name(
    tmp_path: Path, operations: dict[str, Operation], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "CASE_TIMEOUT_S", 1.0)
    run = run_fake(tmp_path, operations, suite("get/one", "get/hang"))
    assert run.outcomes[("Fake/get/one", "go")].status == "pass"
    hung = run.outcomes[("Fake/get/hang", "go")]
    assert hung.status == "not_run" and "no result within" in hung.reason


def test_signalled_cancellation_waits_for_the_mock_not_a_clock(
    tmp_path: Path, operations: dict[str, Operation]
) -> None:
    """`after_requests: 1` becomes `on_signal` on the case line; the runner sends `cancel` once the
    mock holds the request, and the held response ends when the driver lets go."""
    held = (
        "suite: Fake\ndoc: d\ncases:\n"
        "  - name: cancel/held\n    doc: d\n    operation: getAgent\n    args: {agent_id: a}\n"
        "    cancel: {after_requests: 1}\n    requires: [cancel]\n"
        "    steps:\n      - {request: {method: GET, path: /v1/agents/a}, response: {kind: hold}}\n"
        "    expect: {outcome: error, error: {kind: cancelled}, attempts: 1}\n"
    )
    [case] = load_cases([write_cases(tmp_path, held)], operations)
    assert runner.case_line(case, "http://m/")["cancel"] == {"on_signal": True}
    run = run_fake(tmp_path, operations, held)
    outcome = run.outcomes[("Fake/cancel/held", "go")]
    assert outcome.status == "pass", outcome.failures


@pytest.mark.parametrize("language", ["go", "rust", "typescript"])
def test_an_sdk_generated_without_drivers_gets_a_hint_not_a_build_failure(
    tmp_path: Path, language: str
) -> None:
    from polysdk_conformance.drivers import Driver, DriverUnavailableError

    (tmp_path / language).mkdir()
    with pytest.raises(DriverUnavailableError, match=r"regenerate it with `polysdk generate --drivers`"):
        Driver(language, tmp_path / language, tmp_path / "cache").build(tmp_path / "build.log")


def test_the_coverage_map_names_real_cases_and_every_suite(operations: dict[str, Operation]) -> None:
    """conformance/coverage.yaml maps each SDK_FEATURES behaviour to cases: every glob must match."""
    import fnmatch

    import yaml

    loaded = load_cases([CASES_DIR], operations)
    assert len(loaded) >= 350
    ids = [case.id for case in loaded]
    coverage_file = Path(__file__).resolve().parents[1] / "conformance" / "coverage.yaml"
    coverage = yaml.safe_load(coverage_file.read_text(encoding="utf-8"))
    named: set[str] = set()
    for area, behaviours in coverage.items():
        for behaviour, globs in behaviours.items():
            for glob in globs:
                matched = fnmatch.filter(ids, glob)
                assert matched, f"{area} / {behaviour}: {glob!r} matches no case"
                named.update(matched)
    assert {case.suite for case in loaded} <= {case_id.split("/")[0] for case_id in named}


def test_known_failures_stale_entries_and_reports(tmp_path: Path, operations: dict[str, Operation]) -> None:
    wrong = GET_CASE.format(name="get/wrong", agent="a") + "    expect: {value: {id: b}}\n"
    body = suite("get/ok", "get/passes-but-listed") + wrong
    entries = [
        known.Entry("Fake/get/wrong", "value is wrong on purpose", 1),
        known.Entry("Fake/get/passes-but-listed", "fixed since", 2),
    ]
    run = run_fake(tmp_path, operations, body, {"go": entries})
    status = {case_id: o.status for (case_id, lang), o in run.outcomes.items() if lang == "go"}
    assert status == {"Fake/get/ok": "pass", "Fake/get/passes-but-listed": "stale", "Fake/get/wrong": "known"}
    report_dir = tmp_path / "reports"
    reports.write_all(run, report_dir)
    results = json.loads((report_dir / "results.json").read_text())
    assert results["summary"]["go"]["known"] == 1 and results["summary"]["go"]["stale"] == 1
    suites = ET.parse(report_dir / "junit.xml").getroot()
    assert suites.find("testsuite[@name='conformance.go']").get("failures") == "1"  # type: ignore[union-attr]
    html = (report_dir / "matrix.html").read_text()
    assert html.startswith("<!doctype html>") and "Fake/get/wrong" in html and "<script" not in html
    assert "| `Fake/get/ok` | pass | NOT RUN | same |" in (report_dir / "matrix.md").read_text()


def test_a_lone_surrogate_from_a_driver_becomes_visible_text() -> None:
    """A hostile response can make an SDK surface a lone surrogate; the reports must still be
    written as UTF-8, so the runner turns it into visible `\\udXXX` text (pairs stay characters)."""
    from polysdk_conformance.drivers import _visible_surrogates

    data = json.loads('{"v": ["x\\ud800y", "\\ud83d\\ude00"], "\\udc00": 1}')
    cleaned = _visible_surrogates(data)
    assert cleaned == {"v": ["x\\ud800y", "\U0001f600"], "\\udc00": 1}
    json.dumps(cleaned, ensure_ascii=False).encode("utf-8")  # writable
