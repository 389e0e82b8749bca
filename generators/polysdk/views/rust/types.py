"""The Rust type model: every IR type as a typed entry (its rendered form, the crates it names,
whether it is an Option, a Box, a collection, a recursive newtype), with the crate's type names
assigned once. Views decide on entries (`kind`, `nilable`, `boxed`), never on rendered text.

Type mapping: strings and string formats without a Rust type (date, uuid, decimal, byte,
binary) are `String`, date-times `chrono::DateTime<chrono::Utc>`, free-form JSON
`serde_json::Value`, arrays `Vec<T>`, maps `std::collections::HashMap<String, T>`, named types
their Rust names. A struct that reaches itself by value holds a `Box`; an alias that reaches
itself through a collection becomes a newtype (a Rust type alias cannot be recursive); aliases
that only reach themselves by value describe nothing and become `serde_json::Value`.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from polysdk import ir, walks
from polysdk.names import (
    Namer,
    needs_leading_letter,
    pascal,
    rust_fix_field,
    rust_fix_type,
    snake,
    split_words,
)

# Generic parameters of the generated serde impls (`D: Deserializer`, `S: Serializer`): a model
# with one of these names would be shadowed inside the impl.
_GENERIC_PARAMS = frozenset({"D", "S", "T", "E"})

I64_MIN, I64_MAX = -(2**63), 2**63 - 1


class Kind(enum.Enum):
    """What a Rust type is, as the views need to know it."""

    STRING = "string"
    BOOL = "bool"
    I32 = "i32"
    I64 = "i64"
    U64 = "u64"
    F32 = "f32"
    F64 = "f64"
    DATE_TIME = "date-time"
    JSON = "json"  # serde_json::Value
    VEC = "vec"
    MAP = "map"
    NAMED = "named"  # a model of this crate
    OPTION = "option"
    BOX = "box"
    RUNTIME = "runtime"  # a type of the SDK's runtime (Bytes, FilePart, Multipart, ...)

    @property
    def integer(self) -> bool:
        return self in (Kind.I32, Kind.I64)

    @property
    def number(self) -> bool:
        return self in (Kind.I32, Kind.I64, Kind.U64, Kind.F32, Kind.F64)


@dataclass(frozen=True)
class RustType:
    """One Rust type expression and what it is."""

    rendered: str
    kind: Kind
    crates: frozenset[str] = frozenset()  # external crates the expression names (chrono, serde_json)
    inner: RustType | None = None  # the element of an Option, Box, Vec or HashMap
    model: str | None = None  # the IR name of a named model
    recursive: bool = False  # a newtype that contains itself through a collection
    quoted: bool = False  # an i64 that travels as a JSON string (proto3 JSON's int64)

    @property
    def nilable(self) -> bool:
        return self.kind is Kind.OPTION

    @property
    def boxed(self) -> bool:
        return self.kind is Kind.BOX

    @property
    def holds_quoted(self) -> bool:
        """Whether the value is a quoted i64, or an Option, Vec or HashMap of them (what the
        runtime's `serde_helpers::quoted` encodes)."""
        if self.kind in (Kind.OPTION, Kind.VEC, Kind.MAP):
            return self.inner is not None and self.inner.holds_quoted
        return self.quoted

    @property
    def defaultable(self) -> bool:
        """Whether `Default` gives the type an empty value (a struct of such fields derives it)."""
        return self.kind in (Kind.OPTION, Kind.MAP)

    def option(self) -> RustType:
        return RustType(f"Option<{self.rendered}>", Kind.OPTION, self.crates, self)

    def box(self) -> RustType:
        return RustType(f"Box<{self.rendered}>", Kind.BOX, self.crates, self, self.model, self.recursive)


def _scalar(rendered: str, kind: Kind, crate: str = "") -> RustType:
    return RustType(rendered, kind, frozenset({crate}) if crate else frozenset())


STRING = _scalar("String", Kind.STRING)
BOOL = _scalar("bool", Kind.BOOL)
I32 = _scalar("i32", Kind.I32)
I64 = _scalar("i64", Kind.I64)
QUOTED_I64 = RustType("i64", Kind.I64, quoted=True)
JSON = _scalar("serde_json::Value", Kind.JSON, "serde_json")
# The fields of a JSON object that its struct does not declare (flattened into the struct).
UNKNOWN_FIELDS = RustType(
    "serde_json::Map<String, serde_json::Value>", Kind.MAP, frozenset({"serde_json"}), JSON
)
UNIT = _scalar("()", Kind.RUNTIME)
BYTES = _scalar("crate::runtime::Bytes", Kind.RUNTIME)
FILE_PART = _scalar("crate::runtime::FilePart", Kind.RUNTIME)
MULTIPART = _scalar("crate::runtime::Multipart", Kind.RUNTIME)
BINARY = _scalar("crate::runtime::Binary", Kind.RUNTIME)

_PRIMS = {
    ir.Prim.STRING: STRING,
    ir.Prim.BOOLEAN: BOOL,
    ir.Prim.INTEGER: I64,
    ir.Prim.INT32: I32,
    ir.Prim.INT64: I64,
    ir.Prim.FLOAT: _scalar("f32", Kind.F32),
    ir.Prim.DOUBLE: _scalar("f64", Kind.F64),
    ir.Prim.DECIMAL: STRING,
    ir.Prim.DATE: STRING,
    ir.Prim.DATE_TIME: _scalar("chrono::DateTime<chrono::Utc>", Kind.DATE_TIME, "chrono"),
    ir.Prim.UUID: STRING,
    ir.Prim.BYTES: STRING,
    ir.Prim.BINARY: STRING,
    ir.Prim.ANY: JSON,
}

# Variant names of untagged union members that are not named types.
_PRIM_LABELS = {
    ir.Prim.STRING: "String",
    ir.Prim.BOOLEAN: "Bool",
    ir.Prim.INTEGER: "Integer",
    ir.Prim.INT32: "Integer",
    ir.Prim.INT64: "Integer",
    ir.Prim.FLOAT: "Number",
    ir.Prim.DOUBLE: "Number",
    ir.Prim.DECIMAL: "Decimal",
    ir.Prim.DATE: "Date",
    ir.Prim.DATE_TIME: "DateTime",
    ir.Prim.UUID: "Uuid",
    ir.Prim.BYTES: "Bytes",
    ir.Prim.BINARY: "Binary",
    ir.Prim.ANY: "Value",
}


def event_stream(event: RustType) -> RustType:
    return RustType(f"crate::runtime::EventStream<{event.rendered}>", Kind.RUNTIME, event.crates, event)


def message_stream(message: RustType) -> RustType:
    """The messages of a Connect server stream."""
    return RustType(
        f"crate::runtime::MessageStream<{message.rendered}>", Kind.RUNTIME, message.crates, message
    )


def const_type(value: str | int | float | bool) -> RustType:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        if I64_MIN <= value <= I64_MAX:
            return I64
        return _scalar("u64", Kind.U64) if 0 <= value < 2**64 else _PRIMS[ir.Prim.DOUBLE]
    if isinstance(value, float):
        return _PRIMS[ir.Prim.DOUBLE]
    return STRING


# Names ---------------------------------------------------------------------------------------------


def fix_type(ident: str) -> str:
    fixed = rust_fix_type(ident)
    return fixed + "Model" if fixed in _GENERIC_PARAMS else fixed


def fix_variant(ident: str) -> str:
    if needs_leading_letter(ident):
        return "Value" + ident
    return "SelfValue" if ident == "Self" else ident


def fix_leading_letter(ident: str) -> str:
    return "n" + ident if needs_leading_letter(ident) else ident


def field_namer() -> Callable[[str], str]:
    """Field names within one struct: snake case, unique, then keywords as raw identifiers
    (`r#type`) or with a `_` suffix where a raw identifier is not allowed (`self_`). Uniqueness
    is decided on the plain spelling, so `type` and `@type` become `r#type` and `type2`."""
    namer = Namer(snake, fix_leading_letter, "field")

    def claim(text: str) -> str:
        return rust_fix_field(namer.claim(text))

    return claim


def symbol_words(value: str) -> str:
    """A name for a value without letters or digits, from its characters' Unicode names."""
    if not value:
        return "empty"
    parts = []
    for char in value:
        name = unicodedata.name(char, "")
        parts.append(name if name else f"U {ord(char):X}")
    return " ".join(parts)


def enum_variant_names(values: tuple[ir.EnumValue, ...]) -> list[str]:
    """PascalCase variant names for enum values, unique and never `Unknown`: `with "quotes"` →
    WithQuotes, `A`/`a` → A/A2, `""` → Empty, `-` → HyphenMinus, `-1` → ValueMinus1."""
    namer = Namer(pascal, fix_variant, "Value", taken=("Unknown",))
    names = []
    for value in values:
        if isinstance(value.value, int):
            text = f"value minus {-value.value}" if value.value < 0 else f"value {value.value}"
        else:
            text = value.value if split_words(value.value) else symbol_words(value.value)
        names.append(namer.claim(text))
    return names


# The model -----------------------------------------------------------------------------------------


def references(t: ir.Type | None, by_value_only: bool) -> list[str]:
    """Named types a type refers to; by value only (not through a Vec or HashMap) if asked."""
    if t is None:
        return []
    if isinstance(t, ir.NamedRef):
        return [t.name]
    if isinstance(t, ir.Nullable):
        return references(t.inner, by_value_only)
    if isinstance(t, ir.ArrayType) and not by_value_only:
        return references(t.items, by_value_only)
    if isinstance(t, ir.MapType) and not by_value_only:
        return references(t.values, by_value_only)
    return []


class RustTypes:
    """Turns IR types into type entries, with names assigned once per crate and the reference
    graph analysed once (with walks.cyclic_edges) for newtypes, boxes and undecodable variants."""

    def __init__(self, api: ir.Api) -> None:
        self.api = api
        self.by_name = api.types_by_name
        self.warnings: list[str] = []
        namer = Namer(pascal, fix_type, "Model")
        self.names = {named.name: namer.claim(named.name) for named in api.types}
        self.degenerate, self.newtypes = self._alias_cycles()
        self.boxed_edges = self._recursive_edges()
        self.undecodable = self._decode_cycles()
        # Request twins: the schemas sent in request bodies that hold read-only fields (at any
        # depth) get a second type without them, e.g. `AgentInput` for `Agent`. Claimed after
        # every schema name, so a schema keeps its own name when a twin's would clash.
        twins, self.request_only = self._request_twins()
        self.inputs = {name: namer.claim(f"{name} input") for name in twins}

    # Graph analyses ------------------------------------------------------------------------------

    def _alias_cycles(self) -> tuple[set[str], set[str]]:
        """Aliases that refer to themselves. Through values only (`A = B`, `B = A`) nothing is
        described: they degrade to serde_json::Value. Through a collection (`A = Vec<A>`) they
        are real recursive types and become newtypes, since a type alias cannot be recursive."""
        aliases = {n.name: n.definition for n in self.api.types if isinstance(n.definition, ir.AliasDef)}
        by_value = {a: [r for r in references(d.target, True) if r in aliases] for a, d in aliases.items()}
        degenerate = {a for a, _ in walks.cyclic_edges(by_value)}
        for name in sorted(degenerate):
            self.warnings.append(
                f"schema {name!r} is an alias of itself; it is generated as serde_json::Value"
            )
        anywhere = {
            a: [r for r in references(d.target, False) if r in aliases and r not in degenerate]
            for a, d in aliases.items()
            if a not in degenerate
        }
        return degenerate, {a for a, _ in walks.cyclic_edges(anywhere)}

    def _edges(self, targets: Callable[[ir.NamedType], list[str]]) -> set[tuple[str, str]]:
        edges = {named.name: [t for t in targets(named) if t in self.by_name] for named in self.api.types}
        return walks.cyclic_edges(edges)

    def _recursive_edges(self) -> set[tuple[str, str]]:
        """By-value references (owner, target) on a cycle, which must be boxed: struct fields and
        newtype payloads, through Option but not through Vec or HashMap. Type aliases are edges
        but cannot be boxed; a cycle always also passes a struct field or newtype (aliases that
        only reach themselves are newtypes or degenerate)."""

        def targets(named: ir.NamedType) -> list[str]:
            d = named.definition
            if isinstance(d, ir.ObjectDef):
                return [r for f in d.fields for r in references(f.type, True)]
            if isinstance(d, ir.AliasDef) and named.name not in self.degenerate:
                return references(d.target, True)
            if isinstance(d, ir.UnionDef):
                return [
                    r for v in d.variants if not self.boxed_variant(v.type) for r in references(v.type, True)
                ]
            return []

        return self._edges(targets)

    def _decode_cycles(self) -> set[tuple[str, str]]:
        """Union variants whose decoding would come back to the same union without consuming any
        input (`U = oneOf[U, string]`, or through aliases and other unions): trying them would
        recurse forever, so they are never decoded (a value is constructed by hand only)."""

        def targets(named: ir.NamedType) -> list[str]:
            d = named.definition
            if isinstance(d, ir.UnionDef):
                return [r for v in d.variants for r in references(v.type, True)]
            if isinstance(d, ir.AliasDef) and named.name not in self.degenerate:
                return references(d.target, True)
            return []

        return self._edges(targets)

    def _children(self, named: ir.NamedType) -> list[str]:
        """The named types a schema refers to, through collections too."""
        d = named.definition
        if isinstance(d, ir.ObjectDef):
            found = [r for f in d.fields for r in references(f.type, False)]
            return found + references(d.additional, False)
        if isinstance(d, ir.UnionDef):
            return [r for v in d.variants for r in references(v.type, False)]
        if isinstance(d, ir.AliasDef) and named.name not in self.degenerate:
            return references(d.target, False)
        return []

    def _request_twins(self) -> tuple[list[str], set[str]]:
        """The schemas reachable from a request body that hold a read-only field, directly or
        through the schemas they refer to (in contract order); and the schemas only ever sent
        (a struct there has no use for fields the SDK does not know)."""
        children = {n.name: [r for r in self._children(n) if r in self.by_name] for n in self.api.types}
        parents: dict[str, list[str]] = {}
        for name, refs in children.items():
            for r in refs:
                parents.setdefault(r, []).append(name)
        owners = [
            n.name
            for n in self.api.types
            if isinstance(n.definition, ir.ObjectDef) and any(f.read_only for f in n.definition.fields)
        ]
        holds = walks.reachable(parents, owners)  # a schema holds one when a schema it refers to does
        sent = self._reach(children, [op.body.contents for op in self.api.operations if op.body])
        received = self._reach(children, [r.contents for op in self.api.operations for r in op.responses])
        twins = [named.name for named in self.api.types if named.name in sent and named.name in holds]
        return twins, sent - received

    def _reach(self, children: dict[str, list[str]], contents: list[tuple[ir.Content, ...]]) -> set[str]:
        """The schemas reachable from the types of some contents."""
        roots = [r for group in contents for c in group for r in references(c.type, False)]
        return walks.reachable(children, [r for r in roots if r in self.by_name])

    def boxed_edge(self, owner: str, t: ir.Type) -> bool:
        """Whether a by-value reference from `owner` through `t` lies on a cycle (needs a Box)."""
        return any((owner, r) in self.boxed_edges for r in references(t, True))

    def decodable(self, union: str, t: ir.Type) -> bool:
        return not any((union, r) in self.undecodable for r in references(t, True))

    def reaches_newtype(self, t: ir.Type) -> bool:
        return any(r in self.newtypes for r in references(t, True))

    # Resolution ----------------------------------------------------------------------------------

    def resolve(self, t: ir.Type) -> ir.Type | ir.Definition:
        """What a type stands for, through aliases (walks.resolve) and nullables; free-form JSON
        for an alias cycle or an undeclared name."""
        found: ir.Type | ir.Definition | None = walks.unwrap_nullable(t)
        for _ in range(len(self.api.types) + 1):  # each hop passes a different alias
            if isinstance(found, ir.NamedRef) and found.name not in self.by_name:
                return ir.PrimitiveType(ir.Prim.ANY)
            if not isinstance(found, ir.Nullable | ir.NamedRef):
                break
            found = walks.resolve(self.api, walks.unwrap_nullable(found))
        if found is None or isinstance(found, ir.Nullable | ir.NamedRef):
            return ir.PrimitiveType(ir.Prim.ANY)
        return found

    def boxed_variant(self, t: ir.Type) -> bool:
        """Union payloads that are structs, newtypes or unions are boxed: they can be large
        (clippy::large_enum_variant) and boxing them ends any recursion through the union."""
        if isinstance(t, ir.NamedRef) and t.name in self.newtypes:
            return True
        return isinstance(self.resolve(t), ir.ObjectDef | ir.UnionDef)

    # Entries -------------------------------------------------------------------------------------

    def entry(self, t: ir.Type, boxed: bool = False, request: bool = False) -> RustType:
        """The Rust type of t; `boxed` puts the named type under any Option into a Box.
        `request`: the type as sent in a request body, with request twins (`AgentInput`) for the
        schemas that hold read-only fields."""
        if isinstance(t, ir.PrimitiveType):
            return QUOTED_I64 if t.quoted and t.kind is ir.Prim.INT64 else _PRIMS[t.kind]
        if isinstance(t, ir.ConstType):
            return const_type(t.value)
        if isinstance(t, ir.ArrayType):
            items = self.entry(t.items, request=request)
            return RustType(f"Vec<{items.rendered}>", Kind.VEC, items.crates, items)
        if isinstance(t, ir.MapType):
            values = self.entry(t.values, request=request)
            rendered = f"std::collections::HashMap<String, {values.rendered}>"
            return RustType(rendered, Kind.MAP, values.crates, values)
        if isinstance(t, ir.NamedRef):
            return self._named(t, boxed, request)
        return self.entry(t.inner, boxed, request).option()

    def request_entry(self, t: ir.Type, boxed: bool = False) -> RustType:
        """The Rust type of a request body (or part) of type t: read-only fields left out."""
        return self.entry(t, boxed, request=True)

    def _named(self, t: ir.NamedRef, boxed: bool, request: bool = False) -> RustType:
        name = self.names.get(t.name)
        if name is None:
            self.warnings.append(f"reference to undeclared schema {t.name!r}; generated as serde_json::Value")
            return JSON
        if request:
            name = self.inputs.get(t.name, name)
        found = RustType(name, Kind.NAMED, model=t.name, recursive=t.name in self.newtypes)
        return found.box() if boxed else found

    def expr(self, t: ir.Type, boxed: bool = False, request: bool = False) -> str:
        return self.entry(t, boxed, request).rendered

    def label(self, t: ir.Type) -> str:
        """Words naming a union member that has no tag."""
        if isinstance(t, ir.NamedRef):
            return self.names.get(t.name, "Value")
        if isinstance(t, ir.ArrayType):
            return self.label(t.items) + " list"
        if isinstance(t, ir.MapType):
            return self.label(t.values) + " map"
        if isinstance(t, ir.Nullable):
            return self.label(t.inner)
        if isinstance(t, ir.ConstType):
            if isinstance(t.value, str):
                return t.value if split_words(t.value) else symbol_words(t.value)
            return f"value {t.value}".replace("-", "minus ")
        return _PRIM_LABELS[t.kind]
