"""The reports of a load session: results.json (everything measured, histograms included, so that
runs can be merged later), results.md (tables) and index.html (the same tables and one latency
percentile plot per SDK as inline SVG: no script, no external resource)."""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from polysdk_conformance.load.budgets import Breach, table
from polysdk_conformance.load.histogram import Histogram
from polysdk_conformance.load.results import RunResult, throughput_ratio
from polysdk_conformance.load.session import Outcome, Throughput
from polysdk_conformance.perf import report as slo_report

PASS, FAIL = "pass", "fail"
PERCENTILES = ("p50", "p95", "p99", "p99.9", "max")
# The plot's x axis: "nines" of the percentile, -log10(1 - q): 1 is p90, 2 p99, 3 p99.9.
NINES_STEP = 0.05
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")
PLOT_W, PLOT_H, MARGIN_L, MARGIN_B, MARGIN_T, MARGIN_R = 640, 300, 60, 40, 20, 150


def verdict(outcome: Outcome, breaches: list[Breach]) -> str:
    slo_ok = outcome.slo_report is None or outcome.slo_report.holds
    return PASS if slo_ok and not breaches else FAIL


def as_json(outcome: Outcome, breaches: list[Breach], budgets_file: Path, command: str) -> dict[str, Any]:
    return {
        "command": command,
        "verdict": verdict(outcome, breaches),
        "profile": asdict(outcome.profile),
        "faults": asdict(outcome.faults),
        "budgets": {"file": str(budgets_file), "breaches": [asdict(breach) for breach in breaches]},
        "slo": slo_report.as_json(outcome.slo_report) if outcome.slo_report else {"note": outcome.slo_note},
        "sdks": {
            runs.sdk: {
                "open": _run_json(runs.open_run),
                "throughput": [_throughput_json(item) for item in runs.throughput],
            }
            for runs in outcome.sdks
        },
    }


def _run_json(run: RunResult) -> dict[str, Any]:
    wall_s = run.wall_ms / 1000
    return {
        "client_kind": run.client_kind,
        "model": run.model,
        "concurrency": run.concurrency,
        "target_rate": run.target_rate,
        "started": run.started,
        "completed": run.completed,
        "wall_ms": run.wall_ms,
        "achieved_rate": run.achieved_rate,
        "rate_ratio": run.achieved_rate / run.target_rate if run.target_rate else None,
        "cpu_s": run.cpu_s,
        "cpu_us_per_call": run.cpu_s * 1e6 / run.completed if run.completed else None,
        "peak_rss_bytes": run.peak_rss_bytes,
        "latency_ms": run.overall().percentiles(),
        "entries": [
            {
                "name": entry.name,
                "count": entry.count,
                "ok": entry.ok,
                "errors": entry.errors,
                "error_rate": entry.error_rate,
                "retries": entry.retries,
                "achieved_rate": entry.count / wall_s if wall_s > 0 else 0.0,
                "latency_ms": entry.histogram.percentiles(),
                "latency_us": {str(key): count for key, count in sorted(entry.histogram.counts.items())},
                "max_us": entry.histogram.max_us,
            }
            for entry in run.entries
        ],
    }


def _throughput_json(item: Throughput) -> dict[str, Any]:
    sdk, raw = item.median_pair()
    return {
        "concurrency": item.concurrency,
        "ratio": item.ratio,  # of the median round
        "sdk_rate": sdk.call_rate,  # each side of a paired round: concurrency / mean latency
        "raw_rate": raw.call_rate,
        "sdk_mean_latency_us": sdk.overall().mean_us(),
        "raw_mean_latency_us": raw.overall().mean_us(),
        "round_ratios": [throughput_ratio(*pair) for pair in item.pairs()],
        "sdk_cpu_us_per_call": _cpu_per_call(item.sdk_solo),
        "raw_cpu_us_per_call": _cpu_per_call(item.raw_solo),
        "rounds": [
            {"sdk": _run_json(sdk_run), "raw": _run_json(raw_run)} for sdk_run, raw_run in item.pairs()
        ],
        "solo": {
            kind: _run_json(run)
            for kind, run in (("sdk", item.sdk_solo), ("raw", item.raw_solo))
            if run is not None
        },
    }


def _cpu_per_call(run: RunResult | None) -> float | None:
    return run.cpu_s * 1e6 / run.completed if run is not None and run.completed else None


def markdown(outcome: Outcome, breaches: list[Breach], command: str) -> str:
    faults = outcome.faults
    lines = [
        "# polysdk load",
        "",
        f"Profile **{outcome.profile.name}** ({outcome.profile.doc}); faults in the open runs: "
        f"{faults.rate_limited:.1%} 429 and {faults.unavailable:.1%} 503, retried by the SDKs. "
        f"Command: `{command}`.",
        "",
        f"Verdict: **{verdict(outcome, breaches)}**",
        "",
    ]
    lines += [summary(outcome), "", "## Budgets", ""]
    lines += [table(breaches) if breaches else "Every budget holds.", ""]
    lines += ["## SLOs", ""]
    if outcome.slo_report is not None:
        lines.append(slo_report.markdown(outcome.slo_report))
    else:
        lines.append(f"SLOs {outcome.slo_note}.")
    return "\n".join(lines).rstrip() + "\n"


