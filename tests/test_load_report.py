"""The load session's reports and exit codes, on runs built from known latencies (the end-to-end
run through a real driver, mock and Prometheus is tests/test_load_session.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polysdk_conformance.load import cli, plan, report, session
from polysdk_conformance.load.histogram import Histogram
from polysdk_conformance.load.results import EntryResult, RunResult
from polysdk_conformance.perf import prometheus

from . import browser

ROOT = Path(__file__).resolve().parents[1]


def _entry(name: str, latencies_us: list[int], errors: int = 0) -> EntryResult:
    histogram = Histogram()
    for micros in latencies_us:
        histogram.record(micros)
    count = len(latencies_us)
    return EntryResult(name, count, count - errors, {"api": errors} if errors else {}, 3, histogram)


def _run(
    sdk: str, kind: str, model: str, scale: int, wall_ms: float = 2000.0, paired: bool = False
) -> RunResult:
    entries = [
        _entry("get", [scale * (1 + i % 50) for i in range(900)]),
        _entry("list", [2 * scale * (1 + i % 50) for i in range(300)], errors=1),
    ]
    rate = 600.0 if model == "open" else None
    return RunResult(
        sdk, kind, model, 16, rate, 1200, wall_ms, entries, cpu_s=0.8, peak_rss_bytes=20 << 20, paired=paired
    )


def _outcome(sdks: tuple[str, ...] = ("go", "rust"), raw_scale: int = 100) -> session.Outcome:
    runs = []
    for index, sdk in enumerate(sdks):
        throughput = session.Throughput(16)
        for _ in range(3):
            throughput.sdk_runs.append(_run(sdk, "sdk", "closed", 100, paired=True))
            throughput.raw_runs.append(_run(sdk, "raw", "closed", raw_scale, paired=True))
        throughput.sdk_solo = _run(sdk, "sdk", "closed", 100)
        throughput.raw_solo = _run(sdk, "raw", "closed", 100)
        runs.append(session.SdkRuns(sdk, _run(sdk, "sdk", "open", 100 * (index + 1)), [throughput]))
    return session.Outcome(
        plan.PROFILES["short"], plan.PROFILES["short"].faults, runs, None, "not evaluated: --no-prometheus"
    )


def test_the_reports_hold_every_figure(tmp_path: Path) -> None:
    outcome = _outcome()
    written = report.write(tmp_path, outcome, [], Path("perf/budgets.yaml"), "polysdk load --lang go,rust")
    assert [path.name for path in written] == ["results.json", "results.md", "index.html"]
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "pass" and data["slo"] == {"note": "not evaluated: --no-prometheus"}
    go = data["sdks"]["go"]
    assert go["open"]["achieved_rate"] == pytest.approx(600.0)
    assert go["open"]["rate_ratio"] == pytest.approx(1.0)
    get = go["open"]["entries"][0]
    assert get["latency_ms"]["p50"] == pytest.approx(2.5) and get["latency_ms"]["max"] == pytest.approx(5.0)
    assert sum(get["latency_us"].values()) == get["count"] == 900
    listed = go["open"]["entries"][1]
    assert listed["errors"] == {"api": 1} and listed["retries"] == 3
    assert go["throughput"][0]["ratio"] == pytest.approx(1.0) and len(go["throughput"][0]["rounds"]) == 3
    assert go["open"]["cpu_us_per_call"] == pytest.approx(0.8e6 / 1200)
    markdown = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "| go | get | 900 |" in markdown and "Every budget holds." in markdown


def test_the_plot_puts_percentiles_on_a_nines_scale() -> None:
    histogram = Histogram()
    for micros in range(1, 1001):
        histogram.record(micros * 10)
    points = report.curve(histogram)
    assert points[0] == (0.0, histogram.quantile(0) / 1000)
    nines = dict(points)
    assert nines[1.0] == pytest.approx(9.0)  # p90 of 10 µs .. 10 ms
    assert nines[2.0] == pytest.approx(9.9)  # p99
    assert points[-1] == (3.0, 10.0)  # 1,000 calls resolve three nines; the curve ends at the max


def check_in_browser(page: Path, sdks: list[str], verdict: str, work: Path) -> None:
    """Chromium renders the page: a screenshot that is not blank, and a DOM with the verdict and
    one plot per SDK."""
    shot = browser.screenshot(page.as_uri(), work, "load-report.png")
    # Background, text and the curves' colours at the least: a blank page has one colour.
    assert len(browser.png_colours(shot)) >= 5
    dom = browser.dump_dom(page.as_uri(), work)
    assert f'id="verdict" class="{verdict}"' in dom
    assert sorted(part.split('"')[0] for part in dom.split('<svg class="plot" data-sdk="')[1:]) == sorted(
        sdks
    )
    assert dom.count('class="curve"') >= len(sdks) * 2


def test_the_page_renders_in_a_real_browser(tmp_path: Path) -> None:
    report.write(tmp_path, _outcome(), [], Path("perf/budgets.yaml"), "polysdk load")
    check_in_browser(tmp_path / "index.html", ["go", "rust"], "pass", tmp_path)


# -- exit codes ----------------------------------------------------------------------------------


def _main(tmp_path: Path, *extra: str) -> int:
    return cli.main(["--lang", "go", "--out", str(tmp_path / "out"), *extra])


def test_a_bad_budgets_file_exits_2_with_a_located_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text("rules:\n  - {p95_ms: fast}\n", encoding="utf-8")
    assert _main(tmp_path, "--budgets", str(budgets), "--no-prometheus") == 2
    assert f"{budgets}: rules[0].p95_ms" in capsys.readouterr().err


def test_a_bad_slo_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slos = tmp_path / "slos.yaml"
    slos.write_text("version: 1\nslos: nope\n", encoding="utf-8")
    assert _main(tmp_path, "--budgets", str(ROOT / "perf/budgets.yaml"), "--slos", str(slos)) == 2
    assert str(slos) in capsys.readouterr().err


def test_a_missing_prometheus_exits_2_before_any_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(prometheus, "DEBIAN_BINARY", tmp_path / "no-prometheus")
    monkeypatch.setattr(session, "run", lambda *args, **kwargs: pytest.fail("ran without Prometheus"))
    budgets = str(ROOT / "perf/budgets.yaml")
    assert _main(tmp_path, "--budgets", budgets, "--slos", str(ROOT / "perf/slos.yaml")) == 2
    assert "prometheus is not installed" in capsys.readouterr().err


def test_an_unknown_language_exits_2(tmp_path: Path) -> None:
    assert _main(tmp_path, "--lang", "cobol", "--no-prometheus") == 2


@pytest.mark.parametrize(("raw_scale", "code"), [(100, 0), (50, 1)])
def test_a_breached_budget_exits_1_and_prints_the_table(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raw_scale: int,
    code: int,
) -> None:
    # The raw client's calls twice as fast as the SDK's (half the latency): ratio 0.5 < 0.95.
    monkeypatch.setattr(session, "run", lambda *args, **kwargs: _outcome(("go",), raw_scale))
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text("rules:\n  - {min_throughput_ratio: 0.95, p99_ms: 1000}\n", encoding="utf-8")
    assert _main(tmp_path, "--budgets", str(budgets), "--no-prometheus") == code
    out = capsys.readouterr().out
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    if code:
        assert "| go | * (16 concurrent) | min_throughput_ratio | 0.95 | 0.5 |" in out
        assert data["verdict"] == "fail" and data["budgets"]["breaches"][0]["measured"] == pytest.approx(0.5)
    else:
        assert "every budget" in out and data["verdict"] == "pass"


def test_the_browser_check_needs_chromium_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI may not skip"):
        browser.chromium()


def test_the_throughput_ratio_is_the_median_of_the_rounds_ratios() -> None:
    throughput = session.Throughput(1)
    # Round by round the machine slows down; within a round SDK and raw share its load.
    for sdk_scale, raw_scale in ((100, 200), (400, 400), (1600, 800)):
        throughput.sdk_runs.append(_run("go", "sdk", "closed", sdk_scale, paired=True))
        throughput.raw_runs.append(_run("go", "raw", "closed", raw_scale, paired=True))
    sdk, raw = throughput.median_pair()
    assert (sdk.overall().mean_us(), raw.overall().mean_us()) == (
        pytest.approx(400 * 25.5 * 1.25),  # 900 gets of 400 × 1..50, 300 lists of 800 × 1..50
        pytest.approx(400 * 25.5 * 1.25),
    )
    assert throughput.ratio == pytest.approx(1.0)


def test_a_paired_sides_rate_is_concurrency_over_its_mean_latency() -> None:
    """Both sides of a paired run share its wall time: each side's rate comes from its own
    latencies (Little's law), so an SDK twice as slow per call shows half the raw rate."""
    sdk = _run("go", "sdk", "closed", 200, paired=True)
    raw = _run("go", "raw", "closed", 100, paired=True)
    assert sdk.achieved_rate == raw.achieved_rate  # the same calls in the same wall time
    assert raw.call_rate == pytest.approx(16 * 1e6 / raw.overall().mean_us())
    assert session.throughput_ratio(sdk, raw) == pytest.approx(0.5)
    solo = _run("go", "sdk", "closed", 200)
    assert solo.call_rate == solo.achieved_rate


def test_help_names_every_profile(capsys: pytest.CaptureFixture[str]) -> None:
    """`polysdk load --help` prints (the profiles' docs speak of percentages, which argparse
    would otherwise read as %-formats) and exits 0."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert all(f"{name}:" in out for name in plan.PROFILES)
