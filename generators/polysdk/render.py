"""Rendering plans to files: Jinja with StrictUndefined, formatters, and an atomic swap into the
output directory, so that an error never leaves `out/` half written.

Every generated language folder carries a manifest (MANIFEST: each file and its sha256). A folder
is replaced only when it still matches its manifest, so `--out` never deletes a user's files."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

import jinja2

from polysdk import forked
from polysdk.errors import ToolchainError, UsageError
from polysdk.plan import LanguagePlan
from polysdk.template_cache import template_cache

# Build products that live inside a generated SDK directory (at its top level). They are not
# generated, so they are carried over on regeneration (warm caches stay warm) and ignored by
# `polysdk check`.
BUILD_DIRS = frozenset({"target", "node_modules", "dist", ".build", ".driver-build"})
BUILD_FILES = frozenset({"Cargo.lock", "package-lock.json", "tsconfig.tsbuildinfo"})
MANIFEST = ".polysdk-manifest.json"
# Temporary folders inside the output directory; the pid lets a later run tell a killed run's
# leftovers (removed) from a running one's (kept).
STAGING_PREFIX = ".polysdk-staging-"
TRASH_PREFIX = ".polysdk-old-"


def templates_root() -> Path:
    """The templates directory: inside the installed package, or the checkout's `templates/`."""
    packaged = files("polysdk").joinpath("templates")
    if packaged.is_dir():
        with as_file(packaged) as path:
            return Path(path)
    return Path(__file__).resolve().parents[2] / "templates"


