"""The Rust view's decisions: type mapping, optionality, names, boxing, enums, unions, docs."""

from __future__ import annotations

import os
import random
import re
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from polysdk import ir
from polysdk.decisions import build_decisions
from polysdk.plan import LanguagePlan, Options
from polysdk.render import render_plan
from polysdk.views import rust

from .conftest import ROOT, api_from_text, require_tool


def _api(tmp_path: Path, schemas: dict[str, Any], title: str = "Acme API") -> ir.Api:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1"},
        "paths": {},
        "components": {"schemas": schemas},
    }
    return api_from_text(tmp_path, yaml.safe_dump(doc, sort_keys=False))


def _models(tmp_path: Path, schemas: dict[str, Any]) -> rust.RustModels:
    return rust.build_models(_api(tmp_path, schemas))


def _item(models: rust.RustModels, name: str) -> Any:
    return next(item for item in models.items if item.name == name)


def _field(models: rust.RustModels, struct: str, name: str) -> rust.RustField:
    return next(f for f in _item(models, struct).fields if f.name == name)


# Type mapping and optionality ---------------------------------------------------------------------

OPTIONAL = 'default, skip_serializing_if = "Option::is_none"'
DOUBLE = OPTIONAL + ', deserialize_with = "crate::serde_helpers::double_option"'
NULLABLE = 'deserialize_with = "crate::serde_helpers::nullable"'  # required: absent is an error
PRESENT = OPTIONAL + ', deserialize_with = "crate::serde_helpers::present"'  # null is a value


@pytest.mark.parametrize(
    ("schema", "required", "rust_type", "serde"),
    [
        ({"type": "string"}, True, "String", ""),
        ({"type": "string"}, False, "Option<String>", OPTIONAL),
        ({"type": ["string", "null"]}, True, "Option<String>", NULLABLE),
        ({"type": ["string", "null"]}, False, "Option<Option<String>>", DOUBLE),
        ({"type": "boolean"}, True, "bool", ""),
        ({"type": "integer"}, True, "i64", ""),
        ({"type": "integer", "format": "int32"}, True, "i32", ""),
        ({"type": "integer", "format": "int64"}, True, "i64", ""),
        ({"type": "number", "format": "float"}, True, "f32", ""),
        ({"type": "number"}, True, "f64", ""),
        ({"type": "string", "format": "decimal"}, True, "String", ""),
        ({"type": "string", "format": "date"}, True, "String", ""),
        ({"type": "string", "format": "uuid"}, True, "String", ""),
        ({"type": "string", "format": "byte"}, True, "String", ""),
        ({"type": "string", "format": "binary"}, True, "String", ""),
        ({"type": "string", "format": "date-time"}, True, "chrono::DateTime<chrono::Utc>", ""),
        ({}, True, "serde_json::Value", ""),
        ({}, False, "Option<serde_json::Value>", PRESENT),
        ({"$ref": "#/components/schemas/Free"}, False, "Option<Free>", PRESENT),
        ({"type": "array", "items": {"type": ["integer", "null"]}}, True, "Vec<Option<i64>>", ""),
        (
            {"type": "object", "additionalProperties": {"type": "integer", "format": "int32"}},
            False,
            "Option<std::collections::HashMap<String, i32>>",
            OPTIONAL,
        ),
        ({"type": "object"}, True, "std::collections::HashMap<String, serde_json::Value>", ""),
        ({"const": "fixed"}, True, "String", ""),
        ({"const": 3}, True, "i64", ""),
        ({"const": 2.5}, True, "f64", ""),
        ({"const": False}, True, "bool", ""),
        ({"$ref": "#/components/schemas/Tags"}, False, "Option<Tags>", OPTIONAL),
        (
            {"anyOf": [{"$ref": "#/components/schemas/Tags"}, {"type": "null"}]},
            True,
            "Option<Tags>",
            NULLABLE,
        ),
    ],
)
def test_field_types(
    tmp_path: Path, schema: dict[str, Any], required: bool, rust_type: str, serde: str
) -> None:
    models = _models(
        tmp_path,
        {
            "Tags": {"type": "array", "items": {"type": "string"}},
            "Free": {"description": "Any JSON value."},
            "Holder": {"type": "object", "required": ["f"] if required else [], "properties": {"f": schema}},
        },
    )
    f = _field(models, "Holder", "f")
    assert f.type == rust_type
    assert f.attrs == ([f"#[serde({serde})]"] if serde else [])


def test_additional_properties_are_flattened_under_a_free_name(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            "Extra": {
                "type": "object",
                "properties": {"additional_properties": {"type": "string"}},
                "additionalProperties": {"type": "integer"},
            }
        },
    )
    struct = _item(models, "Extra")
    assert [(f.name, f.type, f.attrs) for f in struct.fields] == [
        ("additional_properties", "Option<String>", [f"#[serde({OPTIONAL})]"]),
        ("additional_properties2", "std::collections::HashMap<String, i64>", ["#[serde(flatten)]"]),
    ]
    assert "Default" in struct.derives  # every field can be empty


def test_default_is_derived_only_when_every_field_may_be_absent(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            "Loose": {"type": "object", "properties": {"a": {"type": "string"}}},
            "Strict": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
        },
    )
    assert _item(models, "Loose").derives == "Debug, Clone, PartialEq, Default, Serialize, Deserialize"
    assert _item(models, "Strict").derives == "Debug, Clone, PartialEq, Serialize, Deserialize"


# Names ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wires", "names"),
    [
        (["type", "@type", "type2", "type_2"], ["r#type", "type2", "type_2", "type_22"]),
        (["self", "Self", "crate", "super"], ["self_", "self2", "crate_", "super_"]),
        (["async", "await", "fn", "match", "$ref"], ["r#async", "r#await", "r#fn", "r#match", "r#ref"]),
        (["3GPPFoo", "2fa_code", "_id", "__proto__"], ["n3gpp_foo", "n2fa_code", "id", "proto"]),
        (["foo_bar", "fooBar", "foo-bar", "FooBar"], ["foo_bar", "foo_bar2", "foo_bar3", "foo_bar4"]),
        (["@", "$", "🚀"], ["field", "field2", "field3"]),
    ],
)
def test_field_names(wires: list[str], names: list[str]) -> None:
    claim = rust.field_namer()
    assert [claim(w) for w in wires] == names


def test_renames_follow_the_unraw_name(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {"Thing": {"type": "object", "properties": {"type": {"type": "string"}, "self": {"type": "string"}}}},
    )
    assert _field(models, "Thing", "r#type").attrs == [f"#[serde({OPTIONAL})]"]  # serde unraws r#type
    assert _field(models, "Thing", "self_").attrs == [f'#[serde(rename = "self", {OPTIONAL})]']


