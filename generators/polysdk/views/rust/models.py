"""models.rs: one Rust item per named schema.

Optionality of struct fields:
- required, not nullable      → T
- optional, not nullable      → Option<T>          #[serde(default, skip_serializing_if = "Option::is_none")]
- required, nullable          → Option<T>          null = None (sent as null), absent = decode error,
                                                   via crate::serde_helpers::nullable
- optional and nullable       → Option<Option<T>>  absent = None, null = Some(None), via
                                                   crate::serde_helpers::double_option
- optional free-form (any)    → Option<Value>      absent = None, null = Some(Value::Null), via
                                                   crate::serde_helpers::present
Structs derive serde. additionalProperties go in a flattened HashMap; otherwise fields the
contract does not declare are kept in a flattened `extra: serde_json::Map` so that a decoded
value re-encodes unchanged (not in structs that are only ever sent). Enums are open (an `Unknown`
variant keeps the wire value), unions are enums with an `Unknown(serde_json::Value)` variant
whose encoder always writes a variant's tag, aliases are `pub type`s (newtypes when recursive).

Read-only fields: a schema sent in a request body that holds read-only fields at any depth gets
a request twin (`Agent` → `AgentInput`) without them and without unknown fields, used as the
request body type (RustTypes.request_entry), with `From<Agent> for AgentInput`. The schema's
own type keeps them, required as the contract says, for responses.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from polysdk import ir, walks
from polysdk.literals import rust_string
from polysdk.names import Namer, pascal, split_words
from polysdk.views.rust.docs import DOC_LINT_ALLOWS, code, doc
from polysdk.views.rust.types import (
    I64_MAX,
    I64_MIN,
    JSON,
    UNKNOWN_FIELDS,
    Kind,
    RustType,
    RustTypes,
    enum_variant_names,
    field_namer,
    fix_variant,
)


@dataclass
class RustField:
    name: str
    rust_type: RustType
    serde: list[str]  # the arguments of its #[serde(...)] attribute
    doc: list[str]
    deprecated: bool = False
    source: ir.Field | None = None  # the contract's field (None for additional properties)

    @property
    def type(self) -> str:
        return self.rust_type.rendered

    @property
    def attrs(self) -> list[str]:
        attrs = [f"#[serde({', '.join(self.serde)})]"] if self.serde else []
        return attrs + (["#[deprecated]"] if self.deprecated else [])


def _attrs(deprecated: bool) -> list[str]:
    return ["#[deprecated]"] if deprecated else []


@dataclass
class RustFrom:
    """`impl From<source> for <twin>`: a response value turned into its request twin, the
    read-only and unknown fields dropped. `body` holds the lines of `fn from(value: source)`."""

    source: str
    body: list[str]


@dataclass
class RustStruct:
    name: str
    doc: list[str]
    derives: str
    deprecated: bool
    fields: list[RustField]
    template: str = "rust/struct.rs.j2"
    conversion: RustFrom | None = None  # a request twin's conversion from its schema's type

    @property
    def attrs(self) -> list[str]:
        return _attrs(self.deprecated)


@dataclass
class RustNewtype:
    name: str
    doc: list[str]
    deprecated: bool
    target: str
    template: str = "rust/newtype.rs.j2"
    conversion: RustFrom | None = None

    @property
    def attrs(self) -> list[str]:
        return _attrs(self.deprecated)


@dataclass
class RustAlias:
    name: str
    doc: list[str]
    deprecated: bool
    target: str
    template: str = "rust/alias.rs.j2"

    @property
    def attrs(self) -> list[str]:
        return _attrs(self.deprecated)


@dataclass
class RustEnumValue:
    name: str
    literal: str  # Rust literal of the wire value: "online" or -1
    doc: list[str]
    deprecated: bool

    @property
    def attrs(self) -> list[str]:
        return _attrs(self.deprecated)


@dataclass
class RustEnum:
    name: str
    doc: list[str]
    deprecated: bool
    values: list[RustEnumValue]
    base: str  # String (string enum with as_str) or i64 (integer enum with as_i64)
    impls: str  # the template of its methods and serde impls
    template: str = "rust/enum.rs.j2"

    @property
    def attrs(self) -> list[str]:
        return _attrs(self.deprecated)


@dataclass
class RustVariant:
    name: str
    payload: str  # the variant's payload type, e.g. Box<ToolCallStep>
    doc: list[str]
    # Discriminated unions: the Rust pattern of the tags selecting this variant ("" = untagged,
    # never decoded); the Rust slice of its tags, first the one written when encoding a value
    # whose tag property is missing or not one of them ("" = not an object: encoded as is).
    pattern: str = ""
    what: str = ""  # Rust string literal naming the variant in decode errors
    tags: str = ""
    untag: bool = False  # the variant's struct does not declare the tag property
    # Undiscriminated unions: the condition under which decoding this variant is tried ("" = never),
    # and the serde_helpers function that decodes it (decode_whole: only if nothing is lost).
    accept: str = ""
    decoder: str = "decode_if"
    convert: str = ""  # request twins: the expression turning the source variant's `inner` into this one


@dataclass
class RustUnion:
    name: str
    doc: list[str]
    deprecated: bool
    variants: list[RustVariant]
    discriminator: str  # Rust string literal of the tag property, "" when undiscriminated
    decoder: str  # the template of its Deserialize impl: by tag, or by trying variants in order
    template: str = "rust/union.rs.j2"
    conversion: RustFrom | None = None

    @property
    def attrs(self) -> list[str]:
        return _attrs(self.deprecated)


RustItem = RustStruct | RustNewtype | RustAlias | RustEnum | RustUnion


@dataclass
class RustModels:
    items: list[RustItem] = field(default_factory=list)
    serde_import: bool = False  # whether models.rs uses the serde traits by name
    lint_allows: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# Structs -------------------------------------------------------------------------------------------


def _field_doc(f: ir.Field, twin: str | None = None) -> list[str]:
    lines = doc(f.docs.text, f"The {code(f.wire_name)} property.")
    notes = []
    if f.default is not None:
        value = f.default.value
        shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
        notes.append(f"Defaults to {code(shown)} on the server.")
    if f.read_only and twin:
        notes.append(f"Read-only: set by the server; request bodies use [`{twin}`], which leaves it out.")
    elif f.read_only:
        notes.append("Read-only: set by the server and ignored in requests.")
    if f.write_only:
        notes.append("Write-only: sent in requests, never returned.")
    for note in notes:
        lines += ["///", *doc(note)]
    return lines


_SKIP_NONE = 'skip_serializing_if = "Option::is_none"'
_DOUBLE_OPTION = 'deserialize_with = "crate::serde_helpers::double_option"'
# An optional free-form value: `null` is a value (Some(Value::Null)), only absence is None.
_NULLABLE = 'deserialize_with = "crate::serde_helpers::nullable"'
_PRESENT = 'deserialize_with = "crate::serde_helpers::present"'
_UNKNOWN = 'skip_serializing_if = "serde_json::Map::is_empty"'


def _free_form(types: RustTypes, f: ir.Field) -> bool:
    target = types.resolve(f.type)
    return isinstance(target, ir.PrimitiveType) and target.kind is ir.Prim.ANY


# A 64-bit integer that travels as a JSON string (or an Option, Vec or map of them).
_QUOTED = 'with = "crate::serde_helpers::quoted"'
_QUOTED_PRESENT = (
    'serialize_with = "crate::serde_helpers::quoted::serialize", '
    'deserialize_with = "crate::serde_helpers::quoted::present"'
)


def _quoted_optionality(f: ir.Field, inner: RustType) -> tuple[RustType, list[str]]:
    """As `_optionality`, for a field holding quoted int64s: the runtime's `quoted` helper reads
    and writes them, and its `present` keeps an explicit null apart from absence."""
    if f.required and not f.nullable:
        return inner, [_QUOTED]
    if f.required:  # null is None; absence is a decode error (no `default`)
        return inner.option(), [_QUOTED]
    if not f.nullable:
        return inner.option(), ["default", _SKIP_NONE, _QUOTED]
    return inner.option().option(), ["default", _SKIP_NONE, _QUOTED_PRESENT]


def _optionality(types: RustTypes, f: ir.Field, inner: RustType) -> tuple[RustType, list[str]]:
    """The field's type and serde arguments for its required/nullable combination."""
    if inner.holds_quoted:
        return _quoted_optionality(f, inner)
    if f.required and not f.nullable:
        return inner, []
    if f.required:  # null is None; absence is a decode error, as for any required field
        return inner.option(), [_NULLABLE]
    if not f.nullable:
        if _free_form(types, f):
            return inner.option(), ["default", _SKIP_NONE, _PRESENT]
        return inner.option(), ["default", _SKIP_NONE]
    return inner.option().option(), ["default", _SKIP_NONE, _DOUBLE_OPTION]


