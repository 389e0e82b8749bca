"""The TypeScript view: every TypeScript-specific decision about names, types, optionality and docs.

The package is ESM only (`type: module`, NodeNext), has no runtime dependencies and is checked with
`tsc` under `strict`, `noUncheckedIndexedAccess`, `exactOptionalPropertyTypes` and
`verbatimModuleSyntax`. No formatter runs: the templates produce the final layout (two-space
indent, double quotes, semicolons).

Type mapping (the JSON shapes the later runtime decodes into):
- string, uuid, date, decimal, byte (base64) → `string`; boolean → `boolean`
- integer, int32, float, double → `number`
- int64 → `bigint`: exact past 2^53; the runtime reads JSON integers losslessly into bigint
- date-time → `Date`: the runtime converts from and to RFC 3339 text
- binary → `Uint8Array`: raw bytes (multipart files, octet-stream bodies), never JSON text
- any → `unknown`; maps → `{ [key: string]: T }`; arrays → `T[]` or `Array<A | B>`
- const → a literal type (`"tool_call"`, `3`, `true`)

Properties keep the contract's wire names (snake_case stays), quoted when not plain identifiers.
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

Why this shape: a branded string type for the unknown tag (`string & { [brand]: true }`) stops
TypeScript from treating the property as a discriminant at all, so no case narrows; a member whose
discriminator is `?: never` keeps narrowing exact (`case "tool_call"` excludes it, `default` keeps
it) and makes an exhaustive switch end with the unknown variant. A known variant whose own
discriminator property is wider than its tags (`type: string`, an open enum, optional, or missing)
is intersected with the tag literal, e.g. `(Cat & { petType: "Cat" })`, so that it narrows too.

What the decoder (src/codec.ts) produces for a union value:
- discriminated: when the discriminator property holds a string that is one of a variant's tags,
  that variant, decoded as its type; otherwise (unknown tag, missing or not a string) the object
  `{ [unknownVariant]: true, raw }` with no discriminator property;
- not discriminated: the first variant whose JSON kind and required properties match, otherwise
  the same unknown object;
- `raw` (or `rawJson`) is the JSON value as received, parsed losslessly (integers that a double
  cannot hold exactly become bigint), not the text. Encoding an unknown variant sends `raw` as is.
`isUnknownVariant(value)` (runtime) tells the unknown variant apart from every known one.

The client layer (src/client.ts, src/codecs.ts; the runtime is hand-written, src/core.ts and
friends, copied verbatim from templates/typescript/runtime/ with its node:test tests):
- one `<Package>Client` class taking one `ClientOptions` object; one property per group of
  operations (the surface's group, i.e. the first tag), holding a `<Group>Resource` class;
- one method per operation, named after the operationId with the group's word dropped when it
  directly follows the verb (`listAgents` in `agents` → `agents.list`), made unique per resource and
  never `constructor`; keywords such as `delete` and `default` are legal method names;
- every method takes `(params, options?)`: `params` is one `<OperationId>Params` interface holding
  every path, query, header and cookie parameter under its wire name (a clash between locations
  gets a `_<location>` suffix) and the body under `body`; it defaults to `{}` when nothing in it is
  required. `options` is the runtime's `RequestOptions` (signal, timeout, maxRetries, headers,
  idempotencyKey). Idempotency and Last-Event-ID headers are not parameters: the runtime sends them;
- JSON bodies whose object has readOnly properties are typed `WriteBody<T, "id" | ...>`, which makes
  those properties optional; multipart bodies `MultipartBody<T>` (a file part also takes a Blob);
  raw bodies `BinaryBody` (bytes, Blob, ReadableStream, text);
- results: JSON → `APIPromise<T>` (`T | undefined` when a documented success has no body),
  paginated lists → `PagePromise<Body, Item>` (await: first page; `for await`: every item), SSE →
  `APIPromise<Stream<Event>>`, binary → `APIPromise<ReadableStream<Uint8Array>>`, text → string,
  no body → void. `.withResponse()` gives `{ data, response, attempts }`;
- each operation's decisions (path, parameter styles, body encoding, result kind, auth, retry
  safety, idempotency header, pagination, resume header) are a module-level `OperationSpec`
  constant the runtime interprets; `operationMethods` maps operationIds to `[property, method]`;
- each named type has a codec descriptor (src/codecs.ts) the runtime uses to decode lossless JSON
  (int64 → bigint, date-time → Date, unions → the variant or the unknown variant) and to encode.

Type aliases that refer to each other without an object in between (`A = B`, `B = A | string`) are
illegal in TypeScript; such a reference is replaced by `unknown`, with a warning.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from polysdk import ir
from polysdk.decisions import BodyShape, Decisions, OperationShape, package_words, sdk_words
from polysdk.literals import block_comment_safe, comment_lines, line_comment, ts_string
from polysdk.names import (
    Namer,
    camel,
    needs_leading_letter,
    pascal,
    ts_fix_type,
    ts_property_key,
)
from polysdk.plan import LanguagePlan, Options, RuntimeFile, TemplateFile
from polysdk.views.common import method_words

HEADER = "// Code generated by polysdk. DO NOT EDIT."
TYPESCRIPT_VERSION = "^5.5.0"
MAX_LINE = 100  # a union or enum longer than this is written one member per line
MAX_INDEX_MEMBERS = 6  # an index signature wider than this becomes `unknown`
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
    "Core",
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
NUMBERS_NOTE = [
    "//",
    "// int64 values are `bigint` (exact past 2^53) and date-time values are `Date`: the SDK converts",
    "// them from and to JSON. Binary values (files, raw bodies) are `Uint8Array`.",
]

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
# Primitive kinds whose TypeScript type is `string`, so a tag literal can narrow them.
_STRINGY = frozenset(kind for kind, ts in _PRIMS.items() if ts == "string") | {ir.Prim.ANY}

_SIMPLE_TYPE = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(\[\])*$")  # a name, or an array of one
# A JSDoc tag starts at `@` after whitespace or at a line start, an inline tag after `{`.
_JSDOC_TAG = re.compile(r"(^|[\s{])@")


# Docs --------------------------------------------------------------------------------------------


def doc_lines(text: str) -> list[str]:
    """Contract text as JSDoc body lines that cannot close the comment or start a tag."""
    return [_JSDOC_TAG.sub(r"\1\\@", block_comment_safe(line)) for line in comment_lines(text)]


def jsdoc(body: list[str], indent: str = "") -> list[str]:
    """A JSDoc comment: one line when the body is one line, else the `/** … */` block form."""
    if not body:
        return []
    if len(body) == 1:
        return [f"{indent}/** {body[0]} */"]
    lines = (f"{indent} * {line}" if line else f"{indent} *" for line in body)
    return [f"{indent}/**", *lines, f"{indent} */"]


def _with_tags(body: list[str], tags: list[str]) -> list[str]:
    return [*body, "", *tags] if body and tags else [*body, *tags]


def _symbol_doc(docs: ir.Docs, fallback: str, notes: tuple[str, ...] = ()) -> list[str]:
    body = doc_lines(docs.text) or doc_lines(fallback)
    for note in notes:
        body = [*body, "", *doc_lines(note)]
    tags = ["@deprecated"] if docs.deprecated else []
    return jsdoc(_with_tags(body, tags))


def _default_tag(default: ir.Default | None) -> list[str]:
    """A `@defaultValue` line with the default as JSON, when it is short enough to be useful."""
    if default is None:
        return []
    try:
        text = json.dumps(default.value, ensure_ascii=True, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return []
    return [f"@defaultValue {line}" for line in doc_lines(text)] if len(text) <= 80 else []


# Type expressions --------------------------------------------------------------------------------


def literal(value: str | int | float | bool) -> str:
    """A TypeScript literal type for a const value; `number` for a non-finite float."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "number"
    return ts_string(value)


