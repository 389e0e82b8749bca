"""The TypeScript type model: IR types as typed entries that know their rendered form and what they use.

A `TsType` is a union of `Atom`s (`A | B`); each atom knows its text and the facts decisions need
(whether it can take a `[]` suffix, whether it is `unknown` or `null`). The type records the model
names and runtime names its text refers to when it is built, so imports are never found by
searching rendered text. TypeScript has no boxing: a recursive reference is legal through an
object, array or map; only a cycle of type aliases is not, and such a reference is `unknown`
(`broken`).

Type mapping (the JSON shapes the runtime decodes into):
- string, uuid, date, decimal, byte (base64) → `string`; boolean → `boolean`
- integer, int32, float, double → `number`
- int64 → `bigint`: exact past 2^53; the runtime reads JSON integers losslessly into bigint (a
  quoted int64 of a proto contract travels as a JSON string and is a `bigint` as well)
- date-time → `Date`: decoded values are the runtime's `DateTime` (a `Date` keeping the exact RFC 3339
  text, so sub-millisecond digits round-trip); callers may pass any `Date`
- binary → `Uint8Array`: raw bytes (multipart files, octet-stream bodies), never JSON text
- any → `unknown`; maps → `{ [key: string]: T }`; arrays → `T[]` or `Array<A | B>`
- const → a literal type (`"tool_call"`, `3`, `true`)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from polysdk import ir, walks
from polysdk.literals import ts_string
from polysdk.names import Namer, pascal, ts_fix_type

# Names the package exports from its runtime (and the generated client imports): models yield to them.
RUNTIME_NAMES = (
    "UnknownVariant",
    "APIConnectionError",
    "APIConnectionTimeoutError",
    "APIDecodeError",
    "APIError",
    "APIPromise",
    "APIUserAbortError",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "BinaryBody",
    "ClientOptions",
    "Codec",
    "Codecs",
    "ConflictError",
    "ConnectStream",
    "Core",
    "DateTime",
    "ErrorKind",
    "GatewayTimeoutError",
    "InternalServerError",
    "InvalidRequestError",
    "JSONSyntaxError",
    "MultipartBody",
    "NotFoundError",
    "OperationSpec",
    "Page",
    "PagePromise",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestOptions",
    "RequestTimeoutError",
    "SDKError",
    "SDKInfo",
    "ServerError",
    "ServerSentEvent",
    "ServiceUnavailableError",
    "Stream",
    "UnprocessableEntityError",
    "Violation",
    "WithResponse",
    "WriteBody",
    "codecs",
)

_PRIMS = {
    ir.Prim.STRING: "string",
    ir.Prim.BOOLEAN: "boolean",
    ir.Prim.INTEGER: "number",
    ir.Prim.INT32: "number",
    ir.Prim.INT64: "bigint",
    ir.Prim.FLOAT: "number",
    ir.Prim.DOUBLE: "number",
    ir.Prim.DECIMAL: "string",
    ir.Prim.DATE: "string",
    ir.Prim.DATE_TIME: "Date",
    ir.Prim.UUID: "string",
    ir.Prim.BYTES: "string",
    ir.Prim.BINARY: "Uint8Array",
    ir.Prim.ANY: "unknown",
}
# Names of Object.prototype members. A model property with one of these names would break object
# literals (`{ name: "x" }` is not assignable to `{ toString?: string }`: the literal's inherited
# `toString` method does not fit) and shadow the method, and `{ __proto__: x }` sets a prototype
# instead of a property; such a property takes a `_` suffix in TypeScript (`toString_`). The codec
# maps it to its wire name both ways.
OBJECT_MEMBERS = frozenset(
    {
        "constructor",
        "toString",
        "toLocaleString",
        "valueOf",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "__proto__",
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
    }
)


def field_name(wire_name: str, taken: Iterable[str] = ()) -> str:
    """The TypeScript property name of an object field: its wire name, with `_` appended (until it
    is free among `taken`) for an Object.prototype member's name."""
    if wire_name not in OBJECT_MEMBERS:
        return wire_name
    used = set(taken)
    name = wire_name + "_"
    while name in used:
        name += "_"
    return name


