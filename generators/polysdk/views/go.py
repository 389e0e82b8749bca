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

The client layer (see decisions/ for the language-neutral decisions): one service per tag
(`client.Agents`), one method per operation named from its operationId without the tag's words
(listAgents → Agents.List), `ctx` first, a `XxxParams` struct when the operation has parameters or a
body, per-call options last. Each method's request is built by an unexported builder from Go
statements precomputed here; the hand-written runtime (templates/go/runtime) sends it with retries,
decodes it, paginates (XxxPages, XxxAll as iter.Seq2) and streams server-sent events.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from polysdk import ir
from polysdk.decisions import Decisions, OperationShape, package_words
from polysdk.literals import comment_lines, go_string, line_comment
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
from polysdk.views.common import method_words
from polysdk.walks import cyclic_edges

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


# Exported identifiers of the hand-written runtime and of client.go; no generated type may use them.
RUNTIME_EXPORTS = (
    "Nullable",
    "Value",
    "Null",
    "Option",
    "RequestOption",
    "File",
    "APIError",
    "TimeoutError",
    "CancelledError",
    "ConnectionError",
    "DecodeError",
    "InvalidRequestError",
    "ErrorKind",
    "IsStatus",
    "ErrBadRequest",
    "ErrUnauthorized",
    "ErrForbidden",
    "ErrNotFound",
    "ErrConflict",
    "ErrPayloadTooLarge",
    "ErrUnprocessableEntity",
    "ErrRateLimited",
    "ErrInternalServer",
    "ErrServiceUnavailable",
    "WithBaseURL",
    "WithBearerToken",
    "WithAPIKey",
    "WithHTTPClient",
    "WithTimeout",
    "WithMaxRetries",
    "WithHeader",
    "WithUserAgent",
    "WithIdempotencyKey",
    "WithResponseInto",
    "WithAttemptsInto",
    "Client",
    "NewClient",
    "DefaultBaseURL",
    "EnvBaseURL",
    "EnvAPIKey",
    "EnvBearerToken",
    "UserAgent",
    "SDKVersion",
    "APIVersion",
)


