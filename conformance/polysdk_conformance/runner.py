"""The conformance runner: every case against every SDK's driver, then parity and reports.

    polysdk conformance [--lang go,rust] [--contract openapi|proto] [--run 'Retries/*'] [--list]
                        [--sdk-root out] [--proto-sdk-root out/proto] [--report-dir DIR]

Runs each contract profile in turn: openapi (spec/orchestrator.yaml, SDKs in out/<lang>) and proto
(spec/orchestrator.proto, SDKs in out/proto/<lang>, case ids prefixed `proto:`), each with the
cases whose `contracts` name it. Builds each SDK's driver, starts the mock orchestrator (or uses a
standalone one given by --mock-url), runs the cases on the three drivers at once — each driver
several cases at a time — checks each result and journal (expect.py), compares the SDKs with each
other and, for cases on both contracts, each SDK's two formats (parity.py) and writes the reports
(reports.py). Exit codes: 0 all good, 1 failures (including stale known-failing
entries and cases that could not run), 2 bad case files or options.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from polysdk_conformance import derive, expect, known, parity, reports
from polysdk_conformance.cases import (
    CASES_DIR,
    CONTRACTS,
    ID_PREFIX,
    Case,
    CaseError,
    Operation,
    load_cases,
    substitute,
)
from polysdk_conformance.drivers import LANGUAGES, Driver, DriverProcess, DriverUnavailableError
from polysdk_conformance.parity import Comparison

if TYPE_CHECKING:
    from polysdk.decisions import Decisions
from polysdk_conformance.scenario import MOCK_PLACEHOLDER

# Paths default to the current directory: the project whose SDKs (out/) and lists are tested.
KNOWN_DIR = Path("conformance") / "known_failing"
WINDOW = 16  # cases in flight per driver
CASE_TIMEOUT_S = 45.0
MAX_RESTARTS = 3
JsonDict = dict[str, Any]

# Statuses of one case on one SDK. Only pass, known and unsupported keep a run green.
PASS, FAIL, KNOWN, STALE, UNSUPPORTED, NOT_RUN = "pass", "fail", "known", "stale", "unsupported", "not_run"


@dataclass
class Outcome:
    case_id: str
    language: str
    status: str
    failures: list[str] = field(default_factory=list)
    reason: str = ""
    result: JsonDict | None = None
    report: JsonDict | None = None
    line: JsonDict | None = None
    scenario: JsonDict | None = None
    mock_url: str = ""  # the case's mock URL inside `line`, which a replay substitutes


@dataclass
class Profile:
    """One contract format's run: its cases (ids with the profile's prefix), operations and SDKs."""

    contract: str  # openapi | proto
    cases: list[Case]
    operations: dict[str, Operation]
    sdk_root: Path
    # The drivers' start commands (or why there is none); None: build them from sdk_root.
    commands: dict[str, list[str] | str] | None = None


@dataclass
class Run:
    cases: list[Case]
    languages: list[str]
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    parity: dict[str, Comparison] = field(default_factory=dict)
    # hello, or {"error": ...}; keyed by language, prefixed by the profile ("proto:go") but openapi's
    drivers: dict[str, JsonDict] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    contracts: list[str] = field(default_factory=lambda: ["openapi"])
    # Cases run on both contracts, by their OpenAPI id: each SDK's OpenAPI run against its proto run.
    format_parity: dict[str, Comparison] = field(default_factory=dict)
    # Options a reproducer's replay command needs besides --replay (derived runs: the contract).
    replay_options: list[str] = field(default_factory=list)

    def failed(self) -> bool:
        return any(o.status in (FAIL, STALE, NOT_RUN) for o in self.outcomes.values())


class Mock(Protocol):
    def register(self, scenario: JsonDict) -> tuple[str, str]: ...
    def report(self, token: str) -> JsonDict: ...
    def wait_for(self, token: str, *, requests: int, responses: int, timeout: float) -> bool: ...
    def close(self) -> None: ...


class LocalMock:
    """The mock orchestrator in this process."""

    def __init__(self, spec: Path | None) -> None:
        from polysdk_conformance.mock import MockServer

        self.server = MockServer(spec_path=spec)
        self.server.start()

    def register(self, scenario: JsonDict) -> tuple[str, str]:
        token = self.server.register(scenario)
        return token, self.server.url(token)

    def report(self, token: str) -> JsonDict:
        report = self.server.report(token)
        self.server.forget(token)
        return report

    def wait_for(self, token: str, *, requests: int, responses: int, timeout: float) -> bool:
        return self.server.wait_for(token, requests=requests, responses=responses, timeout=timeout)

    def close(self) -> None:
        self.server.stop()


class RemoteMock:
    """A standalone mock (`polysdk mock`), driven through its control API with requests."""

    def __init__(self, base_url: str) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def register(self, scenario: JsonDict) -> tuple[str, str]:
        response = self.session.post(f"{self.base_url}/_mock/scenarios", json=scenario, timeout=10)
        response.raise_for_status()
        data = response.json()
        return str(data["token"]), str(data["base_url"])

    def report(self, token: str) -> JsonDict:
        response = self.session.get(f"{self.base_url}/_mock/scenarios/{token}/journal", timeout=10)
        response.raise_for_status()
        report: JsonDict = response.json()
        self.session.delete(f"{self.base_url}/_mock/scenarios/{token}", timeout=10)
        return report

    def wait_for(self, token: str, *, requests: int, responses: int, timeout: float) -> bool:
        """Polls the journal (a standalone mock has no way to push): fine for debugging runs."""
        import requests as http

        deadline = time.monotonic() + timeout
        with http.Session() as session:  # its own: this runs on a case's cancel thread
            while time.monotonic() < deadline:
                response = session.get(f"{self.base_url}/_mock/scenarios/{token}/journal", timeout=10)
                if response.status_code == 404:
                    return False
                report = response.json()
                seen = len(report["journal"]) + report["journal_dropped"]
                if seen >= requests and report["responded"] >= responses:
                    return True
                time.sleep(0.02)
        return False

    def close(self) -> None:
        self.session.close()


def contract_operations(spec: Path, surface: Decisions | None = None) -> dict[str, Operation]:
    """The operations of the contract, as the case checks and value derivation need them
    (from `surface` when the caller has already read the contract)."""
    from polysdk.decisions import build_decisions
    from polysdk.frontends import ReadOptions, read_api

    surface = surface or build_decisions(read_api(spec, ReadOptions(validate=False)))
    return {
        shape.operation.id: Operation(
            id=shape.operation.id,
            paginated=shape.pagination is not None,
            items_field=shape.pagination.items_field if shape.pagination else None,
            streaming=shape.streaming is not None,
        )
        for shape in surface.operations
    }


# Cancellation plans the runner carries out itself: it waits for the mock to have seen the
# requests (or written the responses) and then sends the driver a `cancel` line, so the moment of
# cancellation is fixed by events, not by a clock.
SIGNALLED_CANCEL = ("after_requests", "after_responses")


def case_line(case: Case, mock_url: str) -> JsonDict:
    client = dict(substitute(case.client, mock_url))
    base_url = client.pop("base_url", MOCK_PLACEHOLDER)
    line: JsonDict = {
        "type": "case",
        "id": case.id,
        "base_url": substitute(base_url, mock_url),
        "operation": case.operation,
        "mode": case.mode,
        "args": case.args,
        "client": client,
        "request": case.request,
    }
    if case.take is not None:
        line["take"] = case.take
    if case.cancel is not None:
        signalled = any(key in case.cancel for key in SIGNALLED_CANCEL)
        line["cancel"] = {"on_signal": True} if signalled else case.cancel
    return line


def _cancel_when_seen(mock: Mock, process: DriverProcess, case: Case, token: str) -> None:
    """Sends the driver `cancel` for the case once the mock saw what its plan names (a thread)."""
    plan = case.cancel or {}
    if not any(key in plan for key in SIGNALLED_CANCEL):
        return

    def wait_then_cancel() -> None:
        seen = mock.wait_for(
            token,
            requests=int(plan.get("after_requests", 0)),
            responses=int(plan.get("after_responses", 0)),
            timeout=CASE_TIMEOUT_S,
        )
        if seen:
            process.send({"type": "cancel", "id": case.id})

    threading.Thread(target=wait_then_cancel, name=f"cancel-{case.id}", daemon=True).start()


class Progress:
    """Where a long run is. On a terminal, one line rewritten in place; in a log (CI, a pipe), a
    line every LOG_EVERY_S seconds and one when an SDK has run every case. Failures are counted as
    they come, so a broken SDK shows before the run ends."""

    LOG_EVERY_S = 10.0
    LIVE_EVERY_S = 0.25

    def __init__(self, total: int, languages: list[str], stream: Any) -> None:
        self.total, self.done = total, dict.fromkeys(languages, 0)
        self.failing = dict.fromkeys(languages, 0)
        self.stream, self.lock, self.last = stream, threading.Lock(), time.monotonic()
        isatty = getattr(stream, "isatty", None)
        self.live = bool(isatty and isatty())

    def tick(self, language: str, status: str) -> None:
        with self.lock:
            self.done[language] += 1
            if status in (FAIL, STALE, NOT_RUN):
                self.failing[language] += 1
            now = time.monotonic()
            finished = self.done[language] == self.total
            every = self.LIVE_EVERY_S if self.live else self.LOG_EVERY_S
            if now - self.last < every and not finished:
                return
            self.last = now
            counts = "  ".join(
                f"{lang} {n}/{self.total}"
                + (f" ({self.failing[lang]} failing)" if self.failing[lang] else "")
                for lang, n in self.done.items()
            )
            if not self.live:
                print(f"  running: {counts}", file=self.stream, flush=True)
                return
            everything = all(n == self.total for n in self.done.values())
            # \r and erase-line: the same line again; a newline only once every SDK is done.
            end = "\n" if everything else ""
            print(f"\r\x1b[K  running: {counts}", end=end, file=self.stream, flush=True)


@dataclass(frozen=True)
class _InFlight:
    """A case sent to the driver and not yet answered."""

    case: Case
    token: str
    url: str  # the case's mock URL
    line: JsonDict
    scenario: JsonDict
    deadline: float

    def not_run(self, language: str, reason: str) -> Outcome:
        return Outcome(
            self.case.id,
            language,
            NOT_RUN,
            reason=reason,
            line=self.line,
            scenario=self.scenario,
            mock_url=self.url,
        )


def _run_language(
    language: str,
    argv: list[str],
    cases: list[Case],
    operations: dict[str, Operation],
    mock: Mock,
    known_entries: list[known.Entry],
    run: Run,
    logs: Path,
    progress: Progress,
    contract: str = "openapi",
) -> None:
    tag = ID_PREFIX[contract]
    process = DriverProcess(language, argv, logs / f"driver-{_log_tag(contract)}{language}.stderr.log")
    try:
        hello = process.start()
    except DriverUnavailableError as exc:
        run.drivers[tag + language] = {"error": str(exc)}
        for case in cases:
            run.outcomes[(case.id, language)] = Outcome(case.id, language, NOT_RUN, reason=str(exc))
        return
    run.drivers[tag + language] = hello
    capabilities = set(hello.get("capabilities", []))
    # Popped from the end: the cases that wait longest on their own clocks first, so that they
    # overlap the quick ones instead of trailing the run; equal ones in file order.
    pending = sorted(reversed(cases), key=_scripted_wait_ms)
    in_flight: dict[str, _InFlight] = {}

    def finish(case: Case, outcome: Outcome) -> None:
        run.outcomes[(case.id, language)] = outcome
        progress.tick(language, outcome.status)

    def give_up(case_ids: list[str], reason: str) -> None:
        for case_id in case_ids:
            flight = in_flight.pop(case_id)
            finish(flight.case, flight.not_run(language, reason))

    def drop_pending(reason: str) -> None:
        while pending:
            case = pending.pop()
            finish(case, Outcome(case.id, language, NOT_RUN, reason=reason))

    while pending or in_flight:
        while pending and len(in_flight) < WINDOW:
            case = pending.pop()
            missing = sorted(set(case.requires) - capabilities)
            if missing:
                finish(case, Outcome(case.id, language, UNSUPPORTED, reason=f"needs {', '.join(missing)}"))
                continue
            scenario = case.scenario()
            token, url = mock.register(scenario)
            line = case_line(case, url)
            in_flight[case.id] = _InFlight(
                case, token, url, line, scenario, time.monotonic() + CASE_TIMEOUT_S
            )
            process.send(line)
            _cancel_when_seen(mock, process, case, token)
        if not in_flight:
            continue
        wait = max(0.0, min(flight.deadline for flight in in_flight.values()) - time.monotonic())
        try:
            message = process.messages.get(timeout=wait)
        except queue.Empty:
            message = None
        if message is not None and message.generation != process.generation:
            continue
        if message is not None and message.kind == "result":
            flight = in_flight.pop(str(message.data.get("id")), None)
            if flight is None:
                continue  # a late answer to a case already given up on
            case = flight.case
            report = mock.report(flight.token)
            judged = _judge(case, operations[case.operation], message.data, report, known_entries, language)
            judged.line, judged.scenario, judged.mock_url = flight.line, flight.scenario, flight.url
            finish(case, judged)
        elif message is not None and message.kind == "exit":
            give_up(list(in_flight), f"the driver exited with code {message.data} while running it")
            if process.restarts >= MAX_RESTARTS:
                drop_pending("the driver keeps crashing")
                break
            process.restarts += 1
            try:
                process.start()
            except DriverUnavailableError as exc:
                drop_pending(str(exc))
        now = time.monotonic()
        expired = [case_id for case_id, flight in in_flight.items() if flight.deadline <= now]
        give_up(expired, f"no result within {CASE_TIMEOUT_S:.0f} s (the driver hung on it)")
    process.close_input(wait_s=10)
    process.stop()


def _scripted_wait_ms(case: Case) -> float:
    """How long the case's scenario delays its responses by design. Only orders the cases of a
    run (no verdict depends on it). A held response's wait is left out: it ends with the client's
    own short timeout, and the request must reach the mock well within it, which is least sure
    in the burst of the drivers' first cases."""
    total = 0.0
    for step in case.steps:
        response = step.get("response") or {}
        total += float(response.get("delay_ms") or 0) * int(step.get("times") or 1)
    return total