def field_names(wire_names: Iterable[str]) -> dict[str, str]:
    """The TypeScript property name of each field of an object, by wire name (see field_name)."""
    names = list(wire_names)
    taken = set(names)
    out: dict[str, str] = {}
    for wire in names:
        out[wire] = field_name(wire, taken)
        taken.add(out[wire])
    return out


# Primitive kinds whose TypeScript type is `string`, so a tag literal can narrow them.
STRINGY = frozenset({ir.Prim.STRING, ir.Prim.DECIMAL, ir.Prim.DATE, ir.Prim.UUID, ir.Prim.BYTES, ir.Prim.ANY})


@dataclass(frozen=True)
class Atom:
    """One member of a union type."""

    text: str
    simple: bool = False  # a bare name (or an array of one): `T[]` needs no parentheses
    unknown: bool = False  # `unknown`, which absorbs every other member
    null: bool = False  # `null`


UNKNOWN_ATOM = Atom("unknown", simple=True, unknown=True)
NULL_ATOM = Atom("null", simple=True, null=True)


@dataclass(frozen=True)
class TsType:
    """A TypeScript type expression with what it refers to."""

    atoms: tuple[Atom, ...]
    models: frozenset[str] = frozenset()  # model names (src/models.ts) the text refers to
    runtime: frozenset[str] = frozenset()  # runtime type names (src/core.ts) the text refers to
    broken: bool = False  # a reference closing a cycle of type aliases, typed `unknown`

    @property
    def text(self) -> str:
        return " | ".join(atom.text for atom in self.atoms)

    @property
    def texts(self) -> list[str]:
        return [atom.text for atom in self.atoms]

    @property
    def is_unknown(self) -> bool:
        return len(self.atoms) == 1 and self.atoms[0].unknown

    @property
    def nullable(self) -> bool:
        """Whether the type admits an explicit null (at the top level)."""
        return any(atom.null or atom.unknown for atom in self.atoms)


UNKNOWN = TsType((UNKNOWN_ATOM,))


def leaf(text: str, simple: bool = True) -> TsType:
    return TsType((Atom(text, simple=simple),))


def union(members: Iterable[TsType]) -> TsType:
    """`A | B`: duplicates dropped; `unknown` absorbs every other member (and its references)."""
    items = list(members)
    atoms = [atom for t in items for atom in t.atoms]
    if any(atom.unknown for atom in atoms):
        return UNKNOWN
    return TsType(
        tuple(dict.fromkeys(atoms)),
        frozenset().union(*(t.models for t in items)),
        frozenset().union(*(t.runtime for t in items)),
    )


def generic(name: str, *args: TsType, runtime: bool = True) -> TsType:
    """`Name<A, B>`; a runtime name (APIPromise, WriteBody, ...) is recorded as used."""
    text = f"{name}<{', '.join(arg.text for arg in args)}>"
    models = frozenset().union(*(arg.models for arg in args))
    used = frozenset().union(*(arg.runtime for arg in args)) | ({name} if runtime else set())
    return TsType((Atom(text),), models, used)


def runtime_type(name: str) -> TsType:
    """A type the runtime (src/core.ts) exports, e.g. `BinaryBody`."""
    return TsType((Atom(name, simple=True),), runtime=frozenset({name}))


def with_undefined(t: TsType) -> TsType:
    return TsType((*t.atoms, Atom("undefined", simple=True)), t.models, t.runtime)


def literal(value: str | int | float | bool) -> TsType:
    """A TypeScript literal type for a const value; `number` for a non-finite float."""
    if isinstance(value, bool):
        return leaf("true" if value else "false")
    if isinstance(value, int):
        return leaf(str(value), simple=False)
    if isinstance(value, float):
        return leaf(repr(value), simple=False) if math.isfinite(value) else leaf("number")
    return leaf(ts_string(value), simple=False)


