"""Values for derived cases, generated from a contract's own schemas, deterministically.

A derived case needs arguments the mock's contract validator accepts and response bodies every SDK
must surface intact. Both come from the schema as the contract writes it (constraints, formats,
examples), not from the SDK's model: a value the contract allows and an SDK cannot carry is a
defect the case must find.

Two flavours of value:
- `minimal`: only what is required, plain values (the call a first user makes);
- `full`: every optional property as well, with values chosen to exercise what SDKs must keep
  exact — int64 beyond 2^53, non-ASCII text, explicit nulls where allowed and, in responses,
  fields the contract does not declare.
Either may also be `unknown` (responses only): every enum of two or more values gets one it does
not list and every discriminated union a tag none of its variants has, as a server that is newer
than the contract sends them; SDKs keep both (open enums, Unknown variants: SDK_FEATURES.md).

Generation is a pure function of the schema and the flavour: the same contract always derives
the same cases (no clock, no randomness).
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import rstr
from jsonschema import Draft202012Validator, FormatChecker

JsonDict = dict[str, Any]
Resolver = Callable[[JsonDict], JsonDict]  # follows a schema's $ref (the target, or the schema)

# Beyond 2^53: a double cannot hold it, so an SDK that decodes int64 through a float changes it.
BIG_INT64 = 9007199254740993
# What a server newer than the contract sends: an enum value and a union tag the contract lacks.
UNKNOWN_ENUM_TEXT = "x_derived_unknown"
UNKNOWN_ENUM_INTEGER = 987654
UNKNOWN_TAG = "x_derived_unknown_variant"
UNICODE_TEXT = 'é中🤖 "q" \\ /'
DATE_TIME = "2025-01-14T09:30:00Z"
DATE = "2025-01-14"
UUID = "5b0c2c1e-7a53-4c8e-9a51-2f4d8f1e6a10"
# How deep a generated value may nest before optional parts are left out (recursive schemas).
MAX_DEPTH = 6


class UnsatisfiableError(ValueError):
    """No value of the schema can be generated (e.g. `not`, or a pattern with no example)."""


@dataclass(frozen=True)
class Flavour:
    full: bool  # optional properties too, with exotic values
    response: bool  # a value the server sends (readOnly kept, extra fields added)
    unknown: bool = False  # enum values and union tags the contract does not list (responses)

    @property
    def request(self) -> bool:
        return not self.response


def _types(schema: JsonDict) -> list[str]:
    """The schema's JSON types, in the order a value is tried (3.1 type arrays and 3.0 nullable)."""
    declared = schema.get("type")
    if isinstance(declared, list):
        types = [t for t in declared if isinstance(t, str)]
    elif isinstance(declared, str):
        types = [declared]
    elif "properties" in schema or "additionalProperties" in schema:
        types = ["object"]
    elif "items" in schema:
        types = ["array"]
    else:
        types = []
    return types