# The options that shape the compiled templates (so they are part of the template cache's key).
_SYNTAX_OPTIONS: dict[str, object] = {
    "undefined": jinja2.StrictUndefined,
    "autoescape": False,  # we emit source code, every value is pre-escaped by views
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(  # noqa: S701 - autoescape is off on purpose (_SYNTAX_OPTIONS)
        loader=jinja2.FileSystemLoader(str(templates_root())),
        # Templates do not change during a run: without this, every get_template (one per
        # rendered file, thousands on a big contract) stats the template's file again.
        auto_reload=False,
        # Compiled templates are kept between runs (template_cache.py says where and when).
        bytecode_cache=template_cache(_SYNTAX_OPTIONS),
        **_SYNTAX_OPTIONS,  # type: ignore[arg-type]
    )


def render_plan(plan: LanguagePlan, destination: Path) -> None:
    """Write every file of `plan` under `destination` and run the language's formatter."""
    write_plan(plan, destination)
    if plan.formatter is not None:
        plan.formatter(destination, plan.to_format())


def write_plan(plan: LanguagePlan, destination: Path) -> None:
    """Write every file of `plan` under `destination`: templates rendered, runtime files copied."""
    env = environment()
    root = templates_root()
    for item in plan.files:
        target = destination / item.output
        target.parent.mkdir(parents=True, exist_ok=True)
        text = env.get_template(item.template).render(**item.context)
        target.write_text(text, encoding="utf-8", newline="\n")
    for runtime in plan.runtime:
        target = destination / runtime.output
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (root / runtime.source).read_text(encoding="utf-8")
        for old, new in runtime.replace:
            if old not in text:
                raise ToolchainError(f"runtime file {runtime.source} no longer contains {old!r}")
            text = text.replace(old, new, 1)
        target.write_text(text, encoding="utf-8", newline="\n")


def run_tool(argv: Sequence[str], cwd: Path, what: str) -> str:
    """Run a toolchain command; a missing tool or a failure is a ToolchainError with its output."""
    if shutil.which(argv[0]) is None:
        raise ToolchainError(f"{argv[0]} is needed to {what} but is not on PATH")
    result = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise ToolchainError(f"{' '.join(argv[:2])} failed to {what}:\n{output[:4000]}")
    return result.stdout


def format_through(argv: Sequence[str], directory: Path, files: Sequence[str], what: str) -> None:
    """Format each file by piping it through `argv` (a formatter reading stdin, writing stdout),
    all at once, each in its own process: a formatter given a file path may also format files it
    refers to (rustfmt follows `mod` declarations), and one process per file uses every core."""
    if shutil.which(argv[0]) is None:
        raise ToolchainError(f"{argv[0]} is needed to {what} but is not on PATH")

    def run(name: str) -> str:
        path = directory / name
        # From the file's folder, so that the formatter finds the same configuration files as
        # when it is given the path.
        result = subprocess.run(
            list(argv),
            input=path.read_text(encoding="utf-8"),
            cwd=path.parent,
            capture_output=True,
            encoding="utf-8",  # whatever the locale: the file is UTF-8
            check=False,
        )
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip()
            raise ToolchainError(f"{' '.join(argv[:2])} failed to {what} ({name}):\n{output[:4000]}")
        return result.stdout

    with ThreadPoolExecutor(max_workers=max(1, min(len(files), os.cpu_count() or 1))) as pool:
        formatted = list(pool.map(run, files))
    for name, text in zip(files, formatted, strict=True):
        (directory / name).write_text(text, encoding="utf-8", newline="\n")


# Languages whose formatter is slowest go first, so it runs while the others are planned.
_FORMAT_FIRST = ("rust", "go")


def stage(
    jobs: Sequence[tuple[str, Callable[[], LanguagePlan]]], parent: Path, *, parallel: bool = False
) -> tuple[Path, list[list[str]]]:
    """Plan and render each language into a fresh staging directory next to the output directory.

    `jobs` pairs a language with the function that plans it. With `parallel` (a big contract, where
    it pays) and fork available, each language is planned, rendered and formatted in a forked child
    of its own, so the languages use every core. Otherwise planning and rendering run one language
    after another, each language's formatter (gofmt, rustfmt: a separate process) running in the
    background while the next language is planned. Returns the staging directory and each
    language's warnings, in the order of `jobs`. On any error the staging directory is removed.
    """
    make_out_dir(parent)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=parent))
    try:
        if parallel and len(jobs) > 1 and forked.available():
            calls = [functools.partial(_stage_language, staging, *job) for job in jobs]
            warnings = forked.run_forked(calls)
        else:
            warnings = _stage_in_turns(jobs, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, warnings


def _stage_language(staging: Path, language: str, make_plan: Callable[[], LanguagePlan]) -> list[str]:
    """One language planned, rendered, formatted and listed in its manifest; its warnings."""
    return _finish(_render(staging, language, make_plan), staging / language)


def _render(staging: Path, language: str, make_plan: Callable[[], LanguagePlan]) -> LanguagePlan:
    """A language planned and its files written (Python: the part threads cannot share)."""
    plan = make_plan()
    write_plan(plan, staging / language)
    return plan


def _finish(plan: LanguagePlan, root: Path) -> list[str]:
    """A rendered language formatted (a separate process) and listed in its manifest."""
    if plan.formatter is not None:
        plan.formatter(root, plan.to_format())
    write_manifest(root)
    return plan.warnings


def _stage_in_turns(jobs: Sequence[tuple[str, Callable[[], LanguagePlan]]], staging: Path) -> list[list[str]]:
    """The languages planned one after another in threads (the interpreter lock allows no more),
    the slowest formatters first, each formatter running while the next language is planned."""
    order = sorted(range(len(jobs)), key=lambda i: (_rank(jobs[i][0]), i))
    turns = [threading.Event() for _ in jobs]  # turns[k] is set when the k-th job may plan

    def run(position: int, language: str, make_plan: Callable[[], LanguagePlan]) -> list[str]:
        turns[position].wait()
        try:
            plan = _render(staging, language, make_plan)
        finally:
            if position + 1 < len(turns):
                turns[position + 1].set()
        return _finish(plan, staging / language)

    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        futures = {}
        for position, index in enumerate(order):
            futures[index] = pool.submit(run, position, *jobs[index])
        if turns:
            turns[0].set()
        return [futures[i].result() for i in range(len(jobs))]


def _rank(language: str) -> int:
    return _FORMAT_FIRST.index(language) if language in _FORMAT_FIRST else len(_FORMAT_FIRST)


def swap_into(staging: Path, out_dir: Path, languages: Sequence[str]) -> None:
    """Replace out_dir/<lang> with staging/<lang> for each language, keeping build directories.

    Every language is already staged, so only renames remain. They are journaled: when one fails,
    the ones done are undone in reverse order and out_dir is left as it was. The old trees are
    deleted only after every new tree is in place."""
    trash = Path(tempfile.mkdtemp(prefix=f"{TRASH_PREFIX}{os.getpid()}-", dir=out_dir))
    done: list[tuple[Path, Path]] = []

    def move(source: Path, target: Path) -> None:
        source.replace(target)
        done.append((source, target))

    try:
        for language in languages:
            new, current = staging / language, out_dir / language
            if current.exists():
                for name in sorted(BUILD_DIRS | BUILD_FILES):
                    if (current / name).exists() and not (new / name).exists():
                        move(current / name, new / name)
                move(current, trash / language)
            move(new, current)
    except BaseException:
        for source, target in reversed(done):
            target.replace(source)
        raise
    finally:
        shutil.rmtree(trash, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)


def write_manifest(root: Path) -> None:
    """Record every generated file under root with its sha256, sorted, so the manifest itself is
    deterministic and a later run can tell generated files from a user's."""
    hashes = {path: hashlib.sha256(data).hexdigest() for path, data in tree_files(root).items()}
    hashes.pop(MANIFEST, None)
    text = json.dumps({"generator": "polysdk", "files": hashes}, indent=1, sort_keys=True) + "\n"
    (root / MANIFEST).write_text(text, encoding="utf-8", newline="\n")


def prepare_out_dir(out_dir: Path) -> None:
    """Say why out_dir cannot be the output directory (exit 2, not an internal error), before any
    work. It is not created here: a bad contract must leave no folder behind."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(
            f"{out_dir}: --out is a file, not a folder; pass a folder (it is created if missing)"
        )
    existing = next(p for p in (out_dir.absolute(), *out_dir.absolute().parents) if p.exists())
    if not existing.is_dir():
        reason = f"{existing} is a file"
    elif not os.access(existing, os.W_OK | os.X_OK):
        reason = f"{existing} is not writable"
    else:
        return
    raise UsageError(
        f"{out_dir}: cannot create the output folder ({reason}); pass --out a folder you can write to"
    )


def make_out_dir(out_dir: Path) -> None:
    """Create out_dir; failing is a UsageError (exit 2) that names it."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{out_dir}: cannot create the output folder ({exc.strerror}); "
            "pass --out a folder you can write to"
        ) from None