def primitive(kind: ir.Prim) -> TsType:
    return UNKNOWN if kind is ir.Prim.ANY else leaf(_PRIMS[kind])


def alias_edges(api: ir.Api) -> dict[str, list[str]]:
    """References between type aliases (aliases and unions) with nothing in between."""
    edges: dict[str, list[str]] = {}
    for named in api.types:
        definition = named.definition
        if isinstance(definition, ir.AliasDef):
            targets = _direct_refs(definition.target)
        elif isinstance(definition, ir.UnionDef):
            targets = [name for v in definition.variants for name in _direct_refs(v.type)]
        else:
            continue
        edges[named.name] = list(dict.fromkeys(targets))
    return edges


def _direct_refs(t: ir.Type) -> list[str]:
    """Named types t refers to without an object, array or map in between."""
    t = walks.unwrap_nullable(t)
    return [t.name] if isinstance(t, ir.NamedRef) else []


def alias_back_edges(api: ir.Api) -> set[tuple[str, str]]:
    """The alias references that close a cycle (a depth-first search in the contract's order);
    removing them leaves only legal aliases."""
    return walks.back_edges(alias_edges(api))


@dataclass
class TsTypes:
    """Turns IR types into TsTypes, with names assigned once per module."""

    api: ir.Api
    namer: Namer = field(init=False)
    names: dict[str, str] = field(init=False)  # contract name → TypeScript name
    unknown_names: dict[str, str] = field(init=False)  # union → its `Unknown<Name>` interface
    broken: set[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        api = self.api
        self.namer = Namer(pascal, ts_fix_type, "Model", taken=RUNTIME_NAMES)
        self.names = {named.name: self.namer.claim(named.name) for named in api.types}
        self.unknown_names = {
            named.name: self.namer.claim("Unknown " + self.names[named.name])
            for named in api.types
            if isinstance(named.definition, ir.UnionDef)
        }
        self.broken = alias_back_edges(api)

    def of(self, t: ir.Type, owner: str | None = None) -> TsType:
        """The type of t. `owner` is the alias or union whose body t is directly (not inside an
        array or map); its references that would close an alias cycle become `unknown`."""
        if isinstance(t, ir.PrimitiveType):
            return primitive(t.kind)
        if isinstance(t, ir.ConstType):
            return literal(t.value)
        if isinstance(t, ir.Nullable):
            inner = self.of(t.inner, owner)
            return inner if inner.is_unknown else union([inner, TsType((NULL_ATOM,))])
        if isinstance(t, ir.ArrayType):
            return self._array(self.of(t.items))
        if isinstance(t, ir.MapType):
            values = self.of(t.values)
            return TsType((Atom(f"{{ [key: string]: {values.text} }}"),), values.models, values.runtime)
        if owner is not None and (owner, t.name) in self.broken:
            return TsType(UNKNOWN.atoms, broken=True)
        return self.ref(t.name)

    def ref(self, name: str) -> TsType:
        """The named type of a contract name."""
        ts = self.names[name]
        return TsType((Atom(ts, simple=True),), frozenset({ts}))

    @staticmethod
    def _array(items: TsType) -> TsType:
        if len(items.atoms) == 1 and items.atoms[0].simple:
            return TsType((Atom(f"{items.text}[]", simple=True),), items.models, items.runtime)
        return TsType((Atom(f"Array<{items.text}>"),), items.models, items.runtime)

    def resolve(self, t: ir.Type) -> ir.Type | ir.Definition | None:
        """What t is after following names and aliases and dropping null: an anonymous type or the
        definition of an object, enum or union; None for a cycle of aliases."""
        for _ in range(len(self.api.types) + 1):
            found = walks.resolve(self.api, walks.unwrap_nullable(t))
            if not isinstance(found, ir.Nullable):
                return found
            t = found
        return None

    def definition(self, name: str) -> ir.Definition:
        return self.api.types_by_name[name].definition
