"""Hostile contracts (issue 14, "no tracebacks, ever"): each one is read, or refused with one
located message and exit 2, in bounded time; never a traceback or an internal error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from polysdk import ir
from polysdk.errors import Location
from polysdk.frontends import read_api
from polysdk.frontends.openapi import load_contract
from polysdk.frontends.openapi.document import MAX_ALIAS_NODES, MAX_DEPTH

from .conftest import FIXTURES

HOSTILE = FIXTURES / "hostile_contracts"


def _generate(contract: Path, out: Path) -> subprocess.CompletedProcess[str]:
    # The whole CLI in a child process: validation runs in its own forked process there, which
    # is where the integer keys used to crash. The timeout only guards a regression of the bounds.
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "polysdk",
            "generate",
            str(contract),
            "--out",
            str(out),
            "--lang",
            "typescript",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
        timeout=300,
    )


def _refused(contract: Path, tmp_path: Path) -> str:
    result = _generate(contract, tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert len(result.stderr) < 600, result.stderr  # one message, no dump of the contract
    assert not (tmp_path / "out").exists()
    return result.stderr


def _ref_chain(api: ir.Api, start: str) -> list[str]:
    names = [start]
    while True:
        definition = api.types_by_name[names[-1]].definition
        if not isinstance(definition, ir.ObjectDef):
            return names
        target = definition.fields[0].type if definition.fields else None
        while isinstance(target, ir.Nullable):
            target = target.inner
        if not isinstance(target, ir.NamedRef):
            return names
        names.append(target.name)


def test_integer_mapping_keys_are_the_strings_openapi_means() -> None:
    api = read_api(HOSTILE / "int_keys.yaml")
    operation = api.operations[0]
    assert [r.status for r in operation.responses] == ["200"]


def test_integer_mapping_keys_generate_through_the_cli(tmp_path: Path) -> None:
    result = _generate(HOSTILE / "int_keys.yaml", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_keys_are_spelled_as_written(tmp_path: Path) -> None:
    contract = tmp_path / "keys.yaml"
    contract.write_text(
        'openapi: 3.0.3\ninfo: {title: Keys, version: "1"}\npaths: {}\n'
        "x-enum-map: {1: one, 0x10: sixteen, true: yes, null: none, 1.50: price}\n",
        encoding="utf-8",
    )
    assert list(load_contract(contract).data["x-enum-map"]) == ["1", "0x10", "true", "null", "1.50"]


def test_a_missing_ref_is_located_where_it_is_written(tmp_path: Path) -> None:
    message = _refused(HOSTILE / "missing_ref.yaml", tmp_path)
    first = message.splitlines()[0]
    assert first.endswith(
        "missing_ref.yaml:12 at #/paths/~1pets/get/responses/200/content/application~1json/schema: "
        "reference '#/components/schemas/Nope' points to nothing"
    ), first
    assert "hint: check the spelling of the target" in message


def test_a_long_ref_is_capped_in_the_message(tmp_path: Path) -> None:
    contract = tmp_path / "long_ref.yaml"
    target = "#/components/schemas/" + "x" * 5000
    contract.write_text(
        f'openapi: 3.0.3\ninfo: {{title: Long, version: "1"}}\npaths: {{}}\n'
        f'components: {{schemas: {{A: {{$ref: "{target}"}}}}}}\n',
        encoding="utf-8",
    )
    message = _refused(contract, tmp_path)
    assert "points to nothing" in message


def test_a_contract_too_deep_to_read_is_refused_where_it_gets_too_deep(tmp_path: Path) -> None:
    message = _refused(HOSTILE / "deep.json", tmp_path)
    assert "deep.json at #/components/schemas/S0/properties/child/" in message
    assert f"nests deeper than {MAX_DEPTH} levels here" in message
    assert "tokens)..." in message  # the pointer is elided, not kilobytes long
    assert "hint: flatten it" in message


def test_a_yaml_contract_too_deep_for_the_parser_is_refused_with_its_line(tmp_path: Path) -> None:
    contract = tmp_path / "deep.yaml"
    contract.write_text(
        'openapi: 3.0.3\ninfo: {title: Deep, version: "1"}\npaths: {}\nx-deep: '
        + "[" * (MAX_DEPTH + 50)
        + "]" * (MAX_DEPTH + 50)
        + "\n",
        encoding="utf-8",
    )
    message = _refused(contract, tmp_path)
    assert message.startswith(f"error: {contract}:4: invalid YAML: exceeded maximum nesting depth")
    assert "hint: flatten it" in message


def test_a_chain_of_200_named_schemas_is_read() -> None:
    api = read_api(HOSTILE / "named_chain.yaml")
    assert _ref_chain(api, "S0") == [f"S{i}" for i in range(201)]


def test_200_nested_inline_levels_are_not_a_cycle() -> None:
    api = read_api(HOSTILE / "inline_200.yaml")
    assert len(_ref_chain(api, "S0")) == 200


def test_a_yaml_alias_bomb_is_refused_naming_the_limit(tmp_path: Path) -> None:
    assert (HOSTILE / "alias_bomb.yaml").stat().st_size < 1500
    message = _refused(HOSTILE / "alias_bomb.yaml", tmp_path)
    assert message.startswith("error: ")
    assert "alias_bomb.yaml:" in message.splitlines()[0]
    assert f"past {MAX_ALIAS_NODES} repeated nodes" in message


def test_modest_aliases_are_read(tmp_path: Path) -> None:
    contract = tmp_path / "aliases.yaml"
    contract.write_text(
        'openapi: 3.0.3\ninfo: {title: Aliases, version: "1"}\npaths: {}\n'
        "components:\n  schemas:\n"
        "    A: &shape {type: object, properties: {name: {type: string}}}\n"
        "    B: *shape\n"
        "    C: {<<: *shape, description: merged}\n",
        encoding="utf-8",
    )
    api = read_api(contract)
    assert {"A", "B", "C"} <= set(api.types_by_name)


def test_an_alias_inside_its_own_node_is_refused(tmp_path: Path) -> None:
    contract = tmp_path / "loop.yaml"
    contract.write_text(
        'openapi: 3.0.3\ninfo: {title: Loop, version: "1"}\npaths: {}\nx-loop: &loop [1, *loop]\n',
        encoding="utf-8",
    )
    message = _refused(contract, tmp_path)
    assert "loop.yaml:4: a YAML alias refers to a node that contains it" in message


def test_short_pointers_are_shown_whole_and_long_ones_by_whole_tokens() -> None:
    assert str(Location("a.yaml", "/paths/~1x", 3)) == "a.yaml:3 at #/paths/~1x"
    long = "/components/schemas/S" + "/properties/child" * 100
    shown = str(Location("a.yaml", long))
    assert shown.startswith("a.yaml at #/components/schemas/S/properties/child/")
    assert shown.endswith("/properties/child")
    assert "...(" in shown and len(shown) < 300
