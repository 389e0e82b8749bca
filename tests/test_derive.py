"""Derived conformance cases (conformance/polysdk_conformance/derive): values generated from a
contract's schemas, and the cases derived per operation. Running them against the SDKs is the
`derived` nox session's job (every SDK, real drivers, the mock validating each request)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator, OAS31Validator

from polysdk.decisions import build_decisions
from polysdk.frontends import ReadOptions, read_api
from polysdk.frontends.openapi.document import Contract, read_contract
from polysdk_conformance.cases import load_cases
from polysdk_conformance.derive import derive
from polysdk_conformance.derive.values import (
    BIG_INT64,
    UNKNOWN_ENUM_INTEGER,
    UNKNOWN_ENUM_TEXT,
    UNKNOWN_TAG,
    UUID,
    Flavour,
    UnsatisfiableError,
    ValueGenerator,
)
from polysdk_conformance.runner import contract_operations
from polysdk_conformance.runner import main as runner_main

from .conftest import require_tool

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "tests" / "fixtures" / "real"
PETSTORE = REAL / "petstore-3.0.yaml"
ORCHESTRATOR = ROOT / "spec" / "orchestrator.yaml"

MINIMAL = Flavour(full=False, response=False)
FULL_RESPONSE = Flavour(full=True, response=True)
FULL_REQUEST = Flavour(full=True, response=False)


def _generator(components: dict[str, Any] | None = None) -> ValueGenerator:
    components = components or {}
    return ValueGenerator(lambda schema: components[schema["$ref"].rsplit("/", 1)[-1]])


# -- values ---------------------------------------------------------------------------------------


def test_minimal_values_hold_only_what_is_required() -> None:
    schema = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "integer", "format": "int64"}, "note": {"type": "string"}},
    }
    assert _generator().value(schema, MINIMAL) == {"id": 7}


def test_full_response_values_exercise_exactness_and_unknown_fields() -> None:
    schema = {
        "type": "object",
        "properties": {"id": {"type": "integer", "format": "int64"}, "note": {"type": "string"}},
    }
    value = _generator().value(schema, FULL_RESPONSE)
    assert value["id"] == BIG_INT64  # beyond 2^53: lost by a decoder that goes through a double
    assert not value["note"].isascii()
    assert "x_derived_extra" in value  # SDKs keep fields the contract does not declare


def test_closed_objects_and_maps_get_no_undeclared_field() -> None:
    closed = {"type": "object", "additionalProperties": False, "properties": {"a": {"type": "boolean"}}}
    typed_map = {"type": "object", "additionalProperties": {"type": "integer"}}
    assert _generator().value(closed, FULL_RESPONSE) == {"a": True}
    assert _generator().value(typed_map, FULL_RESPONSE) == {"key": 7}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "enum": ["b", "a"]}, "b"),
        ({"const": 3}, 3),
        ({"type": "string", "format": "date-time"}, "2025-01-14T09:30:00Z"),
        ({"type": "string", "minLength": 12, "maxLength": 12}, "value-1xxxxx"),
        ({"type": "string", "maxLength": 3}, "val"),
        ({"type": "integer", "minimum": 10, "maximum": 20}, 10),
        ({"type": "integer", "maximum": 5}, 5),
        ({"type": "integer", "minimum": 0, "exclusiveMinimum": True, "maximum": 1}, 1),
        ({"type": "number", "minimum": 0, "maximum": 1}, 0.5),
        ({"type": "string", "example": "from-the-contract"}, "from-the-contract"),
        ({"type": "integer", "example": "not an integer"}, 7),  # a wrongly typed example is ignored
        # A published example that breaks its own format or length is not trusted either.
        ({"type": "string", "format": "uuid", "example": "00000000-0000-0000-000-000000000000"}, UUID),
        ({"type": "string", "maxLength": 3, "example": "toolong"}, "val"),
        ({"type": ["null", "string"]}, "value-1"),
    ],
)
def test_scalars_respect_the_schema(schema: dict[str, Any], expected: Any) -> None:
    assert _generator().value(schema, MINIMAL) == expected


def test_all_of_parts_are_merged_and_refs_followed() -> None:
    components = {
        "Base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
    }
    schema = {
        "allOf": [
            {"$ref": "#/components/schemas/Base"},
            {"required": ["n"], "properties": {"n": {"type": "integer"}}},
        ]
    }
    assert _generator(components).value(schema, MINIMAL) == {"id": "id-1", "n": 7}


def test_a_discriminated_union_value_carries_its_variant_tag() -> None:
    components = {
        "Cat": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
        "Dog": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
    }
    schema = {
        "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
        "discriminator": {"propertyName": "kind", "mapping": {"cat": "#/components/schemas/Cat"}},
    }
    assert _generator(components).value(schema, MINIMAL) == {"kind": "cat"}


def test_unknown_responses_carry_enum_values_and_union_tags_the_contract_does_not_list() -> None:
    components = {
        "Cat": {
            "type": "object",
            "required": ["kind", "mood", "level"],
            "properties": {
                "kind": {"type": "string", "enum": ["cat"]},  # one value: a constant, kept
                "mood": {"type": "string", "enum": ["calm", "wild"]},
                "level": {"type": "integer", "enum": [1, 2, 3]},
            },
        },
    }
    schema = {
        "oneOf": [{"$ref": "#/components/schemas/Cat"}],
        "discriminator": {"propertyName": "kind", "mapping": {"cat": "#/components/schemas/Cat"}},
    }
    generator = _generator(components)
    unknown = Flavour(full=False, response=True, unknown=True)
    assert generator.value(schema, unknown) == {
        "kind": UNKNOWN_TAG,
        "mood": UNKNOWN_ENUM_TEXT,
        "level": UNKNOWN_ENUM_INTEGER,
    }
    # requests never carry them: the mock's validator would refuse them, rightly
    request = Flavour(full=False, response=False, unknown=True)
    assert generator.value(schema, request) == {"kind": "cat", "mood": "calm", "level": 1}


def test_an_unknown_case_is_derived_where_the_response_has_an_enum_or_a_union() -> None:
    _contract, cases, _skipped = _derive(ORCHESTRATOR)
    unknown = {case["name"]: case for case in cases if case["name"].endswith("/unknown")}
    plan = json.dumps(unknown["getPlan/unknown"]["steps"][0]["response"]["body"])
    assert UNKNOWN_TAG in plan
    assert "getAgent/unknown" in unknown and "deleteAgent/unknown" not in unknown  # 204: no body


def test_a_discriminator_inherited_through_all_of_tags_the_schema_itself() -> None:
    """`Bar: allOf [Entity]` with Entity's discriminator `@type`: a Bar value says `Bar` (a
    validator resolves the tag to a schema), or its mapping key when there is one."""
    entity = {"type": "object", "discriminator": {"propertyName": "@type"}, "properties": {"id": {}}}
    components = {
        "Entity": entity,
        "Bar": {"type": "object", "allOf": [{"$ref": "#/components/schemas/Entity"}]},
        "Mapped": {"allOf": [{"$ref": "#/components/schemas/Keyed"}]},
        "Keyed": {
            "type": "object",
            "discriminator": {"propertyName": "kind", "mapping": {"m": "#/components/schemas/Mapped"}},
        },
    }
    # A base that maps its own subtypes keeps what its tag property allows (Adyen's pattern).
    components["Base"] = {
        "type": "object",
        "required": ["type"],
        "discriminator": {"propertyName": "type", "mapping": {"payTo": "#/components/schemas/Mapped"}},
        "properties": {"type": {"type": "string", "pattern": "^payTo$"}},
    }
    generator = _generator(components)
    assert generator.value({"$ref": "#/components/schemas/Bar"}, MINIMAL) == {"@type": "Bar"}
    assert generator.value({"$ref": "#/components/schemas/Mapped"}, MINIMAL) == {"kind": "m"}
    assert generator.value({"$ref": "#/components/schemas/Base"}, MINIMAL) == {"type": "payTo"}


def test_a_media_type_with_parameters_still_finds_its_schema() -> None:
    """`application/json;charset=utf-8` in the contract, `application/json` in the decisions."""
    _contract, cases, _skipped = _derive(REAL / "oag-3_1__oneof_polymorphism_and_inheritance.yaml")
    foos = next(case for case in cases if case["name"] == "getAllFoos/required")
    assert isinstance(foos["steps"][0]["response"]["body"], list)


def test_a_required_property_the_contract_never_declares_still_gets_a_value() -> None:
    schema = {"type": "object", "required": ["uris"], "properties": {"ids": {"type": "array"}}}
    assert _generator().value(schema, MINIMAL) == {"uris": "x"}


def test_read_only_fields_stay_out_of_requests_and_write_only_out_of_responses() -> None:
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "secret": {"type": "string", "writeOnly": True},
        },
    }
    assert set(_generator().value(schema, FULL_REQUEST)) == {"secret"}
    assert set(_generator().value(schema, FULL_RESPONSE)) == {"id", "x_derived_extra"}


def test_a_pattern_gives_a_matching_string_the_same_every_time() -> None:
    schema = {"type": "string", "pattern": "^acct_[a-zA-Z0-9]{16}$"}
    value = _generator().value(schema, MINIMAL)
    assert re.fullmatch("acct_[a-zA-Z0-9]{16}", value)
    assert _generator().value(schema, MINIMAL) == value
    own = "acct_0123456789abcdef"
    assert _generator().value({**schema, "example": own}, MINIMAL) == own  # the contract's own
    with pytest.raises(UnsatisfiableError, match="length bounds"):
        _generator().value({"type": "string", "pattern": "^[A-Z]{3}$", "maxLength": 2}, MINIMAL)


def test_recursive_schemas_end() -> None:
    components = {
        "Node": {
            "type": "object",
            "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}},
        }
    }
    value = _generator(components).value({"$ref": "#/components/schemas/Node"}, FULL_RESPONSE)
    assert json.dumps(value).count("children") <= 7


# -- cases ----------------------------------------------------------------------------------------


def _derive(spec: Path) -> tuple[Contract, list[dict[str, Any]], dict[str, str]]:
    contract = read_contract(spec)
    derivation = derive(contract, build_decisions(read_api(spec, ReadOptions(validate=False))))
    return contract, derivation.cases, derivation.skipped


def test_every_petstore_operation_derives_a_call_and_its_documented_errors() -> None:
    _contract, cases, skipped = _derive(PETSTORE)
    assert skipped == {}
    names = [case["name"] for case in cases]
    assert len(names) == len(set(names))
    operations = {case["operation"] for case in cases}
    assert len(operations) == 19
    assert "getPetById/required" in names
    assert "getPetById/status-404" in names
    error = next(case for case in cases if case["name"] == "getPetById/status-404")
    assert error["expect"] == {"outcome": "error", "error": {"kind": "api", "status": 404}}
    assert error["client"]["max_retries"] == 0
    get_pet = next(case for case in cases if case["name"] == "getPetById/required")
    assert get_pet["steps"][0]["request"] == {"method": "GET", "path": "/pet/7", "query": ""}
    assert get_pet["client"] == {"api_key": "key_derived", "bearer_token": "tok_derived"}


def test_derivation_is_deterministic() -> None:
    assert _derive(ORCHESTRATOR)[1] == _derive(ORCHESTRATOR)[1]


def test_orchestrator_cases_cover_pages_streams_forms_and_multipart() -> None:
    _contract, cases, skipped = _derive(ORCHESTRATOR)
    assert skipped == {}
    by_name = {case["name"]: case for case in cases}
    pages = by_name["listAgents/pages"]
    assert pages["mode"] == "pages"
    assert [step["request"]["query"] for step in pages["steps"]] == ["", "cursor=cursor_2"]
    assert pages["steps"][0]["response"]["body"]["next_cursor"] == "cursor_2"
    assert pages["steps"][1]["response"]["body"]["next_cursor"] is None
    link = next(
        case
        for case in cases
        if case["name"].endswith("/pages") and "headers" in case["steps"][0]["response"]
    )
    assert 'rel="next"' in link["steps"][0]["response"]["headers"]["Link"]
    stream = by_name["streamRunEvents/required"]
    assert stream["mode"] == "stream" and "stream" in stream["requires"]
    assert len(stream["steps"][0]["response"]["events"]) == 2
    form = by_name["createAccessToken/required"]["expect"]["wire"]
    assert form["content_type"] == "application/x-www-form-urlencoded" and "form" in form
    multipart = by_name["uploadArtifactMultipart/required"]["expect"]["wire"]
    assert multipart["multipart"][0] == {"name": "file", "base64": "ZGVyaXZlZCAA/yBieXRlcw=="}


def _validator(contract: Contract, schema: dict[str, Any]) -> Any:
    """A validator of `schema` whose local $refs resolve in the contract (its components beside it)."""
    cls = OAS31Validator if contract.is_31 else OAS30Validator
    return cls({"allOf": [schema], "components": contract.data.get("components", {})})


@pytest.mark.parametrize("spec", [PETSTORE, ORCHESTRATOR], ids=lambda p: p.stem)
def test_derived_bodies_are_valid_against_the_contract(spec: Path) -> None:
    """Every JSON request and response body a case plays is an instance of its schema (the
    undeclared field of full responses aside, which open objects allow; `…/unknown` cases play
    values outside the contract on purpose)."""
    contract, cases, _skipped = _derive(spec)
    checked = 0
    for case in cases:
        if case["name"].endswith("/unknown"):
            continue
        method, template = _operation_route(contract, case["operation"])
        operation = contract.data["paths"][template][method]
        for step in case["steps"]:
            response = step["response"]
            if response["kind"] != "json" or "body" not in response:
                continue
            declared = _resolve(contract, operation["responses"].get(str(response["status"])) or {})
            media = next(iter((declared.get("content") or {}).values()), {})
            if "schema" not in media:
                continue
            errors = list(_validator(contract, media["schema"]).iter_errors(response["body"]))
            assert not errors, f"{case['name']}: {errors[0].message}"
            checked += 1
    assert checked > 20


def _operation_route(contract: Contract, operation_id: str) -> tuple[str, str]:
    for template, item in contract.data["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return method, template
    raise AssertionError(operation_id)


def _resolve(contract: Contract, node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = contract.resolve(node["$ref"], contract.uri, "")[2]
    return node


def test_the_derived_case_file_loads_like_a_hand_written_one(tmp_path: Path) -> None:
    derivation = derive(
        read_contract(PETSTORE), build_decisions(read_api(PETSTORE, ReadOptions(validate=False)))
    )
    file = tmp_path / "derived.yaml"
    file.write_text(derivation.file_text("Petstore"), encoding="utf-8")
    loaded = load_cases([file], contract_operations(PETSTORE))
    assert [case.id for case in loaded] == [f"Derived/{case['name']}" for case in derivation.cases]
    assert "é中🤖" in file.read_text(encoding="utf-8")


def test_a_get_body_the_contract_requires_is_a_declared_platform_limit(tmp_path: Path) -> None:
    """A GET whose contract requires a body (Asana's typeahead lookups): the case sends it and
    requires `get_body`, which the Go and Rust drivers declare and the TypeScript one (fetch
    forbids GET bodies) does not, so it is `unsupported` there instead of failing or vanishing."""
    _contract, cases, _skipped = _derive(REAL / "asana-app-components.yaml")
    lookup = next(case for case in cases if case["name"] == "getTypeaheadResults/required")
    assert "get_body" in lookup["requires"] and lookup["steps"][0]["request"]["method"] == "GET"
    assert "body" in lookup["args"]
    from polysdk.views.go import driver as go_driver
    from polysdk.views.rust import driver as rust_driver
    from polysdk.views.typescript import driver as ts_driver

    assert "get_body" in go_driver.CAPABILITIES and "get_body" in rust_driver.CAPABILITIES
    assert "get_body" not in ts_driver.CAPABILITIES


def test_the_runner_lists_derived_cases_and_generates_nothing_into_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = runner_main(
        ["--spec", str(PETSTORE), "--derived", "--list", "--lang", "go", "--cache-dir", str(tmp_path)]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "Derived/getPetById/status-404\tgetPetById" in out
    assert "69 derived cases" in err
    assert (tmp_path / "derived" / "petstore-3.0" / "sdk" / "go" / "go.mod").is_file()


MAINTAINER_CASES = """suite: Mine
doc: A maintainer's own cases for the petstore, run beside the derived ones.
defaults:
  client: {api_key: key_mine}
cases:
  - name: getPetById/ok
    doc: A pet as the maintainer's server returns it.
    operation: getPetById
    args: {petId: 42}
    steps:
      - request: {method: GET, path: /pet/42}
        response: {kind: json, body: {id: 42, name: rex, photoUrls: []}}
  - name: getPetById/wrong-on-purpose
    doc: Expects a name the server does not send, so it fails, and is listed as known-failing.
    operation: getPetById
    args: {petId: 42}
    steps:
      - request: {method: GET, path: /pet/42}
        response: {kind: json, body: {id: 42, name: rex, photoUrls: []}}
    expect: {outcome: ok, value: {id: 42, name: fido, photoUrls: []}}
"""


@pytest.mark.toolchain
# openapi-core warns about petstore's oauth2 scheme; the mock silences it, pytest shows it again
@pytest.mark.filterwarnings("ignore:Unsupported scheme type")
def test_a_maintainers_cases_and_known_failing_entries_run_beside_the_derived_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--cases` adds hand-written cases for the contract, `--known-dir` the maintainer's
    known-failing lists: both work with --derived as with the orchestrator's suites (Go only,
    enough to show the wiring; the derived session runs every SDK)."""
    require_tool("go")
    cases, known = tmp_path / "cases", tmp_path / "known"
    cases.mkdir()
    known.mkdir()
    (cases / "mine.yaml").write_text(MAINTAINER_CASES, encoding="utf-8")
    (known / "go.txt").write_text("Mine/getPetById/wrong-on-purpose  # the expectation is wrong on purpose\n")
    reports = tmp_path / "reports"
    argv = ["--spec", str(PETSTORE), "--derived", "--lang", "go", "--cache-dir", str(tmp_path / "cache")]
    argv += ["--cases", str(cases), "--known-dir", str(known), "--report-dir", str(reports)]
    argv += ["--run", "Mine/*", "--run", "Derived/getPetById/*"]
    assert runner_main(argv) == 0, capsys.readouterr().out
    summary = json.loads((reports / "results.json").read_text(encoding="utf-8"))
    statuses = {case["id"]: case["sdks"]["go"]["status"] for case in summary["cases"]}
    assert statuses["Mine/getPetById/ok"] == "pass"
    assert statuses["Mine/getPetById/wrong-on-purpose"] == "known"
    assert statuses["Derived/getPetById/required"] == "pass"
    # An entry for a case that passes is stale, and fails the run: the list cannot rot.
    (known / "go.txt").write_text("Mine/getPetById/ok  # wrongly listed\n")
    assert runner_main(argv) == 1


def test_derived_runs_only_the_openapi_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner_main(["--spec", str(PETSTORE), "--derived", "--contract", "proto"]) == 2
    assert "--derived runs the OpenAPI contract" in capsys.readouterr().err


def _results(folder: Path, summary: dict[str, Any]) -> None:
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({"summary": summary, "timings_s": {"total_s": 12.3}}))


