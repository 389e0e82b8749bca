"""JSON Schema (as OpenAPI 3.0 and 3.1 use it) to IR types.

Every schema that needs a declaration of its own — objects with properties, enums, unions — becomes
one `NamedType`, whether the contract names it under `components/schemas` or writes it inline
(then it is named after where it sits: `Agent` + `labels`). A schema is identified by the document
URI and JSON pointer where it is written, so each gets exactly one name, `$ref` cycles end at a
name, and recursion needs no special case. Nullability belongs to the use site: a named type is
never nullable itself; `Nullable(NamedRef)` is.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from polysdk import ir
from polysdk.frontends.openapi.document import Contract
from polysdk.names import split_words
from polysdk.pointers import join_pointer

_STRING_FORMATS = {
    "date-time": ir.Prim.DATE_TIME,
    "date": ir.Prim.DATE,
    "uuid": ir.Prim.UUID,
    "byte": ir.Prim.BYTES,
    "binary": ir.Prim.BINARY,
    "decimal": ir.Prim.DECIMAL,
}
_INTEGER_FORMATS = {"int32": ir.Prim.INT32, "int64": ir.Prim.INT64}
# `format: decimal` on a *number* (Xero's money fields) is still a JSON number on the wire: a
# double, as any other number. Only a string with that format (Stripe's decimal_string) is the
# exact decimal the SDKs carry as text.
_NUMBER_FORMATS = {"float": ir.Prim.FLOAT, "double": ir.Prim.DOUBLE}
_OBJECT_KEYWORDS = ("properties", "additionalProperties")
_ANY = ir.PrimitiveType(ir.Prim.ANY)


# Keywords that describe a schema without constraining its values.
_ANNOTATIONS = frozenset(
    {"description", "title", "example", "examples", "deprecated", "externalDocs", "$comment", "default"}
)


def _without_annotation_parts(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without the allOf parts that only annotate (Box's `content: allOf: [$ref:
    ShieldListContentRequest, {description: ...}]`, the 3.0 way to document a $ref): such a part
    adds no constraint, so `allOf: [$ref, {description}]` is the referenced type itself, not an
    empty object merged from its parts."""
    parts = schema.get("allOf")
    if not isinstance(parts, list) or len(parts) < 2:
        return schema
    kept = [part for part in parts if not (isinstance(part, dict) and part and set(part) <= _ANNOTATIONS)]
    if len(kept) == len(parts) or not kept:
        return schema
    return {**schema, "allOf": kept}


def _canonical(name: str) -> str:
    return "".join(word.lower() for word in split_words(name))


def _docs(schema: dict[str, Any]) -> ir.Docs:
    description = schema.get("description")
    title = schema.get("title")
    return ir.Docs(
        summary=title if isinstance(title, str) else "",
        description=description if isinstance(description, str) else "",
        deprecated=schema.get("deprecated") is True,
    )


