"""The OpenAPI → IR builder: given a schema, want an IR shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from polysdk import ir
from polysdk.names import split_words

from .conftest import api_from_text

S = ir.PrimitiveType(ir.Prim.STRING)
I64 = ir.PrimitiveType(ir.Prim.INT64)
ANY = ir.PrimitiveType(ir.Prim.ANY)


def _api(tmp_path: Path, schemas: dict[str, Any], version: str = "3.1.0") -> ir.Api:
    doc = {
        "openapi": version,
        "info": {"title": "T", "version": "1"},
        "paths": {},
        "components": {"schemas": schemas},
    }
    return api_from_text(tmp_path, yaml.safe_dump(doc, sort_keys=False))


def _fields(api: ir.Api, name: str) -> dict[str, tuple[ir.Type, bool]]:
    definition = api.types_by_name[name].definition
    assert isinstance(definition, ir.ObjectDef)
    return {f.wire_name: (f.type, f.required) for f in definition.fields}


@pytest.mark.parametrize(
    ("schema", "want"),
    [
        ({"type": "string"}, S),
        ({"type": "string", "format": "date-time"}, ir.PrimitiveType(ir.Prim.DATE_TIME)),
        ({"type": "string", "format": "uuid"}, ir.PrimitiveType(ir.Prim.UUID)),
        ({"type": "integer", "format": "int64"}, I64),
        ({"type": "integer"}, ir.PrimitiveType(ir.Prim.INTEGER)),
        ({"type": "number"}, ir.PrimitiveType(ir.Prim.DOUBLE)),
        # a JSON number whatever its format says (Xero's money); only a decimal *string* is exact text
        ({"type": "number", "format": "decimal"}, ir.PrimitiveType(ir.Prim.DOUBLE)),
        ({"type": "string", "format": "decimal"}, ir.PrimitiveType(ir.Prim.DECIMAL)),
        ({"type": ["string", "null"]}, ir.Nullable(S)),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, ir.Nullable(S)),
        ({"const": "tool_call"}, ir.ConstType("tool_call")),
        ({"type": "string", "enum": ["only"]}, ir.ConstType("only")),
        ({}, ANY),
        ({"type": "object"}, ir.MapType(ANY)),
        ({"type": "object", "additionalProperties": {"type": "string"}}, ir.MapType(S)),
        (
            {"type": "array", "items": {"type": ["integer", "null"], "format": "int64"}},
            ir.ArrayType(ir.Nullable(I64)),
        ),
        ({"allOf": [{"$ref": "#/components/schemas/Target"}], "description": "x"}, ir.NamedRef("Target")),
        # a part that only documents the reference (Box's contract) constrains nothing
        ({"allOf": [{"$ref": "#/components/schemas/Target"}, {"description": "x"}]}, ir.NamedRef("Target")),
        (
            {"anyOf": [{"$ref": "#/components/schemas/Target"}, {"type": "null"}]},
            ir.Nullable(ir.NamedRef("Target")),
        ),
    ],
)
def test_property_types(tmp_path: Path, schema: dict[str, Any], want: ir.Type) -> None:
    api = _api(
        tmp_path,
        {
            "Target": {"type": "object", "properties": {"a": {"type": "string"}}},
            "Holder": {"type": "object", "properties": {"p": schema}},
        },
    )
    assert _fields(api, "Holder")["p"][0] == want


def test_openapi_30_nullable(tmp_path: Path) -> None:
    api = _api(
        tmp_path,
        {
            "H": {
                "type": "object",
                "required": ["a"],
                "properties": {"a": {"type": "string", "nullable": True}, "b": {"type": "string"}},
            }
        },
        version="3.0.3",
    )
    assert _fields(api, "H") == {"a": (ir.Nullable(S), True), "b": (S, False)}


def test_inline_objects_and_enums_are_hoisted_with_contextual_names(tmp_path: Path) -> None:
    api = _api(
        tmp_path,
        {
            "Agent": {
                "type": "object",
                "properties": {
                    "limits": {"type": "object", "properties": {"max": {"type": "integer"}}},
                    "mode": {"type": "string", "enum": ["a", "b"]},
                    "tags": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"k": {"type": "string"}}},
                    },
                },
            },
            "AgentLimits": {"type": "string"},
        },
    )
    fields = _fields(api, "Agent")
    # The component AgentLimits keeps its name; the inline object gets the next free one.
    assert fields["limits"][0] == ir.NamedRef("Agent_limits_2")
    assert fields["mode"][0] == ir.NamedRef("Agent_mode")
    assert fields["tags"][0] == ir.ArrayType(ir.NamedRef("Agent_tags_item"))
    assert isinstance(api.types_by_name["Agent_mode"].definition, ir.EnumDef)


def test_all_of_merges_properties_and_required(tmp_path: Path) -> None:
    api = _api(
        tmp_path,
        {
            "Base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
            "Child": {
                "allOf": [
                    {"$ref": "#/components/schemas/Base"},
                    {
                        "type": "object",
                        "required": ["n"],
                        "properties": {"n": {"type": "integer", "format": "int64"}},
                    },
                ]
            },
        },
    )
    assert _fields(api, "Child") == {"id": (S, True), "n": (I64, True)}


def test_discriminator_inferred_from_const_tags(tmp_path: Path) -> None:
    variant = lambda tag: {"type": "object", "required": ["kind"], "properties": {"kind": {"const": tag}}}  # noqa: E731
    api = _api(
        tmp_path,
        {
            "A": variant("a"),
            "B": variant("b"),
            "U": {"oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}]},
        },
    )
    union = api.types_by_name["U"].definition
    assert union == ir.UnionDef(
        variants=(ir.Variant(ir.NamedRef("A"), ("a",)), ir.Variant(ir.NamedRef("B"), ("b",))),
        discriminator="kind",
    )


def test_type_arrays_become_plain_unions(tmp_path: Path) -> None:
    api = _api(tmp_path, {"Scalar": {"type": ["string", "integer", "null"]}})
    assert api.types_by_name["Scalar"].definition == ir.UnionDef(
        variants=(ir.Variant(S), ir.Variant(ir.PrimitiveType(ir.Prim.INTEGER)))
    )


def test_orchestrator_contract_shapes(orchestrator_api: ir.Api) -> None:
    types = orchestrator_api.types_by_name
    plan_step = types["PlanStep"].definition
    assert isinstance(plan_step, ir.UnionDef) and plan_step.discriminator == "type"
    assert {v.tags for v in plan_step.variants} == {("tool_call",), ("delegate",), ("wait_for_input",)}
    # Recursion: a delegate step holds nested plan steps.
    delegate = _fields(orchestrator_api, "DelegateStep")
    assert delegate["steps"][0] == ir.ArrayType(ir.NamedRef("PlanStep"))
    run_event = types["RunEvent"].definition
    assert isinstance(run_event, ir.UnionDef) and len(run_event.variants) >= 6
    update = {f.wire_name: f for f in types["AgentUpdate"].definition.fields}  # type: ignore[union-attr]
    assert update["description"].nullable and not update["description"].required
    assert isinstance(types["AgentStatus"].definition, ir.EnumDef)
    agent = {f.wire_name: f for f in types["Agent"].definition.fields}  # type: ignore[union-attr]
    assert agent["id"].read_only
    ops = {op.id: op for op in orchestrator_api.operations}
    assert ops["cancelRun"].http == ir.HttpBinding("POST", "/v1/runs/{run_id}:cancel")
    assert ops["getHealth"].security == ()
    assert ops["listAgents"].security == (("bearerAuth",), ("apiKeyAuth",))
    status = next(p for p in ops["listAgents"].params if p.wire_name == "status")
    assert (status.style, status.explode, status.location) == ("form", True, ir.ParamLocation.QUERY)
    labels = next(p for p in ops["listAgents"].params if p.wire_name == "labels")
    assert labels.style == "deepObject"
    assert {c.media_type for c in ops["uploadArtifactMultipart"].body.contents} == {"multipart/form-data"}  # type: ignore[union-attr]
    stream = next(r for r in ops["streamRunEvents"].responses if r.status == "200")
    assert stream.contents[0].media_type == "text/event-stream"


def test_hostile_contract_builds(hostile_api: ir.Api) -> None:
    canonical = ["".join(w.lower() for w in split_words(t.name)) for t in hostile_api.types]
    assert len(canonical) == len(set(canonical)), "IR names are unique under word splitting"


def test_a_component_that_is_a_ref_aliases_its_target(tmp_path: Path) -> None:
    api = _api(
        tmp_path,
        {
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"type": "string", "deprecated": True},
            "H": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
        },
    )
    assert api.types_by_name["A"].definition == ir.AliasDef(ir.NamedRef("B"))
    holder = api.types_by_name["H"].definition
    assert isinstance(holder, ir.ObjectDef) and not holder.fields[0].docs.deprecated
