"""What a load run sends: the production-like mix on the OpenAPI orchestrator contract, the mock's
load scenario that answers it, the order of calls, and the profiles that bound a run.

Everything here is data, so that every SDK (and its raw client) sends the same calls in the same
order against the same answers; conformance/PROTOCOL.md ("Load lines") is the wire form.

The mix (weights are parts of the traffic):

- `list`: listAgents, mode pages, limit 2: a cursor walk over exactly two pages;
- `get`: getAgent;
- `create`: registerAgent with an Idempotency-Key;
- `stream`: streamRunEvents, an SSE stream of five run events read to its end;
- `download`: downloadArtifact, a 64 KiB binary body.

With faults, every route also answers a fraction of its requests with 429 or 503 and a
Retry-After-Ms of 1 ms, which the SDKs retry (the raw clients never see faults). The mock counts
every attempt, so Prometheus sees exactly the injected 503 fraction as 5xx, against the 99 %
availability objectives of perf/slos.yaml. The fault mixes are chosen so that those objectives
hold unless something else fails: the short profile injects 429s only (5 %), because one 503
among the ~50 creates of a 6 s run would already cost its group more than 1 %; the full profile
adds 0.2 % 503s, which its ~1,800 creates per SDK absorb (a breach would need 5x the expected
count). `--fault-429` / `--fault-503` choose others (tests/test_load_session.py injects 10 % 503s
and sees the availability SLOs breach).
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from functools import reduce
from typing import Any

BEARER_TOKEN = "tok_load"  # noqa: S105 - the mock accepts any token; no secret
IDEMPOTENCY_KEY = "load-create-1"
RUN_ID = "5b0c2c1e-7a53-4c8e-9a51-2f4d8f1e6a10"
ARTIFACT_ID = "art_load"
AGENT_ID = "agt_1"
PAGE_LIMIT = 2
DOWNLOAD_BYTES = 64 * 1024
# Seeds the mock's weighted choice of answers, so that a run's faults are repeatable.
SCENARIO_SEED = 13
# Fault answers ask for a 1 ms wait: the retries are exercised without the run idling in backoff.
RETRY_AFTER_MS = "1"
# Parts per 10,000 of a route's answers (so 0.5 % is a whole number of parts).
FAULT_SCALE = 10_000
# The SDK client of every load line: two retries, as a production caller would configure, and a
# timeout far above loopback latencies that still bounds a run stuck on a lost answer.
CLIENT_TIMEOUT_MS = 10_000
CLIENT = {"bearer_token": BEARER_TOKEN, "max_retries": 2, "timeout_ms": CLIENT_TIMEOUT_MS}


@dataclass(frozen=True)
class RawRequest:
    """One HTTP exchange of a raw client: method, path (with its query) relative to the base URL,
    the headers the SDK sends that matter to the server, and the body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None

    def wire(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": dict(self.headers),
            "body_base64": None if self.body is None else base64.b64encode(self.body).decode("ascii"),
        }


@dataclass(frozen=True)
class Entry:
    """One kind of call in the mix: the SDK's typed call and the raw exchanges it amounts to."""

    name: str
    operation: str
    mode: str  # call | pages | stream
    weight: int
    args: dict[str, Any]
    raw: tuple[RawRequest, ...]
    idempotency_key: str | None = None

    def wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "operation": self.operation,
            "mode": self.mode,
            "args": self.args,
            "request": {"idempotency_key": self.idempotency_key},
            "raw": [request.wire() for request in self.raw],
        }


@dataclass(frozen=True)
class Faults:
    """The fraction of each route's answers that are 429s and 503s (both with Retry-After-Ms)."""

    rate_limited: float = 0.0
    unavailable: float = 0.0

    def __post_init__(self) -> None:
        if not (
            self.rate_limited >= 0 and self.unavailable >= 0 and self.rate_limited + self.unavailable < 1
        ):
            raise ValueError(f"fault fractions {self.rate_limited} + {self.unavailable} must be in [0, 1)")

    @property
    def none(self) -> bool:
        return self.rate_limited == 0 and self.unavailable == 0


NO_FAULTS = Faults()


@dataclass(frozen=True)
class Profile:
    """The bounds of one `polysdk load` run (per SDK)."""

    name: str
    doc: str
    rate_per_s: float  # open model: the arrival rate
    open_ms: int  # open model: how long requests are scheduled
    open_max: int  # open model: at most this many calls
    open_concurrency: int  # open model: at most this many calls in flight
    closed_ms: int  # closed model: how long each paired round (and each solo run) calls
    closed_max: int  # closed model: at most this many calls per run
    rounds: int  # closed model: paired rounds per concurrency (odd: the median is a round)
    warmup_ms: int  # closed model: the discarded paired run before the rounds
    faults: Faults
    concurrencies: tuple[int, ...] = (1, 16)


