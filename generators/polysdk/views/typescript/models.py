"""src/models.ts: one declaration per named type of the contract.

Properties keep the contract's wire names (snake_case stays), quoted when not plain identifiers;
a name of an `Object.prototype` member (`constructor`, `toString`, `valueOf`, `__proto__`, ...) takes
a `_` suffix (`toString_`), which the codec maps to the wire name both ways (see types.field_name).
Optional → `name?: T`; nullable → `T | null`; both → `name?: T | null` (with
exactOptionalPropertyTypes an absent property and `null` stay distinct). readOnly → `readonly`.

Enums are open: `"a" | "b" | (string & {})` (integers: `1 | 2 | (number & {})`), so a value the
contract does not list type-checks, with a same-named `as const` object of the known values.

Unions and their unknown variant. Every union gets one extra member, `Unknown<Name>`, an interface
that extends the runtime's `UnknownVariant` (src/unknown.ts): a property keyed by the unique symbol
`unknownVariant` (a symbol can never clash with a JSON property name) plus the raw JSON:

    export interface UnknownPlanStep extends UnknownVariant {
      readonly type?: never;   // discriminated unions only: keeps `switch (step.type)` narrowing
      readonly raw: unknown;   // `rawJson` instead when the discriminator itself is named `raw`
    }

A member whose discriminator is `?: never` keeps narrowing exact (`case "tool_call"` excludes it,
`default` keeps it). A known variant whose own discriminator property is wider than its tags
(`type: string`, an open enum, optional, or missing) is intersected with the tag literal, e.g.
`(Cat & { petType: "Cat" })`, so that it narrows too.

Type aliases that refer to each other without an object in between (`A = B`, `B = A | string`) are
illegal in TypeScript; such a reference is replaced by `unknown`, with a warning.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from polysdk import ir
from polysdk.literals import block_comment_safe, line_comment, ts_string
from polysdk.names import Namer, needs_leading_letter, pascal, ts_property_key
from polysdk.views.typescript.docs import default_tag, doc_lines, jsdoc, symbol_doc, with_tags
from polysdk.views.typescript.types import (
    STRINGY,
    UNKNOWN,
    Atom,
    TsType,
    TsTypes,
    field_name,
    field_names,
    leaf,
    literal,
    union,
)

MAX_LINE = 100  # a union or enum longer than this is written one member per line
MAX_INDEX_MEMBERS = 6  # an index signature wider than this becomes `unknown`
NUMBERS_NOTE = [
    "//",
    "// int64 values are `bigint` (exact past 2^53) and date-time values are `Date`: the SDK converts",
    "// them from and to JSON. A decoded date-time is a `DateTime`, a `Date` that keeps the exact RFC 3339",
    "// text (every fraction digit) and is sent back as that text. Binary values are `Uint8Array`.",
]


@dataclass
class TsMember:
    doc: list[str]
    line: str  # e.g. `readonly agent_id?: string | null;`


@dataclass
class TsInterface:
    name: str
    doc: list[str]
    heritage: str  # "" or " extends UnknownVariant"
    members: list[TsMember]
    template: str = "typescript/interface.ts.j2"


@dataclass
class TsAlias:
    name: str
    doc: list[str]
    single: str  # the whole type on one line, or "" when written one member per line
    members: list[str]  # union members, one per line, when single is ""
    template: str = "typescript/alias.ts.j2"


@dataclass
class TsConstEntry:
    doc: list[str]
    key: str
    value: str


@dataclass
class TsConst:
    name: str
    doc: list[str]
    entries: list[TsConstEntry]
    template: str = "typescript/const.ts.j2"


TsDeclaration = TsInterface | TsAlias | TsConst


@dataclass
class TsModels:
    file_comment: list[str]
    runtime_imports: list[str]  # type names imported from ./unknown.js
    declarations: list[TsDeclaration] = field(default_factory=list)


def alias(name: str, doc: list[str], t: TsType) -> TsAlias:
    single = t.text
    if len(t.atoms) > 1 and len(f"export type {name} = {single};") > MAX_LINE:
        return TsAlias(name, doc, "", t.texts)
    return TsAlias(name, doc, single, [])


def property_line(key: str, t: TsType, optional: bool, readonly: bool) -> str:
    return f"{'readonly ' if readonly else ''}{key}{'?' if optional else ''}: {t.text};"


def _member(doc: list[str], line: str) -> TsMember:
    return TsMember(jsdoc(doc, "  "), line)


def _interface(types: TsTypes, named: ir.NamedType, obj: ir.ObjectDef) -> TsInterface:
    name = types.names[named.name]
    members = []
    field_types: list[TsType] = []
    names = field_names(f.wire_name for f in obj.fields)
    for f in obj.fields:
        key = ts_property_key(names[f.wire_name])
        t = types.of(f.type)
        field_types.append(t)
        body = doc_lines(f.docs.text) or doc_lines(f"The `{key}` property.")
        if names[f.wire_name] != f.wire_name:
            wire = block_comment_safe(f.wire_name)
            body = [*body, f"On the wire `{wire}` (renamed: the name of an `Object.prototype` member)."]
        tags = (["@deprecated"] if f.docs.deprecated else []) + default_tag(f.default)
        members.append(_member(with_tags(body, tags), property_line(key, t, not f.required, f.read_only)))
    if obj.additional is not None or not obj.fields:
        extra = types.of(obj.additional) if obj.additional is not None else UNKNOWN
        index = index_signature(extra, field_types, any(not f.required for f in obj.fields))
        what = "Properties the contract does not list." if obj.fields else "The object's properties."
        members.append(_member([what], f"[key: string]: {index};"))
    return TsInterface(name, symbol_doc(named.docs, f"The `{name}` object."), "", members)


def index_signature(extra: TsType, fields: list[TsType], any_optional: bool) -> str:
    """The value type of an index signature next to properties. TypeScript requires every property
    to fit it, so it covers their types too (and `undefined` when one is optional, for consumers
    compiling without exactOptionalPropertyTypes); a wide union becomes `unknown`."""
    undefined = [TsType((Atom("undefined", simple=True),))] if any_optional and fields else []
    t = union([extra, *fields, *undefined])
    return t.text if len(t.atoms) <= MAX_INDEX_MEMBERS else "unknown"


def _fix_key(ident: str) -> str:
    """A const object key only needs to be an identifier; globals cannot be shadowed by it."""
    return "N" + ident if needs_leading_letter(ident) else ident


def _enum_key_text(value: str | int) -> str:
    """The text an enum value's key in the const object is named after (`-1` → `Minus1`)."""
    if isinstance(value, int) and value < 0:
        return f"minus {-value}"
    return str(value)


