"""The compiled-template cache (generators/polysdk/template_cache.py): reused across runs, never
a reason to fail, never a change in the output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jinja2

from polysdk.render import tree_files
from polysdk.template_cache import TemplateCache, cache_folder, template_cache

from .conftest import ROOT

OPTIONS = {"trim_blocks": True}


def _generate(out: Path, cache_dir: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "polysdk",
            "generate",
            str(ROOT / "spec" / "orchestrator.yaml"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "generators"), "POLYSDK_CACHE_DIR": cache_dir},
    )


def test_a_run_fills_the_cache_the_next_reuses_it_and_the_output_is_the_same(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold, warm, off = (
        _generate(tmp_path / name, value)
        for name, value in (("cold", str(cache)), ("warm", str(cache)), ("off", ""))
    )
    for result in (cold, warm, off):
        assert result.returncode == 0, result.stderr
    entries = sorted((cache / "templates").iterdir())
    assert len(entries) > 40, "every rendered template is kept"
    stamps = {entry: entry.stat().st_mtime_ns for entry in entries}
    assert _generate(tmp_path / "again", str(cache)).returncode == 0
    assert {entry: entry.stat().st_mtime_ns for entry in entries} == stamps, "a warm run rewrote the cache"
    assert sorted((cache / "templates").iterdir()) == entries
    assert (cache / "templates").stat().st_mode & 0o777 == 0o700
    assert tree_files(tmp_path / "cold") == tree_files(tmp_path / "warm") == tree_files(tmp_path / "off")


def test_damaged_entries_are_compiled_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _generate(tmp_path / "first", str(cache)).returncode == 0
    for number, entry in enumerate(sorted((cache / "templates").iterdir())):
        # Truncated, foreign and empty files: each is a miss, then rewritten.
        entry.write_bytes([b"", b"not a cache", entry.read_bytes()[:20]][number % 3])
    result = _generate(tmp_path / "second", str(cache))
    assert result.returncode == 0, result.stderr
    assert tree_files(tmp_path / "first") == tree_files(tmp_path / "second")


def test_an_unusable_folder_means_no_cache(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    assert template_cache(OPTIONS, a_file / "templates") is None, "cannot be created"
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    assert template_cache(OPTIONS, shared) is None, "others may write it: its files are loaded as code"
    result = _generate(tmp_path / "out", str(a_file))
    assert result.returncode == 0, result.stderr


def test_a_cache_that_cannot_be_written_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    cache = template_cache(OPTIONS, folder)
    assert isinstance(cache, TemplateCache)
    folder.rmdir()  # removed while a run renders: nothing can be written there
    env = jinja2.Environment(loader=jinja2.DictLoader({"t": "{{ 1 + 1 }}"}), bytecode_cache=cache)
    assert env.get_template("t").render() == "2"
    assert not folder.exists()


def test_options_jinja_and_python_versions_key_the_entries(tmp_path: Path) -> None:
    names = set()
    for trim in (True, False):
        cache = template_cache({"trim_blocks": trim}, tmp_path)
        assert cache is not None
        env = jinja2.Environment(
            loader=jinja2.DictLoader({"t": "{% if 1 %}\nx{% endif %}"}),
            bytecode_cache=cache,
            trim_blocks=trim,
        )
        names.add(env.get_template("t").render())
    assert names == {"x", "\nx"}, "a template compiled with other options is not reused"
    assert len(list(tmp_path.iterdir())) == 2


def test_where_the_cache_lives() -> None:
    assert cache_folder({"POLYSDK_CACHE_DIR": "/c"}) == Path("/c/templates")
    assert cache_folder({"POLYSDK_CACHE_DIR": ""}) is None
    assert cache_folder({"XDG_CACHE_HOME": "/x"}) == Path("/x/polysdk/templates")
    assert cache_folder({}) == Path.home() / ".cache" / "polysdk" / "templates"
