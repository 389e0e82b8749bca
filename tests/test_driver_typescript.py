"""The TypeScript conformance driver (conformance/PROTOCOL.md): its view, a strict tsc build over the
small contracts, and one end-to-end run against the mock orchestrator.

tsc comes from $POLYSDK_TSC or PATH (tests/toolchain/node_modules/.bin/tsc after `npm ci --prefix
tests/toolchain`), node from PATH; both tiers skip without them locally and fail under CI."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from polysdk.decisions import build_decisions
from polysdk.generate import Request, generate
from polysdk.plan import Options
from polysdk.render import render_plan
from polysdk.views import typescript as ts
from polysdk.views.common import DRIVER_CAPABILITIES
from polysdk.views.typescript import driver as drv

from .conftest import ROOT, SMALL_SPECS, require_tool
from .load_lines import check_load_lines

TOOLCHAIN_TSC = ROOT / "tests" / "toolchain" / "node_modules" / ".bin" / "tsc"


def _driver(api: Any) -> drv.TsDriver:
    types = ts.TsTypes(api)
    view = ts.client(build_decisions(api), types, Options())
    return drv.driver(view, ts.npm_name(api, Options()), Options())


def _entry(view: drv.TsDriver, operation_id: str) -> str:
    literal = json.dumps(operation_id)
    return "\n".join(next(op.lines for op in view.operations if op.operation_id == literal))


# View ----------------------------------------------------------------------------------------------


def test_one_entry_per_operation_with_kinds(orchestrator_api: Any) -> None:
    view = _driver(orchestrator_api)
    assert sorted(op.operation_id for op in view.operations) == sorted(
        json.dumps(op.operation.id) for op in build_decisions(orchestrator_api).operations
    )
    assert 'kind: "pages"' in _entry(view, "listAgents")
    assert 'item: { ref: "Agent" }' in _entry(view, "listAgents")
    assert 'kind: "stream"' in _entry(view, "streamRunEvents")
    assert 'resume: "Last-Event-ID"' in _entry(view, "streamRunEvents")
    assert 'idempotency: "Idempotency-Key"' in _entry(view, "registerAgent")
    assert "idempotency:" not in _entry(view, "getAgent")
    assert 'result: "binary"' in _entry(view, "downloadArtifact")
    assert 'result: "empty"' in _entry(view, "deleteAgent")
    assert 'body: ["body", "multipart", { ref: "UploadArtifactMultipartRequest" }, false]' in _entry(
        view, "uploadArtifactMultipart"
    )
    assert '["agent_id", "agent_id", "str", false]' in _entry(view, "getAgent")
    assert 'c["agents"]["list"](p as unknown as api.ListAgentsParams, o)' in _entry(view, "listAgents")
    for capability in (*DRIVER_CAPABILITIES, "load"):
        assert json.dumps(capability) in view.hello


def test_hostile_text_is_escaped(hostile_api: Any) -> None:
    view = _driver(hostile_api)
    text = "\n".join(
        [
            view.hello,
            *(op.operation_id for op in view.operations),
            *(line for op in view.operations for line in op.lines),
        ]
    )
    for char in ("\u2028", "\u2029", "\r", "`", "${"):
        assert char not in text
    for op in view.operations:
        assert op.operation_id.startswith('"') and op.operation_id.endswith('"')


def test_params_use_the_sdk_keys_on_a_clash(tmp_path: Path) -> None:
    from .conftest import api_from_text

    api = api_from_text(
        tmp_path,
        """
openapi: 3.1.0
info: {title: Clash, version: "1"}
paths:
  /x/{id}:
    post:
      operationId: clash
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: id, in: query, schema: {type: integer, format: int64}}
        - {name: when, in: query, schema: {type: [string, "null"], format: date-time}}
      requestBody:
        content:
          application/json: {schema: {type: object}}
      responses:
        "204": {description: done}
