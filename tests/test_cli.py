"""The `polysdk` command: exit codes, atomic output, determinism, and the committed out/ tree."""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

import pytest

from polysdk import cli
from polysdk.errors import ToolchainError
from polysdk.render import tree_files

from .conftest import FIXTURES, PROTO_SPEC, ROOT, SPEC, polysdk_cli

_run = polysdk_cli


def test_committed_out_matches_a_fresh_generation() -> None:
    result = _run("check", str(SPEC), "--out", str(ROOT / "out"), "--drivers")
    assert result.returncode == 0, result.stderr


def test_committed_proto_sdks_match_a_fresh_generation() -> None:
    out = ROOT / "out" / "proto"
    result = _run(
        "check",
        str(PROTO_SPEC),
        "--out",
        str(out),
        "--name",
        "orchestrator-proto",
        "--drivers",
        "--license",
        "Apache-2.0",
        "--go-module",
        "github.com/polysdk/orchestrator-proto-sdk-go",
    )
    assert result.returncode == 0, result.stderr


def test_check_exits_1_and_names_the_file_when_out_drifted(tmp_path: Path) -> None:
    assert cli.main(["generate", str(SPEC), "--out", str(tmp_path), "--lang", "go"]) == 0
    (tmp_path / "go" / "models.go").write_text("// edited by hand\n")
    (tmp_path / "go" / "stray.go").write_text("package x\n")
    result = _run("check", str(SPEC), "--out", str(tmp_path), "--lang", "go")
    assert result.returncode == 1
    assert "go/models.go: changed" in result.stderr
    assert "go/stray.go: extra" in result.stderr
    # What a user of their own contract runs (nox exists only in polysdk's repository).
    assert f"run: polysdk generate {SPEC} --out {tmp_path} --lang go\n" in result.stderr
    assert "nox" not in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["generate", "missing.yaml"], "missing.yaml: file not found"),
        (
            ["generate", str(FIXTURES / "loader" / "schemas" / "thing.yaml")],
            "unsupported or missing 'openapi'",
        ),
        (["generate", str(SPEC), "--lang", "cobol"], "unknown language cobol"),
    ],
)
def test_bad_input_exits_2_with_one_message_and_no_traceback(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    result = _run(*args, "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "go").exists()


def test_a_failure_leaves_out_exactly_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    assert cli.main(["generate", str(FIXTURES / "hostile.yaml"), "--out", str(out), "--lang", "go"]) == 0
    before = tree_files(out)

    def broken_formatter(directory: Path, files: Sequence[str]) -> None:
        raise ToolchainError("gofmt exploded")

    from polysdk.views import go

    monkeypatch.setattr(go, "_gofmt", broken_formatter)
    assert cli.main(["generate", str(SPEC), "--out", str(out), "--lang", "go"]) == 3
    assert tree_files(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["go"], "no staging directory is left behind"


def test_generation_is_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        result = _run(
            "generate", str(FIXTURES / "hostile.yaml"), "--out", str(out), env={"PYTHONHASHSEED": seed}
        )
        assert result.returncode == 0, result.stderr
        trees.append(tree_files(out))
    assert trees[0] == trees[1]
    assert set(trees[0]) >= {"go/models.go", "rust/src/models.rs", "typescript/src/models.ts"}


def test_a_contract_that_fails_validation_generates_with_warnings_unless_strict(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    header = 'openapi: 3.0.3\ninfo: {title: T, version: "1", license: {name: MIT}}\npaths: {}\n'
    spec.write_text(header + "components: {schemas: {A: {required: true}}}\n")
    warning = f"warning: {spec}:4 at #/components/schemas/A/required: OpenAPI 3.0.3 schema:"
    go = ("--lang", "go", "--go-module", "example.com/t")  # a module path: its only warning is the fault's
    strict = _run("generate", str(spec), "--out", str(tmp_path / "s"), *go, "--strict")
    assert strict.returncode == 2
    assert strict.stderr.startswith(warning)
    assert "error: 1 warning and --strict; nothing was written" in strict.stderr
    assert not (tmp_path / "s").exists()
    for extra in ([], ["--lenient"]):  # --lenient is kept as a no-op for old scripts
        result = _run("generate", str(spec), "--out", str(tmp_path / "o"), *go, *extra)
        assert result.returncode == 0, result.stderr
        assert result.stderr.startswith(warning)
        assert result.stderr.endswith("1 warning (--strict makes them errors)\n")
        assert (tmp_path / "o" / "go" / "models.go").is_file()


def test_generated_files_carry_no_absolute_paths_or_timestamps(tmp_path: Path) -> None:
    assert cli.main(["generate", str(SPEC), "--out", str(tmp_path)]) == 0
    for path, content in tree_files(tmp_path).items():
        assert str(tmp_path).encode() not in content, path
        assert str(ROOT).encode() not in content, path


def test_allow_external_refs_lets_a_contract_read_a_shared_folder(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.yaml").write_text("Name: {type: string}\n", encoding="utf-8")
    spec = tmp_path / "api" / "spec.yaml"
    spec.write_text(
        'openapi: 3.0.3\ninfo: {title: T, version: "1"}\npaths: {}\n'
        "components: {schemas: {Name: {$ref: '../shared/common.yaml#/Name'}}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    refused = _run("generate", str(spec), "--out", str(out), "--lang", "go")
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"error: {spec}:4 at #/components/schemas/Name: reference")
    assert f"hint: pass --allow-external-refs {tmp_path / 'shared'}" in refused.stderr
    assert not out.exists()
    allowed = _run(
        "generate",
        str(spec),
        "--out",
        str(out),
        "--lang",
        "go",
        "--allow-external-refs",
        str(tmp_path / "shared"),
    )
    assert allowed.returncode == 0, allowed.stderr


def test_version_prints_the_version() -> None:
    result = _run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"polysdk {cli.version()}\n"
    # From a checkout the checkout's own pyproject.toml answers, not whatever polysdk is installed.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert cli.version() == pyproject["project"]["version"]


def _without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if `pip install polysdk` had left the conformance extra out: its first dependency cannot
    be imported, and nothing of the kit is already imported in this process."""
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # None in sys.modules makes `import` fail
    for name in [name for name in sys.modules if name.startswith("polysdk_conformance")]:
        monkeypatch.delitem(sys.modules, name)


@pytest.mark.parametrize("command", sorted(cli.EXTRA_COMMANDS))
def test_conformance_commands_show_help_without_the_extra(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_the_extra(monkeypatch)
    assert cli.main([command, "--help"]) == 0
    out = capsys.readouterr().out
    summary = cli.EXTRA_COMMANDS[command]
    assert out.startswith(f"usage: polysdk {command} [options]\n\n{summary[:1].upper()}{summary[1:]}.\n")
    assert "needs the conformance extra (aiohttp is missing)" in out
    assert "pip install 'polysdk[conformance]'" in out
    # Running it (not asking for help) is an error that says the same.
    assert cli.main([command]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: `polysdk {command}` needs the conformance extra (aiohttp is missing)\n"
        "  pip install 'polysdk[conformance]'\n"
    )


@pytest.mark.parametrize("command", sorted(cli.EXTRA_COMMANDS))
def test_conformance_commands_show_their_own_help_with_the_extra(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    # The command's own parser answers, with its options (the mock's calls itself polysdk-mock).
    out = capsys.readouterr().out
    assert re.match(f"usage: polysdk[ -]{command} \\[-h\\]", out), out
    assert "options:" in out
