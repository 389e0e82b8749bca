"""Interop with the reference Connect implementation: a connect-go server (tests/interop/
connect_server, behind vanguard for the google.api.http REST routes) serves spec/orchestrator.proto,
and each generated proto SDK (out/proto/{go,rust,typescript}, or $POLYSDK_INTEROP_SDK_ROOT) calls
every unary and server-streaming method on it through its conformance driver: successes with
their decoded values, errors with details, deadlines, streams that end cleanly or in an error,
pagination. The server's fixtures and behaviour: tests/interop/README.md.

Locally a missing toolchain (go, cargo, node, grpcio-tools) skips; under CI=true it fails.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from polysdk_conformance.drivers import DriverUnavailableError
from tests.conftest import IN_CI, require_tool
from tests.interop import harness

LANGUAGES = ("go", "rust", "typescript")
TOOLS = {"go": ("go",), "rust": ("cargo",), "typescript": ("node",)}
BIG = 9007199254740993  # 2^53 + 1
MAX_INT64 = 9223372036854775807
# The server's fixed time: 2026-01-02T03:04:05.123456789Z, as (Unix seconds, nanoseconds).
FIXED = (int(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()), 123456789)
CONNECT = {"Connect-Protocol-Version": "1"}
Json = dict[str, Any]


def _skip_or_fail(message: str) -> None:
    if IN_CI:
        pytest.fail(f"{message}, and CI=true forbids skipping the interop tier")
    pytest.skip(message)


# --- The server -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def interop_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("interop")


@pytest.fixture(scope="session")
def connect_server(interop_logs: Path) -> Iterator[harness.Server]:
    go = require_tool("go")
    if importlib.util.find_spec("grpc_tools") is None:
        _skip_or_fail("grpcio-tools is not installed")
    try:
        binary = harness.build_server(go, interop_logs / "server-build.log")
        server = harness.start_server(binary, interop_logs / "server.stderr.log")
    except harness.SetupError as exc:
        pytest.fail(
            f"the connect-go server could not be set up: {exc}\n{_tail(interop_logs / 'server-build.log')}"
        )
    yield server
    server.stop()


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


# --- Smoke tests: the server speaks both bindings -------------------------------------------


def test_rest_route_of_an_annotated_method(connect_server: harness.Server) -> None:
    response = requests.get(f"{connect_server.url}/v1/agents/agt_1", timeout=30)
    assert response.status_code == 200, response.text
    agent = response.json()
    assert agent["id"] == "agt_1"
    assert agent["totalRuns"] == str(BIG)  # proto3 JSON: int64 as a string
    assert agent["createTime"] == "2026-01-02T03:04:05.123456789Z"


def test_rest_error_is_a_google_rpc_status(connect_server: harness.Server) -> None:
    response = requests.get(f"{connect_server.url}/v1/agents/agt_missing", timeout=30)
    assert response.status_code == 404
    status = response.json()
    assert status["code"] == 5  # NOT_FOUND
    assert status["details"][0]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert status["details"][0]["reason"] == "AGENT_NOT_FOUND"


def test_rest_pagination_and_query_parameters(connect_server: harness.Server) -> None:
    response = requests.get(f"{connect_server.url}/v1/agents", params={"pageSize": 2}, timeout=30)
    assert response.status_code == 200, response.text
    page = response.json()
    assert [agent["id"] for agent in page["agents"]] == ["agt_1", "agt_2"]
    assert page["nextPageToken"] == "offset:2"
    last = requests.get(
        f"{connect_server.url}/v1/agents", params={"pageSize": "2", "pageToken": "offset:4"}, timeout=30
    ).json()
    assert [agent["id"] for agent in last["agents"]] == ["agt_5"]
    assert "nextPageToken" not in last  # proto3 omits the empty string


def test_connect_unary_call(connect_server: harness.Server) -> None:
    response = requests.post(
        f"{connect_server.url}/polysdk.orchestrator.v1.MessagingService/GetMessage",
        json={"messageId": "msg_1"},
        headers=CONNECT,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    message = response.json()
    assert base64.b64decode(message["attachment"]) == bytes([0, 0xFF, 0xFE, 1]) + b"ps"
    assert message["role"] == "MESSAGE_ROLE_USER"


def test_connect_unary_error_with_details(connect_server: harness.Server) -> None:
    response = requests.post(
        f"{connect_server.url}/polysdk.orchestrator.v1.RunEventService/ListRunEvents",
        json={"runId": "run_missing"},
        headers=CONNECT,
        timeout=30,
    )
    assert response.status_code == 404
    error = response.json()
    assert error["code"] == "not_found"
    assert error["message"] == "run run_missing not found"
    assert error["details"][0]["type"] == "google.rpc.ErrorInfo"
    assert error["details"][0]["debug"]["metadata"] == {"run_id": "run_missing"}


def test_connect_unary_deadline(connect_server: harness.Server) -> None:
    response = requests.post(
        f"{connect_server.url}/polysdk.orchestrator.v1.MessagingService/GetMessage",
        json={"messageId": "msg_slow"},
        headers={**CONNECT, "Connect-Timeout-Ms": "50"},
        timeout=30,
    )
    assert response.json()["code"] == "deadline_exceeded"


def _stream(server: harness.Server, method: str, message: Json) -> list[tuple[int, Any]]:
    response = requests.post(
        f"{server.url}/polysdk.orchestrator.v1.{method}",
        data=harness.encode_envelope(message),
        headers={**CONNECT, "Content-Type": "application/connect+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/connect+json"
    return harness.decode_envelopes(response.content)


def test_connect_stream_ends_cleanly(connect_server: harness.Server) -> None:
    envelopes = _stream(connect_server, "RunEventService/StreamRunEvents", {"runId": "run_1"})
    assert [flags for flags, _ in envelopes] == [0, 0, 0, 0, 0, 2]
    assert [int(event["sequence"]) for _, event in envelopes[:-1]] == [1, 2, 3, 4, 5]
    assert "error" not in envelopes[-1][1]


def test_connect_stream_ends_in_an_error(connect_server: harness.Server) -> None:
    envelopes = _stream(connect_server, "RunEventService/StreamRunEvents", {"runId": "run_fail"})
    assert [flags for flags, _ in envelopes] == [0, 0, 2]
    end = envelopes[-1][1]
    assert end["error"]["code"] == "internal"
    assert end["error"]["details"][0]["type"] == "google.rpc.ErrorInfo"


# --- Checks on driver results ---------------------------------------------------------------


def instant(text: Any) -> tuple[int, int]:
    """An RFC 3339 date-time as (Unix seconds, nanoseconds), exactly (any fraction digits, any offset)."""
    assert isinstance(text, str), f"a date-time must be a string, got {text!r}"
    found = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", text)
    assert found, f"not an RFC 3339 date-time: {text!r}"
    zone = "+00:00" if found.group(3) == "Z" else found.group(3)
    seconds = int(datetime.fromisoformat(found.group(1) + zone).timestamp())
    return seconds, int((found.group(2) or "0").ljust(9, "0"))


def at(seconds: int = 0, nanos: int = 0) -> tuple[int, int]:
    """The server's fixed time plus an offset, as instant() gives it."""
    total = FIXED[1] + nanos
    return FIXED[0] + seconds + total // 1_000_000_000, total % 1_000_000_000