@pytest.mark.parametrize(
    ("schema_names", "rust_names"),
    [
        (["type", "self", "async", "fn"], ["Type", "SelfModel", "Async", "FnModel"]),
        (
            ["Option", "Result", "Box", "Vec", "String"],
            ["OptionModel", "ResultModel", "BoxModel", "VecModel", "StringModel"],
        ),
        (["D", "S", "Client", "Error"], ["DModel", "SModel", "ClientModel", "ErrorModel"]),
        (["3GPPFoo", "issuing.card", "issuing_card"], ["N3gppFoo", "IssuingCard", "IssuingCard2"]),
        (["foo_bar", "fooBar", "FooBar"], ["FooBar", "FooBar2", "FooBar3"]),
    ],
)
def test_type_names(tmp_path: Path, schema_names: list[str], rust_names: list[str]) -> None:
    api = _api(tmp_path, {name: {"type": "string"} for name in schema_names})
    types = rust.RustTypes(api)
    assert [types.names[n.name] for n in api.types] == rust_names


def test_type_names_never_use_raw_identifiers(hostile_api: ir.Api) -> None:
    names = rust.RustTypes(hostile_api).names.values()
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*", name) for name in names), sorted(names)


@pytest.mark.parametrize(
    ("values", "names"),
    [
        (["online", "busy_now", "run.started"], ["Online", "BusyNow", "RunStarted"]),
        (["A", "a", "unknown", "Unknown"], ["A", "A2", "Unknown2", "Unknown3"]),
        (["", " ", "-", "_", "*/"], ["Empty", "Space", "HyphenMinus", "LowLine", "AsteriskSolidus"]),
        (["🚀", "🚀 rocket", "3d", "Self"], ["Rocket", "Rocket2", "Value3d", "SelfValue"]),
        ([-1, 0, 1, 2147483647], ["ValueMinus1", "Value0", "Value1", "Value2147483647"]),
    ],
)
def test_enum_variant_names(values: list[str | int], names: list[str]) -> None:
    assert rust.enum_variant_names(tuple(ir.EnumValue(v) for v in values)) == names


# Enums ----------------------------------------------------------------------------------------------


def test_string_and_integer_enums(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            "Status": {"type": "string", "enum": ["on", 'say "hi"', "line\nbreak"]},
            "Level": {"type": "integer", "enum": [-1, 2]},
        },
    )
    status = _item(models, "Status")
    assert (status.base, status.impls) == ("String", "rust/enum_string.rs.j2")
    assert [(v.name, v.literal) for v in status.values] == [
        ("On", '"on"'),
        ("SayHi", '"say \\"hi\\""'),
        ("LineBreak", '"line\\nbreak"'),
    ]
    assert status.values[1].doc == ['/// The value `"say \\"hi\\""`.']
    level = _item(models, "Level")
    assert (level.base, level.impls) == ("i64", "rust/enum_integer.rs.j2")
    assert [(v.name, v.literal) for v in level.values] == [("ValueMinus1", "-1"), ("Value2", "2")]


# Recursion ------------------------------------------------------------------------------------------


def test_recursive_fields_are_boxed_except_through_collections(tmp_path: Path) -> None:
    node = {"$ref": "#/components/schemas/Node"}
    models = _models(
        tmp_path,
        {
            "Node": {
                "type": "object",
                "required": ["me"],
                "properties": {
                    "next": node,
                    "me": node,
                    "maybe": {"anyOf": [node, {"type": "null"}]},
                    "children": {"type": "array", "items": node},
                    "by_name": {"type": "object", "additionalProperties": node},
                    "partner": {"$ref": "#/components/schemas/Partner"},
                    "leaf": {"$ref": "#/components/schemas/Leaf"},
                },
            },
            "Partner": {"type": "object", "properties": {"node": node}},
            "Leaf": {"type": "object", "properties": {"x": {"type": "string"}}},
        },
    )
    types = {f.name: f.type for f in _item(models, "Node").fields}
    assert types == {
        "next": "Option<Box<Node>>",
        "me": "Box<Node>",
        "maybe": "Option<Option<Box<Node>>>",
        "children": "Option<Vec<Node>>",
        "by_name": "Option<std::collections::HashMap<String, Node>>",
        "partner": "Option<Box<Partner>>",
        "leaf": "Option<Leaf>",
        "extra": "serde_json::Map<String, serde_json::Value>",  # fields the contract does not declare
    }
    assert _field(models, "Partner", "node").type == "Option<Box<Node>>"


def test_recursion_through_an_alias_boxes_the_field(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            "Wrapper": {"oneOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]},
            "Node": {"type": "object", "properties": {"w": {"$ref": "#/components/schemas/Wrapper"}}},
        },
    )
    assert isinstance(_item(models, "Wrapper"), rust.RustAlias)
    assert _field(models, "Node", "w").type == "Option<Option<Box<Wrapper>>>"  # Wrapper admits null


def test_recursive_aliases_become_newtypes(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            "Json": {"type": "array", "items": {"$ref": "#/components/schemas/Json"}},
            "Tree": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Tree"}},
            "Plain": {"type": "array", "items": {"type": "string"}},
        },
    )
    json_item, tree, plain = (_item(models, n) for n in ("Json", "Tree", "Plain"))
    assert isinstance(json_item, rust.RustNewtype) and json_item.target == "Vec<Json>"
    assert isinstance(tree, rust.RustNewtype) and tree.target == "std::collections::HashMap<String, Tree>"
    assert isinstance(plain, rust.RustAlias) and plain.target == "Vec<String>"


def test_an_alias_of_itself_degrades_to_a_json_value() -> None:
    # The OpenAPI loader rejects such contracts; another front end might not.
    api = ir.Api(
        title="t",
        version="1",
        docs=ir.Docs(),
        servers=(),
        tags=(),
        types=(
            ir.NamedType("A", ir.AliasDef(ir.NamedRef("B"))),
            ir.NamedType("B", ir.AliasDef(ir.ArrayType(ir.NamedRef("A")))),
            ir.NamedType("C", ir.AliasDef(ir.NamedRef("C"))),
        ),
        operations=(),
        security_schemes=(),
    )
    models = rust.build_models(api)
    a, b, c = models.items
    assert (type(a), a.target) == (rust.RustNewtype, "B")
    assert (type(b), b.target) == (rust.RustNewtype, "Vec<A>")
    assert (type(c), c.target) == (rust.RustAlias, "serde_json::Value")
    assert models.warnings == ["schema 'C' is an alias of itself; it is generated as serde_json::Value"]


# Unions ---------------------------------------------------------------------------------------------


def test_discriminated_union(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            "Pet": {
                "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
                "discriminator": {
                    "propertyName": "kind",
                    "mapping": {
                        "cat": "#/components/schemas/Cat",
                        "kitty": "#/components/schemas/Cat",
                        "dog": "#/components/schemas/Dog",
                    },
                },
            },
            "Cat": {"type": "object", "properties": {"meow": {"type": "boolean"}}},
            "Dog": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
        },
    )
    pet = _item(models, "Pet")
    assert pet.discriminator == '"kind"'
    assert pet.decoder == "rust/union_tagged.rs.j2"
    # Encoding writes a variant's tag unless the value holds one of them; Cat does not declare
    # `kind`, so decoding drops the tag rather than keep it among Cat's unknown fields.
    assert [(v.name, v.payload, v.pattern, v.tags, v.untag) for v in pet.variants] == [
        ("Cat", "Box<Cat>", '"cat" | "kitty"', '&["cat", "kitty"]', True),
        ("Dog", "Box<Dog>", '"dog"', '&["dog"]', False),
    ]
    assert pet.variants[0].what == '"`Cat` variant of `Pet`"'