def summary(outcome: Outcome) -> str:
    """The open-model and throughput tables, as Markdown."""
    return "\n".join(
        [
            "## Open model (latency from the scheduled time)",
            "",
            *_table(LATENCY_HEADER, _latency_rows(outcome)),
            "",
            "## Throughput against the raw client (closed model, the round with the median ratio)",
            "",
            *_table(THROUGHPUT_HEADER, _throughput_rows(outcome)),
        ]
    )


def _latency_rows(outcome: Outcome) -> list[list[str]]:
    rows = []
    for runs in outcome.sdks:
        run = runs.open_run
        wall_s = run.wall_ms / 1000
        named = [
            (entry.name, entry.histogram, entry.count, entry.errors, entry.retries) for entry in run.entries
        ]
        total_errors: dict[str, int] = {}
        for entry in run.entries:
            for kind, count in entry.errors.items():
                total_errors[kind] = total_errors.get(kind, 0) + count
        named.append(("all", run.overall(), run.completed, total_errors, sum(e.retries for e in run.entries)))
        for name, histogram, count, errors, retries in named:
            percentiles = histogram.percentiles()
            rows.append(
                [
                    runs.sdk,
                    name,
                    str(count),
                    f"{count / wall_s:.1f}" if wall_s > 0 else "0",
                    ", ".join(f"{kind} {n}" for kind, n in sorted(errors.items())) or "none",
                    str(retries),
                    *(f"{percentiles[p]:.2f}" for p in PERCENTILES),
                ]
                + (
                    [
                        f"{run.achieved_rate:.1f} of {run.target_rate:g}",
                        f"{run.cpu_s:.2f}",
                        f"{run.peak_rss_bytes / 2**20:.1f}",
                    ]
                    if name == "all" and run.target_rate
                    else ["", "", ""]
                )
            )
    return rows


LATENCY_HEADER = [
    "SDK", "entry", "calls", "calls/s", "errors", "retries",
    "p50 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms", "achieved/target /s", "CPU s", "peak MiB",
]  # fmt: skip
THROUGHPUT_HEADER = [
    "SDK", "concurrent", "SDK calls/s", "raw calls/s", "SDK/raw", "rounds' SDK/raw",
    "SDK CPU µs/call", "raw CPU µs/call",
]  # fmt: skip


def _throughput_rows(outcome: Outcome) -> list[list[str]]:
    rows = []
    for runs in outcome.sdks:
        for item in runs.throughput:
            sdk, raw = item.median_pair()
            rows.append(
                [
                    runs.sdk,
                    str(item.concurrency),
                    f"{sdk.call_rate:.0f}",
                    f"{raw.call_rate:.0f}",
                    f"{item.ratio:.2f}",
                    _spread([throughput_ratio(*pair) for pair in item.pairs()]),
                    _us(_cpu_per_call(item.sdk_solo)),
                    _us(_cpu_per_call(item.raw_solo)),
                ]
            )
    return rows


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}" if values else "-"