def struct_field(types: RustTypes, owner: str, f: ir.Field, name: str, request: bool = False) -> RustField:
    inner = types.entry(walks.unwrap_nullable(f.type), types.boxed_edge(owner, f.type), request)
    rust_type, serde = _optionality(types, f, inner)
    rename = [f"rename = {rust_string(f.wire_name)}"] if name.removeprefix("r#") != f.wire_name else []
    lines = _field_doc(f, types.inputs.get(owner))
    return RustField(name, rust_type, rename + serde, lines, f.docs.deprecated, f)


def _derives(fields: list[RustField]) -> str:
    derives = ["Debug", "Clone", "PartialEq"]
    if all(f.rust_type.defaultable for f in fields):
        derives.append("Default")
    return ", ".join([*derives, "Serialize", "Deserialize"])


def _struct(types: RustTypes, named: ir.NamedType, obj: ir.ObjectDef) -> RustStruct:
    claim = field_namer()
    fields = [struct_field(types, named.name, f, claim(f.wire_name)) for f in obj.fields]
    if obj.additional is not None:
        fields.append(_additional(types, obj.additional, claim("additional_properties")))
    elif named.name not in types.request_only:
        lines = doc(
            "Fields the contract does not declare, as received: kept so that re-encoding the value "
            "sends them back unchanged."
        )
        fields.append(RustField(claim("extra"), UNKNOWN_FIELDS, ["flatten", _UNKNOWN], lines))
    lines = doc(named.docs.text, f"The {code(named.name)} schema.")
    twin = types.inputs.get(named.name)
    if twin:
        lines += ["///", *doc(f"Request bodies take it as [`{twin}`], without the read-only fields.")]
    return RustStruct(
        name=types.names[named.name],
        doc=lines,
        derives=_derives(fields),
        deprecated=named.docs.deprecated,
        fields=fields,
    )


