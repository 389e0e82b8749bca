"""The Go type model: every IR type as a GoType entry that knows its rendered form, the imports it
needs and whether nil is one of its values. Views ask an entry; they never inspect its text.

Names of generated types are assigned once per package here (`GoTypes.type_names`), and the struct
fields that must hold a pointer to break a by-value cycle ("invalid recursive type") are found once
with walks.cyclic_edges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from polysdk import ir, walks
from polysdk.names import GO_INITIALISMS, Namer, go_fix_type, pascal


@dataclass(frozen=True)
class GoType:
    """One Go type expression. `imports` are the packages the expression needs; `direct_nil` says the
    expression itself is a slice, map, pointer, `any` or json.RawMessage (nil is a value of it);
    `nilable` says nil is a value, directly or through a named alias (a named slice type)."""

    expr: str
    imports: frozenset[str] = frozenset()
    direct_nil: bool = False
    nilable: bool = False
    pointer: bool = False  # *T
    wrapper: bool = False  # Nullable[T]: absent, null or a value
    is_any: bool = False  # the free-form `any`
    free_form: bool = False  # `any` or an object of `any`: free-form JSON, where null is kept
    label: str = ""  # a name for the type in identifiers and docs (union variant fields)

    def __str__(self) -> str:
        return self.expr

    def ptr(self) -> GoType:
        return GoType("*" + self.expr, self.imports, True, True, pointer=True, label=self.label)

    def nullable(self) -> GoType:
        return GoType(f"Nullable[{self.expr}]", self.imports, wrapper=True, label=self.label)

    def slice(self) -> GoType:
        return GoType("[]" + self.expr, self.imports, True, True, label=self.label + " list")

    def map(self) -> GoType:
        return GoType(
            "map[string]" + self.expr,
            self.imports,
            True,
            True,
            free_form=self.is_any,
            label=self.label + " map",
        )

    def needing(self, *imports: str) -> GoType:
        return replace(self, imports=self.imports | frozenset(imports))


def _prim(expr: str, label: str = "", imports: tuple[str, ...] = (), has_nil: bool = False) -> GoType:
    free = expr == "any"
    label = label or expr
    return GoType(expr, frozenset(imports), has_nil, has_nil, is_any=free, free_form=free, label=label)


STRING = _prim("string")
INT64 = _prim("int64")
BOOL = _prim("bool")
FLOAT64 = _prim("float64")
ANY = _prim("any", "JSON", has_nil=True)
# Types of the SDK's own API (not of the contract).
RAW_JSON = GoType("json.RawMessage", frozenset({"encoding/json"}), True, True, label="raw JSON")
READER = GoType("io.Reader", frozenset({"io"}), True, True, label="reader")
READ_CLOSER = GoType("io.ReadCloser", frozenset({"io"}), True, True, label="read closer")
FILE = GoType("File", label="file").ptr()

PRIMS = {
    ir.Prim.STRING: STRING,
    ir.Prim.BOOLEAN: BOOL,
    ir.Prim.INTEGER: INT64,
    ir.Prim.INT32: _prim("int32"),
    ir.Prim.INT64: INT64,
    ir.Prim.FLOAT: _prim("float32"),
    ir.Prim.DOUBLE: FLOAT64,
    ir.Prim.DECIMAL: STRING,
    ir.Prim.DATE: STRING,
    ir.Prim.DATE_TIME: _prim("time.Time", "Time", ("time",)),
    ir.Prim.UUID: STRING,
    ir.Prim.BYTES: _prim("[]byte", "Bytes", has_nil=True),
    ir.Prim.BINARY: STRING,
    ir.Prim.ANY: ANY,
}


def quoted(t: ir.Type) -> bool:
    """Whether a value of t holds 64-bit integers that travel as JSON strings (proto3 JSON), looking
    through nullable, lists and maps; a named type has its own codec."""
    if isinstance(t, ir.PrimitiveType):
        return t.quoted and t.kind is ir.Prim.INT64
    if isinstance(t, ir.Nullable):
        return quoted(t.inner)
    if isinstance(t, ir.ArrayType):
        return quoted(t.items)
    if isinstance(t, ir.MapType):
        return quoted(t.values)
    return False


def const_type(value: object) -> GoType:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT64
    if isinstance(value, float):
        return FLOAT64
    return STRING


# Methods generated on types; a field or variant with one of these names would not compile.
GO_METHOD_NAMES = ("MarshalJSON", "UnmarshalJSON", "Unknown", "AdditionalProperties")

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
    "WithMaxResponseBytes",
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


def exported_namer(
    fallback: str, taken: tuple[str, ...] = (), fix: Callable[[str], str] = go_fix_type
) -> Namer:
    """A namer of exported Go identifiers (PascalCase with Go's initialisms)."""
    return Namer(lambda words: pascal(words, GO_INITIALISMS), fix, fallback, taken=taken)


class GoTypes:
    """Turns IR types into GoType entries, with names assigned once per package."""

    def __init__(self, api: ir.Api) -> None:
        self.api = api
        self.namer = exported_namer("Model", (*RUNTIME_EXPORTS, *GO_METHOD_NAMES))
        self.type_names = {named.name: self.namer.claim(named.name) for named in api.types}
        self._object_names = {
            id(named.definition): named.name
            for named in api.types
            if isinstance(named.definition, ir.ObjectDef)
        }
        self.pointer_fields = self._recursive_fields()

    def object_name(self, t: ir.Type | None) -> str | None:
        """The contract name of the object a reference stands for, through aliases."""
        return self._object_names.get(id(walks.object_def(self.api, t)))

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
                target = None if (f.nullable and f.required) else self.object_name(embedded)
                if target is not None and (f.required or f.nullable):
                    targets.append(target)
                    by_value[(named.name, f.wire_name)] = target
        cyclic = walks.cyclic_edges(edges)
        return {key for key, target in by_value.items() if (key[0], target) in cyclic}

    def of(self, t: ir.Type) -> GoType:
        """The Go type of t."""
        if isinstance(t, ir.PrimitiveType):
            return PRIMS[t.kind]
        if isinstance(t, ir.ConstType):
            return const_type(t.value)
        if isinstance(t, ir.ArrayType):
            return self.of(t.items).slice()
        if isinstance(t, ir.MapType):
            return self.of(t.values).map()
        if isinstance(t, ir.NamedRef):
            name = self.type_names[t.name]
            return GoType(name, nilable=self.nilable(t), label=name)
        # A null inside a collection: a pointer for scalars and structs, as-is where nil exists.
        inner = self.of(t.inner)
        return inner if inner.direct_nil else inner.ptr()

    def nilable(self, t: ir.Type | None) -> bool:
        """Whether the Go type of t has nil (slices, maps, any, []byte), looking through aliases."""
        found = walks.resolve(self.api, t) if isinstance(t, ir.NamedRef) else t
        if isinstance(found, ir.PrimitiveType):
            return PRIMS[found.kind].direct_nil
        return isinstance(found, (ir.ArrayType, ir.MapType))

    def field_type(self, owner: str, f: ir.Field) -> tuple[GoType, str]:
        """The Go type and the JSON tag options of a field of the named type `owner`."""
        base = walks.unwrap_nullable(f.type)
        go = self.of(base)
        if (owner, f.wire_name) in self.pointer_fields:
            go = go.ptr()
        has_nil = go.pointer or self.nilable(base)
        if f.nullable and not f.required:
            return go.nullable(), ",omitzero"
        if f.nullable:
            return (go if has_nil else go.ptr()), ""
        if f.required:
            return go, ""
        if has_nil:
            # omitzero leaves out nil but sends an empty slice or map; `any` uses omitempty (nil).
            return go, ",omitempty" if go.is_any else ",omitzero"
        return go.ptr(), ",omitempty"

    def param_type(self, t: ir.Type, required: bool) -> GoType:
        """A parameter's Go type: optional ones are pointers unless nil is already a value."""
        base = walks.unwrap_nullable(t)
        go = self.of(base)
        if required or self.nilable(base) or go.direct_nil:
            return go
        return go.ptr()

    def value_type(self, t: ir.Type | None) -> GoType:
        """A body's or a result's Go type (a nullable one as its inner type); raw JSON without one."""
        if t is None:
            return RAW_JSON
        return self.of(walks.unwrap_nullable(t))

    def value_nilable(self, t: ir.Type | None, go: GoType) -> bool:
        return go.direct_nil or (t is not None and self.nilable(t))