PROFILES = {
    "short": Profile(
        name="short",
        doc="CI: per SDK one open run of 6 s at 50 calls/s (at most 300 calls, 5 % 429s), then at "
        "1 and 16 concurrent calls a 1 s warm-up, 11 paired rounds of 1.5 s (each call made by the "
        "SDK and by the raw client) and a 1.5 s solo run of each: about 50 s per SDK",
        rate_per_s=50,
        open_ms=6_000,
        open_max=300,
        open_concurrency=16,
        closed_ms=1_500,
        closed_max=20_000,
        rounds=11,
        warmup_ms=1_000,
        faults=Faults(rate_limited=0.05),
    ),
    "full": Profile(
        name="full",
        doc="Per SDK one open run of 60 s at 200 calls/s (at most 12,000 calls, 4 % 429s and "
        "0.2 % 503s), then at 1 and 16 concurrent calls a 5 s warm-up, 9 paired rounds of 5 s and "
        "a 5 s solo run of each client (at most 100,000 calls each): about 4 min per SDK",
        rate_per_s=200,
        open_ms=60_000,
        open_max=12_000,
        open_concurrency=64,
        closed_ms=5_000,
        closed_max=100_000,
        rounds=9,
        warmup_ms=5_000,
        faults=Faults(rate_limited=0.04, unavailable=0.002),
    ),
}

_AGENT = {
    "id": AGENT_ID,
    "name": "research-assistant",
    "status": "online",
    "created_at": "2025-01-14T09:30:00Z",
    "updated_at": "2025-02-02T17:05:12Z",
    "last_heartbeat_at": None,
}


def _agent(number: int) -> dict[str, Any]:
    return {**_AGENT, "id": f"agt_{number}", "name": f"agent-{number}"}


