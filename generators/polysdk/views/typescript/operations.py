"""One operation: its `OperationSpec` constant, its `<OperationId>Params` interface and its method.

- every method takes `(params, options?)`: `params` is one `<OperationId>Params` interface holding
  every path, query, header and cookie parameter under its wire name (a clash between locations,
  or a name of an `Object.prototype` member such as `constructor` or `toString`, gets a
  `_<location>` suffix: an object literal could not be assigned to an interface declaring
  `toString?: string`, and `{ __proto__: x }` sets the prototype) and the body under `body`; it
  defaults to `{}` when nothing in it is required. `options` is the runtime's `RequestOptions`.
  Idempotency and Last-Event-ID headers are not parameters: the runtime sends them;
- JSON bodies whose object has readOnly properties are typed `WriteBody<T, "id" | ...>`; multipart
  bodies `MultipartBody<T>` (a file part also takes a Blob); raw bodies `BinaryBody`;
- results: JSON → `APIPromise<T>` (`T | undefined` when a documented success has no body),
  paginated lists → `PagePromise<Body, Item>`, SSE → `APIPromise<Stream<Event>>`, a Connect server
  stream → `APIPromise<ConnectStream<Message>>`, binary → `APIPromise<ReadableStream<Uint8Array>>`,
  text → string, no body → void;
- the operation's decisions (protocol, path, parameter styles, body encoding, result kind, the
  Accept header, which credentials it sends, retry safety, idempotency header, pagination and
  whether its cursor is a body property, resume header, whether its error bodies are
  google.rpc.Status JSON) are a module-level `OperationSpec` constant the runtime interprets.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field

from polysdk import ir
from polysdk.decisions import Auth, BodyKind, BodyShape, OperationShape, ResultKind
from polysdk.literals import block_comment_safe, ts_string
from polysdk.names import ts_property_key
from polysdk.views.typescript.codecs import codec
from polysdk.views.typescript.docs import default_tag, doc_lines, jsdoc, with_tags
from polysdk.views.typescript.models import property_line
from polysdk.views.typescript.types import (
    OBJECT_MEMBERS,
    UNKNOWN,
    TsType,
    TsTypes,
    field_names,
    generic,
    leaf,
    runtime_type,
    with_undefined,
)

_PARAM_NOTE = {"path": "path parameter", "query": "query parameter", "header": "header", "cookie": "cookie"}


class OpKind(enum.StrEnum):
    """The role of a method: what a call gives back."""

    CALL = "call"  # one awaited value
    PAGES = "pages"  # a paginated list: the first page, every page, every item
    STREAM = "stream"  # server-sent events or a Connect server stream


@dataclass
class TsParamMember:
    """One property of a params interface, with the contract parameter (or body) it came from."""

    doc: list[str]
    line: str
    key: str  # the property's key in the params object (not quoted)
    type: TsType
    codec: str
    param: ir.Param | None  # None for the body
    body: BodyShape | None  # the body, for the body's member


@dataclass
class TsResult:
    returns: TsType  # the method's return type
    runtime: str  # the Core method: request, paginate, stream or connectStream
    type_args: str  # its type arguments, e.g. `<Agent>`
    codec: str  # the value's codec (a page's body, an event)
    item_codec: str | None  # pages only: one item's


@dataclass
class TsOperation:
    shape: OperationShape = field(repr=False, compare=False)
    operation_id: str
    kind: OpKind
    result_kind: ResultKind
    spec_name: str  # module-level constant holding the OperationSpec
    spec: list[str]  # lines of the OperationSpec object literal
    params_name: str
    params_open: str  # `export interface XParams {` (or `{}` when empty)
    params_close: list[str]
    params_doc: list[str]
    params: list[TsParamMember]
    method: str
    doc: list[str]
    params_arg: str  # `params: X` or `params: X = {}`
    result: TsResult
    call: str  # the runtime call expression

    @property
    def returns(self) -> str:
        return self.result.returns.text


def op_kind(shape: OperationShape) -> OpKind:
    if shape.streaming is not None:
        return OpKind.STREAM
    return OpKind.PAGES if shape.pagination is not None else OpKind.CALL


def result_type(types: TsTypes, shape: OperationShape) -> TsResult:
    """The return type, runtime method and codecs of an operation's method."""
    result = shape.result
    if shape.streaming is not None:
        event_type = shape.streaming.event_type
        event = types.of(event_type) if event_type is not None else leaf("string")
        event_codec = codec(types, event_type) if event_type is not None else '"bin"'
        if result.kind == ResultKind.CONNECT_STREAM:
            returns = generic("APIPromise", generic("ConnectStream", event))
            return TsResult(returns, "connectStream", f"<{event.text}>", event_codec, None)
        returns = generic("APIPromise", generic("Stream", event))
        return TsResult(returns, "stream", f"<{event.text}>", event_codec, None)
    if result.kind == ResultKind.JSON:
        return _json_result(types, shape)
    value = {ResultKind.TEXT: leaf("string"), ResultKind.EMPTY: leaf("void")}.get(
        result.kind, leaf("ReadableStream<Uint8Array>")
    )
    result_codec = {ResultKind.TEXT: '"str"', ResultKind.EMPTY: '"any"'}.get(result.kind, '"bin"')
    return TsResult(generic("APIPromise", value), "request", f"<{value.text}>", result_codec, None)


