"""The decisions layer: given an operation, want the shape every SDK implements."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from polysdk import ir
from polysdk.decisions import Decisions as Surface
from polysdk.decisions import body_kind, build_decisions

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
