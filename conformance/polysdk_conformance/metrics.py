"""The mock's Prometheus metrics, served at `/metrics` on the mock's own root (not under a token).

Every label takes its values from a fixed set, so that no client can grow the series without
bound: `operation` is an operationId of the contract (or "unknown"), `sdk` is one of the generated
SDKs' languages as their User-Agent names them (or "other"), `status` is the HTTP status written
(a three-digit code, at most 500 values) or "aborted" for a connection the mock cut on purpose.
Scripted faults (a 503, a 500) count under their status, so an injected fault rate is what a
query over `status=~"5.."` sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "SDKS", "MockMetrics", "sdk_of"]

SDKS = ("go", "rust", "typescript")
UNKNOWN_OPERATION = "unknown"
OTHER_SDK = "other"
ABORTED = "aborted"
# The generated SDKs send `<package>/<version> (<language>)`, e.g. `orchestrator-sdk-go/0.1.0 (go)`
# (templates/*/runtime); a TypeScript package name may carry an npm scope (`@scope/name`).
_USER_AGENT = re.compile(r"(?:@[^\s/]+/)?[^\s/]+/[^\s/]+ \((go|rust|typescript)\)")
# Loopback answers take tens of microseconds; scripted delays and streams take seconds. The
# buckets are dense below 10 ms so that histogram_quantile() gives a usable p99 at loopback speed.
LATENCY_BUCKETS = (
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.00075,
    0.001,
    0.0015,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)


def sdk_of(user_agent: str | None) -> str:
    """The SDK label of a request: the language a generated SDK names, else "other"."""
    if user_agent:
        match = _USER_AGENT.match(user_agent)
        if match is not None:
            return match.group(1)
    return OTHER_SDK


class MockMetrics:
    """One registry per mock, so that several mocks in one process do not share counts."""

    def __init__(self, operation_ids: Iterable[str]) -> None:
        self.operations = frozenset(operation_ids)
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "polysdk_mock_requests",
            "Requests answered by the mock, by contract operation, status written and SDK.",
            ("operation", "status", "sdk"),
            registry=self.registry,
        )
        self._latency = Histogram(
            "polysdk_mock_request_duration_seconds",
            "Time from a request's arrival to its response (or the end of its stream).",
            ("operation", "sdk"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._violations = Counter(
            "polysdk_mock_contract_violations",
            "Requests the contract check found at fault, by operation and SDK.",
            ("operation", "sdk"),
            registry=self.registry,
        )
        self._counters: dict[tuple[str, str, str], Counter] = {}
        self._histograms: dict[tuple[str, str], Histogram] = {}

    def label(self, operation: str | None) -> str:
        return operation if operation in self.operations else UNKNOWN_OPERATION

    def connect_label(self, path: str) -> str:
        """The operation label of a Connect call (`/<package>.<Service>/<Method>`, which no
        OpenAPI route matches): the method's operation id, lowerCamel as the proto front end
        names it, when the contract has it; else the unknown label."""
        service, slash, method = path.strip("/").rpartition("/")
        if not slash or "." not in service or not method:
            return UNKNOWN_OPERATION
        return self.label(method[:1].lower() + method[1:])

    def observe(self, operation: str, status: int | str, sdk: str, seconds: float) -> None:
        # labels() costs more than the increment itself; the children are kept per label set
        # (bounded, like the labels).
        key = (operation, str(status), sdk)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self._requests.labels(*key)
        histogram = self._histograms.get((operation, sdk))
        if histogram is None:
            histogram = self._histograms[(operation, sdk)] = self._latency.labels(operation, sdk)
        counter.inc()
        histogram.observe(seconds)

    def violation(self, operation: str, sdk: str) -> None:
        self._violations.labels(operation, sdk).inc()

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