def _additional(types: RustTypes, values_type: ir.Type, name: str, request: bool = False) -> RustField:
    values = types.entry(values_type, request=request)
    extra = RustType(f"std::collections::HashMap<String, {values.rendered}>", Kind.MAP, values.crates, values)
    lines = doc("Properties not declared by the contract, by name.")
    return RustField(name, extra, ["flatten"], lines)


def _twin_doc(types: RustTypes, named: ir.NamedType, read_only: list[str]) -> list[str]:
    what = f"[`{types.names[named.name]}`]"
    lines = doc(f"{what} as sent in a request body: the fields the server sets are left out.")
    if read_only:
        fields = ", ".join(code(name) for name in read_only)
        lines += ["///", *doc(f"Read-only fields of {what} left out: {fields}.")]
    return lines


def convert(types: RustTypes, value: str, source: RustType, target: RustType) -> str:
    """The Rust expression turning `value` of type `source` into `target`, where `target` is
    `source` with request twins in place of some named types (each twin struct, union or newtype
    is `From` its schema's type; a twin type alias is converted as what it stands for)."""
    if not _holds_twin(types, target):
        return value
    if target.kind is Kind.NAMED and target.model is not None and not target.recursive:
        named = types.by_name[target.model].definition
        if isinstance(named, ir.AliasDef):
            return convert(types, value, types.entry(named.target), types.request_entry(named.target))
    s, t = source.inner, target.inner
    if target.kind is Kind.NAMED or s is None or t is None:
        return f"{target.rendered}::from({value})"
    if target.kind is Kind.BOX:
        return f"Box::new({convert(types, f'*{value}', s, t)})"
    if target.kind is Kind.OPTION:
        return f"{value}.map({_function(types, s, t)})"
    if target.kind is Kind.VEC:
        return f"{value}.into_iter().map({_function(types, s, t)}).collect()"
    return f"{value}.into_iter().map(|(k, v)| (k, {convert(types, 'v', s, t)})).collect()"