def _guarded(run: Run, language: str, cases: list[Case], args: tuple[Any, ...]) -> None:
    """_run_language(*args), with a runner bug reported on every case it left unjudged, not lost."""
    try:
        _run_language(*args)
    except Exception as exc:  # noqa: BLE001 - the other SDKs' runs must still finish and report
        reason = f"runner error: {type(exc).__name__}: {exc}"
        for case in cases:
            run.outcomes.setdefault((case.id, language), Outcome(case.id, language, NOT_RUN, reason=reason))


def _judge(
    case: Case,
    operation: Operation,
    result: JsonDict,
    report: JsonDict,
    known_entries: list[known.Entry],
    language: str,
) -> Outcome:
    outcome = Outcome(case.id, language, PASS, result=result, report=report)
    if result.get("outcome") == "unsupported":
        outcome.status, outcome.reason = UNSUPPORTED, str(result.get("message", ""))
        return outcome
    outcome.failures = expect.check(case, operation, result, report)
    entry = known.match(known_entries, case.id)
    if outcome.failures:
        outcome.status = KNOWN if entry else FAIL
        outcome.reason = entry.reason if entry else ""
    elif entry:
        outcome.status = STALE
        outcome.reason = f"listed in known_failing/{language}.txt line {entry.line} but passes: remove it"
    return outcome