class _GoTypes:
    """Turns IR types into Go type expressions, with names assigned once per package."""

    def __init__(self, api: ir.Api) -> None:
        self.api = api
        self.namer = Namer(
            lambda words: pascal(words, GO_INITIALISMS),
            go_fix_type,
            "Model",
            taken=(*RUNTIME_EXPORTS, *_GO_METHOD_NAMES),
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


def build_models(api: ir.Api, package: str, types: _GoTypes | None = None) -> GoModels:
    types = types or _GoTypes(api)
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


# ---------------------------------------------------------------------------------------------
# Client and operations

_BEARER_KINDS = frozenset({"http-bearer", "oauth2", "openid"})


@dataclass
class GoParamField:
    name: str
    type: str
    doc: list[str]


@dataclass
class GoMethod:
    """One exported method of a service: its signature and its body, as Go lines."""

    name: str
    doc: list[str]
    params: str  # the parameter list after ctx, e.g. "params ListAgentsParams, " or ""
    returns: str
    body: list[str]


@dataclass
class GoOperation:
    operation_id: str
    http_method: str  # Go literal
    builder: str  # unexported method building the request
    params_type: str  # "" when the operation takes no parameters
    params_doc: list[str]
    fields: list[GoParamField]
    builder_arg: str  # "params ListAgentsParams" or ""
    build: list[str]  # Go statements building `r`
    methods: list[GoMethod]


@dataclass
class GoService:
    field: str  # the Client field
    type: str
    doc: list[str]
    operations: list[GoOperation]


@dataclass
class GoClient:
    package: str
    imports: list[str]
    services: list[GoService]
    base_url: str  # Go literal
    env_prefix: str  # plain, e.g. ORCHESTRATOR
    env_base_url: str
    env_api_key: str
    env_bearer_token: str
    user_agent: str
    bearer: str  # "true" or "false"
    api_key_in: str  # Go literal
    api_key_name: str  # Go literal


def _exported(ident: str) -> str:
    return "N" + ident if not ident[:1].isalpha() else ident


def _unexported(name: str) -> str:
    return name[:1].lower() + name[1:]


_PATH_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/%")


def _escape_path_literal(text: str) -> str:
    out = []
    for char in text:
        if char in _PATH_SAFE:
            out.append(char)
        else:
            out.extend(f"%{b:02X}" for b in char.encode("utf-8"))
    return "".join(out)


class _OperationBuilder:
    def __init__(self, types: _GoTypes, models: GoModels) -> None:
        self.types = types
        self.api = types.api
        self.struct_fields = {s.name: {f.wire: f for f in s.fields} for s in models.structs}
        self.uses: set[str] = set()

    def param_type(self, t: ir.Type, required: bool) -> str:
        base = t.inner if isinstance(t, ir.Nullable) else t
        go = self.types.expr(base)
        if required or self.types.nilable(base) or go.startswith(("[]", "map[", "*")) or go == "any":
            return go
        return "*" + go

    def _object_name(self, t: ir.Type | None) -> str | None:
        seen: set[str] = set()
        while isinstance(t, ir.NamedRef) and t.name not in seen:
            seen.add(t.name)
            definition = self.api.types_by_name[t.name].definition
            if isinstance(definition, ir.ObjectDef):
                return t.name
            t = definition.target if isinstance(definition, ir.AliasDef) else None
        return None

    def _field(self, t: ir.Type | None, wire: str) -> GoField | None:
        name = self._object_name(t)
        if name is None:
            return None
        return self.struct_fields.get(self.types.type_names[name], {}).get(go_string(wire))

    def operation(self, shape: OperationShape, method_name: str, builder: str) -> GoOperation:
        op = shape.operation
        namer = Namer(lambda w: pascal(w, GO_INITIALISMS), go_fix_type, "Param")
        fields: list[GoParamField] = []
        build: list[str] = []

        def add_field(wire: str, go_type: str, doc: list[str]) -> str:
            name = namer.claim(wire)
            fields.append(GoParamField(name=name, type=go_type, doc=doc))
            return name

        def param_doc(param: ir.Param, name_hint: str) -> list[str]:
            where = {"path": "path", "query": "query", "header": "header", "cookie": "cookie"}[
                param.location.value
            ]
            doc = _doc(param.docs.text, f"The {param.wire_name!r} {where} parameter.")
            doc += line_comment(
                f"Sent as the {where} parameter {param.wire_name!r}"
                + ("; required." if param.required else "; optional, left out when nil."),
                "//",
            )
            if param.docs.deprecated:
                doc += ["//", "// Deprecated: the contract marks this parameter as deprecated."]
            return doc

        # Path: literal parts escaped here, parameters escaped as one segment at run time.
        path_params = {p.wire_name: p for p in shape.path_params}
        path_fields: dict[str, str] = {}
        for param in shape.path_params:
            path_fields[param.wire_name] = add_field(
                param.wire_name, self.param_type(param.type, True), param_doc(param, "")
            )
        pieces: list[str] = []
        for index, part in enumerate(re.split(r"\{([^{}]*)\}", op.http.path)):
            if index % 2 == 1 and part in path_params:
                pieces.append(f"r.pathSegment({go_string(part)}, params.{path_fields[part]})")
            else:
                literal = _escape_path_literal(part if index % 2 == 0 else "{" + part + "}")
                if literal:
                    pieces.append(go_string(literal))
        build.append("r.path = " + (" + ".join(pieces) or '""'))
        for param in shape.query_params:
            name = add_field(
                param.wire_name, self.param_type(param.type, param.required), param_doc(param, "")
            )
            style = param.style or "form"
            build.append(
                f"r.query.add({go_string(param.wire_name)}, {go_string(style)}, "
                f"{'true' if param.explode else 'false'}, params.{name})"
            )
        for param in shape.header_params:
            name = add_field(
                param.wire_name, self.param_type(param.type, param.required), param_doc(param, "")
            )
            build.append(f"r.setHeader({go_string(param.wire_name)}, params.{name})")
        for param in shape.cookie_params:
            name = add_field(
                param.wire_name, self.param_type(param.type, param.required), param_doc(param, "")
            )
            build.append(f"r.addCookie({go_string(param.wire_name)}, params.{name})")
        resume = shape.streaming.resume_header if shape.streaming else None
        if resume:
            name = add_field(
                "last event id",
                "string",
                line_comment(
                    f"LastEventID resumes the stream after this event id (sent as {resume!r}); "
                    "reconnects after a dropped connection send the last id received.",
                    "//",
                ),
            )
            build += [f'if params.{name} != "" {{', f"\tr.setHeader({go_string(resume)}, params.{name})", "}"]
        if shape.body is not None:
            build += self._body(shape, add_field)
        build.append(f"r.authenticated = {'true' if shape.authenticated else 'false'}")
        if shape.authenticated:
            kinds = {s.name: s.kind for s in self.api.security_schemes}
            accepted = {kinds.get(name, "") for alternative in op.security for name in alternative}
            if accepted and not accepted & _BEARER_KINDS:
                build.append("r.noBearer = true")
            if accepted and "api-key" not in accepted:
                build.append("r.noAPIKey = true")
        build.append(f"r.retryable = {'true' if shape.retryable else 'false'}")
        if shape.idempotency_header:
            build.append(f"r.idempotencyHeader = {go_string(shape.idempotency_header)}")
        result = shape.result
        if result.kind == "binary":
            build.append("r.streamed = true")
        if result.media_type and result.kind != "sse":
            build.append(f"r.accept = {go_string(result.media_type)}")

        params_type = self.types.namer.claim(f"{op.id} params") if fields else ""
        params_arg = f"params {params_type}, " if fields else ""
        builder_arg = f"params {params_type}" if fields else ""
        call_args = "params" if fields else ""
        doc = line_comment(f"{method_name} calls {op.id} ({op.http.method} {op.http.path}).", "//")
        summary = op.docs.summary.strip()
        if summary and summary[-1:].isalnum():
            summary += "."  # a one-line paragraph without a period would become a heading
        parts = [summary] if summary and op.docs.summary not in op.docs.description else []
        parts += [op.docs.description] if op.docs.description else []
        text = "\n\n".join(parts)
        if text:
            doc += ["//", *line_comment(text, "//")]
        statuses = [e.status for e in shape.errors]
        if statuses:
            doc += [
                "//",
                *line_comment(
                    f"Documented error statuses: {', '.join(statuses)}; each arrives as an *APIError "
                    "(errors.Is matches ErrNotFound and the other Err values).",
                    "//",
                ),
            ]
        if op.docs.deprecated:
            doc += ["//", "// Deprecated: the contract marks this operation as deprecated."]
        methods = self._methods(shape, method_name, doc, params_arg, builder, call_args)
        params_doc = line_comment(
            f"{params_type} holds the parameters of {method_name} ({op.id}). Nil pointers are left out.", "//"
        )
        return GoOperation(
            operation_id=op.id,
            http_method=go_string(op.http.method),
            builder=builder,
            params_type=params_type,
            params_doc=params_doc,
            fields=fields,
            builder_arg=builder_arg,
            build=build,
            methods=methods,
        )

    def _body(self, shape: OperationShape, add_field) -> list[str]:  # type: ignore[no-untyped-def]
        body = shape.body
        assert body is not None
        media = go_string(body.media_type)
        body_doc = line_comment(
            (shape.operation.body.docs.text if shape.operation.body else "")
            or f"The request body ({body.media_type}).",
            "//",
        )
        if body.kind == "binary" or (body.kind == "multipart" and self._object_name(body.type) is None):
            self.uses.add("io")
            name = add_field(
                "body",
                "io.Reader",
                [*body_doc, "//", "// Streamed as is; a retry resends it only when it is an io.Seeker."],
            )
            return [f"r.readerBody({media}, params.{name}, {'true' if body.required else 'false'})"]
        if body.kind == "multipart":
            return self._multipart(shape, add_field)
        if body.kind == "text":
            go_type = "string" if body.required else "*string"
            name = add_field("body", go_type, body_doc)
            if body.required:
                return [f"r.textBody({media}, params.{name})"]
            return [f"if params.{name} != nil {{", f"\tr.textBody({media}, *params.{name})", "}"]
        go_type = self.types.expr(body.type) if body.type is not None else "any"
        if body.type is not None and isinstance(body.type, ir.Nullable):
            go_type = self.types.expr(body.type.inner)
        nilable = (
            go_type.startswith(("[]", "map[", "*"))
            or go_type == "any"
            or (body.type is not None and self.types.nilable(body.type))
        )
        if not body.required and not nilable:
            go_type = "*" + go_type
        name = add_field(
            "body",
            go_type,
            body_doc + (["//", "// Optional: nil sends no body."] if not body.required else []),
        )
        call = "r.formBody" if body.kind == "form" else "r.jsonBody"
        if body.required:
            return [f"{call}({media}, params.{name})"]
        return [f"if params.{name} != nil {{", f"\t{call}({media}, params.{name})", "}"]

    def _multipart(self, shape: OperationShape, add_field) -> list[str]:  # type: ignore[no-untyped-def]
        body = shape.body
        assert body is not None
        object_name = self._object_name(body.type)
        assert object_name is not None
        definition = self.api.types_by_name[object_name].definition
        assert isinstance(definition, ir.ObjectDef)
        encodings: dict[str, str] = {}
        if shape.operation.body is not None:
            for content in shape.operation.body.contents:
                if content.media_type == body.media_type:
                    encodings = {e.part: e.content_type for e in content.encodings}
        lines = ["m := r.multipart()"]
        for f in definition.fields:
            base = f.type.inner if isinstance(f.type, ir.Nullable) else f.type
            content_type = go_string(encodings.get(f.wire_name, ""))
            doc = _doc(f.docs.text, f"The {f.wire_name!r} part.")
            if isinstance(base, ir.PrimitiveType) and base.kind is ir.Prim.BINARY:
                name = add_field(f.wire_name, "*File", doc)
                lines.append(
                    f"m.file({go_string(f.wire_name)}, params.{name}, {content_type}, "
                    f"{'true' if f.required else 'false'})"
                )
            else:
                name = add_field(f.wire_name, self.param_type(f.type, f.required), doc)
                lines.append(f"m.field({go_string(f.wire_name)}, params.{name}, {content_type})")
        lines.append("m.done()")
        return lines

    def _methods(
        self, shape: OperationShape, name: str, doc: list[str], params_arg: str, builder: str, call_args: str
    ) -> list[GoMethod]:
        result = shape.result
        request = f"s.{builder}({call_args})"
        send = [f"resp, err := s.core.send(ctx, {request}, opts)"]
        if result.kind == "sse":
            self.uses.add("iter")
            event = self.types.expr(result.type) if result.type is not None else "json.RawMessage"
            if result.type is None:
                self.uses.add("encoding/json")
            resume = go_string(shape.streaming.resume_header or "") if shape.streaming else '""'
            doc = [
                *doc,
                "//",
                "// The events are read lazily as the loop runs; breaking out closes the stream.",
            ]
            return [
                GoMethod(
                    name,
                    doc,
                    params_arg,
                    f"iter.Seq2[{event}, error]",
                    [f"return stream[{event}](ctx, s.core, {request}, opts, {resume})"],
                )
            ]
        if result.kind == "empty":
            body = [*send, "if err != nil {", "\treturn err", "}", "discard(resp)", "return nil"]
            return [GoMethod(name, doc, params_arg, "error", body)]
        if result.kind == "text":
            body = [*send, "if err != nil {", '\treturn "", err', "}", "return decodeText(resp)"]
            return [GoMethod(name, doc, params_arg, "(string, error)", body)]
        if result.kind == "binary":
            self.uses.add("io")
            doc = [*doc, "//", "// The caller reads the returned body as a stream and must close it."]
            body = [*send, "if err != nil {", "\treturn nil, err", "}", "return resp.Body, nil"]
            return [GoMethod(name, doc, params_arg, "(io.ReadCloser, error)", body)]
        go_type = self.types.expr(result.type) if result.type is not None else "json.RawMessage"
        if result.type is None:
            self.uses.add("encoding/json")
        elif isinstance(result.type, ir.Nullable):
            go_type = self.types.expr(result.type.inner)
        nilable = (
            go_type.startswith(("[]", "map[", "*"))
            or go_type in ("any", "json.RawMessage")
            or (result.type is not None and self.types.nilable(result.type))
        )
        if result.may_be_empty:
            body = [
                *send,
                "if err != nil {",
                "\treturn nil, err",
                "}",
                f"return decodeOptionalJSON[{go_type}](resp)",
            ]
            doc = [*doc, "//", "// A response without a body (such as 204) returns nil and no error."]
            methods = [GoMethod(name, doc, params_arg, f"(*{go_type}, error)", body)]
        elif nilable:
            body = [
                *send,
                "if err != nil {",
                "\treturn nil, err",
                "}",
                f"value, _, err := decodeJSON[{go_type}](resp)",
                "if err != nil {",
                "\treturn nil, err",
                "}",
                "return value, nil",
            ]
            methods = [GoMethod(name, doc, params_arg, f"({go_type}, error)", body)]
        else:
            body = [
                *send,
                "if err != nil {",
                "\treturn nil, err",
                "}",
                f"value, _, err := decodeJSON[{go_type}](resp)",
                "if err != nil {",
                "\treturn nil, err",
                "}",
                "return &value, nil",
            ]
            methods = [GoMethod(name, doc, params_arg, f"(*{go_type}, error)", body)]
        paging = self._pagination(shape, go_type)
        if paging is not None and not result.may_be_empty:
            item_type, next_call, items_expr = paging
            self.uses.update({"iter", "net/http"})
            pages_body = [
                f"return pages(ctx, s.core, {request}, opts, decodePage[{go_type}], "
                f"func(page *{go_type}, resp *http.Response, r *request) *request {{",
                f"\treturn {next_call}",
                "})",
            ]
            all_body = [
                f"return all(s.{name}Pages(ctx, {call_args + ', ' if call_args else ''}opts...), "
                f"func(page *{go_type}) []{item_type} {{",
                f"\treturn {items_expr}",
                "})",
            ]
            paging_style = shape.pagination.style if shape.pagination else ""
            methods.append(
                GoMethod(
                    f"{name}Pages",
                    line_comment(
                        f"{name}Pages iterates over the pages of {shape.operation.id}, requesting each "
                        f"page only when the loop asks for it ({paging_style} pagination).",
                        "//",
                    ),
                    params_arg,
                    f"iter.Seq2[*{go_type}, error]",
                    pages_body,
                )
            )
            methods.append(
                GoMethod(
                    f"{name}All",
                    line_comment(
                        f"{name}All iterates over the items of every page of {shape.operation.id}, lazily. "
                        "An error ends the iteration.",
                        "//",
                    ),
                    params_arg,
                    f"iter.Seq2[{item_type}, error]",
                    all_body,
                )
            )
        return methods

    def _pagination(self, shape: OperationShape, page_type: str) -> tuple[str, str, str] | None:
        """The item type, the next-request expression and the items expression of a paginated
        operation; None when the view cannot express the contract's pagination."""
        p = shape.pagination
        if p is None:
            return None
        item_type = self.types.expr(p.item_type)
        if p.style == "link":
            if shape.result.type is None or not self.types.nilable(shape.result.type):
                return None
            return item_type, "nextLink(r, resp)", "*page"
        if p.items_field is None:
            return None
        items = self._field(shape.result.type, p.items_field)
        if items is None or items.type.startswith("*"):
            return None
        items_expr = (
            f"valueOf(page.{items.name})" if items.type.startswith("Nullable[") else f"page.{items.name}"
        )
        if p.style == "cursor" and p.cursor_param and p.next_cursor_field:
            cursor = self._field(shape.result.type, p.next_cursor_field)
            if cursor is None:
                return None
            has_more = self._field(shape.result.type, p.has_more_field) if p.has_more_field else None
            more = f"page.{has_more.name}" if has_more is not None else "nil"
            return (
                item_type,
                f"nextCursor(r, {go_string(p.cursor_param)}, page.{cursor.name}, {more})",
                items_expr,
            )
        if p.style == "offset" and p.offset_param:
            total = self._field(shape.result.type, p.total_field) if p.total_field else None
            limit = go_string(p.limit_param or "")
            total_expr = f"page.{total.name}" if total is not None else "nil"
            next_call = (
                f"nextOffset(r, {go_string(p.offset_param)}, len({items_expr}), {limit}, {total_expr})"
            )
            return item_type, next_call, items_expr
        return None


@dataclass
class GoExample:
    """One README example, also an Example function run by `go test` against an httptest server."""

    name: str  # Example function name
    title: str  # README heading
    intro: str  # README text before the code (plain text, generated)
    handler: list[str]  # the body of the test server's handler (w, r)
    code: list[str]  # the example's code after the server is set up (shown in the README)
    output: list[str]  # the expected output lines
    imports: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)  # lines before the server starts


