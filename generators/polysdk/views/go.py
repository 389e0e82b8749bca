"""The Go view: every Go-specific decision about names, types, tags, imports and docs.

Type mapping and optionality (see SDK_FEATURES.md, "optional fields without NullableX soup"):
- required, not nullable      → T                `json:"name"`
- optional, not nullable      → *T               `json:"name,omitempty"` (slices and maps: []T /
                                 map[string]T with `omitzero`, so nil is absent and empty is sent)
- required, nullable          → *T               `json:"name"` (nil is sent as null)
- optional and nullable       → Nullable[T]      `json:"name,omitzero"` (absent, null or a value)
Enums are named string/int64 types with constants, so unknown values decode unharmed. Unions are
structs with one pointer per variant and an `Unknown json.RawMessage` for variants this SDK does
not know. Structs whose wire names cannot be written in a struct tag, or which declare
additionalProperties, get map-based MarshalJSON/UnmarshalJSON methods instead of tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from polysdk import ir
from polysdk.literals import go_string, line_comment
from polysdk.names import (
    GO_INITIALISMS,
    Namer,
    go_fix_type,
    pascal,
    snake,
    split_words,
)
from polysdk.plan import LanguagePlan, Options, RuntimeFile, TemplateFile
from polysdk.render import run_tool
from polysdk.views.common import cyclic_edges, package_words

GO_VERSION = "1.24"  # omitzero (1.24) for absent-vs-empty slices and Nullable fields

_PRIMS = {
    ir.Prim.STRING: "string",
    ir.Prim.BOOLEAN: "bool",
    ir.Prim.INTEGER: "int64",
    ir.Prim.INT32: "int32",
    ir.Prim.INT64: "int64",
    ir.Prim.FLOAT: "float32",
    ir.Prim.DOUBLE: "float64",
    ir.Prim.DECIMAL: "string",
    ir.Prim.DATE: "string",
    ir.Prim.DATE_TIME: "time.Time",
    ir.Prim.UUID: "string",
    ir.Prim.BYTES: "[]byte",
    ir.Prim.BINARY: "string",
    ir.Prim.ANY: "any",
}

# encoding/json accepts only these characters in a tag name (see isValidTag in encoding/json).
_TAG_SAFE = re.compile(r"^[A-Za-z0-9!#$%&()*+\-./:;<=>?@\[\]^_{|}~ ]+$")

# Methods generated on types; a field or variant with one of these names would not compile.
_GO_METHOD_NAMES = ("MarshalJSON", "UnmarshalJSON", "Unknown", "AdditionalProperties")


def _doc(text: str, fallback: str) -> list[str]:
    """Doc comment lines for a symbol: the contract's text, else a generated sentence."""
    return line_comment(text, "//") or line_comment(fallback, "//")


@dataclass
class GoField:
    name: str
    type: str
    tag: str  # the whole struct tag including backticks, or "" for map-coded structs
    doc: list[str]
    wire: str  # Go string literal of the wire name
    presence: str  # Go expression that is true when the field must be encoded; "" = always


@dataclass
class GoStruct:
    name: str
    doc: list[str]
    fields: list[GoField]
    # Map-based JSON methods, when tags cannot express the struct.
    custom_json: bool = False
    additional_type: str = ""


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
    type: str  # its Go type (without the pointer)
    tags: list[str]  # Go string literals of discriminator values
    doc: list[str]
    condition: str  # Go condition under which an undiscriminated union tries this variant; "" = always


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
    target: str


@dataclass
class GoModels:
    package: str
    imports: list[str]
    structs: list[GoStruct] = field(default_factory=list)
    enums: list[GoEnum] = field(default_factory=list)
    unions: list[GoUnion] = field(default_factory=list)
    aliases: list[GoAlias] = field(default_factory=list)