def _build(
    languages: list[str], sdk_root: Path, cache: Path, logs: Path, contract: str = "openapi"
) -> dict[str, list[str] | str]:
    """Builds the drivers in parallel: the start command per language, or why it failed."""

    def build(language: str) -> list[str] | str:
        log = logs / f"build-{_log_tag(contract)}{language}.log"
        try:
            return _driver(language, sdk_root, cache, contract).build(log)
        except DriverUnavailableError as exc:
            return str(exc)

    with ThreadPoolExecutor(max_workers=len(languages) or 1) as pool:
        return dict(zip(languages, pool.map(build, languages), strict=True))


def profile_cache(cache: Path, contract: str) -> Path:
    """Where a profile's drivers are built: each profile its own (the Go binary has one name)."""
    return cache if contract == "openapi" else cache / contract


def _driver(language: str, sdk_root: Path, cache: Path, contract: str) -> Driver:
    """The driver of a contract profile's SDK, built in the profile's own cache (and, but for
    OpenAPI's, its own cargo target directory)."""
    profile = "" if contract == "openapi" else contract
    return Driver(language, sdk_root / language, profile_cache(cache, contract), profile)


def _log_tag(contract: str) -> str:
    """The prefix of a profile's log file names ("proto-"; none for OpenAPI)."""
    return ID_PREFIX[contract].replace(":", "-")


