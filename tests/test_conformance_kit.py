"""The conformance kit's own tests: case files, known-failing lists, canonical wire forms, the
expectations, parity, and the runner driving a protocol-speaking fake driver (no SDK needed)."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml

from polysdk.pointers import line_of
from polysdk_conformance import cases as case_files
from polysdk_conformance import expect, known, parity, reports, runner
from polysdk_conformance.cases import CASES_DIR, CaseError, Operation, load_cases
from polysdk_conformance.wire import canonical_path, canonical_query, canonical_time, canonical_value

from .conftest import FIXTURES, SPEC

STARTED = time.monotonic()  # when pytest imported this module
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


def test_each_case_knows_its_line_from_the_one_parse_of_its_file(operations: dict[str, Operation]) -> None:
    # The reports quote file:line for every case: the lines come from the file's single parse and
    # are those the pointer locator finds by re-reading the file.
    loaded = load_cases([CASES_DIR], operations)
    assert all(case.line() is not None for case in loaded)
    by_file: dict[str, list[Any]] = {}
    for case in loaded:
        by_file.setdefault(case.file, []).append(case)
    ends = [case for cases in by_file.values() for case in (cases[0], cases[-1])]  # re-reading is slow
    assert all(case.line() == line_of(case.file, case.pointer) for case in ends)


def test_case_files_are_parsed_once_with_libyaml_when_pyyaml_has_it(
    tmp_path: Path, operations: dict[str, Operation], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert case_files._LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    composed: list[str] = []
    real = yaml.compose

    def counting(stream: Any, Loader: Any = None) -> Any:  # noqa: N803 (PyYAML's keyword)
        composed.append(str(stream)[:20])
        return real(stream, Loader=Loader)

    monkeypatch.setattr(yaml, "compose", counting)
    run = run_fake(tmp_path, operations, suite("get/ok", "get/two"), {})
    reports.write_all(run, tmp_path / "reports")
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    assert [case["file"].rsplit(":", 1)[1] for case in results["cases"]] == ["5", "13"]
    assert composed == []  # no case file was re-read to locate its cases


def test_the_pure_python_loader_gives_the_same_cases(
    operations: dict[str, Operation], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = load_cases([CASES_DIR], operations)
    monkeypatch.setattr(case_files, "_LOADER", yaml.SafeLoader)
    assert load_cases([CASES_DIR], operations) == fast


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
        ("suite: Fake\ndoc: d\ncases:\n  - name: a\n   doc: b\n", ["cases.yaml:5", "invalid YAML"]),
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


def test_a_driver_is_rebuilt_only_when_what_its_build_reads_or_writes_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm run skips the build; an edited SDK file, a new file or a missing output rebuilds."""
    from polysdk.targets import TARGETS, DriverBuild, LanguageTarget
    from polysdk_conformance import drivers

    sdk = tmp_path / "fake"
    sdk.mkdir()
    (sdk / "driver.src").write_text("one", encoding="utf-8")
    output = sdk / "target" / "driver.bin"  # target/ is a build folder, not an input

    def plan(sdk_dir: Path, cache_dir: Path) -> DriverBuild:
        step = ["sh", "-c", "mkdir -p target && cp driver.src target/driver.bin && echo built >> ../builds"]
        return DriverBuild([(step, {})], [str(output)], "driver.src")

    fake = LanguageTarget("fake", TARGETS["go"].plan, (), ("sh",), plan, plan)
    monkeypatch.setattr(drivers, "TARGETS", {"fake": fake})
    driver = drivers.Driver("fake", sdk, tmp_path / "cache")

    def build() -> int:
        assert driver.build(tmp_path / "build.log") == [str(output)]
        return len((tmp_path / "builds").read_text(encoding="utf-8").splitlines())

    assert build() == 1
    assert build() == 1  # unchanged: not rebuilt
    (sdk / "driver.src").write_text("two", encoding="utf-8")
    assert build() == 2 and output.read_text(encoding="utf-8") == "two"
    assert build() == 2
    (sdk / "extra.src").write_text("new", encoding="utf-8")
    assert build() == 3
    output.unlink()
    assert build() == 4 and output.exists()
    assert build() == 4
    assert "up to date" in (tmp_path / "build.log").read_text(encoding="utf-8")


