"""The Go conformance driver's view: what `cmd/polysdk-driver/main.go` says about each operation.

The driver (conformance/PROTOCOL.md) reads case lines on stdin, calls the generated SDK and writes
what it surfaced. Everything generic (case parsing, client and option building, cancellation,
modes, canonical results, error mapping) is fixed Go code in templates/go/driver/main.go.j2; this
module decides the per-operation part: one small builder function per operation that decodes the
case's arguments (by their contract names) into the operation's XxxParams struct and returns
closures calling the SDK method for each mode the SDK offers (call; pages and items for paginated
operations; stream for event streams).

Names and types are never decided here: they come from the Go view's operations (views/go.py), so
the driver always calls the SDK exactly as generated. Contract text only reaches the Go source
through go_string literals and line comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from polysdk import ir
from polysdk.decisions import OperationShape
from polysdk.literals import go_string, line_comment
from polysdk.views.common import DRIVER_CAPABILITIES
from polysdk.views.go import GoOperation

OUTPUT = "cmd/polysdk-driver/main.go"
TEMPLATE = "go/driver/main.go.j2"
SDK_ALIAS = "sdk"

_MODE_SIGNATURE = "func(ctx context.Context, c *sdk.Client, o []sdk.RequestOption)"


@dataclass
class DriverArg:
    """One argument decoded into a params field: `<source>.<method>(<key>, &p.<field>)`."""

    source: str  # "a" (the case's args) or "parts" (the fields of a multipart body object)
    method: str  # decode (JSON into the field's type) | reader (base64 → io.Reader) | file (→ *File)
    key: str  # Go literal of the contract name
    field: str  # the params struct field
    deprecated: bool = False  # the field is marked deprecated (staticcheck SA1019 is silenced)


@dataclass
class DriverMode:
    """One mode of an operation: a closure field of the driver's `operation` struct."""

    name: str  # call | pages | items | stream
    signature: str  # the closure's Go signature
    expr: str  # the returned Go expression list
    deprecated: bool = False  # the method is marked deprecated (staticcheck SA1019 is silenced)


@dataclass
class DriverOperation:
    function: str  # the builder's name
    operation_id: str  # Go literal of the operationId
    doc: list[str]
    params_type: str  # "sdk.XxxParams", or "" when the operation takes no parameters
    args: list[DriverArg]
    parts: bool  # whether a multipart body object is decoded into `parts`
    idempotency_key: str  # Go literal of the idempotency header's contract name, or ""
    modes: list[DriverMode]
    unsupported: str = ""  # Go literal: why the driver cannot call this operation; "" when it can


@dataclass
class GoDriver:
    module: str  # Go literal of the SDK's module path (imported as `sdk`, reported in hello)
    capabilities: str  # Go expression: a []string literal
    operations: list[DriverOperation] = field(default_factory=list)
    # Helpers emitted only when some operation uses them (staticcheck rejects unused functions).
    uses_args: bool = False  # take and fail, used by every decoder
    uses_decode: bool = False
    uses_base64: bool = False
    uses_seq: bool = False
    uses_reader: bool = False
    uses_file: bool = False
    uses_parts: bool = False
    uses_idempotency: bool = False


def _deprecated(doc: list[str]) -> bool:
    """Whether the Go view documented a symbol as deprecated, which staticcheck reports on use."""
    return any(line.startswith("// Deprecated:") for line in doc)


def _arg_method(go_type: str) -> str:
    if go_type == "io.Reader":
        return "reader"
    if go_type == "*File":
        return "file"
    return "decode"


def _arguments(api: ir.Api, shape: OperationShape, operation: GoOperation) -> tuple[list[DriverArg], bool]:
    """Pairs the params fields with the contract names they come from. The Go view adds fields in
    this order: path, query, header and cookie parameters, the stream's resume header, then the
    body (one field, or one per multipart part)."""
    keys = [p.wire_name for p in (*shape.path_params, *shape.query_params, *shape.header_params)]
    keys += [p.wire_name for p in shape.cookie_params]
    if shape.streaming is not None and shape.streaming.resume_header:
        keys.append(shape.streaming.resume_header)
    fields = operation.fields
    head, rest = fields[: len(keys)], fields[len(keys) :]
    args = [
        DriverArg("a", _arg_method(f.type), go_string(key), f.name, _deprecated(f.doc))
        for key, f in zip(keys, head, strict=True)
    ]
    body = shape.body
    parts = (
        body is not None and body.kind == "multipart" and not (len(rest) == 1 and rest[0].type == "io.Reader")
    )
    if not parts:
        if len(rest) != (0 if body is None else 1):
            raise ValueError(f"driver: cannot pair the parameters of {shape.operation.id} with their fields")
        args += [
            DriverArg("a", _arg_method(f.type), go_string("body"), f.name, _deprecated(f.doc)) for f in rest
        ]
        return args, False
    part_names = _multipart_parts(api, shape)
    if len(part_names) != len(rest):
        raise ValueError(f"driver: cannot pair the multipart parts of {shape.operation.id} with their fields")
    args += [
        DriverArg("parts", _arg_method(f.type), go_string(name), f.name, _deprecated(f.doc))
        for name, f in zip(part_names, rest, strict=True)
    ]
    return args, True


