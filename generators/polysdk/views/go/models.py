"""Go models: structs, enums, unions and aliases for the contract's named types.

Type mapping and optionality (see SDK_FEATURES.md, "optional fields without NullableX soup"):
- required, not nullable      → T                `json:"name"`
- optional, not nullable      → *T               `json:"name,omitempty"` (slices and maps: []T /
                                 map[string]T with `omitzero`, so nil is absent and empty is sent)
- required, nullable          → *T               `json:"name"` (nil is sent as null)
- optional and nullable       → Nullable[T]      `json:"name,omitzero"` (absent, null or a value)
Enums are named string/int64 types with constants, so unknown values decode unharmed. Unions are
structs with one pointer per variant and an `Unknown json.RawMessage` for variants this SDK does
not know; a discriminated union's encoder writes the variant's tag whatever the value holds.

Every struct has generated MarshalJSON/UnmarshalJSON methods (the runtime's json.go does the work):
decoding refuses a missing required property and a null where none is allowed, and keeps the
properties the contract does not name (and explicit nulls of free-form properties) in an unexported
field, so that encoding the value again gives them back. Encoding writes the contract's property
order; as a request body (`encodeJSON(true)`) it leaves read-only properties out at every depth.
Struct tags document the wire names where a tag can spell them (`custom_json` is false).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from polysdk import ir, walks
from polysdk.literals import go_string, line_comment
from polysdk.names import split_words
from polysdk.views.go.godoc import go_doc
from polysdk.views.go.types import GO_METHOD_NAMES, GoType, GoTypes, exported_namer, quoted

# encoding/json accepts only these characters in a tag name (see isValidTag in encoding/json).
_TAG_SAFE = re.compile(r"^[A-Za-z0-9!#$%&()*+\-./:;<=>?@\[\]^_{|}~ ]+$")


def doc_lines(text: str, fallback: str) -> list[str]:
    """Doc comment lines for a symbol: the contract's text (Markdown, in Go doc syntax), else a
    generated sentence."""
    return go_doc(text) or line_comment(fallback, "//")


@dataclass
class GoField:
    name: str
    type: GoType
    tag: str  # the whole struct tag including backticks, or "" for map-coded structs
    doc: list[str]
    wire: str  # Go string literal of the wire name
    presence: str  # Go expression that is true when the field must be encoded; "" = always
    deprecated: bool = False
    decode: str = ""  # the Go statement decoding the field in UnmarshalJSON
    encode: list[str] = field(default_factory=list)  # the Go statements encoding it in encodeJSON
    # Its 64-bit integers travel as JSON strings: the codec statements go through quote(&field).
    quoted: bool = False


@dataclass
class GoStruct:
    name: str
    doc: list[str]
    fields: list[GoField]
    # True when struct tags cannot spell the wire names (the fields then carry no tags).
    custom_json: bool = False
    additional_type: GoType | None = None
    wire_fields: dict[str, GoField] = field(default_factory=dict)  # by contract wire name


@dataclass
class GoConst:
    name: str
    literal: str
    doc: list[str]


@dataclass
class GoEnum:
    name: str
    base: str
    doc: list[str]
    consts: list[GoConst]


@dataclass
class GoVariant:
    field: str  # the pointer field holding this variant
    type: GoType  # its Go type (without the pointer)
    tags: list[str]  # Go string literals of discriminator values
    doc: list[str]
    condition: str  # Go condition under which an undiscriminated union tries this variant; "" = always
    checks_kind: bool = False  # the condition looks at the JSON kind
    checks_keys: bool = False  # the condition looks at object keys


@dataclass
class GoUnion:
    name: str
    doc: list[str]
    variants: list[GoVariant]
    discriminator: str  # Go string literal, or "" when undiscriminated
    needs_fields: bool = False  # whether an undiscriminated decoder looks at object keys
    needs_kind: bool = False  # whether it looks at the JSON kind


@dataclass
class GoAlias:
    name: str
    doc: list[str]
    target: GoType
    # A Go alias may not refer to itself (`type Tree = []Tree` is an invalid recursive type), so an
    # alias on a cycle of aliases is emitted as a defined type (`type Tree []Tree`) instead.
    defined: bool = False


@dataclass
class GoModels:
    package: str
    imports: list[str]
    structs: list[GoStruct] = field(default_factory=list)
    enums: list[GoEnum] = field(default_factory=list)
    unions: list[GoUnion] = field(default_factory=list)
    aliases: list[GoAlias] = field(default_factory=list)

    def struct(self, name: str) -> GoStruct | None:
        return next((s for s in self.structs if s.name == name), None)


def _presence(name: str, go_type: GoType, tag_options: str) -> str:
    if not tag_options:
        return ""
    return f"!m.{name}.IsZero()" if go_type.wrapper else f"m.{name} != nil"


def _access(go_field: GoField) -> str:
    """What the codec statements pass for a field: its address, through the quoted-int64 codec
    (quoted.go) when its 64-bit integers travel as JSON strings."""
    return f"quote(&m.{go_field.name})" if go_field.quoted else f"&m.{go_field.name}"


def _decode(f: ir.Field, go_field: GoField) -> str:
    """The objectDecoder call that decodes a field (json.go). A required read-only field is required
    in a response only: a value built from JSON to be sent need not carry it."""
    into = f"{go_field.wire}, {_access(go_field)}"
    if not f.required:
        return f"d.optional({into})"
    # A free-form value (`any`, e.g. a contract's `type: "null"`) holds null as one of its values.
    nullable = f.nullable or f.type == ir.PrimitiveType(ir.Prim.ANY)
    if f.read_only:
        return f"d.readOnly({into}, {'true' if nullable else 'false'})"
    return f"d.{'requiredNullable' if nullable else 'required'}({into})"


def _encode(f: ir.Field, go_field: GoField) -> list[str]:
    """The objectWriter statements that encode a field; read-only ones only outside requests, and
    an explicit null decoded into an optional free-form field (any, or an object of any) is written
    back as null."""
    value = _access(go_field) if go_field.quoted else f"m.{go_field.name}"
    write = f"o.field({go_field.wire}, {value})"
    conditions = [c for c in ("!request" if f.read_only else "", go_field.presence) if c]
    if not conditions:
        return [write]
    lines = [f"if {' && '.join(conditions)} {{", f"\t{write}"]
    if go_field.type.free_form and go_field.presence:
        null = [c for c in ("!request" if f.read_only else "", f"m.extra.isNull({go_field.wire})") if c]
        lines += [f"}} else if {' && '.join(null)} {{", f"\to.null({go_field.wire})"]
    return [*lines, "}"]


def _field_doc(f: ir.Field, field_name: str) -> list[str]:
    doc = doc_lines(f.docs.text, f"{field_name} is the {f.wire_name!r} property.")
    if quoted(f.type):
        doc += [
            "//",
            '// Its 64-bit integers travel as JSON strings ("123"), as proto3 JSON writes them; a JSON',
            "// number is accepted too.",
        ]
    if f.read_only:
        doc += ["//", "// Read-only: set by the server and ignored in requests."]
    if f.docs.deprecated:
        doc += ["//", "// Deprecated: the contract marks this property as deprecated."]
    return doc


def _struct(types: GoTypes, named: ir.NamedType, obj: ir.ObjectDef) -> GoStruct:
    name = types.type_names[named.name]
    namer = exported_namer("Field", GO_METHOD_NAMES)
    custom = obj.additional is not None or any(not _TAG_SAFE.match(f.wire_name) for f in obj.fields)
    fields = []
    wire_fields = {}
    for f in obj.fields:
        field_name = namer.claim(f.wire_name)
        go_type, options = types.field_type(named.name, f)
        is_quoted = quoted(f.type)
        scalar = isinstance(walks.unwrap_nullable(f.type), ir.PrimitiveType) and not go_type.wrapper
        # encoding/json's spelling of a quoted scalar, for the reader: the codec is quote().
        tag_options = (",string" if is_quoted and scalar else "") + options
        tag = "" if custom else f'`json:"{f.wire_name}{tag_options}"`'
        go_field = GoField(
            name=field_name,
            type=go_type,
            tag=tag,
            doc=_field_doc(f, field_name),
            wire=go_string(f.wire_name),
            presence=_presence(field_name, go_type, options),
            deprecated=f.docs.deprecated,
            quoted=is_quoted,
        )
        go_field.decode = _decode(f, go_field)
        go_field.encode = _encode(f, go_field)
        fields.append(go_field)
        wire_fields[f.wire_name] = go_field
    doc = doc_lines(named.docs.text, f"{name} is the {named.name} schema of the contract.")
    if named.docs.deprecated:
        doc += ["//", "// Deprecated: the contract marks this schema as deprecated."]
    return GoStruct(
        name=name,
        doc=doc,
        fields=fields,
        custom_json=custom,
        additional_type=types.of(obj.additional) if obj.additional is not None else None,
        wire_fields=wire_fields,
    )


def _enum(types: GoTypes, named: ir.NamedType, enum: ir.EnumDef) -> GoEnum:
    name = types.type_names[named.name]
    base = "string" if enum.base is ir.Prim.STRING else "int64"
    consts = []
    for index, value in enumerate(enum.values, 1):
        text = str(value.value)
        if isinstance(value.value, int) and value.value < 0:
            text = f"minus {-value.value}"
        if not split_words(text):
            text = f"value {index}"
        const_name = types.namer.claim(f"{name} {text}")
        literal = go_string(value.value) if isinstance(value.value, str) else str(value.value)
        consts.append(
            GoConst(
                name=const_name,
                literal=literal,
                doc=doc_lines(value.docs.text, f"{const_name} is {literal}."),
            )
        )
    doc = doc_lines(named.docs.text, f"{name} is the {named.name} enum of the contract.")
    doc += ["//", "// Servers may add values: a value not listed here is kept as is, not rejected."]
    return GoEnum(name=name, base=base, doc=doc, consts=consts)


_NUMBERS = frozenset({ir.Prim.INTEGER, ir.Prim.INT32, ir.Prim.INT64, ir.Prim.FLOAT, ir.Prim.DOUBLE})


def _structural_kind(t: ir.Type | ir.Definition | None) -> str:
    if isinstance(t, ir.PrimitiveType):
        if t.kind in _NUMBERS:
            return "jsonKindNumber"
        return {ir.Prim.BOOLEAN: "jsonKindBool", ir.Prim.ANY: "jsonKindInvalid"}.get(t.kind, "jsonKindString")
    if isinstance(t, ir.ConstType):
        if isinstance(t.value, bool):
            return "jsonKindBool"
        return "jsonKindString" if isinstance(t.value, str) else "jsonKindNumber"
    if isinstance(t, ir.ArrayType):
        return "jsonKindArray"
    if isinstance(t, (ir.MapType, ir.ObjectDef)):
        return "jsonKindObject"
    if isinstance(t, ir.EnumDef):
        return "jsonKindString" if t.base is ir.Prim.STRING else "jsonKindNumber"
    return "jsonKindInvalid"  # a nested union (decided by trying it), or an alias cycle


def json_kind(api: ir.Api, t: ir.Type) -> str:
    """The JSON kind a value of t has, as the Go runtime's jsonKind constant."""
    found = walks.resolve(api, t)
    if isinstance(found, ir.Nullable):
        found = walks.resolve(api, found.inner)
    return _structural_kind(found)


