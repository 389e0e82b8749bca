"""Per-operation decisions: the request recipe and the result of every SDK method.

The IR says what the contract declares; this module decides what an SDK method does with it —
which body encoding to send, which media type to ask for, how to read the result, whether a list
is paginated and how, whether a response is an event stream that can resume, which header carries
an idempotency key, which credentials apply, whether a call may be retried. Go, Rust and
TypeScript views all read these shapes, so the three SDKs cannot disagree about them (and the
conformance kit checks the behaviour against the same shapes).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from polysdk import ir, walks

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
IDEMPOTENCY_HEADERS = ("idempotency-key", "x-idempotency-key")
RESUME_HEADER = "last-event-id"
BEARER_KINDS = frozenset({"http-bearer", "oauth2", "openid"})
_CURSOR_PARAMS = ("cursor", "page_token", "pagetoken", "next_token", "continuation_token")
_NEXT_CURSOR_FIELDS = ("next_cursor", "next_page_token", "nextpagetoken", "next_token", "cursor")
_ITEMS_FIELDS = ("data", "items", "results", "entries", "records")
_LIMIT_PARAMS = ("limit", "page_size", "pagesize", "per_page")
# The media type asked for when a success has no body: error bodies are JSON (problem+json too).
_ACCEPT_WHEN_EMPTY = "application/json"
# The media type of a Connect stream's request and response envelopes (JSON codec).
CONNECT_STREAM_MEDIA = "application/connect+json"


class BodyKind(enum.StrEnum):
    """How a body is encoded. A StrEnum, so a kind compares equal to its name ("json")."""

    JSON = "json"
    FORM = "form"
    MULTIPART = "multipart"
    TEXT = "text"
    BINARY = "binary"


class ResultKind(enum.StrEnum):
    """How a successful response is read."""

    JSON = "json"
    TEXT = "text"
    BINARY = "binary"
    SSE = "sse"
    # A Connect server stream: application/connect+json envelopes, each one `type` message, then
    # an end-of-stream envelope that may carry an error.
    CONNECT_STREAM = "connect-stream"
    EMPTY = "empty"


class PageStyle(enum.StrEnum):
    """cursor: send `cursor_param` = the previous page's `next_cursor_field` until it is null or
    absent (or `has_more_field` is false). link: follow the `rel="next"` URL of the Link header.
    offset: advance `offset_param` by the number of items received until a page is short or empty
    (or `total_field` is reached)."""

    CURSOR = "cursor"
    LINK = "link"
    OFFSET = "offset"


@dataclass(frozen=True)
class BodyShape:
    """How a request body is sent."""

    kind: BodyKind
    media_type: str  # the Content-Type sent
    type: ir.Type | None
    required: bool


@dataclass(frozen=True)
class ResultShape:
    """How a successful response is read."""

    kind: ResultKind
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
    """How to walk a list operation page by page (see PageStyle)."""

    style: PageStyle
    item_type: ir.Type
    items_field: str | None  # wire name of the array in the body; None when the body is the array
    cursor_param: str | None = None
    next_cursor_field: str | None = None
    has_more_field: str | None = None
    offset_param: str | None = None
    limit_param: str | None = None
    total_field: str | None = None
    # True when `cursor_param` and `limit_param` are fields of the JSON request body rather than
    # query parameters (a Connect method's request message).
    cursor_in_body: bool = False


@dataclass(frozen=True)
class Streaming:
    """A text/event-stream response: each event's `data` is one `event_type` JSON value."""

    event_type: ir.Type | None
    resume_header: str | None  # wire name of the Last-Event-ID request header, if declared


@dataclass(frozen=True)
class Auth:
    """Which configured credentials an operation sends. An operation that declares `security: []`
    has no Auth at all; otherwise a credential is sent only when one of the operation's
    security alternatives uses a scheme of its kind (or an alternative is empty)."""

    bearer: bool
    api_key: bool


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
    accept: str  # the Accept header every SDK sends
    errors: tuple[ErrorShape, ...]
    idempotency_header: str | None  # the SDK generates one key per call, reused on every retry
    pagination: Pagination | None
    streaming: Streaming | None
    auth: Auth | None  # None when the operation declares `security: []`
    retryable: bool  # idempotent method or RPC, or made safe by an idempotency key

    @property
    def method(self) -> str:
        return self.operation.http.method

    @property
    def requires_get_body(self) -> bool:
        """A request body the contract requires on GET or HEAD (Asana's typeahead lookups):
        net/http and reqwest send it; the Fetch standard forbids it, so TypeScript cannot."""
        return self.body is not None and self.body.required and self.method in ("GET", "HEAD")

    @property
    def protocol(self) -> ir.Protocol:
        """REST, or Connect (Connect headers, error JSON, enveloped streams, retry hints)."""
        return self.operation.http.protocol

    @property
    def status_errors(self) -> bool:
        """REST error bodies are google.rpc.Status: a numeric gRPC `code` is named (5 →
        not_found) and `details` kept, as for Connect errors."""
        return self.operation.http.status_errors

    @property
    def path(self) -> str:
        return self.operation.http.path

    @property
    def authenticated(self) -> bool:
        return self.auth is not None


