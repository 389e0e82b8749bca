"""`polysdk generate --out DIR` never destroys a user's files: it replaces only the language
folders its manifest shows it wrote, cleans up after killed runs, and swaps all or nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from polysdk import cli
from polysdk.render import MANIFEST, STAGING_PREFIX, TRASH_PREFIX, remove_stale, swap_into, tree_files

from .conftest import FIXTURES

SPEC = FIXTURES / "hostile.yaml"


def _generate(out: Path, *extra: str) -> int:
    return cli.main(["generate", str(SPEC), "--out", str(out), "--lang", "go", *extra])


def _dead_pid() -> int:
    """The pid of a process that has exited (what a killed run leaves in its folder names)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(child.stdout)


def test_a_folder_polysdk_did_not_write_is_refused_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "go").mkdir()
    (tmp_path / "go" / "main.go").write_text("package main\n")
    assert _generate(tmp_path) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'go'}: has no {MANIFEST}" in err
    assert "    main.go" in err and "--force" in err
    assert "Traceback" not in err
    assert (tmp_path / "go" / "main.go").read_text() == "package main\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["go"], "no staging folder is left behind"


def test_out_dot_with_a_contract_and_a_go_program_touches_neither(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(SPEC, tmp_path / "api.yaml")
    (tmp_path / "go").mkdir()
    (tmp_path / "go" / "main.go").write_text("package main\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["generate", "api.yaml", "--out", "."]) == 2
    assert "go: has no" in capsys.readouterr().err
    assert (tmp_path / "api.yaml").read_bytes() == SPEC.read_bytes()
    assert (tmp_path / "go" / "main.go").read_text() == "package main\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api.yaml", "go"]


def test_an_empty_folder_is_generated_into(tmp_path: Path) -> None:
    (tmp_path / "go").mkdir()
    assert _generate(tmp_path) == 0
    assert (tmp_path / "go" / MANIFEST).is_file()


def test_regenerating_its_own_output_is_allowed_and_byte_identical(tmp_path: Path) -> None:
    assert _generate(tmp_path) == 0
    before = tree_files(tmp_path / "go")
    manifest = json.loads((tmp_path / "go" / MANIFEST).read_text())
    assert sorted(manifest["files"]) == sorted(p for p in before if p != MANIFEST)
    (tmp_path / "go" / ".build").mkdir()  # a build product, carried over as before
    assert _generate(tmp_path) == 0
    assert tree_files(tmp_path / "go") == before
    assert (tmp_path / "go" / ".build").is_dir()


def test_a_user_file_in_a_generated_folder_is_named_and_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _generate(tmp_path) == 0
    (tmp_path / "go" / "extra.go").write_text("package x\n")
    (tmp_path / "go" / "models.go").write_text("// edited by hand\n")
    capsys.readouterr()
    assert _generate(tmp_path) == 2
    err = capsys.readouterr().err
    assert "did not write or that were edited" in err
    assert "    extra.go\n    models.go\n" in err and "--force" in err
    assert (tmp_path / "go" / "extra.go").is_file()
    assert (tmp_path / "go" / "models.go").read_text() == "// edited by hand\n"
    assert _generate(tmp_path, "--force") == 0
    assert not (tmp_path / "go" / "extra.go").exists()
    assert (tmp_path / "go" / "models.go").read_text() != "// edited by hand\n"


def test_a_file_where_a_language_folder_goes_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "go").write_text("notes\n")
    assert _generate(tmp_path) == 2
    assert f"{tmp_path / 'go'}: is not a folder polysdk generated" in capsys.readouterr().err
    assert (tmp_path / "go").read_text() == "notes\n"


def test_a_killed_runs_staging_is_removed_and_a_running_ones_kept(tmp_path: Path) -> None:
    assert _generate(tmp_path) == 0
    dead = _dead_pid()
    for leftover in (f"{STAGING_PREFIX}{dead}-abc", f"{TRASH_PREFIX}{dead}-def"):
        (tmp_path / leftover / "go").mkdir(parents=True)
        (tmp_path / leftover / "go" / "half.go").write_text("package half\n")
    running = tmp_path / f"{STAGING_PREFIX}{os.getpid()}-ghi"
    running.mkdir()
    assert _generate(tmp_path) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["go", running.name])


@pytest.mark.parametrize("command", ["generate", "check"])
def test_an_output_path_that_is_a_file_is_exit_2(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.txt"
    target.write_text("x\n")
    assert cli.main([command, str(SPEC), "--out", str(target), "--lang", "go"]) == 2
    assert f"{target}: --out is a file, not a folder" in capsys.readouterr().err
    assert target.read_text() == "x\n"


def test_an_output_path_that_cannot_be_created_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("x\n")
    out = tmp_path / "file" / "sdks"
    assert _generate(out) == 2
    err = capsys.readouterr().err
    assert f"{out}: cannot create the output folder" in err and "Traceback" not in err


def test_a_swap_that_fails_part_way_puts_every_language_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, staging = tmp_path / "out", tmp_path / "out" / f"{STAGING_PREFIX}1-x"
    for language in ("go", "rust"):
        (out / language / "target").mkdir(parents=True)
        (out / language / "old.txt").write_text(f"old {language}\n")
        (staging / language).mkdir(parents=True)
        (staging / language / "new.txt").write_text(f"new {language}\n")
    before = {language: tree_files(out / language) for language in ("go", "rust")}
    real_replace = Path.replace

    def failing_replace(self: Path, target: Path) -> Path:
        if self == staging / "rust":
            raise OSError("disk full")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        swap_into(staging, out, ("go", "rust"))
    monkeypatch.undo()
    assert {language: tree_files(out / language) for language in ("go", "rust")} == before
    assert (out / "go" / "target").is_dir() and (out / "rust" / "target").is_dir()
    assert sorted(p.name for p in out.iterdir()) == ["go", "rust"]


def test_a_folder_the_system_will_not_create_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sdks"
    real_mkdir = Path.mkdir

    def refusing_mkdir(self: Path, *args: object, **kwargs: object) -> None:
        if self == out:
            raise PermissionError(13, "Permission denied")
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", refusing_mkdir)
    assert _generate(out) == 2
    assert f"{out}: cannot create the output folder (Permission denied)" in capsys.readouterr().err


def test_a_run_killed_mid_swap_gets_its_old_tree_back(tmp_path: Path) -> None:
    assert _generate(tmp_path) == 0
    generated = tree_files(tmp_path / "go")
    # Killed after moving go/ aside and before moving the new go/ in.
    trash = tmp_path / f"{TRASH_PREFIX}{_dead_pid()}-abc"
    trash.mkdir()
    (tmp_path / "go").replace(trash / "go")
    (tmp_path / f"{STAGING_PREFIX}{_dead_pid()}-def" / "go").mkdir(parents=True)
    assert remove_stale(tmp_path) != []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["go"]
    assert tree_files(tmp_path / "go") == generated
    assert _generate(tmp_path) == 0, "the restored folder still matches its manifest"
