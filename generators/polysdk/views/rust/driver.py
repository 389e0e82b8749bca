"""The Rust conformance driver: a cargo example `examples/polysdk_driver/` next to the SDK, emitted
only with `--drivers`.

`main.rs` and `engine.rs` are hand-written (templates/rust/driver/, with the engine's own unit
tests: `cargo test --example polysdk_driver`): the JSON-lines protocol of conformance/PROTOCOL.md,
client and call options, cancellation, result encoding, load lines. Only `dispatch.rs` is
generated here: one small function per operation decodes the arguments (by contract name, with
serde into the parameter's Rust type) once, builds the request with exactly the methods and
setters the SDK has, and hands the engine's runner for the mode a closure that sends a clone of
that builder: a case calls it once, a load line as many times as it schedules the entry.

Every decision reads the roles of the operations view (`RustParam.source`/`.role`,
`RustOperation.reads`/`.paging`); contract text appears only in Rust string literals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from polysdk.decisions import ResultKind
from polysdk.literals import rust_string
from polysdk.plan import RuntimeFile, TemplateFile
from polysdk.views.common import DRIVER_CAPABILITIES, GET_BODY_CAPABILITY
from polysdk.views.rust.operations import Role, RustOperation, RustOperations, RustParam, Source

DIRECTORY = "examples/polysdk_driver"
# The Rust driver also runs load lines (conformance/PROTOCOL.md, "Load lines": the engine's load
# section); every generated operation function prepares its call once, for a case or a load.
CAPABILITIES = (*DRIVER_CAPABILITIES, GET_BODY_CAPABILITY, "load")
DISPATCH = f"{DIRECTORY}/dispatch.rs"
ENGINE_FILES = ("main", "engine")


@dataclass(frozen=True)
class DriverArg:
    """One builder parameter as the driver decodes it."""

    getter: str  # the expression decoding it: Result<Option<T>, String>
    wire: str  # Rust string literal of its contract name
    setter: str  # the builder method of an optional parameter ("" when required)


@dataclass(frozen=True)
class DriverArm:
    mode: str  # the engine's Mode variant
    runner: str  # the engine function preparing the call in that mode (from a closure)
    source: str  # the builder's method giving it the future or stream (on a clone of `b`)


@dataclass
class DriverOperation:
    id: str  # Rust string literal of the operationId
    function: str  # the driver function calling it
    call: str  # `client.<accessor>().<method>`
    required: list[DriverArg]
    optional: list[DriverArg]
    arms: list[DriverArm]
    idempotency: str = "None"  # Rust Option<&str>: the idempotency-key header, taken as an option
    resume: str = "None"  # Rust Option<&str>: the event stream's resume header, taken as an option

    @property
    def binding(self) -> str:
        return "let mut b" if self.optional else "let b"

    @property
    def start(self) -> str:
        """The expression creating the request builder (required arguments decoded inline)."""
        args = ", ".join(f"crate::engine::need({a.getter}?, {a.wire})?" for a in self.required)
        return f"{self.call}({args})"

    @property
    def setters(self) -> list[str]:
        """Statements applying the optional arguments that are present."""
        return [f"if let Some(v) = {a.getter}? {{ b = b.{a.setter}(v); }}" for a in self.optional]


@dataclass
class DriverDispatch:
    id: str  # Rust string literal of the operationId
    function: str  # the driver function answering it ("" when unsupported)
    unsupported: str  # Rust string literal: why the driver cannot call it


@dataclass
class RustDriver:
    crate_ident: str
    sdk_name: str  # Rust string literal
    sdk_version: str  # Rust string literal
    capabilities: list[str]  # Rust string literals
    operations: list[DriverOperation] = field(default_factory=list)
    dispatch: list[DriverDispatch] = field(default_factory=list)


def getter(param: RustParam) -> str | None:
    """The expression decoding a parameter's value as Result<Option<T>, String>, or None when the
    driver cannot build the parameter's value from JSON."""
    wire = rust_string(param.wire)
    if param.role is Role.FILE:
        return f"a.part_file({wire})" if param.source is Source.PART else None
    if param.role is Role.BYTES:
        return "a.body_bytes()" if param.source is Source.BODY else None
    if param.role is Role.MULTIPART:
        return None  # a raw multipart body is assembled by the caller
    rust_type = param.value.rendered
    if param.source is Source.BODY:
        return f"a.body::<{rust_type}>()"
    return f"a.{param.source.value}::<{rust_type}>({wire})"


def _arms(op: RustOperation) -> list[DriverArm]:
    if op.reads is ResultKind.SSE:
        return [DriverArm("Stream", "stream", "b.send_with_response()")]
    if op.reads is ResultKind.CONNECT_STREAM:
        return [DriverArm("Stream", "messages", "b.send_with_response()")]
    if op.reads is ResultKind.BINARY:
        return [DriverArm("Call", "call_binary", "b.send_with_response()")]
    arms = [DriverArm("Call", "call", "b.send_with_response()")]
    if op.paging is not None:
        arms += [DriverArm("Pages", "pages", "b.pages()"), DriverArm("Items", "items", "b.items()")]
    return arms


def driver_operation(accessor: str, op: RustOperation, function: str) -> DriverOperation | str:
    """The driver function of one operation, or why the driver cannot express it."""
    required: list[DriverArg] = []
    optional: list[DriverArg] = []
    for param in op.params:
        found = getter(param)
        if found is None:
            return f"the driver cannot build the {param.wire!r} {param.source.value} from JSON"
        if param.required:
            required.append(DriverArg(found, rust_string(param.wire), ""))
        else:
            optional.append(DriverArg(found, rust_string(param.wire), param.ident))
    return DriverOperation(
        id=rust_string(op.shape.operation.id),
        function=function,
        call=f"client.{accessor}().{op.method}",
        required=required,
        optional=optional,
        arms=_arms(op),
        idempotency=_option_name(op.shape.idempotency_header),
        resume=_option_name(op.shape.streaming.resume_header if op.shape.streaming else None),
    )


def _option_name(name: str | None) -> str:
    """A header argument the SDK takes as a per-call option, as a Rust `Option<&str>`."""
    return f"Some({rust_string(name)})" if name else "None"


def build_driver(operations: RustOperations, crate: str, sdk_version: str) -> RustDriver:
    driver = RustDriver(
        crate_ident=crate.replace("-", "_"),
        sdk_name=rust_string(crate),
        sdk_version=rust_string(sdk_version),
        capabilities=[rust_string(c) for c in CAPABILITIES],
    )
    seen: set[str] = set()
    for group in operations.groups:
        for op in group.operations:
            op_id = op.shape.operation.id
            if op_id in seen:
                continue  # a repeated operationId can only ever answer as its first operation
            seen.add(op_id)
            function = f"op_{len(driver.dispatch)}"
            built = driver_operation(group.accessor, op, function)
            if isinstance(built, str):
                driver.dispatch.append(DriverDispatch(rust_string(op_id), "", rust_string(built)))
            else:
                driver.operations.append(built)
                driver.dispatch.append(DriverDispatch(rust_string(op_id), function, ""))
    return driver


def driver_files(
    operations: RustOperations, crate: str, sdk_version: str
) -> tuple[list[TemplateFile], list[RuntimeFile]]:
    """The driver's generated dispatch and its hand-written engine files."""
    driver = build_driver(operations, crate, sdk_version)
    generated = [TemplateFile("rust/driver/dispatch.rs.j2", DISPATCH, {"driver": driver})]
    engine = [RuntimeFile(f"rust/driver/{name}.rs", f"{DIRECTORY}/{name}.rs") for name in ENGINE_FILES]
    return generated, engine
