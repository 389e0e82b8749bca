"""`polysdk load` end to end: the Go SDK's optimised driver under load against the in-process mock,
scraped by a real Prometheus, judged by perf/budgets.yaml and perf/slos.yaml, reported in a page a
real browser renders. No figure here is made up: the assertions are on what was measured, never on
how fast (the machine may be loaded), only on counts, presence and the injected fault rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polysdk_conformance.load import cli, plan, session
from polysdk_conformance.perf import slos

from .conftest import ROOT, SPEC, require_tool
from .test_load_report import check_in_browser

pytestmark = pytest.mark.toolchain

SHORT = plan.PROFILES["short"]
# The SLO proof: 10 % 503s at the mock, 600 calls (~100 creates, so the smallest group, writes,
# has ~100 attempts): every availability objective (99 %) must breach.
INJECTED_503 = 0.10
FAULTY = plan.Profile(
    name="slo-proof",
    doc="open run only, 100 calls/s for 6 s, 10 % 503s",
    rate_per_s=100,
    open_ms=6_000,
    open_max=600,
    open_concurrency=16,
    closed_ms=0,
    closed_max=0,
    rounds=0,
    warmup_ms=0,
    faults=plan.Faults(unavailable=INJECTED_503),
)


@pytest.fixture(scope="module")
def sdks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go SDK and its driver, generated from this checkout's templates."""
    from polysdk.generate import Request, generate
    from polysdk.plan import Options

    require_tool("go")
    root = tmp_path_factory.mktemp("load-sdks")
    generate(Request(spec=SPEC, out_dir=root, languages=("go",), options=Options(drivers=True)))
    return root


@pytest.fixture(scope="module")
def prometheus_binary() -> str:
    """Debian's prometheus (skipped locally when missing, a failure under CI=true)."""
    return require_tool("prometheus")


def test_the_short_profile_through_the_go_sdk(
    sdks: Path, prometheus_binary: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "load"
    code = cli.main(["--lang", "go", "--sdks", str(sdks), "--out", str(out), "--profile", "short"])
    printed = capsys.readouterr().out
    # 1 only for a breached budget (a throughput ratio or a latency on a loaded machine), never
    # for missing data: that is 2.
    assert code in (0, 1), printed
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    run = data["sdks"]["go"]["open"]
    entries = {entry["name"]: entry for entry in run["entries"]}
    assert sorted(entries) == sorted(entry.name for entry in plan.MIX)
    assert run["completed"] == sum(entry["count"] for entry in entries.values()) <= SHORT.open_max
    # Every kind of call was made, in the proportions of the weights (the order is a cycle).
    for entry in plan.MIX:
        assert entries[entry.name]["count"] >= entry.weight * run["completed"] // 100 - 1
    # 5 % 429s over ~370 requests: the SDK retried some (all but certain), and they succeeded.
    assert sum(entry["retries"] for entry in entries.values()) > 0
    assert sum(entry["ok"] for entry in entries.values()) >= 0.95 * run["completed"]
    assert run["cpu_s"] > 0 and run["peak_rss_bytes"] > 1 << 20
    throughput = data["sdks"]["go"]["throughput"]
    assert [item["concurrency"] for item in throughput] == list(SHORT.concurrencies)
    for item in throughput:
        assert len(item["rounds"]) == SHORT.rounds and item["sdk_rate"] > 0 and item["raw_rate"] > 0
        # The raw client made the same HTTP exchanges, entry for entry.
        raw_names = {entry["name"] for entry in item["rounds"][0]["raw"]["entries"]}
        assert raw_names == set(entries)
    # Without 503s every SLO holds: availability 100 %, latency judged on real scrapes.
    assert data["slo"]["holds"], printed
    assert {result["name"] for result in data["slo"]["results"]} >= {
        "reads-availability",
        "writes-availability",
    }
    assert all(result["requests"] > 0 for result in data["slo"]["results"])
    verdict = data["verdict"]
    assert (verdict == "pass") == (code == 0) == (not data["budgets"]["breaches"])
    check_in_browser(out / "index.html", ["go"], verdict, tmp_path)


def test_a_known_503_rate_shows_in_the_slo_report_and_breaches(
    sdks: Path, prometheus_binary: str, tmp_path: Path
) -> None:
    settings = session.Settings(
        langs=("go",),
        profile=FAULTY,
        faults=FAULTY.faults,
        sdk_root=sdks,
        work=tmp_path / "work",
        slos=slos.load(ROOT / "perf" / "slos.yaml"),
        throughput=False,
    )
    outcome = session.run(settings, progress=lambda _: None)
    report = outcome.slo_report
    assert report is not None and not report.holds
    availability = [result for result in report.results if result.kind == "availability"]
    assert {result.group for result in availability} == {"reads", "writes", "streams"}
    assert all(result.verdict == "breach" for result in availability)
    # Over all groups (~700 attempts, one standard deviation ~1.1 %), Prometheus sees the rate
    # the mock injected.
    attempts = sum(result.requests for result in availability)
    failed = sum(result.requests * (1 - result.measured) for result in availability)
    assert failed / attempts == pytest.approx(INJECTED_503, abs=0.04)
    # The SDK retried the 503s: most calls still succeeded (three 503s in a row: 0.1 %).
    run = outcome.sdks[0].open_run
    assert sum(entry.retries for entry in run.entries) > 0
    assert sum(entry.ok for entry in run.entries) >= 0.95 * run.completed