def test_cases_with_the_longest_scripted_delays_are_sent_first() -> None:
    """Only response delays order the run (held responses end with the client's own timeout)."""
    from types import SimpleNamespace

    def case(*steps: dict[str, Any]) -> Any:
        return SimpleNamespace(steps=steps, request={"timeout_ms": 9000}, client={})

    slow = case({"response": {"delay_ms": 5000}}, {"response": {"delay_ms": 5000}})
    repeated = case({"response": {"delay_ms": 300}, "times": 3})
    held = case({"response": {"kind": "hold"}})
    assert runner._scripted_wait_ms(slow) == 10000
    assert runner._scripted_wait_ms(repeated) == 900
    assert runner._scripted_wait_ms(held) == 0


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


def test_the_wall_time_starts_with_the_process(tmp_path: Path, operations: dict[str, Operation]) -> None:
    # This test process started before this test did: the clock the command quotes counts the
    # interpreter start and imports, not only the part the kit times itself.
    assert runner.process_started() < time.monotonic()
    if Path("/proc/self/stat").exists():
        assert runner.process_started() <= STARTED
    run = run_fake(tmp_path, operations, suite("get/ok"), {})
    run.timings.update(total_s=3.25, reports_s=0.5)
    out = io.StringIO()
    reports.console(run, out)
    assert "wall time 3.2 s (the whole process; " in out.getvalue() and "reports 0.5 s)" in out.getvalue()


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
    assert html.startswith("<!doctype html>") and "Fake/get/wrong" in html and html.count("<script") == 1
    assert "| `Fake/get/ok` | pass | NOT RUN | same |" in (report_dir / "matrix.md").read_text()


def test_a_lone_surrogate_from_a_driver_becomes_visible_text() -> None:
    """A hostile response can make an SDK surface a lone surrogate; the reports must still be
    written as UTF-8, so the runner turns it into visible `\\udXXX` text (pairs stay characters)."""
    from polysdk_conformance.drivers import _visible_surrogates

    data = json.loads('{"v": ["x\\ud800y", "\\ud83d\\ude00"], "\\udc00": 1}')
    cleaned = _visible_surrogates(data)
    assert cleaned == {"v": ["x\\ud800y", "\U0001f600"], "\\udc00": 1}
    json.dumps(cleaned, ensure_ascii=False).encode("utf-8")  # writable


# -- contract profiles (OpenAPI and proto) -----------------------------------------------------

BOTH = GET_CASE.replace(
    "    operation: getAgent\n", "    operation: getAgent\n    contracts: [openapi, proto]\n"
)


def test_contracts_default_to_openapi_and_come_from_the_case_or_the_file(
    tmp_path: Path, operations: dict[str, Operation]
) -> None:
    body = suite("get/plain") + BOTH.format(name="get/both", agent="a")
    plain, both = load_cases([write_cases(tmp_path, body)], operations)
    assert plain.contracts == ("openapi",) and both.contracts == ("openapi", "proto")
    proto_file = tmp_path / "proto.yaml"
    proto_file.write_text(
        suite("get/only").replace("cases:", "defaults: {contracts: [proto]}\ncases:"), encoding="utf-8"
    )
    (only,) = load_cases([proto_file], operations)
    assert only.contracts == ("proto",)


