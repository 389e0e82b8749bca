"""Rendering plans to files: Jinja with StrictUndefined, formatters, and an atomic swap into the
output directory, so that an error never leaves `out/` half written."""

from __future__ import annotations

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

from polysdk.errors import ToolchainError
from polysdk.plan import LanguagePlan

# Build products that live inside a generated SDK directory (at its top level). They are not
# generated, so they are carried over on regeneration (warm caches stay warm) and ignored by
# `polysdk check`.
BUILD_DIRS = frozenset({"target", "node_modules", "dist", ".build", ".driver-build"})
BUILD_FILES = frozenset({"Cargo.lock", "package-lock.json", "tsconfig.tsbuildinfo"})


def templates_root() -> Path:
    """The templates directory: inside the installed package, or the checkout's `templates/`."""
    packaged = files("polysdk").joinpath("templates")
    if packaged.is_dir():
        with as_file(packaged) as path:
            return Path(path)
    return Path(__file__).resolve().parents[2] / "templates"


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_root())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - we emit source code, every value is pre-escaped by views
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_plan(plan: LanguagePlan, destination: Path) -> None:
    """Write every file of `plan` under `destination` and run the language's formatter."""
    write_plan(plan, destination)
    if plan.formatter is not None:
        plan.formatter(destination)


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


# Languages whose formatter is slowest go first, so it runs while the others are planned.
_FORMAT_FIRST = ("rust", "go")


def stage(
    jobs: Sequence[tuple[str, Callable[[], LanguagePlan]]], parent: Path
) -> tuple[Path, list[LanguagePlan]]:
    """Plan and render each language into a fresh staging directory next to the output directory.

    `jobs` pairs a language with the function that plans it. Planning and rendering are Python
    and run one language after another; each language's formatter (gofmt, rustfmt: a separate
    process) then runs in the background while the next language is planned. Returns the staging
    directory and the plans in the order of `jobs`. On any error the staging directory is removed.
    """
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".polysdk-staging-", dir=parent))
    order = sorted(range(len(jobs)), key=lambda i: (_rank(jobs[i][0]), i))
    turns = [threading.Event() for _ in jobs]  # turns[k] is set when the k-th job may plan

    def run(position: int, language: str, make_plan: Callable[[], LanguagePlan]) -> LanguagePlan:
        turns[position].wait()
        try:
            plan = make_plan()
            write_plan(plan, staging / language)
        finally:
            if position + 1 < len(turns):
                turns[position + 1].set()
        if plan.formatter is not None:
            plan.formatter(staging / language)
        return plan

    try:
        with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
            futures = {}
            for position, index in enumerate(order):
                futures[index] = pool.submit(run, position, *jobs[index])
            if turns:
                turns[0].set()
            plans = [futures[i].result() for i in range(len(jobs))]
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, plans


def _rank(language: str) -> int:
    return _FORMAT_FIRST.index(language) if language in _FORMAT_FIRST else len(_FORMAT_FIRST)


def swap_into(staging: Path, out_dir: Path, languages: Sequence[str]) -> None:
    """Replace out_dir/<lang> with staging/<lang> for each language, keeping build directories.

    Each language directory is replaced with two renames; the old tree is deleted only after
    every new tree is in place."""
    trash = Path(tempfile.mkdtemp(prefix=".polysdk-old-", dir=out_dir))
    try:
        for language in languages:
            new, current = staging / language, out_dir / language
            if current.exists():
                for name in sorted(BUILD_DIRS | BUILD_FILES):
                    if (current / name).exists() and not (new / name).exists():
                        (current / name).replace(new / name)
                current.replace(trash / language)
            new.replace(current)
    finally:
        shutil.rmtree(trash, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)


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
