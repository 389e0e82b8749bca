"""What generation keeps between runs (user_cache.py): compiled templates (template_cache.py) and
formatted files (format_cache.py). Reused across runs, never a reason to fail, never a change in
the output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from polysdk import format_cache
from polysdk.format_cache import format_with_cache
from polysdk.render import tree_files
from polysdk.template_cache import TemplateCache, template_cache
from polysdk.user_cache import cache_folder

from .conftest import ROOT, polysdk_cli

OPTIONS = {"trim_blocks": True}


def _generate(out: Path, cache_dir: str) -> subprocess.CompletedProcess[str]:
    spec = str(ROOT / "spec" / "orchestrator.yaml")
    return polysdk_cli("generate", spec, "--out", str(out), env={"POLYSDK_CACHE_DIR": cache_dir})


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
    formatted = sorted((cache / "formatted").iterdir())
    assert len(formatted) > 10, "every formatted Go and Rust file is kept"
    entries = sorted([*entries, *formatted])
    stamps = {entry: entry.stat().st_ino for entry in entries}  # a rewrite is a new file (renamed over)
    assert _generate(tmp_path / "again", str(cache)).returncode == 0
    assert {entry: entry.stat().st_ino for entry in entries} == stamps, "a warm run rewrote the cache"
    assert sorted([*(cache / "templates").iterdir(), *(cache / "formatted").iterdir()]) == entries
    assert (cache / "templates").stat().st_mode & 0o777 == 0o700
    assert tree_files(tmp_path / "cold") == tree_files(tmp_path / "warm") == tree_files(tmp_path / "off")


def test_damaged_entries_are_compiled_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _generate(tmp_path / "first", str(cache)).returncode == 0
    entries = [*(cache / "templates").iterdir(), *(cache / "formatted").iterdir()]
    for number, entry in enumerate(sorted(entries)):
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


def test_environment_options_key_the_entries(tmp_path: Path) -> None:
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
    assert cache_folder("templates", {"POLYSDK_CACHE_DIR": "/c"}) == Path("/c/templates")
    assert cache_folder("templates", {"POLYSDK_CACHE_DIR": ""}) is None
    assert cache_folder("formatted", {"XDG_CACHE_HOME": "/x"}) == Path("/x/polysdk/formatted")
    assert cache_folder("templates", {}) == Path.home() / ".cache" / "polysdk" / "templates"


class _Formatter:
    """A formatter that upper-cases the files it is given, counting them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.seen: list[list[str]] = []

    def __call__(self, names: list[str]) -> None:
        self.seen.append(sorted(names))
        for name in names:
            path = self.directory / name
            path.write_text(path.read_text(encoding="utf-8").upper(), encoding="utf-8")


def _format(
    directory: Path, cache: Path, texts: dict[str, str], config_names: tuple[str, ...] = ()
) -> list[list[str]]:
    for name, text in texts.items():
        (directory / name).write_text(text, encoding="utf-8")
    formatter = _Formatter(directory)
    format_with_cache(
        directory,
        sorted(texts),
        [sys.executable, "--fmt"],
        formatter,
        folder=cache,
        config_names=config_names,
    )
    assert {name: (directory / name).read_text(encoding="utf-8") for name in texts} == {
        name: text.upper() for name, text in texts.items()
    }
    return formatter.seen


def test_a_formatter_sees_only_the_files_it_has_not_formatted_before(tmp_path: Path) -> None:
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    texts = {"a.rs": "fn a() {}", "b.rs": "fn b() {}"}
    assert _format(work, cache, texts) == [["a.rs", "b.rs"]]
    assert _format(work, cache, texts) == [], "everything kept"
    assert _format(work, cache, {**texts, "b.rs": "fn b2() {}"}) == [["b.rs"]], "only the changed file"
    # Another configuration file in the folder or above it is another formatting.
    (work / "rustfmt.toml").write_text("max_width = 80", encoding="utf-8")
    assert _format(work, cache, texts, config_names=("rustfmt.toml",)) == [["a.rs", "b.rs"]]
    assert _format(work, cache, texts, config_names=("rustfmt.toml",)) == []
    (work / "rustfmt.toml").write_text("max_width = 90", encoding="utf-8")
    assert _format(work, cache, texts, config_names=("rustfmt.toml",)) == [["a.rs", "b.rs"]]


def test_a_damaged_entry_is_formatted_again_and_a_full_cache_drops_the_oldest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    texts = {"a.go": "package a", "b.go": "package b"}
    _format(work, cache, texts)
    entries = sorted(cache.iterdir())
    entries[0].write_bytes(entries[0].read_bytes()[:-1] + b"!")  # one byte changed on disk
    assert len(_format(work, cache, texts)) == 1, "the damaged entry is a miss"
    assert _format(work, cache, texts) == []
    monkeypatch.setattr(format_cache, "MAX_BYTES", 1)
    _format(work, cache, {"c.go": "package c"})
    assert len(list(cache.iterdir())) <= 1, "trimmed to the bound"


def test_without_a_usable_cache_folder_every_file_is_formatted(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    blocked = tmp_path / "file"
    blocked.write_text("x", encoding="utf-8")
    texts = {"a.rs": "fn a() {}"}
    assert _format(work, blocked / "formatted", texts) == [["a.rs"]]
    assert _format(work, blocked / "formatted", texts) == [["a.rs"]]
