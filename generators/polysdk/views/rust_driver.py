"""The Rust conformance driver's view: `examples/polysdk_driver.rs` next to the Rust SDK.

The driver speaks the JSON-lines protocol of conformance/PROTOCOL.md: it reads one case per line,
calls the SDK's typed request builder and prints what the SDK surfaced. Everything specific to one
contract is decided here from the Rust view's own decisions (`RustOperation`, `RustParam`), so the
driver calls exactly the methods and setters the SDK has: one small function per operation decodes
the case's arguments (by contract name, with serde into the parameter's Rust type), builds the
request and hands the SDK's future or stream to a generic runner (call, pages, items or stream).
The protocol machinery itself (client building, cancellation, result encoding) is plain Rust in
the template, written once.

Every contract-derived literal goes through `rust_string`; contract text appears nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from polysdk import ir
from polysdk.decisions import Decisions as Surface
from polysdk.decisions import OperationShape
from polysdk.literals import rust_string
from polysdk.plan import TemplateFile
from polysdk.views.common import DRIVER_CAPABILITIES
from polysdk.views.rust import EDITION, RustOperation, RustOperations, RustParam, RustTypes

TEMPLATE = "rust/driver/polysdk_driver.rs.j2"
OUTPUT = "examples/polysdk_driver.rs"

_STRING_ARG = "impl Into<String>"
_BYTES_ARG = "impl Into<crate::runtime::Bytes>"
_FILE_ARG = "crate::runtime::FilePart"
_EVENT_STREAM = "crate::runtime::EventStream"
_BINARY = "crate::runtime::Binary"


@dataclass(frozen=True)
class Source:
    """Where a builder parameter's value comes from in a case's `args`."""

    kind: str  # arg (a top-level key) | part (a key of the `body` object) | body (the whole body)
    wire: str  # the contract's name ("body" for the whole body)


@dataclass
class DriverOperation:
    id: str  # Rust string literal of the operationId
    function: str  # the driver function calling it
    binding: str  # `let b` or `let mut b` (mutable only when a setter follows)
    start: str  # the expression creating the request builder (required arguments decoded inline)
    setters: list[str]  # statements applying the optional arguments that are present
    arms: list[tuple[str, str]]  # (driver Mode variant, expression running the call in that mode)


@dataclass
class DriverDispatch:
    id: str  # Rust string literal of the operationId
    expr: str  # the expression answering a case for it


@dataclass
class RustDriver:
    crate_ident: str
    sdk_name: str  # Rust string literal
    sdk_version: str  # Rust string literal
    capabilities: list[str]  # Rust string literals
    operations: list[DriverOperation] = field(default_factory=list)
    dispatch: list[DriverDispatch] = field(default_factory=list)
    # std::env::set_var is an unsafe function from edition 2024 on.
    env_unsafe: bool = False


def sources(types: RustTypes, shape: OperationShape, op: RustOperation) -> list[Source]:
    """The source of each of `op.params`, in order: the Rust view adds path, query, header and
    cookie parameters first, then either one parameter per part of a multipart object body or a
    single body parameter (see views/rust.py `_operation`)."""
    found = [
        Source("arg", p.wire_name)
        for p in (*shape.path_params, *shape.query_params, *shape.header_params, *shape.cookie_params)
    ]
    body = shape.body
    if body is not None:
        target = types.resolve(body.type) if body.type is not None else None
        if body.kind == "multipart" and isinstance(target, ir.ObjectDef):
            found += [Source("part", f.wire_name) for f in target.fields]
        else:
            found.append(Source("body", "body"))
    if len(found) != len(op.params):
        raise ValueError(f"operation {shape.operation.id!r}: the driver cannot match its parameters")
    return found


def _getter(param: RustParam, source: Source) -> str | None:
    """The expression decoding a parameter's value as Result<Option<T>, String>, or None when the
    driver cannot build the parameter's type from JSON."""
    wire = rust_string(source.wire)
    if param.arg == _FILE_ARG:
        return f"a.part_file({wire})" if source.kind == "part" else None
    if param.arg == _BYTES_ARG:
        return "a.body_bytes()" if source.kind == "body" else None
    rust_type = "String" if param.arg == _STRING_ARG else param.arg
    if "crate::" in rust_type or rust_type.startswith("impl "):
        return None  # a runtime type such as a raw Multipart body
    if source.kind == "body":
        return f"a.body::<{rust_type}>()"
    return f"a.{source.kind}::<{rust_type}>({wire})"


def _modes(op: RustOperation) -> list[tuple[str, str]]:
    if op.data.startswith(_EVENT_STREAM):
        return [("Stream", "super::stream(b.send_with_response(), c).await")]
    if op.data == _BINARY:
        return [("Call", "super::call_binary(b.send_with_response(), c).await")]
    arms = [("Call", "super::call(b.send_with_response(), c).await")]
    if op.paging is not None:
        arms += [("Pages", "super::pages(b.pages(), c).await"), ("Items", "super::items(b.items(), c).await")]
    return arms


def driver_operation(
    types: RustTypes, shape: OperationShape, accessor: str, op: RustOperation, function: str
) -> DriverOperation | str:
    """The driver function of one operation, or why the driver cannot express it."""
    try:
        found = sources(types, shape, op)
    except ValueError as exc:  # never fail generation over the driver: answer unsupported
        return str(exc)
    required: list[str] = []
    setters: list[str] = []
    for param, source in zip(op.params, found, strict=True):
        getter = _getter(param, source)
        if getter is None:
            return f"the driver cannot build the {source.wire!r} {source.kind} from JSON"
        if param.required:
            required.append(f"super::need({getter}?, {rust_string(source.wire)})?")
        else:
            setters.append(f"if let Some(v) = {getter}? {{ b = b.{param.ident}(v); }}")
    return DriverOperation(
        id=rust_string(shape.operation.id),
        function=function,
        binding="let mut b" if setters else "let b",
        start=f"client.{accessor}().{op.method}({', '.join(required)})",
        setters=setters,
        arms=_modes(op),
    )


def build_driver(
    surface: Surface, types: RustTypes, operations: RustOperations, crate: str, sdk_version: str
) -> RustDriver:
    driver = RustDriver(
        crate_ident=crate.replace("-", "_"),
        sdk_name=rust_string(crate),
        sdk_version=rust_string(sdk_version),
        capabilities=[rust_string(c) for c in DRIVER_CAPABILITIES],
        env_unsafe=EDITION >= "2024",
    )
    seen: set[str] = set()
    for group, name in zip(operations.groups, surface.groups, strict=True):
        for op, shape in zip(group.operations, surface.by_group(name), strict=True):
            if shape.operation.id in seen:
                continue  # a repeated operationId can only ever answer as its first operation
            seen.add(shape.operation.id)
            function = f"op_{len(driver.dispatch)}"
            built = driver_operation(types, shape, group.accessor, op, function)
            if isinstance(built, str):
                expr = f"Ok(Outcome::Unsupported({rust_string(built)}.to_owned()))"
            else:
                driver.operations.append(built)
                expr = f"ops::{function}(client, &mut a, c).await"
            driver.dispatch.append(DriverDispatch(rust_string(shape.operation.id), expr))
    return driver


def driver_files(
    surface: Surface, types: RustTypes, operations: RustOperations, crate: str, sdk_version: str
) -> list[TemplateFile]:
    """The driver's files, appended to the Rust plan by views/rust.py `plan()`."""
    driver = build_driver(surface, types, operations, crate, sdk_version)
    return [TemplateFile(TEMPLATE, OUTPUT, {"driver": driver})]