def execute(
    cases: list[Case],
    languages: list[str],
    operations: dict[str, Operation],
    known_lists: dict[str, list[known.Entry]],
    *,
    sdk_root: Path,
    cache: Path,
    logs: Path,
    mock_factory: Callable[[], Mock],
    stream: Any = sys.stderr,
    commands: dict[str, list[str] | str] | None = None,
    profiles: list[Profile] | None = None,
) -> Run:
    """Runs the cases on every language's driver (built here unless `commands` gives each one's
    start command, or the reason it has none) and compares the SDKs.

    `profiles` runs several contract profiles one after the other on one mock (their drivers are
    built first, each profile in its own build folder: profile_cache, _separate); without it,
    `cases`, `operations`, `sdk_root` and `commands` are the OpenAPI one."""
    if profiles is None:
        profiles = [Profile("openapi", cases, operations, sdk_root, commands)]
    run = Run([case for profile in profiles for case in profile.cases], languages)
    run.contracts = [profile.contract for profile in profiles]
    started = time.monotonic()
    logs.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    mock = mock_factory()
    try:
        built = time.monotonic()
        prepared: list[tuple[Profile, dict[str, list[str] | str]]] = []
        for profile in profiles:
            if not profile.cases:  # e.g. --run 'Retries/*' selects none of the proto profile's
                continue
            profile_commands = profile.commands
            if profile_commands is None:
                openapi = profile.contract == "openapi"
                label = "" if openapi else f" ({profile.contract} contract, {profile.sdk_root})"
                print(f"building drivers: {', '.join(languages)}{label}", file=stream, flush=True)
                profile_commands = _build(languages, profile.sdk_root, cache, logs, profile.contract)
            prepared.append((profile, profile_commands))
        run.timings["build_s"] = time.monotonic() - built
        run_started = time.monotonic()
        # One profile after the other: run at once, six drivers and the mock on two cores made
        # the cases whose client timeout is 2-3 s fail on a loaded machine (seen at a load
        # average of 20).
        for profile, profile_commands in prepared:
            _run_profile(run, profile, languages, profile_commands, known_lists, mock, logs, stream)
        run.timings["run_s"] = time.monotonic() - run_started
    finally:
        mock.close()
    compare_sdks(run)
    run.timings["total_s"] = time.monotonic() - started
    return run