def body_kind(media_type: str) -> BodyKind:
    media = media_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return BodyKind.JSON
    if media == "application/x-www-form-urlencoded":
        return BodyKind.FORM
    if media.startswith("multipart/"):
        return BodyKind.MULTIPART
    if media.startswith("text/"):
        return BodyKind.TEXT
    return BodyKind.BINARY


_PREFERENCE = list(BodyKind)  # JSON first, binary last


def _preferred(contents: tuple[ir.Content, ...]) -> ir.Content | None:
    """The content an SDK sends or expects when several are offered: JSON first."""
    ranked = sorted(contents, key=lambda c: _PREFERENCE.index(body_kind(c.media_type)))
    return ranked[0] if ranked else None


def _result(op: ir.Operation) -> ResultShape:
    successes = [r for r in op.responses if r.status.startswith("2")]
    if not successes:
        successes = [r for r in op.responses if r.status == "default"]
    with_body = [r for r in successes if r.contents]
    headers = tuple({h.wire_name.lower(): h for r in successes for h in r.headers}.values())
    statuses = tuple(r.status for r in successes)
    if not with_body:
        return ResultShape(ResultKind.EMPTY, "", None, statuses, True, headers)
    content = _preferred(with_body[0].contents)
    assert content is not None
    media = content.media_type.split(";", 1)[0].strip().lower()
    if media == "text/event-stream":
        kind = ResultKind.SSE
    elif media == CONNECT_STREAM_MEDIA:
        kind = ResultKind.CONNECT_STREAM
    else:
        encoding = body_kind(media)
        # Form and multipart responses are rare; hand the bytes over rather than guess.
        kind = ResultKind(encoding) if encoding in ("json", "text", "binary") else ResultKind.BINARY
    return ResultShape(kind, media, content.type, statuses, len(with_body) < len(successes), headers)


def _accept(result: ResultShape) -> str:
    if result.kind is ResultKind.EMPTY:
        return _ACCEPT_WHEN_EMPTY
    return result.media_type


def _link_pagination(api: ir.Api, result: ResultShape, limit: str | None) -> Pagination | None:
    items = walks.array_items(api, result.type)
    if items is None or "link" not in {h.wire_name.lower() for h in result.headers}:
        return None
    return Pagination(PageStyle.LINK, items, None, limit_param=limit)


def _items_field(api: ir.Api, body: ir.ObjectDef) -> ir.Field | None:
    fields = {f.wire_name.lower(): f for f in body.fields}
    named = next(
        (fields[n] for n in _ITEMS_FIELDS if n in fields and walks.array_items(api, fields[n].type)), None
    )
    if named is not None:
        return named
    arrays = [f for f in body.fields if walks.array_items(api, walks.unwrap_nullable(f.type)) is not None]
    return arrays[0] if len(arrays) == 1 else None


def _cursor_pagination(body: ir.ObjectDef, query: dict[str, str], base: Pagination) -> Pagination | None:
    fields = {f.wire_name.lower(): f for f in body.fields}
    cursor = next((query[n] for n in _CURSOR_PARAMS if n in query), None)
    next_field = next((fields[n] for n in _NEXT_CURSOR_FIELDS if n in fields), None)
    has_more = fields.get("has_more")
    if cursor is None or next_field is None:
        return None
    # A next cursor that is always present and never null is a long-poll position, not a page.
    if has_more is None and not next_field.nullable and next_field.required:
        return None
    return replace(
        base,
        cursor_param=cursor,
        next_cursor_field=next_field.wire_name,
        has_more_field=has_more.wire_name if has_more is not None else None,
    )


def _offset_pagination(body: ir.ObjectDef, query: dict[str, str], base: Pagination) -> Pagination | None:
    if "offset" not in query:
        return None
    fields = {f.wire_name.lower(): f for f in body.fields}
    total = fields.get("total") or fields.get("total_count")
    return replace(
        base,
        style=PageStyle.OFFSET,
        offset_param=query["offset"],
        total_field=total.wire_name if total is not None else None,
    )


def _page_inputs(api: ir.Api, op: ir.Operation) -> dict[str, str] | None:
    """Where a list call takes its cursor and page size, lower-cased wire name → wire name: the
    query parameters of a GET, or the request message's fields of a Connect method."""
    if op.http.protocol is ir.Protocol.CONNECT:
        request = walks.object_def(api, op.body.contents[0].type) if op.body and op.body.contents else None
        return {f.wire_name.lower(): f.wire_name for f in request.fields} if request else None
    if op.http.method != "GET":
        return None
    return {p.wire_name.lower(): p.wire_name for p in op.params if p.location is ir.ParamLocation.QUERY}


