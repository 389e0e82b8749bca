"""Latency histograms as the drivers report them (conformance/PROTOCOL.md, load lines).

A driver counts each latency, in whole microseconds rounded down to three significant digits,
under that value: an HDR-style histogram with at most 0.1 % relative error. Histograms from
several drivers or runs are merged by adding counts, so percentiles are never averaged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SIGNIFICANT_DIGITS = 3


def bucket(micros: int) -> int:
    """The bucket of a latency: micros rounded down to three significant digits."""
    if micros < 10**SIGNIFICANT_DIGITS:
        return max(micros, 0)
    scale: int = 10 ** (len(str(micros)) - SIGNIFICANT_DIGITS)
    return micros // scale * scale


@dataclass
class Histogram:
    """Counts per bucket (the bucket's lower bound, in microseconds) and the exact maximum."""

    counts: dict[int, int] = field(default_factory=dict)
    max_us: int = 0

    @classmethod
    def from_wire(cls, latency_us: Mapping[str, int], max_us: int) -> Histogram:
        """A driver's `latency_us` and `max_us`; ValueError on keys that are not buckets."""
        histogram = cls(max_us=max_us)
        for key, count in latency_us.items():
            value = int(key)
            if bucket(value) != value or count < 0:
                raise ValueError(f"latency bucket {key!r} (count {count}) is not a three-digit bucket")
            histogram.counts[value] = histogram.counts.get(value, 0) + count
        return histogram

    def record(self, micros: int) -> None:
        key = bucket(micros)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.max_us = max(self.max_us, micros)

    def merge(self, other: Histogram) -> None:
        for key, count in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + count
        self.max_us = max(self.max_us, other.max_us)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def mean_us(self) -> float:
        """The mean latency in microseconds from the buckets' lower bounds (within 0.1 % below
        the exact mean: the same bias for every histogram, so ratios of means keep no bias)."""
        total = self.total
        return sum(key * count for key, count in self.counts.items()) / total if total else 0.0

    def quantile(self, q: float) -> int:
        """The latency (µs) that a fraction q of the calls did not exceed, to within the bucket
        width; q = 1 is the exact maximum. 0 for an empty histogram."""
        total = self.total
        if total == 0:
            return 0
        if q >= 1:
            return self.max_us
        rank = max(1, math.ceil(q * total))
        seen = 0
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen >= rank:
                return min(key, self.max_us)
        return self.max_us

    def percentiles(self, qs: Iterable[float] = (0.5, 0.95, 0.99, 0.999)) -> dict[str, float]:
        """Named percentiles in milliseconds (p50, p95, p99, p99.9) and max."""
        named = {_name(q): self.quantile(q) / 1000 for q in qs}
        named["max"] = self.max_us / 1000
        return named


def _name(q: float) -> str:
    return "p" + f"{q * 100:.1f}".rstrip("0").rstrip(".")