def union_text(atoms: list[str]) -> str:
    return " | ".join(atoms)


def _dedupe(atoms: list[str]) -> list[str]:
    if "unknown" in atoms:
        return ["unknown"]
    return list(dict.fromkeys(atoms))


class TsTypes:
    """Turns IR types into TypeScript type expressions, with names assigned once per module."""

    def __init__(self, api: ir.Api) -> None:
        self.api = api
        self.namer = Namer(pascal, ts_fix_type, "Model", taken=RUNTIME_NAMES)
        self.names = {named.name: self.namer.claim(named.name) for named in api.types}
        self.unknown_names = {
            named.name: self.namer.claim("Unknown " + self.names[named.name])
            for named in api.types
            if isinstance(named.definition, ir.UnionDef)
        }
        self.broken = alias_back_edges(api)

    def atoms(self, t: ir.Type, owner: str | None = None) -> list[str]:
        """The members of the union that t is, each usable inside `A | B` without parentheses.
        `owner` is the alias or union whose body t is directly (not inside an array or map);
        its references that would close an alias cycle become `unknown`."""
        if isinstance(t, ir.PrimitiveType):
            return [_PRIMS[t.kind]]
        if isinstance(t, ir.ConstType):
            return [literal(t.value)]
        if isinstance(t, ir.Nullable):
            inner = self.atoms(t.inner, owner)
            return inner if inner == ["unknown"] else _dedupe([*inner, "null"])
        if isinstance(t, ir.ArrayType):
            items = self.atoms(t.items)
            if len(items) == 1 and _SIMPLE_TYPE.match(items[0]):
                return [f"{items[0]}[]"]
            return [f"Array<{union_text(items)}>"]
        if isinstance(t, ir.MapType):
            return [f"{{ [key: string]: {self.expr(t.values)} }}"]
        if owner is not None and (owner, t.name) in self.broken:
            return ["unknown"]
        return [self.names[t.name]]

    def expr(self, t: ir.Type, owner: str | None = None) -> str:
        return union_text(self.atoms(t, owner))

    def resolve(self, t: ir.Type) -> ir.Type | ir.Definition | None:
        """What t is after following names and aliases (and dropping null): an anonymous type or
        the definition of an object, enum or union; None for a cycle of aliases."""
        seen: set[str] = set()
        while True:
            if isinstance(t, ir.Nullable):
                t = t.inner
            if not isinstance(t, ir.NamedRef):
                return t
            if t.name in seen:
                return None
            seen.add(t.name)
            definition = self.api.types_by_name[t.name].definition
            if not isinstance(definition, ir.AliasDef):
                return definition
            t = definition.target


def _direct_refs(t: ir.Type) -> list[str]:
    """Named types t refers to without an object, array or map in between."""
    if isinstance(t, ir.Nullable):
        return _direct_refs(t.inner)
    return [t.name] if isinstance(t, ir.NamedRef) else []


