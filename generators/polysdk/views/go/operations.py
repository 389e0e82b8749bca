"""Go operations: one XxxParams struct, one request builder and the exported methods of each
operation, as Go statements the templates write out line by line.

An operation is built in two steps so that names come before code: `OperationBuilder.operation`
decides the parameters, the request and which methods exist (each with its role: call, pages,
items or stream); once the service has made every method name unique, `write_methods` writes the
methods' docs and bodies with the final names.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from polysdk import ir
from polysdk.decisions import BodyKind, BodyShape, OperationShape, PageStyle, Pagination, ResultKind
from polysdk.decisions.operations import CONNECT_STREAM_MEDIA
from polysdk.literals import go_string, line_comment
from polysdk.views.go.godoc import go_doc
from polysdk.views.go.models import GoField, GoModels, doc_lines
from polysdk.views.go.types import ANY, FILE, READ_CLOSER, READER, STRING, GoType, GoTypes, exported_namer


class MethodRole(enum.StrEnum):
    CALL = "call"  # one request, one result
    PAGES = "pages"  # iter.Seq2 over the pages of a paginated operation
    ITEMS = "items"  # iter.Seq2 over the items of every page
    STREAM = "stream"  # iter.Seq2 over the events of an event stream or the messages of a Connect stream


class Origin(enum.StrEnum):
    """Where a params field comes from in the contract."""

    PARAM = "param"  # a path, query, header or cookie parameter (`param` is set)
    RESUME = "resume"  # the stream's resume header (Last-Event-ID)
    BODY = "body"  # the whole request body
    PART = "part"  # one part of a multipart body object


class Carrier(enum.StrEnum):
    """How a field carries its value."""

    VALUE = "value"  # a Go value encoded as the contract says
    READER = "reader"  # an io.Reader streamed as the body
    FILE = "file"  # a *File multipart part


@dataclass
class GoParamField:
    name: str
    type: GoType
    doc: list[str]
    origin: Origin
    wire: str  # the contract name: the parameter, the resume header, the part; "body" for a body
    carrier: Carrier = Carrier.VALUE
    deprecated: bool = False
    param: ir.Param | None = None


@dataclass
class GoMethod:
    """One exported method of a service: its role, signature and body (Go lines)."""

    role: MethodRole
    name: str
    params: str  # the parameter list after ctx, e.g. "params ListAgentsParams, " or ""
    returns: GoType  # the whole result list, e.g. (*Agent, error)
    value: bool = True  # False when the method returns only an error
    deprecated: bool = False
    doc: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    imports: frozenset[str] = frozenset()  # what the body needs beyond its signature


@dataclass
class Paging:
    """How the Pages and All methods walk a paginated operation."""

    page: GoType
    item: GoType
    next_call: str
    items_expr: str


@dataclass
class GoOperation:
    operation_id: str
    http_method: str  # Go literal
    builder: str  # unexported method building the request
    params_type: str  # "" when the operation takes no parameters
    params_doc: list[str]
    fields: list[GoParamField]
    builder_arg: str  # "params ListAgentsParams" or ""
    build: list[str]  # Go statements building `r`
    methods: list[GoMethod]
    shape: OperationShape
    doc: list[str]  # the call method's doc
    result: GoType | None = None  # the decoded JSON result, or one event of a stream
    result_by_pointer: bool = False  # the call returns *result (result is not nilable)
    paging: Paging | None = None

    def method(self, role: MethodRole) -> GoMethod | None:
        return next((m for m in self.methods if m.role is role), None)

    @property
    def first(self) -> GoMethod:
        return self.methods[0]


_PATH_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/%")


def _escape_path_literal(text: str) -> str:
    out = []
    for char in text:
        if char in _PATH_SAFE:
            out.append(char)
        else:
            out.extend(f"%{b:02X}" for b in char.encode("utf-8"))
    return "".join(out)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _param_doc(param: ir.Param) -> list[str]:
    where = param.location.value
    doc = doc_lines(param.docs.text, f"The {param.wire_name!r} {where} parameter.")
    doc += line_comment(
        f"Sent as the {where} parameter {param.wire_name!r}"
        + ("; required." if param.required else "; optional, left out when nil."),
        "//",
    )
    if param.docs.deprecated:
        doc += ["//", "// Deprecated: the contract marks this parameter as deprecated."]
    return doc


def _optional(required: bool, name: str, when_required: str, when_set: str) -> list[str]:
    """A body statement: as is when the body is required, else only when its field is set."""
    if required:
        return [when_required]
    return [f"if params.{name} != nil {{", f"\t{when_set}", "}"]


class _Fields:
    """The params fields of one operation, named in the order they are added."""

    def __init__(self) -> None:
        self.namer = exported_namer("Param")
        self.fields: list[GoParamField] = []

    def add(
        self, hint: str, go_type: GoType, doc: list[str], origin: Origin, wire: str, **extra: object
    ) -> str:
        name = self.namer.claim(hint)
        self.fields.append(GoParamField(name, go_type, doc, origin, wire, **extra))  # type: ignore[arg-type]
        return name

    def param(self, param: ir.Param, go_type: GoType) -> str:
        return self.add(
            param.wire_name,
            go_type,
            _param_doc(param),
            Origin.PARAM,
            param.wire_name,
            deprecated=param.docs.deprecated,
            param=param,
        )


_DEPRECATED = ["//", "// Deprecated: the contract marks this operation as deprecated."]


def _operation_doc(shape: OperationShape, method_name: str) -> list[str]:
    op = shape.operation
    doc = line_comment(f"{method_name} calls {op.id} ({op.http.method} {op.http.path}).", "//")
    summary = op.docs.summary.strip()
    if summary and summary[-1:].isalnum():
        summary += "."  # a one-line paragraph without a period would become a heading
    parts = [summary] if summary and op.docs.summary not in op.docs.description else []
    parts += [op.docs.description] if op.docs.description else []
    text = "\n\n".join(parts)
    if text:
        doc += ["//", *go_doc(text)]
    statuses = [e.status for e in shape.errors]
    if statuses:
        doc += [
            "//",
            *line_comment(
                f"Documented error statuses: {', '.join(statuses)}; each arrives as an *APIError "
                "(errors.Is matches ErrNotFound and the other Err values).",
                "//",
            ),
        ]
    if op.docs.deprecated:
        doc += _DEPRECATED
    return doc


# The runtime function iterating over each kind of stream, and whether it takes a resume header.
_STREAM_FUNCTIONS = {ResultKind.SSE: ("stream", True), ResultKind.CONNECT_STREAM: ("connectStream", False)}


def _connect(shape: OperationShape) -> bool:
    return shape.protocol is ir.Protocol.CONNECT


def _connect_body(body: BodyShape, value: str) -> str:
    """The request message of a Connect call (the proto front end always gives one): JSON, one
    envelope for a server stream."""
    stream = body.media_type == CONNECT_STREAM_MEDIA
    return f"r.connectBody({go_string(body.media_type)}, {_bool(stream)}, {value})"


def _policy_lines(shape: OperationShape) -> list[str]:
    """Credentials, retries, idempotency, the protocol, google.rpc.Status errors and the Accept
    header: the decisions, rendered."""
    lines = ["r.connect = true"] if _connect(shape) else []
    if shape.status_errors:
        lines.append("r.statusErrors = true")
    lines.append(f"r.authenticated = {_bool(shape.auth is not None)}")
    if shape.auth is not None and not shape.auth.bearer:
        lines.append("r.noBearer = true")
    if shape.auth is not None and not shape.auth.api_key:
        lines.append("r.noAPIKey = true")
    lines.append(f"r.retryable = {_bool(shape.retryable)}")
    if shape.idempotency_header:
        lines.append(f"r.idempotencyHeader = {go_string(shape.idempotency_header)}")
    if shape.result.kind is ResultKind.BINARY:
        lines.append("r.streamed = true")
    lines.append(f"r.accept = {go_string(shape.accept)}")
    return lines


class OperationBuilder:
    def __init__(self, types: GoTypes, models: GoModels) -> None:
        self.types = types
        self.api = types.api
        self.models = models
        self.warnings: list[str] = []  # decisions this view cannot express

    def _field(self, t: ir.Type | None, wire: str) -> GoField | None:
        name = self.types.object_name(t)
        struct = self.models.struct(self.types.type_names[name]) if name is not None else None
        return struct.wire_fields.get(wire) if struct is not None else None

    def operation(self, shape: OperationShape, method_name: str, builder: str) -> GoOperation:
        """The operation's fields, request and methods (named, without docs and bodies yet)."""
        op = shape.operation
        fields = _Fields()
        build = [self._path_line(shape, fields)]
        build += self._param_lines(shape, fields)
        build += self._resume_lines(shape, fields)
        if shape.body is not None:
            build += self._body_lines(shape, fields)
        build += _policy_lines(shape)
        params_type = self.types.namer.claim(f"{op.id} params") if fields.fields else ""
        operation = GoOperation(
            operation_id=op.id,
            http_method=go_string(op.http.method),
            builder=builder,
            params_type=params_type,
            params_doc=line_comment(
                f"{params_type} holds the parameters of {method_name} ({op.id}). Nil pointers are left out.",
                "//",
            ),
            fields=fields.fields,
            builder_arg=f"params {params_type}" if params_type else "",
            build=build,
            methods=[],
            shape=shape,
            doc=_operation_doc(shape, method_name),
        )
        operation.methods = self._methods(operation, method_name)
        return operation

    def _path_line(self, shape: OperationShape, fields: _Fields) -> str:
        """Literal parts escaped here, parameters escaped as one segment at run time."""
        path_fields = {
            p.wire_name: fields.param(p, self.types.param_type(p.type, True)) for p in shape.path_params
        }
        pieces: list[str] = []
        for index, part in enumerate(re.split(r"\{([^{}]*)\}", shape.path)):
            if index % 2 == 1 and part in path_fields:
                pieces.append(f"r.pathSegment({go_string(part)}, params.{path_fields[part]})")
            else:
                literal = _escape_path_literal(part if index % 2 == 0 else "{" + part + "}")
                if literal:
                    pieces.append(go_string(literal))
        return "r.path = " + (" + ".join(pieces) or '""')

    def _param_lines(self, shape: OperationShape, fields: _Fields) -> list[str]:
        lines = []
        for param in shape.query_params:
            name = fields.param(param, self.types.param_type(param.type, param.required))
            lines.append(
                f"r.query.add({go_string(param.wire_name)}, {go_string(param.style or 'form')}, "
                f"{_bool(param.explode)}, params.{name})"
            )
        for param in shape.header_params:
            name = fields.param(param, self.types.param_type(param.type, param.required))
            lines.append(f"r.setHeader({go_string(param.wire_name)}, params.{name})")
        for param in shape.cookie_params:
            name = fields.param(param, self.types.param_type(param.type, param.required))
            lines.append(f"r.addCookie({go_string(param.wire_name)}, params.{name})")
        return lines

    def _resume_lines(self, shape: OperationShape, fields: _Fields) -> list[str]:
        resume = shape.streaming.resume_header if shape.streaming else None
        if not resume:
            return []
        doc = line_comment(
            f"LastEventID resumes the stream after this event id (sent as {resume!r}); "
            "reconnects after a dropped connection send the last id received.",
            "//",
        )
        name = fields.add("last event id", STRING, doc, Origin.RESUME, resume)
        return [f'if params.{name} != "" {{', f"\tr.setHeader({go_string(resume)}, params.{name})", "}"]

    def _body_lines(self, shape: OperationShape, fields: _Fields) -> list[str]:
        body = shape.body
        assert body is not None
        media = go_string(body.media_type)
        body_doc = line_comment(
            (shape.operation.body.docs.text if shape.operation.body else "")
            or f"The request body ({body.media_type}).",
            "//",
        )
        if body.kind is BodyKind.BINARY or (
            body.kind is BodyKind.MULTIPART and self.types.object_name(body.type) is None
        ):
            doc = [*body_doc, "//", "// Streamed as is; a retry resends it only when it is an io.Seeker."]
            name = fields.add("body", READER, doc, Origin.BODY, "body", carrier=Carrier.READER)
            return [f"r.readerBody({media}, params.{name}, {_bool(body.required)})"]
        if body.kind is BodyKind.MULTIPART:
            return self._multipart_lines(shape, fields)
        if body.kind is BodyKind.TEXT:
            name = fields.add(
                "body", STRING if body.required else STRING.ptr(), body_doc, Origin.BODY, "body"
            )
            return _optional(
                body.required,
                name,
                f"r.textBody({media}, params.{name})",
                f"r.textBody({media}, *params.{name})",
            )
        go_type = self.types.value_type(body.type) if body.type is not None else ANY
        if not body.required and not self.types.value_nilable(body.type, go_type):
            go_type = go_type.ptr()
        if _connect(shape):
            name = fields.add("body", go_type, body_doc, Origin.BODY, "body")
            return [_connect_body(body, f"params.{name}")]
        doc = body_doc + (["//", "// Optional: nil sends no body."] if not body.required else [])
        name = fields.add("body", go_type, doc, Origin.BODY, "body")
        call = "r.formBody" if body.kind is BodyKind.FORM else "r.jsonBody"
        statement = f"{call}({media}, params.{name})"
        return _optional(body.required, name, statement, statement)

    def _multipart_lines(self, shape: OperationShape, fields: _Fields) -> list[str]:
        body = shape.body
        assert body is not None
        object_name = self.types.object_name(body.type)
        assert object_name is not None
        definition = self.api.types_by_name[object_name].definition
        assert isinstance(definition, ir.ObjectDef)
        encodings: dict[str, str] = {}
        if shape.operation.body is not None:
            for content in shape.operation.body.contents:
                if content.media_type == body.media_type:
                    encodings = {e.part: e.content_type for e in content.encodings}
        # An optional body left empty is not sent (runtime encode.go, optionalMultipart).
        lines = ["m := r.multipart()" if body.required else "m := r.optionalMultipart()"]
        for f in definition.fields:
            base = f.type.inner if isinstance(f.type, ir.Nullable) else f.type
            content_type = go_string(encodings.get(f.wire_name, ""))
            doc = doc_lines(f.docs.text, f"The {f.wire_name!r} part.")
            extra = {"deprecated": f.docs.deprecated}
            if isinstance(base, ir.PrimitiveType) and base.kind is ir.Prim.BINARY:
                name = fields.add(
                    f.wire_name, FILE, doc, Origin.PART, f.wire_name, carrier=Carrier.FILE, **extra
                )
                lines.append(
                    f"m.file({go_string(f.wire_name)}, params.{name}, {content_type}, {_bool(f.required)})"
                )
            else:
                go_type = self.types.param_type(f.type, f.required)
                name = fields.add(f.wire_name, go_type, doc, Origin.PART, f.wire_name, **extra)
                lines.append(f"m.field({go_string(f.wire_name)}, params.{name}, {content_type})")
        lines.append("m.done()")
        return lines

    def _methods(self, operation: GoOperation, name: str) -> list[GoMethod]:
        """The operation's methods by role, with their signatures."""
        shape = operation.shape
        result = shape.result
        params = f"params {operation.params_type}, " if operation.params_type else ""
        deprecated = shape.operation.docs.deprecated
        if result.kind in _STREAM_FUNCTIONS:
            event = self.types.of(result.type) if result.type is not None else self.types.value_type(None)
            operation.result = event
            returns = GoType(f"iter.Seq2[{event.expr}, error]", event.imports | {"iter"})
            return [GoMethod(MethodRole.STREAM, name, params, returns, deprecated=deprecated)]
        if result.kind is ResultKind.EMPTY:
            return [
                GoMethod(MethodRole.CALL, name, params, GoType("error"), value=False, deprecated=deprecated)
            ]
        if result.kind is ResultKind.TEXT:
            return [GoMethod(MethodRole.CALL, name, params, GoType("(string, error)"), deprecated=deprecated)]
        if result.kind is ResultKind.BINARY:
            returns = GoType("(io.ReadCloser, error)", READ_CLOSER.imports)
            return [GoMethod(MethodRole.CALL, name, params, returns, deprecated=deprecated)]
        go_type = self.types.value_type(result.type)
        operation.result = go_type
        operation.result_by_pointer = result.may_be_empty or not self.types.value_nilable(
            result.type, go_type
        )
        value = go_type.ptr() if operation.result_by_pointer else go_type
        returns = GoType(f"({value.expr}, error)", value.imports)
        methods = [GoMethod(MethodRole.CALL, name, params, returns, deprecated=deprecated)]
        paging = None if result.may_be_empty else self._paging(shape, go_type)
        if shape.pagination is not None and paging is None:
            self.warnings.append(
                f"go: {shape.operation.id}: the Go SDK cannot express its {shape.pagination.style} "
                "pagination, so it has no Pages and All methods (only the one-page call)"
            )
        if paging is not None:
            operation.paging = paging
            pages = GoType(f"iter.Seq2[*{go_type.expr}, error]", go_type.imports | {"iter"})
            items = GoType(f"iter.Seq2[{paging.item.expr}, error]", paging.item.imports | {"iter"})
            methods.append(GoMethod(MethodRole.PAGES, f"{name}Pages", params, pages, deprecated=deprecated))
            methods.append(GoMethod(MethodRole.ITEMS, f"{name}All", params, items, deprecated=deprecated))
        return methods

    def _paging(self, shape: OperationShape, page: GoType) -> Paging | None:
        """How to walk the pages; None when the view cannot express the contract's pagination."""
        p = shape.pagination
        if p is None:
            return None
        item = self.types.of(p.item_type)
        if p.style is PageStyle.LINK:
            if shape.result.type is None or not self.types.nilable(shape.result.type):
                return None
            return Paging(page, item, "nextLink(r, resp)", "*page")
        items = self._field(shape.result.type, p.items_field) if p.items_field is not None else None
        if items is None or items.type.pointer:
            return None
        items_expr = f"valueOf(page.{items.name})" if items.type.wrapper else f"page.{items.name}"
        next_call = self._next_call(shape, p, items_expr)
        return Paging(page, item, next_call, items_expr) if next_call is not None else None

    def _page_field(self, shape: OperationShape, wire: str | None) -> str:
        """`page.<Field>` for a field of the page, or nil when the contract has none."""
        found = self._field(shape.result.type, wire) if wire else None
        return f"page.{found.name}" if found is not None else "nil"

    def _next_call(self, shape: OperationShape, p: Pagination, items_expr: str) -> str | None:
        if p.style is PageStyle.CURSOR and p.cursor_param and p.next_cursor_field:
            cursor = self._page_field(shape, p.next_cursor_field)
            if cursor == "nil":
                return None
            more = self._page_field(shape, p.has_more_field)
            # The cursor is a field of the JSON request body (a Connect method), else a query parameter.
            function = "nextBodyCursor" if p.cursor_in_body else "nextCursor"
            return f"{function}(r, {go_string(p.cursor_param)}, {cursor}, {more})"
        if p.style is PageStyle.OFFSET and p.offset_param and not p.cursor_in_body:
            limit = go_string(p.limit_param or "")
            total = self._page_field(shape, p.total_field)
            return f"nextOffset(r, {go_string(p.offset_param)}, len({items_expr}), {limit}, {total})"
        return None