class _GoTypes:
    """Turns IR types into Go type expressions, with names assigned once per package."""

    def __init__(self, api: ir.Api) -> None:
        self.api = api
        self.namer = Namer(
            lambda words: pascal(words, GO_INITIALISMS),
            go_fix_type,
            "Model",
            taken=("Nullable", "Value", "Null", *_GO_METHOD_NAMES),
        )
        self.type_names = {named.name: self.namer.claim(named.name) for named in api.types}
        self.pointer_fields = self._recursive_fields()

    def _struct_target(self, t: ir.Type) -> str | None:
        """The struct a field embeds by value, following aliases; None for anything else."""
        seen = set()
        while isinstance(t, ir.NamedRef) and t.name not in seen:
            seen.add(t.name)
            definition = self.api.types_by_name[t.name].definition
            if isinstance(definition, ir.ObjectDef):
                return t.name
            if not isinstance(definition, ir.AliasDef):
                return None
            t = definition.target
        return None

    def _recursive_fields(self) -> set[tuple[str, str]]:
        """Fields that hold a struct by value on a cycle back to their own struct. Go rejects such
        types ("invalid recursive type"), so these fields hold a pointer instead."""
        edges: dict[str, list[str]] = {}
        by_value: dict[tuple[str, str], str] = {}
        for named in self.api.types:
            if not isinstance(named.definition, ir.ObjectDef):
                continue
            targets = edges.setdefault(named.name, [])
            for f in named.definition.fields:
                embedded = f.type.inner if isinstance(f.type, ir.Nullable) and not f.required else f.type
                target = None if (f.nullable and f.required) else self._struct_target(embedded)
                if target is not None and (f.required or f.nullable):
                    targets.append(target)
                    by_value[(named.name, f.wire_name)] = target
        cyclic = cyclic_edges(edges)
        return {key for key, target in by_value.items() if (key[0], target) in cyclic}

    def expr(self, t: ir.Type) -> str:
        if isinstance(t, ir.PrimitiveType):
            return _PRIMS[t.kind]
        if isinstance(t, ir.ConstType):
            return _const_go_type(t.value)
        if isinstance(t, ir.ArrayType):
            return "[]" + self.expr(t.items)
        if isinstance(t, ir.MapType):
            return "map[string]" + self.expr(t.values)
        if isinstance(t, ir.NamedRef):
            return self.type_names[t.name]
        # A null inside a collection: a pointer for scalars and structs, as-is where nil exists.
        inner = self.expr(t.inner)
        return inner if _has_nil(inner) else "*" + inner

    def nilable(self, t: ir.Type) -> bool:
        """Whether the Go type of t has nil (slices, maps, any), looking through aliases."""
        seen = set()
        while isinstance(t, ir.NamedRef) and t.name not in seen:
            seen.add(t.name)
            definition = self.api.types_by_name[t.name].definition
            if not isinstance(definition, ir.AliasDef):
                return False
            t = definition.target
        if isinstance(t, ir.PrimitiveType):
            return t.kind is ir.Prim.ANY or _PRIMS[t.kind] == "[]byte"
        return isinstance(t, (ir.ArrayType, ir.MapType))

    def field_type(self, owner: str, f: ir.Field) -> tuple[str, str]:
        """The Go type and the JSON tag options of a field of the named type `owner`."""
        base = f.type.inner if isinstance(f.type, ir.Nullable) else f.type
        go = self.expr(base)
        if (owner, f.wire_name) in self.pointer_fields:
            go = "*" + go
        has_nil = go.startswith("*") or self.nilable(base)
        if f.nullable and not f.required:
            return f"Nullable[{go}]", ",omitzero"
        if f.nullable:
            return (go if has_nil else "*" + go), ""
        if f.required:
            return go, ""
        if has_nil:
            # omitzero leaves out nil but sends an empty slice or map; `any` uses omitempty (nil).
            return go, ",omitempty" if go == "any" else ",omitzero"
        return "*" + go, ",omitempty"


def _has_nil(go_type: str) -> bool:
    return go_type.startswith(("[]", "map[", "*")) or go_type == "any"


def _const_go_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    return "string"


def _presence(name: str, go_type: str, tag_options: str) -> str:
    if not tag_options:
        return ""
    if go_type.startswith("Nullable["):
        return f"!m.{name}.IsZero()"
    return f"m.{name} != nil"