def test_the_summary_table_judges_every_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from polysdk_conformance.derive import summary

    clean = {"pass": 4, "fail": 0}
    _results(tmp_path / "petstore", {"cases": 4, "go": clean, "rust": clean, "typescript": clean})
    assert summary.main([str(tmp_path)]) == 0
    assert "| petstore | 4 | 4/4 | 4/4 | 4/4 | 0 | 12 s |" in capsys.readouterr().out
    # A platform limit the driver declares (unsupported) keeps the contract green, and is shown.
    limited = {"pass": 3, "fail": 0, "unsupported": 1}
    _results(tmp_path / "asana", {"cases": 4, "go": clean, "rust": clean, "typescript": limited})
    assert summary.main([str(tmp_path)]) == 0
    assert "| asana | 4 | 4/4 | 4/4 | 3/4 (1 unsupported) | 0 | 12 s |" in capsys.readouterr().out
    _results(
        tmp_path / "stripe",
        {"cases": 4, "go": clean, "rust": {"pass": 3}, "typescript": clean, "parity_divergences": 1},
    )
    (tmp_path / "unfinished").mkdir()
    assert summary.main([str(tmp_path)]) == 1
    table = (tmp_path / "summary.md").read_text()
    assert "| stripe | 4 | 4/4 | 3/4 | 4/4 | 1 | 12 s |" in table
    assert "| unfinished | no results" in table