# ---------------------------------------------------------------------------------------------
# Docs and bodies, written once every method has its final name


def _send(request: str) -> list[str]:
    return [f"resp, err := s.core.send(ctx, {request}, opts)"]


def _call_body(operation: GoOperation, request: str) -> list[str]:
    kind = operation.shape.result.kind
    if kind is ResultKind.EMPTY:
        return [*_send(request), "if err != nil {", "\treturn err", "}", "discard(resp)", "return nil"]
    if kind is ResultKind.TEXT:
        return [*_send(request), "if err != nil {", '\treturn "", err', "}", "return decodeText(resp)"]
    if kind is ResultKind.BINARY:
        return [*_send(request), "if err != nil {", "\treturn nil, err", "}", "return resp.Body, nil"]
    assert operation.result is not None
    go_type = operation.result.expr
    head = [*_send(request), "if err != nil {", "\treturn nil, err", "}"]
    if operation.shape.result.may_be_empty:
        return [*head, f"return decodeOptionalJSON[{go_type}](resp)"]
    decode = [f"value, _, err := decodeJSON[{go_type}](resp)", "if err != nil {", "\treturn nil, err", "}"]
    return [*head, *decode, "return &value, nil" if operation.result_by_pointer else "return value, nil"]


def _call_doc(operation: GoOperation) -> list[str]:
    kind = operation.shape.result.kind
    if kind is ResultKind.SSE:
        return [
            *operation.doc,
            "//",
            "// The events are read lazily as the loop runs; breaking out closes the stream.",
        ]
    if kind is ResultKind.CONNECT_STREAM:
        return [
            *operation.doc,
            "//",
            "// A Connect server stream: the messages are read lazily as the loop runs, and breaking out",
            "// closes the stream. An error the server ends the stream with is the last item; a stream",
            "// is never retried or resumed once it has started.",
        ]
    if kind is ResultKind.BINARY:
        return [*operation.doc, "//", "// The caller reads the returned body as a stream and must close it."]
    if kind is ResultKind.JSON and operation.shape.result.may_be_empty:
        return [*operation.doc, "//", "// A response without a body (such as 204) returns nil and no error."]
    return operation.doc