def test_union_variant_names_from_hostile_tags(hostile_api: ir.Api) -> None:
    shape = _item(rust.build_models(hostile_api), "Shape")
    assert [(v.name, v.pattern) for v in shape.variants] == [
        ("BoxQuoted", '"box \\"quoted\\""'),
        ("Vec", '"vec*/"'),
    ]


def test_undiscriminated_union_tries_variants_in_contract_order(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            "Mixed": {
                "oneOf": [
                    {"const": ""},
                    {"type": "string"},
                    {"type": "integer", "format": "int64"},
                    {"type": "number"},
                    {"type": "boolean"},
                    {"type": "array", "items": {"type": "string"}},
                    {"$ref": "#/components/schemas/Obj"},
                    {"$ref": "#/components/schemas/Color"},
                    {"type": "object", "additionalProperties": {"type": "string"}},
                ]
            },
            "Obj": {"type": "object", "required": ["a", "b"], "properties": {"a": {}, "b": {}, "c": {}}},
            "Color": {"type": "string", "enum": ["red", "green"]},
        },
    )
    mixed = _item(models, "Mixed")
    assert mixed.decoder == "rust/union_untagged.rs.j2"
    assert [(v.name, v.payload, v.accept) for v in mixed.variants] == [
        ("Empty", "String", 'value.as_str() == Some("")'),
        ("String", "String", "value.is_string()"),
        ("Integer", "i64", "value.is_number()"),
        ("Number", "f64", "value.is_number()"),
        ("Bool", "bool", "value.is_boolean()"),
        ("StringList", "Vec<String>", "value.is_array()"),
        ("Obj", "Box<Obj>", 'crate::serde_helpers::has_fields(&value, &["a", "b"])'),
        ("Color", "Color", "value.is_string()"),
        ("StringMap", "std::collections::HashMap<String, String>", "value.is_object()"),
    ]


def test_variant_names_drop_the_union_name_prefix(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            "Created": {
                "anyOf": [{"type": "object", "properties": {"gt": {"type": "integer"}}}, {"type": "integer"}]
            }
        },
    )
    assert [(v.name, v.payload) for v in _item(models, "Created").variants] == [
        ("Variant1", "Box<CreatedVariant1>"),
        ("Integer", "i64"),
    ]


def test_a_union_containing_itself_never_decodes_that_variant(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {"Loop": {"oneOf": [{"$ref": "#/components/schemas/Loop"}, {"type": "string"}]}},
    )
    loop = _item(models, "Loop")
    assert [(v.name, v.payload, v.accept) for v in loop.variants] == [
        ("Loop", "Box<Loop>", ""),
        ("String", "String", "value.is_string()"),
    ]
    assert any("never decoded" in w for w in models.warnings)


@pytest.mark.parametrize(
    ("value", "condition"),
    [
        ("x", 'value.as_str() == Some("x")'),
        (True, "value.as_bool() == Some(true)"),
        (-5, "value.as_i64() == Some(-5)"),
        (2**63, f"value.as_u64() == Some({2**63})"),
        (10**30, "value == 1e+30_f64"),
        (1.5, "value == 1.5_f64"),
    ],
)
def test_const_conditions(value: str | int | float | bool, condition: str) -> None:
    assert rust.const_condition(value) == condition


# Docs -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("plain", ["plain"]),
        ("a\n\n\n\nb\n", ["a", "", "b"]),
        ("```\nfn main() {}\n```", ["```text", "fn main() {}", "```"]),
        ("```rust,ignore\n  x\n```", ["```text", "  x", "```"]),
        ("~~~~json\n```\n~~~~", ["~~~~text", "```", "~~~~"]),
        ("- item\n  ```\n  code\n  ```", ["- item", "```text", "  code", "```"]),
        ("```\nunclosed", ["```text", "unclosed"]),
        ("``` `inline` ```", ["``` `inline` ```"]),
        ("text\n\n    indented code", ["text", "", "   indented code"]),
        (">     quoted code\n-      listed code", ["> quoted code", "- listed code"]),
        ("* item\n  continued", ["* item", "  continued"]),
        ("<p>html</p>", ["<p>html</p>"]),
        ("<div>\n```\n</div>", ["&lt;div>", "```text", "</div>"]),
        ("a */ b\u2028c\u202ed", ["a */ b", "cd"]),
    ],
)
def test_rustdoc_lines(text: str, lines: list[str]) -> None:
    assert rust.rustdoc_lines(text) == lines


_HAZARDS = [
    "```",
    "```rust",
    "````",
    "~~~",
    "``` `x`",
    "compile_error!()",
    "- ",
    "* ",
    "1. ",
    "123) ",
    "> ",
    "<div>",
    "</div>",
    "<pre>",
    "<!--",
    "-->",
    "text",
    "",
    "\t",
    "    ",
]


def test_rustdoc_lines_never_leave_a_code_block_that_could_run() -> None:
    """Outside the fences it opens, no line is indented enough for a code block and no fence is
    bare; every fence it opens says `text`. (Checked against rustdoc itself by the toolchain tier.)"""
    rnd = random.Random(7)
    for _ in range(2000):
        text = "\n".join(
            " " * rnd.choice([0, 2, 4, 8]) + "".join(rnd.choice(_HAZARDS) for _ in range(rnd.randint(1, 3)))
            for _ in range(rnd.randint(1, 10))
        )
        fence = None
        for line in rust.rustdoc_lines(text):
            if fence is not None:
                stripped = line.strip()
                if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                    assert line == stripped, repr(text)
                    fence = None
                continue
            assert not line.startswith("    "), repr(text)
            assert not re.search(r"^(>|[-*+]|\d+[.)]) {2}", line.lstrip()), repr(text)
            if match := re.match(r"\s*(`{3,}|~{3,})(.*)", line):
                if match.group(1)[0] == "`" and "`" in match.group(2):
                    continue
                assert line == match.group(1) + "text", repr(text)
                fence = match.group(1)


def test_docs_fall_back_to_a_generated_sentence(tmp_path: Path) -> None:
    models = _models(tmp_path, {"Thing": {"type": "object", "properties": {"we`ird": {"type": "string"}}}})
    thing = _item(models, "Thing")
    assert thing.doc == ["/// The `Thing` schema."]
    assert thing.fields[0].doc == ['/// The `"we\\u{60}ird"` property.']


