"""Performance budgets as data (perf/budgets.yaml) and the check of a load run against them.

A rule applies to every SDK and mix entry its `sdk` and `entry` globs match; rules are read in
order and a later rule's fields override an earlier one's, so a file states defaults first and
exceptions after. A breach is one row of the table `polysdk load` prints before it exits 1.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from polysdk_conformance.load.results import RunResult, throughput_ratio

# The limits a rule may set: latency percentiles (ms), the error rate after retries, the achieved
# fraction of the open model's target rate, and the SDK's throughput as a fraction of its raw
# client's (closed model, same concurrency).
LIMITS = ("p95_ms", "p99_ms", "max_error_rate", "min_rate_ratio", "min_throughput_ratio")


class BudgetFileError(ValueError):
    """perf/budgets.yaml cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    sdk: str
    entry: str
    limits: dict[str, float]


@dataclass(frozen=True)
class Breach:
    sdk: str
    entry: str
    limit: str
    budget: float
    measured: float

    def row(self) -> str:
        return f"| {self.sdk} | {self.entry} | {self.limit} | {self.budget:g} | {self.measured:.4g} |"


def load_rules(path: Path) -> list[Rule]:
    """The rules of a budgets file; BudgetFileError naming the file and rule on any mistake."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BudgetFileError(f"{path}: cannot be read: {exc}") from None
    raw_rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(raw_rules, list) or not raw_rules:
        raise BudgetFileError(f"{path}: expected a mapping with a non-empty list `rules`")
    return [_rule(raw, f"{path}: rules[{index}]") for index, raw in enumerate(raw_rules)]


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise BudgetFileError(f"{where}: expected a mapping")
    unknown = set(raw) - {"sdk", "entry", *LIMITS}
    if unknown:
        raise BudgetFileError(
            f"{where}: unknown keys {sorted(unknown)}; allowed: sdk, entry, {', '.join(LIMITS)}"
        )
    limits: dict[str, float] = {}
    for name in LIMITS:
        if name in raw:
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise BudgetFileError(f"{where}.{name}: expected a number >= 0, got {value!r}")
            limits[name] = float(value)
    return Rule(str(raw.get("sdk", "*")), str(raw.get("entry", "*")), limits)


def limits_for(rules: Iterable[Rule], sdk: str, entry: str) -> dict[str, float]:
    """The limits that apply to one SDK's mix entry (`*` is the run as a whole)."""
    limits: dict[str, float] = {}
    for rule in rules:
        if fnmatch.fnmatchcase(sdk, rule.sdk) and fnmatch.fnmatchcase(entry, rule.entry):
            limits.update(rule.limits)
    return limits


def check(
    rules: list[Rule], open_runs: list[RunResult], throughput: list[tuple[RunResult, RunResult]]
) -> list[Breach]:
    """Every breach: latency, error rate and achieved rate of the SDKs' open-model runs, per mix
    entry; throughput of each SDK against its raw client at the same concurrency (pairs of
    closed-model runs, SDK first)."""
    breaches: list[Breach] = []
    for run in open_runs:
        for entry in run.entries:
            limits = limits_for(rules, run.sdk, entry.name)
            p95, p99 = entry.histogram.quantile(0.95) / 1000, entry.histogram.quantile(0.99) / 1000
            for limit, measured in (("p95_ms", p95), ("p99_ms", p99), ("max_error_rate", entry.error_rate)):
                if limit in limits and measured > limits[limit]:
                    breaches.append(Breach(run.sdk, entry.name, limit, limits[limit], measured))
        limits = limits_for(rules, run.sdk, "*")
        if "min_rate_ratio" in limits and run.target_rate:
            ratio = run.achieved_rate / run.target_rate
            if ratio < limits["min_rate_ratio"]:
                breaches.append(Breach(run.sdk, "*", "min_rate_ratio", limits["min_rate_ratio"], ratio))
    for sdk_run, raw_run in throughput:
        limits = limits_for(rules, sdk_run.sdk, "*")
        if "min_throughput_ratio" in limits and raw_run.call_rate > 0:
            ratio = throughput_ratio(sdk_run, raw_run)
            if ratio < limits["min_throughput_ratio"]:
                breaches.append(
                    Breach(
                        sdk_run.sdk,
                        f"* ({sdk_run.concurrency} concurrent)",
                        "min_throughput_ratio",
                        limits["min_throughput_ratio"],
                        ratio,
                    )
                )
    return breaches


def table(breaches: list[Breach]) -> str:
    """The Markdown table of breaches."""
    lines = ["| SDK | entry | limit | budget | measured |", "|---|---|---|---|---|"]
    return "\n".join(lines + [breach.row() for breach in breaches])