def compare_sdks(run: Run) -> None:
    """Parity: each case's runs on the SDKs compared with each other, and each SDK's runs of a case
    on both contracts compared with each other (runs that did not happen are left out)."""
    signatures = {
        key: parity.signature(outcome.result or {}, (outcome.report or {}).get("journal", []))
        for key, outcome in run.outcomes.items()
        if outcome.status not in (UNSUPPORTED, NOT_RUN)
    }
    for case in run.cases:
        run.parity[case.id] = parity.compare(
            {
                language: signatures[key]
                for language in run.languages
                if (key := (case.id, language)) in signatures
            }
        )
    run.format_parity = _format_parity(run.cases, run.languages, signatures)


def _run_profile(
    run: Run,
    profile: Profile,
    languages: list[str],
    commands: dict[str, list[str] | str],
    known_lists: dict[str, list[known.Entry]],
    mock: Mock,
    logs: Path,
    stream: Any,
) -> None:
    """One profile's cases on every language's driver at once (a thread per driver)."""
    cases, tag = profile.cases, ID_PREFIX[profile.contract]
    if not cases:
        return
    progress = Progress(len(cases), languages, stream)
    threads = []
    for language in languages:
        command = commands[language]
        if isinstance(command, str):
            run.drivers[tag + language] = {"error": command}
            for case in cases:
                run.outcomes[(case.id, language)] = Outcome(case.id, language, NOT_RUN, reason=command)
            continue
        args = (
            language,
            command,
            cases,
            profile.operations,
            mock,
            known_lists.get(language, []),
            run,
            logs,
            progress,
            profile.contract,
        )
        thread = threading.Thread(
            target=_guarded, args=(run, language, cases, args), name=f"run-{tag}{language}"
        )
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()


