"""The SDK surface of an API: the language-neutral decisions every SDK must make the same way.

The IR says what the contract declares; this module decides what an SDK method does with it —
which body encoding to send, how to read the result, whether a list is paginated and how, whether
a response is an event stream that can resume, which header carries an idempotency key, whether
a call may be retried. Go, Rust and TypeScript views all read these shapes, so the three SDKs
cannot disagree about them (and the conformance kit checks the behaviour against the same shapes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from polysdk import ir

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
IDEMPOTENCY_HEADERS = ("idempotency-key", "x-idempotency-key")
RESUME_HEADER = "last-event-id"
_CURSOR_PARAMS = ("cursor", "page_token", "pagetoken", "next_token", "continuation_token")
_NEXT_CURSOR_FIELDS = ("next_cursor", "next_page_token", "nextpagetoken", "next_token", "cursor")
_ITEMS_FIELDS = ("data", "items", "results", "entries", "records")


@dataclass(frozen=True)
class BodyShape:
    """How a request body is sent."""

    kind: str  # json | form | multipart | binary | text
    media_type: str
    type: ir.Type | None
    required: bool


@dataclass(frozen=True)
class ResultShape:
    """How a successful response is read."""

    kind: str  # json | text | binary | sse | empty
    media_type: str
    type: ir.Type | None  # for json: the body; for sse: one event's data
    statuses: tuple[str, ...]  # success statuses the contract documents
    may_be_empty: bool  # a documented success status has no body (e.g. 204 next to 200)
    headers: tuple[ir.Header, ...]  # documented response headers of the success responses


@dataclass(frozen=True)
class ErrorShape:
    status: str  # "404", "4XX" or "default"
    type: ir.Type | None  # the error body type (e.g. a problem+json schema), if any
    media_type: str


@dataclass(frozen=True)
class Pagination:
    """How to walk a list operation page by page.

    cursor: send `cursor_param` = the previous page's `next_cursor_field` until it is null/absent
            (or `has_more_field` is false). link: follow the `rel="next"` URL of the Link header.
            offset: advance `offset_param` by the number of items received until a page is short
            or empty (or `total_field` is reached)."""

    style: str  # cursor | link | offset
    item_type: ir.Type
    items_field: str | None  # wire name of the array in the body; None when the body is the array
    cursor_param: str | None = None
    next_cursor_field: str | None = None
    has_more_field: str | None = None
    offset_param: str | None = None
    limit_param: str | None = None
    total_field: str | None = None


@dataclass(frozen=True)
class Streaming:
    """A text/event-stream response: each event's `data` is one `event_type` JSON value."""

    event_type: ir.Type | None
    resume_header: str | None  # wire name of the Last-Event-ID request header, if declared


@dataclass(frozen=True)
class OperationShape:
    operation: ir.Operation
    group: str  # the resource the method belongs to (the contract's first tag)
    path_params: tuple[ir.Param, ...]
    query_params: tuple[ir.Param, ...]
    header_params: tuple[ir.Param, ...]  # user-supplied headers (not idempotency/resume headers)
    cookie_params: tuple[ir.Param, ...]
    body: BodyShape | None
    result: ResultShape
    errors: tuple[ErrorShape, ...]
    idempotency_header: str | None  # the SDK generates one key per call, reused on every retry
    pagination: Pagination | None
    streaming: Streaming | None
    authenticated: bool  # False when the operation declares `security: []`
    retryable: bool  # idempotent method, or made safe by an idempotency key


@dataclass(frozen=True)
class Surface:
    api: ir.Api
    operations: tuple[OperationShape, ...]
    groups: tuple[str, ...]  # in contract tag order, then first use
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def by_group(self, group: str) -> Iterator[OperationShape]:
        return (op for op in self.operations if op.group == group)


def body_kind(media_type: str) -> str:
    media = media_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return "json"
    if media == "application/x-www-form-urlencoded":
        return "form"
    if media.startswith("multipart/"):
        return "multipart"
    if media.startswith("text/"):
        return "text"
    return "binary"


def _preferred(contents: tuple[ir.Content, ...]) -> ir.Content | None:
    """The content an SDK sends or expects when several are offered: JSON first."""
    ranked = sorted(
        contents, key=lambda c: ["json", "form", "multipart", "text", "binary"].index(body_kind(c.media_type))
    )
    return ranked[0] if ranked else None


def _object(api: ir.Api, t: ir.Type | None) -> ir.ObjectDef | None:
    seen: set[str] = set()
    while isinstance(t, ir.NamedRef) and t.name not in seen:
        seen.add(t.name)
        definition = api.types_by_name[t.name].definition
        if isinstance(definition, ir.ObjectDef):
            return definition
        t = definition.target if isinstance(definition, ir.AliasDef) else None
    return None


def _unwrap(t: ir.Type) -> ir.Type:
    return t.inner if isinstance(t, ir.Nullable) else t


def _array_items(api: ir.Api, t: ir.Type | None) -> ir.Type | None:
    seen: set[str] = set()
    while isinstance(t, ir.NamedRef) and t.name not in seen:
        seen.add(t.name)
        definition = api.types_by_name[t.name].definition
        t = definition.target if isinstance(definition, ir.AliasDef) else None
    return t.items if isinstance(t, ir.ArrayType) else None