# Package ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "package_name", "crate"),
    [
        ("Orchestrator API", "", "orchestrator-sdk"),
        ("Swagger Petstore - OpenAPI 3.0", "", "swagger-petstore-open-3-0-sdk"),
        ("3D Printing", "", "n3d-printing-sdk"),
        ("Anything", "acme-sdk", "acme-sdk"),
        ("", "", "client-sdk"),
    ],
)
def test_crate_name(tmp_path: Path, title: str, package_name: str, crate: str) -> None:
    assert rust.crate_name(_api(tmp_path, {}, title), Options(package_name=package_name)) == crate


def test_toml_strings_round_trip() -> None:
    text = 'Hostile */ " \\ ${x} `y` \n\t\u2028 🚀 \x7f'
    assert tomllib.loads(f"v = {rust.toml_string(text)}")["v"] == text


def test_plan_renders_hostile_contract(tmp_path: Path, hostile_api: ir.Api) -> None:
    sdk_files = ["Cargo.toml", "README.md", "src/lib.rs", "src/models.rs", "src/operations.rs"]
    runtime = [
        "src/serde_helpers.rs",
        ".gitignore",
        *(f"src/runtime/{name}.rs" for name in rust.RUNTIME_MODULES),
    ]
    without = rust.plan(build_decisions(hostile_api), Options())
    assert [f.output for f in without.files] == sdk_files, "no driver unless asked for"
    assert [r.output for r in without.runtime] == runtime
    plan = rust.plan(build_decisions(hostile_api), Options(drivers=True))
    assert [f.output for f in plan.files] == [*sdk_files, "examples/polysdk_driver/dispatch.rs"]
    engine = ["examples/polysdk_driver/main.rs", "examples/polysdk_driver/engine.rs"]
    assert [r.output for r in plan.runtime] == [*runtime, *engine]
    plan.formatter = None
    render_plan(plan, tmp_path)
    cargo = tomllib.loads((tmp_path / "Cargo.toml").read_text())
    assert cargo["package"]["description"] == f"Rust SDK for the {hostile_api.title}"
    assert cargo["package"]["rust-version"] == "1.80"
    for path in ("src/lib.rs", "src/models.rs", "src/operations.rs"):
        for line in (tmp_path / path).read_text().splitlines():
            stripped = line.strip()
            # Every line is a comment, an attribute or code without raw contract text: no hostile
            # sequence survives outside a comment or an escaped string literal.
            if not stripped.startswith("//"):
                assert "${danger}" not in stripped.replace('"${danger}"', ""), line
                assert "</script>" not in stripped, line


def test_generation_is_deterministic(tmp_path: Path, orchestrator_api: ir.Api) -> None:
    trees = []
    for run in ("a", "b"):
        plan = rust.plan(build_decisions(orchestrator_api), Options())
        plan.formatter = None
        render_plan(plan, tmp_path / run)
        trees.append(
            {
                p.relative_to(tmp_path / run): p.read_bytes()
                for p in (tmp_path / run).rglob("*")
                if p.is_file()
            }
        )
    assert trees[0] == trees[1]


# Toolchain: the generated models behave as documented -----------------------------------------------

TORTURE = {
    "Node": {
        "type": "object",
        "description": 'A node.\n\n```\ncompile_error!("doctest");\n```\n\n    compile_error!("doctest");',
        "required": ["value"],
        "properties": {
            "value": {"type": "integer"},
            "next": {"$ref": "#/components/schemas/Node"},
            "note": {"type": ["string", "null"]},
        },
    },
    "Json": {"type": "array", "items": {"$ref": "#/components/schemas/Json"}},
    "Pet": {
        "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
        "discriminator": {
            "propertyName": "kind",
            "mapping": {"cat": "#/components/schemas/Cat", "dog": "#/components/schemas/Dog"},
        },
    },
    "Cat": {"type": "object", "properties": {"meow": {"type": "boolean"}}},
    "Dog": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
    "Bag": {
        "type": "object",
        "properties": {"id": {"type": "string"}},
        "additionalProperties": {"type": "integer"},
    },
    "Loop": {"oneOf": [{"$ref": "#/components/schemas/Loop"}, {"type": "string"}, {"const": 7}]},
}

BEHAVIOUR = r"""
use acme_sdk::*;
use serde_json::json;

#[test]
fn recursive_structs_round_trip_and_absent_differs_from_null() {
    let raw = json!({"value": 1, "next": {"value": 2, "note": null}});
    let node: Node = serde_json::from_value(raw.clone()).unwrap();
    let next = node.next.as_ref().unwrap();
    assert_eq!((node.note.clone(), next.note.clone()), (None, Some(None)));
    assert_eq!(serde_json::to_value(&node).unwrap(), raw);
    let tree: Json = serde_json::from_value(json!([[], [[]]])).unwrap();
    assert_eq!(tree.0.len(), 2);
}

#[test]
fn unions_dispatch_keep_unknowns_and_add_missing_tags() {
    let cat: Pet = serde_json::from_value(json!({"kind": "cat", "meow": true})).unwrap();
    assert!(matches!(cat, Pet::Cat(ref c) if c.meow == Some(true)));
    assert_eq!(serde_json::to_value(&cat).unwrap(), json!({"kind": "cat", "meow": true}));
    let bird = json!({"kind": "bird"});
    assert_eq!(serde_json::from_value::<Pet>(bird.clone()).unwrap(), Pet::Unknown(bird));
    assert!(serde_json::from_value::<Pet>(json!({"kind": "cat", "meow": 3})).is_err());
    assert_eq!(serde_json::from_value::<Loop>(json!(7)).unwrap(), Loop::Value7(7));
    assert_eq!(serde_json::from_value::<Loop>(json!("x")).unwrap(), Loop::String("x".into()));
    assert_eq!(serde_json::from_value::<Loop>(json!(8)).unwrap(), Loop::Unknown(json!(8)));
}

#[test]
fn additional_properties_are_kept() {
    let raw = json!({"id": "a", "x": 1, "y": 2});
    let bag: Bag = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(bag.additional_properties.len(), 2);
    assert_eq!(serde_json::to_value(&bag).unwrap(), raw);
}
"""