def _format_parity(
    cases: list[Case], languages: list[str], signatures: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Comparison]:
    """For each case run on more than one contract: every SDK's runs compared across the formats."""
    by_base: dict[str, dict[str, Case]] = {}
    for case in cases:
        by_base.setdefault(case.plain_id, {})[case.contract] = case
    return {
        base_id: parity.compare_formats(
            {
                language: {
                    contract: parity.format_form(signatures[key])
                    for contract, case in by_contract.items()
                    if (key := (case.id, language)) in signatures
                }
                for language in languages
            }
        )
        for base_id, by_contract in by_base.items()
        if len(by_contract) >= 2
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="polysdk conformance", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lang", default=",".join(LANGUAGES), help="comma-separated SDKs (default: all three)"
    )
    parser.add_argument("--run", action="append", default=[], metavar="GLOB", help="only cases matching GLOB")
    parser.add_argument("--list", action="store_true", help="list the selected cases and exit")
    parser.add_argument("--cases", type=Path, action="append", default=[], help="case files or directories")
    parser.add_argument(
        "--contract",
        action="append",
        choices=CONTRACTS,
        default=[],
        help="run this contract profile (repeatable; default: openapi and proto)",
    )
    parser.add_argument(
        "--spec", type=Path, default=None, help="the OpenAPI contract (default: the orchestrator's)"
    )
    parser.add_argument(
        "--proto-spec", type=Path, default=None, help="the proto contract (default: spec/orchestrator.proto)"
    )
    parser.add_argument(
        "--sdk-root", type=Path, default=Path("out"), help="where the OpenAPI SDKs are (default: out)"
    )
    parser.add_argument(
        "--proto-sdk-root",
        type=Path,
        default=None,
        help="where the proto SDKs are (default: <sdk-root>/proto)",
    )
    parser.add_argument(
        "--report-dir", type=Path, default=Path("build/conformance"), help="default: build/conformance"
    )
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/conformance"), help="driver builds")
    parser.add_argument(
        "--known-dir",
        type=Path,
        default=None,
        help="known-failing lists (default: conformance/known_failing; none with --derived)",
    )
    parser.add_argument(
        "--derived",
        action="store_true",
        help="generate the SDKs of --spec into the cache and run cases derived from the contract "
        "(with any --cases of yours beside them)",
    )
    parser.add_argument("--mock-url", default="", help="use a standalone mock (`polysdk mock`) at this URL")
    parser.add_argument(
        "--emit-cases",
        action="store_true",
        help="register the selected cases with --mock-url and print their case lines (run a driver by hand)",
    )
    parser.add_argument(
        "--update-known-failing", action="store_true", help="rewrite known_failing/<sdk>.txt from this run"
    )
    parser.add_argument("--replay", type=Path, help="replay one reproducer file written by a previous run")
    return parser


def process_started() -> float:
    """When this process started, on the `time.monotonic()` clock: the quoted wall time is the
    whole command (interpreter start and imports included), not only the part the kit times.
    Linux gives the start in /proc; elsewhere the clock starts here."""
    now = time.monotonic()
    try:
        # Field 22 of stat (counted after the parenthesised command name, which may hold spaces):
        # the start in clock ticks since boot; /proc/uptime: seconds since boot.
        stat = Path("/proc/self/stat").read_text(encoding="ascii")
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        since_boot = float(Path("/proc/uptime").read_text(encoding="ascii").split()[0])
        age = since_boot - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return now
    return now - age if 0 <= age < 3600 else now