def _holds_twin(types: RustTypes, t: RustType) -> bool:
    """Whether a request-side entry names a request twin (else it is the response-side type)."""
    if t.kind is Kind.NAMED:
        return t.model in types.inputs
    return t.inner is not None and _holds_twin(types, t.inner)


def _function(types: RustTypes, source: RustType, target: RustType) -> str:
    """A function from `source` to `target` for `map`: a path where one will do (clippy's
    redundant_closure), else a closure."""
    made = convert(types, "v", source, target)
    call = f"{target.rendered}::from(v)"
    return f"{target.rendered}::from" if made == call else f"|v| {made}"


def _struct_twin(types: RustTypes, named: ir.NamedType, obj: ir.ObjectDef) -> RustStruct:
    """The request twin of a struct: no read-only fields, no unknown fields, twins inside."""
    claim = field_namer()
    writable = [f for f in obj.fields if not f.read_only]
    fields, body = [], ["Self {"]
    for f in writable:
        name = claim(f.wire_name)
        field = struct_field(types, named.name, f, name, request=True)
        source = struct_field(types, named.name, f, name).rust_type
        fields.append(field)
        body.append(f"    {name}: {convert(types, f'value.{name}', source, field.rust_type)},")
    if obj.additional is not None:
        extra = _additional(types, obj.additional, claim("additional_properties"), request=True)
        source = _additional(types, obj.additional, extra.name).rust_type
        fields.append(extra)
        body.append(f"    {extra.name}: {convert(types, f'value.{extra.name}', source, extra.rust_type)},")
    read_only = [f.wire_name for f in obj.fields if f.read_only]
    return RustStruct(
        name=types.inputs[named.name],
        doc=_twin_doc(types, named, read_only),
        derives=_derives(fields),
        deprecated=named.docs.deprecated,
        fields=fields,
        conversion=RustFrom(types.names[named.name], [*body, "}"]),
    )


# Enums ---------------------------------------------------------------------------------------------


def _listable(value: ir.EnumValue, string: bool) -> bool:
    if isinstance(value.value, str) != string:
        return False
    return not isinstance(value.value, int) or I64_MIN <= value.value <= I64_MAX


def _enum(types: RustTypes, named: ir.NamedType, enum: ir.EnumDef) -> RustEnum:
    string = enum.base is ir.Prim.STRING
    kept = []
    for value in enum.values:
        if _listable(value, string):
            kept.append(value)
        else:
            types.warnings.append(
                f"enum {named.name!r}: value {value.value!r} cannot be listed; it decodes as unknown"
            )
    values = []
    for value, variant in zip(kept, enum_variant_names(tuple(kept)), strict=True):
        literal = rust_string(value.value) if isinstance(value.value, str) else str(value.value)
        shown = code(str(value.value)) if string else literal
        lines = doc(value.docs.text, f"The value {shown}.")
        values.append(RustEnumValue(variant, literal, lines, value.docs.deprecated))
    lines = doc(named.docs.text, f"The {code(named.name)} enum.")
    lines += [
        "///",
        "/// Servers may add values: a value not listed here is kept in `Unknown`, not rejected.",
    ]
    return RustEnum(
        name=types.names[named.name],
        doc=lines,
        deprecated=named.docs.deprecated,
        values=values,
        base="String" if string else "i64",
        impls="rust/enum_string.rs.j2" if string else "rust/enum_integer.rs.j2",
    )


# Unions --------------------------------------------------------------------------------------------

_TAGGED = "rust/union_tagged.rs.j2"
# Tries the variants in order; also for a discriminated union none of whose variants has a tag,
# which can then only decode to Unknown.
_UNTAGGED = "rust/union_untagged.rs.j2"


def _float_literal(value: float) -> str:
    if math.isnan(value):
        return "f64::NAN"
    if math.isinf(value):
        return "f64::INFINITY" if value > 0 else "f64::NEG_INFINITY"
    text = repr(value)
    return text if any(c in text for c in ".eE") else text + ".0"


