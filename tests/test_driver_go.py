"""The Go conformance driver (cmd/polysdk-driver): the view's per-operation decisions, and the
built driver speaking conformance/PROTOCOL.md against the mock orchestrator."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from polysdk import ir
from polysdk.decisions import build_decisions
from polysdk.plan import Options
from polysdk.views import go as go_view
from polysdk.views.go import driver as go_driver

from .conftest import ROOT, api_from_text, require_tool
from .load_lines import AGENT, BIG, check_load_lines

OUT = ROOT / "out" / "go"


def _driver(api: ir.Api) -> go_driver.GoDriver:
    plan = go_view.plan(build_decisions(api), Options(drivers=True))
    (file,) = [f for f in plan.files if f.output == go_driver.OUTPUT]
    driver = file.context["driver"]
    assert isinstance(driver, go_driver.GoDriver)
    return driver


def _op(driver: go_driver.GoDriver, operation_id: str) -> go_driver.DriverOperation:
    return next(op for op in driver.operations if op.operation_id == json.dumps(operation_id))


def test_every_operation_is_dispatched_with_the_modes_the_sdk_offers(orchestrator_api: ir.Api) -> None:
    driver = _driver(orchestrator_api)
    assert driver.module == '"github.com/polysdk/orchestrator-sdk-go"'
    assert {op.operation_id for op in driver.operations} == {
        json.dumps(op.id) for op in orchestrator_api.operations
    }
    modes = {op.operation_id: [m.name for m in op.modes] for op in driver.operations}
    assert modes['"listAgents"'] == ["call", "pages", "items"]
    assert modes['"listRuns"'] == ["call", "pages", "items"]  # Link header pagination
    assert modes['"streamRunEvents"'] == ["stream"]
    assert modes['"getAgent"'] == ["call"]
    delete = _op(driver, "deleteAgent")
    assert delete.modes[0].expr == "nil, c.Agents.Delete(ctx, p, o...)"
    assert _op(driver, "getHealth").params_type == ""
    assert [m.iteration for m in _op(driver, "listAgents").modes] == [False, True, True]
    assert driver.imports == ['"context"', '"iter"', 'sdk "github.com/polysdk/orchestrator-sdk-go"']


def test_arguments_are_paired_with_their_contract_names(orchestrator_api: ir.Api) -> None:
    driver = _driver(orchestrator_api)
    stream = _op(driver, "streamRunEvents")
    assert [(a.key, a.field) for a in stream.args] == [
        ('"run_id"', "RunID"),
        ('"Last-Event-ID"', "LastEventID"),
    ]
    upload = _op(driver, "uploadArtifact")
    assert [(a.source, a.method, a.key, a.var) for a in upload.args][-1] == ("a", "reader", '"body"', "bin2")
    assert upload.idempotency_key == '"Idempotency-Key"'
    # A body reader is consumed by the call that sends it: every call gets its own (params()).
    assert upload.binary == [upload.args[-1]]
    assert upload.modes[0].expr == "c.Artifacts.Upload(ctx, params(), o...)"
    multipart = _op(driver, "uploadArtifactMultipart")
    assert multipart.parts
    assert [(a.source, a.method, a.key, a.field, a.var) for a in multipart.args] == [
        ("a", "decode", '"run_id"', "RunID", ""),
        ("parts", "file", '"file"', "File", "bin1"),
        ("parts", "decode", '"metadata"', "Metadata", ""),
    ]
    assert _op(driver, "getAgent").binary == [] and _op(driver, "getAgent").modes[0].expr == (
        "c.Agents.Get(ctx, p, o...)"
    )
    assert _op(driver, "getAgentStatus").modes[0].deprecated  # staticcheck SA1019 is silenced


def test_contract_text_reaches_the_driver_only_as_literals_and_comments(tmp_path: Path) -> None:
    hostile_id = 'x"y\n}func init(){panic(1)}//\u2028'
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "Acme", "version": "1"},
        "paths": {
            "/things/{id}": {
                "get": {
                    "operationId": hostile_id,
                    "parameters": [
                        {"name": 'i"d\\', "in": "query", "schema": {"type": "string"}},
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    ],
                    "responses": {"204": {"description": "none"}},
                }
            }
        },
    }
    driver = _driver(api_from_text(tmp_path, json.dumps(spec)))
    (op,) = driver.operations
    assert op.operation_id == '"x\\"y\\n}func init(){panic(1)}//\\u2028"'
    assert all(line.startswith("//") and "\n" not in line and "\u2028" not in line for line in op.doc)
    assert sorted(a.key for a in op.args) == ['"i\\"d\\\\"', '"id"']


def test_a_contract_without_operations_imports_nothing(tmp_path: Path) -> None:
    text = "openapi: 3.1.0\ninfo: {title: Empty, version: '1'}\npaths: {}\n"
    driver = _driver(api_from_text(tmp_path, text))
    assert driver.operations == [] and driver.imports == []


def test_the_driver_is_emitted_only_when_asked_for(orchestrator_api: ir.Api) -> None:
    plain = go_view.plan(build_decisions(orchestrator_api), Options())
    outputs = [f.output for f in plain.files] + [r.output for r in plain.runtime]
    assert not any(o.startswith("cmd/") for o in outputs)
    with_driver = go_view.plan(build_decisions(orchestrator_api), Options(drivers=True))
    engine = [r for r in with_driver.runtime if r.output.startswith("cmd/")]
    assert [r.source for r in engine] == [f"go/driver/{name}" for name in go_driver.ENGINE_FILES]
    assert go_driver.ENGINE_FILES == ("engine.go", "engine_test.go", "load.go", "load_test.go")
    assert all(
        r.replace == ((go_driver.ENGINE_IMPORT, 'sdk "github.com/polysdk/orchestrator-sdk-go"'),)
        for r in engine
    )
    for name in go_driver.ENGINE_FILES:  # the placeholder the replacement needs is really there
        assert go_driver.ENGINE_IMPORT in (ROOT / "templates" / "go" / "driver" / name).read_text()


@pytest.mark.toolchain
def test_the_hostile_driver_compiles(tmp_path: Path) -> None:
    from polysdk.generate import Request, generate

    from .conftest import FIXTURES

    go = require_tool("go")
    generate(
        Request(
            spec=FIXTURES / "hostile.yaml",
            out_dir=tmp_path / "out",
            languages=("go",),
            options=Options(drivers=True),
        )
    )
    subprocess.run([go, "vet", "./cmd/..."], cwd=tmp_path / "out" / "go", check=True, timeout=600)


# ---------------------------------------------------------------------------------------------
# End to end: the driver built from out/go, against the mock orchestrator


def _step(method: str, path: str, response: dict[str, Any], **request: Any) -> dict[str, Any]:
    return {"request": {"method": method, "path": path, **request}, "response": response}


def _case(case_id: str, base_url: str | None, operation: str, **extra: Any) -> dict[str, Any]:
    client = {"bearer_token": "tok", "max_retries": 0, "timeout_ms": 5000}
    return {
        "type": "case",
        "id": case_id,
        "base_url": base_url,
        "operation": operation,
        "client": client,
        **extra,
    }


@pytest.fixture(scope="module")
def driver_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = require_tool("go")
    binary = tmp_path_factory.mktemp("driver") / "polysdk-driver"
    subprocess.run([go, "build", "-o", str(binary), "./cmd/polysdk-driver"], cwd=OUT, check=True, timeout=600)
    return binary


@pytest.mark.toolchain
def test_driver_runs_cases_against_the_mock(driver_binary: Path) -> None:
    from polysdk_conformance.mock import MockServer

    with MockServer() as mock:
        get_ok = mock.register(
            {
                "steps": [
                    _step(
                        "GET",
                        "/v1/agents/a%2Fb",
                        {"kind": "json", "headers": {"X-Request-Id": "r1"}, "body": AGENT},
                        headers={"Authorization": "Bearer tok", "X-Call": "1"},
                    )
                ]
            }
        )
        not_found = mock.register(
            {
                "steps": [
                    _step(
                        "GET",
                        "/v1/agents/missing",
                        {
                            "kind": "json",
                            "status": 404,
                            "headers": {"Content-Type": "application/problem+json"},
                            "body": {
                                "title": "Not found",
                                "status": 404,
                                "code": "not_found",
                                "request_id": "q9",
                            },
                        },
                    )
                ]
            }
        )
        pages = mock.register(
            {
                "steps": [
                    _step(
                        "GET",
                        "/v1/agents",
                        {
                            "kind": "json",
                            "body": {"data": [AGENT, AGENT], "next_cursor": "c2", "has_more": True},
                        },
                        query="limit=2",
                    ),
                    _step(
                        "GET",
                        "/v1/agents",
                        {"kind": "json", "body": {"data": [AGENT], "next_cursor": None, "has_more": False}},
                        query="limit=2&cursor=c2",
                    ),
                ]
            }
        )
        event = {
            "type": "run.started",
            "sequence": BIG,
            "run_id": "r",
            "occurred_at": "2025-01-01T00:00:00Z",
            "agent_id": "agt_1",
        }
        stream = mock.register(
            {
                "steps": [
                    _step(
                        "GET",
                        "/v1/runs/r/events:stream",
                        {
                            "kind": "sse",
                            "headers": {"Content-Type": "text/event-stream"},
                            "events": [
                                {"id": "1", "data": json.dumps(event)},
                                {"comment": "keep-alive"},
                                {"id": "2", "data": json.dumps(event)},
                            ],
                            # Held open: a consumer that did not stop after two events would hang.
                            "hold": True,
                        },
                    )
                ]
            }
        )
        cases = [
            _case(
                "get/ok",
                mock.url(get_ok),
                "getAgent",
                args={"agent_id": "a/b"},
                request={"headers": {"X-Call": "1"}},
            ),
            _case("get/404", mock.url(not_found), "getAgent", args={"agent_id": "missing"}),
            _case("list/items", mock.url(pages), "listAgents", mode="items", args={"limit": 2}),
            _case(
                "stream/take",
                mock.url(stream),
                "streamRunEvents",
                mode="stream",
                args={"run_id": "r"},
                take=2,
            ),
            _case(
                "cancel/before-send",
                mock.url(mock.register({"steps": []})),
                "getAgent",
                args={"agent_id": "a"},
                cancel={"before_send": True},
            ),
            _case("bad/operation", None, "noSuchOperation"),
            _case("bad/args", None, "getAgent", args={"agent_id": 5}),
        ]
        lines = [json.dumps(c) for c in cases] + ["this is not JSON", '{"id": "bad/type", "take": "x"}']
        run = subprocess.run(
            [str(driver_binary)],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        out = [json.loads(line) for line in run.stdout.splitlines()]
        for token in (get_ok, not_found, pages, stream):
            assert mock.unexpected(token) == []

    hello = out[0]
    assert hello["type"] == "hello" and hello["protocol"] == 1 and hello["sdk"] == "go"
    assert hello["sdk_name"] == "github.com/polysdk/orchestrator-sdk-go" and hello["sdk_version"] == "0.1.0"
    assert set(hello["capabilities"]) == set(go_driver.CAPABILITIES) and "load" in hello["capabilities"]
    results = {r["id"]: r for r in out[1:] if r["type"] == "result"}
    logs = [r for r in out[1:] if r["type"] == "log"]
    assert len(results) == 8 and len(logs) == 1, out  # every case answered once, the garbage logged

    ok = results["get/ok"]
    assert ok["outcome"] == "ok", ok
    assert ok["value"]["id"] == "a/b" and ok["value"]["last_heartbeat_at"] is None
    assert "description" not in ok["value"]  # absent stays absent
    assert ok["http_status"] == 200 and ok["response_headers"]["x-request-id"] == "r1"
    assert ok["attempts"] == 1 and ok["elapsed_ms"] >= 0

    error = results["get/404"]
    assert error["outcome"] == "error"
    assert {k: error["error"][k] for k in ("kind", "status", "code", "request_id")} == {
        "kind": "api",
        "status": 404,
        "code": "not_found",
        "request_id": "q9",
    }
    assert "404" in error["error"]["message"] and error["error"]["debug"]

    items = results["list/items"]
    assert items["outcome"] == "ok", items
    assert [item["id"] for item in items["items"]] == ["a/b"] * 3

    events = results["stream/take"]
    assert events["outcome"] == "ok", events
    assert [e["sequence"] for e in events["events"]] == [BIG, BIG]  # int64 exact, stopped after 2

    cancelled = results["cancel/before-send"]
    assert cancelled["outcome"] == "error" and cancelled["error"]["kind"] == "cancelled"
    assert cancelled["attempts"] == 0

    assert results["bad/operation"]["outcome"] == "driver_error"
    assert "noSuchOperation" in results["bad/operation"]["message"]
    assert results["bad/args"]["outcome"] == "driver_error"
    assert "agent_id" in results["bad/args"]["message"]
    assert results["bad/type"]["outcome"] == "driver_error"


# ---------------------------------------------------------------------------------------------
# End to end on the protobuf contract: Connect calls and streams through the driver


@pytest.fixture(scope="module")
def proto_driver_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from polysdk.generate import Request, generate

    from .conftest import PROTO_SPEC

    go = require_tool("go")
    root = tmp_path_factory.mktemp("proto-driver")
    generate(Request(spec=PROTO_SPEC, out_dir=root / "out", languages=("go",), options=Options(drivers=True)))
    binary = root / "polysdk-driver"
    sdk = root / "out" / "go"
    subprocess.run([go, "build", "-o", str(binary), "./cmd/polysdk-driver"], cwd=sdk, check=True, timeout=600)
    return binary


MESSAGE = {"id": "msg_1", "agentId": "agt_1", "role": "MESSAGE_ROLE_AGENT", "content": "hi"}
RUN_EVENT = {"sequence": str(BIG), "runId": "run_1", "type": "RUN_EVENT_TYPE_LOG"}
MESSAGING = "/polysdk.orchestrator.v1.MessagingService"
RUN_EVENTS = "/polysdk.orchestrator.v1.RunEventService"


@pytest.mark.toolchain
def test_proto_driver_speaks_connect(proto_driver_binary: Path) -> None:
    from polysdk_conformance.mock import MockServer

    def scenario(*steps: dict[str, Any]) -> dict[str, Any]:
        return {"steps": list(steps), "validate": False}

    connect = {"Connect-Protocol-Version": "1"}
    details = [{"type": "google.rpc.BadRequest", "value": "", "debug": {"field": "messageId"}}]
    with MockServer() as mock:
        unary = mock.register(
            scenario(
                _step(
                    "POST",
                    f"{MESSAGING}/GetMessage",
                    {"kind": "json", "body": MESSAGE},
                    body_json={"messageId": "msg_1"},
                    headers=connect,
                )
            )
        )
        error = mock.register(
            scenario(
                _step(
                    "POST",
                    f"{MESSAGING}/GetMessage",
                    {
                        "kind": "json",
                        "status": 400,
                        "body": {"code": "invalid_argument", "message": "bad id", "details": details},
                    },
                )
            )
        )
        stream = mock.register(
            scenario(
                _step(
                    "POST",
                    f"{RUN_EVENTS}/StreamRunEvents",
                    {
                        "kind": "connect_stream",
                        "messages": [RUN_EVENT, {**RUN_EVENT, "sequence": BIG + 1}],
                        "end": {"error": {"code": "not_found", "message": "run gone"}},
                    },
                    body_json={"runId": "run_1", "afterSequence": str(BIG)},
                    headers=connect,
                )
            )
        )
        pages = mock.register(
            scenario(
                _step(
                    "POST",
                    f"{RUN_EVENTS}/ListRunEvents",
                    {"kind": "json", "body": {"events": [RUN_EVENT], "nextPageToken": "p2"}},
                    body_json={"runId": "run_1", "pageSize": 1},
                ),
                _step(
                    "POST",
                    f"{RUN_EVENTS}/ListRunEvents",
                    {"kind": "json", "body": {"events": [RUN_EVENT], "nextPageToken": ""}},
                    body_json={"runId": "run_1", "pageSize": 1, "pageToken": "p2"},
                ),
            )
        )
        cases = [
            _case("unary", mock.url(unary), "getMessage", args={"body": {"messageId": "msg_1"}}),
            _case("error", mock.url(error), "getMessage", args={"body": {"messageId": "?"}}),
            _case(
                "stream",
                mock.url(stream),
                "streamRunEvents",
                mode="stream",
                args={"body": {"runId": "run_1", "afterSequence": BIG}},
            ),
            _case(
                "items",
                mock.url(pages),
                "listRunEvents",
                mode="items",
                args={"body": {"runId": "run_1", "pageSize": 1}},
            ),
        ]
        run = subprocess.run(
            [str(proto_driver_binary)],
            input="\n".join(json.dumps(c) for c in cases) + "\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        for token in (unary, error, stream, pages):
            assert mock.unexpected(token) == []
    results = {r["id"]: r for r in map(json.loads, run.stdout.splitlines()) if r["type"] == "result"}
    assert results["unary"]["outcome"] == "ok" and results["unary"]["value"] == MESSAGE, results["unary"]
    failed = results["error"]["error"]
    assert (failed["kind"], failed["status"], failed["code"], failed["details"]) == (
        "api",
        400,
        "invalid_argument",
        details,
    ), failed
    streamed = results["stream"]
    assert [e["sequence"] for e in streamed["events"]] == [str(BIG), str(BIG + 1)]  # quoted, exact
    assert (streamed["outcome"], streamed["error"]["kind"], streamed["error"]["status"]) == (
        "error",
        "api",
        404,
    )
    assert streamed["error"]["code"] == "not_found" and "details" not in streamed["error"]
    items = results["items"]
    assert items["outcome"] == "ok" and items["items"] == [RUN_EVENT, RUN_EVENT], items


# ---------------------------------------------------------------------------------------------
# Load lines (conformance/PROTOCOL.md, "Load lines"): the built driver under load against the
# mock's load scenario, through the SDK and through net/http


@pytest.mark.toolchain
def test_driver_runs_load_lines_against_the_mock(driver_binary: Path) -> None:
    """The load lines through the Go SDK and through net/http (tests/load_lines.py)."""
    check_load_lines([str(driver_binary)])