def _example(schema: JsonDict) -> tuple[bool, Any]:
    """The contract's own example of the schema, when it gives one that is a JSON value."""
    if "const" in schema:
        return True, schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return True, schema["enum"][0]
    if "example" in schema:
        return True, schema["example"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return True, examples[0]
    return False, None


class ValueGenerator:
    """Generates a value for a schema, following `$ref`s through `resolve`."""

    def __init__(self, resolve: Resolver) -> None:
        self.resolve = resolve

    def value(self, schema: Any, flavour: Flavour, depth: int = 0, name: str = "", variant: int = 0) -> Any:
        """A value of the schema. `variant` > 0 asks for another value than the 0th where the
        schema allows one (the distinct items of a `uniqueItems` array)."""
        if not isinstance(schema, dict):
            return "x"  # `true` or an empty schema: any value
        ref = schema.get("$ref")
        written = self.resolve(schema) if isinstance(ref, str) else schema  # before allOf merging
        own = written.get("discriminator")
        mapped_here = isinstance(own, dict) and bool(own.get("mapping"))
        schema = self.merged(schema)
        if schema.get("nullable") is True and flavour.full and depth > 0 and flavour.response:
            return None
        enum = schema.get("enum")
        if enum == []:
            raise UnsatisfiableError("an empty enum, which no value satisfies")
        if "const" in schema:
            return schema["const"]
        if isinstance(enum, list):
            if flavour.unknown and flavour.response:
                outside = _outside(enum)
                if outside is not None:
                    return outside
            return enum[variant % len(enum)]
        for key in ("oneOf", "anyOf"):
            variants = schema.get(key)
            if isinstance(variants, list) and variants:
                return self._variant(schema, variants, flavour, depth, name, variant)
        types = _types(schema)
        non_null = [t for t in types if t != "null"]
        if not non_null:
            if types == ["null"]:
                return None
            found, example = _example(schema)
            return example if found else "x"
        kind = non_null[0]
        if kind == "object":
            value = self._object(schema, flavour, depth)
            if not mapped_here and isinstance(ref, str):
                self._inherited_tag(value, schema, ref)
            return value
        if kind == "array":
            return self._array(schema, flavour, depth)
        found, example = _example(schema)
        if found and _fits(kind, example) and _valid(schema, example):
            return example
        if kind == "string":
            return self._string(schema, flavour, name, variant)
        if kind == "integer":
            return self._integer(schema, flavour, variant)
        if kind == "number":
            return self._number(schema, variant)
        if kind == "boolean":
            return True
        return "x"

    # -- composition --------------------------------------------------------------------------

    def merged(self, schema: JsonDict) -> JsonDict:
        """The schema with its $ref followed and its allOf parts merged into one object schema."""
        seen = 0
        while "$ref" in schema and seen < 64:
            target = self.resolve(schema)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            # The target wins: OpenAPI 3.0 ignores a $ref's siblings (`$ref: Amount` beside
            # `type: number` is an Amount), and SDKs are generated from the target.
            schema = {**rest, **target} if rest else target
            seen += 1
        parts = schema.get("allOf")
        if not isinstance(parts, list) or not parts:
            return schema
        merged: JsonDict = {k: v for k, v in schema.items() if k != "allOf"}
        properties: JsonDict = dict(merged.get("properties", {}))
        required: list[str] = list(merged.get("required", []))
        for part in parts:
            if not isinstance(part, dict):
                continue
            part = self.merged(part)
            properties.update(part.get("properties", {}))
            required += [r for r in part.get("required", []) if r not in required]
            for key, value in part.items():
                if key not in ("properties", "required", "description", "title"):
                    merged.setdefault(key, value)
        if properties:
            merged["properties"] = properties
            merged.setdefault("type", "object")
        if required:
            merged["required"] = required
        return merged

    def _variant(
        self, schema: JsonDict, variants: list[Any], flavour: Flavour, depth: int, name: str, index: int
    ) -> Any:
        """The first variant's value that is not a bare null (a `{type: "null"}` branch says
        nothing); with a discriminator, its tag set to that variant's value."""
        plain = [v for v in variants if not (isinstance(v, dict) and v.get("type") == "null")] or variants
        # Distinct items of an enum spelt as `oneOf` of consts take distinct branches.
        variant = plain[index % len(plain)]
        value = self.value(variant, flavour, depth, name, index)
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, dict) and isinstance(value, dict):
            prop = discriminator.get("propertyName")
            if isinstance(prop, str):
                unknown = flavour.unknown and flavour.response
                value[prop] = (
                    UNKNOWN_TAG if unknown else _tag_of(variant, discriminator, self.merged(variant), prop)
                )
        return value

    def _inherited_tag(self, value: Any, schema: JsonDict, ref: str) -> None:
        """A discriminator inherited through allOf (`Bar: allOf [Entity]`, Entity naming the tag
        property): the tag names the schema itself — its mapping key, else its name — as a
        validator resolves it. A oneOf around it sets the tag again, for its own variant. A
        schema that declares its own mapping (a base naming its subtypes) keeps the tag its
        property's schema gives (Adyen's `type` with a pattern)."""
        discriminator = schema.get("discriminator")
        if not (isinstance(value, dict) and isinstance(discriminator, dict)):
            return
        prop = discriminator.get("propertyName")
        if isinstance(prop, str):
            value[prop] = _tag_of({"$ref": ref}, discriminator, schema, prop)

    # -- objects and arrays -------------------------------------------------------------------

    def _object(self, schema: JsonDict, flavour: Flavour, depth: int) -> JsonDict:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        out: JsonDict = {}
        for prop, sub in properties.items():
            sub_schema = self.merged(sub) if isinstance(sub, dict) else {}
            if flavour.request and sub_schema.get("readOnly"):
                continue
            if flavour.response and sub_schema.get("writeOnly"):
                continue
            if prop in required:
                out[prop] = self.value(sub, flavour, depth + 1, prop)
            elif flavour.full and depth < MAX_DEPTH:
                try:
                    out[prop] = self.value(sub, flavour, depth + 1, prop)
                except UnsatisfiableError:
                    continue  # an optional property no value satisfies is left out
        additional = schema.get("additionalProperties")
        for prop in sorted(required - set(properties)):
            # Required but never declared (a contract slip seen in published specs): any value
            # the object's additional properties allow.
            if additional is not False:
                out[prop] = self.value(
                    additional if isinstance(additional, dict) else {}, flavour, depth + 1, prop
                )
        if not properties and isinstance(additional, dict) and depth < MAX_DEPTH:
            out["key"] = self.value(additional, flavour, depth + 1, "key")
        open_object = additional is None or additional is True or additional == {}
        if flavour.response and flavour.full and open_object and depth < MAX_DEPTH:
            # A field the contract does not declare: SDKs keep it (SDK_FEATURES.md, "Responses").
            out.setdefault("x_derived_extra", {"nested": [1, None, "é"]})
        return out

    def _array(self, schema: JsonDict, flavour: Flavour, depth: int) -> list[Any]:
        items = schema.get("items", {})
        count = max(int(schema.get("minItems", 0) or 0), 2 if flavour.full else 1)
        maximum = schema.get("maxItems")
        if isinstance(maximum, int):
            count = min(count, maximum)
        if depth >= MAX_DEPTH:
            count = int(schema.get("minItems", 0) or 0)
        # Distinct items (variant i): a `uniqueItems` array, or a `minItems` one whose items the
        # server may require to differ, stays valid.
        return [self.value(items, flavour, depth + 1, variant=i) for i in range(count)]

    # -- scalars --------------------------------------------------------------------------------

    def _string(self, schema: JsonDict, flavour: Flavour, name: str, variant: int = 0) -> str:
        fmt = schema.get("format")
        formatted = {
            "date-time": DATE_TIME,
            "date": DATE,
            "uuid": UUID,
            "email": "user@example.com",
            "uri": "https://example.com/derived",
            "url": "https://example.com/derived",
            "hostname": "example.com",
            "ipv4": "192.0.2.1",
            "ipv6": "2001:db8::1",
            "byte": "ZGVyaXZlZA==",
            "binary": "derived",
            "int64": str(BIG_INT64),
        }.get(fmt or "")
        if formatted is not None:
            return formatted if not variant else _formatted_variant(fmt or "", formatted, variant)
        minimum = int(schema.get("minLength", 0) or 0)
        maximum = schema.get("maxLength")
        if isinstance(schema.get("pattern"), str):
            return _matching(
                schema["pattern"], minimum, maximum if isinstance(maximum, int) else None, variant
            )
        text = f"{name or 'value'}-{variant + 1}"
        if flavour.full and not isinstance(maximum, int):
            text += " " + UNICODE_TEXT
        if len(text) < minimum:
            text += "x" * (minimum - len(text))
        if isinstance(maximum, int):
            text = text[: max(maximum, minimum)]
        return text

    def _integer(self, schema: JsonDict, flavour: Flavour, variant: int = 0) -> int:
        low, high = _bounds(schema)
        wide = schema.get("format") == "int64" and flavour.full
        candidate = (BIG_INT64 if wide else 7) + variant
        if low is not None and candidate < low:
            candidate = int(low) if float(low).is_integer() else int(low) + 1
        if high is not None and candidate > high:
            candidate = int(high)
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0:
            candidate -= candidate % step
            if low is not None and candidate < low:
                candidate += step
        return candidate

    def _number(self, schema: JsonDict, variant: int = 0) -> float:
        low, high = _bounds(schema)
        candidate = 1.5 + variant / 4
        if low is not None and high is not None and not low <= candidate <= high:
            candidate = (low + high) / 2  # inside the range, and rarely integral
        elif low is not None and candidate < low:
            candidate = low + 0.5
        elif high is not None and candidate > high:
            candidate = high - 0.5
        if schema.get("exclusiveMinimum") is True and low is not None and candidate == low:
            candidate = low + (1 if high is None or high - low > 1 else (high - low) / 2)
        return candidate