def _json_result(types: TsTypes, shape: OperationShape) -> TsResult:
    result = shape.result
    body = types.of(result.type) if result.type is not None else UNKNOWN
    body_codec = codec(types, result.type)
    if shape.pagination is not None:
        item = types.of(shape.pagination.item_type)
        returns = generic("PagePromise", body, item)
        item_codec = codec(types, shape.pagination.item_type)
        return TsResult(returns, "paginate", f"<{body.text}, {item.text}>", body_codec, item_codec)
    if result.may_be_empty and not body.is_unknown:
        body = with_undefined(body)
    return TsResult(generic("APIPromise", body), "request", f"<{body.text}>", body_codec, None)


def body_type(types: TsTypes, body: BodyShape) -> TsType:
    if body.kind == BodyKind.BINARY:
        return runtime_type("BinaryBody")
    if body.kind == BodyKind.TEXT:
        return leaf("string")
    if body.type is None:
        if body.kind in (BodyKind.FORM, BodyKind.MULTIPART):
            return leaf("{ [key: string]: unknown }", simple=False)
        return UNKNOWN
    t = types.of(body.type)
    if body.kind == BodyKind.MULTIPART:
        return generic("MultipartBody", t)
    read_only = _read_only_fields(types, body.type)
    if read_only:
        names = _property_names(types, body.type)
        keys = leaf(" | ".join(ts_string(names[f.wire_name]) for f in read_only), simple=False)
        return generic("WriteBody", t, keys)
    return t


def _property_names(types: TsTypes, target: ir.Type | None) -> dict[str, str]:
    """The TypeScript property name of each field of a named object body, by wire name ({} for any
    other body)."""
    if not isinstance(target, ir.NamedRef):
        return {}
    definition = types.definition(target.name)
    return field_names(f.wire_name for f in definition.fields) if isinstance(definition, ir.ObjectDef) else {}


def _read_only_fields(types: TsTypes, target: ir.Type) -> list[ir.Field]:
    """The readOnly fields of a body that is a named object without additional properties."""
    if not isinstance(target, ir.NamedRef) or (target.name, target.name) in types.broken:
        return []
    definition = types.definition(target.name)
    if not isinstance(definition, ir.ObjectDef) or definition.additional is not None:
        return []
    return [f for f in definition.fields if f.read_only]


def _param_doc(param: ir.Param, prop: str) -> list[str]:
    # A parameter renamed because of an Object.prototype member is documented by its wire name.
    name = block_comment_safe(param.wire_name) if param.wire_name in OBJECT_MEMBERS else prop
    body = doc_lines(param.docs.text) or doc_lines(f"The `{name}` {_PARAM_NOTE[param.location.value]}.")
    tags = (["@deprecated"] if param.docs.deprecated else []) + default_tag(param.default)
    return jsdoc(with_tags(body, tags), "  ")


