"""SLO evaluation through the Prometheus HTTP API.

Each SLO is judged at one evaluation time over its window: the measured SLI (instant queries), its
error budget and burn rate and, for availability and latency objectives, every multi-window
burn-rate alert evaluated each evaluation_interval across the window (range queries) — what a
Prometheus alerting rule would have said during the load, not only at its end. A group without
requests in the window is a NoDataError (exit 2): never a pass without data."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

from polysdk_conformance.perf import burn
from polysdk_conformance.perf.promapi import PrometheusApi
from polysdk_conformance.perf.slos import Alert, Duration, Slo, SloFile

OK, BREACH, ALERT = "ok", "breach", "alert"


class EvaluationError(Exception):
    """The SLOs cannot be judged from what Prometheus holds (exit 2)."""


class NoDataError(EvaluationError):
    """No requests of a group in a window: no evidence, so neither a pass nor a breach."""


@dataclass(frozen=True)
class AlertResult:
    name: str
    long: str
    short: str
    factor: float
    long_burn: float | None  # at the evaluation time; None: no requests in that window
    short_burn: float | None
    fired_at: float | None  # the first evaluation in the SLO window where both burned past factor


@dataclass(frozen=True)
class SloResult:
    name: str
    group: str
    kind: str
    window: str
    objective: float | None  # availability, latency: the ratio of good requests required
    threshold: float | None  # seconds
    quantile: float | None
    measured: float  # availability, latency: the ratio of good requests; quantile: seconds
    requests: float  # Prometheus's increase() of the request count over the window
    budget_remaining: float | None  # availability, latency: fraction of the error budget left
    burn_rate: float | None  # over the whole window
    alerts: tuple[AlertResult, ...]
    verdict: str  # ok | breach (objective missed) | alert (met, but a burn-rate alert fired)


@dataclass(frozen=True)
class Report:
    prometheus: str
    slo_file: str
    evaluated_at: float
    results: tuple[SloResult, ...]

    @property
    def holds(self) -> bool:
        return all(result.verdict == OK for result in self.results)


def evaluate(slo_file: SloFile, api: PrometheusApi, at: float | None = None) -> Report:
    """Every SLO of `slo_file` at Unix time `at` (default: now)."""
    # Milliseconds: Prometheus's own resolution, so that range steps land exactly on `at`.
    moment = round(time.time() if at is None else at, 3)
    evaluation = _Evaluation(slo_file, api, moment)
    return Report(api.url, str(slo_file.path), moment, tuple(evaluation.slo(slo) for slo in slo_file.slos))


class _Evaluation:
    def __init__(self, slo_file: SloFile, api: PrometheusApi, at: float) -> None:
        self.file, self.api, self.at = slo_file, api, at
        self.metrics = slo_file.metrics

    def slo(self, slo: Slo) -> SloResult:
        if slo.kind == "quantile":
            return self._quantile(slo)
        assert slo.objective is not None  # the schema requires it for these kinds
        good, total = self._selectors(slo)
        requests = self._increase(total, slo.window)
        if requests is None or not requests > 0:
            raise self._no_data(slo, total, "no requests")
        errors = burn.error_ratio(self._increase(good, slo.window) or 0.0, requests)
        assert errors is not None  # requests > 0
        alerts = tuple(self._alert(slo, good, total, alert) for alert in self.file.alerts)
        measured = 1.0 - errors
        if measured < slo.objective:
            verdict = BREACH
        else:
            verdict = ALERT if any(alert.fired_at is not None for alert in alerts) else OK
        return SloResult(
            name=slo.name,
            group=slo.group.name,
            kind=slo.kind,
            window=slo.window.text,
            objective=slo.objective,
            threshold=slo.threshold,
            quantile=slo.quantile,
            measured=measured,
            requests=requests,
            budget_remaining=burn.budget_remaining(errors, slo.objective),
            burn_rate=burn.burn_rate(errors, slo.objective),
            alerts=alerts,
            verdict=verdict,
        )

    def _quantile(self, slo: Slo) -> SloResult:
        assert slo.quantile is not None and slo.threshold is not None  # required by the schema
        count = f"{self.metrics.duration}_count{self._matchers(slo)}"
        requests = self._increase(count, slo.window)
        if requests is None or not requests > 0:
            raise self._no_data(slo, count, "no requests")
        buckets = f"{self.metrics.duration}_bucket{self._matchers(slo)}"
        samples = self.api.query(
            f"histogram_quantile({slo.quantile:g}, sum by (le) (rate({buckets}[{slo.window.text}])))", self.at
        )
        if not samples or math.isnan(samples[0].value):
            raise self._no_data(slo, buckets, "no histogram buckets")
        measured = samples[0].value
        return SloResult(
            name=slo.name,
            group=slo.group.name,
            kind=slo.kind,
            window=slo.window.text,
            objective=None,
            threshold=slo.threshold,
            quantile=slo.quantile,
            measured=measured,
            requests=requests,
            budget_remaining=None,
            burn_rate=None,
            alerts=(),
            verdict=BREACH if measured > slo.threshold else OK,
        )

    def _selectors(self, slo: Slo) -> tuple[str, str]:
        """The series of good requests and of all requests of an availability or latency SLO."""
        metrics = self.metrics
        if slo.kind == "availability":
            bad = f"{metrics.status_label}!~{_string(metrics.bad_status)}"
            return f"{metrics.requests}{self._matchers(slo, bad)}", f"{metrics.requests}{self._matchers(slo)}"
        bound = f"le=~{_string('|'.join(self._bucket_bounds(slo)))}"
        return (
            f"{metrics.duration}_bucket{self._matchers(slo, bound)}",
            f"{metrics.duration}_count{self._matchers(slo)}",
        )

    def _bucket_bounds(self, slo: Slo) -> list[str]:
        """How the histogram spells the bucket bound equal to the threshold ("0.1", maybe "1" or "1.0")."""
        buckets = f"{self.metrics.duration}_bucket{self._matchers(slo)}"
        samples = self.api.query(f"group by (le) (last_over_time({buckets}[{slo.window.text}]))", self.at)
        if not samples:
            raise self._no_data(slo, buckets, "no histogram buckets")
        bounds = sorted({sample.labels.get("le", "") for sample in samples} - {"+Inf", ""}, key=float)
        spellings = [bound for bound in bounds if float(bound) == slo.threshold]
        if not spellings:
            raise EvaluationError(
                f"SLO {slo.name}: its threshold of {slo.threshold:g} s is not a bucket bound of "
                f"{self.metrics.duration} (bounds: {', '.join(bounds)}); set the threshold to one of them "
                f"in {self.file.path}"
            )
        return spellings

    def _alert(self, slo: Slo, good: str, total: str, alert: Alert) -> AlertResult:
        long_burns = self._burns(slo, good, total, alert.long)
        short_burns = self._burns(slo, good, total, alert.short)
        return AlertResult(
            name=alert.name,
            long=alert.long.text,
            short=alert.short.text,
            factor=alert.factor,
            long_burn=long_burns.get(self.at),
            short_burn=short_burns.get(self.at),
            fired_at=burn.first_firing(long_burns, short_burns, alert.factor),
        )

    def _burns(self, slo: Slo, good: str, total: str, window: Duration) -> dict[float, float | None]:
        """The burn rate over `window`, every evaluation_interval across the SLO's window."""
        assert slo.objective is not None
        step_ms = round(self.file.evaluation_interval.seconds * 1000)
        steps = int(slo.window.seconds * 1000) // step_ms
        end_ms = round(self.at * 1000)
        start, end, step = (end_ms - steps * step_ms) / 1000, end_ms / 1000, step_ms / 1000
        totals = self._increases(total, window, start, end, step)
        goods = self._increases(good, window, start, end, step)
        burns: dict[float, float | None] = {}
        for at, requests in totals.items():
            errors = burn.error_ratio(goods.get(at, 0.0), requests)
            burns[at] = None if errors is None else burn.burn_rate(errors, slo.objective)
        return burns

    def _increase(self, selector: str, window: Duration) -> float | None:
        samples = self.api.query(f"sum(increase({selector}[{window.text}]))", self.at)
        return samples[0].value if samples else None

    def _increases(
        self, selector: str, window: Duration, start: float, end: float, step: float
    ) -> dict[float, float]:
        series = self.api.query_range(f"sum(increase({selector}[{window.text}]))", start, end, step)
        return series[0].points if series else {}

    def _matchers(self, slo: Slo, *extra: str) -> str:
        operation = f"{self.metrics.operation_label}=~{_string(slo.group.pattern())}"
        return "{" + ",".join((operation, *extra)) + "}"

    def _no_data(self, slo: Slo, selector: str, what: str) -> NoDataError:
        return NoDataError(
            f"no samples for operation group {slo.group.name} in the last {slo.window.text} "
            f"(SLO {slo.name}: {what} in {selector}); is Prometheus scraping the mock's /metrics, "
            "and did the load call these operations?"
        )


def _string(text: str) -> str:
    """A PromQL string literal: JSON's escapes are Go's, which PromQL uses."""
    return json.dumps(text)
