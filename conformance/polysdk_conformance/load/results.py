"""What one load run measured, per SDK, client kind and mix entry (the drivers' load_result lines
plus what the runner measures of the driver process)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from polysdk_conformance.load.histogram import Histogram


@dataclass
class EntryResult:
    """One mix entry (an operation in a mode) of one run."""

    name: str
    count: int
    ok: int
    errors: dict[str, int]
    retries: int
    histogram: Histogram

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> EntryResult:
        return cls(
            name=str(data["name"]),
            count=int(data["count"]),
            ok=int(data["ok"]),
            errors={str(kind): int(n) for kind, n in dict(data.get("errors") or {}).items()},
            retries=int(data.get("retries") or 0),
            histogram=Histogram.from_wire(dict(data.get("latency_us") or {}), int(data.get("max_us") or 0)),
        )

    @property
    def error_rate(self) -> float:
        return (self.count - self.ok) / self.count if self.count else 0.0


@dataclass
class RunResult:
    """One load line's run: an SDK (or its raw client) under one model and concurrency."""

    sdk: str
    client_kind: str  # sdk | raw
    model: str  # open | closed
    concurrency: int
    target_rate: float | None  # requests/s of the open model
    started: int
    wall_ms: float
    entries: list[EntryResult]
    cpu_s: float = 0.0
    peak_rss_bytes: int = 0
    paired: bool = False  # one side of a paired run (conformance/PROTOCOL.md, client_kind paired)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        return sum(entry.count for entry in self.entries)

    @property
    def achieved_rate(self) -> float:
        """Completed calls per second of wall time."""
        return self.completed / (self.wall_ms / 1000) if self.wall_ms > 0 else 0.0

    @property
    def call_rate(self) -> float:
        """The calls per second this client sustains. For one side of a paired run, whose wall
        time the other side shared, it is the rate its own calls would reach alone at the latency
        measured: concurrency ÷ mean latency (Little's law for a closed model); otherwise the
        achieved rate."""
        if not self.paired:
            return self.achieved_rate
        mean_us = self.overall().mean_us()
        return self.concurrency * 1e6 / mean_us if mean_us > 0 else 0.0

    def overall(self) -> Histogram:
        merged = Histogram()
        for entry in self.entries:
            merged.merge(entry.histogram)
        return merged


def throughput_ratio(sdk: RunResult, raw: RunResult) -> float:
    """The SDK's throughput as a fraction of its raw client's (call rates)."""
    return sdk.call_rate / raw.call_rate if raw.call_rate else 0.0