def _multipart_parts(api: ir.Api, shape: OperationShape) -> list[str]:
    """The part names of a multipart body object, in the order the Go view made their fields."""
    t = shape.body.type if shape.body is not None else None
    seen: set[str] = set()
    while isinstance(t, ir.NamedRef) and t.name not in seen:
        seen.add(t.name)
        definition = api.types_by_name[t.name].definition
        if isinstance(definition, ir.ObjectDef):
            return [f.wire_name for f in definition.fields]
        t = definition.target if isinstance(definition, ir.AliasDef) else None
    return []


def _modes(service: str, operation: GoOperation) -> list[DriverMode]:
    """The closures calling the SDK: the method's first form decides call or stream; a paginated
    operation also has its XxxPages and XxxAll forms."""
    args = "ctx, p, o..." if operation.params_type else "ctx, o..."
    methods = operation.methods
    call = f"c.{service}.{methods[0].name}({args})"
    deprecated = _deprecated(methods[0].doc)
    if methods[0].returns.startswith("iter.Seq2["):
        return [
            DriverMode("stream", f"{_MODE_SIGNATURE} iter.Seq2[any, error]", f"anySeq({call})", deprecated)
        ]
    value = f"nil, {call}" if methods[0].returns == "error" else call
    modes = [DriverMode("call", f"{_MODE_SIGNATURE} (any, error)", value, deprecated)]
    if len(methods) == 3:
        for mode, method in (("pages", methods[1]), ("items", methods[2])):
            expr = f"anySeq(c.{service}.{method.name}({args}))"
            modes.append(
                DriverMode(mode, f"{_MODE_SIGNATURE} iter.Seq2[any, error]", expr, _deprecated(method.doc))
            )
    return modes


def build_driver(api: ir.Api, module: str, chosen: list[tuple[OperationShape, str, GoOperation]]) -> GoDriver:
    """The driver of the Go SDK whose operations the Go view built (`chosen`: every operation with
    its Client field, as build_client returns them)."""
    driver = GoDriver(
        module=go_string(module),
        capabilities="[]string{" + ", ".join(go_string(c) for c in DRIVER_CAPABILITIES) + "}",
    )
    seen: set[str] = set()
    for index, (shape, service, operation) in enumerate(chosen):
        op_id = shape.operation.id
        if op_id in seen:
            continue  # the driver dispatches on the operationId: the first one answers
        seen.add(op_id)
        function = f"op{index}{service}{operation.methods[0].name}"
        idempotency = shape.idempotency_header or ""
        try:
            args, parts = _arguments(api, shape, operation)
            modes = _modes(service, operation)
        except ValueError as exc:  # answered `unsupported` rather than failing the generation
            args, parts, modes, idempotency = [], False, [], ""
            unsupported = go_string(str(exc))
        else:
            unsupported = ""
        driver.operations.append(
            DriverOperation(
                function=function,
                operation_id=go_string(op_id),
                doc=line_comment(
                    f"{function} decodes the arguments of {op_id} into its parameters and returns "
                    "the calls the driver can make.",
                    "//",
                ),
                params_type=f"{SDK_ALIAS}.{operation.params_type}" if operation.params_type and modes else "",
                args=args,
                parts=parts,
                idempotency_key=go_string(idempotency) if idempotency else "",
                modes=modes,
                unsupported=unsupported,
            )
        )
        driver.uses_seq |= any(m.name != "call" for m in modes)
        driver.uses_reader |= any(a.method == "reader" for a in args)
        driver.uses_file |= any(a.method == "file" for a in args)
        driver.uses_parts |= parts
        driver.uses_idempotency |= bool(idempotency)
        driver.uses_decode |= any(a.method == "decode" for a in args)
    driver.uses_base64 = driver.uses_reader or driver.uses_file
    driver.uses_args = (
        driver.uses_decode or driver.uses_base64 or driver.uses_parts or driver.uses_idempotency
    )
    return driver
