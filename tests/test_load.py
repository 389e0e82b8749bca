"""The load session's arithmetic: three-digit latency histograms and budget checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from polysdk_conformance.load.budgets import BudgetFileError, check, limits_for, load_rules
from polysdk_conformance.load.histogram import Histogram, bucket
from polysdk_conformance.load.results import EntryResult, RunResult


@pytest.mark.parametrize(
    ("micros", "expected"),
    [(0, 0), (7, 7), (999, 999), (1000, 1000), (1234, 1230), (98765, 98700), (1_234_567, 1_230_000)],
)
def test_bucket_keeps_three_significant_digits(micros: int, expected: int) -> None:
    assert bucket(micros) == expected


def test_percentiles_are_within_a_bucket_of_the_exact_ones() -> None:
    histogram = Histogram()
    for micros in range(1, 100_001):
        histogram.record(micros)
    assert histogram.total == 100_000
    assert histogram.quantile(0.5) == 50_000
    assert histogram.quantile(0.99) == 99_000
    assert histogram.quantile(0.999) == 99_900
    assert histogram.quantile(1) == histogram.max_us == 100_000


def test_merged_histograms_give_the_percentiles_of_all_samples() -> None:
    fast, slow = Histogram(), Histogram()
    for _ in range(90):
        fast.record(1_000)
    for _ in range(10):
        slow.record(50_000)
    fast.merge(slow)
    assert fast.quantile(0.9) == 1_000
    assert fast.quantile(0.91) == 50_000
    assert fast.max_us == 50_000


def test_a_driver_histogram_with_a_key_that_is_not_a_bucket_is_refused() -> None:
    assert Histogram.from_wire({"1230": 2, "812": 1}, 1300).total == 3
    with pytest.raises(ValueError, match="1234"):
        Histogram.from_wire({"1234": 1}, 1234)


def _run(
    sdk: str, kind: str, latencies_us: list[int], *, errors: int = 0, wall_ms: float = 1000.0
) -> RunResult:
    histogram = Histogram()
    for micros in latencies_us:
        histogram.record(micros)
    entry = EntryResult(
        "get", len(latencies_us), len(latencies_us) - errors, {"api": errors} if errors else {}, 0, histogram
    )
    return RunResult(sdk, kind, "open", 4, 100.0, len(latencies_us), wall_ms, [entry])


def test_budgets_report_each_broken_limit(tmp_path: Path) -> None:
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text(
        "rules:\n"
        "  - {p95_ms: 10, p99_ms: 20, max_error_rate: 0.01}\n"
        "  - {min_rate_ratio: 0.9, min_throughput_ratio: 0.95}\n"
        "  - {sdk: rust, entry: get, p95_ms: 1}\n",
        encoding="utf-8",
    )
    rules = load_rules(budgets)
    assert limits_for(rules, "rust", "get")["p95_ms"] == 1
    assert limits_for(rules, "go", "get")["p95_ms"] == 10
    slow = _run("go", "sdk", [5_000] * 90 + [30_000] * 10, errors=5)
    fine = _run("rust", "sdk", [500] * 100)
    sdk_closed, raw_closed = _run("go", "sdk", [1_000] * 90), _run("go", "raw", [1_000] * 100)
    breaches = check(rules, [slow, fine], [(sdk_closed, raw_closed)])
    assert {(b.sdk, b.limit) for b in breaches} == {
        ("go", "p95_ms"),
        ("go", "p99_ms"),
        ("go", "max_error_rate"),
        ("go", "min_throughput_ratio"),
    }
    throughput = next(b for b in breaches if b.limit == "min_throughput_ratio")
    assert throughput.measured == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: []\n", "non-empty list `rules`"),
        ("rules:\n  - {p95: 3}\n", "rules[0]: unknown keys ['p95']"),
        ("rules:\n  - {p99_ms: fast}\n", "rules[0].p99_ms: expected a number"),
        ("rules: [\n", "cannot be read"),
    ],
)
def test_a_bad_budgets_file_is_one_located_message(tmp_path: Path, text: str, message: str) -> None:
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text(text, encoding="utf-8")
    with pytest.raises(BudgetFileError, match=message.replace("[", r"\[").replace("]", r"\]")) as caught:
        load_rules(budgets)
    assert str(caught.value).startswith(str(budgets))