def write_methods(operation: GoOperation) -> None:
    """Writes every method's doc and body, calling the other methods by their final names."""
    call_args = "params" if operation.params_type else ""
    request = f"s.{operation.builder}({call_args})"
    shape = operation.shape
    op_id = shape.operation.id
    pages = operation.method(MethodRole.PAGES)
    for method in operation.methods:
        if method.role is MethodRole.STREAM:
            assert operation.result is not None
            event = operation.result.expr
            function, resumes = _STREAM_FUNCTIONS[shape.result.kind]
            args = f"ctx, s.core, {request}, opts"
            if resumes:
                args += ", " + (go_string(shape.streaming.resume_header or "") if shape.streaming else '""')
            method.doc = _call_doc(operation)
            method.body = [f"return {function}[{event}]({args})"]
        elif method.role is MethodRole.CALL:
            method.doc = _call_doc(operation)
            method.body = _call_body(operation, request)
        elif method.role is MethodRole.PAGES:
            assert operation.paging is not None
            page = operation.paging.page.expr
            method.doc = line_comment(
                f"{method.name} iterates over the pages of {op_id}, requesting each page only when the "
                f"loop asks for it ({shape.pagination.style if shape.pagination else ''} pagination).",
                "//",
            )
            method.body = [
                f"return pages(ctx, s.core, {request}, opts, decodePage[{page}], "
                f"func(page *{page}, resp *http.Response, r *request) *request {{",
                f"\treturn {operation.paging.next_call}",
                "})",
            ]
            method.imports = frozenset({"net/http"})
            method.doc += _DEPRECATED if method.deprecated else []
        else:
            assert operation.paging is not None and pages is not None
            paging = operation.paging
            method.doc = line_comment(
                f"{method.name} iterates over the items of every page of {op_id}, lazily. "
                "An error ends the iteration.",
                "//",
            )
            method.body = [
                f"return all(s.{pages.name}(ctx, {call_args + ', ' if call_args else ''}opts...), "
                f"func(page *{paging.page.expr}) []{paging.item.expr} {{",
                f"\treturn {paging.items_expr}",
                "})",
            ]
            method.doc += _DEPRECATED if method.deprecated else []