@dataclass
class GoDocs:
    package: str
    module: str
    title: str  # plain text, one line
    examples: list[GoExample]
    env_base_url: str  # plain names
    env_api_key: str
    env_bearer_token: str
    imports: list[str] = field(default_factory=list)


def _sample(api: ir.Api, t: ir.Type | None, seen: frozenset[str] = frozenset()) -> object:
    """A small JSON value that decodes as type t (for the examples' fake servers)."""
    if t is None:
        return {}
    if isinstance(t, ir.Nullable):
        return _sample(api, t.inner, seen)
    if isinstance(t, ir.ConstType):
        return t.value
    if isinstance(t, ir.ArrayType):
        return []
    if isinstance(t, ir.MapType):
        return {}
    if isinstance(t, ir.PrimitiveType):
        return {
            ir.Prim.BOOLEAN: True,
            ir.Prim.INTEGER: 1,
            ir.Prim.INT32: 1,
            ir.Prim.INT64: 1,
            ir.Prim.FLOAT: 1.5,
            ir.Prim.DOUBLE: 1.5,
            ir.Prim.DATE_TIME: "2025-01-01T00:00:00Z",
            ir.Prim.ANY: {},
            ir.Prim.BYTES: "",
        }.get(t.kind, "x")
    if t.name in seen:
        return {}
    definition = api.types_by_name[t.name].definition
    if isinstance(definition, ir.EnumDef):
        return definition.values[0].value if definition.values else ""
    if isinstance(definition, ir.AliasDef):
        return _sample(api, definition.target, seen | {t.name})
    if isinstance(definition, ir.UnionDef):
        tagged = next((v for v in definition.variants if v.tags), None)
        if definition.discriminator and tagged is not None:
            return {definition.discriminator: tagged.tags[0]}
        return _sample(api, definition.variants[0].type, seen | {t.name}) if definition.variants else {}
    return {}