class SchemaConverter:
    """Turns schemas into IR types, collecting the named types it declares on the way."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self._names_by_key: dict[str, str] = {}  # "uri#pointer" → type name
        self._canonical_taken: set[str] = set()
        self._definitions: dict[str, ir.NamedType] = {}
        self._order: list[str] = []
        self._building: set[str] = set()  # keys whose definition is being built (recursion)
        self.warnings: list[str] = []

    # Public API ---------------------------------------------------------------------------------

    def reserve_components(self) -> None:
        """Claim the names of `components/schemas` first, so an inline schema met earlier can
        never take a name the contract gave to a component."""
        schemas = self.contract.data.get("components", {}).get("schemas", {}) or {}
        for name in schemas:
            self._claim_name(self._key(self.contract.uri, join_pointer("/components/schemas", name)), name)

    def convert_components(self) -> None:
        schemas = self.contract.data.get("components", {}).get("schemas", {}) or {}
        for name, schema in schemas.items():
            pointer = join_pointer("/components/schemas", name)
            self._named(schema, self.contract.uri, pointer, name)

    def type_of(self, schema: Any, uri: str, pointer: str, hint: str) -> ir.Type:
        """The IR type of the schema at `uri#pointer`; `hint` names it if it must be declared."""
        if not isinstance(schema, dict):
            return _ANY
        if "$ref" in schema and isinstance(schema["$ref"], str):
            return self._ref(schema, uri, pointer, hint)
        schema = _without_annotation_parts(schema)
        nullable = self._is_nullable(schema)
        inner = self._non_null_type(schema, uri, pointer, hint)
        if nullable and not isinstance(inner, ir.Nullable) and inner != _ANY:
            return ir.Nullable(inner)
        return inner

    def named_types(self) -> tuple[ir.NamedType, ...]:
        return tuple(self._definitions[key] for key in self._order if key in self._definitions)

    # References and names ------------------------------------------------------------------------

    @staticmethod
    def _key(uri: str, pointer: str) -> str:
        return f"{uri}#{pointer}"

    def _claim_name(self, key: str, wanted: str) -> str:
        if key in self._names_by_key:
            return self._names_by_key[key]
        base = wanted if split_words(wanted) else "Schema"
        name, n = base, 2
        while _canonical(name) in self._canonical_taken:
            name, n = f"{base}_{n}", n + 1
        self._canonical_taken.add(_canonical(name))
        self._names_by_key[key] = name
        self._order.append(key)
        return name

    def deref(self, schema: Any, uri: str, pointer: str) -> tuple[Any, str, str]:
        """Follow `$ref` chains to the schema they end at."""
        seen: set[str] = set()
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            target_uri, target_pointer, target = self.contract.resolve(schema["$ref"], uri, pointer)
            key = self._key(target_uri, target_pointer)
            if key in seen:
                raise self.contract.error(
                    uri,
                    pointer,
                    "this $ref is a cycle of references that never reaches a schema",
                    "make one of the schemas in the cycle a real schema",
                )
            seen.add(key)
            schema, uri, pointer = target, target_uri, target_pointer
        return schema, uri, pointer

    def _ref(self, schema: dict[str, Any], uri: str, pointer: str, hint: str) -> ir.Type:
        target, target_uri, target_pointer = self.deref(schema, uri, pointer)
        # 3.0 ignores siblings of $ref, but `nullable: true` next to a $ref is common; honour it.
        sibling_nullable = schema.get("nullable") is True
        if not isinstance(target, dict):
            return _ANY
        nullable = sibling_nullable or self._is_nullable(target)
        result = self._named(
            target, target_uri, target_pointer, self._name_for_target(target_pointer, target_uri, hint)
        )
        if nullable and not isinstance(result, ir.Nullable) and result != _ANY:
            return ir.Nullable(result)
        return result

    def _name_for_target(self, pointer: str, uri: str, hint: str) -> str:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
        if len(tokens) == 3 and tokens[:2] == ["components", "schemas"]:
            return tokens[2]
        if tokens and not tokens[-1].isdigit() and tokens[-1] not in ("schema", "items"):
            return tokens[-1]
        if not tokens and uri != self.contract.uri:
            return uri.rsplit("/", 1)[-1].split(".", 1)[0]
        return hint

    def _named(self, schema: Any, uri: str, pointer: str, name: str) -> ir.Type:
        """Declare the schema at uri#pointer as a named type (or alias) and return its reference.
        Schemas that are plain primitives/arrays/maps become aliases."""
        key = self._key(uri, pointer)
        if key in self._definitions or key in self._building:
            return ir.NamedRef(self._names_by_key[key])
        name = self._claim_name(key, name)
        self._building.add(key)
        try:
            definition = self._definition(schema, uri, pointer, name)
        finally:
            self._building.discard(key)
        self._definitions[key] = ir.NamedType(
            name=name,
            definition=definition,
            docs=_docs(schema) if isinstance(schema, dict) else ir.Docs(),
            source=pointer,
        )
        return ir.NamedRef(name)

    # Schema shapes -------------------------------------------------------------------------------

    def _is_nullable(self, schema: dict[str, Any]) -> bool:
        if schema.get("nullable") is True:
            return True
        types = schema.get("type")
        if isinstance(types, list) and "null" in types:
            return True
        if types == "null":
            return False  # a null-only schema is handled as a value of its own
        enum = schema.get("enum")
        if isinstance(enum, list) and None in enum:
            return True
        for keyword in ("oneOf", "anyOf"):
            variants = schema.get(keyword)
            if isinstance(variants, list) and any(self._is_null_schema(v) for v in variants):
                return True
        return False

    @staticmethod
    def _is_null_schema(schema: Any) -> bool:
        if not isinstance(schema, dict):
            return False
        return schema.get("type") == "null" or schema.get("type") == ["null"] or schema.get("enum") == [None]

    def _single_type(self, schema: dict[str, Any]) -> str | list[str] | None:
        types = schema.get("type")
        if isinstance(types, list):
            non_null = [t for t in types if t != "null"]
            if len(non_null) == 1:
                return str(non_null[0])
            return non_null or None
        return types if isinstance(types, str) else None

    def _is_declared(self, schema: dict[str, Any]) -> bool:
        """Whether an inline schema needs a declaration of its own."""
        if "const" in schema:
            return False
        enum = [v for v in schema.get("enum", []) or [] if v is not None]
        if len(enum) > 1 and self._enum_base(enum) is not None:
            return True
        if isinstance(schema.get("oneOf") or schema.get("anyOf"), list):
            return True
        if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) > 1:
            return True
        if isinstance(schema.get("properties"), dict) and schema["properties"]:
            return True
        return isinstance(self._single_type(schema), list)

    @staticmethod
    def _enum_base(values: list[Any]) -> ir.Prim | None:
        if all(isinstance(v, str) for v in values):
            return ir.Prim.STRING
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return ir.Prim.INTEGER
        return None

    def _non_null_type(self, schema: dict[str, Any], uri: str, pointer: str, hint: str) -> ir.Type:
        if "const" in schema and isinstance(schema["const"], (str, int, float, bool)):
            return ir.ConstType(schema["const"])
        enum = [v for v in schema.get("enum", []) or [] if v is not None]
        if len(enum) == 1 and isinstance(enum[0], (str, int, float, bool)):
            return ir.ConstType(enum[0])
        if self._is_declared(schema):
            simplified = self._simplify_union(schema, uri, pointer, hint)
            if simplified is not None:
                return simplified
            return self._named(schema, uri, pointer, hint)
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            return self.type_of(all_of[0], uri, join_pointer(pointer, "allOf", 0), hint)
        return self._structural(schema, uri, pointer, hint)

    def _simplify_union(self, schema: dict[str, Any], uri: str, pointer: str, hint: str) -> ir.Type | None:
        """A oneOf/anyOf that is really one type (plus null) is that type, not a union."""
        keyword = "oneOf" if isinstance(schema.get("oneOf"), list) else "anyOf"
        variants = schema.get(keyword)
        if not isinstance(variants, list) or schema.get("properties"):
            return None
        real = [(i, v) for i, v in enumerate(variants) if not self._is_null_schema(v)]
        if len(real) == 1:
            index, variant = real[0]
            inner = self.type_of(variant, uri, join_pointer(pointer, keyword, index), hint)
            return inner.inner if isinstance(inner, ir.Nullable) else inner
        if not real:
            return _ANY
        return None

    def _structural(self, schema: dict[str, Any], uri: str, pointer: str, hint: str) -> ir.Type:
        kind = self._single_type(schema)
        if kind is None:
            if "items" in schema:
                kind = "array"
            elif any(k in schema for k in _OBJECT_KEYWORDS):
                kind = "object"
        fmt = schema.get("format")
        if kind == "string":
            return ir.PrimitiveType(
                _STRING_FORMATS.get(fmt, ir.Prim.STRING) if isinstance(fmt, str) else ir.Prim.STRING
            )
        if kind == "integer":
            return ir.PrimitiveType(
                _INTEGER_FORMATS.get(fmt, ir.Prim.INTEGER) if isinstance(fmt, str) else ir.Prim.INTEGER
            )
        if kind == "number":
            return ir.PrimitiveType(
                _NUMBER_FORMATS.get(fmt, ir.Prim.DOUBLE) if isinstance(fmt, str) else ir.Prim.DOUBLE
            )
        if kind == "boolean":
            return ir.PrimitiveType(ir.Prim.BOOLEAN)
        if kind == "array":
            items = schema.get("items")
            return ir.ArrayType(self.type_of(items, uri, join_pointer(pointer, "items"), f"{hint}_item"))
        if kind == "object":
            extra = schema.get("additionalProperties", True)
            if isinstance(extra, dict) and extra:
                return ir.MapType(
                    self.type_of(extra, uri, join_pointer(pointer, "additionalProperties"), f"{hint}_value")
                )
            return ir.MapType(_ANY)
        return _ANY

    def _definition(self, schema: Any, uri: str, pointer: str, name: str) -> ir.Definition:
        if not isinstance(schema, dict):
            return ir.AliasDef(_ANY)
        schema = _without_annotation_parts(schema)
        if isinstance(schema.get("$ref"), str):  # a component that is another name for a schema
            target = self._ref(schema, uri, pointer, name)
            return ir.AliasDef(target.inner if isinstance(target, ir.Nullable) else target)
        enum = [v for v in schema.get("enum", []) or [] if v is not None]
        base = self._enum_base(enum) if len(enum) > 1 else None
        if base is not None:
            return ir.EnumDef(base=base, values=tuple(ir.EnumValue(v) for v in dict.fromkeys(enum)))
        is_union = isinstance(schema.get("oneOf"), list) or isinstance(schema.get("anyOf"), list)
        if is_union and not schema.get("properties"):
            simplified = self._simplify_union(schema, uri, pointer, name)
            if simplified is not None:
                return ir.AliasDef(simplified)
            return self._union(schema, uri, pointer, name)
        kinds = self._single_type(schema)
        if isinstance(kinds, list):
            return self._type_list_union(kinds, schema, uri, pointer, name)
        if isinstance(schema.get("allOf"), list) or schema.get("properties"):
            return self._object(schema, uri, pointer, name)
        return ir.AliasDef(self._alias_target(schema, uri, pointer, name))

    def _alias_target(self, schema: dict[str, Any], uri: str, pointer: str, name: str) -> ir.Type:
        if "const" in schema or len([v for v in schema.get("enum", []) or [] if v is not None]) == 1:
            return self._non_null_type(schema, uri, pointer, name)
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            inner = self.type_of(all_of[0], uri, join_pointer(pointer, "allOf", 0), name)
            return inner.inner if isinstance(inner, ir.Nullable) else inner
        return self._structural(schema, uri, pointer, name)

    def _type_list_union(
        self, kinds: list[str], schema: dict[str, Any], uri: str, pointer: str, name: str
    ) -> ir.UnionDef:
        variants = []
        for kind in kinds:
            only = {k: v for k, v in schema.items() if k not in ("type", "nullable")}
            only["type"] = kind
            variants.append(ir.Variant(self._structural(only, uri, pointer, f"{name}_{kind}")))
        return ir.UnionDef(variants=tuple(dict.fromkeys(variants)))

    # Objects -------------------------------------------------------------------------------------

    def _collect_properties(
        self, schema: dict[str, Any], uri: str, pointer: str, depth: int = 0
    ) -> tuple[list[tuple[str, Any, str, str]], set[str], Any]:
        """Properties (name, schema, uri, pointer), required names and additionalProperties of an
        object, with allOf parts merged in order (later parts win, as a flattened view)."""
        props: dict[str, tuple[str, Any, str, str]] = {}
        required: set[str] = set()
        additional: Any = None
        if depth > 32:
            return [], set(), None
        for index, part in enumerate(schema.get("allOf", []) or []):
            part_schema, part_uri, part_pointer = self.deref(part, uri, join_pointer(pointer, "allOf", index))
            if not isinstance(part_schema, dict):
                continue
            sub_props, sub_required, sub_additional = self._collect_properties(
                part_schema, part_uri, part_pointer, depth + 1
            )
            for prop in sub_props:
                props[prop[0]] = prop
            required |= sub_required
            additional = sub_additional if sub_additional is not None else additional
        own = schema.get("properties")
        if isinstance(own, dict):
            for prop_name, prop_schema in own.items():
                props[str(prop_name)] = (
                    str(prop_name),
                    prop_schema,
                    uri,
                    join_pointer(pointer, "properties", prop_name),
                )
        if isinstance(schema.get("required"), list):
            required |= {str(r) for r in schema["required"]}
        extra = schema.get("additionalProperties")
        if extra is not None and extra is not False:
            additional = (extra, uri, join_pointer(pointer, "additionalProperties"))
        return list(props.values()), required, additional

    def _object(self, schema: dict[str, Any], uri: str, pointer: str, name: str) -> ir.ObjectDef:
        props, required, additional = self._collect_properties(schema, uri, pointer)
        fields = []
        for prop_name, prop_schema, prop_uri, prop_pointer in props:
            field_type = self.type_of(prop_schema, prop_uri, prop_pointer, f"{name}_{prop_name}")
            resolved, _, _ = self.deref(prop_schema, prop_uri, prop_pointer)
            resolved = resolved if isinstance(resolved, dict) else {}
            annotations = prop_schema if isinstance(prop_schema, dict) else {}
            # A property without a description borrows its type's, but not its deprecation:
            # a field that holds a deprecated type is not itself deprecated.
            docs = (
                _docs(annotations)
                if annotations.get("description")
                else dataclasses.replace(_docs(resolved), deprecated=annotations.get("deprecated") is True)
            )
            default = None
            for source in (annotations, resolved):
                if "default" in source:
                    default = ir.Default(source["default"])
                    break
            fields.append(
                ir.Field(
                    wire_name=prop_name,
                    type=field_type,
                    required=prop_name in required,
                    docs=docs,
                    default=default,
                    read_only=annotations.get("readOnly") is True or resolved.get("readOnly") is True,
                    write_only=annotations.get("writeOnly") is True or resolved.get("writeOnly") is True,
                )
            )
        extra_type = None
        if additional is not None:
            extra_schema, extra_uri, extra_pointer = additional
            extra_type = (
                _ANY
                if extra_schema is True or extra_schema == {}
                else self.type_of(extra_schema, extra_uri, extra_pointer, f"{name}_value")
            )
        return ir.ObjectDef(fields=tuple(fields), additional=extra_type)

    # Unions --------------------------------------------------------------------------------------

    def _union(self, schema: dict[str, Any], uri: str, pointer: str, name: str) -> ir.UnionDef:
        keyword = "oneOf" if isinstance(schema.get("oneOf"), list) else "anyOf"
        entries = [
            (index, variant)
            for index, variant in enumerate(schema[keyword])
            if not self._is_null_schema(variant)
        ]
        discriminator = schema.get("discriminator")
        prop = discriminator.get("propertyName") if isinstance(discriminator, dict) else None
        mapping = discriminator.get("mapping", {}) if isinstance(discriminator, dict) else {}
        mapped_keys = self._mapped_keys(mapping or {}, uri, pointer)
        if prop is None:
            prop = self._infer_discriminator([v for _, v in entries], uri, pointer, keyword)
        variants: list[ir.Variant] = []
        for index, variant in entries:
            variant_pointer = join_pointer(pointer, keyword, index)
            tags = self._variant_tags(variant, uri, variant_pointer, prop, mapped_keys)
            hint = f"{name}_{tags[0]}" if tags else f"{name}_variant{index + 1}"
            variant_type = self.type_of(variant, uri, variant_pointer, hint)
            if isinstance(variant_type, ir.Nullable):
                variant_type = variant_type.inner
            variants.append(ir.Variant(type=variant_type, tags=tuple(tags)))
        return ir.UnionDef(variants=_merge_duplicate_variants(variants), discriminator=prop)

    def _mapped_keys(self, mapping: dict[str, Any], uri: str, pointer: str) -> dict[str, list[str]]:
        """The discriminator mapping as schema key → tags (several tags may name one schema)."""
        mapped_keys: dict[str, list[str]] = {}
        for tag, target in mapping.items():
            ref = target if "/" in str(target) or "#" in str(target) else f"#/components/schemas/{target}"
            try:
                target_uri, target_pointer, _ = self.contract.resolve(
                    ref, uri, join_pointer(pointer, "discriminator")
                )
            except Exception:  # noqa: BLE001 - a dangling mapping entry only loses that tag
                self.warnings.append(f"{pointer}: discriminator mapping {tag!r} points nowhere; ignored")
                continue
            mapped_keys.setdefault(self._key(target_uri, target_pointer), []).append(str(tag))
        return mapped_keys

    def _variant_tags(
        self, variant: Any, uri: str, pointer: str, prop: str | None, mapped_keys: dict[str, list[str]]
    ) -> list[str]:
        """The discriminator values that select a variant: from the mapping, else its property's
        const or one-value enum, else (OpenAPI's implicit mapping) its component schema name."""
        if prop is None:
            return []
        target, target_uri, target_pointer = self.deref(variant, uri, pointer)
        tags = mapped_keys.get(self._key(target_uri, target_pointer), [])
        if tags:
            return tags
        tag = self._tag_value(target, target_uri, target_pointer, prop)
        tokens = target_pointer.split("/")[1:]
        if tag is None and len(tokens) == 3 and tokens[:2] == ["components", "schemas"]:
            tag = tokens[2].replace("~1", "/").replace("~0", "~")
        return [tag] if tag is not None else []

    def _tag_value(self, schema: Any, uri: str, pointer: str, prop: str) -> str | None:
        if not isinstance(schema, dict):
            return None
        props, _, _ = self._collect_properties(schema, uri, pointer)
        for prop_name, prop_schema, prop_uri, prop_pointer in props:
            if prop_name != prop:
                continue
            resolved, _, _ = self.deref(prop_schema, prop_uri, prop_pointer)
            if not isinstance(resolved, dict):
                return None
            if isinstance(resolved.get("const"), str):
                return str(resolved["const"])
            enum = resolved.get("enum")
            if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str):
                return enum[0]
        return None

    def _infer_discriminator(self, variants: list[Any], uri: str, pointer: str, keyword: str) -> str | None:
        """A union without `discriminator` whose object variants all require one property with a
        distinct constant value is discriminated by that property (a common 3.1 idiom)."""
        if len(variants) < 2:
            return None
        candidates: set[str] | None = None
        resolved = []
        for index, variant in enumerate(variants):
            target, target_uri, target_pointer = self.deref(
                variant, uri, join_pointer(pointer, keyword, index)
            )
            if not isinstance(target, dict):
                return None
            props, required, _ = self._collect_properties(target, target_uri, target_pointer)
            if not props:
                return None
            names = {p[0] for p in props} & required
            candidates = names if candidates is None else candidates & names
            resolved.append((target, target_uri, target_pointer))
        for prop in sorted(candidates or ()):
            tags = [self._tag_value(t, u, p, prop) for t, u, p in resolved]
            if all(tag is not None for tag in tags) and len(set(tags)) == len(tags):
                return prop
        return None


def _merge_duplicate_variants(variants: list[ir.Variant]) -> tuple[ir.Variant, ...]:
    """The same type listed twice is one variant, with the tags of both."""
    unique: dict[ir.Type, ir.Variant] = {}
    for variant in variants:
        known = unique.get(variant.type)
        if known is None:
            unique[variant.type] = variant
        else:
            merged = known.tags + tuple(t for t in variant.tags if t not in known.tags)
            unique[variant.type] = ir.Variant(variant.type, merged)
    return tuple(unique.values())
