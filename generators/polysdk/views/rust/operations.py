"""operations.rs: one resource struct per group (`client.agents()`) and one request builder per
operation (`.list().limit(20).send().await`), rendered from the decisions layer's shapes.

Required parameters are arguments, optional ones setters, per-call options on every builder.
The view writes the statements that build the request (`req.query(..)`, `req.json(..)`,
multipart parts, credentials, Accept, idempotency, retryability) and picks the runtime entry
point that reads the result; `send` and `send_with_response` are plain functions returning the
runtime's future, so the async code is written and type-checked once (this keeps Stripe's 468
operations cheap to compile). Pagination implements the runtime's `Paginated` trait (next
cursor, Link header or offset).

Records carry roles, never decisions hidden in text: a parameter knows where its value comes
from in the contract (`source`, `wire`) and what kind of value it takes (`role`); an operation
knows how its result is read (`result`) and whether it pages.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from polysdk import ir, walks
from polysdk.decisions import BodyKind, Decisions, OperationShape, PageStyle, ResultKind
from polysdk.decisions.operations import CONNECT_STREAM_MEDIA
from polysdk.literals import rust_string
from polysdk.names import Namer, pascal, rust_fix_field, snake, split_words
from polysdk.views.common import method_words
from polysdk.views.rust.docs import code, doc, inline
from polysdk.views.rust.types import (
    BINARY,
    BYTES,
    FILE_PART,
    JSON,
    MULTIPART,
    STRING,
    UNIT,
    Kind,
    RustType,
    RustTypes,
    event_stream,
    field_namer,
    fix_leading_letter,
    fix_type,
    message_stream,
)

# Methods of every request builder, and names the generated code uses for itself: a parameter
# with one of these names gets a numeric suffix.
_BUILDER_NAMES = (
    "client",
    "options",
    "timeout",
    "max_retries",
    "header",
    "idempotency_key",
    "max_response_bytes",
    "cancellation",
    "send",
    "send_with_response",
    "pages",
    "items",
    "fetch",
    "next",
    "count",
    "request",
)
# Methods of Client (hand-written and pub(crate)), which a resource accessor must not shadow.
CLIENT_METHODS = (
    "builder",
    "new",
    "base_url",
    "max_retries",
    "max_response_bytes",
    "response_limit",
    "send_attempt",
    "build_request",
    "execute",
    "body",
    "send_json",
    "send_json_or_empty",
    "call_text",
    "call_empty",
    "call_binary",
    "send_sse",
    "send_connect_stream",
    "clone",
    "fmt",
)
# Names a resource struct already has (its field and derived trait methods), which an operation
# method must not shadow.
_RESOURCE_NAMES = ("client", "clone", "clone_from", "fmt")
_STYLES = {
    "form": "Form",
    "spaceDelimited": "SpaceDelimited",
    "pipeDelimited": "PipeDelimited",
    "deepObject": "DeepObject",
}
OPERATION_LINT_ALLOWS = (
    "clippy::should_implement_trait",
    "clippy::too_many_arguments",
    "clippy::wrong_self_convention",
    "clippy::type_complexity",
    "clippy::new_ret_no_self",
    "deprecated",
    "unused_imports",
)


class Source(enum.Enum):
    """Where a builder parameter's value comes from in the contract."""

    PARAM = "arg"  # a path, query, header or cookie parameter
    PART = "part"  # a field of a multipart object body
    BODY = "body"  # the whole request body


class Role(enum.Enum):
    """What a builder parameter takes."""

    VALUE = "value"  # a value of its (serde) type
    FILE = "file"  # a multipart file (crate::runtime::FilePart)
    BYTES = "bytes"  # a raw binary body
    MULTIPART = "multipart"  # a raw multipart body the caller assembles


@dataclass
class RustParam:
    ident: str  # struct field and setter name
    value: RustType  # the parameter's type (stored as Option<value> when optional)
    into: bool  # the argument is `impl Into<value>`
    required: bool
    doc: list[str]
    source: Source
    wire: str  # the contract's name ("body" for the whole body)
    role: Role = Role.VALUE
    emit: list[str] = field(default_factory=list)  # statements adding it to `req`
    part: list[str] = field(default_factory=list)  # statements adding it to `multipart`

    @property
    def stored(self) -> RustType:
        return self.value if self.required else self.value.option()

    @property
    def type(self) -> str:
        return self.stored.rendered

    @property
    def arg(self) -> str:
        """The argument type of its setter (or of the resource method when required)."""
        return f"impl Into<{self.value.rendered}>" if self.into else self.value.rendered

    @property
    def convert(self) -> str:
        """The expression storing the setter's argument `value`."""
        stored = "value.into()" if self.into else "value"
        return stored if self.required else f"Some({stored})"

    @property
    def init(self) -> str:
        """The expression storing the argument when it is required (a resource method's)."""
        return f"{self.ident}.into()" if self.into else self.ident

    @property
    def init_line(self) -> str:
        """The field's line in the builder's struct literal, shorthand when possible."""
        return self.ident if not self.into else f"{self.ident}: {self.init}"