def test_a_proto_profile_case_has_a_prefixed_id_and_is_not_validated(
    tmp_path: Path, operations: dict[str, Operation]
) -> None:
    body = "suite: Fake\ndoc: d\ncases:\n" + BOTH.format(name="get/x", agent="a")
    (case,) = load_cases([write_cases(tmp_path, body)], operations)
    proto = case.for_contract("proto")
    assert (proto.id, proto.suite, proto.plain_id, proto.contract) == (
        "proto:Fake/get/x",
        "proto:Fake",
        "Fake/get/x",
        "proto",
    )
    assert proto.scenario()["validate"] is False and proto.scenario()["name"] == "proto:Fake/get/x"
    assert "validate" not in case.scenario()
    assert proto.for_contract("openapi").id == "Fake/get/x"
    assert runner.case_line(proto, "http://m/")["id"] == "proto:Fake/get/x"
    # known-failing globs name proto cases by their prefixed ids, and are not "too broad"
    path = tmp_path / "go.txt"
    path.write_text("proto:Fake/get/x  # fails on proto\n", encoding="utf-8")
    assert [e.pattern for e in known.read_list(path, ["Fake/get/x", "proto:Fake/get/x"])] == [
        "proto:Fake/get/x"
    ]
    assert reports._file_name("proto:Fake/get/x") == "proto--Fake__get__x"


def test_cases_are_checked_against_each_contract_they_apply_to(
    tmp_path: Path, operations: dict[str, Operation]
) -> None:
    body = "suite: Fake\ndoc: d\ncases:\n" + BOTH.format(name="get/x", agent="a")
    path = write_cases(tmp_path, body)
    proto_ops = {"getMessage": Operation("getMessage", False, None, False)}
    with pytest.raises(CaseError, match="not in the proto contract"):
        load_cases([path], operations, {"openapi": operations, "proto": proto_ops})
    # a contract whose operations are not given is not checked (its profile is not run)
    assert len(load_cases([path], operations, {"openapi": operations})) == 1
    only_proto = write_cases(
        tmp_path, suite("get/y").replace("cases:", "defaults: {contracts: [proto]}\ncases:")
    )
    assert len(load_cases([only_proto], {}, {"proto": {"getAgent": operations["getAgent"]}})) == 1


def test_the_cli_lists_each_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["--list", "--contract", "openapi"]) == 0
    out, err = capsys.readouterr()
    assert err.strip() == "352 cases" and "proto:" not in out
    assert runner.main(["--list", "--contract", "proto"]) == 0
    out, err = capsys.readouterr()
    ids = [line.split("\t")[0] for line in out.splitlines()]
    assert ids and all(case_id.startswith("proto:") for case_id in ids)
    assert {"proto:Connect", "proto:Transcoding", "proto:Retries"} <= {i.split("/")[0] for i in ids}
    assert runner.main(["--list"]) == 0
    assert capsys.readouterr().err.strip() == f"{352 + len(ids)} cases"


def test_connect_stream_events_are_derived_from_clean_messages(tmp_path: Path) -> None:
    body = (
        "suite: Fake\ndoc: d\ncases:\n"
        "  - name: s/x\n    doc: d\n    operation: streamRunEvents\n    mode: stream\n"
        "    contracts: [proto]\n    args: {body: {runId: r}}\n    take: 2\n    steps:\n"
        "      - request: {method: POST, path: /p}\n"
        "        response: {kind: connect_stream, messages: [{a: 1}, {a: 2}], envelopes: [{json: {a: 3}}]}\n"
    )
    stream_ops = {"streamRunEvents": Operation("streamRunEvents", False, None, True)}
    (case,) = load_cases([write_cases(tmp_path, body)], {}, {"proto": stream_ops})
    assert expect.expected_events(case) == [{"a": 1}, {"a": 2}]
    hostile = body.replace("{json: {a: 3}}", "{flag: 1, json: {a: 3}}")
    (case,) = load_cases([write_cases(tmp_path, hostile)], {}, {"proto": stream_ops})
    assert expect.expected_events(case) is None  # the case must list them