def _enum(types: TsTypes, named: ir.NamedType, definition: ir.EnumDef) -> list[TsDeclaration]:
    name = types.names[named.name]
    open_member = leaf(
        "(number & {})" if definition.base is ir.Prim.INTEGER else "(string & {})", simple=False
    )
    note = "Open enum: values this version of the SDK does not know are accepted and kept as they are."
    doc = symbol_doc(named.docs, f"The `{name}` enum.", (note,))
    keys = Namer(pascal, _fix_key, "Value")
    literals = [literal(v.value) for v in definition.values]
    entries = [
        TsConstEntry(jsdoc(doc_lines(v.docs.text), "  "), keys.claim(_enum_key_text(v.value)), lit.text)
        for v, lit in zip(definition.values, literals, strict=True)
    ]
    const_doc = jsdoc([f"Known values of {{@link {name}}}."])
    return [alias(name, doc, union([*literals, open_member])), TsConst(name, const_doc, entries)]


class TagFit(enum.Enum):
    """How a discriminated variant relates to its tags."""

    PLAIN = "plain"  # not a tagged variant of a discriminated union
    EXACT = "exact"  # its property already is the tag literal
    NARROW = "narrow"  # wider, so the union intersects it with the tags
    NESTED = "nested"  # a union whose own variants carry the tags
    CLASH = "clash"  # it can never hold the tags: left as is, a switch does not narrow to it


def _field_fit(types: TsTypes, found: ir.Field, tags: tuple[str, ...]) -> TagFit:
    t = types.resolve(found.type)
    if isinstance(t, ir.ConstType):
        if tags == (t.value,) and found.required and not found.nullable:
            return TagFit.EXACT
        return TagFit.NARROW if t.value in tags else TagFit.CLASH
    if isinstance(t, ir.PrimitiveType) and t.kind in STRINGY:
        return TagFit.NARROW
    if isinstance(t, ir.EnumDef) and t.base is ir.Prim.STRING:
        return TagFit.NARROW
    return TagFit.CLASH