@dataclass
class RustPaging:
    page: str
    item: str
    items: str  # expression: the items of `page` (a Vec)
    count: str  # expression: how many items `page` holds
    next: list[str]  # statements of `fn next`, ending in Some(next) or None


@dataclass
class RustOperation:
    shape: OperationShape
    method: str  # the resource method
    builder: str  # the request builder type
    doc: list[str]
    deprecated: bool
    params: list[RustParam]
    verb: str  # Rust string literal of the HTTP method
    path: str  # expression building the path
    statements: list[str]  # statements building `req` after `let mut req = ...`
    result: RustType  # what `send` returns
    call: str  # the runtime function, e.g. call_json::<Agent>
    paging: RustPaging | None

    @property
    def data(self) -> str:
        return self.result.rendered

    @property
    def reads(self) -> ResultKind:
        """How the result is read (json, text, binary, sse or empty)."""
        return self.shape.result.kind


@dataclass
class RustGroup:
    name: str  # the resource struct
    accessor: str  # the Client method returning it
    doc: list[str]
    operations: list[RustOperation]


@dataclass
class RustOperations:
    groups: list[RustGroup] = field(default_factory=list)
    lint_allows: list[str] = field(default_factory=list)

    def find(self, shape: OperationShape | None) -> tuple[RustGroup, RustOperation] | None:
        """The group and method rendering a shape of the decisions."""
        for group in self.groups:
            for op in group.operations:
                if op.shape is shape:
                    return group, op
        return None


# Parameters ----------------------------------------------------------------------------------------


def _path_expr(op: ir.Operation, fields: dict[str, str]) -> str:
    parts: list[str] = []
    for piece in re.split(r"(\{[^{}]*\})", op.http.path):
        if not piece:
            continue
        name = piece[1:-1] if piece.startswith("{") and piece.endswith("}") else None
        if name is not None and name in fields:
            parts.append(f"crate::runtime::segment(&self.{fields[name]}).as_str()")
        else:
            parts.append(rust_string(piece))
    if not parts:
        return "String::new()"
    return f"[{', '.join(parts)}].concat()"


def _value_param(
    types: RustTypes, t: ir.Type, ident: str, required: bool, lines: list[str], request: bool = False
) -> RustParam:
    value = types.entry(walks.unwrap_nullable(t), request=request)
    return RustParam(ident, value, value.kind is Kind.STRING, required, lines, Source.PARAM, "")


def _param_emit(p: ir.Param, ident: str) -> list[str]:
    wire = rust_string(p.wire_name)
    if p.location is ir.ParamLocation.PATH:
        return [f"req.path_param({wire}, &self.{ident});"]
    if p.location is ir.ParamLocation.QUERY:
        style = _STYLES.get(p.style, "Form")
        explode = "true" if p.explode else "false"
        return [f"req.query({wire}, crate::runtime::Style::{style}, {explode}, &self.{ident});"]
    if p.location is ir.ParamLocation.HEADER:
        return [f"req.header({wire}, &self.{ident});"]
    return [f"req.cookie({wire}, &self.{ident});"]


def _param(types: RustTypes, p: ir.Param, ident: str) -> RustParam:
    required = p.required or p.location is ir.ParamLocation.PATH
    lines = doc(p.docs.text, f"The {code(p.wire_name)} {p.location.value} parameter.")
    param = _value_param(types, p.type, ident, required, lines)
    param.wire = p.wire_name
    param.emit = _param_emit(p, ident)
    return param


def _is_file(types: RustTypes, t: ir.Type) -> bool:
    target = types.resolve(t)
    return isinstance(target, ir.PrimitiveType) and target.kind in (ir.Prim.BINARY, ir.Prim.BYTES)