def main(argv: Sequence[str] | None = None) -> int:
    # The process's own command line (`polysdk conformance ...`, `python -m ...runner ...`) is timed
    # from the process start; a call from other code (a test) from here.
    words = list(sys.argv[1:] if argv is None else argv)
    own = len(words) < len(sys.argv) and sys.argv[len(sys.argv) - len(words) :] == words
    started = process_started() if own else time.monotonic()
    args = _parser().parse_args(words)
    try:
        return _main(args, started)
    except CaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def default_proto_spec(spec: Path) -> Path:
    """The proto contract beside the OpenAPI one (spec/orchestrator.proto)."""
    return spec.with_name("orchestrator.proto")


def _main(args: argparse.Namespace, started: float) -> int:
    from polysdk import default_spec
    from polysdk.errors import ContractError

    languages = [lang.strip() for lang in args.lang.split(",") if lang.strip()]
    unknown = sorted(set(languages) - set(LANGUAGES))
    if unknown or not languages:
        print(
            f"error: --lang: unknown SDK {', '.join(unknown) or '(none)'}; use {','.join(LANGUAGES)}",
            file=sys.stderr,
        )
        return 2
    spec = args.spec or default_spec()
    proto_spec = args.proto_spec or default_proto_spec(default_spec())
    contracts = [c for c in CONTRACTS if c in args.contract] if args.contract else list(CONTRACTS)
    roots = {"openapi": args.sdk_root, "proto": args.proto_sdk_root or args.sdk_root / "proto"}
    case_paths: list[Path] = args.cases or [_default_cases()]
    read: dict[str, Decisions] = {}  # contracts already read (by --derived)
    cache: Path = args.cache_dir
    if args.derived:
        if args.contract not in ([], ["openapi"]):
            print("error: --derived runs the OpenAPI contract of --spec only", file=sys.stderr)
            return 2
        prepared = _prepare_derived(spec, args.cache_dir, tuple(languages))
        if prepared is None:
            return 2
        contracts, roots["openapi"] = ["openapi"], prepared.sdk_root
        derived = [prepared.cases_file] if prepared.derivation.cases else []
        case_paths = [*derived, *args.cases]
        if not case_paths:
            why = (
                "every operation was left out (the reasons are above)"
                if prepared.derivation.skipped
                else "the contract declares no operation (only webhooks or models), so its SDKs make no call"
            )
            print(
                f"error: {spec}: no case could be derived: {why}; there is nothing to compare "
                "(add hand-written cases with --cases DIR)",
                file=sys.stderr,
            )
            return 2
        read["openapi"] = prepared.decisions
        # Each contract's drivers are built in its own folder: the Go binary has one name, and a
        # run of another contract must not hand this one its driver.
        cache = prepared.sdk_root.parent / "drivers"
    known_dir = args.known_dir or (None if args.derived else KNOWN_DIR)
    if args.replay:
        return reports.replay(
            args.replay,
            lambda lang, contract: _driver_argv(lang, args.report_dir, roots[contract], cache, contract),
            spec,
        )
    specs = {"openapi": spec, "proto": proto_spec}
    by_contract: dict[str, dict[str, Operation]] = {}
    for contract in contracts:
        try:
            by_contract[contract] = contract_operations(specs[contract], read.get(contract))
        except ContractError as exc:
            print(f"error: {exc}", file=sys.stderr)
            if contract != "openapi":
                print("  hint: run the other profile only with --contract openapi", file=sys.stderr)
            return 2
    loaded = load_cases(case_paths, by_contract.get("openapi", {}), by_contract)
    # Every profile's ids, run or not: known-failing lists name cases of both.
    every = [case.for_contract(c) for case in loaded for c in CONTRACTS if c in case.contracts]
    selected = [case for case in every if case.contract in contracts]
    if args.run:
        selected = [c for c in selected if any(fnmatch.fnmatchcase(c.id, glob) for glob in args.run)]
    if not selected:
        what = " or ".join(args.run) if args.run else "the selected contracts"
        print(f"error: no case matches {what}; see --list", file=sys.stderr)
        return 2
    if args.list:
        for case in selected:
            print(f"{case.id}\t{case.operation}\t{case.doc.splitlines()[0]}")
        print(f"{len(selected)} cases", file=sys.stderr)
        return 0
    if args.emit_cases:
        if not args.mock_url:
            print("error: --emit-cases needs --mock-url (start one with `polysdk mock`)", file=sys.stderr)
            return 2
        mock = RemoteMock(args.mock_url)
        for case in selected:
            _token, url = mock.register(case.scenario())
            print(json.dumps(case_line(case, url), ensure_ascii=False))
        return 0
    all_ids = [case.id for case in every]
    known_lists = {
        lang: known.read_list(known_dir / f"{lang}.txt", all_ids) if known_dir else [] for lang in languages
    }
    partial = bool(args.run) or len(selected) < len(every)
    if partial:  # a partial run cannot call an entry outside it stale
        known_lists = {
            lang: [e for e in entries if any(fnmatch.fnmatchcase(c.id, e.pattern) for c in selected)]
            for lang, entries in known_lists.items()
        }
    factory: Callable[[], Mock] = (
        (lambda: RemoteMock(args.mock_url)) if args.mock_url else (lambda: LocalMock(args.spec))
    )
    profiles = [
        Profile(
            contract, [c for c in selected if c.contract == contract], by_contract[contract], roots[contract]
        )
        for contract in contracts
    ]
    run = execute(
        selected,
        languages,
        by_contract.get("openapi", {}),
        known_lists,
        sdk_root=args.sdk_root,
        cache=cache,
        logs=args.report_dir / "logs",
        mock_factory=factory,
        profiles=profiles,
    )
    if args.derived:
        run.replay_options = ["--spec", str(spec), "--derived"]
    # The files record the process up to writing them; the console's wall time is the whole
    # command, reports written included.
    run.timings["total_s"] = time.monotonic() - started
    reports_started = time.monotonic()
    reports.write_all(run, args.report_dir)
    run.timings["reports_s"] = time.monotonic() - reports_started
    run.timings["total_s"] = time.monotonic() - started
    reports.console(run, sys.stdout, args.report_dir)
    if args.update_known_failing:
        if known_dir is None:
            print("error: --update-known-failing with --derived needs --known-dir", file=sys.stderr)
            return 2
        for language in languages:
            failing = {
                o.case_id: (o.reason or (o.failures[0] if o.failures else o.status))
                for (_cid, lang), o in run.outcomes.items()
                if lang == language and o.status in (FAIL, KNOWN)
            }
            if partial:  # entries outside this run stay as they were
                previous = known.read_list(known_dir / f"{language}.txt", all_ids)
                for entry in previous:
                    if not any(fnmatch.fnmatchcase(c.id, entry.pattern) for c in selected):
                        failing.setdefault(entry.pattern, entry.reason)
            known.write_list(known_dir / f"{language}.txt", failing, known_lists.get(language, []))
            print(f"rewrote {known_dir / f'{language}.txt'} ({len(failing)} entries)")
        return 0
    return 1 if run.failed() else 0


