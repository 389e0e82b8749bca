"""The load lines of conformance/PROTOCOL.md ("Load lines") run by a built driver against the
mock's load scenario, through the SDK and through the language's raw HTTP client, and the checks
every driver's answers must pass: the same mix, scenario (with 503s the SDK retries and the raw
client does not) and counts for each language's driver test."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from polysdk_conformance.load.histogram import Histogram
from polysdk_conformance.mock import MockServer

# An agent and an int64 beyond 2^53, shared with the Go driver's case tests.
AGENT = {
    "id": "a/b",
    "name": "x",
    "status": "online",
    "created_at": "2025-01-01T00:00:00Z",
    "updated_at": "2025-01-01T00:00:00Z",
    "last_heartbeat_at": None,
}
BIG = 9007199254740993  # 2^53 + 1: lost by any float64 on the way


RUN_ID = "5b0c2c1e-7a53-4c8e-9a51-2f4d8f1e6a10"
# The SDK retries a 503 after Retry-After-Ms: a millisecond, so that the test does not wait.
UNAVAILABLE = {
    "kind": "json",
    "status": 503,
    "headers": {"Content-Type": "application/problem+json", "Retry-After-Ms": "1"},
    "body": {"title": "Unavailable", "status": 503},
}


def load_scenario(list_page: dict[str, Any] | None = None) -> dict[str, Any]:
    """The mock's load scenario: gets answered with 503 one time in five, the other routes always
    answered; listAgents answers list_page (by default a last page, so a walk is one request)."""

    def route(method: str, path: str, *responses: tuple[int, dict[str, Any]]) -> dict[str, Any]:
        return {
            "method": method,
            "path": path,
            "responses": [{"weight": w, "response": r} for w, r in responses],
        }

    event = {
        "id": "1",
        "data": json.dumps(
            {
                "type": "run.started",
                "sequence": BIG,
                "run_id": RUN_ID,
                "occurred_at": "2025-01-01T00:00:00Z",
                "agent_id": "agt_1",
            }
        ),
    }
    return {
        "kind": "load",
        "seed": 11,
        "routes": [
            route("GET", "/v1/agents/{agent_id}", (4, {"kind": "json", "body": AGENT}), (1, UNAVAILABLE)),
            route(
                "GET",
                "/v1/agents",
                (
                    1,
                    {
                        "kind": "json",
                        "body": list_page or {"data": [AGENT], "next_cursor": None, "has_more": False},
                    },
                ),
            ),
            route("POST", "/v1/agents", (1, {"kind": "json", "status": 201, "body": AGENT})),
            route(
                "GET",
                "/v1/runs/{run_id}/events:stream",
                (
                    1,
                    {
                        "kind": "sse",
                        "headers": {"Content-Type": "text/event-stream"},
                        "events": [event, event],
                    },
                ),
            ),
            route(
                "GET",
                "/v1/artifacts/{artifact_id}/content",
                (
                    1,
                    {
                        "kind": "bytes",
                        "headers": {"Content-Type": "application/octet-stream"},
                        "body_base64": "aGVsbG8=",
                    },
                ),
            ),
        ],
    }


AUTH = {"Authorization": "Bearer tok"}
LOAD_MIX = [
    {
        "name": "get",
        "operation": "getAgent",
        "mode": "call",
        "args": {"agent_id": "agt_1"},
        "raw": [{"method": "GET", "path": "v1/agents/agt_1", "headers": AUTH}],
    },
    {
        "name": "list",
        "operation": "listAgents",
        "mode": "pages",
        "args": {"limit": 10},
        "raw": [{"method": "GET", "path": "v1/agents?limit=10", "headers": AUTH}],
    },
    {
        "name": "create",
        "operation": "registerAgent",
        "mode": "call",
        "args": {"body": {"name": "a"}},
        "request": {"idempotency_key": None},
        "raw": [
            {
                "method": "POST",
                "path": "v1/agents",
                "headers": {**AUTH, "Content-Type": "application/json", "Idempotency-Key": "k-1"},
                "body_base64": "eyJuYW1lIjogImEifQ==",
            }
        ],
    },
    {
        "name": "stream",
        "operation": "streamRunEvents",
        "mode": "stream",
        "args": {"run_id": RUN_ID},
        "raw": [
            {
                "method": "GET",
                "path": f"v1/runs/{RUN_ID}/events:stream",
                "headers": {**AUTH, "Accept": "text/event-stream"},
            }
        ],
    },
    {
        "name": "download",
        "operation": "downloadArtifact",
        "mode": "call",
        "args": {"artifact_id": "art_1"},
        "raw": [{"method": "GET", "path": "v1/artifacts/art_1/content", "headers": AUTH}],
    },
]
SEQUENCE = [0, 0, 1, 0, 2, 0, 3, 4]


def load_line(
    load_id: str,
    base_url: str,
    kind: str,
    model: str,
    requests: int,
    mix: list[dict[str, Any]] | None = None,
    sequence: list[int] | None = None,
) -> dict[str, Any]:
    """A load line of `requests` calls over the mix (LOAD_MIX and SEQUENCE unless given); the SDK
    kind leaves the entries' raw exchanges out."""
    entries = LOAD_MIX if mix is None else mix
    return {
        "type": "load",
        "id": load_id,
        "base_url": base_url,
        "client": {"bearer_token": "tok", "max_retries": 2, "timeout_ms": 10000},
        "client_kind": kind,
        "model": model,
        "rate_per_s": 400,
        "concurrency": 4,
        "duration_ms": 60000,
        "max_requests": requests,
        "mix": [{k: v for k, v in e.items() if kind != "sdk" or k != "raw"} for e in entries],
        "sequence": SEQUENCE if sequence is None else sequence,
    }