def _part_as_json(types: RustTypes, t: ir.Type, content_type: str) -> bool:
    scalar = isinstance(types.resolve(t), ir.PrimitiveType | ir.EnumDef | ir.ConstType)
    return "json" in content_type or not scalar


def _part(types: RustTypes, f: ir.Field, ident: str, required: bool, encodings: dict[str, str]) -> RustParam:
    wire = rust_string(f.wire_name)
    lines = doc(f.docs.text, f"The {code(f.wire_name)} part.")
    if _is_file(types, f.type):
        ctype = rust_string(encodings.get(f.wire_name, "application/octet-stream"))
        stmt = f"multipart.file_part({wire}, {f'&self.{ident}' if required else 'file'}, {ctype});"
        part = [stmt] if required else [f"if let Some(file) = &self.{ident} {{ {stmt} }}"]
        return RustParam(
            ident, FILE_PART, False, required, lines, Source.PART, f.wire_name, Role.FILE, [], part
        )
    param = _value_param(types, f.type, ident, required, lines, request=True)
    param.source, param.wire = Source.PART, f.wire_name
    as_json = "true" if _part_as_json(types, f.type, encodings.get(f.wire_name, "")) else "false"
    param.part = [f"multipart.value({wire}, &self.{ident}, {as_json})?;"]
    return param


def _body_statement(shape: OperationShape, value: str, place: str) -> str:
    """The statement sending the body held in `value` (a reference when `place` is "&")."""
    body = shape.body
    assert body is not None
    media = rust_string(body.media_type)
    if body.kind is BodyKind.BINARY:
        return f"req.bytes({value}.clone(), {media});"
    if body.kind is BodyKind.TEXT:
        return f"req.bytes(crate::runtime::Bytes::from({value}.clone()), {media});"
    if body.kind is BodyKind.MULTIPART:
        return f"req.multipart({value}.clone());"
    if body.kind is BodyKind.FORM:
        return f"req.form({place}{value});"
    if body.media_type == CONNECT_STREAM_MEDIA:  # a Connect stream's request: one envelope
        return f"req.envelope({place}{value});"
    if body.media_type == "application/json":
        return f"req.json({place}{value});"
    return f"req.json_as({place}{value}, {media});"


def _body_param(types: RustTypes, shape: OperationShape, ident: str, lines: list[str]) -> RustParam:
    body = shape.body
    assert body is not None
    if body.kind is BodyKind.BINARY:
        value, into, role = BYTES, True, Role.BYTES
    elif body.kind is BodyKind.TEXT:
        value, into, role = STRING, True, Role.VALUE
    elif body.kind is BodyKind.MULTIPART:
        value, into, role = MULTIPART, False, Role.MULTIPART
    else:
        value = types.request_entry(body.type) if body.type is not None else JSON
        into, role = False, Role.VALUE
    param = RustParam(ident, value, into, body.required, lines, Source.BODY, "body", role)
    if body.required:
        param.emit = [_body_statement(shape, f"self.{ident}", "&")]
    else:
        param.emit = [f"if let Some(body) = &self.{ident} {{ {_body_statement(shape, 'body', '')} }}"]
    return param


class _Params:
    """Names the parameters of one builder, in order, clear of the builder's own names."""

    def __init__(self) -> None:
        self.namer = Namer(snake, fix_leading_letter, "param", taken=_BUILDER_NAMES)

    def claim(self, text: str) -> str:
        return rust_fix_field(self.namer.claim(text))


def _encodings(shape: OperationShape) -> dict[str, str]:
    """The content type of each multipart part the contract declares an encoding for."""
    body, op = shape.body, shape.operation
    if body is None or op.body is None:
        return {}
    content = next((c for c in op.body.contents if c.media_type == body.media_type), None)
    return {e.part: e.content_type for e in content.encodings} if content else {}


def _params(types: RustTypes, shape: OperationShape) -> tuple[list[RustParam], dict[str, str], bool]:
    """The builder's parameters, the field of each path parameter, and whether the body is sent
    as multipart parts."""
    namer = _Params()
    params = [_param(types, p, namer.claim(p.wire_name)) for p in shape.path_params]
    path_fields = {p.wire: p.ident for p in params}
    for p in (*shape.query_params, *shape.header_params, *shape.cookie_params):
        params.append(_param(types, p, namer.claim(p.wire_name)))
    body = shape.body
    op = shape.operation
    if body is None:
        return params, path_fields, False
    target = types.resolve(body.type) if body.type is not None else None
    if body.kind is BodyKind.MULTIPART and isinstance(target, ir.ObjectDef):
        encodings = _encodings(shape)
        for f in (f for f in target.fields if not f.read_only):
            params.append(_part(types, f, namer.claim(f.wire_name), f.required and body.required, encodings))
        return params, path_fields, True
    lines = doc(op.body.docs.text if op.body else "", "The request body.")
    params.append(_body_param(types, shape, namer.claim("body"), lines))
    return params, path_fields, False