def test_connect_error_details_are_compared() -> None:
    want = {"kind": "api", "code": "invalid_argument", "details": [{"type": "t", "value": ""}]}
    got = {"kind": "api", "code": "invalid_argument", "details": [{"type": "t", "value": "x"}]}
    assert expect._error(want, {**got, "details": want["details"]}) == []
    (failure,) = expect._error(want, got)
    assert failure.startswith("error details")


def test_parity_across_formats_compares_outcome_and_requests_but_not_headers() -> None:
    def sig(value: Any, path: str, headers: list[list[str]]) -> dict[str, Any]:
        journal = [{**entry(headers, b'{"a":1}'), "path": path}]
        return parity.format_signature({"outcome": "ok", "value": value}, journal)

    go_openapi = sig(
        {"id": "a"}, "/v1/agents/a", [["Accept", "application/json"], ["Authorization", "Bearer x"]]
    )
    go_proto = sig({"id": "a"}, "/v1/agents/a", [["Accept", "*/*"]])
    rust_proto = sig({"id": "b"}, "/v1/agents/a", [])
    found = parity.compare_formats(
        {
            "go": {"openapi": go_openapi, "proto": go_proto},
            "rust": {"openapi": go_openapi, "proto": rust_proto},
        }
    )
    assert found.outliers == ["rust"]
    assert found.divergences == ['rust: value: openapi: {"id": "a"}; proto: {"id": "b"}']
    # an SDK that ran the case on one format only is not compared
    assert parity.compare_formats({"go": {"openapi": go_openapi}}) == parity.Comparison([], [])


def test_connect_request_bodies_are_compared_by_their_envelope_json() -> None:
    import base64

    payload = b'{"runId":"r"}'
    framed = b"\x00" + len(payload).to_bytes(4, "big") + payload
    record = {
        "method": "POST",
        "path": "/p",
        "query": "",
        "headers": [["Content-Type", "application/connect+json"]],
        "body_base64": base64.b64encode(framed).decode(),
    }
    assert parity.signature({}, [record])["request 1 body"] == {"envelope_flag": 0, "json": {"runId": "r"}}


def test_a_profile_the_selection_leaves_empty_is_neither_built_nor_reported(
    tmp_path: Path, operations: dict[str, Operation]
) -> None:
    loaded = load_cases([write_cases(tmp_path, suite("get/ok"))], operations)
    profiles = [
        runner.Profile("openapi", loaded, operations, tmp_path, {"go": FAKE_DRIVER}),
        runner.Profile("proto", [], operations, tmp_path / "proto"),  # no commands: would build
    ]
    stream = io.StringIO()
    run = runner.execute(
        loaded,
        ["go"],
        operations,
        {},
        sdk_root=tmp_path,
        cache=tmp_path / "cache",
        logs=tmp_path / "logs",
        mock_factory=lambda: runner.LocalMock(None),
        stream=stream,
        profiles=profiles,
    )
    assert "building drivers" not in stream.getvalue() and list(run.drivers) == ["go"]
    out = io.StringIO()
    reports.console(run, out)
    assert "openapi contract: 1 cases" in out.getvalue() and "proto contract" not in out.getvalue()