_PLAIN_GO = {"string": '"id_123"', "int64": "1", "int32": "1"}


def _call_params(shape: OperationShape, operation: GoOperation, package: str) -> str | None:
    """A Go expression for the operation's parameters with every required path parameter set,
    or None when the example cannot build them simply."""
    if not operation.params_type:
        return ""
    if shape.body is not None and shape.body.kind in ("binary", "multipart") and shape.body.required:
        return None
    values = []
    for _param, f in zip(shape.path_params, operation.fields, strict=False):
        literal = _PLAIN_GO.get(f.type)
        if literal is None:
            return None
        values.append(f"{f.name}: {literal}")
    return f"{package}.{operation.params_type}{{{', '.join(values)}}}, "


def build_docs(
    api: ir.Api,
    package: str,
    module: str,
    client: GoClient,
    chosen: list[tuple[OperationShape, str, GoOperation]],
) -> GoDocs:
    alias = package
    examples: list[GoExample] = []

    def new_client(*extra: str) -> str:
        options = [f"{alias}.WithBaseURL(server.URL)", f'{alias}.WithAPIKey("my-api-key")', *extra]
        return f"client := {alias}.NewClient({', '.join(options)})"

    def call(svc: str, method: GoMethod, args: str, *extra: str) -> str:
        arguments = ", ".join(a for a in ("context.Background()", args.rstrip(", "), *extra) if a)
        result = "err" if method.returns == "error" else "_, err"
        return f"{result} := client.{svc}.{method.name}({arguments})"

    candidates = []
    for index, (shape, svc, operation) in enumerate(chosen):
        args = _call_params(shape, operation, alias)
        if args is None or shape.result.kind not in ("json", "empty", "text"):
            continue
        rank = (
            not shape.retryable,
            shape.operation.http.method != "GET",
            not shape.path_params,
            shape.result.kind != "json",
            index,
        )
        candidates.append((rank, shape, svc, operation, args))
    if candidates:
        _, shape, svc, operation, args = min(candidates, key=lambda c: c[0])
        method = operation.methods[0]
        problem = json.dumps(
            {
                "title": "Not found",
                "status": 404,
                "code": "not_found",
                "detail": "No such resource.",
                "request_id": "req_123",
            }
        )
        examples.append(
            GoExample(
                name="Example_errors",
                title="Errors",
                intro=(
                    "Every failure is an error from one taxonomy. A non-2xx response is an `*APIError` "
                    "(match it with `errors.As`) carrying the status, the error code, the message, the "
                    "request id, the headers and the raw body; `errors.Is` matches statuses such as "
                    "`ErrNotFound`. "
                    "Timeouts, cancellations, connection and decode failures have their own types; "
                    "`ErrorKind` names them."
                ),
                handler=[
                    'w.Header().Set("Content-Type", "application/problem+json")',
                    "w.WriteHeader(http.StatusNotFound)",
                    f"_, _ = io.WriteString(w, {go_string(problem)})",
                ],
                code=[
                    new_client(),
                    call(svc, method, args),
                    f"var apiErr *{alias}.APIError",
                    "if errors.As(err, &apiErr) {",
                    "\tfmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Message, apiErr.RequestID)",
                    "}",
                    f"fmt.Println(errors.Is(err, {alias}.ErrNotFound), {alias}.ErrorKind(err))",
                ],
                output=["404 not_found No such resource. req_123", "true api"],
                imports=["errors", "io"],
            )
        )
        if shape.result.kind == "empty":
            ok_lines = ["w.WriteHeader(http.StatusNoContent)"]
        elif shape.result.kind == "text":
            ok_lines = ['w.Header().Set("Content-Type", "text/plain")', '_, _ = io.WriteString(w, "ok")']
        else:
            ok_lines = [
                'w.Header().Set("Content-Type", "application/json")',
                f"_, _ = io.WriteString(w, {go_string(json.dumps(_sample(api, shape.result.type)))})",
            ]
        examples += (
            []
            if not shape.retryable
            else [
                GoExample(
                    name="Example_retries",
                    title="Retries",
                    intro=(
                        "Connection errors and 408, 409, 429, 500, 502, 503 and 504 responses are "
                        "retried (2 retries by default) with exponential backoff and jitter, honouring "
                        "Retry-After and Retry-After-Ms. A non-idempotent operation is retried only when it "
                        "carries an idempotency key, which the SDK generates once per call. "
                        "`WithAttemptsInto` reports the number of attempts, `WithResponseInto` the raw "
                        "`*http.Response`."
                    ),
                    handler=[
                        "if calls.Add(1) == 1 {",
                        '\tw.Header().Set("Retry-After-Ms", "10")',
                        "\tw.WriteHeader(http.StatusServiceUnavailable)",
                        "\treturn",
                        "}",
                        *ok_lines,
                    ],
                    code=[
                        new_client(f"{alias}.WithMaxRetries(3)"),
                        "var attempts int",
                        "var raw *http.Response",
                        call(
                            svc,
                            method,
                            args,
                            f"{alias}.WithAttemptsInto(&attempts)",
                            f"{alias}.WithResponseInto(&raw)",
                        ),
                        "fmt.Println(err, attempts, raw.StatusCode)",
                    ],
                    output=[f"<nil> 2 {200 if shape.result.kind != 'empty' else 204}"],
                    imports=["io", "sync/atomic"],
                    setup=["var calls atomic.Int32"],
                )
            ]
        )
    for shape, svc, operation in chosen:
        args = _call_params(shape, operation, alias)
        p = shape.pagination
        if args is None or p is None or len(operation.methods) < 3:
            continue
        item = _sample(api, p.item_type)
        call_args = ", ".join(a for a in ("context.Background()", args.rstrip(", ")) if a)
        page: object = [item, item]
        empty: object = []
        if p.style != "link":
            assert p.items_field is not None
            page, empty = {p.items_field: [item, item]}, {p.items_field: []}
        marker_param = p.offset_param if p.style == "offset" else p.cursor_param or "page"
        examples.append(
            GoExample(
                name="Example_pagination",
                title="Pagination",
                intro=(
                    f"`{operation.methods[2].name}` iterates over every item of every page as an "
                    f"`iter.Seq2[T, error]`, fetching pages lazily; `{operation.methods[1].name}` yields "
                    f"whole pages and `{operation.methods[0].name}` fetches one page."
                ),
                handler=[
                    'w.Header().Set("Content-Type", "application/json")',
                    f"if r.URL.Query().Has({go_string(marker_param or '')}) {{",
                    f"\t_, _ = io.WriteString(w, {go_string(json.dumps(empty))})",
                    "\treturn",
                    "}",
                    f"_, _ = io.WriteString(w, {go_string(json.dumps(page))})",
                ],
                code=[
                    new_client(),
                    "count := 0",
                    f"for _, err := range client.{svc}.{operation.methods[2].name}({call_args}) {{",
                    "\tif err != nil {",
                    "\t\tfmt.Println(err)",
                    "\t\tbreak",
                    "\t}",
                    "\tcount++",
                    "}",
                    "fmt.Println(count)",
                ],
                output=["2"],
                imports=["io"],
            )
        )
        break
    for shape, svc, operation in chosen:
        args = _call_params(shape, operation, alias)
        if args is None or shape.result.kind != "sse":
            continue
        data = json.dumps(_sample(api, shape.result.type))
        events = f"id: 1\ndata: {data}\n\n: keep-alive\n\nid: 2\ndata: {data}\n\n"
        call_args = ", ".join(a for a in ("context.Background()", args.rstrip(", ")) if a)
        examples.append(
            GoExample(
                name="Example_streaming",
                title="Streaming",
                intro=(
                    "Server-sent events arrive as an `iter.Seq2` of typed events. A dropped connection is "
                    "resumed with Last-Event-ID when the operation supports it; the iteration ends when the "
                    "server closes the stream, and breaking out of the loop closes the connection."
                ),
                handler=[
                    'w.Header().Set("Content-Type", "text/event-stream")',
                    f"_, _ = io.WriteString(w, {go_string(events)})",
                ],
                code=[
                    new_client(),
                    "events := 0",
                    f"for _, err := range client.{svc}.{operation.methods[0].name}({call_args}) {{",
                    "\tif err != nil {",
                    "\t\tfmt.Println(err)",
                    "\t\tbreak",
                    "\t}",
                    "\tevents++",
                    "}",
                    "fmt.Println(events)",
                ],
                output=["2"],
                imports=["io"],
            )
        )
        break
    imports = {"net/http", "time"}
    for example in examples:
        imports.update(["context", "fmt", "net/http/httptest", *example.imports])
    return GoDocs(
        package=package,
        module=module,
        title=" ".join(comment_lines(api.title)) or package,
        examples=examples,
        env_base_url=f"{client.env_prefix}_BASE_URL",
        env_api_key=f"{client.env_prefix}_API_KEY",
        env_bearer_token=f"{client.env_prefix}_BEARER_TOKEN",
        imports=sorted(imports),
    )


