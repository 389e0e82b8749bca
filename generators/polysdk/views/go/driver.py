"""The Go conformance driver's view: the generated dispatch of `cmd/polysdk-driver`.

The protocol engine (case parsing, client and option building, cancellation, modes, canonical
results, error mapping) is hand-written Go with its own tests: templates/go/driver/engine.go, copied
into the SDK. This module decides only the per-operation part (dispatch.go): one builder function
per operation that decodes the case's arguments (by their contract names, which every params field
records) into the operation's XxxParams struct and returns closures calling the SDK method of each
role the SDK offers (call; pages and items for paginated operations; stream for event streams).
The arguments are decoded once and the closures can be called any number of times, concurrently:
a load line prepares each operation of its mix once and then only calls.

Names and types come from the Go view's operations, so the driver calls the SDK exactly as
generated. Contract text only reaches the Go source through go_string literals and line comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from polysdk.literals import go_string, line_comment
from polysdk.plan import RuntimeFile, TemplateFile
from polysdk.views.common import DRIVER_CAPABILITIES, GET_BODY_CAPABILITY
from polysdk.views.go.client import GoClient
from polysdk.views.go.operations import Carrier, GoOperation, MethodRole, Origin

DIRECTORY = "cmd/polysdk-driver"
TEMPLATE = "go/driver/dispatch.go.j2"
OUTPUT = f"{DIRECTORY}/dispatch.go"
ENGINE_FILES = ("engine.go", "engine_test.go", "load.go", "load_test.go")
# The import path the hand-written engine is written against; replaced by the SDK's module path.
ENGINE_IMPORT = 'sdk "polysdk.example/sdk"'
SDK_ALIAS = "sdk"

# The Go driver also runs load lines (conformance/PROTOCOL.md, "Load lines": engine's load.go).
CAPABILITIES = (*DRIVER_CAPABILITIES, GET_BODY_CAPABILITY, "load")

_ARG_METHODS = {Carrier.VALUE: "decode", Carrier.READER: "reader", Carrier.FILE: "file"}


@dataclass
class DriverArg:
    """One argument of a params field. A JSON value is decoded into the field once:
    `<source>.decode(<key>, &p.<field>)`. A binary one (reader: base64 → io.Reader, file: → *File)
    is decoded once into `<var> := <source>.<method>(<key>)` and set on each call's copy of the
    params with `<var>.into(&p.<field>)`: a reader is consumed by the call that sends it, so every
    call (a load repeats one) needs its own."""

    source: str  # "a" (the case's args) or "parts" (the fields of a multipart body object)
    method: str  # decode | reader | file
    key: str  # Go literal of the contract name
    field: str  # the params struct field
    deprecated: bool = False  # the field is marked deprecated (staticcheck SA1019 is silenced)
    var: str = ""  # the local holding a binary argument's bytes ("" for decode)


@dataclass
class DriverMode:
    """One mode of an operation: a closure field of the engine's `operation` struct."""

    name: str  # call | pages | items | stream
    iteration: bool  # returns iter.Seq2[any, error] (else (any, error))
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

    @property
    def binary(self) -> list[DriverArg]:
        """The binary arguments, which each call sets afresh (the builder's `params` function)."""
        return [a for a in self.args if a.var]


@dataclass
class GoDriver:
    module: str  # Go literal of the SDK's module path (imported as `sdk`, reported in hello)
    capabilities: str  # Go expression: a []string literal
    operations: list[DriverOperation] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)  # import specs of dispatch.go


def _arguments(operation: GoOperation) -> list[DriverArg]:
    args: list[DriverArg] = []
    for f in operation.fields:
        method = _ARG_METHODS[f.carrier]
        args.append(
            DriverArg(
                "parts" if f.origin is Origin.PART else "a",
                method,
                go_string("body" if f.origin is Origin.BODY else f.wire),
                f.name,
                f.deprecated,
                "" if method == "decode" else f"bin{len(args)}",
            )
        )
    return args


def _modes(service: str, operation: GoOperation, binary: bool) -> list[DriverMode]:
    """One closure per method, by the method's role."""
    params = "params()" if binary else "p"
    args = f"ctx, {params}, o..." if operation.params_type else "ctx, o..."
    modes = []
    for method in operation.methods:
        call = f"c.{service}.{method.name}({args})"
        if method.role is MethodRole.CALL:
            expr = call if method.value else f"nil, {call}"
            modes.append(DriverMode("call", False, expr, method.deprecated))
        else:
            modes.append(DriverMode(method.role.value, True, f"anySeq({call})", method.deprecated))
    return modes


def _operation(index: int, service: str, operation: GoOperation) -> DriverOperation:
    op_id = operation.operation_id
    function = f"op{index}{service}{operation.first.name}"
    idempotency = operation.shape.idempotency_header or ""
    args = _arguments(operation)
    return DriverOperation(
        function=function,
        operation_id=go_string(op_id),
        doc=line_comment(
            f"{function} decodes the arguments of {op_id} into its parameters and returns "
            "the calls the driver can make.",
            "//",
        ),
        params_type=f"{SDK_ALIAS}.{operation.params_type}" if operation.params_type else "",
        args=args,
        parts=any(a.source == "parts" for a in args),
        idempotency_key=go_string(idempotency) if idempotency else "",
        modes=_modes(service, operation, any(a.var for a in args)),
    )


def build_driver(module: str, client: GoClient) -> GoDriver:
    """The dispatch of the driver of the Go SDK whose client the Go view built."""
    driver = GoDriver(
        module=go_string(module),
        capabilities="[]string{" + ", ".join(go_string(c) for c in CAPABILITIES) + "}",
    )
    seen: set[str] = set()
    for index, (service, operation) in enumerate(client.operations()):
        if operation.operation_id in seen:
            continue  # the driver dispatches on the operationId: the first one answers
        seen.add(operation.operation_id)
        driver.operations.append(_operation(index, service.field, operation))
    iterates = any(m.iteration for op in driver.operations for m in op.modes)
    standard = (['"context"'] if driver.operations else []) + (['"iter"'] if iterates else [])
    driver.imports = standard + ([f"{SDK_ALIAS} {driver.module}"] if driver.operations else [])
    return driver


def driver_files(
    module: str, client: GoClient, context: dict[str, object]
) -> tuple[TemplateFile, list[RuntimeFile]]:
    """The generated dispatch and the hand-written engine, bound to the SDK's module path."""
    context = {**context, "driver": build_driver(module, client)}
    replace = ((ENGINE_IMPORT, f"{SDK_ALIAS} {go_string(module)}"),)
    engine = [RuntimeFile(f"go/driver/{name}", f"{DIRECTORY}/{name}", replace) for name in ENGINE_FILES]
    return TemplateFile(TEMPLATE, OUTPUT, context), engine