_PAGES = (
    (f"limit={PAGE_LIMIT}", {"data": [_agent(1), _agent(2)], "next_cursor": "c2", "has_more": True}),
    (f"cursor=c2&limit={PAGE_LIMIT}", {"data": [_agent(3)], "next_cursor": None, "has_more": False}),
)
_EVENTS: tuple[dict[str, Any], ...] = (
    {"type": "run.started", "agent_id": AGENT_ID},
    {"type": "step.started", "step_id": "search", "step_type": "tool_call"},
    {"type": "message.delta", "message_id": "c3d9a7e4-1b2f-4e6a-8c0d-5f7e9a1b3c2d", "delta": "Found 20"},
    {
        "type": "step.completed",
        "step_id": "search",
        "output": {"results": 20},
        "duration_ms": 1840,
        "cost_usd": 0.0125,
    },
    {
        "type": "run.completed",
        "cost_usd": 1.1875,
        "usage_by_model": {},
        "output": {"artifact_id": ARTIFACT_ID},
    },
)
_CREATE_BODY = {"name": "research-assistant"}
# Every byte value, repeated: a binary body no text or JSON decoding could pass through intact.
DOWNLOAD_BODY = bytes(range(256)) * (DOWNLOAD_BYTES // 256)


def _headers(accept: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {BEARER_TOKEN}", "Accept": accept, **extra}


MIX: tuple[Entry, ...] = (
    Entry(
        "list",
        "listAgents",
        "pages",
        20,
        {"limit": PAGE_LIMIT},
        tuple(RawRequest("GET", f"v1/agents?{query}", _headers("application/json")) for query, _ in _PAGES),
    ),
    Entry(
        "get",
        "getAgent",
        "call",
        40,
        {"agent_id": AGENT_ID},
        (RawRequest("GET", f"v1/agents/{AGENT_ID}", _headers("application/json")),),
    ),
    Entry(
        "create",
        "registerAgent",
        "call",
        15,
        {"body": _CREATE_BODY},
        (
            RawRequest(
                "POST",
                "v1/agents",
                _headers(
                    "application/json",
                    **{"Content-Type": "application/json", "Idempotency-Key": IDEMPOTENCY_KEY},
                ),
                json.dumps(_CREATE_BODY, separators=(",", ":")).encode("utf-8"),
            ),
        ),
        idempotency_key=IDEMPOTENCY_KEY,
    ),
    Entry(
        "stream",
        "streamRunEvents",
        "stream",
        15,
        {"run_id": RUN_ID},
        (RawRequest("GET", f"v1/runs/{RUN_ID}/events:stream", _headers("text/event-stream")),),
    ),
    Entry(
        "download",
        "downloadArtifact",
        "call",
        10,
        {"artifact_id": ARTIFACT_ID},
        (RawRequest("GET", f"v1/artifacts/{ARTIFACT_ID}/content", _headers("application/octet-stream")),),
    ),
)


def sequence(weights: list[int]) -> list[int]:
    """The order of the mix entries for one cycle: smooth weighted round robin (nginx's), over
    the weights divided by their greatest common divisor. Each entry appears exactly its weight's
    share of the cycle, spread out rather than in bursts, and the result depends only on the
    weights: every SDK sends the same calls in the same order."""
    if not weights or any(weight < 1 for weight in weights):
        raise ValueError(f"weights must be positive integers, got {weights}")
    divisor = reduce(math.gcd, weights)
    reduced = [weight // divisor for weight in weights]
    total = sum(reduced)
    current = [0] * len(reduced)
    order: list[int] = []
    for _ in range(total):
        for index, weight in enumerate(reduced):
            current[index] += weight
        chosen = max(range(len(current)), key=lambda index: current[index])  # first of equals
        current[chosen] -= total
        order.append(chosen)
    return order


def _fault(status: int, title: str, code: str) -> dict[str, Any]:
    return {
        "kind": "json",
        "status": status,
        "headers": {"Content-Type": "application/problem+json", "Retry-After-Ms": RETRY_AFTER_MS},
        "body": {
            "type": "about:blank",
            "title": title,
            "status": status,
            "code": code,
            "request_id": "req_load",
        },
    }


def _weighted(answer: dict[str, Any], faults: Faults) -> list[dict[str, Any]]:
    """An answer with the fault fractions mixed in, as weights in parts of FAULT_SCALE."""
    limited = round(faults.rate_limited * FAULT_SCALE)
    unavailable = round(faults.unavailable * FAULT_SCALE)
    choices = [{"weight": FAULT_SCALE - limited - unavailable, "response": answer}]
    if limited:
        choices.append({"weight": limited, "response": _fault(429, "Too Many Requests", "rate_limited")})
    if unavailable:
        choices.append({"weight": unavailable, "response": _fault(503, "Service Unavailable", "unavailable")})
    return choices


def _sse_events() -> list[dict[str, Any]]:
    events = []
    for number, event in enumerate(_EVENTS, start=1):
        data = {**event, "sequence": number, "run_id": RUN_ID, "occurred_at": f"2025-02-03T08:02:0{number}Z"}
        events.append(
            {"event": event["type"], "id": str(number), "data": json.dumps(data, separators=(",", ":"))}
        )
    return events


def scenario(faults: Faults = NO_FAULTS, seed: int = SCENARIO_SEED) -> dict[str, Any]:
    """The mock's load scenario answering every request of MIX (see scenario.py's docs)."""
    routes: list[dict[str, Any]] = [
        {
            "method": "GET",
            "path": "/v1/agents",
            "query": query,
            "responses": _weighted({"kind": "json", "body": page}, faults),
        }
        for query, page in _PAGES
    ]
    routes += [
        {
            "method": "GET",
            "path": "/v1/agents/{agent_id}",
            "responses": _weighted({"kind": "json", "body": _AGENT}, faults),
        },
        {
            "method": "POST",
            "path": "/v1/agents",
            "responses": _weighted({"kind": "json", "status": 201, "body": _AGENT}, faults),
        },
        {
            "method": "GET",
            "path": "/v1/runs/{run_id}/events:stream",
            "responses": _weighted({"kind": "sse", "events": _sse_events()}, faults),
        },
        {
            "method": "GET",
            "path": "/v1/artifacts/{artifact_id}/content",
            "responses": _weighted(
                {
                    "kind": "bytes",
                    "headers": {"Content-Type": "application/octet-stream"},
                    "body_base64": base64.b64encode(DOWNLOAD_BODY).decode("ascii"),
                },
                faults,
            ),
        },
    ]
    # The journal keeps a sample only: a run's requests are counted, not stored.
    return {"kind": "load", "name": "polysdk load", "seed": seed, "journal_limit": 200, "routes": routes}


def load_line(
    *,
    line_id: str,
    base_url: str,
    client_kind: str,
    model: str,
    concurrency: int,
    duration_ms: int,
    max_requests: int,
    rate_per_s: float | None = None,
    mix: tuple[Entry, ...] = MIX,
) -> dict[str, Any]:
    """A `load` line (conformance/PROTOCOL.md); `rate_per_s` only for the open model."""
    if client_kind not in ("sdk", "raw", "paired") or model not in ("open", "closed"):
        raise ValueError(f"client_kind {client_kind!r} / model {model!r}")
    if client_kind == "paired" and model != "closed":
        raise ValueError("a paired line runs the closed model")
    if (model == "open") != (rate_per_s is not None):
        raise ValueError("an open-model line needs rate_per_s; a closed one must not have it")
    line: dict[str, Any] = {
        "type": "load",
        "id": line_id,
        "base_url": base_url,
        "client": dict(CLIENT),
        "client_kind": client_kind,
        "model": model,
        "concurrency": concurrency,
        "duration_ms": duration_ms,
        "max_requests": max_requests,
        "mix": [entry.wire() for entry in mix],
        "sequence": sequence([entry.weight for entry in mix]),
    }
    if rate_per_s is not None:
        line["rate_per_s"] = rate_per_s
    return line
