"""The Rust view: every Rust-specific decision about names, types, serde attributes and docs.

Type mapping and optionality (fields of a struct):
- required, not nullable      → T
- optional, not nullable      → Option<T>          #[serde(default, skip_serializing_if = "Option::is_none")]
- required, nullable          → Option<T>          #[serde(default)] (None is sent as null)
- optional and nullable       → Option<Option<T>>  absent = None, null = Some(None), via
                                                   crate::serde_helpers::double_option
Named types: structs (serde derive; unknown fields tolerated, additionalProperties in a flattened
HashMap), open enums with an `Unknown` variant keeping the wire value, unions as enums with an
`Unknown(serde_json::Value)` variant, `pub type` aliases. A struct that reaches itself by value
holds a `Box`; an alias that reaches itself (only possible through a Vec or HashMap, e.g. a JSON
tree) becomes a transparent newtype, since a Rust type alias cannot be recursive.

Docs: contract text becomes `///` lines that rustdoc cannot run as doctests (see `rustdoc_lines`).

Operations (from the decisions layer's shapes): one resource struct per group (`client.agents()`), one
request builder per operation (`.list().limit(20).send().await`): required parameters are
arguments, optional ones setters, per-call options on every builder. The view decides every
statement that builds the request (`req.query(..)`, `req.json(..)`, multipart parts, auth,
idempotency, retryability) and which runtime entry point reads the result; `send` and
`send_with_response` are plain functions returning the runtime's future, so the async code is
written and type-checked once (this keeps Stripe's 468 operations cheap to compile).
Pagination implements the runtime's `Paginated` trait (next cursor, Link header or offset).
The transport, retries, errors, SSE and pagination are the hand-written runtime under
templates/rust/runtime/runtime/, copied verbatim with its own unit tests.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from polysdk import ir
from polysdk.decisions import Decisions, OperationShape, package_words
from polysdk.literals import comment_lines, rust_string
from polysdk.names import (
    Namer,
    needs_leading_letter,
    pascal,
    rust_fix_field,
    rust_fix_type,
    snake,
    split_words,
)
from polysdk.plan import LanguagePlan, Options, RuntimeFile, TemplateFile
from polysdk.render import run_tool
from polysdk.views.common import method_words
from polysdk.walks import cyclic_edges

RUST_VERSION = "1.80"
RUNTIME_MODULES = ("mod", "client", "error", "http", "pagination", "sse", "test_server")
EDITION = "2021"

_PRIMS = {
    ir.Prim.STRING: "String",
    ir.Prim.BOOLEAN: "bool",
    ir.Prim.INTEGER: "i64",
    ir.Prim.INT32: "i32",
    ir.Prim.INT64: "i64",
    ir.Prim.FLOAT: "f32",
    ir.Prim.DOUBLE: "f64",
    ir.Prim.DECIMAL: "String",
    ir.Prim.DATE: "String",
    ir.Prim.DATE_TIME: "chrono::DateTime<chrono::Utc>",
    ir.Prim.UUID: "String",
    ir.Prim.BYTES: "String",
    ir.Prim.BINARY: "String",
    ir.Prim.ANY: "serde_json::Value",
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

# Generic parameters of the generated serde impls (`D: Deserializer`, `S: Serializer`): a model
# with one of these names would be shadowed inside the impl.
_GENERIC_PARAMS = frozenset({"D", "S", "T", "E"})

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1

# Lints the contract's prose can trigger in doc comments, allowed at the top of models.rs and
# lib.rs. Descriptions are Markdown (or HTML) written for other renderers: lazy list
# continuations, over-indented list items, HTML tags and bare URLs are normal there.
DOC_LINT_ALLOWS = (
    "clippy::doc_lazy_continuation",
    "clippy::doc_overindented_list_items",
    "clippy::doc_nested_refdefs",
    "clippy::too_long_first_doc_paragraph",
    "clippy::doc_suspicious_footnotes",
    "rustdoc::all",  # bare URLs, broken or redundant links, HTML tags: all about prose
)


# Docs ---------------------------------------------------------------------------------------------

_CONTAINER = re.compile(r"(>|[-*+](?=\s|$)|\d{1,9}[.)](?=\s|$))")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)$")


def _split_containers(line: str) -> tuple[list[str], str]:
    """Block-quote and list markers at the start of a line, and the text after them."""
    rest = line.lstrip()
    markers: list[str] = []
    while match := _CONTAINER.match(rest):
        markers.append(match.group(1))
        rest = rest[match.end() :].lstrip()
    return markers, rest


def _fence_opener(rest: str) -> str | None:
    match = _FENCE.match(rest)
    if match is None or (match.group(1)[0] == "`" and "`" in match.group(2)):
        return None  # a backtick fence's info string cannot hold a backtick: inline code
    return match.group(1)


def _fence_closer(rest: str, fence: str) -> bool:
    text = rest.rstrip()
    return len(text) >= len(fence) and set(text) == {fence[0]}


def rustdoc_lines(text: str) -> list[str]:
    """Contract text as Markdown lines for a doc comment that rustdoc cannot run as a doctest.

    A doctest comes from a fenced code block without a language or from an indented code block.
    So every fence opener becomes ```text (moved to column 0, out of any list or quote) and its
    closer is moved to column 0 too; elsewhere, indentation is capped at three spaces and the space
    after list and quote markers at one, so no line can start an indented code block. In a text
    with fences, a `<` that starts a line is escaped so that no HTML block can hide a fence from
    CommonMark while this function counts it: openers and closers are then paired exactly as
    rustdoc pairs them, and no closer can be read as a bare opener."""
    lines = comment_lines(text)
    fenced = any(_fence_opener(_split_containers(line)[1]) for line in lines)
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        markers, rest = _split_containers(line)
        if fence is not None:
            if _fence_closer(rest, fence):
                out.append(fence)
                fence = None
            else:
                out.append(line)
            continue
        opener = _fence_opener(rest)
        if opener is not None:
            fence = opener
            out.append(opener + "text")
            continue
        if fenced and rest.startswith("<"):
            rest = "&lt;" + rest[1:]
        indent = min(len(line) - len(line.lstrip()), 3)
        out.append(" " * indent + " ".join([*markers, rest]).rstrip() if (markers or rest) else "")
    return out


def doc(text: str, fallback: str = "", marker: str = "///") -> list[str]:
    """Doc comment lines for a symbol: the contract's text, else a generated sentence."""
    lines = rustdoc_lines(text) or rustdoc_lines(fallback)
    return [f"{marker} {line}" if line else marker for line in lines]


_PLAIN = re.compile(r"^[A-Za-z0-9_.:/@$+-][A-Za-z0-9_.:/@$+ -]*$")


def _code(text: str) -> str:
    """Contract text shown as inline code in a doc comment: as is when plain, else as a Rust
    string literal (one line, quotes and controls escaped), never holding a backtick."""
    shown = text if _PLAIN.match(text) and not text.endswith(" ") else rust_string(text)
    return "`" + shown.replace("`", "\\u{60}") + "`"