def build_client(
    decisions: Decisions, package: str, types: _GoTypes, models: GoModels, options: Options
) -> tuple[GoClient, list[tuple[OperationShape, str, GoOperation]]]:
    """The client, its services and operations; also every operation with its Client field."""
    api = decisions.api
    surface = decisions
    chosen: list[tuple[OperationShape, str, GoOperation]] = []
    builder = _OperationBuilder(types, models)
    field_namer = Namer(lambda w: pascal(w, GO_INITIALISMS), go_fix_type, "Service")
    tag_docs = {tag.name: tag.docs.text for tag in api.tags}
    services = []
    for group in surface.groups:
        field_name = field_namer.claim(group)
        service_type = types.namer.claim(f"{field_name} service")
        method_namer = Namer(lambda w: pascal(w, GO_INITIALISMS), _exported, "Call")
        shapes = list(surface.by_group(group))
        names = [
            method_namer.claim(" ".join(method_words(s.operation.id, group)) or s.operation.id)
            for s in shapes
        ]
        for n in names:
            method_namer.reserve(_unexported(n) + "Request")
        operations = []
        for shape, name in zip(shapes, names, strict=True):
            operations.append(builder.operation(shape, name, _unexported(name) + "Request"))
            chosen.append((shape, field_name, operations[-1]))
        # Derived method names (XxxPages, XxxAll) must not collide with a base name.
        taken = set(names)
        for operation in operations:
            for method in operation.methods[1:]:
                base, suffix = method.name, 2
                while method.name in taken:
                    method.name, suffix = f"{base}{suffix}", suffix + 1
                taken.add(method.name)
                for other in operation.methods:  # XxxAll calls XxxPages
                    other.body = [line.replace(f"s.{base}(", f"s.{method.name}(") for line in other.body]
        services.append(
            GoService(
                field=field_name,
                type=service_type,
                doc=line_comment(
                    f"{service_type} holds the operations tagged {group!r}, as Client.{field_name}.", "//"
                )
                + (["//", *line_comment(tag_docs[group], "//")] if tag_docs.get(group) else []),
                operations=operations,
            )
        )
    prefix = decisions.client.env_prefix
    schemes = api.security_schemes
    api_key = next(
        (s for s in schemes if s.kind == "api-key" and s.location in ("header", "query", "cookie")), None
    )
    imports = ({"context"} if surface.operations else set()) | builder.uses
    rendered = [f.type for svc in services for o in svc.operations for f in o.fields]
    rendered += [m.returns for svc in services for o in svc.operations for m in o.methods]
    if any("time.Time" in t for t in rendered):
        imports.add("time")
    if any("json.RawMessage" in t for t in rendered):
        imports.add("encoding/json")
    client = GoClient(
        package=package,
        imports=sorted(imports),
        services=services,
        base_url=go_string(api.servers[0].url if api.servers else ""),
        env_prefix=prefix,
        env_base_url=go_string(f"{prefix}_BASE_URL"),
        env_api_key=go_string(f"{prefix}_API_KEY"),
        env_bearer_token=go_string(f"{prefix}_BEARER_TOKEN"),
        user_agent="",
        bearer="true" if any(s.kind in _BEARER_KINDS for s in schemes) else "false",
        api_key_in=go_string(api_key.location if api_key else ""),
        api_key_name=go_string(api_key.param_name if api_key else ""),
    )
    return client, chosen