def remove_stale(out_dir: Path) -> list[Path]:
    """Remove staging and old-tree folders left in out_dir by runs that were killed (their pid is
    gone); a running generation's folders are kept. A run killed part way through its swap has
    moved a language's old tree aside but not its new one in: that old tree is put back first, so
    no language folder goes missing. Returns what was removed."""
    removed = []
    for entry in sorted(out_dir.glob(".polysdk-*-*")):
        name = entry.name
        prefix = next((p for p in (STAGING_PREFIX, TRASH_PREFIX) if name.startswith(p)), None)
        if prefix is None or not entry.is_dir():
            continue
        pid = name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        if prefix == TRASH_PREFIX:
            for old in sorted(entry.iterdir()):
                if not (out_dir / old.name).exists():
                    old.replace(out_dir / old.name)
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def check_replaceable(out_dir: Path, languages: Sequence[str], force: bool) -> None:
    """Refuse (UsageError, exit 2) to replace out_dir/<lang> unless it is exactly what polysdk
    wrote there before, per its manifest; with `force` everything is replaced. The message names
    the folder, every file that would be lost, and the flag to pass."""
    if force:
        return
    for language in languages:
        current = out_dir / language
        if not current.exists() and not current.is_symlink():
            continue
        if current.is_symlink() or not current.is_dir():
            raise UsageError(
                f"{current}: is not a folder polysdk generated; move it away or pass --force to replace it"
            )
        manifest = _read_manifest(current)
        have = tree_files(current)
        have.pop(MANIFEST, None)
        if manifest is None:
            lost = sorted(have)
            why = f"has no {MANIFEST}, so polysdk did not generate it"
        else:
            lost = sorted(
                path for path, data in have.items() if manifest.get(path) != hashlib.sha256(data).hexdigest()
            )
            why = "holds files that polysdk did not write or that were edited since"
        if lost:
            shown = "\n".join(f"    {path}" for path in lost[:20])
            more = f"\n    ... and {len(lost) - 20} more" if len(lost) > 20 else ""
            raise UsageError(
                f"{current}: {why}; regenerating would remove:\n{shown}{more}\n"
                f"  move them out of {current}, choose another --out, or pass --force to replace the folder"
            )


def _read_manifest(root: Path) -> dict[str, str] | None:
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        return None
    return files


def tree_files(root: Path) -> dict[str, bytes]:
    """Every generated file under root (build directories skipped), by POSIX relative path."""
    found: dict[str, bytes] = {}
    if not root.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in BUILD_DIRS)
        for filename in sorted(filenames):
            if dirpath == str(root) and filename in BUILD_FILES:
                continue
            path = Path(dirpath) / filename
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def diff_trees(expected: Path, actual: Path) -> list[str]:
    """Paths that differ between two trees, as `path: missing|extra|changed`."""
    want, have = tree_files(expected), tree_files(actual)
    problems = [f"{p}: missing" for p in sorted(want.keys() - have.keys())]
    problems += [f"{p}: extra" for p in sorted(have.keys() - want.keys())]
    problems += [f"{p}: changed" for p in sorted(want.keys() & have.keys()) if want[p] != have[p]]
    return problems
