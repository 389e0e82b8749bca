"""The SLO report as a terminal table, Markdown and JSON."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from polysdk_conformance.perf.evaluate import AlertResult, Report, SloResult

COLUMNS = ("SLO", "group", "window", "objective", "measured", "requests", "budget left", "burn", "verdict")


def as_json(report: Report) -> dict[str, Any]:
    data = asdict(report)
    data["holds"] = report.holds
    data["evaluated_at_iso"] = _iso(report.evaluated_at)
    return data


def table(report: Report) -> str:
    """Fixed-width columns, one line per SLO and one indented line per burn-rate alert."""
    rows = [COLUMNS, *(_cells(result) for result in report.results)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    lines = [f"SLOs of {report.slo_file} from {report.prometheus} at {_iso(report.evaluated_at)}"]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index:
            lines.extend(f"    {_alert_text(alert)}" for alert in report.results[index - 1].alerts)
    lines.append("all SLOs hold" if report.holds else "SLO breached: see the verdicts above")
    return "\n".join(lines)


def markdown(report: Report) -> str:
    lines = [
        "# SLO report",
        "",
        f"`{report.slo_file}` evaluated by the Prometheus at {report.prometheus} at "
        f"{_iso(report.evaluated_at)}: **{'all SLOs hold' if report.holds else 'breached'}**.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(_cells(result)) + " |" for result in report.results),
    ]
    alerts = [(result.name, alert) for result in report.results for alert in result.alerts]
    if alerts:
        lines += [
            "",
            "Multi-window burn-rate alerts (burn at the evaluation time, long / short window):",
            "",
            "| SLO | alert | windows | factor | burn | fired |",
            "|---|---|---|---|---|---|",
            *(
                f"| {name} | {alert.name} | {alert.long} / {alert.short} | {alert.factor:g}x | "
                f"{_burn(alert.long_burn)} / {_burn(alert.short_burn)} | {_fired(alert)} |"
                for name, alert in alerts
            ),
        ]
    return "\n".join(lines) + "\n"


def _cells(result: SloResult) -> tuple[str, ...]:
    return (
        result.name,
        result.group,
        result.window,
        _objective(result),
        _measured(result),
        f"{result.requests:.0f}",
        "—" if result.budget_remaining is None else f"{result.budget_remaining:.1%}",
        "—" if result.burn_rate is None else _burn(result.burn_rate),
        result.verdict.upper(),
    )


def _objective(result: SloResult) -> str:
    if result.kind == "quantile":
        return f"p{_percentile(result.quantile)} ≤ {_seconds(result.threshold)}"
    ratio = f"≥ {_percent(result.objective)}"
    return f"{ratio} under {_seconds(result.threshold)}" if result.kind == "latency" else ratio


def _measured(result: SloResult) -> str:
    return _seconds(result.measured) if result.kind == "quantile" else _percent(result.measured)


def _alert_text(alert: AlertResult) -> str:
    return (
        f"alert {alert.name} ({alert.long}/{alert.short} > {alert.factor:g}x): "
        f"burn {_burn(alert.long_burn)} / {_burn(alert.short_burn)}, {_fired(alert)}"
    )


def _fired(alert: AlertResult) -> str:
    return "did not fire" if alert.fired_at is None else f"fired at {_iso(alert.fired_at)}"


def _burn(value: float | None) -> str:
    return "no requests" if value is None else f"{value:.2f}x"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.3%}"


def _percentile(quantile: float | None) -> str:
    return "?" if quantile is None else f"{quantile * 100:g}"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.3g} ms"


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
