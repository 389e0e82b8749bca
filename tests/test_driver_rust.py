"""The Rust conformance driver: the view's decisions, and the built driver against the mock."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from polysdk import ir
from polysdk.decisions import build_decisions
from polysdk.plan import Options
from polysdk.views import rust
from polysdk.views.common import DRIVER_CAPABILITIES, GET_BODY_CAPABILITY
from polysdk.views.rust import driver as rust_driver

from .conftest import ROOT, api_from_text, require_tool
from .load_lines import AGENT, RUN_ID, load_line, load_scenario, run_loads

CARGO_TARGET = Path(os.environ.get("POLYSDK_CARGO_TARGET", ROOT / ".cache" / "cargo-target"))
OUT_RUST = ROOT / "out" / "rust"


def _driver(api: ir.Api) -> rust_driver.RustDriver:
    files = [
        f
        for f in rust.plan(build_decisions(api), Options(drivers=True)).files
        if f.output == rust_driver.DISPATCH
    ]
    assert len(files) == 1, "plan() hooks in exactly one generated driver file"
    driver = files[0].context["driver"]
    assert isinstance(driver, rust_driver.RustDriver)
    return driver


def _operation(driver: rust_driver.RustDriver, op_id: str) -> rust_driver.DriverOperation:
    return next(op for op in driver.operations if op.id == json.dumps(op_id))


# View ---------------------------------------------------------------------------------------------


def test_the_driver_is_emitted_only_when_asked_for(orchestrator_api: ir.Api) -> None:
    without = rust.plan(build_decisions(orchestrator_api), Options())
    outputs = [f.output for f in without.files] + [r.output for r in without.runtime]
    assert not any(o.startswith("examples/") for o in outputs)
    plan = rust.plan(build_decisions(orchestrator_api), Options(drivers=True))
    engine = [(r.source, r.output) for r in plan.runtime if r.output.startswith("examples/")]
    assert engine == [
        ("rust/driver/main.rs", "examples/polysdk_driver/main.rs"),
        ("rust/driver/engine.rs", "examples/polysdk_driver/engine.rs"),
    ]


def test_orchestrator_driver_covers_every_operation(orchestrator_api: ir.Api) -> None:
    driver = _driver(orchestrator_api)
    assert sorted(d.id for d in driver.dispatch) == sorted(
        json.dumps(op.id) for op in orchestrator_api.operations
    )
    assert all(d.function.startswith("op_") and not d.unsupported for d in driver.dispatch)
    assert driver.capabilities == [json.dumps(c) for c in (*DRIVER_CAPABILITIES, GET_BODY_CAPABILITY, "load")]
    assert driver.sdk_name == '"orchestrator-sdk"' and driver.crate_ident == "orchestrator_sdk"


def test_modes_follow_the_operations_roles(orchestrator_api: ir.Api) -> None:
    driver = _driver(orchestrator_api)
    modes = {op.id: [arm.mode for arm in op.arms] for op in driver.operations}
    assert modes['"listAgents"'] == ["Call", "Pages", "Items"]
    assert modes['"streamRunEvents"'] == ["Stream"]
    assert modes['"getAgent"'] == ["Call"]
    assert _operation(driver, "downloadArtifact").arms[0].runner == "call_binary"
    assert _operation(driver, "listAgents").arms[2] == rust_driver.DriverArm("Items", "items", "b.items()")


def test_arguments_are_decoded_by_contract_name_into_the_sdk_types(orchestrator_api: ir.Api) -> None:
    driver = _driver(orchestrator_api)
    get = _operation(driver, "getAgent")
    assert get.start == (
        'client.agents().get(crate::engine::need(a.arg::<String>("agent_id")?, "agent_id")?)'
    )
    assert get.binding == "let b" and get.setters == []
    listing = _operation(driver, "listAgents")
    assert listing.binding == "let mut b"
    assert 'if let Some(v) = a.arg::<Vec<AgentStatus>>("status")? { b = b.status(v); }' in listing.setters
    upload = _operation(driver, "uploadArtifact")
    assert 'a.arg::<String>("filename")' in upload.start and "a.body_bytes()" in upload.start
    multipart = _operation(driver, "uploadArtifactMultipart")
    assert 'a.part_file("file")' in multipart.start
    assert any('a.part::<ArtifactMetadata>("metadata")' in line for line in multipart.setters)
    token = _operation(driver, "createAccessToken")
    assert "a.body::<TokenRequest>()" in token.start


def test_hostile_names_and_text_stay_in_literals(hostile_api: ir.Api) -> None:
    driver = _driver(hostile_api)
    assert driver.dispatch, "the hostile contract has operations"
    for item in driver.dispatch:
        assert item.id.startswith('"') and item.id.endswith('"') and "\n" not in item.id
    for op in driver.operations:
        assert op.function.startswith("op_") and op.function[3:].isdigit()
        assert "\n" not in op.start and all("\n" not in line for line in op.setters)


def test_a_body_the_driver_cannot_build_answers_unsupported(tmp_path: Path) -> None:
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "Raw", "version": "1"},
        "paths": {
            "/raw": {
                "post": {
                    "operationId": "postRaw",
                    "requestBody": {
                        "required": True,
                        "content": {"multipart/form-data": {"schema": {"type": "string"}}},
                    },
                    "responses": {"204": {"description": "done"}},
                }
            }
        },
    }
    api = api_from_text(tmp_path, yaml.safe_dump(spec, sort_keys=False))
    driver = _driver(api)
    assert driver.operations == []
    assert driver.dispatch[0].function == ""
    assert "cannot build the 'body' body" in driver.dispatch[0].unsupported


def test_a_contract_without_operations_still_gets_a_driver(tmp_path: Path) -> None:
    spec = {"openapi": "3.1.0", "info": {"title": "Empty", "version": "1"}, "paths": {}}
    driver = _driver(api_from_text(tmp_path, yaml.safe_dump(spec)))
    assert driver.dispatch == [] and driver.operations == []


# End to end ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def driver_binary() -> Path:
    cargo = require_tool("cargo")
    env = {**os.environ, "CARGO_TARGET_DIR": str(CARGO_TARGET)}
    build = [cargo, "build", "--quiet", "--example", "polysdk_driver"]
    done = subprocess.run(build, cwd=OUT_RUST, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-6000:]
    return CARGO_TARGET / "debug" / "examples" / "polysdk_driver"


@pytest.mark.toolchain
def test_engine_unit_tests_pass() -> None:
    """The hand-written engine's own #[cfg(test)] tests, inside the generated orchestrator SDK."""
    cargo = require_tool("cargo")
    env = {**os.environ, "CARGO_TARGET_DIR": str(CARGO_TARGET)}
    test = [cargo, "test", "--quiet", "--example", "polysdk_driver"]
    done = subprocess.run(
        test, cwd=OUT_RUST, env=env, capture_output=True, text=True, check=False, timeout=1500
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    assert "test result: ok" in done.stdout


def _run(binary: Path, lines: list[str]) -> list[dict[str, Any]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRATOR_")}
    done = subprocess.run(
        [str(binary)],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=60,
        env=clean,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.toolchain
def test_driver_runs_cases_against_the_mock(driver_binary: Path) -> None:
    from polysdk_conformance.mock import MockServer

    health = {"status": "sleepy", "version": "1.2.3", "uptime_seconds": 9007199254740993, "checks": {}}
    problem = {"title": "Not found", "code": "agent_not_found", "detail": "no such agent"}
    with MockServer() as mock:
        ok = mock.register(
            {
                "steps": [
                    {
                        "request": {"method": "GET", "path": "/health"},
                        "response": {"kind": "json", "headers": {"X-Request-Id": "req_1"}, "body": health},
                    }
                ]
            }
        )
        missing = mock.register(
            {
                "steps": [
                    {
                        "request": {"method": "GET", "path": "/v1/agents/a%2Fb"},
                        "response": {
                            "kind": "json",
                            "status": 404,
                            "headers": {"Content-Type": "application/problem+json", "X-Request-Id": "req_2"},
                            "body": problem,
                        },
                    }
                ]
            }
        )
        slow = mock.register(
            {
                "steps": [
                    {
                        "request": {"method": "GET", "path": "/metrics"},
                        "response": {"kind": "text", "body": "up 1\n", "delay_ms": 400},
                    }
                ]
            }
        )
        cases = [
            {
                "type": "case",
                "id": "ok",
                "base_url": None,
                "operation": "getHealth",
                "args": {},
                "client": {"env": {"ORCHESTRATOR_BASE_URL": mock.url(ok)}, "max_retries": 0},
            },
            {
                "type": "case",
                "id": "not-found",
                "base_url": mock.url(missing),
                "operation": "getAgent",
                "args": {"agent_id": "a/b"},
                "client": {"bearer_token": "tok", "max_retries": 0},
            },
            {"type": "case", "id": "slow", "base_url": mock.url(slow), "operation": "getMetrics"},
            {"type": "case", "id": "unknown-op", "base_url": mock.url(slow), "operation": "noSuchThing"},
            {"type": "case", "id": "bad-arg", "operation": "getAgent", "args": {"agent_id": 5}},
        ]
        lines = [json.dumps(case) for case in cases] + ["{not json"]
        messages = _run(driver_binary, lines)
        journal = mock.journal(missing)

    hello = messages[0]
    assert hello["type"] == "hello" and hello["protocol"] == 1 and hello["sdk"] == "rust"
    assert hello["sdk_name"] == "orchestrator-sdk" and "stream" in hello["capabilities"]
    assert hello["capabilities"] == list(rust_driver.CAPABILITIES)
    logs = [m for m in messages[1:] if m["type"] == "log"]
    results = {m["id"]: m for m in messages[1:] if m["type"] == "result"}
    assert len(logs) == 1 and "unreadable" in logs[0]["message"]
    assert sorted(results) == sorted(case["id"] for case in cases), "EOF waits for every case"

    assert results["ok"]["outcome"] == "ok", results["ok"]
    assert results["ok"]["value"] == health, "int64 exact, unknown enum value kept"
    assert results["ok"]["http_status"] == 200 and results["ok"]["attempts"] == 1
    assert results["ok"]["response_headers"]["x-request-id"] == "req_1"

    error = results["not-found"]
    assert error["outcome"] == "error" and error["attempts"] == 1
    assert error["error"]["kind"] == "api" and error["error"]["status"] == 404
    assert error["error"]["code"] == "agent_not_found" and error["error"]["request_id"] == "req_2"
    assert "no such agent" in error["error"]["message"] and "tok" not in error["error"]["debug"]
    assert journal[0]["path"].endswith("/v1/agents/a%2Fb")

    assert results["slow"]["outcome"] == "ok" and results["slow"]["value"] == "up 1\n"
    assert results["slow"]["elapsed_ms"] >= 400
    assert results["unknown-op"]["outcome"] == "driver_error"
    assert results["bad-arg"]["outcome"] == "driver_error" and "agent_id" in results["bad-arg"]["message"]


# Load lines (conformance/PROTOCOL.md, "Load lines"): the built driver under load against the
# mock's load scenario, through the SDK and through reqwest.


def _load_scenario() -> dict[str, Any]:
    # Every list answer has a next page and the walk below asks for two pages, so the SDK's
    # `pages` mode follows a cursor (the raw entry sends both requests).
    return load_scenario(list_page={"data": [AGENT], "next_cursor": "c2", "has_more": True})


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
        "name": "create",
        "operation": "registerAgent",
        "mode": "call",
        "args": {"body": {"name": "a"}},
        "request": {"idempotency_key": "k-1"},
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
SEQUENCE = [0, 0, 1, 0, 2, 0, 3, 0]  # get 5, create 1, stream 1, download 1


def _load_line(load_id: str, base_url: str, kind: str, model: str, requests: int) -> dict[str, Any]:
    """A load line over this test's mix (tests/load_lines.py's Go and TypeScript mix adds a list)."""
    return load_line(load_id, base_url, kind, model, requests, LOAD_MIX, SEQUENCE)


@pytest.mark.toolchain
def test_driver_runs_load_lines_against_the_mock(driver_binary: Path) -> None:
    from polysdk_conformance.load.histogram import Histogram
    from polysdk_conformance.mock import MockServer

    requests = 80  # ten rounds of the sequence: get 50, create 10, stream 10, download 10
    list_mix = {
        "name": "list",
        "operation": "listAgents",
        "mode": "pages",
        "args": {"limit": 1},
        "raw": [
            {"method": "GET", "path": "v1/agents?limit=1", "headers": AUTH},
            {"method": "GET", "path": "v1/agents?cursor=c2&limit=1", "headers": AUTH},
        ],
    }
    with MockServer() as mock:
        tokens = {name: mock.register(_load_scenario()) for name in ("sdk", "raw", "open", "pages")}
        lines = [
            _load_line("sdk", mock.url(tokens["sdk"]), "sdk", "closed", requests),
            _load_line("raw", mock.url(tokens["raw"]), "raw", "closed", requests),
            _load_line("open", mock.url(tokens["open"]), "sdk", "open", requests),
            {
                **_load_line("pages", mock.url(tokens["pages"]), "raw", "closed", 3),
                "mix": [list_mix],
                "sequence": [0],
            },
            {
                **_load_line("bad", mock.url(tokens["sdk"]), "sdk", "closed", 1),
                "mix": [{"name": "x", "operation": "noSuchOperation"}],
                "sequence": [0],
            },
        ]
        hello, answers = run_loads([str(driver_binary)], lines)
        reports = {name: mock.report(token) for name, token in tokens.items()}

    assert "load" in hello["capabilities"]
    assert "noSuchOperation" in answers["bad"]["error"] and "entries" not in answers["bad"]
    counts = {"get": 50, "create": 10, "stream": 10, "download": 10}
    for name in ("sdk", "raw", "open"):
        answer = answers[name]
        assert answer["type"] == "load_result" and answer["started"] == requests, answer
        assert answer["wall_ms"] > 0
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
            # reqwest does not retry: every 503 is an api error.
            assert get["errors"] == {"api": get_unavailable} and get["retries"] == 0
            assert get["ok"] == get_ok
        else:
            # The SDK retried: each request the mock saw beyond the calls was a retry.
            assert get["retries"] == get_unavailable + get_ok - get["count"] > 0
            assert get["ok"] + sum(get["errors"].values()) == get["count"]
            assert set(get["errors"]) <= {"api", "unavailable"}
        for other in ("create", "stream", "download"):
            assert entries[other]["ok"] == counts[other] and entries[other]["errors"] == {}, entries[other]
    # A raw entry sends each of its requests, in order, per call.
    pages = answers["pages"]["entries"][0]
    assert pages["count"] == 3 and pages["ok"] == 3, pages
    played = {(route["method"], route["path"]): route["responses"] for route in reports["pages"]["played"]}
    assert sum(played["GET", "/v1/agents"]) == 6


@pytest.mark.toolchain
def test_driver_walks_every_page_under_load(driver_binary: Path) -> None:
    """The SDK's `pages` mode under load: one call follows next pages until the last one. The
    load scenario answers a next page or the last page at random (seeded), so the mock sees at
    least one request per call and one more for every page that said there was more."""
    from polysdk_conformance.mock import MockServer

    more = {"data": [AGENT], "next_cursor": "c2", "has_more": True}
    last = {"data": [AGENT], "next_cursor": None, "has_more": False}
    responses = [{"weight": 1, "response": {"kind": "json", "body": page}} for page in (more, last)]
    scenario = {
        "kind": "load",
        "seed": 3,
        "routes": [{"method": "GET", "path": "/v1/agents", "responses": responses}],
    }
    with MockServer() as mock:
        token = mock.register(scenario)
        line = {
            **_load_line("walk", mock.url(token), "sdk", "closed", 6),
            "mix": [{"name": "list", "operation": "listAgents", "mode": "pages", "args": {"limit": 1}}],
            "sequence": [0],
        }
        _, answers = run_loads([str(driver_binary)], [line])
        report = mock.report(token)
    entry = answers["walk"]["entries"][0]
    assert entry["count"] == 6 and entry["ok"] == 6 and entry["retries"] == 0, entry
    served_more, served_last = report["played"][0]["responses"]
    assert served_last == 6, "each call ends on the last page"
    assert served_more >= 0 and report["unexpected"] == []