def _struct(types: _GoTypes, named: ir.NamedType, obj: ir.ObjectDef) -> GoStruct:
    name = types.type_names[named.name]
    namer = Namer(lambda w: pascal(w, GO_INITIALISMS), go_fix_type, "Field", taken=_GO_METHOD_NAMES)
    custom = obj.additional is not None or any(not _TAG_SAFE.match(f.wire_name) for f in obj.fields)
    fields = []
    for f in obj.fields:
        field_name = namer.claim(f.wire_name)
        go_type, options = types.field_type(named.name, f)
        doc = _doc(f.docs.text, f"{field_name} is the {f.wire_name!r} property.")
        if f.read_only:
            doc += ["//", "// Read-only: set by the server and ignored in requests."]
        if f.docs.deprecated:
            doc += ["//", "// Deprecated: the contract marks this property as deprecated."]
        tag = "" if custom else f'`json:"{f.wire_name}{options}"`'
        fields.append(
            GoField(
                name=field_name,
                type=go_type,
                tag=tag,
                doc=doc,
                wire=go_string(f.wire_name),
                presence=_presence(field_name, go_type, options),
            )
        )
    doc = _doc(named.docs.text, f"{name} is the {named.name} schema of the contract.")
    if named.docs.deprecated:
        doc += ["//", "// Deprecated: the contract marks this schema as deprecated."]
    return GoStruct(
        name=name,
        doc=doc,
        fields=fields,
        custom_json=custom,
        additional_type=types.expr(obj.additional) if obj.additional is not None else "",
    )


def _enum(types: _GoTypes, named: ir.NamedType, enum: ir.EnumDef) -> GoEnum:
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
                name=const_name, literal=literal, doc=_doc(value.docs.text, f"{const_name} is {literal}.")
            )
        )
    doc = _doc(named.docs.text, f"{name} is the {named.name} enum of the contract.")
    doc += ["//", "// Servers may add values: a value not listed here is kept as is, not rejected."]
    return GoEnum(name=name, base=base, doc=doc, consts=consts)


_KIND = {
    ir.Prim.BOOLEAN: "jsonKindBool",
    ir.Prim.ANY: "jsonKindInvalid",
}


def _json_kind(api: ir.Api, t: ir.Type) -> str:
    if isinstance(t, ir.PrimitiveType):
        if t.kind in (ir.Prim.INTEGER, ir.Prim.INT32, ir.Prim.INT64, ir.Prim.FLOAT, ir.Prim.DOUBLE):
            return "jsonKindNumber"
        return _KIND.get(t.kind, "jsonKindString")
    if isinstance(t, ir.ConstType):
        if isinstance(t.value, bool):
            return "jsonKindBool"
        return "jsonKindString" if isinstance(t.value, str) else "jsonKindNumber"
    if isinstance(t, ir.ArrayType):
        return "jsonKindArray"
    if isinstance(t, ir.MapType):
        return "jsonKindObject"
    if isinstance(t, ir.NamedRef):
        definition = api.types_by_name[t.name].definition
        if isinstance(definition, ir.EnumDef):
            return "jsonKindString" if definition.base is ir.Prim.STRING else "jsonKindNumber"
        if isinstance(definition, ir.AliasDef):
            return _json_kind(api, definition.target)
        if isinstance(definition, ir.UnionDef):
            return "jsonKindInvalid"  # nested union: decided by trying it
        return "jsonKindObject"
    return _json_kind(api, t.inner) if isinstance(t, ir.Nullable) else "jsonKindInvalid"


def _variant_label(types: _GoTypes, t: ir.Type) -> str:
    if isinstance(t, ir.NamedRef):
        return types.type_names[t.name]
    if isinstance(t, ir.ArrayType):
        return _variant_label(types, t.items) + " list"
    if isinstance(t, ir.MapType):
        return _variant_label(types, t.values) + " map"
    if isinstance(t, ir.Nullable):
        return _variant_label(types, t.inner)
    expr = types.expr(t)
    return {"time.Time": "Time", "[]byte": "Bytes", "any": "JSON"}.get(expr, expr)