# Requests and results ------------------------------------------------------------------------------


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _statements(shape: OperationShape, params: list[RustParam], multipart: bool) -> list[str]:
    setup = [line for p in params for line in p.emit]
    if multipart:
        setup.append("let mut multipart = crate::runtime::Multipart::new();")
        setup += [line for p in params for line in p.part]
        body = shape.body
        if body is not None and not body.required:
            # An optional body left empty is not sent, as in the Go and TypeScript SDKs.
            setup.append("if !multipart.is_empty() {")
            setup.append("    req.multipart(multipart);")
            setup.append("}")
        else:
            setup.append("req.multipart(multipart);")
    auth = shape.auth
    setup.append(
        f"req.auth({_bool(auth is not None and auth.bearer)}, {_bool(auth is not None and auth.api_key)});"
    )
    if shape.idempotency_header:
        setup.append(f"req.idempotency({rust_string(shape.idempotency_header)});")
    setup.append(f"req.retryable({_bool(shape.retryable)});")
    setup.append(f"req.accept({rust_string(shape.accept)});")
    if shape.streaming is not None and shape.streaming.resume_header:
        setup.append(f"req.resume({rust_string(shape.streaming.resume_header)});")
    if shape.protocol is ir.Protocol.CONNECT:
        setup.append(f"req.connect({_bool(shape.result.kind is ResultKind.CONNECT_STREAM)});")
    if shape.status_errors:
        setup.append("req.status_errors();")
    return setup


def _result(types: RustTypes, shape: OperationShape) -> tuple[RustType, str]:
    """What `send` returns, and the runtime function reading it."""
    result = shape.result
    value = types.entry(result.type) if result.type is not None else JSON
    if result.kind is ResultKind.JSON and result.may_be_empty:
        return value.option(), f"call_json_or_empty::<{value.rendered}>"
    if result.kind is ResultKind.JSON:
        return value, f"call_json::<{value.rendered}>"
    if result.kind is ResultKind.TEXT:
        return STRING, "call_text"
    if result.kind is ResultKind.BINARY:
        return BINARY, "call_binary"
    if result.kind is ResultKind.SSE:
        return event_stream(value), f"call_sse::<{value.rendered}>"
    if result.kind is ResultKind.CONNECT_STREAM:
        return message_stream(value), f"call_connect_stream::<{value.rendered}>"
    return UNIT, "call_empty"


# Pagination ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PageField:
    access: str  # the Rust field name
    field: ir.Field
    value: RustType  # its type without Option

    def option(self, scalar: bool, widen: bool = False) -> str:
        """An expression giving Option<T> for the field of `page.data`, whatever its optionality;
        `widen` turns an i32 into an i64."""
        f = self.field
        value = f"page.data.{self.access}" + ("" if scalar else ".clone()")
        if f.required and not f.nullable:
            return f"Some(i64::from({value}))" if widen else f"Some({value})"
        if not f.required and f.nullable:
            value += ".flatten()"
        return value + ".map(i64::from)" if widen else value


def _page_field(types: RustTypes, obj: ir.ObjectDef | None, wire: str | None) -> _PageField | None:
    """The Rust field of a wire name in a page struct."""
    if wire is None or obj is None:
        return None
    claim = field_namer()
    for f in obj.fields:
        name = claim(f.wire_name)
        if f.wire_name == wire:
            return _PageField(name, f, types.entry(walks.unwrap_nullable(f.type)))
    return None


def _items(types: RustTypes, shape: OperationShape, page: ir.ObjectDef | None) -> tuple[str, str] | None:
    """The expressions giving the items of `page` and their count."""
    pag = shape.pagination
    assert pag is not None
    if pag.items_field is None:
        return "page", "page.len()"
    found = _page_field(types, page, pag.items_field)
    if found is None or types.reaches_newtype(found.field.type):
        return None
    access, f = found.access, found.field
    if f.required and not f.nullable:
        return f"page.{access}", f"page.{access}.len()"
    if f.required or not f.nullable:
        return f"page.{access}.unwrap_or_default()", f"page.{access}.as_ref().map_or(0, |v| v.len())"
    count = f"page.{access}.as_ref().and_then(|v| v.as_ref()).map_or(0, |v| v.len())"
    return f"page.{access}.flatten().unwrap_or_default()", count