def param_keys(shape: OperationShape) -> tuple[list[tuple[ir.Param, str]], str | None]:
    """The property of the params object holding each parameter (path, query, header, cookie
    order; its wire name, with a `_<location>` suffix on a clash or for an `Object.prototype`
    member's name) and the body's (None without one)."""
    keys: set[str] = set()

    def claim_key(base: str, suffix: str) -> str:
        key, n = base, 2
        if key in keys or key in OBJECT_MEMBERS:
            key = f"{base}_{suffix}"
        while key in keys:
            key, n = f"{base}_{suffix}{n}", n + 1
        keys.add(key)
        return key

    params = [*shape.path_params, *shape.query_params, *shape.header_params, *shape.cookie_params]
    pairs = [(param, claim_key(param.wire_name, param.location.value)) for param in params]
    return pairs, claim_key("body", "request") if shape.body is not None else None


def is_required(param: ir.Param) -> bool:
    return param.required or param.location is ir.ParamLocation.PATH


def _members(types: TsTypes, shape: OperationShape) -> list[TsParamMember]:
    pairs, body_key = param_keys(shape)
    members = []
    for param, key in pairs:
        prop = ts_property_key(key)
        t = types.of(param.type)
        line = property_line(prop, t, not is_required(param), False)
        members.append(
            TsParamMember(_param_doc(param, prop), line, key, t, codec(types, param.type), param, None)
        )
    body = shape.body
    if body is not None and body_key is not None:
        op = shape.operation
        prop = ts_property_key(body_key)
        body_doc = doc_lines(op.body.docs.text) if op.body is not None else []
        doc = jsdoc(body_doc or [f"The request body, sent as `{block_comment_safe(body.media_type)}`."], "  ")
        t = body_type(types, body)
        line = property_line(prop, t, not body.required, False)
        members.append(TsParamMember(doc, line, body_key, t, codec(types, body.type), None, body))
    return members


def _param_spec(member: TsParamMember, param: ir.Param) -> str:
    return (
        f"    {{ key: {ts_string(member.key)}, in: {json.dumps(param.location.value)}, "
        f"name: {ts_string(param.wire_name)}, "
        f"style: {ts_string(param.style)}, explode: {json.dumps(param.explode)}, "
        f"required: {json.dumps(is_required(param))}, codec: {member.codec} }},"
    )


def _body_spec(member: TsParamMember, body: BodyShape, op: ir.Operation) -> str:
    content = (
        next((c for c in op.body.contents if c.media_type == body.media_type), None) if op.body else None
    )
    encodings = ", ".join(
        f"{ts_string(e.part)}: {ts_string(e.content_type)}" for e in (content.encodings if content else ())
    )
    return (
        f"  body: {{ key: {ts_string(member.key)}, kind: {json.dumps(body.kind)}, "
        f"mediaType: {ts_string(body.media_type)}, "
        f"required: {json.dumps(body.required)}, codec: {member.codec}"
        + (f", encodings: {{ {encodings} }}" if encodings else "")
        + " },"
    )


def _auth_spec(auth: Auth | None) -> str:
    if auth is None:
        return "  auth: null,"
    return f"  auth: {{ bearer: {json.dumps(auth.bearer)}, apiKey: {json.dumps(auth.api_key)} }},"


def _pagination_spec(types: TsTypes, shape: OperationShape) -> list[str]:
    page = shape.pagination
    if page is None:
        return []
    # A cursor in the request body is set on the SDK's body value: its property names.
    body = shape.body.type if page.cursor_in_body and shape.body is not None else None
    inputs = _property_names(types, body)

    def request_input(wire: str | None) -> str | None:
        return None if wire is None else inputs.get(wire, wire)

    fields = [f"style: {json.dumps(page.style)}"]
    for name, value in (
        ("items", page.items_field),
        ("cursorParam", request_input(page.cursor_param)),
        ("nextCursorField", page.next_cursor_field),
        ("hasMoreField", page.has_more_field),
        ("offsetParam", request_input(page.offset_param)),
        ("limitParam", request_input(page.limit_param)),
        ("totalField", page.total_field),
    ):
        if value is not None:
            fields.append(f"{name}: {ts_string(value)}")
    if page.cursor_in_body:
        fields.append("cursorInBody: true")
    return [f"  pagination: {{ {', '.join(fields)} }},"]