def test_an_operation_only_unsupported_credentials_reach_is_not_derived(tmp_path: Path) -> None:
    spec = tmp_path / "basic.yaml"
    spec.write_text(
        """
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      operationId: basicOnly
      security: [{basic: []}]
      responses: {'200': {description: ok}}
  /b:
    get:
      operationId: basicOrAnonymous
      security: [{basic: []}, {}]
      responses: {'200': {description: ok}}
components:
  securitySchemes:
    basic: {type: http, scheme: basic}
""",
        encoding="utf-8",
    )
    _contract, cases, skipped = _derive(spec)
    assert skipped == {"basicOnly": "its security (basic) uses no scheme the SDKs support"}
    assert [case["name"] for case in cases] == ["basicOrAnonymous/required"]


def test_a_proto_contract_is_refused_with_a_located_message(capsys: pytest.CaptureFixture[str]) -> None:
    proto = ROOT / "spec" / "orchestrator.proto"
    assert runner_main(["--spec", str(proto), "--derived", "--list"]) == 2
    assert "derived cases are built from an OpenAPI contract" in capsys.readouterr().err


def test_a_contract_without_operations_says_there_is_nothing_to_compare(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A webhooks-only contract derives no case: one clear message and exit 2, not a schema error
    about a case file the user never wrote, and never a pass without data."""
    webhooks = REAL / "oag-3_1__webhooks.yaml"
    argv = ["--spec", str(webhooks), "--derived", "--lang", "go", "--cache-dir", str(tmp_path)]
    assert runner_main(argv) == 2
    err = capsys.readouterr().err
    assert "no case could be derived: the contract declares no operation (only webhooks or models)" in err
    assert "should be non-empty" not in err
