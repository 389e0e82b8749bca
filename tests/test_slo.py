"""`polysdk slo` against a real Prometheus: a prometheus-client exporter in a thread, driven with a
known fault rate and latency mix, is scraped by Debian's prometheus (skipped locally when it is
missing, a failure under CI=true); the report must show those rates and breach, hold without
faults, and exit 2 without Prometheus or without data. Plus the budget arithmetic on plain numbers
and the SLO file's located errors. Every wait is on a scrape that happened, never a sleep."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from polysdk import cli
from polysdk_conformance.perf import burn, prometheus
from polysdk_conformance.perf.promapi import PrometheusError
from polysdk_conformance.perf.slos import Duration, Group, SloFileError, load

from .conftest import ROOT, require_tool

SLOS = ROOT / "perf" / "slos.yaml"
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SDKS = ("go", "rust", "typescript")
FAULTY, CLEAN = "listRuns", "getRun"  # one operation with faults, one without, in the same run
BATCHES, PER_BATCH = 5, 200
FAULT_EVERY = 10  # 10% of FAULTY's requests answer 503
SLOW_EVERY = 20  # 5% of FAULTY's requests take 300 ms, the others 2 ms
FAST_S, SLOW_S = 0.002, 0.3


# ---------------------------------------------------------------- the arithmetic, on plain numbers


def test_error_ratio_is_the_bad_fraction_and_none_without_requests() -> None:
    assert burn.error_ratio(900, 1000) == pytest.approx(0.1)
    assert burn.error_ratio(1000, 1000) == 0.0
    assert burn.error_ratio(0, 0) is None
    assert burn.error_ratio(float("nan"), 10) is None
    assert burn.error_ratio(1000.4, 1000) == 0.0  # independent extrapolation, not better than perfect


def test_burn_rate_and_budget_follow_the_sre_workbook() -> None:
    # 10% errors against a 99% objective spends the 1% budget ten times too fast: 900% overspent.
    assert burn.burn_rate(0.1, 0.99) == pytest.approx(10.0)
    assert burn.budget_remaining(0.1, 0.99) == pytest.approx(-9.0)
    # 0.05% errors against 99.9%: half the budget left, burning at 0.5x.
    assert burn.burn_rate(0.0005, 0.999) == pytest.approx(0.5)
    assert burn.budget_remaining(0.0005, 0.999) == pytest.approx(0.5)
    assert burn.budget_remaining(0.0, 0.99) == 1.0


def test_a_multi_window_alert_needs_both_windows_past_the_factor() -> None:
    assert burn.fires(15.0, 20.0, 14.4)
    assert not burn.fires(15.0, 10.0, 14.4)  # the burn has stopped: the short window recovered
    assert not burn.fires(10.0, 20.0, 14.4)  # a blip: not significant over the long window
    assert not burn.fires(None, 20.0, 14.4)
    assert not burn.fires(14.4, 14.4, 14.4)  # "exceeds", as in the workbook
    longs = {1.0: 2.0, 2.0: 7.0, 3.0: 8.0, 4.0: 9.0}
    shorts = {1.0: 9.0, 2.0: 5.0, 3.0: 8.0, 4.0: None}
    assert burn.first_firing(longs, shorts, 6.0) == 3.0
    assert burn.first_firing(longs, shorts, 8.5) is None


def test_durations_and_groups_become_promql() -> None:
    assert Duration.parse("1h30m").seconds == 5400
    assert Duration.parse("500ms").seconds == pytest.approx(0.5)
    assert Group("reads", ("listRuns", "get.Run"), None).pattern() == r"listRuns|get\.Run"
    assert Group("reads", (), "(list|get).*").pattern() == "(list|get).*"


def test_the_session_config_scrapes_each_target_every_second() -> None:
    targets = [prometheus.Target.parse("http://127.0.0.1:8080/metrics"), prometheus.Target.parse("[::1]:9")]
    config = prometheus.config(targets)
    assert config["global"] == {"scrape_interval": "1s", "scrape_timeout": "1s"}
    jobs = config["scrape_configs"]
    assert isinstance(jobs, list)
    assert [(job["static_configs"], job["metrics_path"]) for job in jobs] == [
        ([{"targets": ["127.0.0.1:8080"]}], "/metrics"),
        ([{"targets": ["[::1]:9"]}], "/metrics"),
    ]
    with pytest.raises(PrometheusError, match="not http"):
        prometheus.Target.parse("ftp://127.0.0.1:21/")


def test_a_missing_prometheus_says_which_package_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(prometheus, "DEBIAN_BINARY", tmp_path / "absent")
    with pytest.raises(prometheus.PrometheusMissingError, match="install Debian's prometheus package"):
        prometheus.find_binary()


# ---------------------------------------------------------------- the SLO file


def test_the_shipped_slo_file_loads() -> None:
    slo_file = load(SLOS)
    assert [alert.name for alert in slo_file.alerts] == ["page", "ticket"]
    assert {slo.kind for slo in slo_file.slos} == {"availability", "latency", "quantile"}


def _edited(tmp_path: Path, edit: Any) -> Path:
    data = yaml.safe_load(SLOS.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "slos.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _line(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    ("edit", "pointer", "anchor", "message"),
    [
        (lambda d: d["slos"][1].update(objective=1.5), "/slos/1/objective", "objective: 1.5", "1.5"),
        (lambda d: d["slos"][0].update(group="nope"), "/slos/0/group", "group: nope", "no operation group"),
        (
            lambda d: d["slos"][0].update(threshold=0.1),
            "/slos/0/threshold",
            "threshold: 0.1",
            "takes no threshold",
        ),
        (lambda d: d["alerts"][0].update(short="2m"), "/alerts/0/short", "short: 2m", "must be shorter"),
        (lambda d: d["slos"][0].update(window="5 minutes"), "/slos/0/window", "5 minutes", "does not match"),
        (lambda d: d["groups"]["reads"].update(match="(list"), "/groups/reads/match", "(list", "regular"),
        (lambda d: d.update(evaluation_interval="1ms"), "/slos/0/window", "window: 5m", "11000 points"),
    ],
)
def test_a_bad_slo_file_exits_2_with_one_located_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, pointer: str, anchor: str, message: str
) -> None:
    path = _edited(tmp_path, edit)
    # The file is checked before Prometheus is asked anything: no server is needed.
    assert cli.main(["slo", "--prometheus", "http://127.0.0.1:9", "--slos", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{_line(path, anchor)} at #{pointer}: " in err
    assert message in err
    assert "Traceback" not in err


def test_invalid_yaml_is_located(tmp_path: Path) -> None:
    path = tmp_path / "slos.yaml"
    path.write_text("version: 1\nslos: [\n", encoding="utf-8")
    with pytest.raises(SloFileError, match=rf"{path}:3: invalid YAML"):
        load(path)


# ---------------------------------------------------------------- a real Prometheus


@dataclass
class Scraped:
    server: prometheus.Prometheus
    target: str


@pytest.fixture(scope="module")
def scraped() -> Iterator[Scraped]:
    """A Prometheus that has scraped a load of BATCHES x PER_BATCH requests to each of FAULTY and
    CLEAN, with a scrape after each batch; the exporter keeps serving until the module ends."""
    binary = require_tool("prometheus")
    registry = CollectorRegistry()
    requests = Counter("polysdk_mock_requests", "requests", ["operation", "status", "sdk"], registry=registry)
    durations = Histogram(
        "polysdk_mock_request_duration_seconds",
        "durations",
        ["operation", "sdk"],
        buckets=BUCKETS,
        registry=registry,
    )
    # Every series exists (at 0) before the first scrape, as increase() needs a starting sample.
    for operation in (FAULTY, CLEAN):
        for sdk in SDKS:
            durations.labels(operation, sdk)
            for status in ("200", "503"):
                requests.labels(operation, status, sdk)
    exporter, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    target = f"http://127.0.0.1:{exporter.server_port}/metrics"
    try:
        with prometheus.running([target], binary=binary) as server:
            server.wait_for_scrapes(target)  # the zero baseline
            for _ in range(BATCHES):
                for index in range(PER_BATCH):
                    sdk = SDKS[index % len(SDKS)]
                    status = "503" if index % FAULT_EVERY == 0 else "200"
                    requests.labels(FAULTY, status, sdk).inc()
                    durations.labels(FAULTY, sdk).observe(SLOW_S if index % SLOW_EVERY == 1 else FAST_S)
                    requests.labels(CLEAN, "200", sdk).inc()
                    durations.labels(CLEAN, sdk).observe(FAST_S)
                server.wait_for_scrapes(target)  # spreads the load over scrapes, as a real run does
            yield Scraped(server, target)
    finally:
        exporter.shutdown()
        exporter.server_close()
        thread.join(timeout=10)


def _slo_file(tmp_path: Path, groups: dict[str, Any], slos: list[dict[str, Any]]) -> Path:
    """The shipped file's metrics and alerts with the test's groups and SLOs."""

    def edit(data: dict[str, Any]) -> None:
        data["groups"], data["slos"] = groups, slos

    return _edited(tmp_path, edit)


def _objectives(group: str) -> list[dict[str, Any]]:
    return [
        {"name": f"{group}-availability", "group": group, "kind": "availability", "window": "5m",
         "objective": 0.99},
        {"name": f"{group}-latency", "group": group, "kind": "latency", "window": "5m", "threshold": 0.1,
         "objective": 0.99},
        {"name": f"{group}-p99", "group": group, "kind": "quantile", "window": "5m", "quantile": 0.99,
         "threshold": 0.25},
    ]  # fmt: skip


def _slo(
    scraped: Scraped, path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "slo.json"
    markdown = tmp_path / "slo.md"
    args = ["slo", "--prometheus", scraped.server.url, "--slos", str(path), "--json", str(out)]
    code = cli.main([*args, "--markdown", str(markdown)])
    captured = capsys.readouterr()
    report = json.loads(out.read_text()) if out.exists() else {}
    assert not out.exists() or markdown.read_text().startswith("# SLO report")
    return code, {result["name"]: result for result in report.get("results", [])}, captured.out + captured.err


def test_injected_faults_show_at_their_rate_and_breach(
    scraped: Scraped, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = {"faulty": {"operations": [FAULTY]}, "clean": {"operations": [CLEAN]}}
    path = _slo_file(tmp_path, groups, _objectives("faulty") + _objectives("clean"))
    code, results, output = _slo(scraped, path, tmp_path, capsys)
    assert code == 1, output
    availability = results["faulty-availability"]
    # 10% of the requests answered 503: measured within half a point (a scrape may land mid-batch).
    assert availability["measured"] == pytest.approx(1 - 1 / FAULT_EVERY, abs=0.005)
    assert availability["burn_rate"] == pytest.approx(10.0, abs=0.5)
    assert availability["budget_remaining"] == pytest.approx(-9.0, abs=0.5)
    assert BATCHES * PER_BATCH <= availability["requests"] <= 1.2 * BATCHES * PER_BATCH
    assert availability["verdict"] == "breach"
    alerts = {alert["name"]: alert for alert in availability["alerts"]}
    assert alerts["ticket"]["fired_at"] is not None  # 10x burn > 6x over 6m and 30s
    assert alerts["page"]["fired_at"] is None  # 10x burn < 14.4x
    latency = results["faulty-latency"]
    assert latency["measured"] == pytest.approx(1 - 1 / SLOW_EVERY, abs=0.005)  # 5% took 300 ms
    assert latency["verdict"] == "breach"
    # histogram_quantile: the p99 falls 80% into the (0.25 s, 0.5 s] bucket holding the slow 5%.
    assert results["faulty-p99"]["measured"] == pytest.approx(0.45, abs=0.01)
    assert results["faulty-p99"]["verdict"] == "breach"
    for name in ("clean-availability", "clean-latency", "clean-p99"):
        assert results[name]["verdict"] == "ok", results[name]
    assert "faulty-availability" in output
    assert "BREACH" in output


def test_without_faults_the_slos_hold(
    scraped: Scraped, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _slo_file(tmp_path, {"clean": {"match": "get.*"}}, _objectives("clean"))
    code, results, output = _slo(scraped, path, tmp_path, capsys)
    assert code == 0, output
    assert results["clean-availability"]["measured"] == 1.0
    assert results["clean-availability"]["budget_remaining"] == 1.0
    assert results["clean-latency"]["measured"] == 1.0
    # Every request took 2 ms: the p99 is interpolated 99% into the (1 ms, 2.5 ms] bucket.
    assert results["clean-p99"]["measured"] == pytest.approx(0.001 + 0.99 * 0.0015, rel=0.01)
    assert "all SLOs hold" in output


def test_a_group_without_samples_exits_2(
    scraped: Scraped, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = {"clean": {"operations": [CLEAN]}, "idle": {"operations": ["deleteAgent"]}}
    path = _slo_file(tmp_path, groups, _objectives("clean") + _objectives("idle"))
    code, _, output = _slo(scraped, path, tmp_path, capsys)
    assert code == 2
    assert "no samples for operation group idle in the last 5m" in output


def test_a_threshold_that_is_not_a_bucket_bound_exits_2(
    scraped: Scraped, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slos = _objectives("clean")
    slos[1]["threshold"] = 0.2
    path = _slo_file(tmp_path, {"clean": {"operations": [CLEAN]}}, slos)
    code, _, output = _slo(scraped, path, tmp_path, capsys)
    assert code == 2
    assert "threshold of 0.2 s is not a bucket bound" in output
    assert "0.1, 0.25" in output


def test_a_stopped_prometheus_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = require_tool("prometheus")
    dead = "http://127.0.0.1:9/metrics"  # the discard port: nothing serves metrics there
    with prometheus.running([dead], binary=binary) as server:
        with pytest.raises(PrometheusError, match="did not scrape"):
            server.wait_for_scrapes(dead, timeout=1.0)
        process = server.process
    assert process.returncode is not None  # stopped, and its folder removed
    code = cli.main(["slo", "--prometheus", server.url, "--slos", str(SLOS)])
    assert code == 2
    assert f"cannot reach Prometheus at {server.url}" in capsys.readouterr().err
