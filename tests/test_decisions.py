"""The decisions layer: given an operation, want the shape every SDK implements."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from polysdk import ir
from polysdk.decisions import ApiKeyPlacement, Auth, body_kind, build_decisions
from polysdk.decisions import Decisions as Surface

from .conftest import api_from_text


@pytest.fixture(scope="module")
def surface(orchestrator_api: ir.Api) -> Surface:
    return build_decisions(orchestrator_api)


def _op(surface: Surface, op_id: str):  # type: ignore[no-untyped-def]
    return next(o for o in surface.operations if o.operation.id == op_id)


@pytest.mark.parametrize(
    ("media", "kind"),
    [
        ("application/json", "json"),
        ("application/merge-patch+json", "json"),
        ("application/problem+json; charset=utf-8", "json"),
        ("application/x-www-form-urlencoded", "form"),
        ("multipart/form-data", "multipart"),
        ("text/plain", "text"),
        ("application/octet-stream", "binary"),
        ("image/png", "binary"),
    ],
)
def test_body_kind(media: str, kind: str) -> None:
    assert body_kind(media) == kind


@pytest.mark.parametrize(
    ("op_id", "style", "items", "cursor", "next_field"),
    [
        ("listAgents", "cursor", "data", "cursor", "next_cursor"),
        ("listRunEvents", "cursor", "data", "cursor", "next_cursor"),
        ("listRuns", "link", None, None, None),
        ("listRunArtifacts", "offset", "data", None, None),
    ],
)
def test_pagination_styles(
    surface: Surface, op_id: str, style: str, items: str | None, cursor, next_field
) -> None:  # type: ignore[no-untyped-def]
    pagination = _op(surface, op_id).pagination
    assert pagination is not None
    assert (
        pagination.style,
        pagination.items_field,
        pagination.cursor_param,
        pagination.next_cursor_field,
    ) == (
        style,
        items,
        cursor,
        next_field,
    )


def test_a_long_poll_cursor_is_not_pagination(surface: Surface) -> None:
    wait = _op(surface, "waitForMessages")
    assert wait.pagination is None
    assert wait.result.may_be_empty and wait.result.statuses == ("200", "204")


def test_shapes_of_the_orchestrator(surface: Surface) -> None:
    assert surface.groups[:3] == ("health", "auth", "agents")
    register = _op(surface, "registerAgent")
    assert register.idempotency_header == "Idempotency-Key" and register.retryable
    assert "Idempotency-Key" not in [p.wire_name for p in register.header_params]
    assert not _op(surface, "updateAgent").retryable  # PATCH without an idempotency key
    assert not _op(surface, "getHealth").authenticated
    assert _op(surface, "getMetrics").result.kind == "text"
    assert _op(surface, "deleteAgent").result.kind == "empty"
    assert _op(surface, "downloadArtifact").result.kind == "binary"
    assert _op(surface, "createAccessToken").body.kind == "form"  # type: ignore[union-attr]
    assert _op(surface, "uploadArtifactMultipart").body.kind == "multipart"  # type: ignore[union-attr]
    assert _op(surface, "uploadArtifact").body.kind == "binary"  # type: ignore[union-attr]
    stream = _op(surface, "streamRunEvents")
    assert stream.result.kind == "sse"
    assert stream.streaming is not None and stream.streaming.resume_header == "Last-Event-ID"
    assert stream.streaming.event_type == ir.NamedRef("RunEvent")
    assert {e.status for e in _op(surface, "getAgent").errors} >= {"404", "429", "503"}


def test_a_resume_header_without_a_stream_stays_a_plain_header(tmp_path: Path) -> None:
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/x": {
                "get": {
                    "operationId": "getX",
                    "parameters": [{"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": {}}}}
                    },
                }
            }
        },
    }
    shape = build_decisions(api_from_text(tmp_path, yaml.safe_dump(doc))).operations[0]
    assert shape.streaming is None
    assert [p.wire_name for p in shape.header_params] == ["Last-Event-ID"]


def _api(tmp_path: Path, doc: dict[str, Any]) -> ir.Api:
    base: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": "Acme API", "version": "1"}, "paths": {}}
    return api_from_text(tmp_path, yaml.safe_dump({**base, **doc}))


def _get(op_id: str, content: str | None = "application/json", **extra: Any) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "ok"}
    if content is not None:
        ok["content"] = {content: {"schema": {"type": "string"}}}
    return {"get": {"operationId": op_id, "responses": {"200" if content else "204": ok}, **extra}}


@pytest.mark.parametrize(
    ("content", "accept"),
    [
        ("application/json", "application/json"),
        ("application/problem+json", "application/problem+json"),
        ("text/event-stream", "text/event-stream"),
        ("text/plain", "text/plain"),
        ("application/octet-stream", "application/octet-stream"),
        (None, "application/json"),  # no body on success: errors still come back as JSON
    ],
)
def test_one_accept_header_per_operation(tmp_path: Path, content: str | None, accept: str) -> None:
    """Every SDK sends the Accept header decided here (they used to decide three different ways)."""
    api = _api(tmp_path, {"paths": {"/x": _get("getX", content)}})
    assert build_decisions(api).operations[0].accept == accept


def test_credentials_follow_each_operations_security(tmp_path: Path) -> None:
    schemes = {
        "bearer": {"type": "http", "scheme": "bearer"},
        "key": {"type": "apiKey", "in": "query", "name": "api_key"},
    }
    paths = {
        "/public": _get("getPublic", security=[]),
        "/bearer": _get("getBearer", security=[{"bearer": []}]),
        "/key": _get("getKey", security=[{"key": []}]),
        "/either": _get("getEither"),
        "/optional": _get("getOptional", security=[{}, {"key": []}]),
    }
    api = _api(
        tmp_path,
        {
            "paths": paths,
            "components": {"securitySchemes": schemes},
            "security": [{"bearer": []}, {"key": []}],
        },
    )
    decisions = build_decisions(api)
    auth = {op.operation.id: op.auth for op in decisions.operations}
    assert auth["getPublic"] is None
    assert auth["getBearer"] == Auth(bearer=True, api_key=False)
    assert auth["getKey"] == Auth(bearer=False, api_key=True)
    assert auth["getEither"] == Auth(bearer=True, api_key=True)
    assert auth["getOptional"] == Auth(bearer=False, api_key=True)
    assert decisions.client.bearer
    assert decisions.client.api_key == ApiKeyPlacement("query", "api_key")


@pytest.mark.parametrize(
    ("servers", "base_url", "warned"),
    [
        ([{"url": "https://api.acme.test/v1"}], "https://api.acme.test/v1", False),
        ([{"url": "/v1"}, {"url": "https://api.acme.test"}], "https://api.acme.test", False),
        ([{"url": "/api/v3"}], "", True),
        ([], "", False),
    ],
)
def test_default_base_url_is_the_first_absolute_server(
    tmp_path: Path, servers: list[dict[str, str]], base_url: str, warned: bool
) -> None:
    """A relative server URL is relative to wherever the contract is served: no SDK can know it."""
    decisions = build_decisions(_api(tmp_path, {"servers": servers} if servers else {}))
    assert decisions.client.base_url == base_url
    assert decisions.client.env_base_url == "ACME_BASE_URL"
    assert bool(decisions.warnings) == warned


def test_readme_examples_are_chosen_once(surface: Surface) -> None:
    """The three READMEs show the same operations: chosen here, by arguments any SDK can write as
    string literals."""
    examples = surface.examples
    assert examples.call is not None and examples.call.operation.id == "getAgent"
    assert examples.page is not None and examples.page.pagination is not None
    assert examples.stream is not None and examples.stream.streaming is not None
    assert examples.download is not None and examples.download.result.kind == "binary"


@pytest.mark.parametrize(
    ("schemes", "credentials"),
    [
        ("{b: {type: http, scheme: bearer}}", ("bearer",)),
        ("{k: {type: apiKey, in: header, name: X-Key}}", ("api-key",)),
        ("{k: {type: apiKey, in: query, name: key}, o: {type: oauth2, flows: {}}}", ("bearer", "api-key")),
        ("{}", ()),
    ],
)
def test_examples_configure_only_the_credentials_the_contract_takes(
    tmp_path: Path, schemes: str, credentials: tuple[str, ...]
) -> None:
    """What every README and example configures: a bearer-only contract never shows an API key."""
    spec = 'openapi: 3.1.0\ninfo: {title: T, version: "1"}\npaths: {}\n'
    spec += f"components: {{securitySchemes: {schemes}}}\n"
    assert build_decisions(api_from_text(tmp_path, spec)).client.credentials == credentials


def test_a_second_api_key_scheme_is_warned_about_and_gets_no_misplaced_key(tmp_path: Path) -> None:
    """The SDKs send one API key, by the contract's first API-key scheme; an operation that accepts
    only another one (openapi-generator's petstore: `api_key_query`) would receive it in the wrong
    place, so it sends none, and generation says so."""
    schemes = {
        "api_key": {"type": "apiKey", "in": "header", "name": "api_key"},
        "api_key_query": {"type": "apiKey", "in": "query", "name": "api_key_query"},
    }
    paths = {
        "/header": _get("getHeader", security=[{"api_key": []}]),
        "/query": _get("getQuery", security=[{"api_key_query": []}]),
    }
    api = _api(tmp_path, {"paths": paths, "components": {"securitySchemes": schemes}})
    decisions = build_decisions(api)
    auth = {op.operation.id: op.auth for op in decisions.operations}
    assert auth["getHeader"] == Auth(bearer=False, api_key=True)
    assert auth["getQuery"] == Auth(bearer=False, api_key=False)
    assert decisions.client.api_key == ApiKeyPlacement("header", "api_key")
    assert any(
        w.startswith("components.securitySchemes.api_key_query: a second API-key scheme is not supported")
        for w in decisions.warnings
    )