def _pagination(api: ir.Api, op: ir.Operation, result: ResultShape) -> Pagination | None:
    query = _page_inputs(api, op)
    if query is None or result.kind is not ResultKind.JSON:
        return None
    limit = next((query[n] for n in _LIMIT_PARAMS if n in query), None)
    link = _link_pagination(api, result, limit)
    if link is not None:
        return link
    body = walks.object_def(api, result.type)
    items_field = _items_field(api, body) if body is not None else None
    if body is None or items_field is None:
        return None
    item_type = walks.array_items(api, walks.unwrap_nullable(items_field.type))
    assert item_type is not None
    in_body = op.http.protocol is ir.Protocol.CONNECT
    base = Pagination(
        PageStyle.CURSOR, item_type, items_field.wire_name, limit_param=limit, cursor_in_body=in_body
    )
    return _cursor_pagination(body, query, base) or _offset_pagination(body, query, base)


API_KEY_LOCATIONS = ("header", "query", "cookie")


def sdk_api_key_scheme(api: ir.Api) -> ir.SecurityScheme | None:
    """The API-key scheme the SDKs send their one API key by: the contract's first usable one."""
    return next(
        (
            s
            for s in api.security_schemes
            if s.kind == "api-key" and s.location in API_KEY_LOCATIONS and s.param_name
        ),
        None,
    )


def _auth(api: ir.Api, op: ir.Operation) -> Auth | None:
    if op.security == ():
        return None
    kinds = {s.name: s.kind for s in api.security_schemes}
    names = {name for alternative in op.security for name in alternative}
    accepted = {kinds.get(name, "") for name in names}
    if not accepted:  # only an empty alternative (`- {}`): send whatever the user configured
        return Auth(bearer=True, api_key=True)
    # The SDK's API key goes where its scheme says; an operation that accepts only another API-key
    # scheme (a second one, in a query or cookie) would get it in the wrong place, so none is sent.
    key_scheme = sdk_api_key_scheme(api)
    api_key = key_scheme is not None and key_scheme.name in names
    return Auth(bearer=bool(accepted & BEARER_KINDS), api_key=api_key)


def _errors(op: ir.Operation) -> tuple[ErrorShape, ...]:
    errors = []
    for response in op.responses:
        if response.status.startswith(("4", "5")) or response.status == "default":
            content = _preferred(response.contents)
            errors.append(
                ErrorShape(
                    response.status, content.type if content else None, content.media_type if content else ""
                )
            )
    return tuple(errors)


def _body(op: ir.Operation) -> BodyShape | None:
    content = _preferred(op.body.contents) if op.body is not None else None
    if op.body is None or content is None:
        return None
    return BodyShape(body_kind(content.media_type), content.media_type, content.type, op.body.required)


def operation_shape(api: ir.Api, op: ir.Operation) -> OperationShape:
    by_location: dict[ir.ParamLocation, list[ir.Param]] = {loc: [] for loc in ir.ParamLocation}
    idempotency = None
    resume = None
    for param in op.params:
        name = param.wire_name.lower()
        if param.location is ir.ParamLocation.HEADER and name in IDEMPOTENCY_HEADERS:
            idempotency = param.wire_name
        elif param.location is ir.ParamLocation.HEADER and name == RESUME_HEADER:
            resume = param
        else:
            by_location[param.location].append(param)
    result = _result(op)
    streamed = result.kind in (ResultKind.SSE, ResultKind.CONNECT_STREAM)
    streaming = Streaming(result.type, resume.wire_name if resume else None) if streamed else None
    if resume is not None and streaming is None:  # a Last-Event-ID header on a non-stream: a plain header
        by_location[ir.ParamLocation.HEADER].append(resume)
    return OperationShape(
        operation=op,
        group=op.tags[0] if op.tags else "default",
        path_params=tuple(by_location[ir.ParamLocation.PATH]),
        query_params=tuple(by_location[ir.ParamLocation.QUERY]),
        header_params=tuple(by_location[ir.ParamLocation.HEADER]),
        cookie_params=tuple(by_location[ir.ParamLocation.COOKIE]),
        body=_body(op),
        result=result,
        accept=_accept(result),
        errors=_errors(op),
        idempotency_header=idempotency,
        pagination=_pagination(api, op, result),
        streaming=streaming,
        auth=_auth(api, op),
        retryable=_retryable(op, idempotency),
    )


def _retryable(op: ir.Operation, idempotency_header: str | None) -> bool:
    """A call may be sent again when the contract says it is idempotent (a proto method's
    idempotency_level), else when its HTTP method is, or when an idempotency key makes it so."""
    if idempotency_header is not None:
        return True
    if op.idempotent is not None:
        return op.idempotent
    return op.http.protocol is ir.Protocol.REST and op.http.method in IDEMPOTENT_METHODS