def _result(op: ir.Operation) -> ResultShape:
    successes = [r for r in op.responses if r.status.startswith("2")]
    if not successes:
        successes = [r for r in op.responses if r.status == "default"]
    with_body = [r for r in successes if r.contents]
    headers = tuple({h.wire_name.lower(): h for r in successes for h in r.headers}.values())
    statuses = tuple(r.status for r in successes)
    if not with_body:
        return ResultShape("empty", "", None, statuses, True, headers)
    content = _preferred(with_body[0].contents)
    assert content is not None
    media = content.media_type.split(";", 1)[0].strip().lower()
    kind = "sse" if media == "text/event-stream" else body_kind(media)
    if kind in ("form", "multipart"):
        kind = "binary"  # such responses are rare; hand the bytes over rather than guess
    return ResultShape(kind, media, content.type, statuses, len(with_body) < len(successes), headers)


def _pagination(api: ir.Api, op: ir.Operation, result: ResultShape) -> Pagination | None:
    if op.http.method != "GET" or result.kind != "json":
        return None
    query = {p.wire_name.lower(): p.wire_name for p in op.params if p.location is ir.ParamLocation.QUERY}
    limit = next((query[n] for n in ("limit", "page_size", "pagesize", "per_page") if n in query), None)
    header_names = {h.wire_name.lower() for h in result.headers}
    items = _array_items(api, result.type)
    if items is not None and "link" in header_names:
        return Pagination("link", items, None, limit_param=limit)
    body = _object(api, result.type)
    if body is None:
        return None
    fields = {f.wire_name.lower(): f for f in body.fields}
    items_field = next(
        (fields[n] for n in _ITEMS_FIELDS if n in fields and _array_items(api, fields[n].type)), None
    )
    if items_field is None:
        arrays = [f for f in body.fields if _array_items(api, _unwrap(f.type)) is not None]
        items_field = arrays[0] if len(arrays) == 1 else None
    if items_field is None:
        return None
    item_type = _array_items(api, _unwrap(items_field.type))
    assert item_type is not None
    cursor = next((query[n] for n in _CURSOR_PARAMS if n in query), None)
    next_field = next((fields[n] for n in _NEXT_CURSOR_FIELDS if n in fields), None)
    has_more = fields.get("has_more")
    if cursor and next_field is not None:
        # A next cursor that is always present and never null is a long-poll position, not a page.
        ends = has_more is not None or next_field.nullable or not next_field.required
        if ends:
            return Pagination(
                "cursor",
                item_type,
                items_field.wire_name,
                cursor_param=cursor,
                next_cursor_field=next_field.wire_name,
                has_more_field=has_more.wire_name if has_more is not None else None,
                limit_param=limit,
            )
    if "offset" in query:
        total = fields.get("total") or fields.get("total_count")
        return Pagination(
            "offset",
            item_type,
            items_field.wire_name,
            offset_param=query["offset"],
            limit_param=limit,
            total_field=total.wire_name if total is not None else None,
        )
    return None


def operation_shape(api: ir.Api, op: ir.Operation) -> OperationShape:
    by_location: dict[ir.ParamLocation, list[ir.Param]] = {loc: [] for loc in ir.ParamLocation}
    idempotency = None
    resume = None
    for param in op.params:
        name = param.wire_name.lower()
        if param.location is ir.ParamLocation.HEADER and name in IDEMPOTENCY_HEADERS:
            idempotency = param.wire_name
        elif param.location is ir.ParamLocation.HEADER and name == RESUME_HEADER:
            resume = param.wire_name
        else:
            by_location[param.location].append(param)
    body = None
    if op.body is not None:
        content = _preferred(op.body.contents)
        if content is not None:
            body = BodyShape(
                body_kind(content.media_type), content.media_type, content.type, op.body.required
            )
    result = _result(op)
    errors = []
    for response in op.responses:
        if response.status.startswith(("4", "5")) or response.status == "default":
            content = _preferred(response.contents)
            errors.append(
                ErrorShape(
                    response.status, content.type if content else None, content.media_type if content else ""
                )
            )
    streaming = Streaming(result.type, resume) if result.kind == "sse" else None
    if resume is not None and streaming is None:
        by_location[ir.ParamLocation.HEADER].append(next(p for p in op.params if p.wire_name == resume))
    return OperationShape(
        operation=op,
        group=op.tags[0] if op.tags else "default",
        path_params=tuple(by_location[ir.ParamLocation.PATH]),
        query_params=tuple(by_location[ir.ParamLocation.QUERY]),
        header_params=tuple(by_location[ir.ParamLocation.HEADER]),
        cookie_params=tuple(by_location[ir.ParamLocation.COOKIE]),
        body=body,
        result=result,
        errors=tuple(errors),
        idempotency_header=idempotency,
        pagination=_pagination(api, op, result),
        streaming=streaming,
        authenticated=op.security != () or False,
        retryable=op.http.method in IDEMPOTENT_METHODS or idempotency is not None,
    )


def build_surface(api: ir.Api) -> Surface:
    operations = tuple(operation_shape(api, op) for op in api.operations)
    declared = [tag.name for tag in api.tags]
    used = [op.group for op in operations]
    groups = tuple(g for g in dict.fromkeys([*declared, *used]) if g in used)
    return Surface(api=api, operations=operations, groups=groups)