def _outside(enum: list[Any]) -> Any:
    """A value of the enum's type that it does not list, or None: for an enum of two or more
    strings or integers only (a one-value enum is a constant, which SDKs may model as one)."""
    if len(enum) < 2:
        return None
    if all(isinstance(value, str) for value in enum):
        return UNKNOWN_ENUM_TEXT
    if all(isinstance(value, int) and not isinstance(value, bool) for value in enum):
        return UNKNOWN_ENUM_INTEGER if UNKNOWN_ENUM_INTEGER not in enum else max(enum) + 1
    return None


def _formatted_variant(fmt: str, text: str, variant: int) -> str:
    """Another value of a format, for distinct items: the last digit moved on where it has one."""
    if fmt == "byte" or not text[-1:].isalnum():
        return text
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    if not digits:
        return text
    last = digits[-1]
    return text[:last] + str((int(text[last]) + variant) % 10) + text[last + 1 :]


def _matching(pattern: str, minimum: int, maximum: int | None, variant: int = 0) -> str:
    """A string the pattern matches (searched, as JSON Schema does) within the length bounds.
    rstr builds it from the regular expression; the generator is seeded with the pattern, so the
    same pattern always gives the same string."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise UnsatisfiableError(f"a pattern Python cannot read ({pattern!r}: {exc})") from None
    for attempt in range(variant, variant + 16):
        seed = zlib.crc32(f"{attempt}:{pattern}".encode())
        try:
            text = rstr.Rstr(random.Random(seed)).xeger(pattern)  # noqa: S311 - test data, not secrets
        except (ValueError, TypeError, IndexError, re.error):
            break
        fits = minimum <= len(text) and (maximum is None or len(text) <= maximum)
        if fits and compiled.search(text):
            return text
    raise UnsatisfiableError(f"no string found for the pattern {pattern!r} within the length bounds")


def _bounds(schema: JsonDict) -> tuple[float | None, float | None]:
    """Inclusive bounds; 3.1 numeric exclusive bounds are narrowed by one."""
    low = schema.get("minimum")
    high = schema.get("maximum")
    exclusive_low, exclusive_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if isinstance(exclusive_low, int | float) and not isinstance(exclusive_low, bool):
        low = exclusive_low + 1
    elif exclusive_low is True and isinstance(low, int | float):
        low = low + 1
    if isinstance(exclusive_high, int | float) and not isinstance(exclusive_high, bool):
        high = exclusive_high - 1
    elif exclusive_high is True and isinstance(high, int | float):
        high = high - 1
    return (
        low if isinstance(low, int | float) else None,
        high if isinstance(high, int | float) else None,
    )


def _fits(kind: str, value: Any) -> bool:
    """Whether an example is a value of the JSON type (contracts often give a wrong one)."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return False


