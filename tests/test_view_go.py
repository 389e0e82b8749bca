"""The Go view's decisions: field types and tags, recursion, enums, unions, docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from polysdk import ir
from polysdk.plan import Options
from polysdk.views import go

from .conftest import api_from_text


def _models(tmp_path: Path, schemas: dict[str, Any]) -> go.GoModels:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Acme API", "version": "1"},
        "paths": {},
        "components": {"schemas": schemas},
    }
    return go.build_models(api_from_text(tmp_path, yaml.safe_dump(doc, sort_keys=False)), "acme")


def _struct(models: go.GoModels, name: str) -> go.GoStruct:
    return next(s for s in models.structs if s.name == name)


@pytest.mark.parametrize(
    ("schema", "required", "go_type", "tag"),
    [
        ({"type": "string"}, True, "string", '`json:"f"`'),
        ({"type": "string"}, False, "*string", '`json:"f,omitempty"`'),
        ({"type": ["string", "null"]}, True, "*string", '`json:"f"`'),
        ({"type": ["string", "null"]}, False, "Nullable[string]", '`json:"f,omitzero"`'),
        ({"type": "array", "items": {"type": "string"}}, False, "[]string", '`json:"f,omitzero"`'),
        ({"type": ["array", "null"], "items": {"type": "string"}}, True, "[]string", '`json:"f"`'),
        (
            {"type": "object", "additionalProperties": {"type": "integer", "format": "int32"}},
            False,
            "map[string]int32",
            '`json:"f,omitzero"`',
        ),
        ({"type": "string", "format": "date-time"}, True, "time.Time", '`json:"f"`'),
        ({"type": "integer", "format": "int64"}, False, "*int64", '`json:"f,omitempty"`'),
        ({}, False, "any", '`json:"f,omitempty"`'),
        ({"$ref": "#/components/schemas/Tags"}, False, "Tags", '`json:"f,omitzero"`'),
    ],
)
def test_field_types(tmp_path: Path, schema: dict[str, Any], required: bool, go_type: str, tag: str) -> None:
    models = _models(
        tmp_path,
        {
            "Tags": {"type": "array", "items": {"type": "string"}},
            "Holder": {"type": "object", "required": ["f"] if required else [], "properties": {"f": schema}},
        },
    )
    field = _struct(models, "Holder").fields[0]
    assert (field.type, field.tag) == (go_type, tag)


def test_recursive_struct_fields_become_pointers(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            "Node": {
                "type": "object",
                "required": ["next"],
                "properties": {
                    "next": {"$ref": "#/components/schemas/Node"},
                    "maybe": {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]},
                },
            }
        },
    )
    fields = {f.name: f.type for f in _struct(models, "Node").fields}
    assert fields == {"Next": "*Node", "Maybe": "Nullable[*Node]"}


def test_untaggable_wire_names_get_map_codecs(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {"Odd": {"type": "object", "properties": {'a"b': {"type": "string"}, "ok": {"type": "string"}}}},
    )
    odd = _struct(models, "Odd")
    assert odd.custom_json and all(f.tag == "" for f in odd.fields)
    assert odd.fields[0].wire == '"a\\"b"'


def test_enum_constants_are_unique_and_safe(tmp_path: Path) -> None:
    models = _models(tmp_path, {"Mode": {"type": "string", "enum": ["A", "a", "", "🚀", 'q"uote']}})
    enum = models.enums[0]
    assert [c.name for c in enum.consts] == ["ModeA", "ModeA2", "ModeValue3", "ModeValue4", "ModeQUote"]
    assert enum.consts[4].literal == '"q\\"uote"'


def test_union_variants_and_decoding_conditions(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            "Obj": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
            "U": {"oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/Obj"}, {"type": "integer"}]},
        },
    )
    union = models.unions[0]
    assert [(v.field, v.type, v.condition) for v in union.variants] == [
        ("String", "string", "kind == jsonKindString"),
        ("Obj", "Obj", 'kind == jsonKindObject && hasKeys(fields, "id")'),
        ("Int64", "int64", "kind == jsonKindNumber"),
    ]
    assert union.needs_fields and union.needs_kind and union.discriminator == ""


def test_plan_names_the_package_and_module(orchestrator_api: ir.Api) -> None:
    plan = go.plan(orchestrator_api, Options())
    context = plan.files[0].context
    assert context["package"] == "orchestrator"
    assert context["module"] == "github.com/polysdk/orchestrator-sdk-go"
    assert {f.output for f in plan.files} == {"go.mod", "doc.go", "models.go"}
    assert (
        go.plan(orchestrator_api, Options(package_name="3d printer", go_module="example.com/x"))
        .files[0]
        .context["module"]
        == "example.com/x"
    )