def _crate_with_test(tmp_path: Path, api: Any, name: str, source: str) -> Callable[..., str]:
    """Renders api's Rust crate with tests/<name>.rs, checks fmt and clippy; returns `cargo_ok`,
    which runs cargo in the crate and fails the test on a non-zero exit."""
    cargo = require_tool("cargo")
    require_tool("rustfmt")
    target = Path(os.environ.get("POLYSDK_CARGO_TARGET", ROOT / ".cache" / "cargo-target"))
    crate = tmp_path / "rust"
    render_plan(rust.plan(build_decisions(api), Options()), crate)
    env = {**os.environ, "CARGO_TARGET_DIR": str(target)}

    def cargo_ok(*args: str) -> str:
        result = subprocess.run(
            [cargo, *args], cwd=crate, capture_output=True, text=True, check=False, env=env
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"cargo {' '.join(args)}:\n{output[-6000:]}"
        return output

    cargo_ok("fmt", "--check")
    (crate / "tests").mkdir()
    (crate / "tests" / f"{name}.rs").write_text(source)
    cargo_ok("clippy", "--all-targets", "--quiet", "--", "-D", "warnings")
    return cargo_ok


@pytest.mark.toolchain
def test_generated_models_behave(tmp_path: Path) -> None:
    cargo_ok = _crate_with_test(tmp_path, _api(tmp_path, TORTURE), "behaviour", BEHAVIOUR)
    assert "test result: ok. 3 passed" in cargo_ok("test", "--test", "behaviour")
    crate = tmp_path / "rust"
    # Descriptions never become doctests: the only doctests are the README's examples.
    examples = (crate / "README.md").read_text().count("```rust")
    assert f"running {examples} tests" in cargo_ok("test", "--doc")
    cargo_ok("test", "--quiet")


# Read-only and unknown fields ---------------------------------------------------------------------

# Read-only fields at every depth of a request body: in a struct, a boxed recursion, a union
# variant, a map, an alias of an array, a nullable reference; Plain holds none; Sent is only sent.
READ_ONLY_SPEC = """
openapi: 3.1.0
info: {title: Acme API, version: '1'}
servers: [{url: 'https://api.acme.test'}]
paths:
  /holders:
    post:
      operationId: createHolder
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Holder'}}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Holder'}}}}
  /sent:
    post:
      operationId: send
      requestBody:
        content: {application/json: {schema: {$ref: '#/components/schemas/Sent'}}}
      responses:
        '204': {description: nothing}
components:
  schemas:
    Item:
      type: object
      required: [id, name, created]
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
        created: {type: string, format: date-time, readOnly: true}
        note: {}
        child: {$ref: '#/components/schemas/Item'}
    Items: {type: array, items: {$ref: '#/components/schemas/Item'}}
    Shape:
      oneOf: [{$ref: '#/components/schemas/Circle'}, {$ref: '#/components/schemas/Square'}]
      discriminator:
        propertyName: kind
        mapping:
          circle: '#/components/schemas/Circle'
          round: '#/components/schemas/Circle'
          square: '#/components/schemas/Square'
    Circle:
      type: object
      required: [kind, radius, id]
      properties:
        kind: {type: string}
        radius: {type: number}
        id: {type: string, readOnly: true}
    Square:
      type: object
      required: [side]
      properties:
        side: {type: number}
        owner: {$ref: '#/components/schemas/Item'}
    Nest: {type: array, items: {$ref: '#/components/schemas/Nest'}}
    Holder:
      type: object
      properties:
        shapes: {type: array, items: {$ref: '#/components/schemas/Shape'}}
        by_name: {type: object, additionalProperties: {$ref: '#/components/schemas/Item'}}
        items: {$ref: '#/components/schemas/Items'}
        maybe: {oneOf: [{$ref: '#/components/schemas/Item'}, {type: 'null'}]}
        plain: {$ref: '#/components/schemas/Plain'}
        seen: {type: [string, 'null'], format: date-time}
        nest: {$ref: '#/components/schemas/Nest'}
      required: [seen]
    Plain:
      type: object
      required: [a]
      properties:
        a: {type: string}
    Sent:
      type: object
      required: [b]
      properties:
        b: {type: string}
        id: {type: string, readOnly: true}
"""


def test_read_only_fields_get_a_request_twin(tmp_path: Path) -> None:
    api = api_from_text(tmp_path, READ_ONLY_SPEC)
    types = rust.RustTypes(api)
    # Every schema sent in a request body that holds a read-only field, at any depth; not Plain
    # or Nest (none inside), and Sent keeps no unknown fields as it is never received.
    assert types.inputs == {
        "Item": "ItemInput",
        "Items": "ItemsInput",
        "Shape": "ShapeInput",
        "Circle": "CircleInput",
        "Square": "SquareInput",
        "Holder": "HolderInput",
        "Sent": "SentInput",
    }
    assert types.request_only == {"Sent"}
    body = ir.NamedRef("Holder")
    assert (types.entry(body).rendered, types.request_entry(body).rendered) == ("Holder", "HolderInput")
    models = rust.build_models(api, types)
    names = [item.name for item in models.items]
    assert names.index("ItemInput") == names.index("Item") + 1  # each twin follows its schema
    item = _item(models, "Item")
    assert [f.name for f in item.fields] == ["id", "name", "created", "note", "child", "extra"]
    twin = _item(models, "ItemInput")
    assert [(f.name, f.type) for f in twin.fields] == [
        ("name", "String"),
        ("note", "Option<serde_json::Value>"),
        ("child", "Option<Box<ItemInput>>"),
    ]
    assert "`id`, `created`" in " ".join(twin.doc)
    assert twin.conversion.source == "Item"
    assert "    child: value.child.map(|v| Box::new(ItemInput::from(*v)))," in twin.conversion.body
    holder = _item(models, "HolderInput")
    body_lines = holder.conversion.body
    assert "    items: value.items.map(|v| v.into_iter().map(ItemInput::from).collect())," in body_lines
    assert "    plain: value.plain," in body_lines
    assert [f.name for f in _item(models, "Sent").fields] == ["b", "id"]  # no unknown fields
    shape = _item(models, "ShapeInput")
    assert [v.payload for v in shape.variants] == ["Box<CircleInput>", "Box<SquareInput>"]
    assert (
        shape.conversion.body[1]
        == "    Shape::Circle(inner) => Self::Circle(Box::new(CircleInput::from(*inner))),"
    )


@pytest.mark.toolchain
def test_read_only_and_unknown_fields_behave(tmp_path: Path) -> None:
    api = api_from_text(tmp_path, READ_ONLY_SPEC)
    cargo_ok = _crate_with_test(tmp_path, api, "read_only", READ_ONLY_BEHAVIOUR)
    assert "test result: ok. 3 passed" in cargo_ok("test", "--test", "read_only")


READ_ONLY_BEHAVIOUR = r"""
use acme_sdk::*;
use serde_json::json;

fn item(id: &str) -> serde_json::Value {
    json!({"id": id, "name": "n", "created": "2025-01-01T00:00:00Z"})
}

#[test]
fn responses_keep_read_only_and_unknown_fields_at_every_depth() {
    let raw = json!({
        "shapes": [
            {"kind": "round", "radius": 1.5, "id": "c1", "future": [1, null]},
            {"kind": "square", "side": 2.0, "owner": {
                "id": "i9", "name": "o", "created": "2025-01-01T00:00:00Z", "new": {"deep": true},
            }},
            {"kind": "hexagon", "sides": 6},
        ],
        "by_name": {"a": item("i1")},
        "items": [{"id": "i2", "name": "m", "created": "2025-01-01T00:00:00Z", "note": null}],
        "maybe": null,
        "plain": {"a": "x", "b": null},
        "seen": null,
        "top_level_future": {"x": 1},
    });
    let holder: Holder = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&holder).unwrap(), raw);
    let shapes = holder.shapes.as_ref().unwrap();
    // A variant that does not declare the tag does not keep it among its unknown fields.
    let Shape::Square(square) = &shapes[1] else {
        panic!("{:?}", shapes[1])
    };
    assert!(square.extra.is_empty());
    assert_eq!(
        square.owner.as_ref().unwrap().extra["new"],
        json!({"deep": true})
    );
    assert_eq!(
        holder.items.as_ref().unwrap()[0].note,
        Some(serde_json::Value::Null)
    );
    assert_eq!(holder.extra["top_level_future"], json!({"x": 1}));
}

#[test]
fn required_fields_stay_required_in_responses() {
    // A missing read-only field, a missing required nullable one, a null object: errors.
    assert!(serde_json::from_value::<Item>(
        json!({"name": "n", "created": "2025-01-01T00:00:00Z"})
    )
    .is_err());
    assert!(serde_json::from_value::<Holder>(json!({})).is_err());
    assert!(serde_json::from_value::<Holder>(json!(null)).is_err());
    assert!(serde_json::from_value::<Item>(
        json!({"id": 1, "name": "n", "created": "2025-01-01T00:00:00Z"})
    )
    .is_err());
    let circle = json!({"kind": "circle", "radius": 1.0});
    assert!(serde_json::from_value::<Shape>(circle.clone()).is_err());
    // ... but not when building a request body: read-only fields are not part of it.
    assert!(serde_json::from_value::<ShapeInput>(circle).is_ok());
    assert!(serde_json::from_value::<ItemInput>(json!({"name": "n"})).is_ok());
}

#[test]
fn request_bodies_never_carry_read_only_fields() {
    let body = HolderInput {
        shapes: Some(vec![
            ShapeInput::Circle(Box::new(CircleInput {
                kind: String::new(),
                radius: 1.0,
            })),
            ShapeInput::Square(Box::new(SquareInput {
                side: 2.0,
                owner: None,
            })),
        ]),
        items: Some(vec![ItemInput {
            name: "m".into(),
            note: None,
            child: None,
        }]),
        ..Default::default()
    };
    // Discriminated unions always carry their tag, whatever the caller left in it.
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({
            "shapes": [{"kind": "circle", "radius": 1.0}, {"kind": "square", "side": 2.0}],
            "items": [{"name": "m"}],
            "seen": null,
        })
    );
    // A response turned into a request body loses what the server set, at every depth.
    let raw = json!({
        "shapes": [
            {"kind": "round", "radius": 1.5, "id": "c1", "future": 1},
            {"kind": "square", "side": 2.0, "owner": item("i9")},
        ],
        "by_name": {"a": {"id": "i1", "name": "n", "created": "2025-01-01T00:00:00Z", "child": item("i0")}},
        "items": [item("i2")],
        "maybe": item("i3"),
        "seen": "2025-01-01T00:00:00Z",
        "nest": [[]],
        "future": true,
    });
    let holder: Holder = serde_json::from_value(raw).unwrap();
    let body = HolderInput::from(holder);
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({
            "shapes": [
                {"kind": "round", "radius": 1.5},
                {"kind": "square", "side": 2.0, "owner": {"name": "n"}},
            ],
            "by_name": {"a": {"name": "n", "child": {"name": "n"}}},
            "items": [{"name": "n"}],
            "maybe": {"name": "n"},
            "seen": "2025-01-01T00:00:00Z",
            "nest": [[]],
        })
    );
    let sent = SentInput::from(Sent {
        b: "b".into(),
        id: Some("x".into()),
    });
    assert_eq!(serde_json::to_value(&sent).unwrap(), json!({"b": "b"}));
}
"""


# Operations ---------------------------------------------------------------------------------------

OPERATIONS_SPEC = """
openapi: 3.1.0
info: {title: Acme API, version: '1'}
servers: [{url: 'https://api.acme.test/v2'}]
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Acme-Key}
  schemas:
    Thing: {type: object, required: [id], properties: {id: {type: string}}}
    Page:
      type: object
      required: [data]
      properties:
        data: {type: array, items: {$ref: '#/components/schemas/Thing'}}
        next_cursor: {type: [string, 'null']}
        has_more: {type: boolean}
security: [{key: []}]
paths:
  /things/{self}:
    get:
      operationId: fn
      tags: [things]
      security: []
      parameters:
        - {name: self, in: path, required: true, schema: {type: string}}
        - {name: client, in: query, schema: {type: integer}}
        - {name: send, in: query, schema: {type: array, items: {type: string}}, style: pipeDelimited}
        - {name: X-Trace, in: header, schema: {type: string}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}
  /things:
    get:
      operationId: listThings
      tags: [things]
      parameters:
        - {name: cursor, in: query, schema: {type: string}}
        - {name: limit, in: query, schema: {type: integer, format: int32}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Page'}}}}
    post:
      operationId: createThing
      tags: [things]
      parameters:
        - {name: Idempotency-Key, in: header, schema: {type: string}}
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}
      responses:
        '201': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}
        '204': {description: nothing}
"""


def _operations(tmp_path: Path) -> tuple[ir.Api, rust.RustOperations]:
    api = api_from_text(tmp_path, OPERATIONS_SPEC)
    types = rust.RustTypes(api)
    return api, rust.build_operations(api, types, build_decisions(api))


def test_operations_hostile_names_and_request_statements(tmp_path: Path) -> None:
    _, ops = _operations(tmp_path)
    (group,) = ops.groups
    assert (group.name, group.accessor) == ("ThingsApi", "things")
    get, listing, create = group.operations
    assert (get.method, get.builder) == ("r#fn", "FnRequest")
    assert [(op.method, op.builder) for op in (listing, create)] == [
        ("list", "ListThingsRequest"),  # the builder keeps the whole operationId
        ("create", "CreateThingRequest"),
    ]
    names = [p.ident for p in get.params]
    assert names == ["self_", "client2", "send2", "x_trace"]  # never the builder's own names
    assert get.path == '["/things/", crate::runtime::segment(&self.self_).as_str()].concat()'
    assert 'req.query("send", crate::runtime::Style::PipeDelimited, false, &self.send2);' in get.statements
    assert 'req.header("X-Trace", &self.x_trace);' in get.statements
    assert "req.auth(false, false);" in get.statements  # security: []
    assert "req.auth(false, true);" in listing.statements  # the contract's only scheme: the API key
    assert 'req.accept("application/json");' in get.statements  # the decided Accept, on every call
    assert get.call == "call_json::<Thing>"
    assert create.data == "Option<Thing>"  # 204 next to 201
    assert 'req.idempotency("Idempotency-Key");' in create.statements
    assert "req.retryable(true);" in create.statements
    assert [p.ident for p in create.params] == ["body"]  # the idempotency header is the SDK's
    assert listing.paging is not None
    assert listing.paging.item == "Thing"
    assert listing.paging.next[0] == (
        "let cursor = crate::runtime::next_cursor("
        "page.data.next_cursor.clone().flatten(), page.data.has_more)?;"
    )


def test_plan_constants_come_from_the_contract(tmp_path: Path) -> None:
    api = api_from_text(tmp_path, OPERATIONS_SPEC)
    plan = rust.plan(build_decisions(api), Options())
    context = plan.files[0].context
    client = context["client"]
    assert client.default_base_url == '"https://api.acme.test/v2"' and client.has_base_url
    assert client.env_prefix == '"ACME"'
    assert client.bearer == "false"
    assert client.api_key == 'Some((runtime::ApiKeyIn::Header, "X-Acme-Key"))'
    assert context["examples"]["page"].call == "client.things().list()"
    outputs = {f.output for f in plan.files} | {r.output for r in plan.runtime}
    assert {"src/operations.rs", "README.md", "src/runtime/http.rs", "src/runtime/sse.rs"} <= outputs


METHOD_NAMES_SPEC_OPS = [
    ("get", "/agents", "listAgents"),
    ("put", "/agents", "listAgent"),  # also `list`: numbered
    ("post", "/agents", "createAgent"),
    ("get", "/agents/{id}/status", "getAgentStatus"),
    ("post", "/agents/{id}/respond", "respondToAgent"),  # a trailing preposition goes too
    ("post", "/agents/{id}/type", "typeAgent"),  # keyword: raw identifier
    ("post", "/agents/{id}/self", "selfAgent"),  # cannot be raw: suffix
    ("post", "/agents/{id}/clone", "cloneAgent"),  # the resource struct's own names stay free
    ("post", "/agents/{id}/client", "clientAgent"),
    ("get", "/agents/{id}", "agents"),  # nothing left: the whole operationId
    ("post", "/other", "listRunAgentEvents"),  # the group's name in the middle carries meaning: kept
]


def test_operation_methods_drop_the_group_name_like_go(tmp_path: Path) -> None:
    paths: dict[str, Any] = {}
    for verb, path, op_id in METHOD_NAMES_SPEC_OPS:
        op: dict[str, Any] = {
            "operationId": op_id,
            "tags": ["agents"],
            "responses": {"204": {"description": "ok"}},
        }
        if "{id}" in path:
            op["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
        paths.setdefault(path, {})[verb] = op
    doc = {"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": paths}
    api = api_from_text(tmp_path, yaml.safe_dump(doc, sort_keys=False))
    ops = rust.build_operations(api, rust.RustTypes(api), build_decisions(api))
    (group,) = ops.groups
    by_id = {op.builder: op.method for op in group.operations}
    assert by_id == {
        "ListAgentsRequest": "list",
        "ListAgentRequest": "list2",
        "CreateAgentRequest": "create",
        "GetAgentStatusRequest": "get_status",
        "RespondToAgentRequest": "respond",
        "TypeAgentRequest": "r#type",
        "SelfAgentRequest": "self_",
        "CloneAgentRequest": "clone2",
        "ClientAgentRequest": "client2",
        "AgentsRequest": "agents",
        "ListRunAgentEventsRequest": "list_run_agent_events",
    }


NO_SERVER_SPEC = """
openapi: 3.1.0
info: {title: Bare, version: '1'}
servers: [{url: /relative}]
components:
  securitySchemes:
    token: {type: http, scheme: bearer}
    key: {type: apiKey, in: query, name: api_key}
  schemas:
    Code: {type: string}
paths:
  /items/{id}:
    get:
      operationId: getItem
      security: [{token: []}]
      parameters:
        - {name: id, in: path, required: true, schema: {$ref: '#/components/schemas/Code'}}
      responses:
        '200': {description: ok, content: {application/vnd.bare+json: {schema: {type: object}}}}
"""


def test_client_defaults_render_the_decisions(tmp_path: Path) -> None:
    api = api_from_text(tmp_path, NO_SERVER_SPEC)
    decisions = build_decisions(api)
    plan = rust.plan(decisions, Options())
    context = plan.files[0].context
    client = context["client"]
    # No absolute server: no made-up default; calls fail naming BARE_BASE_URL (runtime tests).
    assert client.default_base_url == '""' and not client.has_base_url
    assert client.env_base_url == "BARE_BASE_URL"
    assert client.bearer == "true"
    assert client.api_key == 'Some((runtime::ApiKeyIn::Query, "api_key"))'
    (group,) = context["operations"].groups
    (op,) = group.operations
    assert "req.auth(true, false);" in op.statements  # only the bearer token is accepted here
    assert 'req.accept("application/vnd.bare+json");' in op.statements
    # The README shows the operation the decisions chose; an alias of String takes the alias.
    assert decisions.examples.call is op.shape
    assert context["examples"]["call"].call == 'client.default().get_item("id-123".to_owned())'
    render_plan(_unformatted(plan), tmp_path / "out")
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "`BARE_BASE_URL`" in readme
    lib = (tmp_path / "out" / "src" / "lib.rs").read_text()
    assert 'pub(crate) const DEFAULT_BASE_URL: &str = "";' in lib


def _unformatted(plan: LanguagePlan) -> LanguagePlan:
    plan.formatter = None
    return plan


def test_the_type_model_records_kind_crates_and_optionality(tmp_path: Path) -> None:
    api = api_from_text(tmp_path, NO_SERVER_SPEC)
    types = rust.RustTypes(api)
    when = types.entry(ir.Nullable(ir.PrimitiveType(ir.Prim.DATE_TIME)))
    assert when.rendered == "Option<chrono::DateTime<chrono::Utc>>"
    assert when.nilable and when.crates == frozenset({"chrono"}) and when.kind is rust.Kind.OPTION
    assert when.inner is not None and when.inner.kind is rust.Kind.DATE_TIME
    assert types.entry(ir.PrimitiveType(ir.Prim.UUID)).kind is rust.Kind.STRING  # a String, by role
    code = types.entry(ir.NamedRef("Code"), boxed=True)
    assert (code.rendered, code.boxed, code.model, code.nilable) == ("Box<Code>", True, "Code", False)
    listing = types.entry(ir.MapType(ir.ArrayType(ir.PrimitiveType(ir.Prim.ANY))))
    assert listing.rendered == "std::collections::HashMap<String, Vec<serde_json::Value>>"
    assert (
        listing.kind is rust.Kind.MAP and listing.defaultable and listing.crates == frozenset({"serde_json"})
    )
    assert not types.entry(ir.PrimitiveType(ir.Prim.INT32)).defaultable


def test_recursive_aliases_are_newtypes_and_struct_cycles_boxed(tmp_path: Path) -> None:
    api = _api(
        tmp_path,
        {
            "Json": {"type": "array", "items": {"$ref": "#/components/schemas/Json"}},
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}},
        },
    )
    types = rust.RustTypes(api)
    json_type = types.entry(ir.NamedRef("Json"))
    assert json_type.recursive and json_type.kind is rust.Kind.NAMED
    assert types.boxed_edge("Node", ir.NamedRef("Node"))
    assert isinstance(types.resolve(ir.Nullable(ir.NamedRef("Json"))), ir.ArrayType)