def tag_fit(types: TsTypes, variant: ir.Type, prop: str, tags: tuple[str, ...]) -> TagFit:
    definition = types.resolve(variant)
    if isinstance(definition, ir.UnionDef):
        return TagFit.NESTED
    if not isinstance(definition, ir.ObjectDef):
        return TagFit.CLASH
    found = [f for f in definition.fields if f.wire_name == prop]
    return _field_fit(types, found[0], tags) if found else TagFit.NARROW


def _union(
    types: TsTypes, named: ir.NamedType, definition: ir.UnionDef, warnings: list[str]
) -> list[TsDeclaration]:
    name = types.names[named.name]
    unknown = types.unknown_names[named.name]
    prop = definition.discriminator
    key = ts_property_key(field_name(prop)) if prop is not None else ""
    members: list[TsType] = []
    for variant in definition.variants:
        t = types.of(variant.type, named.name)
        fit = TagFit.PLAIN
        if prop is not None and variant.tags and not t.is_unknown:
            fit = tag_fit(types, variant.type, prop, variant.tags)
        if fit is TagFit.NARROW:
            tags = " | ".join(ts_string(tag) for tag in variant.tags)
            members.append(leaf(f"({t.atoms[0].text} & {{ {key}: {tags} }})", simple=False))
            continue
        members.append(t)
        if fit is TagFit.CLASH:
            warnings.append(
                f"typescript: union {named.name!r}: variant {t.atoms[0].text} cannot hold its discriminator "
                f"{prop!r} value(s) {list(variant.tags)!r}; a switch does not narrow to it"
            )
    if prop is not None:
        how = f"Switch on `{key}` to narrow it; `{unknown}` is a variant this SDK version does not know."
    else:
        how = f"`{unknown}` is a value that matches none of the variants this SDK version knows."
    doc = symbol_doc(named.docs, f"The `{name}` union.", (how,))
    return [alias(name, doc, union([*members, leaf(unknown)])), _unknown_variant(name, unknown, prop)]


def _unknown_variant(union_name: str, name: str, prop: str | None) -> TsInterface:
    """The `Unknown<Union>` interface; prop is the discriminator, None for a union without one."""
    raw = "rawJson" if prop == "raw" else "raw"
    members = []
    if prop is not None:
        key = ts_property_key(field_name(prop))
        members.append(
            _member([f"Never present: the tag as received is inside `{raw}`."], f"readonly {key}?: never;")
        )
    members.append(_member(["The JSON value exactly as received."], f"readonly {raw}: unknown;"))
    doc = jsdoc(
        [
            f"The unknown variant of {{@link {union_name}}}: a value this version of the SDK does not know,",
            "kept as received. Test for it with `isUnknownVariant`.",
        ]
    )
    return TsInterface(name, doc, " extends UnknownVariant", members)


def _declarations(types: TsTypes, named: ir.NamedType, warnings: list[str]) -> list[TsDeclaration]:
    definition = named.definition
    if isinstance(definition, ir.ObjectDef):
        return [_interface(types, named, definition)]
    if isinstance(definition, ir.EnumDef):
        return _enum(types, named, definition)
    if isinstance(definition, ir.UnionDef):
        return _union(types, named, definition, warnings)
    name = types.names[named.name]
    doc = symbol_doc(named.docs, f"The `{name}` type.")
    return [alias(name, doc, types.of(definition.target, named.name))]


def models(api: ir.Api, warnings: list[str], types: TsTypes | None = None) -> TsModels:
    types = types if types is not None else TsTypes(api)
    for source, target in sorted(types.broken):
        warnings.append(
            f"typescript: {source!r} refers to {target!r} in a cycle of type aliases, which TypeScript "
            "cannot express; that reference is typed `unknown`"
        )
    title = " ".join(part for part in (api.title, api.version) if part)
    result = TsModels(
        file_comment=[
            *line_comment(f"Types of {title}." if title else "Types of the API.", "//"),
            *NUMBERS_NOTE,
        ],
        runtime_imports=["UnknownVariant"] if types.unknown_names else [],
    )
    for named in api.types:
        result.declarations += _declarations(types, named, warnings)
    return result