# The keywords a scalar example is checked against: published examples are often wrong (a UUID
# with a short group, a string longer than its maxLength) and would make the mock fault the SDK.
_SCALAR_KEYWORDS = ("type", "format", "pattern", "minLength", "maxLength", "minimum", "maximum", "multipleOf")
_FORMATS = FormatChecker()


def _valid(schema: JsonDict, example: Any) -> bool:
    """Whether a scalar example satisfies its schema's own constraints, formats included."""
    plain = {key: schema[key] for key in _SCALAR_KEYWORDS if key in schema}
    if isinstance(plain.get("type"), list):
        plain.pop("type")
    try:
        return Draft202012Validator(plain, format_checker=_FORMATS).is_valid(example)
    except (ValueError, TypeError):  # an unreadable pattern or bound: the example is not trusted
        return False


def _tag_of(variant: Any, discriminator: JsonDict, merged: JsonDict, prop: str) -> Any:
    """The discriminator value that selects `variant`: from the mapping, a const or one-value enum
    of its tag property, or the referenced schema's name."""
    ref = variant.get("$ref") if isinstance(variant, dict) else None
    mapping = discriminator.get("mapping") or {}
    for tag, target in mapping.items():
        if target == ref or (isinstance(ref, str) and target == ref.rsplit("/", 1)[-1]):
            return tag
    tag_schema = (merged.get("properties") or {}).get(prop) or {}
    if "const" in tag_schema:
        return tag_schema["const"]
    if isinstance(tag_schema.get("enum"), list) and len(tag_schema["enum"]) == 1:
        return tag_schema["enum"][0]
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1]
    return "variant"