def _spec(types: TsTypes, shape: OperationShape, members: list[TsParamMember], result: TsResult) -> list[str]:
    op = shape.operation
    spec = [
        f"  id: {ts_string(op.id)},",
        f"  method: {ts_string(op.http.method)},",
        f"  path: {ts_string(op.http.path)},",
    ]
    if shape.protocol is not ir.Protocol.REST:
        spec.append(f"  protocol: {json.dumps(shape.protocol.value)},")
    if shape.status_errors:
        spec.append("  statusErrors: true,")
    param_specs = [_param_spec(m, m.param) for m in members if m.param is not None]
    spec += ["  params: [", *param_specs, "  ],"] if param_specs else ["  params: [],"]
    spec += [_body_spec(m, m.body, op) for m in members if m.body is not None]
    spec.append(
        f"  result: {{ kind: {json.dumps(shape.result.kind)}, codec: {result.codec}, "
        f"mayBeEmpty: {json.dumps(shape.result.may_be_empty)} }},"
    )
    spec.append(f"  accept: {ts_string(shape.accept)},")
    spec.append(_auth_spec(shape.auth))
    spec.append(f"  retryable: {json.dumps(shape.retryable)},")
    if shape.idempotency_header is not None:
        spec.append(f"  idempotencyHeader: {ts_string(shape.idempotency_header)},")
    if shape.streaming is not None and shape.streaming.resume_header is not None:
        spec.append(f"  resumeHeader: {ts_string(shape.streaming.resume_header)},")
    return spec + _pagination_spec(types, shape)


def _method_doc(shape: OperationShape) -> list[str]:
    op = shape.operation
    doc_body = doc_lines(op.docs.text) or doc_lines(f"Calls `{op.http.method} {op.http.path}`.")
    notes = doc_lines(f"`{op.http.method} {op.http.path}` (`{op.id}`).")
    if shape.idempotency_header is not None:
        notes.append(
            "Sends an idempotency key, the same on every retry (`options.idempotencyKey` or a new one)."
        )
    if shape.pagination is not None:
        notes.append("Await it for the first page, or iterate it with `for await` for every item.")
    if shape.result.kind == ResultKind.CONNECT_STREAM:
        notes.append("A Connect server stream: iterate the messages with `for await`.")
    elif shape.streaming is not None:
        notes.append(
            "Iterate the stream with `for await`; a dropped connection resumes from the last event id."
        )
    tags = ["@param params - The operation's parameters and body.", "@param options - Per-request options."]
    if op.docs.deprecated:
        tags.append("@deprecated")
    return jsdoc(with_tags([*doc_body, "", *notes], tags), "  ")


def operation(
    types: TsTypes, shape: OperationShape, index: int, method: str, params_name: str
) -> TsOperation:
    """An operation's view; `method` and `params_name` are its (already claimed) names."""
    op = shape.operation
    members = _members(types, shape)
    result = result_type(types, shape)
    required_any = any(m.param is not None and is_required(m.param) for m in members) or any(
        m.body is not None and m.body.required for m in members
    )
    spec_name = f"op{index}"
    return TsOperation(
        shape=shape,
        operation_id=op.id,
        kind=op_kind(shape),
        result_kind=shape.result.kind,
        spec_name=spec_name,
        spec=_spec(types, shape, members, result),
        params_name=params_name,
        params_open=f"export interface {params_name} {{" + ("" if members else "}"),
        params_close=["}"] if members else [],
        params_doc=jsdoc(doc_lines(f"Parameters of `{method}` (`{op.id}`).")),
        params=members,
        method=method,
        doc=_method_doc(shape),
        params_arg=f"params: {params_name}" if required_any else f"params: {params_name} = {{}}",
        result=result,
        call=f"this.#core.{result.runtime}{result.type_args}({spec_name}, params, options)",
    )
