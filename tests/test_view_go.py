"""The Go view's decisions: field types and tags, recursion, enums, unions, docs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from polysdk import cli, ir
from polysdk.decisions import build_decisions
from polysdk.plan import Options
from polysdk.views import go
from polysdk.views.go import godoc

from .conftest import PROTO_SPEC, api_from_text, require_tool


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
    assert (field.type.expr, field.tag) == (go_type, tag)


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
    fields = {f.name: f.type.expr for f in _struct(models, "Node").fields}
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
    assert [(v.field, v.type.expr, v.condition) for v in union.variants] == [
        ("String", "string", "kind == jsonKindString"),
        ("Obj", "Obj", 'kind == jsonKindObject && hasKeys(fields, "id")'),
        ("Int64", "int64", "kind == jsonKindNumber"),
    ]
    assert union.needs_fields and union.needs_kind and union.discriminator == ""


def test_plan_names_the_package_and_module(orchestrator_api: ir.Api) -> None:
    plan = go.plan(build_decisions(orchestrator_api), Options())
    context = plan.files[0].context
    assert context["package"] == "orchestrator"
    assert context["module"] == "github.com/polysdk/orchestrator-sdk-go"
    assert {f.output for f in plan.files} == {
        "go.mod",
        "doc.go",
        "models.go",
        "client.go",
        "operations.go",
        "example_test.go",
        "README.md",
    }
    with_driver = go.plan(build_decisions(orchestrator_api), Options(drivers=True))
    assert {f.output for f in with_driver.files} - {f.output for f in plan.files} == {
        "cmd/polysdk-driver/dispatch.go"
    }
    assert {r.output for r in with_driver.runtime} - {r.output for r in plan.runtime} == {
        "cmd/polysdk-driver/engine.go",
        "cmd/polysdk-driver/engine_test.go",
        "cmd/polysdk-driver/load.go",
        "cmd/polysdk-driver/load_test.go",
    }
    assert (
        go.plan(
            build_decisions(orchestrator_api), Options(package_name="3d printer", go_module="example.com/x")
        )
        .files[0]
        .context["module"]
        == "example.com/x"
    )


def _client(api: ir.Api) -> go.GoClient:
    context = go.plan(build_decisions(api), Options()).files[0].context
    client = context["client"]
    assert isinstance(client, go.GoClient)
    return client


def _operation(client: go.GoClient, operation_id: str) -> go.GoOperation:
    return next(o for s in client.services for o in s.operations if o.operation_id == operation_id)


def test_orchestrator_services_and_methods(orchestrator_api: ir.Api) -> None:
    client = _client(orchestrator_api)
    methods = {s.field: [m.name for o in s.operations for m in o.methods] for s in client.services}
    assert methods["Agents"][:3] == ["List", "ListPages", "ListAll"]
    assert "StreamEvents" in methods["Runs"] and "ListAll" in methods["Runs"]
    assert "ListRunArtifactsAll" in methods["Artifacts"] and "Download" in methods["Artifacts"]
    assert (client.env_base_url, client.env_api_key) == ('"ORCHESTRATOR_BASE_URL"', '"ORCHESTRATOR_API_KEY"')
    assert (client.bearer, client.api_key_in, client.api_key_name) == ("true", '"header"', '"X-API-Key"')
    assert client.base_url == '"https://api.orchestrator.example"'


def test_operation_requests(orchestrator_api: ir.Api) -> None:
    client = _client(orchestrator_api)
    get = _operation(client, "getAgent")
    assert get.build[0] == 'r.path = "/v1/agents/" + r.pathSegment("agent_id", params.AgentID)'
    assert get.methods[0].returns.expr == "(*Agent, error)"
    listing = _operation(client, "listAgents")
    assert 'r.query.add("capability", "form", false, params.Capability)' in listing.build
    assert 'r.query.add("labels", "deepObject", true, params.Labels)' in listing.build
    assert listing.methods[2].returns.expr == "iter.Seq2[Agent, error]"
    assert [m.role for m in listing.methods] == [go.MethodRole.CALL, go.MethodRole.PAGES, go.MethodRole.ITEMS]
    register = _operation(client, "registerAgent")
    assert (
        'r.idempotencyHeader = "Idempotency-Key"' in register.build and "r.retryable = true" in register.build
    )
    health = _operation(client, "getHealth")
    assert "r.authenticated = false" in health.build and health.params_type == ""
    token = _operation(client, "createAccessToken")
    assert 'r.formBody("application/x-www-form-urlencoded", params.Body)' in token.build
    assert _operation(client, "deleteAgent").methods[0].returns.expr == "error"
    assert _operation(client, "getMetrics").methods[0].returns.expr == "(string, error)"
    assert _operation(client, "downloadArtifact").methods[0].returns.expr == "(io.ReadCloser, error)"
    assert _operation(client, "waitForMessages").methods[0].returns.expr == "(*MessageBatch, error)"
    stream = _operation(client, "streamRunEvents")
    assert stream.methods[0].returns.expr == "iter.Seq2[RunEvent, error]"
    upload = _operation(client, "uploadArtifactMultipart")
    assert [(f.name, f.type.expr) for f in upload.fields] == [
        ("RunID", "string"),
        ("File", "*File"),
        ("Metadata", "*ArtifactMetadata"),
    ]
    runs = _operation(client, "listRuns")
    assert 'r.query.add("status", "pipeDelimited", false, params.Status)' in runs.build
    assert any("nextLink(r, resp)" in line for line in runs.methods[1].body)


def test_runtime_names_are_reserved_for_generated_types(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            name: {"type": "object", "properties": {"a": {"type": "string"}}}
            for name in ("File", "Client", "Option")
        },
    )
    names = {s.name for s in models.structs}
    assert not names & set(go.RUNTIME_EXPORTS), names


def test_hostile_contract_names(hostile_api: ir.Api) -> None:
    client = _client(hostile_api)
    names = [m.name for s in client.services for o in s.operations for m in o.methods]
    assert len(names) == len(set(names))
    assert all(n.isidentifier() and n[0].isupper() for n in names)
    match = _operation(client, "match")
    assert match.build[0] == 'r.path = "/things/" + r.pathSegment("type", params.Type)'


def test_path_literals_are_escaped_and_params_named_like_locals(tmp_path: Path) -> None:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Acme API", "version": "1"},
        "paths": {
            "/a b/{id}:do": {
                "post": {
                    "operationId": "do",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "ctx", "in": "query", "schema": {"type": "string"}},
                        {"name": "opts", "in": "query", "schema": {"type": "integer"}},
                        {"name": "params", "in": "header", "schema": {"type": "string"}},
                    ],
                    "responses": {"204": {"description": "ok"}},
                }
            }
        },
    }
    client = _client(api_from_text(tmp_path, yaml.safe_dump(doc, sort_keys=False)))
    op = _operation(client, "do")
    assert op.build[0] == 'r.path = "/a%20b/" + r.pathSegment("id", params.ID) + ":do"'
    assert [(f.name, f.type.expr) for f in op.fields] == [
        ("ID", "string"),
        ("Ctx", "*string"),
        ("Opts", "*int64"),
        ("Params", "*string"),
    ]
    assert "r.retryable = false" in op.build


def test_operation_security_selects_the_credential(tmp_path: Path) -> None:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Acme API", "version": "1"},
        "security": [{"bearer": []}, {"key": []}],
        "paths": {
            "/a": {"get": {"operationId": "both", "responses": {"204": {"description": "ok"}}}},
            "/b": {
                "get": {
                    "operationId": "keyOnly",
                    "security": [{"key": []}],
                    "responses": {"204": {"description": "ok"}},
                }
            },
            "/c": {
                "get": {"operationId": "open", "security": [], "responses": {"204": {"description": "ok"}}}
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "key": {"type": "apiKey", "in": "query", "name": "api_key"},
            }
        },
    }
    client = _client(api_from_text(tmp_path, yaml.safe_dump(doc, sort_keys=False)))
    both, key_only, public = (_operation(client, name).build for name in ("both", "keyOnly", "open"))
    assert (
        "r.authenticated = true" in both
        and "r.noBearer = true" not in both
        and "r.noAPIKey = true" not in both
    )
    assert "r.noBearer = true" in key_only and "r.noAPIKey = true" not in key_only
    assert "r.authenticated = false" in public
    assert (client.api_key_in, client.api_key_name) == ('"query"', '"api_key"')


# ---------------------------------------------------------------------------------------------
# The type model: each entry renders itself and records its imports and nilability


def _types(tmp_path: Path, schemas: dict[str, Any]) -> go.GoTypes:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Acme API", "version": "1"},
        "paths": {},
        "components": {"schemas": schemas},
    }
    return go.GoTypes(api_from_text(tmp_path, yaml.safe_dump(doc, sort_keys=False)))


def test_type_entries_render_and_record_imports(tmp_path: Path) -> None:
    types = _types(tmp_path, {"Tags": {"type": "array", "items": {"type": "string"}}})
    when = types.of(ir.PrimitiveType(ir.Prim.DATE_TIME))
    assert (when.expr, when.imports, when.nilable, when.label) == ("time.Time", {"time"}, False, "Time")
    nested = types.of(ir.MapType(ir.ArrayType(ir.PrimitiveType(ir.Prim.DATE_TIME))))
    assert (nested.expr, nested.imports, nested.direct_nil) == ("map[string][]time.Time", {"time"}, True)
    tags = types.of(ir.NamedRef("Tags"))
    assert (tags.expr, tags.imports, tags.direct_nil, tags.nilable) == ("Tags", frozenset(), False, True)
    boxed = types.of(ir.Nullable(ir.PrimitiveType(ir.Prim.INT64)))
    assert (boxed.expr, boxed.pointer, boxed.nilable) == ("*int64", True, True)
    free = types.of(ir.PrimitiveType(ir.Prim.ANY))
    assert (free.expr, free.is_any, free.direct_nil) == ("any", True, True)
    assert types.of(ir.Nullable(ir.ArrayType(ir.PrimitiveType(ir.Prim.STRING)))).expr == "[]string"
    wrapped = types.of(ir.PrimitiveType(ir.Prim.STRING)).nullable()
    assert (wrapped.expr, wrapped.wrapper, wrapped.pointer) == ("Nullable[string]", True, False)


def test_model_imports_come_from_the_types_used(tmp_path: Path) -> None:
    plain = _models(tmp_path, {"A": {"type": "object", "properties": {"a": {"type": "string"}}}})
    assert plain.imports == []
    timed = _models(
        tmp_path,
        {"A": {"type": "object", "properties": {"a": {"type": "string", "format": "date-time"}}}},
    )
    assert timed.imports == ["time"]


def test_recursive_fields_are_boxed_by_the_type_model(tmp_path: Path) -> None:
    models = _models(
        tmp_path,
        {
            "Node": {
                "type": "object",
                "required": ["next"],
                "properties": {"next": {"$ref": "#/components/schemas/Node"}},
            }
        },
    )
    field = _struct(models, "Node").fields[0]
    assert field.type.pointer and field.type.expr == "*Node" and field.presence == ""


# ---------------------------------------------------------------------------------------------
# Roles: methods know what they do, fields know where they come from


def test_fields_know_their_contract_origin(orchestrator_api: ir.Api) -> None:
    client = _client(orchestrator_api)
    stream = _operation(client, "streamRunEvents")
    assert [(f.origin, f.wire, f.name) for f in stream.fields] == [
        (go.Origin.PARAM, "run_id", "RunID"),
        (go.Origin.RESUME, "Last-Event-ID", "LastEventID"),
    ]
    assert [m.role for m in stream.methods] == [go.MethodRole.STREAM]
    upload = _operation(client, "uploadArtifactMultipart")
    assert [(f.origin, f.carrier) for f in upload.fields] == [
        (go.Origin.PARAM, go.Carrier.VALUE),
        (go.Origin.PART, go.Carrier.FILE),
        (go.Origin.PART, go.Carrier.VALUE),
    ]
    binary = _operation(client, "uploadArtifact")
    assert binary.fields[-1].origin is go.Origin.BODY and binary.fields[-1].carrier is go.Carrier.READER
    assert _operation(client, "getAgentStatus").methods[0].deprecated
    assert not _operation(client, "deleteAgent").methods[0].value


def test_derived_names_are_unique_before_bodies_and_docs_are_written(tmp_path: Path) -> None:
    ok = {
        "200": {
            "description": "ok",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}},
        }
    }
    cursor = [{"name": "cursor", "in": "query", "schema": {"type": "string"}}]
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Acme API", "version": "1"},
        "paths": {
            "/a": {"get": {"operationId": "list", "tags": ["t"], "parameters": cursor, "responses": ok}},
            "/b": {
                "get": {
                    "operationId": "listPages",
                    "tags": ["t"],
                    "responses": {"204": {"description": "ok"}},
                }
            },
        },
        "components": {
            "schemas": {
                "Page": {
                    "type": "object",
                    "properties": {
                        "data": {"type": "array", "items": {"type": "string"}},
                        "next_cursor": {"type": ["string", "null"]},
                    },
                }
            }
        },
    }
    client = _client(api_from_text(tmp_path, yaml.safe_dump(doc, sort_keys=False)))
    listing = _operation(client, "list")
    pages, items = listing.method(go.MethodRole.PAGES), listing.method(go.MethodRole.ITEMS)
    assert pages is not None and items is not None
    assert (pages.name, items.name) == ("ListPages2", "ListAll")
    assert pages.doc[0].startswith("// ListPages2 iterates")
    assert items.body[0].startswith("return all(s.ListPages2(ctx, params, opts...)")


# ---------------------------------------------------------------------------------------------
# Decisions rendered, not re-decided


def test_every_operation_sends_the_decided_accept_header(orchestrator_api: ir.Api) -> None:
    decisions = build_decisions(orchestrator_api)
    client = _client(orchestrator_api)
    for shape in decisions.operations:
        build = _operation(client, shape.operation.id).build
        assert f'r.accept = "{shape.accept}"' in build, shape.operation.id
    assert 'r.accept = "application/json"' in _operation(client, "deleteAgent").build
    assert 'r.accept = "text/event-stream"' in _operation(client, "streamRunEvents").build


def test_a_relative_server_gives_no_default_base_url(tmp_path: Path) -> None:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Acme API", "version": "1"},
        "servers": [{"url": "/v1"}],
        "paths": {},
    }
    api = api_from_text(tmp_path, yaml.safe_dump(doc, sort_keys=False))
    plan = go.plan(build_decisions(api), Options())
    client, docs = plan.files[0].context["client"], plan.files[0].context["docs"]
    assert isinstance(client, go.GoClient) and isinstance(docs, go.GoDocs)
    assert client.base_url == '""' and docs.default_base_url == ""


def test_an_openapi_readme_has_no_connect_section(orchestrator_api: ir.Api) -> None:
    docs = go.plan(build_decisions(orchestrator_api), Options()).files[0].context["docs"]
    assert isinstance(docs, go.GoDocs)
    assert not docs.connect and not docs.quoted_int64 and not docs.status_errors


def test_readme_examples_are_the_decided_operations(orchestrator_api: ir.Api) -> None:
    decisions = build_decisions(orchestrator_api)
    docs = go.plan(decisions, Options()).files[0].context["docs"]
    assert isinstance(docs, go.GoDocs)
    kinds = [e.kind for e in docs.examples]
    assert kinds == ["errors", "retries", "pagination", "streaming"]
    assert decisions.examples.call is not None and decisions.examples.page is not None
    by_kind = {e.kind: e for e in docs.examples}
    assert any(".Get(" in line for line in by_kind["errors"].code)  # getAgent
    assert by_kind["pagination"].methods == {"call": "List", "pages": "ListPages", "items": "ListAll"}
    assert all("iterates" not in line for e in docs.examples for line in e.code)  # prose is in the template


def test_pagination_the_sdk_cannot_express_is_a_warning(tmp_path: Path) -> None:
    page = {"$ref": "#/components/schemas/Page"}
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Acme API", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "operationId": "list",
                    "parameters": [{"name": "cursor", "in": "query", "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": page}}},
                        "204": {"description": "nothing yet"},
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Page": {
                    "type": "object",
                    "properties": {
                        "data": {"type": "array", "items": {"type": "string"}},
                        "next_cursor": {"type": ["string", "null"]},
                    },
                }
            }
        },
    }
    decisions = build_decisions(api_from_text(tmp_path, yaml.safe_dump(doc, sort_keys=False)))
    assert decisions.operations[0].pagination is not None
    plan = go.plan(decisions, Options())
    client = plan.files[0].context["client"]
    assert isinstance(client, go.GoClient)
    assert [m.role for m in _operation(client, "list").methods] == [go.MethodRole.CALL]
    assert any("list" in w and "pagination" in w for w in plan.warnings), plan.warnings


# ---------------------------------------------------------------------------------------------
# Protobuf contracts: the Connect protocol and quoted int64


@pytest.fixture(scope="module")
def proto_api() -> ir.Api:
    from polysdk.frontends import read_api

    return read_api(PROTO_SPEC)


def test_connect_operations_render_the_protocol_decisions(proto_api: ir.Api) -> None:
    client = _client(proto_api)
    get = _operation(client, "getMessage")
    assert get.build[:2] == [
        'r.path = "/polysdk.orchestrator.v1.MessagingService/GetMessage"',
        'r.connectBody("application/json", false, params.Body)',
    ]
    assert "r.connect = true" in get.build and "r.retryable = true" in get.build
    assert "r.retryable = false" in _operation(client, "sendMessage").build  # no idempotency_level
    transcoded = _operation(client, "getAgent").build
    assert "r.connect = true" not in transcoded  # REST
    assert "r.statusErrors = true" in transcoded  # its errors are google.rpc.Status
    assert "r.statusErrors = true" not in get.build  # Connect errors are Connect error JSON
    stream = _operation(client, "streamRunEvents")
    assert 'r.connectBody("application/connect+json", true, params.Body)' in stream.build
    (method,) = stream.methods
    assert method.role is go.MethodRole.STREAM and method.returns.expr == "iter.Seq2[RunEvent, error]"
    assert method.body[0].startswith("return connectStream[RunEvent](ctx, s.core, s.")
    assert method.body[0].endswith("(params), opts)")  # no resume header
    events = _operation(client, "listRunEvents")
    assert [m.role for m in events.methods] == [go.MethodRole.CALL, go.MethodRole.PAGES, go.MethodRole.ITEMS]
    assert any(
        'nextBodyCursor(r, "pageToken", page.NextPageToken, nil)' in line for line in events.methods[1].body
    )
    docs = go.plan(build_decisions(proto_api), Options()).files[0].context["docs"]
    assert isinstance(docs, go.GoDocs)
    assert docs.connect and docs.quoted_int64 and docs.status_errors  # the README says how
    rest_pages = _operation(client, "listAgents").methods[1].body
    assert any("nextCursor(r, " in line for line in rest_pages)  # a transcoded list: query parameters


_QUOTED_PROTO = """
syntax = "proto3";
package acme.v1;
import "google/protobuf/wrappers.proto";
message Counter {
  int64 total = 1;
  optional uint64 maybe = 2;
  repeated sint64 list = 3;
  map<string, fixed64> by_name = 4;
  google.protobuf.Int64Value wrapped = 5;
  int32 small = 6;
}
service CounterService {
  rpc Get(Counter) returns (Counter);
}
"""


def test_quoted_int64_fields_go_through_the_quoted_codec(tmp_path: Path) -> None:
    from polysdk.frontends import read_api

    path = tmp_path / "acme.proto"
    path.write_text(_QUOTED_PROTO, encoding="utf-8")
    models = go.build_models(read_api(path), "acme")
    counter = models.struct("Counter")
    assert counter is not None
    fields = {f.wire.strip('"'): f for f in counter.fields}
    for wire in ("total", "maybe", "list", "byName", "wrapped"):
        f = fields[wire]
        assert f.quoted and f"quote(&m.{f.name})" in f.decode, (wire, f.decode)
        assert any(f"o.field({f.wire}, quote(&m.{f.name}))" in line for line in f.encode), (wire, f.encode)
        assert any("JSON strings" in line for line in f.doc)
    assert not fields["small"].quoted and "quote(" not in fields["small"].decode
    assert (
        ",string" in fields["total"].tag and ",string" in fields["maybe"].tag
    )  # scalars: as encoding/json spells it
    assert ",string" not in fields["list"].tag and ",string" not in fields["wrapped"].tag
    assert fields["wrapped"].type.expr == "Nullable[int64]"
    assert (fields["list"].type.expr, fields["byName"].type.expr) == ("[]int64", "map[string]int64")


def test_aliases_on_a_cycle_of_aliases_become_defined_types(tmp_path: Path) -> None:
    """Go rejects `type Tree = []Tree`; `type Tree []Tree` is the same JSON. Aliases off the cycle
    stay aliases, so they remain assignable to their targets."""
    models = _models(
        tmp_path,
        {
            "Tree": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}},
            "Forest": {"type": "array", "items": {"$ref": "#/components/schemas/Grove"}},
            "Grove": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Forest"}},
            "Trees": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}},
            "Node": {"type": "object", "properties": {"kids": {"$ref": "#/components/schemas/Nodes"}}},
            "Nodes": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        },
    )
    defined = {a.name: a.defined for a in models.aliases}
    assert defined == {"Tree": True, "Forest": True, "Grove": True, "Trees": False, "Nodes": False}


@pytest.mark.parametrize(
    ("title", "package", "doc"),
    [
        ("map", "mapsdk", "// Package mapsdk is a client for the map API."),
        ("Todo API API", "todo", "// Package todo is a client for the Todo API API."),
        ("Todo", "todo", "// Package todo is a client for the Todo API."),
    ],
)
def test_the_package_clause_and_its_doc(tmp_path: Path, title: str, package: str, doc: str) -> None:
    text = f"openapi: 3.1.0\ninfo: {{title: {title}, version: '1'}}\npaths: {{}}\n"
    plan = go.plan(build_decisions(api_from_text(tmp_path, text)), Options())
    context = next(f.context for f in plan.files if f.output == "doc.go")
    assert (context["package"], context["title_doc"]) == (package, doc)


# Go doc comments from Markdown descriptions ------------------------------------------------------

MARKDOWN = """Keeps **track** of *things* to do (see [the guide](https://todo.example/guide)).

## Conventions

* Enumerations are **open**.
* Errors follow [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457),
  with a `request_id`.

Steps:
1. first
2. second

For example:
```json
{"id": "t_1"}
```

A snake_case_name stays, as does a <https://todo.example/raw> link.
Beware */ and \u2028package evil."""


def test_markdown_descriptions_become_go_doc_syntax() -> None:
    assert godoc.go_doc_lines(MARKDOWN) == [
        "Keeps track of things to do (see [the guide]).",
        "",
        "# Conventions",
        "",
        "  - Enumerations are open.",
        "  - Errors follow [RFC 9457],",
        "    with a `request_id`.",
        "",
        "Steps:",
        " 1. first",
        " 2. second",
        "",
        "For example:",
        "",
        '\t{"id": "t_1"}',
        "",
        "A snake_case_name stays, as does a https://todo.example/raw link.",
        "Beware */ and",
        "package evil.",
        "",
        "[the guide]: https://todo.example/guide",
        "[RFC 9457]: https://www.rfc-editor.org/rfc/rfc9457",
    ]
    # One URL per link text in Go doc: a second URL for the same text is written out.
    assert godoc.go_doc_lines("[a](https://x.example) [a](https://y.example)") == [
        "[a] a (https://y.example)",
        "",
        "[a]: https://x.example",
    ]
    # Every line is a `//` comment; code lines are tab-indented, as gofmt writes them.
    assert all(line.startswith(("// ", "//\t")) or line == "//" for line in godoc.go_doc(MARKDOWN))


@pytest.mark.toolchain
def test_go_doc_shows_the_descriptions_as_go_doc_and_gofmt_keeps_them(tmp_path: Path) -> None:
    """The package, a type and a method documented in Markdown: `go doc` shows headings, lists and
    links, no Markdown markers; gofmt (which generation runs, and which rewrites doc comments to
    canonical Go doc) left the comments exactly as the view wrote them."""
    go = require_tool("go")
    todo = {"type": "object", "description": MARKDOWN, "properties": {"id": {"type": "string"}}}
    listed = {"application/json": {"schema": {"$ref": "#/components/schemas/Todo"}}}
    contract = tmp_path / "todo.json"
    contract.write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "Todo API", "version": "1", "description": MARKDOWN},
                "paths": {
                    "/todos": {
                        "get": {
                            "operationId": "listTodos",
                            "description": MARKDOWN,
                            "responses": {"200": {"description": "the todos", "content": listed}},
                        }
                    }
                },
                "components": {"schemas": {"Todo": todo}},
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "sdks"
    assert cli.main(["generate", str(contract), "--out", str(out), "--lang", "go"]) == 0
    sdk = out / "go"
    expected = "\n".join(godoc.go_doc(MARKDOWN))
    assert expected in (sdk / "doc.go").read_text()  # gofmt changed nothing in it
    assert expected in (sdk / "models.go").read_text()
    assert expected in (sdk / "operations.go").read_text()
    for symbol in ("", "Todo", "DefaultService.ListTodos"):
        shown = subprocess.run(
            [go, "doc", *([symbol] if symbol else [])], cwd=sdk, capture_output=True, text=True, check=True
        ).stdout
        assert "# Conventions" in shown and "  - Enumerations are open." in shown, shown
        assert "[RFC 9457]: https://www.rfc-editor.org/rfc/rfc9457" in shown
        assert "**open**" not in shown and "## Conventions" not in shown and "```" not in shown
    assert subprocess.run([go, "vet", "./..."], cwd=sdk, capture_output=True, check=False).returncode == 0