def _variant(types: GoTypes, union: ir.UnionDef, variant: ir.Variant, field_name: str) -> GoVariant:
    go_type = types.of(variant.type)
    definition = walks.object_def(types.api, variant.type)
    required = [go_string(f.wire_name) for f in definition.fields if f.required] if definition else []
    kind = json_kind(types.api, variant.type)
    checks = [] if kind == "jsonKindInvalid" else [f"kind == {kind}"]
    if required:
        checks.append(f"hasKeys(fields, {', '.join(required)})")
    when = (
        f"{field_name} is set when {union.discriminator} is {', '.join(repr(t) for t in variant.tags)}."
        if union.discriminator and variant.tags
        else f"{field_name} is set when the value decodes as {go_type.label}."
    )
    return GoVariant(
        field=field_name,
        doc=line_comment(when, "//"),
        type=go_type,
        tags=[go_string(tag) for tag in variant.tags],
        condition=" && ".join(checks),
        checks_kind=kind != "jsonKindInvalid",
        checks_keys=bool(required),
    )


def _union(types: GoTypes, named: ir.NamedType, union: ir.UnionDef) -> GoUnion:
    name = types.type_names[named.name]
    namer = exported_namer("Variant", GO_METHOD_NAMES)
    variants = []
    for variant in union.variants:
        label = variant.tags[0] if variant.tags and union.discriminator else types.of(variant.type).label
        variants.append(_variant(types, union, variant, namer.claim(label)))
    doc = doc_lines(named.docs.text, f"{name} is the {named.name} union of the contract.")
    doc += [
        "//",
        "// Exactly one field is set. A variant this SDK does not know is kept in Unknown as raw JSON.",
    ]
    return GoUnion(
        name=name,
        doc=doc,
        variants=variants,
        discriminator=go_string(union.discriminator) if union.discriminator else "",
        needs_fields=any(v.checks_keys for v in variants),
        needs_kind=any(v.checks_kind for v in variants),
    )