def test_parameters_and_operations_carry_roles(orchestrator_api: ir.Api) -> None:
    from polysdk.views.rust.operations import Role, Source

    operations = rust.build_operations(
        orchestrator_api, rust.RustTypes(orchestrator_api), build_decisions(orchestrator_api)
    )
    ops = {op.shape.operation.id: op for g in operations.groups for op in g.operations}
    upload = ops["uploadArtifactMultipart"]
    roles = {p.wire: (p.source, p.role) for p in upload.params}
    assert roles["file"] == (Source.PART, Role.FILE)
    assert roles["metadata"] == (Source.PART, Role.VALUE)
    raw = next(p for p in ops["uploadArtifact"].params if p.source is Source.BODY)
    assert raw.role is Role.BYTES and raw.arg == "impl Into<crate::runtime::Bytes>"
    assert ops["streamRunEvents"].reads == "sse"
    assert ops["downloadArtifact"].reads == "binary"
    assert ops["listAgents"].paging is not None and ops["getAgent"].paging is None
    agent_id = ops["getAgent"].params[0]
    assert (agent_id.source, agent_id.wire, agent_id.into) == (Source.PARAM, "agent_id", True)


# Protobuf contracts: the Connect protocol and quoted int64 -----------------------------------------


@pytest.fixture(scope="module")
def proto_api() -> ir.Api:
    from polysdk.frontends import read_api

    from .conftest import PROTO_SPEC

    return read_api(PROTO_SPEC)