""",
    )
    entry = _entry(_driver(api), "clash")
    assert '["id", "id", "str", false]' in entry
    assert '["id", "id_query", "i64", false]' in entry
    assert '["when", "when", { nullable: "date" }, true]' in entry
    assert 'body: ["body", "json"' in entry


@pytest.mark.parametrize("spec", [ROOT / "spec" / "orchestrator.yaml", SMALL_SPECS["hostile"]])
def test_driver_files_are_planned_and_tidy(spec: Path, tmp_path: Path) -> None:
    from polysdk.frontends.openapi import build_api, load_contract

    decisions = build_decisions(build_api(load_contract(spec, validate=False)))
    render_plan(ts.plan(decisions, Options(drivers=True)), tmp_path)
    assert ".driver-build/" in (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    config = json.loads((tmp_path / "tsconfig.driver.json").read_text(encoding="utf-8"))
    assert config["extends"] == "./tsconfig.json" and config["compilerOptions"]["outDir"] == ".driver-build"
    assert config["include"] == ["src", "conformance"]
    for name in (
        "conformance/driver.ts",
        "conformance/engine.ts",
        "conformance/load.ts",
        "conformance/node.d.ts",
        "tsconfig.driver.json",
    ):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n"), name
        assert "\t" not in text and "\r" not in text and "\n\n\n" not in text, name
        assert not re.search(r"[ ]+\n", text), name


# tsc over the small contracts -------------------------------------------------------------------------


def _tsc() -> str:
    if TOOLCHAIN_TSC.exists():
        return str(TOOLCHAIN_TSC)
    return require_tool("tsc", env_var="POLYSDK_TSC")


def _run(argv: list[str], cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, (
        f"{' '.join(argv)} failed in {cwd}:\n{(result.stdout + result.stderr)[-6000:]}"
    )


@pytest.mark.toolchain
@pytest.mark.parametrize("name", sorted(SMALL_SPECS))
def test_driver_type_checks(name: str, tmp_path: Path) -> None:
    tsc = _tsc()
    generate(
        Request(
            spec=SMALL_SPECS[name],
            out_dir=tmp_path,
            languages=("typescript",),
            options=Options(drivers=True),
        )
    )
    _run([tsc, "-p", "tsconfig.driver.json", "--noEmit"], tmp_path / "typescript")


# End to end against the mock --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tsc = _tsc()
    require_tool("node")
    directory = tmp_path_factory.mktemp("ts-driver") / "typescript"
    shutil.copytree(
        ROOT / "out" / "typescript",
        directory,
        ignore=shutil.ignore_patterns("node_modules", "dist", ".driver-build"),
    )
    _run([tsc, "-p", "tsconfig.driver.json"], directory)
    return directory


def _step(method: str, path: str, response: dict[str, Any], **request: Any) -> dict[str, Any]:
    return {"request": {"method": method, "path": path, **request}, "response": response}


def _run_driver(directory: Path, lines: list[str]) -> tuple[list[dict[str, Any]], int]:
    node = require_tool("node")
    result = subprocess.run(
        [node, ".driver-build/conformance/driver.js"],
        cwd=directory,
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return [json.loads(line) for line in result.stdout.splitlines()], result.returncode


@pytest.fixture
def mock() -> Iterator[Any]:
    from polysdk_conformance.mock import MockServer

    with MockServer() as server:
        yield server


@pytest.mark.toolchain
def test_end_to_end_against_the_mock(built_driver: Path, mock: Any) -> None:
    big = 9007199254740993  # 2^53 + 1: exact only when read and written losslessly
    health = mock.register(
        {
            "steps": [
                _step(
                    "GET",
                    "/health",
                    {
                        "kind": "json",
                        "headers": {"X-Request-Id": "r1"},
                        "body": {
                            "status": "ok",
                            "version": "1",
                            "uptime_seconds": big,
                            "checks": {},
                            "extra": 1,
                        },
                    },
                )
            ]
        }
    )
    missing = mock.register(
        {
            "steps": [
                _step(
                    "GET",
                    "/v1/agents/a%2Fb",
                    {
                        "kind": "json",
                        "status": 404,
                        "headers": {"X-Request-Id": "r2"},
                        "body": {"code": "not_found"},
                    },
                )
            ]
        }
    )
    download = mock.register(
        {"steps": [_step("GET", "/v1/artifacts/x/content", {"kind": "bytes", "body_base64": "AAEC/w=="})]}
    )
    cases = [
        {
            "type": "case",
            "id": "ok",
            "base_url": mock.url(health),
            "operation": "getHealth",
            "args": {},
            "client": {"bearer_token": "tok", "max_retries": 0},
        },
        {
            "type": "case",
            "id": "not-found",
            "base_url": mock.url(missing),
            "operation": "getAgent",
            "args": {"agent_id": "a/b"},
            "client": {"max_retries": 0},
        },
        {
            "type": "case",
            "id": "bin",
            "base_url": mock.url(download),
            "operation": "downloadArtifact",
            "args": {"artifact_id": "x"},
        },
        {"type": "case", "id": "unknown-op", "operation": "noSuchOperation", "base_url": mock.url(health)},
        {
            "type": "case",
            "id": "bad-mode",
            "operation": "getHealth",
            "mode": "stream",
            "base_url": mock.url(health),
        },
    ]
    lines = [json.dumps(case) for case in cases] + ['{"type": "case", "id": "broken", "args": [', "not json"]
    results, code = _run_driver(built_driver, lines)
    assert code == 0
    hello, rest = results[0], results[1:]
    assert hello["type"] == "hello" and hello["protocol"] == 1 and hello["sdk"] == "typescript"
    assert set(hello["capabilities"]) == set(drv.CAPABILITIES)
    by_id = {r["id"]: r for r in rest if r["type"] == "result"}
    assert sorted(by_id) == ["bad-mode", "bin", "not-found", "ok", "unknown-op"]
    assert [r["type"] for r in rest].count("log") == 2  # neither bad line has a readable id

    ok = by_id["ok"]
    assert ok["outcome"] == "ok", ok
    assert ok["value"] == {"status": "ok", "version": "1", "uptime_seconds": big, "checks": {}, "extra": 1}
    assert ok["http_status"] == 200 and ok["response_headers"]["x-request-id"] == "r1"
    assert ok["attempts"] == 1 and ok["elapsed_ms"] >= 0
    assert mock.journal(health)[0]["headers"]

    error = by_id["not-found"]
    assert error["outcome"] == "error", error
    assert error["error"]["kind"] == "api" and error["error"]["status"] == 404
    assert error["error"]["code"] == "not_found" and error["error"]["request_id"] == "r2"
    assert error["attempts"] == 1

    assert by_id["bin"]["outcome"] == "ok", by_id["bin"]
    assert by_id["bin"]["value"] == {"base64": base64.b64encode(b"\x00\x01\x02\xff").decode()}
    assert by_id["unknown-op"]["outcome"] == "driver_error"
    assert by_id["bad-mode"]["outcome"] == "unsupported"


def test_no_driver_files_without_the_option(orchestrator_api: Any) -> None:
    plan = ts.plan(build_decisions(orchestrator_api), Options())
    outputs = [f.output for f in plan.files] + [f.output for f in plan.runtime]
    assert not [o for o in outputs if o.startswith("conformance/") or o == "tsconfig.driver.json"]
    with_drivers = ts.plan(build_decisions(orchestrator_api), Options(drivers=True))
    outputs = [f.output for f in with_drivers.files] + [f.output for f in with_drivers.runtime]
    for name in (
        "conformance/driver.ts",
        "conformance/engine.ts",
        "conformance/engine.test.mjs",
        "conformance/load.ts",
        "conformance/load.test.mjs",
    ):
        assert name in outputs


@pytest.mark.toolchain
def test_engine_unit_tests(built_driver: Path) -> None:
    """The hand-written engine's own node:test tests (conformance/engine.test.mjs)."""
    node = require_tool("node")
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", "conformance/"],
        cwd=built_driver,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert re.search(r"^# pass [1-9]", output, re.MULTILINE), output[-2000:]
    assert re.search(r"^# fail 0$", output, re.MULTILINE), output[-2000:]


@pytest.mark.toolchain
def test_load_lines_against_the_mock(built_driver: Path) -> None:
    """The load lines through the TypeScript SDK and through fetch: the same mix, scenario (with
    503s) and checks as every driver's (tests/load_lines.py)."""
    check_load_lines([require_tool("node"), ".driver-build/conformance/driver.js"], cwd=built_driver)