_LINK_NEXT = [
    "let url = crate::runtime::next_link(&page.meta)?;",
    "let mut next = self.clone();",
    "next.options.url = Some(url);",
    "Some(next)",
]


@dataclass(frozen=True)
class _PageInput:
    """Where a list call takes its cursor, offset or page size: an optional query parameter (a
    field of the builder) or, with `cursor_in_body`, a field of the request body."""

    path: str  # the place within the builder, e.g. `cursor` or `body.page_token`
    value: RustType  # its type without Option
    options: int  # how many Options wrap it: 0 (required), 1 (optional), 2 (optional and nullable)

    def read(self, owner: str) -> str:
        """An expression giving Option<T> (for Copy scalars)."""
        return [f"Some({owner}.{self.path})", f"{owner}.{self.path}", f"{owner}.{self.path}.flatten()"][
            self.options
        ]

    def store(self, owner: str, value: str) -> str:
        """The statement setting it to `value`."""
        wrapped = value
        for _ in range(self.options):
            wrapped = f"Some({wrapped})"
        return f"{owner}.{self.path} = {wrapped};"


def _query_inputs(shape: OperationShape, params: list[RustParam]) -> dict[str, _PageInput]:
    """The optional query parameters by wire name."""
    return {p.wire: _PageInput(p.ident, p.value, 1) for p in _query_params(shape, params) if not p.required}


def _body_inputs(types: RustTypes, shape: OperationShape, params: list[RustParam]) -> dict[str, _PageInput]:
    """The fields of a required JSON request body by wire name (an optional body has no place
    to put the next page's cursor in)."""
    body = next((p for p in params if p.source is Source.BODY and p.role is Role.VALUE), None)
    if body is None or not body.required or shape.body is None or shape.body.type is None:
        return {}
    request = types.resolve(shape.body.type)
    if not isinstance(request, ir.ObjectDef) or body.value.kind is not Kind.NAMED:
        return {}
    twin = body.value.model in types.inputs  # the request twin leaves the read-only fields out
    claim = field_namer()
    found = {}
    for f in request.fields:
        if twin and f.read_only:
            continue
        name = claim(f.wire_name)
        options = (0 if f.required else 1) + (1 if f.nullable else 0)
        value = types.entry(walks.unwrap_nullable(f.type), request=True)
        found[f.wire_name] = _PageInput(f"{body.ident}.{name}", value, options)
    return found


def _input(inputs: dict[str, _PageInput], wire: str | None, *kinds: Kind) -> _PageInput | None:
    """A page input of one of these kinds."""
    found = inputs.get(wire) if wire is not None else None
    return found if found is not None and found.value.kind in kinds else None


def _cursor_next(
    types: RustTypes, shape: OperationShape, inputs: dict[str, _PageInput], page: ir.ObjectDef | None
) -> list[str] | None:
    pag = shape.pagination
    assert pag is not None
    cursor = _input(inputs, pag.cursor_param, Kind.STRING)
    found = _page_field(types, page, pag.next_cursor_field)
    if cursor is None or found is None or found.value.kind is not Kind.STRING:
        return None
    more = _page_field(types, page, pag.has_more_field)
    has_more = more.option(True) if more is not None and more.value.kind is Kind.BOOL else "None"
    return [
        f"let cursor = crate::runtime::next_cursor({found.option(False)}, {has_more})?;",
        "let mut next = self.clone();",
        cursor.store("next", "cursor"),
        "Some(next)",
    ]


def _offset_next(
    types: RustTypes, shape: OperationShape, inputs: dict[str, _PageInput], page: ir.ObjectDef | None
) -> list[str] | None:
    pag = shape.pagination
    assert pag is not None
    offset = _input(inputs, pag.offset_param, Kind.I32, Kind.I64)
    if offset is None or page is None:
        return None
    narrow = offset.value.kind is Kind.I32
    limit = _input(inputs, pag.limit_param, Kind.I32, Kind.I64)
    limit_expr = "None"
    if limit is not None:
        limit_expr = limit.read("self") + (".map(i64::from)" if limit.value.kind is Kind.I32 else "")
    total = _page_field(types, page, pag.total_field)
    total_expr = "None"
    if total is not None and total.value.kind.integer:
        total_expr = total.option(True, widen=total.value.kind is Kind.I32)
    current = f"{offset.read('self')}.unwrap_or_default()"
    store = "<i32>::try_from(next_offset).ok()?" if narrow else "next_offset"
    return [
        f"let offset = {f'i64::from({current})' if narrow else current};",
        "let count = <Self as crate::runtime::Paginated>::count(&page.data);",
        f"let next_offset = crate::runtime::next_offset(offset, count, {limit_expr}, {total_expr})?;",
        "let mut next = self.clone();",
        offset.store("next", store),
        "Some(next)",
    ]


