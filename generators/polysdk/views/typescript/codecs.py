"""src/codecs.ts and the codec descriptors of operations: how the runtime (src/codec.ts) reads each
type from lossless JSON and writes it back (int64 → bigint, a quoted int64 → bigint from a JSON
string or number and back to a string, date-time → DateTime, unions → the variant or the unknown
variant), checking responses against their types."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from polysdk import ir
from polysdk.literals import ts_string
from polysdk.views.typescript.types import TsTypes, field_name, field_names, literal

_LEAF_CODECS = {
    ir.Prim.BOOLEAN: "bool",
    ir.Prim.INTEGER: "int",
    ir.Prim.INT32: "i32",
    ir.Prim.INT64: "i64",
    ir.Prim.FLOAT: "num",
    ir.Prim.DOUBLE: "num",
    ir.Prim.DATE_TIME: "date",
    ir.Prim.BINARY: "bin",
    ir.Prim.ANY: "any",
}


def _const(value: str | int | float | bool) -> str:
    if isinstance(value, float) and not isinstance(value, bool) and not math.isfinite(value):
        return '"num"'  # no literal type for it: the value is a plain number
    return "{ literal: " + literal(value).text + " }"


def codec(types: TsTypes, t: ir.Type | None) -> str:
    """The runtime codec descriptor of a type, as TypeScript source."""
    if t is None:
        return '"any"'
    if isinstance(t, ir.PrimitiveType):
        if t.kind is ir.Prim.INT64 and t.quoted:
            return '"q64"'  # a JSON string of digits on the wire (proto3 JSON), a number accepted
        return json.dumps(_LEAF_CODECS.get(t.kind, "str"))
    if isinstance(t, ir.ConstType):
        return _const(t.value)
    if isinstance(t, ir.Nullable):
        return "{ nullable: " + codec(types, t.inner) + " }"
    if isinstance(t, ir.ArrayType):
        return "{ array: " + codec(types, t.items) + " }"
    if isinstance(t, ir.MapType):
        return "{ map: " + codec(types, t.values) + " }"
    return "{ ref: " + ts_string(types.names[t.name]) + " }"


def _object_codec(types: TsTypes, definition: ir.ObjectDef) -> str:
    names = field_names(f.wire_name for f in definition.fields)
    fields = ", ".join(_field_entry(types, f, names[f.wire_name]) for f in definition.fields)
    required = ", ".join(ts_string(f.wire_name) for f in definition.fields if f.required)
    parts = [f"object: [{fields}]"]
    if required:
        parts.append(f"required: [{required}]")
    if definition.additional is not None:
        parts.append(f"extra: {codec(types, definition.additional)}")
    return "{ " + ", ".join(parts) + " }"


def _field_entry(types: TsTypes, f: ir.Field, name: str) -> str:
    """`[wire name, codec]`, plus the TypeScript property name when it differs (`toString_`)."""
    renamed = f", {ts_string(name)}" if name != f.wire_name else ""
    return f"[{ts_string(f.wire_name)}, {codec(types, f.type)}{renamed}]"


def _union_codec(types: TsTypes, definition: ir.UnionDef) -> str:
    variants = ", ".join(
        f"[{codec(types, v.type)}, [{', '.join(ts_string(tag) for tag in v.tags)}]]"
        for v in definition.variants
    )
    parts = [f"union: [{variants}]"]
    if definition.discriminator is not None:
        parts.append(f"discriminator: {ts_string(definition.discriminator)}")
        key = field_name(definition.discriminator)
        if key != definition.discriminator:
            parts.append(f"key: {ts_string(key)}")
        if definition.discriminator == "raw":
            parts.append('rawKey: "rawJson"')
    return "{ " + ", ".join(parts) + " }"


def definition_codec(types: TsTypes, definition: ir.Definition) -> str:
    if isinstance(definition, ir.ObjectDef):
        return _object_codec(types, definition)
    if isinstance(definition, ir.EnumDef):
        return '"int"' if definition.base is ir.Prim.INTEGER else '"str"'
    if isinstance(definition, ir.UnionDef):
        return _union_codec(types, definition)
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