def _union(types: _GoTypes, named: ir.NamedType, union: ir.UnionDef) -> GoUnion:
    name = types.type_names[named.name]
    namer = Namer(lambda w: pascal(w, GO_INITIALISMS), go_fix_type, "Variant", taken=_GO_METHOD_NAMES)
    variants = []
    for variant in union.variants:
        label = (
            variant.tags[0] if variant.tags and union.discriminator else _variant_label(types, variant.type)
        )
        required: list[str] = []
        if isinstance(variant.type, ir.NamedRef):
            definition = types.api.types_by_name[variant.type.name].definition
            if isinstance(definition, ir.ObjectDef):
                required = [go_string(f.wire_name) for f in definition.fields if f.required]
        kind = _json_kind(types.api, variant.type)
        checks = [] if kind == "jsonKindInvalid" else [f"kind == {kind}"]
        if required:
            checks.append(f"hasKeys(fields, {', '.join(required)})")
        condition = " && ".join(checks)
        field_name = namer.claim(label)
        when = (
            f"{field_name} is set when {union.discriminator} is {', '.join(repr(t) for t in variant.tags)}."
            if union.discriminator and variant.tags
            else f"{field_name} is set when the value decodes as {_variant_label(types, variant.type)}."
        )
        variants.append(
            GoVariant(
                field=field_name,
                doc=line_comment(when, "//"),
                type=types.expr(variant.type),
                tags=[go_string(tag) for tag in variant.tags],
                condition=condition,
            )
        )
    doc = _doc(named.docs.text, f"{name} is the {named.name} union of the contract.")
    doc += [
        "//",
        "// Exactly one field is set. A variant this SDK does not know is kept in Unknown as raw JSON.",
    ]
    return GoUnion(
        name=name,
        doc=doc,
        variants=variants,
        discriminator=go_string(union.discriminator) if union.discriminator else "",
        needs_fields=any("hasKeys" in v.condition for v in variants),
        needs_kind=any("kind ==" in v.condition for v in variants),
    )


def build_models(api: ir.Api, package: str) -> GoModels:
    types = _GoTypes(api)
    models = GoModels(package=package, imports=[])
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
                    doc=_doc(named.docs.text, f"{name} is the {named.name} schema of the contract."),
                    target=types.expr(definition.target),
                )
            )
    rendered_types = [f.type for s in models.structs for f in s.fields]
    rendered_types += [s.additional_type for s in models.structs]
    rendered_types += [v.type for u in models.unions for v in u.variants] + [a.target for a in models.aliases]
    imports = set()
    if models.unions or any(s.custom_json for s in models.structs):
        imports.add("encoding/json")
    if any("time.Time" in t for t in rendered_types):
        imports.add("time")
    models.imports = sorted(imports)
    return models


def _gofmt(directory) -> None:  # type: ignore[no-untyped-def]
    run_tool(["gofmt", "-w", "."], directory, "format the Go SDK")


def plan(api: ir.Api, options: Options) -> LanguagePlan:
    words = package_words(api, options.package_name)
    package = "".join(w.lower() for w in words)
    if not package[:1].isalpha():
        package = "sdk" + package
    module = options.go_module or f"github.com/polysdk/{snake(words).replace('_', '-')}-sdk-go"
    context = {
        "package": package,
        "module": module,
        "go_version": GO_VERSION,
        "title": go_string(api.title),
        "version": go_string(options.sdk_version),
        "api_version": go_string(api.version),
        "doc": line_comment(api.docs.text, "//"),
        "title_doc": line_comment(f"Package {package} is a client for the {api.title} API.", "//")[0],
        "models": build_models(api, package),
    }
    result = LanguagePlan(language="go")
    result.files = [
        TemplateFile("go/go.mod.j2", "go.mod", context),
        TemplateFile("go/doc.go.j2", "doc.go", context),
        TemplateFile("go/models.go.j2", "models.go", context),
    ]
    clause = ("package polysdk", f"package {package}")
    for runtime in ("nullable.go", "nullable_test.go", "union.go", "union_test.go"):
        result.runtime.append(RuntimeFile(f"go/runtime/{runtime}", runtime, (clause,)))
    result.formatter = _gofmt
    return result