# Data for the templates ------------------------------------------------------------------------


@dataclass
class RustField:
    name: str
    type: str
    attrs: list[str]  # #[serde(...)] and #[deprecated] lines
    doc: list[str]


@dataclass
class RustStruct:
    name: str
    doc: list[str]
    derives: str
    attrs: list[str]
    fields: list[RustField]
    template: str = "rust/struct.rs.j2"


@dataclass
class RustNewtype:
    name: str
    doc: list[str]
    attrs: list[str]
    target: str
    template: str = "rust/newtype.rs.j2"


@dataclass
class RustAlias:
    name: str
    doc: list[str]
    attrs: list[str]
    target: str
    template: str = "rust/alias.rs.j2"


@dataclass
class RustEnumValue:
    name: str
    literal: str  # Rust literal of the wire value: "online" or -1
    doc: list[str]
    attrs: list[str]


@dataclass
class RustEnum:
    name: str
    doc: list[str]
    attrs: list[str]
    values: list[RustEnumValue]
    base: str  # String (string enum with as_str) or i64 (integer enum with as_i64)
    impls: str  # the template of its methods and serde impls
    template: str = "rust/enum.rs.j2"


@dataclass
class RustVariant:
    name: str
    payload: str  # the variant's payload type, e.g. Box<ToolCallStep>
    doc: list[str]
    # Discriminated unions: the Rust pattern of the tags selecting this variant ("" = untagged,
    # never decoded); the tag to add when serializing a struct lacking the property ("" = none).
    pattern: str = ""
    what: str = ""  # Rust string literal naming the variant in decode errors
    inject_tag: str = ""
    # Undiscriminated unions: the condition under which decoding this variant is tried ("" = never).
    accept: str = ""


@dataclass
class RustUnion:
    name: str
    doc: list[str]
    attrs: list[str]
    variants: list[RustVariant]
    discriminator: str  # Rust string literal of the tag property, "" when undiscriminated
    decoder: str  # the template of its Deserialize impl: by tag, or by trying variants in order
    template: str = "rust/union.rs.j2"


RustItem = RustStruct | RustNewtype | RustAlias | RustEnum | RustUnion


@dataclass
class RustModels:
    items: list[RustItem] = field(default_factory=list)
    serde_import: bool = False  # whether models.rs uses the serde traits by name
    lint_allows: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# Names ---------------------------------------------------------------------------------------------


def _fix_type(ident: str) -> str:
    fixed = rust_fix_type(ident)
    return fixed + "Model" if fixed in _GENERIC_PARAMS else fixed


def _fix_variant(ident: str) -> str:
    if needs_leading_letter(ident):
        return "Value" + ident
    return "SelfValue" if ident == "Self" else ident


def _fix_leading_letter(ident: str) -> str:
    return "n" + ident if needs_leading_letter(ident) else ident


def field_namer() -> Callable[[str], str]:
    """Field names within one struct: snake case, unique, then keywords as raw identifiers
    (`r#type`) or with a `_` suffix where a raw identifier is not allowed (`self_`). Uniqueness
    is decided on the plain spelling, so `type` and `@type` become `r#type` and `type2`."""
    namer = Namer(snake, _fix_leading_letter, "field")

    def claim(text: str) -> str:
        return rust_fix_field(namer.claim(text))

    return claim


def _symbol_words(value: str) -> str:
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
    namer = Namer(pascal, _fix_variant, "Value", taken=("Unknown",))
    names = []
    for value in values:
        if isinstance(value.value, int):
            text = f"value minus {-value.value}" if value.value < 0 else f"value {value.value}"
        else:
            text = value.value if split_words(value.value) else _symbol_words(value.value)
        names.append(namer.claim(text))
    return names


# Types ---------------------------------------------------------------------------------------------


def _strip_nullable(t: ir.Type) -> ir.Type:
    return t.inner if isinstance(t, ir.Nullable) else t


def _references(t: ir.Type | None, by_value_only: bool) -> list[str]:
    """Named types a type refers to; by value only (not through a Vec or HashMap) if asked."""
    if t is None:
        return []
    if isinstance(t, ir.NamedRef):
        return [t.name]
    if isinstance(t, ir.Nullable):
        return _references(t.inner, by_value_only)
    if isinstance(t, ir.ArrayType) and not by_value_only:
        return _references(t.items, by_value_only)
    if isinstance(t, ir.MapType) and not by_value_only:
        return _references(t.values, by_value_only)
    return []