def _proto_operations(api: ir.Api) -> dict[str, Any]:
    operations = rust.build_operations(api, rust.RustTypes(api), build_decisions(api))
    return {op.shape.operation.id: op for g in operations.groups for op in g.operations}


def test_connect_operations_render_the_protocol(proto_api: ir.Api) -> None:
    ops = _proto_operations(proto_api)
    unary, stream, rest = ops["getMessage"], ops["watchMessages"], ops["getAgent"]
    assert "req.json(&self.body);" in unary.statements
    assert "req.connect(false);" in unary.statements
    assert unary.call == "call_json::<Message>"
    # A server stream: the request is one envelope, the result a stream of messages.
    assert "req.envelope(&self.body);" in stream.statements
    assert "req.connect(true);" in stream.statements
    assert stream.reads == "connect-stream"
    assert stream.call == "call_connect_stream::<Message>"
    assert stream.data == "crate::runtime::MessageStream<Message>"
    # Transcoded REST is plain REST, its error bodies google.rpc.Status.
    assert not any(line.startswith("req.connect(") for line in rest.statements)
    assert "req.status_errors();" in rest.statements
    assert "req.status_errors();" not in unary.statements


def test_connect_pagination_sets_the_cursor_in_the_body(proto_api: ir.Api) -> None:
    ops = _proto_operations(proto_api)
    listing = ops["listRunEvents"]
    assert listing.paging is not None
    assert "next.body.page_token = Some(cursor);" in listing.paging.next
    assert listing.paging.next[0].startswith("let cursor = crate::runtime::next_cursor(")
    # A query-parameter walk is unchanged.
    rest = ops["listAgents"].paging
    assert rest is not None and any(line.startswith("next.page_token = Some(") for line in rest.next)