def _imports(models: GoModels) -> list[str]:
    used: list[GoType] = [f.type for s in models.structs for f in s.fields]
    used += [s.additional_type for s in models.structs if s.additional_type is not None]
    used += [v.type for u in models.unions for v in u.variants] + [a.target for a in models.aliases]
    imports = {path for t in used for path in t.imports}
    if models.unions:
        imports.add("encoding/json")
    return sorted(imports)


def _recursive_aliases(api: ir.Api) -> set[str]:
    """The aliases that reach themselves through other aliases only (through a slice, map or
    nullable): structs and unions are defined types, which already end a cycle in Go."""
    aliases = {n.name: n.definition for n in api.types if isinstance(n.definition, ir.AliasDef)}
    edges = {name: [r for r in walks.type_refs(d.target) if r in aliases] for name, d in aliases.items()}
    return {a for a, _ in walks.cyclic_edges(edges)}


def build_models(api: ir.Api, package: str, types: GoTypes | None = None) -> GoModels:
    types = types or GoTypes(api)
    models = GoModels(package=package, imports=[])
    recursive = _recursive_aliases(api)
    for named in api.types:
        definition = named.definition
        if isinstance(definition, ir.ObjectDef):
            models.structs.append(_struct(types, named, definition))
        elif isinstance(definition, ir.EnumDef):
            models.enums.append(_enum(types, named, definition))
        elif isinstance(definition, ir.UnionDef):
            models.unions.append(_union(types, named, definition))
        else:
            name = types.type_names[named.name]
            models.aliases.append(
                GoAlias(
                    name=name,
                    doc=doc_lines(named.docs.text, f"{name} is the {named.name} schema of the contract."),
                    target=types.of(definition.target),
                    defined=named.name in recursive,
                )
            )
    models.imports = _imports(models)
    return models