class RustTypes:
    """Turns IR types into Rust type expressions, with names assigned once per crate."""

    def __init__(self, api: ir.Api) -> None:
        self.api = api
        self.by_name = api.types_by_name
        self.warnings: list[str] = []
        namer = Namer(pascal, _fix_type, "Model")
        self.names = {named.name: namer.claim(named.name) for named in api.types}
        self.degenerate, self.newtypes = self._alias_cycles()
        self.boxed_edges = self._recursive_edges()
        self.undecodable = self._decode_cycles()

    # Graph analyses ------------------------------------------------------------------------------

    def _definition(self, name: str) -> ir.Definition | None:
        named = self.by_name.get(name)
        return named.definition if named is not None else None

    def _alias_cycles(self) -> tuple[set[str], set[str]]:
        """Aliases that refer to themselves. Through values only (`A = B`, `B = A`) nothing is
        described: they degrade to serde_json::Value. Through a collection (`A = Vec<A>`) they
        are real recursive types and become newtypes, since a type alias cannot be recursive."""
        aliases = [n for n in self.api.types if isinstance(n.definition, ir.AliasDef)]
        alias_names = {n.name for n in aliases}
        by_value: dict[str, list[str]] = {}
        anywhere: dict[str, list[str]] = {}
        for named in aliases:
            assert isinstance(named.definition, ir.AliasDef)
            target = named.definition.target
            by_value[named.name] = [r for r in _references(target, True) if r in alias_names]
            anywhere[named.name] = [r for r in _references(target, False) if r in alias_names]
        degenerate = {a for a, _ in cyclic_edges(by_value)}
        for name in sorted(degenerate):
            self.warnings.append(
                f"schema {name!r} is an alias of itself; it is generated as serde_json::Value"
            )
        anywhere = {
            a: [b for b in bs if b not in degenerate] for a, bs in anywhere.items() if a not in degenerate
        }
        return degenerate, {a for a, _ in cyclic_edges(anywhere)}

    def resolve(self, t: ir.Type) -> ir.Type | ir.Definition:
        """A type with aliases (and newtypes) followed to what they stand for."""
        seen: set[str] = set()
        while True:
            t = _strip_nullable(t)
            if not isinstance(t, ir.NamedRef) or t.name in seen:
                return t
            seen.add(t.name)
            definition = self._definition(t.name)
            if definition is None or t.name in self.degenerate:
                return ir.PrimitiveType(ir.Prim.ANY)
            if not isinstance(definition, ir.AliasDef):
                return definition
            t = definition.target

    def boxed_variant(self, t: ir.Type) -> bool:
        """Union payloads that are structs, newtypes or unions are boxed: they can be large
        (clippy::large_enum_variant) and boxing them ends any recursion through the union."""
        if isinstance(t, ir.NamedRef) and t.name in self.newtypes:
            return True
        return isinstance(self.resolve(t), (ir.ObjectDef, ir.UnionDef))

    def _recursive_edges(self) -> set[tuple[str, str]]:
        """By-value references (owner, target) on a cycle, which must be boxed: struct fields and
        newtype payloads, through Option but not through Vec or HashMap. Type aliases are edges
        but cannot be boxed; a cycle always also passes a struct field or newtype (aliases that
        only reach themselves are newtypes or degenerate)."""
        edges: dict[str, list[str]] = {}
        for named in self.api.types:
            d = named.definition
            targets: list[str] = []
            if isinstance(d, ir.ObjectDef):
                for f in d.fields:
                    targets += _references(f.type, True)
            elif isinstance(d, ir.AliasDef) and named.name not in self.degenerate:
                targets += _references(d.target, True)
            elif isinstance(d, ir.UnionDef):
                targets += [
                    r for v in d.variants if not self.boxed_variant(v.type) for r in _references(v.type, True)
                ]
            edges[named.name] = [t for t in targets if t in self.by_name]
        return cyclic_edges(edges)

    def _decode_cycles(self) -> set[tuple[str, str]]:
        """Union variants whose decoding would come back to the same union without consuming any
        input (`U = oneOf[U, string]`, or through aliases and other unions): trying them would
        recurse forever, so they are never decoded (a value is constructed by hand only)."""
        edges: dict[str, list[str]] = {}
        for named in self.api.types:
            d = named.definition
            if isinstance(d, ir.UnionDef):
                targets = [r for v in d.variants for r in _references(v.type, True)]
            elif isinstance(d, ir.AliasDef) and named.name not in self.degenerate:
                targets = _references(d.target, True)
            else:
                targets = []
            edges[named.name] = [t for t in targets if t in self.by_name]
        return cyclic_edges(edges)

    # Expressions ---------------------------------------------------------------------------------

    def expr(self, t: ir.Type, boxed: bool = False) -> str:
        """The Rust type of t; `boxed` puts the named type under any Option into a Box."""
        if isinstance(t, ir.PrimitiveType):
            return _PRIMS[t.kind]
        if isinstance(t, ir.ConstType):
            return _const_type(t.value)
        if isinstance(t, ir.ArrayType):
            return f"Vec<{self.expr(t.items)}>"
        if isinstance(t, ir.MapType):
            return f"std::collections::HashMap<String, {self.expr(t.values)}>"
        if isinstance(t, ir.NamedRef):
            name = self.names.get(t.name)
            if name is None:
                self.warnings.append(
                    f"reference to undeclared schema {t.name!r}; generated as serde_json::Value"
                )
                return "serde_json::Value"
            return f"Box<{name}>" if boxed else name
        return f"Option<{self.expr(t.inner, boxed)}>"

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
                return t.value if split_words(t.value) else _symbol_words(t.value)
            return f"value {t.value}".replace("-", "minus ")
        return _PRIM_LABELS[t.kind]

    def accept(self, t: ir.Type) -> str:
        """The Rust condition on `value` (a serde_json::Value) under which an undiscriminated
        union tries to decode a member of type t."""
        target = self.resolve(t)
        if isinstance(target, ir.ConstType):
            return _const_condition(target.value)
        if isinstance(target, ir.PrimitiveType):
            if target.kind is ir.Prim.ANY:
                return "true"
            if target.kind is ir.Prim.BOOLEAN:
                return "value.is_boolean()"
            if _PRIMS[target.kind] in ("i32", "i64", "f32", "f64"):
                return "value.is_number()"
            return "value.is_string()"
        if isinstance(target, ir.ArrayType):
            return "value.is_array()"
        if isinstance(target, ir.MapType):
            return "value.is_object()"
        if isinstance(target, ir.EnumDef):
            return "value.is_string()" if target.base is ir.Prim.STRING else "value.is_number()"
        if isinstance(target, ir.ObjectDef):
            required = ", ".join(rust_string(f.wire_name) for f in target.fields if f.required)
            return f"crate::serde_helpers::has_fields(&value, &[{required}])"
        return "true"  # a nested union decides for itself