def test_two_profiles_run_on_one_mock_with_parity_across_formats(
    tmp_path: Path, operations: dict[str, Operation]
) -> None:
    body = suite("get/openapi-only") + BOTH.format(name="get/both", agent="a")
    loaded = load_cases([write_cases(tmp_path, body)], operations)
    profiles = [
        runner.Profile(
            contract,
            [case.for_contract(contract) for case in loaded if contract in case.contracts],
            operations,
            tmp_path / contract,
            {"go": FAKE_DRIVER, "rust": "no cargo here"},
        )
        for contract in ("openapi", "proto")
    ]
    run = runner.execute(
        [],
        ["go", "rust"],
        operations,
        {"go": [known.Entry("proto:Fake/get/both", "listed but passes", 1)]},
        sdk_root=tmp_path,
        cache=tmp_path / "cache",
        logs=tmp_path / "logs",
        mock_factory=lambda: runner.LocalMock(None),
        profiles=profiles,
    )
    status = {case_id: o.status for (case_id, lang), o in run.outcomes.items() if lang == "go"}
    assert status == {
        "Fake/get/openapi-only": "pass",
        "Fake/get/both": "pass",
        "proto:Fake/get/both": "stale",
    }
    assert run.contracts == ["openapi", "proto"]
    assert set(run.drivers) == {"go", "rust", "proto:go", "proto:rust"}
    # the proto run was not validated against the OpenAPI contract; the openapi run was
    proto_journal = run.outcomes[("proto:Fake/get/both", "go")].report["journal"]  # type: ignore[index]
    assert proto_journal[0]["notes"][0].startswith("skipped: the case runs against the proto contract")
    assert run.format_parity == {"Fake/get/both": parity.Comparison([], [])}
    report_dir = tmp_path / "reports"
    reports.write_all(run, report_dir)
    results = json.loads((report_dir / "results.json").read_text())
    assert results["contracts"] == ["openapi", "proto"]
    assert results["summary"]["profiles"]["proto"]["cases"] == 1
    assert results["summary"]["profiles"]["openapi"]["go"]["pass"] == 2
    assert results["summary"]["format_parity"] == {"cases": 1, "divergences": 0}
    assert {case["id"]: case["contract"] for case in results["cases"]}["proto:Fake/get/both"] == "proto"
    matrix = (report_dir / "matrix.md").read_text()
    assert "| proto:Fake | 0/1 | 0/1 | 1/1 |" in matrix
    assert (
        "## Across contract formats (openapi vs proto)" in matrix
        and "| `Fake/get/both` | same | - |" in matrix
    )
    suites = ET.parse(report_dir / "junit.xml").getroot()
    assert suites.find("testsuite[@name='conformance.format-parity']") is not None
    assert "Across contract formats" in (report_dir / "matrix.html").read_text()


def test_a_shared_cargo_target_dir_is_split_per_profile(tmp_path: Path) -> None:
    """Two SDKs built into one CARGO_TARGET_DIR would share the example binary's path; the proto
    profile builds into its own subdirectory and starts the binary from there."""
    from polysdk.targets import DriverBuild
    from polysdk_conformance.drivers import _separate

    shared = str(tmp_path / "target")
    plan = DriverBuild(
        [(["cargo", "build"], {"CARGO_TARGET_DIR": shared}), (["true"], {})],
        [f"{shared}/debug/examples/polysdk_driver", "--flag"],
        "examples/polysdk_driver",
    )
    separated = _separate(plan, "proto")
    assert separated.steps[0][1] == {"CARGO_TARGET_DIR": f"{shared}/proto"}
    assert separated.steps[1] == (["true"], {})
    assert separated.run == [f"{shared}/proto/debug/examples/polysdk_driver", "--flag"]
    assert runner.profile_cache(tmp_path, "proto") == tmp_path / "proto"
    assert runner.profile_cache(tmp_path, "openapi") == tmp_path


def test_results_keep_the_start_of_a_huge_debug_text() -> None:
    """A driver may echo a whole hostile body in an error's debug text; results.json keeps its
    start and says how much was cut, while the outcome the checks saw stays whole."""
    debug = "x" * (reports.DEBUG_REPORT_CHARS + 10)
    result = {"outcome": "error", "error": {"kind": "decode", "debug": debug}}
    outcome = runner.Outcome("Malformed/x", "go", "pass", result=result)
    written = reports._outcome_json(outcome)["result"]
    assert written["error"] == {
        "kind": "decode",
        "debug": "x" * reports.DEBUG_REPORT_CHARS + "... (10 more characters)",
    }
    assert outcome.result is not None and outcome.result["error"]["debug"] == debug
    short = runner.Outcome("Malformed/y", "go", "pass", result={"error": {"debug": "short"}})
    assert reports._outcome_json(short)["result"] == {"error": {"debug": "short"}}