def test_builders_do_not_take_a_request_message_name(proto_api: ir.Api) -> None:
    ops = _proto_operations(proto_api)
    assert ops["listRunEvents"].builder == "ListRunEventsRequestBuilder"
    assert "ListRunEventsRequest" in rust.RustTypes(proto_api).names.values()


def test_the_driver_runs_connect_streams_in_stream_mode(proto_api: ir.Api) -> None:
    from polysdk.views.rust.driver import build_driver

    operations = rust.build_operations(proto_api, rust.RustTypes(proto_api), build_decisions(proto_api))
    driver = build_driver(operations, "orchestrator-sdk", "0.1.0")
    arms = {op.id: [(a.mode, a.runner) for a in op.arms] for op in driver.operations}
    assert arms['"watchMessages"'] == [("Stream", "messages")]
    assert ("Pages", "pages") in arms['"listRunEvents"']


QUOTED = 'with = "crate::serde_helpers::quoted"'


@pytest.mark.parametrize(
    ("t", "required", "rust_type", "serde"),
    [
        (ir.PrimitiveType(ir.Prim.INT64, quoted=True), True, "i64", QUOTED),
        (ir.PrimitiveType(ir.Prim.INT64, quoted=True), False, "Option<i64>", OPTIONAL + ", " + QUOTED),
        (ir.Nullable(ir.PrimitiveType(ir.Prim.INT64, quoted=True)), True, "Option<i64>", QUOTED),
        (
            ir.Nullable(ir.PrimitiveType(ir.Prim.INT64, quoted=True)),
            False,
            "Option<Option<i64>>",
            OPTIONAL
            + ', serialize_with = "crate::serde_helpers::quoted::serialize", '
            + 'deserialize_with = "crate::serde_helpers::quoted::present"',
        ),
        (ir.ArrayType(ir.PrimitiveType(ir.Prim.INT64, quoted=True)), True, "Vec<i64>", QUOTED),
        (
            ir.MapType(ir.PrimitiveType(ir.Prim.INT64, quoted=True)),
            False,
            "Option<std::collections::HashMap<String, i64>>",
            OPTIONAL + ", " + QUOTED,
        ),
        (ir.PrimitiveType(ir.Prim.INT64), True, "i64", ""),
    ],
)
def test_quoted_int64_fields_use_the_quoted_helper(
    t: ir.Type, required: bool, rust_type: str, serde: str
) -> None:
    from polysdk.views.rust.models import struct_field

    api = ir.Api("t", "1", ir.Docs(), servers=(), tags=(), types=(), operations=(), security_schemes=())
    field = struct_field(rust.RustTypes(api), "Counter", ir.Field("count", t, required), "count")
    assert (field.type, ", ".join(field.serde)) == (rust_type, serde)


def test_proto_int64_fields_are_quoted(proto_api: ir.Api) -> None:
    models = rust.build_models(proto_api)
    sequence = _field(models, "RunEvent", "sequence")
    assert sequence.type == "Option<i64>"
    assert QUOTED in sequence.serde


def test_an_optional_multipart_body_left_empty_is_not_sent(tmp_path: Path) -> None:
    """As in Go and TypeScript: a body the contract does not require, with no part set, is left
    out rather than sent as an empty multipart body (openapi-generator's petstore uploadFile)."""
    api = api_from_text(
        tmp_path,
        """openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /upload:
    post:
      operationId: upload
      requestBody:
        content:
          multipart/form-data:
            schema: {type: object, properties: {file: {type: string, format: binary}}}
      responses: {'204': {description: ok}}
  /required:
    post:
      operationId: uploadRequired
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: {type: object, properties: {file: {type: string, format: binary}}}
      responses: {'204': {description: ok}}
""",
    )
    ops = rust.build_operations(api, rust.RustTypes(api), build_decisions(api))
    by_id = {op.method: op for group in ops.groups for op in group.operations}
    optional, required = by_id["upload"].statements, by_id["upload_required"].statements
    assert optional[optional.index("if !multipart.is_empty() {") + 1].strip() == "req.multipart(multipart);"
    assert "req.multipart(multipart);" in required and "if !multipart.is_empty() {" not in required