def const_condition(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return f"value.as_bool() == Some({'true' if value else 'false'})"
    if isinstance(value, int):
        if I64_MIN <= value <= I64_MAX:
            return f"value.as_i64() == Some({value})"
        if 0 <= value < 2**64:
            return f"value.as_u64() == Some({value})"
        return f"value == {_float_literal(float(value))}_f64"  # serde_json reads it as a float
    if isinstance(value, float):
        return f"value == {_float_literal(value)}_f64" if math.isfinite(value) else "false"
    return f"value.as_str() == Some({rust_string(value)})"


def _primitive_condition(types: RustTypes, target: ir.PrimitiveType) -> str:
    if target.kind is ir.Prim.ANY:
        return "true"
    if target.kind is ir.Prim.BOOLEAN:
        return "value.is_boolean()"
    return "value.is_number()" if types.entry(target).kind.number else "value.is_string()"


def accept_condition(types: RustTypes, t: ir.Type, request: bool = False) -> str:
    """The Rust condition on `value` (a serde_json::Value) under which an undiscriminated union
    tries to decode a member of type t."""
    target = types.resolve(t)
    if isinstance(target, ir.ConstType):
        return const_condition(target.value)
    if isinstance(target, ir.PrimitiveType):
        return _primitive_condition(types, target)
    if isinstance(target, ir.ArrayType):
        return "value.is_array()"
    if isinstance(target, ir.MapType):
        return "value.is_object()"
    if isinstance(target, ir.EnumDef):
        return "value.is_string()" if target.base is ir.Prim.STRING else "value.is_number()"
    if isinstance(target, ir.ObjectDef):
        wanted = [f for f in target.fields if f.required and not (request and f.read_only)]
        required = ", ".join(rust_string(f.wire_name) for f in wanted)
        return f"crate::serde_helpers::has_fields(&value, &[{required}])"
    return "true"  # a nested union decides for itself


def _variant_label(types: RustTypes, union: ir.UnionDef, name: str, variant: ir.Variant) -> str:
    if union.discriminator is not None and variant.tags and split_words(variant.tags[0]):
        return variant.tags[0]
    label = types.label(variant.type)
    prefixed = isinstance(variant.type, ir.NamedRef) and label.startswith(name)
    if prefixed and label[len(name) : len(name) + 1].isupper():
        return label[len(name) :]  # GetEventsCreatedVariant1 in GetEventsCreated → Variant1
    return label


def _variant_doc(types: RustTypes, union: ir.UnionDef, variant: ir.Variant, decodable: bool) -> list[str]:
    if not decodable:
        return doc("Contains this union itself by value, so decoding never produces it.")
    if union.discriminator is None:
        return doc(f"A value that decodes as `{types.expr(variant.type)}`.")
    if variant.tags:
        tags = ", ".join(code(tag) for tag in variant.tags)
        return doc(f"Selected when {code(union.discriminator)} is {tags}.")
    return doc(f"Has no {code(union.discriminator)} value in the contract, so decoding never produces it.")


def _variant(
    types: RustTypes,
    named: ir.NamedType,
    union: ir.UnionDef,
    variant: ir.Variant,
    name: str,
    request: bool = False,
) -> RustVariant:
    boxed = types.boxed_variant(variant.type)
    payload = types.entry(variant.type, boxed, request)
    decodable = types.decodable(named.name, variant.type)
    if not decodable and not request:
        types.warnings.append(
            f"union {named.name!r}: variant {name} contains the union itself; never decoded"
        )
    item = RustVariant(name, payload.rendered, _variant_doc(types, union, variant, decodable))
    if request:
        item.convert = convert(types, "inner", types.entry(variant.type, boxed), payload)
    if not decodable:
        return item
    if union.discriminator is None:
        item.accept = accept_condition(types, variant.type, request)
        if request or named.name in types.request_only:
            # A request type keeps no undeclared field (no `extra` map), here or in what it
            # nests: a variant is taken only if re-encoding it gives the value back whole, or a
            # later one declaring the rest would be passed over and those fields lost (Discord's
            # message components and moderation actions). Go and TypeScript keep them anyway.
            item.decoder = "decode_whole"
    elif variant.tags:
        item.pattern = " | ".join(rust_string(tag) for tag in variant.tags)
        union_name = (types.inputs if request else types.names)[named.name]
        item.what = rust_string(f"`{name}` variant of `{union_name}`")
        target = types.resolve(variant.type)
        if isinstance(target, ir.ObjectDef):
            item.tags = "&[" + ", ".join(rust_string(tag) for tag in variant.tags) + "]"
            item.untag = union.discriminator not in {f.wire_name for f in target.fields}
    return item


def _union(types: RustTypes, named: ir.NamedType, union: ir.UnionDef, request: bool = False) -> RustUnion:
    name = types.names[named.name]
    namer = Namer(pascal, fix_variant, "Variant", taken=("Unknown",))
    variants = [
        _variant(types, named, union, v, namer.claim(_variant_label(types, union, name, v)), request)
        for v in union.variants
    ]
    own = doc(named.docs.text, f"The {code(named.name)} union.")
    lines = _twin_doc(types, named, []) if request else own
    if union.discriminator is not None:
        lines += ["///", f"/// The {code(union.discriminator)} property selects the variant."]
    else:
        lines += ["///", "/// Decoding tries the variants in order and keeps the first that fits."]
    lines += ["/// A value no variant matches is kept in `Unknown` as raw JSON, not rejected."]
    return RustUnion(
        name=types.inputs[named.name] if request else name,
        doc=lines,
        deprecated=named.docs.deprecated,
        variants=variants,
        discriminator=rust_string(union.discriminator) if union.discriminator is not None else "",
        decoder=_TAGGED if any(v.pattern for v in variants) else _UNTAGGED,
        conversion=_union_conversion(name, variants) if request else None,
    )


def _union_conversion(source: str, variants: list[RustVariant]) -> RustFrom:
    arms = [f"    {source}::{v.name}(inner) => Self::{v.name}({v.convert})," for v in variants]
    return RustFrom(
        source, ["match value {", *arms, f"    {source}::Unknown(raw) => Self::Unknown(raw),", "}"]
    )


# Aliases -------------------------------------------------------------------------------------------


def _alias(
    types: RustTypes, named: ir.NamedType, alias: ir.AliasDef, request: bool = False
) -> RustNewtype | RustAlias:
    name = types.names[named.name]
    lines = doc(named.docs.text, f"The {code(named.name)} schema.")
    if request:
        name = types.inputs[named.name]
        lines = _twin_doc(types, named, [])
    deprecated = named.docs.deprecated
    if named.name in types.degenerate:
        return RustAlias(name, lines, deprecated, JSON.rendered)
    if named.name in types.newtypes:
        boxed = types.boxed_edge(named.name, alias.target)
        target = types.entry(alias.target, boxed, request)
        newtype = RustNewtype(name, lines, deprecated, target.rendered)
        if request:
            inner = convert(types, "value.0", types.entry(alias.target, boxed), target)
            newtype.conversion = RustFrom(types.names[named.name], [f"Self({inner})"])
        return newtype
    return RustAlias(name, lines, deprecated, types.expr(alias.target, request=request))


def _item(types: RustTypes, named: ir.NamedType) -> RustItem:
    d = named.definition
    if isinstance(d, ir.ObjectDef):
        return _struct(types, named, d)
    if isinstance(d, ir.EnumDef):
        return _enum(types, named, d)
    if isinstance(d, ir.UnionDef):
        return _union(types, named, d)
    return _alias(types, named, d)


def _twin(types: RustTypes, named: ir.NamedType) -> RustItem:
    """The request twin of a schema that holds read-only fields (enums never do)."""
    d = named.definition
    if isinstance(d, ir.ObjectDef):
        return _struct_twin(types, named, d)
    if isinstance(d, ir.UnionDef):
        return _union(types, named, d, request=True)
    assert isinstance(d, ir.AliasDef)
    return _alias(types, named, d, request=True)


def _items(types: RustTypes, named: ir.NamedType) -> list[RustItem]:
    item = _item(types, named)
    return [item, _twin(types, named)] if named.name in types.inputs else [item]


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


def build_models(api: ir.Api, types: RustTypes | None = None) -> RustModels:
    types = types or RustTypes(api)
    models = RustModels(items=[item for named in api.types for item in _items(types, named)])
    models.serde_import = any(not isinstance(item, RustAlias) for item in models.items)
    allows = ["deprecated"] if _any_deprecated(api) else []
    # A field's type spells the contract's shape (a nullable array of nullable maps is
    # Option<Option<Vec<Option<HashMap<..>>>>>); naming its parts would invent types the
    # contract does not have, so clippy's type_complexity does not apply to models.
    models.lint_allows = ["clippy::enum_variant_names", "clippy::type_complexity", *allows, *DOC_LINT_ALLOWS]
    models.warnings = types.warnings
    return models
