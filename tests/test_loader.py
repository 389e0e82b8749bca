"""The OpenAPI loader: every bad contract gets one located error, good ones load and resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from polysdk import ir
from polysdk.errors import ContractError
from polysdk.frontends.openapi import build_api, load_contract

from .conftest import FIXTURES

MINIMAL = 'openapi: 3.1.0\ninfo: {title: T, version: "1"}\npaths: {}\n'


def _load_error(tmp_path: Path, text: str, name: str = "spec.yaml") -> ContractError:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    return caught.value


@pytest.mark.parametrize(
    ("text", "pointer", "line", "fragment"),
    [
        ("openapi: 3.1.0\ninfo: [unclosed\n", "", 3, "invalid YAML"),
        ('swagger: "1.2"\ninfo: {title: T, version: "1"}\n', "/swagger", 1, "Swagger 1.2 is not supported"),
        ("info: {title: T}\n", "/openapi", 1, "unsupported or missing 'openapi'"),
        ("openapi: 4.0.0\n", "/openapi", 1, "unsupported or missing 'openapi'"),
        ("- just\n- a list\n", "", None, "must be a YAML or JSON object"),
        (
            'openapi: 3.1.0\ninfo: {title: T, version: "1"}\npaths:\n  /a:\n    get:\n      responses:\n'
            "        '200': {description: ok, content: {application/json: {schema: {$ref: '#/nope'}}}}\n",
            "/paths/~1a/get/responses/200/content/application~1json/schema",
            7,
            "points to nothing",
        ),
        (
            'openapi: 3.1.0\ninfo: {title: T, version: "1"}\npaths:\n  /a:\n    get:\n      responses:\n'
            "        '200': {description: ok, content: {application/json: {schema: "
            "{$ref: 'https://example.com/s.yaml#/S'}}}}\n",
            "/paths/~1a/get/responses/200/content/application~1json/schema",
            7,
            "remote reference",
        ),
    ],
)
def test_bad_contracts_get_one_located_error(
    tmp_path: Path, text: str, pointer: str, line: int | None, fragment: str
) -> None:
    error = _load_error(tmp_path, text)
    assert fragment in error.message
    assert error.location.file.endswith("spec.yaml")
    assert error.location.pointer == pointer
    assert error.location.line == line
    assert error.hint, "every error says what to do"


def test_invalid_json_reports_the_line(tmp_path: Path) -> None:
    error = _load_error(tmp_path, '{\n  "openapi": "3.1.0",\n  oops\n}', name="spec.json")
    assert error.location.line == 3
    assert "invalid JSON" in error.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="file not found"):
        load_contract(tmp_path / "absent.yaml")


def test_validation_faults_are_located_warnings(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(MINIMAL.replace("paths: {}", "paths: {}\ncomponents: {schemas: {A: {required: true}}}"))
    contract = load_contract(path)
    assert contract.warnings == [
        f"{path}:4 at #/components/schemas/A/required: OpenAPI 3.1.0 schema: True is not of type 'array'"
    ]


def test_relative_file_refs_and_cycles_resolve() -> None:
    api = build_api(load_contract(FIXTURES / "loader" / "base.yaml"))
    thing = api.types_by_name["Thing"].definition
    assert isinstance(thing, ir.ObjectDef)
    assert [(f.wire_name, f.type, f.required) for f in thing.fields] == [
        ("id", ir.PrimitiveType(ir.Prim.STRING), True),
        ("owner", ir.NamedRef("Owner"), False),
    ]
    owner = api.types_by_name["Owner"].definition
    assert isinstance(owner, ir.ObjectDef)
    assert owner.fields[0].type == ir.Nullable(ir.PrimitiveType(ir.Prim.STRING))
    node = api.types_by_name["Node"].definition
    assert isinstance(node, ir.ObjectDef)
    assert [f.type for f in node.fields] == [ir.ArrayType(ir.NamedRef("Node")), ir.NamedRef("Node")]


def test_a_remote_ref_in_a_nested_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("S: {$ref: 'http://example.com/x.yaml#/S'}\n")
    text = MINIMAL.replace("paths: {}", "paths: {}\ncomponents: {schemas: {A: {$ref: 'other.yaml#/S'}}}")
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(ContractError, match="remote reference") as caught:
        build_api(load_contract(path))
    assert caught.value.location.file.endswith("other.yaml")
    assert caught.value.location.pointer == "/S"


def test_an_all_of_cycle_is_a_clear_warning_not_a_recursion_crash(tmp_path: Path) -> None:
    schemas = "components: {schemas: {A: {allOf: [{$ref: '#/components/schemas/B'}]}, "
    schemas += "B: {allOf: [{$ref: '#/components/schemas/A'}]}}}\n"
    path = tmp_path / "spec.yaml"
    path.write_text(MINIMAL + schemas)
    (warning,) = load_contract(path).warnings
    assert "cycle" in warning


QUIRKS = FIXTURES / "yaml_quirks"


def test_c1_control_characters_are_read_as_js_yaml_reads_them() -> None:
    path = QUIRKS / "c1_controls.yaml"
    contract = load_contract(path)
    assert contract.data["info"]["description"] == "The service\u0092s API \u0085 read by js-yaml"
    get = contract.data["paths"]["/notes"]["get"]
    assert get["summary"] == "Lists the user\u0092s notes"
    assert get["responses"]["200"]["description"] == "\u0093OK\u0094 with notes"
    assert contract.warnings == [
        f"{path}:5: C1 control characters (U+0085, U+0092, U+0093, U+0094, U+0096) on lines 5, 10, 13, "
        "22, which libyaml refuses, are kept as written, as js-yaml reads them (often Windows-1252 "
        "punctuation decoded as Latin-1)"
    ]
    note = build_api(contract).types_by_name["Note"].definition
    assert isinstance(note, ir.ObjectDef)
    assert note.fields[0].docs.description == "a note\u0096short"


def test_c1_characters_in_plain_scalars_and_keys_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(MINIMAL + "x-caf\u0092: caf\u0093e\n", encoding="utf-8")
    assert load_contract(path).data["x-caf\u0092"] == "caf\u0093e"


def test_tab_only_lines_are_blank_lines_as_js_yaml_reads_them() -> None:
    path = QUIRKS / "tab_blank_lines.yaml"
    contract = load_contract(path)
    assert contract.data["info"]["description"] == (
        "A long Markdown description whose blank lines were written by an editor that indents with "
        "tabs.\nThe paragraph after the tab-only line.\nAnd one after spaces and a tab."
    )
    assert contract.warnings == [
        f"{path}:7: whitespace-only lines with a tab on lines 7, 9, 12, which libyaml reads as "
        "indentation and refuses, are read as blank lines, as js-yaml reads them",
        # Lines are kept: a validation fault after the repaired lines is located where it is.
        f"{path}:17 at #/paths/~1notes/get/responses/200: OpenAPI 3.0.3 schema: "
        "'description' is a required property",
    ]


def test_what_js_yaml_refuses_too_stays_a_located_error() -> None:
    with pytest.raises(ContractError) as caught:
        load_contract(QUIRKS / "colon_in_plain_scalar.yaml")
    assert caught.value.location.line == 6
    assert caught.value.message == "invalid YAML: mapping values are not allowed in this context"


def test_a_quirk_repair_does_not_hide_a_real_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(MINIMAL + 'x-a: "caf\u0092"\n\t\nx-b: [unclosed\n', encoding="utf-8")
    error = _load_error(tmp_path, path.read_text(encoding="utf-8"))
    assert error.location.line == 7
    assert error.message.startswith("invalid YAML")


def _confined_layout(tmp_path: Path) -> tuple[Path, Path]:
    """api/spec.yaml referring to ../shared/common.yaml, outside its folder."""
    (tmp_path / "api" / "schemas").mkdir(parents=True)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.yaml").write_text("Name: {type: string}\n", encoding="utf-8")
    (tmp_path / "api" / "schemas" / "local.yaml").write_text("Id: {type: string}\n", encoding="utf-8")
    spec = tmp_path / "api" / "spec.yaml"
    spec.write_text(
        MINIMAL.replace("paths: {}", "paths: {}\ncomponents:\n  schemas:\n")
        + "    Id: {$ref: 'schemas/local.yaml#/Id'}\n"
        + "    Name: {$ref: '../shared/common.yaml#/Name'}\n",
        encoding="utf-8",
    )
    return spec, tmp_path / "shared"


def test_a_ref_outside_the_contracts_folder_is_refused_naming_the_option(tmp_path: Path) -> None:
    spec, shared = _confined_layout(tmp_path)
    with pytest.raises(ContractError) as caught:
        load_contract(spec)
    error = caught.value
    assert (error.location.file, error.location.pointer, error.location.line) == (
        str(spec),
        "/components/schemas/Name",
        8,
    )
    assert error.message == (
        f"reference '../shared/common.yaml#/Name' reads {shared / 'common.yaml'}, "
        "outside the contract's folder"
    )
    assert error.hint.startswith(f"pass --allow-external-refs {shared} ")


def test_allowed_folders_may_be_read(tmp_path: Path) -> None:
    spec, shared = _confined_layout(tmp_path)
    api = build_api(load_contract(spec, allowed_ref_dirs=[shared]))
    assert set(api.types_by_name) >= {"Id", "Name"}


def test_a_symlink_is_followed_before_the_check(tmp_path: Path) -> None:
    spec, shared = _confined_layout(tmp_path)
    (spec.parent / "link.yaml").symlink_to(shared / "common.yaml")
    spec.write_text(spec.read_text(encoding="utf-8").replace("../shared/common.yaml", "link.yaml"))
    with pytest.raises(ContractError, match="outside the contract's folder"):
        load_contract(spec)
    # A link to a file inside the folder stays readable.
    (spec.parent / "link.yaml").unlink()
    (spec.parent / "link.yaml").symlink_to(spec.parent / "schemas" / "local.yaml")
    spec.write_text(spec.read_text(encoding="utf-8").replace("link.yaml#/Name", "link.yaml#/Id"))
    assert load_contract(spec).data["components"]["schemas"]["Name"] == {"$ref": "link.yaml#/Id"}


def test_a_ref_in_the_default_response_is_checked_where_it_is_written(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "paths: {}",
        "paths:\n  /a:\n    get:\n      responses:\n        default:\n          description: error\n"
        "          content: {application/json: {schema: {$ref: '#/components/schemas/Nope'}}}",
    )
    error = _load_error(tmp_path, text)
    assert error.location.pointer == "/paths/~1a/get/responses/default/content/application~1json/schema"
    assert "points to nothing" in error.message
