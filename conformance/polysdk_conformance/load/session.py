"""One `polysdk load` session: the mock in-process, a real Prometheus scraping it, each selected
SDK's optimised driver under load, then budgets and SLOs.

Per SDK:

1. an open-model run of the SDK at the profile's arrival rate, in a fresh driver process, against
   the load scenario with faults (429s and 503s the SDK retries), latency from each call's
   scheduled time;
2. closed-model throughput at each concurrency, without faults, in one driver process: a
   discarded warm-up (JIT compilation, connection pools and lazy initialisation are not
   measured), then rounds of *paired* runs, in which every call is made by the SDK and by the raw
   client one right after the other (taking turns to go first), so that both meet the same
   machine call by call, however loaded it is. Each side's rate is what its own calls sustain at
   the latency measured (concurrency ÷ mean latency); the round whose SDK/raw ratio is the median
   gives the SDK's throughput as a fraction of its raw client's. Then one run of the SDK alone and
   one of the raw client alone give each its CPU time per call (read from /proc around the run).

Prometheus scrapes the mock's /metrics while the open runs go; once every SDK's open run is done
and a scrape has seen its last request, the SLOs are evaluated (the closed runs, which saturate
the machine on purpose, come after and are not judged by the SLOs).
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polysdk_conformance.drivers import Driver, DriverProcess
from polysdk_conformance.load import plan
from polysdk_conformance.load.results import EntryResult, RunResult, throughput_ratio
from polysdk_conformance.mock import MockServer
from polysdk_conformance.perf.evaluate import Report, evaluate
from polysdk_conformance.perf.prometheus import Prometheus, running
from polysdk_conformance.perf.slos import SloFile

# A load line's answer may take the run's duration, then the calls in flight (each bounded by the
# client's timeout, retries included), then the driver's own start: beyond that it is lost.
ANSWER_MARGIN_S = 30.0 + 3 * plan.CLIENT_TIMEOUT_MS / 1000
EXIT_WAIT_S = 10.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class LoadError(Exception):
    """The load could not be run as asked (exit 2): a driver without a load mode, a driver that
    failed or answered with an error, a lost answer."""


@dataclass
class Throughput:
    """The closed-model runs of one SDK at one concurrency: the two sides of each paired round,
    and the solo runs that give each client's CPU time per call."""

    concurrency: int
    sdk_runs: list[RunResult] = field(default_factory=list)
    raw_runs: list[RunResult] = field(default_factory=list)
    sdk_solo: RunResult | None = None
    raw_solo: RunResult | None = None

    def pairs(self) -> list[tuple[RunResult, RunResult]]:
        """(SDK side, raw side) of each round: calls interleaved, on the same machine load."""
        return list(zip(self.sdk_runs, self.raw_runs, strict=True))

    def median_pair(self) -> tuple[RunResult, RunResult]:
        """The round whose SDK/raw ratio is the median (rounds are odd, so it is a round, not an
        average). Ratios within a round cancel the drift of a shared, loaded machine that the
        ratio of two separate medians would keep."""
        rounds = sorted(self.pairs(), key=lambda pair: throughput_ratio(*pair))
        return rounds[(len(rounds) - 1) // 2]

    @property
    def ratio(self) -> float:
        return throughput_ratio(*self.median_pair())


@dataclass
class SdkRuns:
    sdk: str
    open_run: RunResult
    throughput: list[Throughput]


@dataclass
class Outcome:
    """What a session measured; report.py writes it."""

    profile: plan.Profile
    faults: plan.Faults
    sdks: list[SdkRuns]
    slo_report: Report | None
    slo_note: str  # why there is no SLO report (--no-prometheus), else ""


@dataclass(frozen=True)
class Settings:
    langs: tuple[str, ...]
    profile: plan.Profile
    faults: plan.Faults
    sdk_root: Path  # <sdk_root>/<lang> holds each SDK, generated with --drivers
    work: Path  # build logs, driver binaries, driver stderr
    slos: SloFile | None  # None: --no-prometheus
    throughput: bool = True  # False: the open runs (and SLOs) only


def run(settings: Settings, progress: Callable[[str], None] = print) -> Outcome:
    """Runs the whole session; LoadError, DriverUnavailableError, PrometheusError or
    EvaluationError when it cannot (the caller exits 2)."""
    settings.work.mkdir(parents=True, exist_ok=True)
    commands = {}
    for lang in settings.langs:
        progress(f"building the {lang} driver (optimised)")
        driver = Driver(lang, settings.sdk_root / lang, settings.work / "cache", optimised=True)
        commands[lang] = driver.build(settings.work / f"build-{lang}.log")
        # Before any load: a driver without a load mode stops the session now, not after the
        # other SDKs' runs.
        _load_capable(lang, commands[lang], settings.work)
    with MockServer() as mock:
        metrics = f"{mock.base_url}/metrics"
        with _prometheus(metrics, settings.slos is not None) as prometheus:
            if prometheus is not None:
                # A sample of the counters before any load, so that increase() sees all of it.
                prometheus.wait_for_scrapes(metrics)
            open_runs = {}
            for lang in settings.langs:
                token = mock.register(plan.scenario(settings.faults))
                progress(
                    f"{lang}: open model, {settings.profile.rate_per_s:g} calls/s for "
                    f"{settings.profile.open_ms / 1000:g} s"
                )
                line = plan.load_line(
                    line_id=f"load/open/{lang}",
                    base_url=mock.url(token),
                    client_kind="sdk",
                    model="open",
                    rate_per_s=settings.profile.rate_per_s,
                    concurrency=settings.profile.open_concurrency,
                    duration_ms=settings.profile.open_ms,
                    max_requests=settings.profile.open_max,
                )
                open_runs[lang] = drive(lang, commands[lang], line, settings.work)
                mock.forget(token)
            slo_report = None
            if prometheus is not None and settings.slos is not None:
                # A scrape that started after the last call holds every request of the open runs.
                prometheus.wait_for_scrapes(metrics)
                slo_report = evaluate(settings.slos, prometheus.api)
        runs = [
            SdkRuns(
                lang,
                open_runs[lang],
                _throughput(mock, lang, commands[lang], settings, progress) if settings.throughput else [],
            )
            for lang in settings.langs
        ]
    return Outcome(
        settings.profile,
        settings.faults,
        runs,
        slo_report,
        "" if settings.slos is not None else "not evaluated: --no-prometheus",
    )


@contextmanager
def _prometheus(metrics: str, wanted: bool) -> Iterator[Prometheus | None]:
    if not wanted:
        yield None
        return
    with running([metrics]) as server:
        yield server


def _throughput(
    mock: MockServer, lang: str, command: list[str], settings: Settings, progress: Callable[[str], None]
) -> list[Throughput]:
    profile = settings.profile
    token = mock.register(plan.scenario(plan.NO_FAULTS))
    results = []
    try:
        for concurrency in profile.concurrencies:
            progress(
                f"{lang}: closed model at {concurrency} concurrent, {profile.rounds} rounds of SDK and raw"
            )

            def line(
                kind: str, label: str, duration_ms: int, concurrency: int = concurrency
            ) -> dict[str, Any]:
                return plan.load_line(
                    line_id=f"load/closed/{lang}/{kind}/{concurrency}/{label}",
                    base_url=mock.url(token),
                    client_kind=kind,
                    model="closed",
                    concurrency=concurrency,
                    duration_ms=duration_ms,
                    max_requests=profile.closed_max,
                )

            throughput = Throughput(concurrency)
            with LoadProcess(lang, command, settings.work) as process:
                process.run_paired(line("paired", "warmup", profile.warmup_ms))  # discarded
                for round_number in range(profile.rounds):
                    sdk, raw = process.run_paired(line("paired", str(round_number), profile.closed_ms))
                    throughput.sdk_runs.append(sdk)
                    throughput.raw_runs.append(raw)
                throughput.sdk_solo = process.run(line("sdk", "solo", profile.closed_ms))
                throughput.raw_solo = process.run(line("raw", "solo", profile.closed_ms))
            results.append(throughput)
    finally:
        mock.forget(token)
    return results


def _load_capable(lang: str, command: list[str], work: Path) -> None:
    process = DriverProcess(lang, command, work / f"driver-{lang}.stderr.log")
    try:
        _check_capable(lang, process.start())
    finally:
        process.stop()


def _check_capable(lang: str, hello: dict[str, Any]) -> None:
    capabilities = hello.get("capabilities") or []
    if "load" not in capabilities:
        raise LoadError(
            f"the {lang} driver has no load mode (its hello lists "
            f"{', '.join(capabilities) or 'nothing'}); regenerate the SDK with a driver that "
            "implements the load lines of conformance/PROTOCOL.md"
        )


def drive(lang: str, command: list[str], line: dict[str, Any], work: Path) -> RunResult:
    """Runs one load line in a fresh driver process: its CPU time and peak memory are that run's."""
    with LoadProcess(lang, command, work) as process:
        return process.run(line)


class LoadProcess:
    """One driver process that runs load lines one after the other. Each run's CPU time is read
    from /proc around it (the process is idle between lines); the peak memory is the process's
    so far, so runs that must not share it take a process each."""

    def __init__(self, lang: str, command: list[str], work: Path) -> None:
        self.lang = lang
        self._process = DriverProcess(lang, command, work / f"driver-{lang}.stderr.log")

    def __enter__(self) -> LoadProcess:
        try:
            _check_capable(self.lang, self._process.start())
        except BaseException:
            self._process.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._process.close_input(EXIT_WAIT_S)
        finally:
            self._process.stop()

    def run(self, line: dict[str, Any]) -> RunResult:
        """Runs an SDK or raw load line: its result, with the CPU time the process spent on it."""
        answer, cpu, peak = self._send(line)
        return self._result(line, answer, line["client_kind"], "entries", cpu, peak)

    def run_paired(self, line: dict[str, Any]) -> tuple[RunResult, RunResult]:
        """Runs a paired load line: the SDK's side and the raw client's side. Both spent the
        process's CPU time, which cannot be told apart: it is left out (0)."""
        answer, _, peak = self._send(line)
        return (
            self._result(line, answer, "sdk", "entries", 0.0, peak, paired=True),
            self._result(line, answer, "raw", "raw_entries", 0.0, peak, paired=True),
        )

    def _send(self, line: dict[str, Any]) -> tuple[dict[str, Any], float, int]:
        """The driver's answer to the line, the CPU seconds it spent and its peak memory so far."""
        pid = self._process.pid
        assert pid is not None  # started by __enter__
        cpu_before = _cpu_seconds(pid)
        if not self._process.send(line):
            raise LoadError(f"the {self.lang} driver closed its input before the load line {line['id']}")
        answer = _answer(self._process, line)
        cpu = _cpu_seconds(pid) - cpu_before
        peak = _peak_rss(pid)
        if "error" in answer:
            raise LoadError(f"the {self.lang} driver could not run {line['id']}: {answer['error']}")
        return answer, cpu, peak

    def _result(
        self,
        line: dict[str, Any],
        answer: dict[str, Any],
        client_kind: str,
        entries_key: str,
        cpu: float,
        peak: int,
        paired: bool = False,
    ) -> RunResult:
        try:
            entries = [EntryResult.from_wire(entry) for entry in answer[entries_key]]
            return RunResult(
                sdk=self.lang,
                client_kind=client_kind,
                model=line["model"],
                concurrency=line["concurrency"],
                target_rate=line.get("rate_per_s"),
                started=int(answer["started"]),
                wall_ms=float(answer["wall_ms"]),
                entries=entries,
                cpu_s=cpu,
                peak_rss_bytes=peak,
                paired=paired,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LoadError(
                f"the {self.lang} driver's load_result for {line['id']} is malformed: {exc!r}"
            ) from None


def _answer(process: DriverProcess, line: dict[str, Any]) -> dict[str, Any]:
    timeout = line["duration_ms"] / 1000 + ANSWER_MARGIN_S
    deadline = time.monotonic() + timeout
    while True:
        try:
            message = process.messages.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise LoadError(f"no load_result for {line['id']} within {timeout:g} s") from None
        if message.generation != process.generation:
            continue
        if message.kind == "load_result" and message.data.get("id") == line["id"]:
            data: dict[str, Any] = message.data
            return data
        if message.kind == "exit":
            raise LoadError(
                f"the driver exited with code {message.data} during {line['id']}; see {process.stderr_log}"
            )
        if message.kind == "bad_line":
            raise LoadError(
                f"the driver wrote a line that is not protocol during {line['id']}: {message.data!r:.200}"
            )


def _cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), from /proc/<pid>/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError as exc:
        raise LoadError(f"cannot read the driver's CPU time: {exc}") from None
    # The command name (field 2) may hold spaces; the fields after its closing parenthesis are
    # numbered from 3, so utime (14) and stime (15) are the 12th and 13th after it.
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _peak_rss(pid: int) -> int:
    """VmHWM (the peak resident set) of the process in bytes, from /proc/<pid>/status."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError as exc:
        raise LoadError(f"cannot read the driver's peak memory: {exc}") from None
    for text in status.splitlines():
        if text.startswith("VmHWM:"):
            return int(text.split()[1]) * 1024
    raise LoadError(f"/proc/{pid}/status has no VmHWM line")