def _const_type(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        if _I64_MIN <= value <= _I64_MAX:
            return "i64"
        return "u64" if 0 <= value < 2**64 else "f64"
    if isinstance(value, float):
        return "f64"
    return "String"


def _float_literal(value: float) -> str:
    if math.isnan(value):
        return "f64::NAN"
    if math.isinf(value):
        return "f64::INFINITY" if value > 0 else "f64::NEG_INFINITY"
    text = repr(value)
    return text if any(c in text for c in ".eE") else text + ".0"


def _const_condition(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return f"value.as_bool() == Some({'true' if value else 'false'})"
    if isinstance(value, int):
        if _I64_MIN <= value <= _I64_MAX:
            return f"value.as_i64() == Some({value})"
        if 0 <= value < 2**64:
            return f"value.as_u64() == Some({value})"
        return f"value == {_float_literal(float(value))}_f64"  # serde_json reads it as a float
    if isinstance(value, float):
        return f"value == {_float_literal(value)}_f64" if math.isfinite(value) else "false"
    return f"value.as_str() == Some({rust_string(value)})"


# Declarations --------------------------------------------------------------------------------------


def _deprecated(docs: ir.Docs) -> list[str]:
    return ["#[deprecated]"] if docs.deprecated else []


def _field_doc(f: ir.Field) -> list[str]:
    lines = doc(f.docs.text, f"The {_code(f.wire_name)} property.")
    notes = []
    if f.default is not None:
        value = f.default.value
        shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
        notes.append(f"Defaults to {_code(shown)} on the server.")
    if f.read_only:
        notes.append("Read-only: set by the server and ignored in requests.")
    if f.write_only:
        notes.append("Write-only: sent in requests, never returned.")
    for note in notes:
        lines += ["///", *doc(note)]
    return lines


def _struct(types: RustTypes, named: ir.NamedType, obj: ir.ObjectDef) -> RustStruct:
    name = types.names[named.name]
    claim = field_namer()
    fields = []
    for f in obj.fields:
        field_name = claim(f.wire_name)
        boxed = any((named.name, r) in types.boxed_edges for r in _references(f.type, True))
        inner = types.expr(_strip_nullable(f.type), boxed)
        serde: list[str] = []
        if field_name.removeprefix("r#") != f.wire_name:
            serde.append(f"rename = {rust_string(f.wire_name)}")
        if f.required and not f.nullable:
            rust_type = inner
        elif f.required:
            rust_type = f"Option<{inner}>"
            serde.append("default")
        elif not f.nullable:
            rust_type = f"Option<{inner}>"
            serde += ["default", 'skip_serializing_if = "Option::is_none"']
        else:
            rust_type = f"Option<Option<{inner}>>"
            serde += [
                "default",
                'skip_serializing_if = "Option::is_none"',
                'deserialize_with = "crate::serde_helpers::double_option"',
            ]
        attrs = [f"#[serde({', '.join(serde)})]"] if serde else []
        fields.append(RustField(field_name, rust_type, attrs + _deprecated(f.docs), _field_doc(f)))
    if obj.additional is not None:
        fields.append(
            RustField(
                name=claim("additional_properties"),
                type=f"std::collections::HashMap<String, {types.expr(obj.additional)}>",
                attrs=["#[serde(flatten)]"],
                doc=doc("Properties not declared by the contract, by name."),
            )
        )
    derives = ["Debug", "Clone", "PartialEq"]
    if all(f.type.startswith(("Option<", "std::collections::HashMap<")) for f in fields):
        derives.append("Default")
    return RustStruct(
        name=name,
        doc=doc(named.docs.text, f"The {_code(named.name)} schema."),
        derives=", ".join([*derives, "Serialize", "Deserialize"]),
        attrs=_deprecated(named.docs),
        fields=fields,
    )


def _enum(types: RustTypes, named: ir.NamedType, enum: ir.EnumDef) -> RustEnum:
    name = types.names[named.name]
    string = enum.base is ir.Prim.STRING
    values = []
    kept = []
    for value in enum.values:
        if isinstance(value.value, str) != string or (
            isinstance(value.value, int) and not _I64_MIN <= value.value <= _I64_MAX
        ):
            types.warnings.append(
                f"enum {named.name!r}: value {value.value!r} cannot be listed; it decodes as unknown"
            )
            continue
        kept.append(value)
    for value, variant in zip(kept, enum_variant_names(tuple(kept)), strict=True):
        literal = rust_string(value.value) if isinstance(value.value, str) else str(value.value)
        values.append(
            RustEnumValue(
                name=variant,
                literal=literal,
                doc=doc(value.docs.text, f"The value {_code(str(value.value)) if string else literal}."),
                attrs=_deprecated(value.docs),
            )
        )
    lines = doc(named.docs.text, f"The {_code(named.name)} enum.")
    lines += [
        "///",
        "/// Servers may add values: a value not listed here is kept in `Unknown`, not rejected.",
    ]
    return RustEnum(
        name=name,
        doc=lines,
        attrs=_deprecated(named.docs),
        values=values,
        base="String" if string else "i64",
        impls="rust/enum_string.rs.j2" if string else "rust/enum_integer.rs.j2",
    )


_TAGGED = "rust/union_tagged.rs.j2"
# Tries the variants in order; also for a discriminated union none of whose variants has a tag,
# which can then only decode to Unknown.
_UNTAGGED = "rust/union_untagged.rs.j2"


def _union(types: RustTypes, named: ir.NamedType, union: ir.UnionDef) -> RustUnion:
    name = types.names[named.name]
    namer = Namer(pascal, _fix_variant, "Variant", taken=("Unknown",))
    tagged = union.discriminator is not None
    variants = []
    for variant in union.variants:
        label = types.label(variant.type)
        if (
            isinstance(variant.type, ir.NamedRef)
            and label.startswith(name)
            and label[len(name) : len(name) + 1].isupper()
        ):
            label = label[len(name) :]  # GetEventsCreatedVariant1 in GetEventsCreated → Variant1
        if tagged and variant.tags and any(split_words(tag) for tag in variant.tags[:1]):
            label = variant.tags[0]
        variant_name = namer.claim(label)
        boxed = types.boxed_variant(variant.type)
        payload = types.expr(variant.type, boxed)
        decodable = not any((named.name, r) in types.undecodable for r in _references(variant.type, True))
        if not decodable:
            types.warnings.append(
                f"union {named.name!r}: variant {variant_name} contains the union itself; never decoded"
            )
        if not decodable:
            lines = doc("Contains this union itself by value, so decoding never produces it.")
        elif tagged and variant.tags:
            assert union.discriminator is not None
            tags = ", ".join(_code(tag) for tag in variant.tags)
            lines = doc(f"Selected when {_code(union.discriminator)} is {tags}.")
        elif tagged:
            assert union.discriminator is not None
            lines = doc(
                f"Has no {_code(union.discriminator)} value in the contract, so decoding never produces it."
            )
        else:
            lines = doc(f"A value that decodes as `{types.expr(variant.type)}`.")
        item = RustVariant(name=variant_name, payload=payload, doc=lines)
        if tagged and variant.tags and decodable:
            item.pattern = " | ".join(rust_string(tag) for tag in variant.tags)
            item.what = rust_string(f"`{variant_name}` variant of `{name}`")
            target = types.resolve(variant.type)
            if isinstance(target, ir.ObjectDef) and union.discriminator not in {
                f.wire_name for f in target.fields
            }:
                item.inject_tag = rust_string(variant.tags[0])
        elif not tagged and decodable:
            item.accept = types.accept(variant.type)
        variants.append(item)
    lines = doc(named.docs.text, f"The {_code(named.name)} union.")
    if tagged:
        assert union.discriminator is not None
        lines += ["///", f"/// The {_code(union.discriminator)} property selects the variant."]
    else:
        lines += ["///", "/// Decoding tries the variants in order and keeps the first that fits."]
    lines += ["/// A value no variant matches is kept in `Unknown` as raw JSON, not rejected."]
    return RustUnion(
        name=name,
        doc=lines,
        attrs=_deprecated(named.docs),
        variants=variants,
        discriminator=rust_string(union.discriminator) if union.discriminator is not None else "",
        decoder=_TAGGED if any(v.pattern for v in variants) else _UNTAGGED,
    )


def _alias(types: RustTypes, named: ir.NamedType, alias: ir.AliasDef) -> RustNewtype | RustAlias:
    name = types.names[named.name]
    lines = doc(named.docs.text, f"The {_code(named.name)} schema.")
    if named.name in types.degenerate:
        return RustAlias(name, lines, _deprecated(named.docs), "serde_json::Value")
    if named.name in types.newtypes:
        boxed = any((named.name, r) in types.boxed_edges for r in _references(alias.target, True))
        return RustNewtype(name, lines, _deprecated(named.docs), types.expr(alias.target, boxed))
    return RustAlias(name, lines, _deprecated(named.docs), types.expr(alias.target))


def build_models(api: ir.Api, types: RustTypes | None = None) -> RustModels:
    types = types or RustTypes(api)
    models = RustModels()
    for named in api.types:
        d = named.definition
        if isinstance(d, ir.ObjectDef):
            models.items.append(_struct(types, named, d))
        elif isinstance(d, ir.EnumDef):
            models.items.append(_enum(types, named, d))
        elif isinstance(d, ir.UnionDef):
            models.items.append(_union(types, named, d))
        else:
            models.items.append(_alias(types, named, d))
    models.serde_import = any(not isinstance(item, RustAlias) for item in models.items)
    allows = ["deprecated"] if _any_deprecated(api) else []
    models.lint_allows = ["clippy::enum_variant_names", *allows, *DOC_LINT_ALLOWS]
    models.warnings = types.warnings
    return models


def _any_deprecated(api: ir.Api) -> bool:
    for named in api.types:
        d = named.definition
        if named.docs.deprecated:
            return True
        if isinstance(d, ir.ObjectDef) and any(f.docs.deprecated for f in d.fields):
            return True
        if isinstance(d, ir.EnumDef) and any(v.docs.deprecated for v in d.values):
            return True
    return False


# Operations ----------------------------------------------------------------------------------------

# Methods of every request builder, and names the generated code uses for itself: a parameter
# with one of these names gets a numeric suffix.
_BUILDER_NAMES = (
    "client",
    "options",
    "timeout",
    "max_retries",
    "header",
    "idempotency_key",
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
_CLIENT_METHODS = (
    "builder",
    "new",
    "base_url",
    "max_retries",
    "build_request",
    "execute",
    "body",
    "send_json",
    "send_json_or_empty",
    "call_text",
    "call_empty",
    "call_binary",
    "send_sse",
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
_INTEGERS = ("i32", "i64")
OPERATION_LINT_ALLOWS = (
    "clippy::should_implement_trait",
    "clippy::too_many_arguments",
    "clippy::wrong_self_convention",
    "clippy::type_complexity",
    "clippy::new_ret_no_self",
    "deprecated",
    "unused_imports",
)


@dataclass
class RustParam:
    ident: str  # struct field and setter name
    type: str  # the stored type (Option<T> when optional)
    arg: str  # the argument type of its setter (or of the resource method when required)
    convert: str  # the expression storing the argument `value`
    required: bool
    doc: list[str]
    emit: list[str]  # statements adding it to `req`
    part: list[str] = field(default_factory=list)  # statements adding it to `multipart`

    @property
    def init(self) -> str:
        """The expression storing the argument when it is required (a resource method's)."""
        return re.sub(r"\bvalue\b", self.ident, self.convert)

    @property
    def init_line(self) -> str:
        """The field's line in the builder's struct literal, shorthand when possible."""
        return self.ident if self.init == self.ident else f"{self.ident}: {self.init}"


@dataclass
class RustPaging:
    page: str
    item: str
    items: str  # expression: the items of `page` (a Vec)
    count: str  # expression: how many items `page` holds
    next: list[str]  # statements of `fn next`, ending in Some(next) or None


@dataclass
class RustOperation:
    method: str  # the resource method
    builder: str  # the request builder type
    doc: list[str]
    params: list[RustParam]
    verb: str  # Rust string literal of the HTTP method
    path: str  # expression building the path
    statements: list[str]  # statements building `req` after `let mut req = ...`
    data: str  # the type `send` returns
    call: str  # the runtime method, e.g. call_json::<Agent>
    paging: RustPaging | None


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


def _param_types(types: RustTypes, t: ir.Type, required: bool) -> tuple[str, str, str, str]:
    """(stored type, argument type, conversion, inner type) of a parameter."""
    inner = types.expr(_strip_nullable(t))
    if inner == "String":
        arg, convert = "impl Into<String>", "value.into()"
    else:
        arg, convert = inner, "value"
    if required:
        return inner, arg, convert, inner
    return f"Option<{inner}>", arg, f"Some({convert})", inner


def _is_file(types: RustTypes, t: ir.Type) -> bool:
    target = types.resolve(t)
    return isinstance(target, ir.PrimitiveType) and target.kind in (ir.Prim.BINARY, ir.Prim.BYTES)


def _operation(types: RustTypes, shape: OperationShape, method: str, builder: str) -> RustOperation:
    op = shape.operation
    namer = Namer(snake, _fix_leading_letter, "param", taken=_BUILDER_NAMES)

    def claim(text: str) -> str:
        return rust_fix_field(namer.claim(text))

    params: list[RustParam] = []
    path_fields: dict[str, str] = {}
    query_fields: dict[str, RustParam] = {}

    def add_param(p: ir.Param) -> None:
        name = claim(p.wire_name)
        required = p.required or p.location is ir.ParamLocation.PATH
        stored, arg, convert, _ = _param_types(types, p.type, required)
        wire = rust_string(p.wire_name)
        if p.location is ir.ParamLocation.PATH:
            path_fields[p.wire_name] = name
            emit: list[str] = []
        elif p.location is ir.ParamLocation.QUERY:
            style = _STYLES.get(p.style, "Form")
            explode = "true" if p.explode else "false"
            emit = [f"req.query({wire}, crate::runtime::Style::{style}, {explode}, &self.{name});"]
        elif p.location is ir.ParamLocation.HEADER:
            emit = [f"req.header({wire}, &self.{name});"]
        else:
            emit = [f"req.cookie({wire}, &self.{name});"]
        where = p.location.value
        lines = doc(p.docs.text, f"The {_code(p.wire_name)} {where} parameter.")
        params.append(RustParam(name, stored, arg, convert, required, lines, emit))
        if p.location is ir.ParamLocation.QUERY:
            query_fields[p.wire_name] = params[-1]

    for p in shape.path_params:
        add_param(p)
    path = _path_expr(op, path_fields)
    for p in (*shape.query_params, *shape.header_params, *shape.cookie_params):
        add_param(p)

    multipart = False
    body = shape.body
    if body is not None:
        content = (
            next((c for c in op.body.contents if c.media_type == body.media_type), None) if op.body else None
        )
        encodings = {e.part: e.content_type for e in content.encodings} if content else {}
        target = types.resolve(body.type) if body.type is not None else None
        media = rust_string(body.media_type)
        body_doc = doc(op.body.docs.text if op.body else "", "The request body.")
        if body.kind == "multipart" and isinstance(target, ir.ObjectDef):
            multipart = True
            for f in target.fields:
                name = claim(f.wire_name)
                required = f.required and body.required
                wire = rust_string(f.wire_name)
                lines = doc(f.docs.text, f"The {_code(f.wire_name)} part.")
                if _is_file(types, f.type):
                    stored = "crate::runtime::FilePart" if required else "Option<crate::runtime::FilePart>"
                    ctype = rust_string(encodings.get(f.wire_name, "application/octet-stream"))
                    ref = f"&self.{name}" if required else "file"
                    stmt = f"multipart.file_part({wire}, {ref}, {ctype});"
                    part = [stmt] if required else [f"if let Some(file) = &self.{name} {{ {stmt} }}"]
                    convert = "value" if required else "Some(value)"
                    file_arg = "crate::runtime::FilePart"
                    params.append(RustParam(name, stored, file_arg, convert, required, lines, [], part))
                    continue
                stored, arg, convert, inner = _param_types(types, f.type, required)
                ctype = encodings.get(f.wire_name, "")
                as_json = (
                    "true"
                    if "json" in ctype
                    or not isinstance(types.resolve(f.type), (ir.PrimitiveType, ir.EnumDef, ir.ConstType))
                    else "false"
                )
                part = [f"multipart.value({wire}, &self.{name}, {as_json})?;"]
                params.append(RustParam(name, stored, arg, convert, required, lines, [], part))
        else:
            name = claim("body")
            if body.kind == "binary":
                inner, arg, convert = (
                    "crate::runtime::Bytes",
                    "impl Into<crate::runtime::Bytes>",
                    "value.into()",
                )
                stmt = "req.bytes({v}.clone(), " + media + ");"
            elif body.kind == "text":
                inner, arg, convert = "String", "impl Into<String>", "value.into()"
                stmt = "req.bytes(crate::runtime::Bytes::from({v}.clone()), " + media + ");"
            elif body.kind == "multipart":
                inner, arg, convert = "crate::runtime::Multipart", "crate::runtime::Multipart", "value"
                stmt = "req.multipart({v}.clone());"
            else:
                inner = types.expr(body.type) if body.type is not None else "serde_json::Value"
                arg, convert = inner, "value"
                stmt = "req.form({v});" if body.kind == "form" else "req.json({v});"
                stmt = stmt.replace("{v}", "&{v}") if body.required else stmt
            if body.required:
                emit = [stmt.replace("{v}", f"self.{name}")]
                params.append(RustParam(name, inner, arg, convert, True, body_doc, emit))
            else:
                inner_stmt = stmt.replace("{v}", "body").replace("&body", "body")
                emit = [f"if let Some(body) = &self.{name} {{ {inner_stmt} }}"]
                params.append(
                    RustParam(name, f"Option<{inner}>", arg, f"Some({convert})", False, body_doc, emit)
                )

    setup = [line for p in params for line in p.emit]
    if multipart:
        setup.append("let mut multipart = crate::runtime::Multipart::new();")
        setup += [line for p in params for line in p.part]
        setup.append("req.multipart(multipart);")
    if not shape.authenticated:
        setup.append("req.authenticated(false);")
    if shape.idempotency_header:
        setup.append(f"req.idempotency({rust_string(shape.idempotency_header)});")
    setup.append(f"req.retryable({'true' if shape.retryable else 'false'});")
    if shape.result.kind in ("text", "binary") and shape.result.media_type:
        setup.append(f"req.accept({rust_string(shape.result.media_type)});")
    if shape.streaming is not None and shape.streaming.resume_header:
        setup.append(f"req.resume({rust_string(shape.streaming.resume_header)});")

    result = shape.result
    value = types.expr(result.type) if result.type is not None else "serde_json::Value"
    if result.kind == "json" and result.may_be_empty:
        data, call = f"Option<{value}>", f"call_json_or_empty::<{value}>"
    elif result.kind == "json":
        data, call = value, f"call_json::<{value}>"
    elif result.kind == "text":
        data, call = "String", "call_text"
    elif result.kind == "binary":
        data, call = "crate::runtime::Binary", "call_binary"
    elif result.kind == "sse":
        data, call = f"crate::runtime::EventStream<{value}>", f"call_sse::<{value}>"
    else:
        data, call = "()", "call_empty"

    paging = None
    if shape.pagination is not None and result.kind == "json" and not result.may_be_empty:
        paging = _paging(types, shape, query_fields, value)
    lines = doc(op.docs.text, f"The {_code(op.id)} operation.")
    lines += ["///", f"/// `{op.http.method} {rust_string(op.http.path)[1:-1].replace('`', '')}`"]
    if op.docs.deprecated:
        lines.append("#[deprecated]")
    verb = rust_string(op.http.method)
    return RustOperation(method, builder, lines, params, verb, path, setup, data, call, paging)


def _field_access(types: RustTypes, obj: ir.ObjectDef, wire: str | None) -> tuple[str, ir.Field] | None:
    """The Rust field name and IR field of a wire name in a page struct."""
    if wire is None:
        return None
    claim = field_namer()
    for f in obj.fields:
        name = claim(f.wire_name)
        if f.wire_name == wire:
            return name, f
    return None


def _option_of(f: ir.Field, access: str, scalar: bool) -> str:
    """An expression giving Option<T> for a page field, whatever its optionality."""
    clone = "" if scalar else ".clone()"
    if f.required and not f.nullable:
        return f"Some(page.data.{access}{clone})"
    if not f.required and f.nullable:
        return f"page.data.{access}{clone}.flatten()"
    return f"page.data.{access}{clone}"


def _paging(
    types: RustTypes, shape: OperationShape, query: dict[str, RustParam], page: str
) -> RustPaging | None:
    pag = shape.pagination
    assert pag is not None
    item = types.expr(pag.item_type)

    def param_field(wire: str | None) -> RustParam | None:
        return query.get(wire) if wire is not None else None

    if pag.items_field is None:
        items, count = "page", "page.len()"
    else:
        obj = types.resolve(shape.result.type) if shape.result.type is not None else None
        if not isinstance(obj, ir.ObjectDef):
            return None
        found = _field_access(types, obj, pag.items_field)
        if found is None:
            return None
        access, f = found
        if any(r in types.newtypes for r in _references(f.type, True)):
            return None
        if f.required and not f.nullable:
            items, count = f"page.{access}", f"page.{access}.len()"
        elif f.required or not f.nullable:
            items, count = (
                f"page.{access}.unwrap_or_default()",
                f"page.{access}.as_ref().map_or(0, |v| v.len())",
            )
        else:
            items = f"page.{access}.flatten().unwrap_or_default()"
            count = f"page.{access}.as_ref().and_then(|v| v.as_ref()).map_or(0, |v| v.len())"
    limit = param_field(pag.limit_param)
    if pag.style == "link":
        nxt = [
            "let url = crate::runtime::next_link(&page.meta)?;",
            "let mut next = self.clone();",
            "next.options.url = Some(url);",
            "Some(next)",
        ]
    elif pag.style == "cursor":
        cursor = param_field(pag.cursor_param)
        obj = types.resolve(shape.result.type) if shape.result.type is not None else None
        if cursor is None or cursor.type != "Option<String>" or not isinstance(obj, ir.ObjectDef):
            return None
        found = _field_access(types, obj, pag.next_cursor_field)
        if found is None or types.expr(_strip_nullable(found[1].type)) != "String":
            return None
        cursor_expr = _option_of(found[1], found[0], False)
        more = "None"
        more_found = _field_access(types, obj, pag.has_more_field)
        if more_found is not None and types.expr(_strip_nullable(more_found[1].type)) == "bool":
            more = _option_of(more_found[1], more_found[0], True)
        nxt = [
            f"let cursor = crate::runtime::next_cursor({cursor_expr}, {more})?;",
            "let mut next = self.clone();",
            f"next.{cursor.ident} = Some(cursor);",
            "Some(next)",
        ]
    else:
        offset = param_field(pag.offset_param)
        obj = types.resolve(shape.result.type) if shape.result.type is not None else None
        if (
            offset is None
            or offset.type not in ("Option<i32>", "Option<i64>")
            or not isinstance(obj, ir.ObjectDef)
        ):
            return None
        offset_type = offset.type[7:-1]
        limit_expr = "None"
        if limit is not None and limit.type in ("Option<i32>", "Option<i64>"):
            limit_expr = f"self.{limit.ident}" + (".map(i64::from)" if limit.type == "Option<i32>" else "")
        total_expr = "None"
        total_found = _field_access(types, obj, pag.total_field)
        total_type = types.expr(_strip_nullable(total_found[1].type)) if total_found is not None else ""
        if total_found is not None and total_type in _INTEGERS:
            total_expr = _option_of(total_found[1], total_found[0], True)
            if total_type == "i32" and total_expr.startswith("Some("):
                total_expr = f"Some(i64::from({total_expr[5:-1]}))"
            elif total_type == "i32":
                total_expr += ".map(i64::from)"
        current = f"self.{offset.ident}.unwrap_or_default()"
        nxt = [
            f"let offset = {'i64::from(' + current + ')' if offset_type == 'i32' else current};",
            "let count = <Self as crate::runtime::Paginated>::count(&page.data);",
            f"let next_offset = crate::runtime::next_offset(offset, count, {limit_expr}, {total_expr})?;",
            "let mut next = self.clone();",
            f"next.{offset.ident} = Some(<i32>::try_from(next_offset).ok()?);"
            if offset_type == "i32"
            else f"next.{offset.ident} = Some(next_offset);",
            "Some(next)",
        ]
    return RustPaging(page, item, items, count, nxt)


def build_operations(api: ir.Api, types: RustTypes, surface: Decisions) -> RustOperations:
    result = RustOperations(lint_allows=list(OPERATION_LINT_ALLOWS))
    type_namer = Namer(pascal, _fix_type, "Operation", taken=types.names.values())
    accessors = Namer(snake, _fix_leading_letter, "resource", taken=_CLIENT_METHODS)
    tag_docs = {tag.name: tag.docs.text for tag in api.tags}
    for group in surface.groups:
        group_name = type_namer.claim(f"{group} api")
        accessor = rust_fix_field(accessors.claim(group))
        methods = Namer(snake, _fix_leading_letter, "call", taken=_RESOURCE_NAMES)
        operations = []
        for shape in surface.by_group(group):
            # The operationId without the group's words, by Go's rule: listAgents in
            # agents → list, getAgentStatus → get_status; clashes get a numeric suffix.
            words = " ".join(method_words(shape.operation.id, group)) or shape.operation.id
            method = rust_fix_field(methods.claim(words))
            builder = type_namer.claim(f"{shape.operation.id} request")
            operations.append(_operation(types, shape, method, builder))
        lines = doc(tag_docs.get(group, ""), f"The {_code(group)} operations.")
        result.groups.append(RustGroup(group_name, accessor, lines, operations))
    return result


# Package -------------------------------------------------------------------------------------------


def crate_name(api: ir.Api, options: Options) -> str:
    words = [w.lower() for w in package_words(api, options.package_name)]
    if words[-1] != "sdk":
        words.append("sdk")
    name = "-".join(words)
    return "n" + name if not name[0].isalpha() else name


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes, controls and non-ASCII escaped."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code > 0xFFFF:
            out.append(f"\\U{code:08X}")
        else:
            out.append(f"\\u{code:04X}")
    return '"' + "".join(out) + '"'


def _rustfmt(directory: Path) -> None:
    files = sorted(
        p.relative_to(directory).as_posix() for p in directory.rglob("*.rs") if "target" not in p.parts
    )
    run_tool(["rustfmt", "--edition", EDITION, *files], directory, "format the Rust SDK")


def _default_base_url(api: ir.Api) -> str:
    for server in api.servers:
        if server.url.startswith(("http://", "https://")):
            return server.url
    return "http://localhost"


def _api_key_header(api: ir.Api) -> str:
    for scheme in api.security_schemes:
        if scheme.kind == "api-key" and scheme.location == "header" and scheme.param_name:
            return scheme.param_name
    return "X-API-Key"


@dataclass
class RustExample:
    """A call shown in the README: only operations whose required arguments are all strings."""

    call: str  # e.g. client.agents().list()
    op: RustOperation


def _examples(operations: RustOperations) -> dict[str, RustExample | None]:
    found: dict[str, RustExample | None] = {"call": None, "page": None, "stream": None, "download": None}
    for group in operations.groups:
        for op in group.operations:
            required = [p for p in op.params if p.required]
            if any(p.arg != "impl Into<String>" for p in required):
                continue
            args = ", ".join(rust_string("id-123") for _ in required)
            example = RustExample(f"client.{group.accessor}().{op.method}({args})", op)
            if op.paging is not None and found["page"] is None:
                found["page"] = example
            elif op.data.startswith("crate::runtime::EventStream") and found["stream"] is None:
                found["stream"] = example
            elif op.data == "crate::runtime::Binary" and found["download"] is None:
                found["download"] = example
            elif found["call"] is None and op.paging is None and "EventStream" not in op.data:
                found["call"] = example
    return found


def plan(decisions: Decisions, options: Options) -> LanguagePlan:
    api = decisions.api
    crate = crate_name(api, options)
    title = " ".join(api.title.split()) or "the API"
    types = RustTypes(api)  # its graph analyses run once, for the models and the operations
    models = build_models(api, types)
    surface = decisions
    operations = build_operations(api, types, surface)
    crate_doc = doc(f"Rust SDK for the {title}.", marker="//!")
    if api.docs.text:
        crate_doc += ["//!", *doc(api.docs.text, marker="//!")]
    prefix = decisions.client.env_prefix
    context = {
        "crate": toml_string(crate),
        "crate_ident": crate.replace("-", "_"),
        "crate_plain": crate,
        "title": "".join(c for c in title if c.isalnum() or c in " -_.,()") or "the API",
        "version": toml_string(options.sdk_version),
        "version_plain": options.sdk_version
        if re.fullmatch(r"[0-9A-Za-z.+-]+", options.sdk_version)
        else "0.1.0",
        "edition": toml_string(EDITION),
        "rust_version": toml_string(RUST_VERSION),
        "description": toml_string(f"Rust SDK for the {title}"),
        "crate_doc": crate_doc,
        "doc_lint_allows": list(DOC_LINT_ALLOWS),
        "models": models,
        "operations": operations,
        "default_base_url": rust_string(_default_base_url(api)),
        "env_prefix": rust_string(prefix),
        "env_prefix_plain": prefix,
        "api_key_header": rust_string(_api_key_header(api)),
        "sdk_name": rust_string(crate),
        "sdk_version": rust_string(options.sdk_version),
        "examples": _examples(operations),
    }
    result = LanguagePlan(language="rust")
    result.files = [
        TemplateFile("rust/Cargo.toml.j2", "Cargo.toml", context),
        TemplateFile("rust/README.md.j2", "README.md", context),
        TemplateFile("rust/lib.rs.j2", "src/lib.rs", context),
        TemplateFile("rust/models.rs.j2", "src/models.rs", context),
        TemplateFile("rust/operations.rs.j2", "src/operations.rs", context),
    ]
    from polysdk.views.rust_driver import driver_files  # the conformance driver; it imports this module

    result.files += driver_files(surface, types, operations, crate, options.sdk_version)
    result.runtime = [
        RuntimeFile("rust/runtime/serde_helpers.rs", "src/serde_helpers.rs"),
        RuntimeFile("rust/runtime/gitignore", ".gitignore"),
        *(
            RuntimeFile(f"rust/runtime/runtime/{name}.rs", f"src/runtime/{name}.rs")
            for name in RUNTIME_MODULES
        ),
    ]
    result.formatter = _rustfmt
    result.warnings = list(dict.fromkeys(types.warnings))
    return result