def run_loads(
    argv: list[str], lines: list[dict[str, Any]], cwd: Path | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The driver's hello line and each load's answer by id, one load at a time as the runner
    sends them (each line waits for the previous answer). The SDK's environment variables are
    left out, as the runner does."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRATOR_")}
    with subprocess.Popen(
        argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=clean
    ) as driver:
        assert driver.stdin is not None and driver.stdout is not None
        hello = json.loads(driver.stdout.readline())
        answers = {}
        for line in lines:
            driver.stdin.write(json.dumps(line) + "\n")
            driver.stdin.flush()
            answer = json.loads(driver.stdout.readline())
            answers[answer["id"]] = answer
        driver.stdin.close()
        assert driver.wait(timeout=60) == 0
    return hello, answers


def check_load_lines(argv: list[str], cwd: Path | None = None) -> None:
    """Runs the driver started by argv under four loads (SDK closed, raw closed, SDK open, paired
    closed) and a load it cannot run, one at a time as the runner sends them, and checks every
    answer against what the mock played."""
    requests = 80  # ten rounds of the sequence: get 40, list 10, create 10, stream 10, download 10
    with MockServer() as mock:
        tokens = {name: mock.register(load_scenario()) for name in ("sdk", "raw", "open", "paired")}
        lines = [
            load_line("sdk", mock.url(tokens["sdk"]), "sdk", "closed", requests),
            load_line("raw", mock.url(tokens["raw"]), "raw", "closed", requests),
            load_line("open", mock.url(tokens["open"]), "sdk", "open", requests),
            load_line("paired", mock.url(tokens["paired"]), "paired", "closed", requests),
            {
                **load_line("bad", mock.url(tokens["sdk"]), "sdk", "closed", 1),
                "mix": [{"name": "x", "operation": "noSuchOperation"}],
                "sequence": [0],
            },
        ]
        hello, answers = run_loads(argv, lines, cwd)
        reports = {name: mock.report(token) for name, token in tokens.items()}

    assert "load" in hello["capabilities"]
    assert "noSuchOperation" in answers["bad"]["error"] and "entries" not in answers["bad"]
    counts = {"get": 40, "list": 10, "create": 10, "stream": 10, "download": 10}
    for name in ("sdk", "raw", "open"):
        answer = answers[name]
        assert answer["type"] == "load_result" and answer["started"] == requests, answer
        entries = {e["name"]: e for e in answer["entries"]}
        assert {n: e["count"] for n, e in entries.items()} == counts
        for entry in entries.values():
            # Three-digit buckets (from_wire refuses any other key), one count per call.
            histogram = Histogram.from_wire(entry["latency_us"], entry["max_us"])
            assert histogram.total == entry["count"] and max(histogram.counts) <= entry["max_us"]
        played = {route["path"]: route["responses"] for route in reports[name]["played"]}
        assert reports[name]["unexpected"] == [] and reports[name]["violating_requests"] == 0
        get_ok, get_unavailable = played["/v1/agents/{agent_id}"]
        assert get_unavailable > 0  # the seed plays 503s
        get = entries["get"]
        if name == "raw":
            # The raw client does not retry: every 503 is an api error.
            assert get["errors"] == {"api": get_unavailable} and get["retries"] == 0
            assert get["ok"] == get_ok
        else:
            # The SDK retried: each request the mock saw beyond the calls was a retry.
            assert get["retries"] == get_unavailable + get_ok - get["count"] > 0
            assert get["ok"] + sum(get["errors"].values()) == get["count"]
            assert set(get["errors"]) <= {"api"}
        for other in ("list", "create", "stream", "download"):
            assert entries[other]["ok"] == counts[other] and entries[other]["errors"] == {}, entries[other]
    # A paired load: every call made by the SDK and by the raw client, counted apart.
    paired = answers["paired"]
    assert paired["started"] == requests, paired
    sdk_side = {e["name"]: e for e in paired["entries"]}
    raw_side = {e["name"]: e for e in paired["raw_entries"]}
    assert (
        {n: e["count"] for n, e in sdk_side.items()} == {n: e["count"] for n, e in raw_side.items()} == counts
    )
    get_ok, get_unavailable = {r["path"]: r["responses"] for r in reports["paired"]["played"]}[
        "/v1/agents/{agent_id}"
    ]
    # The mock answered each get of both clients and each of the SDK's retries.
    assert get_ok + get_unavailable == 2 * counts["get"] + sdk_side["get"]["retries"]
    assert raw_side["get"]["retries"] == 0 and raw_side["get"]["errors"].get("api", 0) > 0
    assert sdk_side["get"]["ok"] + raw_side["get"]["ok"] == get_ok