def _paging(
    types: RustTypes, shape: OperationShape, params: list[RustParam], page: RustType
) -> RustPaging | None:
    pag = shape.pagination
    if pag is None or shape.result.kind is not ResultKind.JSON or shape.result.may_be_empty:
        return None
    body = types.resolve(shape.result.type) if shape.result.type is not None else None
    obj = body if isinstance(body, ir.ObjectDef) else None
    if pag.items_field is not None and obj is None:
        return None
    items = _items(types, shape, obj)
    if items is None:
        return None
    inputs = _body_inputs(types, shape, params) if pag.cursor_in_body else _query_inputs(shape, params)
    if pag.style is PageStyle.LINK:
        nxt: list[str] | None = _LINK_NEXT
    elif pag.style is PageStyle.CURSOR:
        nxt = _cursor_next(types, shape, inputs, obj)
    else:
        nxt = _offset_next(types, shape, inputs, obj)
    if nxt is None:
        return None
    return RustPaging(page.rendered, types.expr(pag.item_type), items[0], items[1], nxt)


def _query_params(shape: OperationShape, params: list[RustParam]) -> list[RustParam]:
    """The builder parameters of the shape's query parameters (path parameters come first)."""
    start = len(shape.path_params)
    return params[start : start + len(shape.query_params)]


# Operations ----------------------------------------------------------------------------------------


def _operation(types: RustTypes, shape: OperationShape, method: str, builder: str) -> RustOperation:
    op = shape.operation
    params, path_fields, multipart = _params(types, shape)
    result, call = _result(types, shape)
    lines = doc(op.docs.text, f"The {code(op.id)} operation.")
    lines += ["///", f"/// `{op.http.method} {inline(op.http.path)}`"]
    return RustOperation(
        shape=shape,
        method=method,
        builder=builder,
        doc=lines,
        deprecated=op.docs.deprecated,
        params=params,
        verb=rust_string(op.http.method),
        path=_path_expr(op, path_fields),
        statements=_statements(shape, params, multipart),
        result=result,
        call=call,
        paging=_paging(types, shape, params, result),
    )


def _builder_words(models: set[str], op_id: str) -> str:
    """The words naming an operation's request builder: `<id> request`, or `<id> request builder`
    when a model already has that name (a proto request message, `ListRunEventsRequest`)."""
    words = f"{op_id} request"
    return f"{words} builder" if fix_type(pascal(split_words(words))) in models else words


def build_operations(api: ir.Api, types: RustTypes, decisions: Decisions) -> RustOperations:
    result = RustOperations(lint_allows=list(OPERATION_LINT_ALLOWS))
    type_namer = Namer(pascal, fix_type, "Operation", taken=types.names.values())
    models = set(types.names.values())
    accessors = Namer(snake, fix_leading_letter, "resource", taken=CLIENT_METHODS)
    tag_docs = {tag.name: tag.docs.text for tag in api.tags}
    for group in decisions.groups:
        group_name = type_namer.claim(f"{group} api")
        accessor = rust_fix_field(accessors.claim(group))
        methods = Namer(snake, fix_leading_letter, "call", taken=_RESOURCE_NAMES)
        operations = []
        for shape in decisions.by_group(group):
            # The operationId without the group's words, by Go's rule: listAgents in
            # agents → list, getAgentStatus → get_status; clashes get a numeric suffix.
            words = " ".join(method_words(shape.operation.id, group)) or shape.operation.id
            method = rust_fix_field(methods.claim(words))
            builder = type_namer.claim(_builder_words(models, shape.operation.id))
            operations.append(_operation(types, shape, method, builder))
        lines = doc(tag_docs.get(group, ""), f"The {code(group)} operations.")
        result.groups.append(RustGroup(group_name, accessor, lines, operations))
    return result