def _us(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


# -- HTML ------------------------------------------------------------------------------------


def curve(histogram: Histogram) -> list[tuple[float, float]]:
    """(nines, latency ms) points of the percentile curve, up to the nines the sample count can
    resolve (n calls resolve -log10(1/n)), ending at the maximum."""
    total = histogram.total
    if total == 0:
        return []
    top = math.log10(total)
    points = []
    steps = int(top / NINES_STEP)
    for step in range(steps + 1):
        nines = step * NINES_STEP
        points.append((nines, histogram.quantile(1 - 10**-nines) / 1000))
    points.append((top, histogram.max_us / 1000))
    return points


def _nice(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above value."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if value <= factor * power:
            return factor * power
    return 10 * power


def plot(sdk: str, run: RunResult) -> str:
    """An inline SVG: one percentile curve per mix entry and one for all calls."""
    series = [(entry.name, curve(entry.histogram)) for entry in run.entries]
    series.append(("all", curve(run.overall())))
    series = [(name, points) for name, points in series if points]
    # Whole nines on the x axis: up to the most the sample counts resolve (p99.9 needs 1,000 calls).
    x_max = max(1, math.ceil(max((points[-1][0] for _, points in series), default=1.0)))
    y_max = _nice(max((ms for _, points in series for _, ms in points), default=1.0))
    width, height = PLOT_W + MARGIN_L + MARGIN_R, PLOT_H + MARGIN_T + MARGIN_B

    def x(nines: float) -> float:
        return MARGIN_L + nines / x_max * PLOT_W

    def y(ms: float) -> float:
        return MARGIN_T + PLOT_H - ms / y_max * PLOT_H

    parts = [
        f'<svg class="plot" data-sdk="{html.escape(sdk)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(sdk)} latency by percentile">',
        f'<rect x="{MARGIN_L}" y="{MARGIN_T}" width="{PLOT_W}" height="{PLOT_H}" '
        'fill="#fafafa" stroke="#999"/>',
    ]
    for tick in range(x_max + 1):
        label = "p0" if tick == 0 else "p" + f"{(1 - 10**-tick) * 100:.{max(0, tick - 2)}f}"
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{MARGIN_T}" x2="{x(tick):.1f}" y2="{MARGIN_T + PLOT_H}" '
            'stroke="#ddd"/>'
            f'<text x="{x(tick):.1f}" y="{MARGIN_T + PLOT_H + 16}" font-size="11" '
            f'text-anchor="middle">{label}</text>'
        )
    for index in range(5):
        ms = y_max * index / 4
        parts.append(
            f'<line x1="{MARGIN_L}" y1="{y(ms):.1f}" x2="{MARGIN_L + PLOT_W}" y2="{y(ms):.1f}" '
            'stroke="#eee"/>'
            f'<text x="{MARGIN_L - 6}" y="{y(ms) + 4:.1f}" font-size="11" text-anchor="end">{ms:g}</text>'
        )
    parts.append(
        f'<text x="{MARGIN_L + PLOT_W / 2}" y="{height - 6}" font-size="12" text-anchor="middle">'
        "percentile (log scale of nines)</text>"
        f'<text x="14" y="{MARGIN_T + PLOT_H / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {MARGIN_T + PLOT_H / 2})">latency ms</text>'
    )
    for index, (name, points) in enumerate(series):
        colour = "#000" if name == "all" else COLOURS[index % len(COLOURS)]
        path = " ".join(f"{x(nines):.1f},{y(ms):.1f}" for nines, ms in points)
        dash = ' stroke-dasharray="5 3"' if name == "all" else ""
        parts.append(
            f'<polyline class="curve" data-entry="{html.escape(name)}" points="{path}" fill="none" '
            f'stroke="{colour}" stroke-width="1.8"{dash}/>'
        )
        legend_y = MARGIN_T + 14 + index * 18
        parts.append(
            f'<line x1="{MARGIN_L + PLOT_W + 12}" y1="{legend_y - 4}" x2="{MARGIN_L + PLOT_W + 36}" '
            f'y2="{legend_y - 4}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{MARGIN_L + PLOT_W + 42}" y="{legend_y}" font-size="12">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(outcome: Outcome, breaches: list[Breach], command: str) -> str:
    result = verdict(outcome, breaches)
    sections = [
        f'<p id="verdict" class="{result}">Verdict: <strong>{result.upper()}</strong></p>',
        f"<p>Profile <strong>{html.escape(outcome.profile.name)}</strong>: "
        f"{html.escape(outcome.profile.doc)}. "
        f"Command: <code>{html.escape(command)}</code>.</p>",
        "<h2>Latency by percentile (open model, from the scheduled time)</h2>",
        *(
            f"<figure><figcaption>{html.escape(runs.sdk)}</figcaption>"
            f"{plot(runs.sdk, runs.open_run)}</figure>"
            for runs in outcome.sdks
        ),
        "<h2>Open model</h2>",
        _html_table(LATENCY_HEADER, _latency_rows(outcome)),
        "<h2>Throughput against the raw client (closed model, the round with the median ratio)</h2>",
        _html_table(THROUGHPUT_HEADER, _throughput_rows(outcome)),
        "<h2>Budgets</h2>",
        _html_table(
            ["SDK", "entry", "limit", "budget", "measured"],
            [[b.sdk, b.entry, b.limit, f"{b.budget:g}", f"{b.measured:.4g}"] for b in breaches],
        )
        if breaches
        else "<p>Every budget holds.</p>",
        "<h2>SLOs</h2>",
        f"<pre>{html.escape(slo_report.table(outcome.slo_report))}</pre>"
        if outcome.slo_report
        else f"<p>SLOs {html.escape(outcome.slo_note)}.</p>",
    ]
    style = (
        "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f0f0f0}"
        ".pass strong{color:#1a7f37}.fail strong{color:#c62828}figure{margin:1em 0}"
        "figcaption{font-weight:bold}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>polysdk load</title>'
        f"<style>{style}</style></head><body><h1>polysdk load</h1>{''.join(sections)}</body></html>\n"
    )


def write(
    out: Path, outcome: Outcome, breaches: list[Breach], budgets_file: Path, command: str
) -> list[Path]:
    """Writes results.json, results.md and index.html into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "results.json": json.dumps(as_json(outcome, breaches, budgets_file, command), indent=2) + "\n",
        "results.md": markdown(outcome, breaches, command),
        "index.html": page(outcome, breaches, command),
    }
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return [out / name for name in files]