def _gofmt(directory) -> None:  # type: ignore[no-untyped-def]
    run_tool(["gofmt", "-w", "."], directory, "format the Go SDK")


RUNTIME_FILES = (
    "core.go",
    "core_test.go",
    "encode.go",
    "encode_test.go",
    "errors.go",
    "errors_test.go",
    "nullable.go",
    "nullable_test.go",
    "pagination.go",
    "pagination_test.go",
    "sse.go",
    "sse_test.go",
    "union.go",
    "union_test.go",
)


def plan(decisions: Decisions, options: Options) -> LanguagePlan:
    api = decisions.api
    words = package_words(api, options.package_name)
    package = "".join(w.lower() for w in words)
    if not package[:1].isalpha():
        package = "sdk" + package
    module = options.go_module or f"github.com/polysdk/{snake(words).replace('_', '-')}-sdk-go"
    context: dict[str, object] = {
        "package": package,
        "module": module,
        "go_version": GO_VERSION,
        "title": go_string(api.title),
        "version": go_string(options.sdk_version),
        "api_version": go_string(api.version),
        "doc": line_comment(api.docs.text, "//"),
        "title_doc": line_comment(f"Package {package} is a client for the {api.title} API.", "//")[0],
    }
    types = _GoTypes(api)
    models = build_models(api, package, types)
    client, chosen = build_client(decisions, package, types, models, options)
    client.user_agent = go_string(f"{module.rsplit('/', 1)[-1]}/{options.sdk_version} (go)")
    context["models"] = models
    context["client"] = client
    context["docs"] = build_docs(api, package, module, client, chosen)
    result = LanguagePlan(language="go")
    result.files = [
        TemplateFile("go/go.mod.j2", "go.mod", context),
        TemplateFile("go/doc.go.j2", "doc.go", context),
        TemplateFile("go/models.go.j2", "models.go", context),
        TemplateFile("go/client.go.j2", "client.go", context),
        TemplateFile("go/operations.go.j2", "operations.go", context),
        TemplateFile("go/example_test.go.j2", "example_test.go", context),
        TemplateFile("go/README.md.j2", "README.md", context),
    ]
    from polysdk.views import go_driver  # imports this module: a local import avoids the cycle

    context["driver"] = go_driver.build_driver(api, module, chosen)
    result.files.append(TemplateFile(go_driver.TEMPLATE, go_driver.OUTPUT, context))
    clause = ("package polysdk", f"package {package}")
    for runtime in RUNTIME_FILES:
        result.runtime.append(RuntimeFile(f"go/runtime/{runtime}", runtime, (clause,)))
    result.formatter = _gofmt
    return result