def alias_back_edges(api: ir.Api) -> set[tuple[str, str]]:
    """References between type aliases (aliases and unions) that close a cycle, found by a
    depth-first search in the contract's order. Removing them leaves only legal aliases."""
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
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    back: set[tuple[str, str]] = set()
    for root in edges:
        if root in state:
            continue
        state[root] = 1
        work = [(root, iter(edges[root]))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                work.pop()
            elif child not in edges or state.get(child) == 2:
                continue
            elif state.get(child) == 1:
                back.add((node, child))
            else:
                state[child] = 1
                work.append((child, iter(edges[child])))
    return back


# View data ---------------------------------------------------------------------------------------


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


def _alias(name: str, doc: list[str], atoms: list[str]) -> TsAlias:
    single = union_text(atoms)
    if len(atoms) > 1 and len(f"export type {name} = {single};") > MAX_LINE:
        return TsAlias(name, doc, "", atoms)
    return TsAlias(name, doc, single, [])


def property_line(key: str, type_text: str, optional: bool, readonly: bool) -> str:
    return f"{'readonly ' if readonly else ''}{key}{'?' if optional else ''}: {type_text};"


def _member(doc: list[str], line: str) -> TsMember:
    return TsMember(jsdoc(doc, "  "), line)


def _interface(types: TsTypes, named: ir.NamedType, obj: ir.ObjectDef) -> TsInterface:
    name = types.names[named.name]
    members = []
    field_atoms: list[str] = []
    any_optional = False
    for f in obj.fields:
        key = ts_property_key(f.wire_name)
        atoms = types.atoms(f.type)
        field_atoms += atoms
        any_optional = any_optional or not f.required
        body = doc_lines(f.docs.text) or doc_lines(f"The `{key}` property.")
        tags = (["@deprecated"] if f.docs.deprecated else []) + _default_tag(f.default)
        line = property_line(key, union_text(atoms), not f.required, f.read_only)
        members.append(_member(_with_tags(body, tags), line))
    if obj.additional is not None or not obj.fields:
        index = index_signature(
            types.atoms(obj.additional) if obj.additional is not None else ["unknown"],
            field_atoms,
            any_optional,
        )
        what = "Properties the contract does not list." if obj.fields else "The object's properties."
        members.append(_member([what], f"[key: string]: {index};"))
    return TsInterface(name, _symbol_doc(named.docs, f"The `{name}` object."), "", members)


def index_signature(extra: list[str], field_atoms: list[str], any_optional: bool) -> str:
    """The value type of an index signature next to properties. TypeScript requires every property
    to fit it, so it covers their types too (and `undefined` when one is optional, for consumers
    compiling without exactOptionalPropertyTypes); a wide union becomes `unknown`."""
    atoms = _dedupe([*extra, *field_atoms, *(["undefined"] if any_optional and field_atoms else [])])
    return union_text(atoms) if len(atoms) <= MAX_INDEX_MEMBERS else "unknown"


def _fix_key(ident: str) -> str:
    """A const object key only needs to be an identifier; globals cannot be shadowed by it."""
    return "N" + ident if needs_leading_letter(ident) else ident


def _enum_key_text(value: str | int) -> str:
    """The text an enum value's key in the const object is named after (`-1` → `Minus1`)."""
    if isinstance(value, int) and value < 0:
        return f"minus {-value}"
    return str(value)


def _enum(types: TsTypes, named: ir.NamedType, enum: ir.EnumDef) -> list[TsDeclaration]:
    name = types.names[named.name]
    open_member = "(number & {})" if enum.base is ir.Prim.INTEGER else "(string & {})"
    note = "Open enum: values this version of the SDK does not know are accepted and kept as they are."
    doc = _symbol_doc(named.docs, f"The `{name}` enum.", (note,))
    keys = Namer(pascal, _fix_key, "Value")
    literals = [literal(v.value) for v in enum.values]
    entries = [
        TsConstEntry(jsdoc(doc_lines(v.docs.text), "  "), keys.claim(_enum_key_text(v.value)), lit)
        for v, lit in zip(enum.values, literals, strict=True)
    ]
    const_doc = jsdoc([f"Known values of {{@link {name}}}."])
    return [_alias(name, doc, _dedupe([*literals, open_member])), TsConst(name, const_doc, entries)]


def _tag_fit(types: TsTypes, variant: ir.Type, prop: str, tags: tuple[str, ...]) -> str:
    """How a discriminated variant relates to its tags: `exact` (its property already is the tag
    literal), `narrow` (wider, so the union intersects it with the tags), `nested` (a union whose own
    variants carry the tags) or `clash` (it can never hold the tags: it is left as is and a switch
    does not narrow to it)."""
    definition = types.resolve(variant)
    if isinstance(definition, ir.UnionDef):
        return "nested"  # its own variants carry the tags
    if not isinstance(definition, ir.ObjectDef):
        return "clash"
    found = [f for f in definition.fields if f.wire_name == prop]
    if not found:
        return "narrow"
    t = types.resolve(found[0].type)
    if isinstance(t, ir.ConstType):
        if tags == (t.value,) and found[0].required and not found[0].nullable:
            return "exact"
        return "narrow" if t.value in tags else "clash"
    if isinstance(t, ir.PrimitiveType) and t.kind in _STRINGY:
        return "narrow"
    if isinstance(t, ir.EnumDef) and t.base is ir.Prim.STRING:
        return "narrow"
    return "clash"


def _union(
    types: TsTypes, named: ir.NamedType, union: ir.UnionDef, warnings: list[str]
) -> list[TsDeclaration]:
    name = types.names[named.name]
    unknown = types.unknown_names[named.name]
    prop = union.discriminator
    key = ts_property_key(prop) if prop is not None else ""
    atoms: list[str] = []
    for variant in union.variants:
        variant_atoms = types.atoms(variant.type, named.name)
        fit = "plain"
        if prop is not None and variant.tags and variant_atoms != ["unknown"]:
            fit = _tag_fit(types, variant.type, prop, variant.tags)
        if fit == "narrow":
            tags = union_text([ts_string(tag) for tag in variant.tags])
            atoms.append(f"({variant_atoms[0]} & {{ {key}: {tags} }})")
            continue
        atoms += variant_atoms
        if fit == "clash":
            warnings.append(
                f"typescript: union {named.name!r}: variant {variant_atoms[0]} cannot hold its discriminator "
                f"{prop!r} value(s) {list(variant.tags)!r}; a switch does not narrow to it"
            )
    if prop is not None:
        how = f"Switch on `{key}` to narrow it; `{unknown}` is a variant this SDK version does not know."
    else:
        how = f"`{unknown}` is a value that matches none of the variants this SDK version knows."
    doc = _symbol_doc(named.docs, f"The `{name}` union.", (how,))
    return [_alias(name, doc, _dedupe([*atoms, unknown])), _unknown_variant(name, unknown, key)]


def _unknown_variant(union: str, name: str, key: str) -> TsInterface:
    """The `Unknown<Union>` interface (see the module docstring); key is the discriminator's
    property key, or "" for a union without one."""
    raw = "rawJson" if key == "raw" else "raw"
    members = []
    if key:
        members.append(
            _member([f"Never present: the tag as received is inside `{raw}`."], f"readonly {key}?: never;")
        )
    members.append(_member(["The JSON value exactly as received."], f"readonly {raw}: unknown;"))
    doc = jsdoc(
        [
            f"The unknown variant of {{@link {union}}}: a value this version of the SDK does not know,",
            "kept as received. Test for it with `isUnknownVariant`.",
        ]
    )
    return TsInterface(name, doc, " extends UnknownVariant", members)


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
        definition = named.definition
        if isinstance(definition, ir.ObjectDef):
            result.declarations.append(_interface(types, named, definition))
        elif isinstance(definition, ir.EnumDef):
            result.declarations += _enum(types, named, definition)
        elif isinstance(definition, ir.UnionDef):
            result.declarations += _union(types, named, definition, warnings)
        else:
            name = types.names[named.name]
            doc = _symbol_doc(named.docs, f"The `{name}` type.")
            result.declarations.append(_alias(name, doc, types.atoms(definition.target, named.name)))
    return result


# Codecs ------------------------------------------------------------------------------------------

_LEAF_CODECS = {
    ir.Prim.BOOLEAN: "bool",
    ir.Prim.INTEGER: "num",
    ir.Prim.INT32: "num",
    ir.Prim.INT64: "i64",
    ir.Prim.FLOAT: "num",
    ir.Prim.DOUBLE: "num",
    ir.Prim.DATE_TIME: "date",
    ir.Prim.BINARY: "bin",
    ir.Prim.ANY: "any",
}


def codec(types: TsTypes, t: ir.Type | None) -> str:
    """The runtime codec descriptor (src/codec.ts) of a type, as TypeScript source."""
    if t is None:
        return '"any"'
    if isinstance(t, ir.PrimitiveType):
        return json.dumps(_LEAF_CODECS.get(t.kind, "str"))
    if isinstance(t, ir.ConstType):
        text = literal(t.value)
        return "{ literal: " + text + " }" if text != "number" else '"num"'
    if isinstance(t, ir.Nullable):
        return "{ nullable: " + codec(types, t.inner) + " }"
    if isinstance(t, ir.ArrayType):
        return "{ array: " + codec(types, t.items) + " }"
    if isinstance(t, ir.MapType):
        return "{ map: " + codec(types, t.values) + " }"
    return "{ ref: " + ts_string(types.names[t.name]) + " }"


def definition_codec(types: TsTypes, definition: ir.Definition) -> str:
    if isinstance(definition, ir.ObjectDef):
        fields = ", ".join(f"[{ts_string(f.wire_name)}, {codec(types, f.type)}]" for f in definition.fields)
        required = ", ".join(ts_string(f.wire_name) for f in definition.fields if f.required)
        parts = [f"object: [{fields}]"]
        if required:
            parts.append(f"required: [{required}]")
        if definition.additional is not None:
            parts.append(f"extra: {codec(types, definition.additional)}")
        return "{ " + ", ".join(parts) + " }"
    if isinstance(definition, ir.EnumDef):
        return '"num"' if definition.base is ir.Prim.INTEGER else '"str"'
    if isinstance(definition, ir.UnionDef):
        variants = ", ".join(
            f"[{codec(types, v.type)}, [{', '.join(ts_string(tag) for tag in v.tags)}]]"
            for v in definition.variants
        )
        parts = [f"union: [{variants}]"]
        if definition.discriminator is not None:
            parts.append(f"discriminator: {ts_string(definition.discriminator)}")
            if definition.discriminator == "raw":
                parts.append('rawKey: "rawJson"')
        return "{ " + ", ".join(parts) + " }"
    return codec(types, definition.target)


@dataclass
class TsCodecEntry:
    key: str
    value: str


def codec_entries(types: TsTypes) -> list[TsCodecEntry]:
    return [
        TsCodecEntry(ts_string(types.names[named.name]), definition_codec(types, named.definition))
        for named in types.api.types
    ]


# Operations --------------------------------------------------------------------------------------


def _fix_member(ident: str) -> str:
    ident = "n" + ident if needs_leading_letter(ident) else ident
    return ident + "_" if ident in ("constructor", "prototype", "__proto__") else ident


@dataclass
class TsParamMember:
    doc: list[str]
    line: str


@dataclass
class TsOperation:
    spec_name: str  # module-level constant holding the OperationSpec
    spec: list[str]  # lines of the OperationSpec object literal
    params_name: str
    params_open: str  # `export interface XParams {` (or `{}` when empty)
    params_close: list[str]
    params_doc: list[str]
    params: list[TsParamMember]
    method: str
    doc: list[str]
    params_arg: str  # `params: X` or `params: X = {}`
    returns: str
    call: str  # the runtime call expression


@dataclass
class TsResource:
    name: str
    prop: str
    doc: list[str]
    operations: list[TsOperation]


@dataclass
class TsClient:
    name: str
    doc: list[str]
    info: list[str]
    env_prefix: str  # plain, e.g. ORCHESTRATOR
    model_imports: list[str]
    runtime_imports: list[str]  # e.g. `type APIPromise`, `Core`
    resources: list[TsResource]
    codecs: list[TsCodecEntry]
    # The surface the client was built from; the README and the driver pair their operations with it.
    surface: Decisions = field(compare=False, repr=False)
    operation_map: list[str] = field(default_factory=list)  # `  "opId": ["group", "method"],` lines


_PRIM_PARAM_NOTE = {
    "path": "path parameter",
    "query": "query parameter",
    "header": "header",
    "cookie": "cookie",
}


def _type_names_in(text: str, known: set[str]) -> set[str]:
    return {word for word in re.findall(r"[A-Za-z_$][A-Za-z0-9_$]*", text) if word in known}


def _result_type(types: TsTypes, shape: OperationShape) -> tuple[str, str, str]:
    """(return type, runtime method, result codec) of an operation's method."""
    result = shape.result
    if shape.streaming is not None:
        event = types.expr(shape.streaming.event_type) if shape.streaming.event_type is not None else "string"
        event_codec = (
            codec(types, shape.streaming.event_type) if shape.streaming.event_type is not None else '"bin"'
        )
        return f"APIPromise<Stream<{event}>>", f"stream<{event}>", event_codec
    if result.kind == "json":
        body = types.expr(result.type) if result.type is not None else "unknown"
        if shape.pagination is not None:
            item = types.expr(shape.pagination.item_type)
            return f"PagePromise<{body}, {item}>", f"paginate<{body}, {item}>", codec(types, result.type)
        if result.may_be_empty and body != "unknown":
            body = f"{body} | undefined"
        return f"APIPromise<{body}>", f"request<{body}>", codec(types, result.type)
    if result.kind == "text":
        return "APIPromise<string>", "request<string>", '"str"'
    if result.kind in ("binary", "sse"):
        return "APIPromise<ReadableStream<Uint8Array>>", "request<ReadableStream<Uint8Array>>", '"bin"'
    return "APIPromise<void>", "request<void>", '"any"'


def _body_type(types: TsTypes, body: BodyShape) -> str:
    if body.kind == "binary":
        return "BinaryBody"
    if body.kind == "text":
        return "string"
    if body.type is None:
        return "{ [key: string]: unknown }" if body.kind in ("form", "multipart") else "unknown"
    text = types.expr(body.type)
    if body.kind == "multipart":
        return f"MultipartBody<{text}>"
    target = body.type
    if isinstance(target, ir.NamedRef) and (target.name, target.name) not in types.broken:
        definition = types.api.types_by_name[target.name].definition
        if isinstance(definition, ir.ObjectDef) and definition.additional is not None:
            return text
        read_only = (
            [f for f in definition.fields if f.read_only] if isinstance(definition, ir.ObjectDef) else []
        )
        if read_only:
            keys = " | ".join(ts_string(f.wire_name) for f in read_only)
            return f"WriteBody<{text}, {keys}>"
    return text


def _param_doc(param: ir.Param, key: str) -> list[str]:
    body = doc_lines(param.docs.text) or doc_lines(f"The `{key}` {_PRIM_PARAM_NOTE[param.location.value]}.")
    tags = (["@deprecated"] if param.docs.deprecated else []) + _default_tag(param.default)
    return jsdoc(_with_tags(body, tags), "  ")


def param_keys(shape: OperationShape) -> tuple[list[tuple[ir.Param, str]], str | None]:
    """The property of the params object holding each parameter (path, query, header, cookie
    order; its wire name, with a `_<location>` suffix on a clash) and the body's (None without one)."""
    keys: set[str] = set()

    def claim_key(base: str, suffix: str) -> str:
        key, n = base, 2
        if key in keys:
            key = f"{base}_{suffix}"
        while key in keys:
            key, n = f"{base}_{suffix}{n}", n + 1
        keys.add(key)
        return key

    params = [*shape.path_params, *shape.query_params, *shape.header_params, *shape.cookie_params]
    pairs = [(param, claim_key(param.wire_name, param.location.value)) for param in params]
    return pairs, claim_key("body", "request") if shape.body is not None else None


def operation(types: TsTypes, shape: OperationShape, index: int, method: str) -> TsOperation:
    op = shape.operation
    members: list[TsParamMember] = []
    param_specs: list[str] = []
    required_any = False
    pairs, body_key = param_keys(shape)
    for param, key in pairs:
        prop = ts_property_key(key)
        required = param.required or param.location is ir.ParamLocation.PATH
        required_any = required_any or required
        members.append(
            TsParamMember(
                _param_doc(param, prop), property_line(prop, types.expr(param.type), not required, False)
            )
        )
        param_specs.append(
            f"    {{ key: {ts_string(key)}, in: {json.dumps(param.location.value)}, "
            f"name: {ts_string(param.wire_name)}, "
            f"style: {ts_string(param.style)}, explode: {json.dumps(param.explode)}, "
            f"required: {json.dumps(required)}, codec: {codec(types, param.type)} }},"
        )
    spec = [
        f"  id: {ts_string(op.id)},",
        f"  method: {ts_string(op.http.method)},",
        f"  path: {ts_string(op.http.path)},",
    ]
    spec += ["  params: [", *param_specs, "  ],"] if param_specs else ["  params: [],"]
    body = shape.body
    if body is not None and body_key is not None:
        key = body_key
        prop = ts_property_key(key)
        required_any = required_any or body.required
        body_doc = doc_lines(op.body.docs.text) if op.body is not None else []
        members.append(
            TsParamMember(
                jsdoc(
                    body_doc or [f"The request body, sent as `{block_comment_safe(body.media_type)}`."], "  "
                ),
                property_line(prop, _body_type(types, body), not body.required, False),
            )
        )
        content = (
            next((c for c in op.body.contents if c.media_type == body.media_type), None) if op.body else None
        )
        encodings = ", ".join(
            f"{ts_string(e.part)}: {ts_string(e.content_type)}"
            for e in (content.encodings if content else ())
        )
        spec.append(
            f"  body: {{ key: {ts_string(key)}, kind: {json.dumps(body.kind)}, "
            f"mediaType: {ts_string(body.media_type)}, "
            f"required: {json.dumps(body.required)}, codec: {codec(types, body.type)}"
            + (f", encodings: {{ {encodings} }}" if encodings else "")
            + " },"
        )
    returns, call, result_codec = _result_type(types, shape)
    kind = "sse" if shape.streaming is not None else shape.result.kind
    spec.append(
        f"  result: {{ kind: {json.dumps(kind)}, codec: {result_codec}, "
        f"mayBeEmpty: {json.dumps(shape.result.may_be_empty)} }},"
    )
    spec.append(f"  auth: {json.dumps(shape.authenticated)},")
    spec.append(f"  retryable: {json.dumps(shape.retryable)},")
    if shape.idempotency_header is not None:
        spec.append(f"  idempotencyHeader: {ts_string(shape.idempotency_header)},")
    if shape.streaming is not None and shape.streaming.resume_header is not None:
        spec.append(f"  resumeHeader: {ts_string(shape.streaming.resume_header)},")
    page = shape.pagination
    if page is not None:
        fields = [f"style: {json.dumps(page.style)}"]
        for name, value in (
            ("items", page.items_field),
            ("cursorParam", page.cursor_param),
            ("nextCursorField", page.next_cursor_field),
            ("hasMoreField", page.has_more_field),
            ("offsetParam", page.offset_param),
            ("limitParam", page.limit_param),
            ("totalField", page.total_field),
        ):
            if value is not None:
                fields.append(f"{name}: {ts_string(value)}")
        spec.append(f"  pagination: {{ {', '.join(fields)} }},")
    params_name = types.namer.claim(op.id + " params")
    doc_body = doc_lines(op.docs.text) or doc_lines(f"Calls `{op.http.method} {op.http.path}`.")
    notes = doc_lines(f"`{op.http.method} {op.http.path}` (`{op.id}`).")
    if shape.idempotency_header is not None:
        notes.append(
            "Sends an idempotency key, the same on every retry (`options.idempotencyKey` or a new one)."
        )
    if page is not None:
        notes.append("Await it for the first page, or iterate it with `for await` for every item.")
    if shape.streaming is not None:
        notes.append(
            "Iterate the stream with `for await`; a dropped connection resumes from the last event id."
        )
    tags = ["@param params - The operation's parameters and body.", "@param options - Per-request options."]
    if op.docs.deprecated:
        tags.append("@deprecated")
    doc = jsdoc(_with_tags([*doc_body, "", *notes], tags), "  ")
    params_arg = f"params: {params_name}" if required_any else f"params: {params_name} = {{}}"
    runtime = call.split("<", 1)[0]
    return TsOperation(
        spec_name=f"op{index}",
        spec=spec,
        params_name=params_name,
        params_open=f"export interface {params_name} {{" + ("" if members else "}"),
        params_close=["}"] if members else [],
        params_doc=jsdoc(doc_lines(f"Parameters of `{method}` (`{op.id}`).")),
        params=members,
        method=method,
        doc=doc,
        params_arg=params_arg,
        returns=returns,
        call=f"this.#core.{call}(op{index}, params, options)" if runtime else "",
    )


def client(decisions: Decisions, types: TsTypes, options: Options) -> TsClient:
    api = decisions.api
    surface = decisions
    words = sdk_words(api, options.package_name)
    client_name = types.namer.claim(" ".join([*words, "client"]))
    props = Namer(camel, _fix_member, "operations", taken=("constructor", "prototype", "__proto__"))
    resources: list[TsResource] = []
    operation_map: list[str] = []
    seen_ids: set[str] = set()
    index = 0
    tag_docs = {tag.name: tag.docs for tag in api.tags}
    for group in surface.groups:
        methods = Namer(camel, _fix_member, "call", taken=("constructor", "prototype", "__proto__"))
        prop = props.claim(group)
        name = types.namer.claim(group + " resource")
        ops = []
        for shape in surface.by_group(group):
            method = methods.claim(" ".join(method_words(shape.operation.id, group)) or shape.operation.id)
            ops.append(operation(types, shape, index, method))
            entry = f"  {ts_string(shape.operation.id)}: [{ts_string(prop)}, {ts_string(method)}],"
            if shape.operation.id not in seen_ids:
                seen_ids.add(shape.operation.id)
                operation_map.append(entry)
            index += 1
        docs = tag_docs.get(group, ir.Docs())
        resources.append(TsResource(name, prop, _symbol_doc(docs, f"The `{group}` operations."), ops))
    known = set(types.names.values()) | set(types.unknown_names.values())
    used: set[str] = set()
    for resource in resources:
        for op in resource.operations:
            used |= _type_names_in(op.returns, known)
            for member in op.params:
                used |= _type_names_in(member.line.split(":", 1)[1], known)
    title = " ".join(part for part in (api.title, api.version) if part)
    bearer = any(s.kind in ("http-bearer", "oauth2", "openid") for s in api.security_schemes)
    api_key = next((s for s in api.security_schemes if s.kind == "api-key"), None)
    server = api.servers[0].url if api.servers else ""
    info = [
        f"  name: {ts_string(npm_name(api, options))},",
        f"  version: {ts_string(options.sdk_version)},",
        f"  envPrefix: {ts_string(decisions.client.env_prefix)},",
        f"  defaultBaseURL: {ts_string(server)},",
        f"  bearer: {json.dumps(bearer)},",
    ]
    if api_key is not None:
        info.append(
            f"  apiKey: {{ in: {ts_string(api_key.location)}, name: {ts_string(api_key.param_name)} }},"
        )
    info.append("  codecs,")
    doc = jsdoc(
        [
            *doc_lines(f"The client of {title or 'the API'}."),
            "",
            "One instance holds the configuration; its properties group the operations by the",
            "contract's tags.",
        ]
    )
    runtime_types = {"APIPromise", "BinaryBody", "MultipartBody", "PagePromise", "Stream", "WriteBody"}
    runtime_used: set[str] = {"ClientOptions", "OperationSpec", "RequestOptions", "SDKInfo"}
    for resource in resources:
        for op in resource.operations:
            runtime_used |= _type_names_in(op.returns, runtime_types)
            for member in op.params:
                runtime_used |= _type_names_in(member.line.split(":", 1)[1], runtime_types)
    runtime_imports = sorted(
        [*(f"type {name}" for name in runtime_used), "Core"], key=lambda n: n.split()[-1]
    )
    return TsClient(
        client_name,
        doc,
        info,
        decisions.client.env_prefix,
        sorted(used),
        runtime_imports,
        resources,
        codec_entries(types),
        surface,
        operation_map,
    )


# README and its type-checked examples ------------------------------------------------------------


@dataclass
class TsExample:
    name: str  # function name in examples/readme.ts
    title: str  # README section title
    text: list[str]  # README prose before the code
    code: list[str]  # the snippet, unindented


@dataclass
class TsReadme:
    title: str
    package: str
    client: str
    env_prefix: str
    imports: list[str]
    examples: list[TsExample]


def _sample(types: TsTypes, t: ir.Type) -> str | None:
    """A sample TypeScript value of a parameter's type for the README, or None when not simple."""
    resolved = types.resolve(t)
    if isinstance(resolved, ir.PrimitiveType):
        ts = _PRIMS[resolved.kind]
        return {
            "string": '"id"',
            "number": "10",
            "bigint": "1n",
            "boolean": "true",
            "Date": "new Date()",
        }.get(ts)
    if isinstance(resolved, ir.EnumDef) and resolved.values:
        return literal(resolved.values[0].value)
    if isinstance(resolved, ir.ConstType):
        return literal(resolved.value)
    return None


def _sample_call(types: TsTypes, shape: OperationShape, prop: str, op: TsOperation) -> str | None:
    if shape.body is not None and shape.body.required:
        return None
    args = []
    for param in [*shape.path_params, *shape.query_params, *shape.header_params, *shape.cookie_params]:
        if param.required or param.location is ir.ParamLocation.PATH:
            value = _sample(types, param.type)
            if value is None:
                return None
            args.append(f"{ts_property_key(param.wire_name)}: {value}")
    params = "{ " + ", ".join(args) + " }" if args else ""
    return f"client.{prop}.{op.method}({params})"


def readme(api: ir.Api, types: TsTypes, view: TsClient, options: Options) -> TsReadme:
    surface = view.surface
    ops = {
        shape.operation.id: (resource, op, shape)
        for resource, shapes in zip(
            view.resources, (list(surface.by_group(r)) for r in surface.groups), strict=True
        )
        for op, shape in zip(resource.operations, shapes, strict=True)
    }

    def first(pred: Callable[[OperationShape], bool]) -> tuple[str, OperationShape] | None:
        for resource, op, shape in ops.values():
            call = _sample_call(types, shape, resource.prop, op) if pred(shape) else None
            if call is not None:
                return call, shape
        return None

    prefix = view.env_prefix
    examples = [
        TsExample(
            "configure",
            "Configuration and authentication",
            [
                "One options object configures the client. Options left out come from the environment:",
                f"`{prefix}_BASE_URL`, `{prefix}_BEARER_TOKEN` and `{prefix}_API_KEY` (read through",
                "`globalThis.process?.env`, so the package also runs in browsers and edge runtimes).",
            ],
            [
                f"const client = new {view.name}({{",
                '  bearerToken: "my-token", // or apiKey: "my-key"',
                "  timeout: 30_000, // per attempt, in milliseconds",
                "  maxRetries: 3, // default 2",
                '  defaultHeaders: { "X-Team": "research" },',
                "});",
                "console.log(client.core.baseURL);",
            ],
        )
    ]
    plain = first(
        lambda s: s.result.kind == "json" and s.pagination is None and s.authenticated and bool(s.path_params)
    )
    plain = plain or first(lambda s: s.result.kind == "json" and s.pagination is None)
    if plain is not None:
        call = plain[0]
        examples.append(
            TsExample(
                "call",
                "Calling an operation",
                [
                    "Methods are grouped by the contract's tags. Await a call for its decoded value, or",
                    "call `.withResponse()` for the raw `Response` and the number of attempts as well.",
                ],
                [
                    f"const value = await {call};",
                    "console.log(value);",
                    f"const {{ data, response, attempts }} = await {call}.withResponse();",
                    'console.log(data, response.status, response.headers.get("x-request-id"), attempts);',
                ],
            )
        )
        examples.append(
            TsExample(
                "errors",
                "Errors",
                [
                    "Every failure is an `SDKError`; check the kind with `instanceof`. An `APIError`",
                    "carries the status, the error code, the request id, the headers, problem+json fields",
                    "and the raw body; a subclass names each common status. Credentials never appear in",
                    "messages.",
                ],
                [
                    "try {",
                    f"  await {call};",
                    "} catch (error) {",
                    "  if (error instanceof NotFoundError) {",
                    '    console.log("not found", error.requestId);',
                    "  } else if (error instanceof RateLimitError) {",
                    '    console.log("slow down", error.headers.get("retry-after"));',
                    "  } else if (error instanceof APIError) {",
                    "    console.log(error.status, error.code, error.detail, error.body);",
                    "  } else if (error instanceof APIConnectionTimeoutError) {",
                    '    console.log("timed out after", error.attempts, "attempts");',
                    "  } else if (error instanceof APIUserAbortError) {",
                    '    console.log("cancelled");',
                    "  } else {",
                    "    throw error;",
                    "  }",
                    "}",
                ],
            )
        )
        examples.append(
            TsExample(
                "retries",
                "Retries, timeouts and cancellation",
                [
                    "Connection errors, 408, 409, 429 and 5xx are retried with exponential backoff (0.5 s",
                    "doubling to 8 s, with jitter); `Retry-After` and `Retry-After-Ms` are honoured up to",
                    "60 s and `x-should-retry` overrides the rule. A non-idempotent call is retried only",
                    "when it sends an idempotency key, generated once per call and reused on every attempt.",
                    "Aborting the signal ends a backoff sleep at once.",
                ],
                [
                    "const controller = new AbortController();",
                    "const result = await " + call[:-1] + (", " if not call.endswith("()") else "{}, ") + "{",
                    "  maxRetries: 5,",
                    "  timeout: 10_000,",
                    "  signal: controller.signal,",
                    '  headers: { "X-Debug": "1" },',
                    "});",
                    "console.log(result);",
                ],
            )
        )
    paged = first(lambda s: s.pagination is not None)
    if paged is not None:
        call = paged[0]
        examples.append(
            TsExample(
                "pagination",
                "Pagination",
                [
                    "A list call is an `AsyncIterable` of every item, fetching pages lazily; await it for",
                    "the first page instead, and walk the pages one by one.",
                ],
                [
                    f"for await (const item of {call}) {{",
                    "  console.log(item);",
                    "}",
                    f"const page = await {call};",
                    "for await (const p of page.iterPages()) {",
                    "  console.log(p.items.length, p.response.status);",
                    "}",
                ],
            )
        )
    streamed = first(lambda s: s.streaming is not None)
    if streamed is not None:
        examples.append(
            TsExample(
                "streaming",
                "Streaming",
                [
                    "Server-sent events arrive as an `AsyncIterable` of typed events. A dropped connection",
                    "is resumed with `Last-Event-ID` (bounded by `maxRetries`); leaving the loop early",
                    "closes the connection.",
                ],
                [
                    f"const stream = await {streamed[0]};",
                    "for await (const event of stream) {",
                    "  console.log(event);",
                    "  break;",
                    "}",
                ],
            )
        )
    download = first(lambda s: s.result.kind == "binary")
    if download is not None:
        examples.append(
            TsExample(
                "download",
                "Binary downloads",
                [
                    "A binary response is a `ReadableStream<Uint8Array>`; `readAll` collects it when it",
                    "is small.",
                ],
                [
                    f"const body = await {download[0]};",
                    "const bytes = await readAll(body);",
                    "console.log(bytes.length);",
                ],
            )
        )
    used = " ".join(line for example in examples for line in example.code)
    runtime = [
        name
        for name in (
            "APIConnectionTimeoutError",
            "APIError",
            "APIUserAbortError",
            "NotFoundError",
            "RateLimitError",
            "readAll",
        )
        if re.search(rf"\b{name}\b", used)
    ]
    title = " ".join(comment_lines(api.title)) or "the API"
    return TsReadme(
        title=title,
        package=npm_name(api, options),
        client=view.name,
        env_prefix=prefix,
        imports=sorted([view.name, *runtime], key=str.lower),
        examples=examples,
    )


# Package -----------------------------------------------------------------------------------------


def npm_name(api: ir.Api, options: Options) -> str:
    return "-".join(w.lower() for w in sdk_words(api, options.package_name))[:200] + "-sdk"


@dataclass
class TsPackage:
    name: str  # JSON string literals, ready for package.json
    version: str
    description: str
    typescript: str


def package(api: ir.Api, options: Options) -> TsPackage:
    title = " ".join(comment_lines(api.title)) or " ".join(package_words(api, options.package_name))
    return TsPackage(
        name=json.dumps(npm_name(api, options)),
        version=json.dumps(options.sdk_version, ensure_ascii=True),
        description=json.dumps(f"TypeScript SDK for {title}.", ensure_ascii=True),
        typescript=json.dumps(TYPESCRIPT_VERSION),
    )


def index_comment(api: ir.Api) -> list[str]:
    title = " ".join(part for part in (api.title, api.version) if part)
    return line_comment(f"TypeScript SDK for {title}." if title else "TypeScript SDK.", "//")


def plan(decisions: Decisions, options: Options) -> LanguagePlan:
    api = decisions.api
    from polysdk.views import typescript_driver  # it builds on this module

    warnings: list[str] = []
    types = TsTypes(api)
    model_view = models(api, warnings, types)
    client_view = client(decisions, types, options)
    readme_view = readme(api, types, client_view, options)
    pkg = package(api, options)
    header = {"header": HEADER}
    runtime = ("unknown", "json", "codec", "errors", "core")
    return LanguagePlan(
        language="typescript",
        files=[
            TemplateFile("typescript/package.json.j2", "package.json", {"package": pkg}),
            TemplateFile("typescript/tsconfig.json.j2", "tsconfig.json", {}),
            TemplateFile("typescript/gitignore.j2", ".gitignore", {}),
            TemplateFile(
                "typescript/index.ts.j2",
                "src/index.ts",
                {**header, "title": index_comment(api), "client": client_view},
            ),
            TemplateFile("typescript/models.ts.j2", "src/models.ts", {**header, "models": model_view}),
            TemplateFile("typescript/codecs.ts.j2", "src/codecs.ts", {**header, "client": client_view}),
            TemplateFile("typescript/client.ts.j2", "src/client.ts", {**header, "client": client_view}),
            TemplateFile("typescript/readme.ts.j2", "examples/readme.ts", {**header, "readme": readme_view}),
            TemplateFile("typescript/README.md.j2", "README.md", {"readme": readme_view}),
            TemplateFile("typescript/tsconfig.examples.json.j2", "tsconfig.examples.json", {}),
            *typescript_driver.files(api, types, client_view, options),
        ],
        runtime=[
            *(RuntimeFile(f"typescript/runtime/{name}.ts", f"src/{name}.ts") for name in runtime),
            RuntimeFile("typescript/runtime/runtime.test.mjs", "test/runtime.test.mjs"),
        ],
        formatter=None,
        warnings=warnings,
    )