def _prepare_derived(spec: Path, cache: Path, languages: tuple[str, ...]) -> derive.Prepared | None:
    """The SDKs and derived cases of `spec` (None after printing why they cannot be made)."""
    from polysdk.errors import ContractError

    print(f"deriving cases and generating the SDKs of {spec}", file=sys.stderr, flush=True)
    try:
        prepared = derive.prepare(spec, cache, languages)
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    for warning in prepared.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    derivation = prepared.derivation
    for operation, reason in derivation.skipped.items():
        print(f"not derived: {operation}: {reason}", file=sys.stderr)
    print(
        f"{len(derivation.cases)} derived cases ({prepared.cases_file}); "
        f"{len(derivation.skipped)} operations not derived",
        file=sys.stderr,
    )
    return prepared


def _default_cases() -> Path:
    """The current project's conformance/cases when it has one (a checkout), else the shipped cases."""
    local = Path("conformance") / "cases"
    return local if (local / "case.schema.json").is_file() else CASES_DIR


def _driver_argv(language: str, report_dir: Path, sdk_root: Path, cache: Path, contract: str) -> list[str]:
    """The start command of a driver (for --replay): built, or rebuilt if it changed."""
    logs = report_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return _driver(language, sdk_root, cache, contract).build(logs / f"build-{language}.log")


if __name__ == "__main__":
    raise SystemExit(main())