def duration_ns(text: Any) -> int:
    """A proto3 JSON duration ("1.5s", "30s", "-0.000000001s") in nanoseconds."""
    assert isinstance(text, str), f"a duration must be a string, got {text!r}"
    found = re.fullmatch(r"(-?)(\d+)(?:\.(\d{1,9}))?s", text)
    assert found, f"not a proto3 JSON duration: {text!r}"
    nanos = int(found.group(2)) * 1_000_000_000 + int((found.group(3) or "0").ljust(9, "0"))
    return -nanos if found.group(1) else nanos


def int64(value: Any) -> int:
    """An int64 as the SDK re-encoded it: a JSON string of digits (proto3 JSON) or an exact number."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    assert isinstance(value, int) and not isinstance(value, bool), f"not an exact int64: {value!r}"
    return value


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def ok(result: Json) -> Any:
    assert result.get("outcome") == "ok", f"expected success, got {json.dumps(result)[:1500]}"
    return result.get("value")


def failed(
    result: Json, kind: str, status: int | None = None, code: str | None = None, details: bool = False
) -> Json:
    assert result.get("outcome") == "error", f"expected an error, got {json.dumps(result)[:1500]}"
    error: Json = result["error"]
    assert error.get("kind") == kind, (
        f"kind {error.get('kind')!r}, expected {kind!r}: {json.dumps(error)[:1500]}"
    )
    if status is not None:
        assert error.get("status") == status, f"status {error.get('status')!r}, expected {status}: {error}"
    if code is not None:
        assert error.get("code") == code, f"code {error.get('code')!r}, expected {code!r}: {error}"
    if details:
        assert isinstance(error.get("details"), list) and error["details"], f"no details: {error}"
        assert error["details"][0].get("type", "").startswith("google.rpc."), error["details"]
    return error


def ids(items: list[Json], key: str = "id") -> list[Any]:
    return [item.get(key) for item in items]


# --- The cases: every unary and server-streaming method ------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    operation: str
    args: Json
    check: Callable[[Json], None]
    mode: str = "call"
    request: Json = field(default_factory=dict)

    def line(self, base_url: str) -> Json:
        return {
            "type": "case",
            "id": self.id,
            "base_url": base_url + "/",
            "operation": self.operation,
            "mode": self.mode,
            "args": self.args,
            "client": {"max_retries": 0, "timeout_ms": 30000},
            "request": self.request,
        }


def _health(result: Json) -> None:
    health = ok(result)
    assert health["status"] == "HEALTH_STATUS_DEGRADED"
    assert health["version"] == "1.4.2"
    assert duration_ns(health["uptime"]) == 3_723_500_000_001
    assert int64(health["checks"]["db"]["latencyMs"]) == BIG
    assert health["checks"]["queue"]["detail"] == "backlog of 12 runs"


def _agent_1(result: Json) -> None:
    agent = ok(result)
    assert agent["id"] == "agt_1" and agent["name"] == "planner"
    assert agent["status"] == "AGENT_STATUS_IDLE"
    assert agent["capabilities"] == ["web.search", "code.run"]
    assert agent["labels"] == {"team": "core", "tier": "gold"}
    assert agent["config"] == {
        "model": "m-1",
        "temperature": 0.5,
        "tools": ["a", "b"],
        "nested": {"ok": True, "none": None},
    }
    assert agent["maxConcurrency"] == 4
    assert int64(agent["totalRuns"]) == BIG
    assert instant(agent["createTime"]) == at()
    assert instant(agent["updateTime"]) == at(3600, 1)
    assert instant(agent["lastHeartbeatTime"]) == at(90)
    assert "webhookSecret" not in agent


def _list_agents_page(result: Json) -> None:
    page = ok(result)
    assert ids(page["agents"]) == ["agt_1", "agt_2"]
    assert page["agents"][1]["maxConcurrency"] == 0  # optional: present although zero
    assert page["nextPageToken"] == "offset:2"


def _agent_pages(result: Json) -> None:
    ok(result)
    assert [ids(page["agents"]) for page in result["pages"]] == [
        ["agt_1", "agt_2"],
        ["agt_3", "agt_4"],
        ["agt_5"],
    ]


def _agent_items(result: Json) -> None:
    ok(result)
    assert ids(result["items"]) == ["agt_1", "agt_2", "agt_3", "agt_4", "agt_5"]


def _registered(result: Json) -> None:
    agent = ok(result)
    assert agent["id"] == "agt_new" and agent["name"] == "scout"
    assert agent["status"] == "AGENT_STATUS_IDLE"
    assert agent["labels"] == {"team": "scouts"}
    assert agent["maxConcurrency"] == 2
    assert agent["config"] == {"depth": 2, "sources": ["web"]}
    assert "webhookSecret" not in agent  # INPUT_ONLY
    assert instant(agent["createTime"]) == at()


def _updated(result: Json) -> None:
    agent = ok(result)
    assert agent["id"] == "agt_1" and agent["name"] == "renamed"
    assert agent["labels"] == {"team": "edge"}
    assert agent["description"] == "Plans the work"  # not in the mask: unchanged
    assert instant(agent["updateTime"]) == at(3600)


def _no_body(result: Json) -> None:
    assert ok(result) is None


def _heartbeat(result: Json) -> None:
    ack = ok(result)
    assert ack["status"] == "AGENT_STATUS_BUSY"
    assert instant(ack["serverTime"]) == at()
    assert duration_ns(ack["nextHeartbeat"]) == 30_000_000_000


NEW_PLAN = {
    "goal": "Ship it",
    "agentId": "agt_1",
    "priority": 9,
    "steps": [
        {"stepId": "s1", "toolCall": {"tool": "code.run", "arguments": {"cmd": "make"}, "timeout": "2.5s"}},
        {"stepId": "s2", "waitForInput": {"prompt": "OK?", "timeoutSeconds": 0}},
    ],
    "estimatedCostUsd": 1.5,
}


def _created_plan(result: Json) -> None:
    plan = ok(result)
    assert plan["id"] == "pln_new" and plan["goal"] == "Ship it" and plan["priority"] == 9
    assert plan["steps"][0]["toolCall"]["arguments"] == {"cmd": "make"}
    assert duration_ns(plan["steps"][0]["toolCall"]["timeout"]) == 2_500_000_000
    assert plan["steps"][1]["waitForInput"] == {"prompt": "OK?", "timeoutSeconds": 0}
    assert "toolCall" not in plan["steps"][1] and "delegate" not in plan["steps"][1]
    assert plan["estimatedCostUsd"] == 1.5
    assert instant(plan["createTime"]) == at()


def _plan_1(result: Json) -> None:
    plan = ok(result)
    step_1, step_2, step_3 = plan["steps"]
    assert step_1["toolCall"]["tool"] == "web.search"
    assert step_1["toolCall"]["arguments"] == {"q": "polysdk", "limit": 3}
    assert duration_ns(step_1["toolCall"]["timeout"]) == 1_500_000_000
    assert set(step_1) == {"stepId", "toolCall"}  # one member of the oneof, no others
    nested = step_2["delegate"]["steps"][0]
    assert nested["waitForInput"] == {"prompt": "Which tone?", "timeoutSeconds": 0}
    assert step_3["waitForInput"] == {"prompt": "Publish?"}  # timeoutSeconds unset: absent
    assert plan["estimatedCostUsd"] == 0.25


def _plan_2(result: Json) -> None:
    plan = ok(result)
    assert plan["id"] == "pln_2"
    assert "estimatedCostUsd" not in plan  # the wrapper is unset: absent, not null
    assert plan.get("steps", []) == []


def _started(result: Json) -> None:
    run = ok(result)
    assert run["id"] == "run_new" and run["planId"] == "pln_1"
    assert run["status"] == "RUN_STATUS_QUEUED"
    assert run["labels"] == {"origin": "interop"}


def _runs_page(result: Json) -> None:
    page = ok(result)
    assert ids(page["runs"]) == ["run_1", "run_2"]
    assert int64(page["totalSize"]) == 5
    assert page["nextPageToken"] == "offset:2"


def _runs_filtered(result: Json) -> None:
    page = ok(result)
    assert ids(page["runs"]) == ["run_1", "run_3"]
    assert int64(page["totalSize"]) == 2


def _run_items(result: Json) -> None:
    ok(result)
    assert ids(result["items"]) == ["run_1", "run_2", "run_3", "run_4", "run_5"]


def _run_1(result: Json) -> None:
    run = ok(result)
    assert run["status"] == "RUN_STATUS_SUCCEEDED"
    assert int64(run["tokensUsed"]) == MAX_INT64
    assert run["costUsd"] == 1.25
    assert instant(run["endTime"]) == at(60, 1)
    assert "errorMessage" not in run


def _run_3(result: Json) -> None:
    assert ok(result)["errorMessage"] == "tool timed out"


def _run_4(result: Json) -> None:
    assert ok(result)["errorMessage"] == ""  # the wrapper is set to the empty string: present


def _cancelled(result: Json) -> None:
    run = ok(result)
    assert run["status"] == "RUN_STATUS_CANCELLED"
    assert run["labels"] == {"cancel_reason": "interop"}
    assert int64(run["tokensUsed"]) == BIG
    assert instant(run["endTime"]) == at(7200)


def _output(result: Json) -> None:
    assert ok(result) == {
        "summary": "done",
        "pages": 3,
        "items": [1, "two", None, True],
        "nested": {"x": 1.5},
    }


def _artifact_pages(result: Json) -> None:
    ok(result)
    assert [ids(page["artifacts"]) for page in result["pages"]] == [["art_1", "art_2"], ["art_3"]]


def _artifact_1(result: Json) -> None:
    artifact = ok(result)
    assert int64(artifact["sizeBytes"]) == BIG
    assert artifact["sha256"] == b64(hashlib.sha256(b"report").digest())
    assert artifact["mediaType"] == "application/pdf"


def _elicitation_1(result: Json) -> None:
    elicitation = ok(result)
    assert elicitation["state"] == "ELICITATION_STATE_PENDING"
    assert elicitation["requestedSchema"]["required"] == ["approve"]
    assert instant(elicitation["expireTime"]) == at(86400, 7)
    assert "response" not in elicitation


def _answered(result: Json) -> None:
    elicitation = ok(result)
    assert elicitation["state"] == "ELICITATION_STATE_ANSWERED"
    assert elicitation["response"] == {"action": "ELICITATION_ACTION_ACCEPT", "content": {"approve": True}}


def _event_page(result: Json) -> None:
    page = ok(result)
    assert [int64(event["sequence"]) for event in page["events"]] == [1, 2]
    assert page["nextPageToken"] == "offset:2"


def _event_pages(result: Json) -> None:
    ok(result)
    assert [[int64(e["sequence"]) for e in page["events"]] for page in result["pages"]] == [
        [1, 2],
        [3, 4],
        [5],
    ]


def _event_items(result: Json) -> None:
    ok(result)
    assert [int64(event["sequence"]) for event in result["items"]] == [1, 2, 3, 4, 5]


EVENT_TYPES = [
    "RUN_EVENT_TYPE_STATUS_CHANGED",
    "RUN_EVENT_TYPE_STEP_STARTED",
    "RUN_EVENT_TYPE_LOG",
    "RUN_EVENT_TYPE_STEP_FINISHED",
    "RUN_EVENT_TYPE_STATUS_CHANGED",
]


def _check_events(events: list[Json], run_id: str, sequences: list[int]) -> None:
    assert [int64(event["sequence"]) for event in events] == sequences
    for event in events:
        seq = int64(event["sequence"])
        assert event["runId"] == run_id
        assert instant(event["time"]) == at(seq, seq)  # nanoseconds survive
        assert event["data"] == {"index": seq, "message": f"event {seq} of {run_id}"}
        assert event["type"] == EVENT_TYPES[(seq - 1) % len(EVENT_TYPES)]


def _stream_all(result: Json) -> None:
    ok(result)
    _check_events(result["events"], "run_1", [1, 2, 3, 4, 5])


def _stream_after(result: Json) -> None:
    ok(result)
    _check_events(result["events"], "run_1", [4, 5])


def _stream_fails(result: Json) -> None:
    error = failed(result, "api", 500, "internal", details=True)
    assert "the run crashed" in error["message"]
    _check_events(result["events"], "run_fail", [1, 2])


def _stream_missing(result: Json) -> None:
    failed(result, "api", 404, "not_found", details=True)
    assert result.get("events", []) == []


def _stream_out_of_range(result: Json) -> None:
    error = failed(result, "api", 400, "out_of_range", details=True)
    assert f"after_sequence {BIG + 2} is past" in error["message"], error  # the int64 arrived exactly
    assert result.get("events", []) == []


def _stream_deadline(result: Json) -> None:
    failed(result, "timeout")
    _check_events(result["events"], "run_slow", [1])


def _sent(result: Json) -> None:
    message = ok(result)
    assert message["id"] == "msg_new" and message["content"] == "hi"
    assert message["role"] == "MESSAGE_ROLE_AGENT"
    assert base64.b64decode(message["attachment"]) == b"\x00\xff\xfe"
    assert instant(message["sendTime"]) == at()


def _message_1(result: Json) -> None:
    message = ok(result)
    assert message["id"] == "msg_1" and message["role"] == "MESSAGE_ROLE_USER"
    assert base64.b64decode(message["attachment"]) == b"\x00\xff\xfe\x01ps"
    assert instant(message["sendTime"]) == at(0, 1_000_001)


def _watched(result: Json) -> None:
    ok(result)
    messages = result["events"]
    assert ids(messages) == ["msg_1", "msg_2"]
    assert [base64.b64decode(m["attachment"]) for m in messages] == [
        b"\x00\xff\xfe\x01ps",
        b"\x00\xff\xfe\x02ps",
    ]
    assert [instant(m["sendTime"]) for m in messages] == [at(0, 1_000_001), at(0, 2_000_002)]


def _not_found(result: Json) -> None:
    failed(result, "api", 404, "not_found", details=True)


def _rest_not_found(result: Json) -> None:
    # vanguard answers a REST call's error as a google.rpc.Status: {"code": 5, "message", "details"}.
    error = failed(result, "api", 404)
    assert " not found" in error["message"], error


def _rest_invalid(result: Json) -> None:
    failed(result, "api", 400)


def _rest_status_code(result: Json) -> None:
    # The google.rpc.Status of a REST error read like a Connect error: code 5 → "not_found", details.
    error = failed(result, "api", 404, "not_found")
    assert isinstance(error.get("details"), list) and error["details"], f"no details: {error}"


def _invalid(result: Json) -> None:
    failed(result, "api", 400, "invalid_argument", details=True)


def _timeout(result: Json) -> None:
    failed(result, "timeout")


SLOW = {"timeout_ms": 500}

CASES = [
    # OrchestratorService, over the google.api.http REST routes
    Case("getHealth", "getHealth", {}, _health),
    Case(
        "registerAgent",
        "registerAgent",
        {
            "body": {
                "name": "scout",
                "labels": {"team": "scouts"},
                "webhookSecret": "s3cret",
                "maxConcurrency": 2,
                "config": {"depth": 2, "sources": ["web"]},
            }
        },
        _registered,
    ),
    Case("registerAgent/invalid", "registerAgent", {"body": {"description": "no name"}}, _rest_invalid),
    Case("listAgents/call", "listAgents", {"pageSize": 2}, _list_agents_page),
    Case("listAgents/pages", "listAgents", {"pageSize": 2}, _agent_pages, mode="pages"),
    Case("listAgents/items", "listAgents", {"pageSize": 2}, _agent_items, mode="items"),
    Case("getAgent", "getAgent", {"agent_id": "agt_1"}, _agent_1),
    Case("getAgent/not-found", "getAgent", {"agent_id": "agt_missing"}, _rest_not_found),
    Case("getAgent/google-rpc-status", "getAgent", {"agent_id": "agt_missing"}, _rest_status_code),
    Case(
        "updateAgent",
        "updateAgent",
        {
            "agent.id": "agt_1",
            "updateMask": "name,labels",
            "body": {"id": "agt_1", "name": "renamed", "labels": {"team": "edge"}, "description": "ignored"},
        },
        _updated,
    ),
    Case("deleteAgent", "deleteAgent", {"agent_id": "agt_2"}, _no_body),
    Case("deleteAgent/not-found", "deleteAgent", {"agent_id": "agt_missing"}, _rest_not_found),
    Case(
        "sendHeartbeat",
        "sendHeartbeat",
        {"agent_id": "agt_1", "body": {"activeRuns": 2, "load": 0.5}},
        _heartbeat,
    ),
    Case("createPlan", "createPlan", {"body": NEW_PLAN}, _created_plan),
    Case("getPlan/oneof", "getPlan", {"plan_id": "pln_1"}, _plan_1),
    Case("getPlan/absent-wrapper", "getPlan", {"plan_id": "pln_2"}, _plan_2),
    Case("startRun", "startRun", {"body": {"planId": "pln_1", "labels": {"origin": "interop"}}}, _started),
    Case("startRun/failed-precondition", "startRun", {"body": {"planId": "pln_missing"}}, _rest_invalid),
    Case("listRuns/call", "listRuns", {"pageSize": 2}, _runs_page),
    Case(
        "listRuns/filter",
        "listRuns",
        {"statuses": ["RUN_STATUS_SUCCEEDED", "RUN_STATUS_FAILED"]},
        _runs_filtered,
    ),
    Case("listRuns/items", "listRuns", {"pageSize": 2}, _run_items, mode="items"),
    Case("getRun/int64", "getRun", {"run_id": "run_1"}, _run_1),
    Case("getRun/wrapper", "getRun", {"run_id": "run_3"}, _run_3),
    Case("getRun/empty-wrapper", "getRun", {"run_id": "run_4"}, _run_4),
    Case("getRun/not-found", "getRun", {"run_id": "run_missing"}, _rest_not_found),
    Case("getRun/deadline", "getRun", {"run_id": "run_slow"}, _timeout, request=SLOW),
    Case("cancelRun", "cancelRun", {"run_id": "run_2", "body": {"reason": "interop"}}, _cancelled),
    Case("getRunOutput", "getRunOutput", {"run_id": "run_1"}, _output),
    Case(
        "listRunArtifacts/pages",
        "listRunArtifacts",
        {"run_id": "run_1", "pageSize": 2},
        _artifact_pages,
        mode="pages",
    ),
    Case("getArtifact", "getArtifact", {"artifact_id": "art_1"}, _artifact_1),
    Case("getElicitation", "getElicitation", {"elicitation_id": "eli_1"}, _elicitation_1),
    Case(
        "respondToElicitation",
        "respondToElicitation",
        {
            "elicitation_id": "eli_1",
            "body": {"action": "ELICITATION_ACTION_ACCEPT", "content": {"approve": True}},
        },
        _answered,
    ),
    Case(
        "respondToElicitation/answered",
        "respondToElicitation",
        {"elicitation_id": "eli_2", "body": {"action": "ELICITATION_ACTION_DECLINE"}},
        _rest_invalid,
    ),
    # RunEventService, over the Connect protocol
    Case("listRunEvents/call", "listRunEvents", {"body": {"runId": "run_1", "pageSize": 2}}, _event_page),
    Case(
        "listRunEvents/pages",
        "listRunEvents",
        {"body": {"runId": "run_1", "pageSize": 2}},
        _event_pages,
        mode="pages",
    ),
    Case(
        "listRunEvents/items",
        "listRunEvents",
        {"body": {"runId": "run_1", "pageSize": 2}},
        _event_items,
        mode="items",
    ),
    Case("listRunEvents/not-found", "listRunEvents", {"body": {"runId": "run_missing"}}, _not_found),
    Case("streamRunEvents", "streamRunEvents", {"body": {"runId": "run_1"}}, _stream_all, mode="stream"),
    Case(
        "streamRunEvents/after",
        "streamRunEvents",
        {"body": {"runId": "run_1", "afterSequence": 3}},
        _stream_after,
        mode="stream",
    ),
    Case(
        "streamRunEvents/int64-request",
        "streamRunEvents",
        {"body": {"runId": "run_1", "afterSequence": BIG + 2}},
        _stream_out_of_range,
        mode="stream",
    ),
    Case(
        "streamRunEvents/error",
        "streamRunEvents",
        {"body": {"runId": "run_fail"}},
        _stream_fails,
        mode="stream",
    ),
    Case(
        "streamRunEvents/not-found",
        "streamRunEvents",
        {"body": {"runId": "run_missing"}},
        _stream_missing,
        mode="stream",
    ),
    Case(
        "streamRunEvents/deadline",
        "streamRunEvents",
        {"body": {"runId": "run_slow"}},
        _stream_deadline,
        mode="stream",
        request=SLOW,
    ),
    # MessagingService, over the Connect protocol
    Case(
        "sendMessage",
        "sendMessage",
        {
            "body": {
                "message": {
                    "agentId": "agt_1",
                    "content": "hi",
                    "role": "MESSAGE_ROLE_AGENT",
                    "attachment": "AP/+",
                }
            }
        },
        _sent,
    ),
    Case("sendMessage/invalid", "sendMessage", {"body": {"message": {"agentId": "agt_1"}}}, _invalid),
    Case("getMessage/bytes", "getMessage", {"body": {"messageId": "msg_1"}}, _message_1),
    Case("getMessage/not-found", "getMessage", {"body": {"messageId": "msg_missing"}}, _not_found),
    Case("getMessage/deadline", "getMessage", {"body": {"messageId": "msg_slow"}}, _timeout, request=SLOW),
    Case(
        "watchMessages",
        "watchMessages",
        {"body": {"agentId": "agt_1", "maxMessages": 2}},
        _watched,
        mode="stream",
    ),
    Case(
        "watchMessages/not-found",
        "watchMessages",
        {"body": {"agentId": "agt_missing"}},
        _stream_missing,
        mode="stream",
    ),
]


def test_the_cases_call_every_unary_and_server_streaming_method() -> None:
    text = (harness.SPEC_DIR / harness.PROTO).read_text(encoding="utf-8")
    methods = {
        name[0].lower() + name[1:]
        for name, streams in re.findall(r"rpc\s+(\w+)\s*\(\s*(stream\s+)?\w", text)
        if not streams  # client and bidirectional streaming need HTTP/2: the SDKs leave them out
    }
    assert methods == {case.operation for case in CASES}


# --- Every SDK against the server -----------------------------------------------------------


@pytest.fixture(scope="module", params=LANGUAGES)
def sdk_results(
    request: pytest.FixtureRequest, connect_server: harness.Server, interop_logs: Path
) -> dict[str, Json]:
    """One SDK's driver, built once, runs every case at once; the results by case id."""
    language: str = request.param
    for tool in TOOLS[language]:
        require_tool(tool)
    sdk = harness.sdk_root() / language
    if not sdk.is_dir():
        _skip_or_fail(
            f"no {language} SDK at {sdk}; generate the proto SDKs (or set POLYSDK_INTEROP_SDK_ROOT)"
        )
    try:
        with harness.driver(language, interop_logs) as run:
            results = run.run([case.line(connect_server.url) for case in CASES])
    except DriverUnavailableError as exc:
        pytest.fail(
            f"the {language} driver is unavailable: {exc}\n{_tail(interop_logs / f'build-{language}.log')}"
        )
    # Kept for the report of a failing run: every result as the driver sent it.
    (interop_logs / f"results-{language}.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return results


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_sdk_against_connect_go(sdk_results: dict[str, Json], case: Case) -> None:
    """What each SDK surfaced for the call against connect-go passes the case's check."""
    case.check(sdk_results[case.id])
