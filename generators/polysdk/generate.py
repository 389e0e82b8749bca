"""The generate pipeline: contract → IR → per-language plans → staged files → atomic swap."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from polysdk import ir
from polysdk.decisions import Decisions, build_decisions
from polysdk.decisions.package import Package, package
from polysdk.errors import StrictWarningsError, UsageError
from polysdk.frontends import ContractReading, ReadOptions, open_contract
from polysdk.plan import LanguagePlan, Options, TemplateFile
from polysdk.render import check_replaceable, diff_trees, prepare_out_dir, remove_stale, stage, swap_into
from polysdk.targets import TARGETS, LanguageTarget


@dataclass(frozen=True)
class Request:
    spec: Path
    out_dir: Path
    languages: tuple[str, ...]
    options: Options = field(default_factory=Options)
    strict: bool = False  # any warning is an error (StrictWarningsError), and nothing is written
    allow_remote_refs: bool = False
    allowed_ref_dirs: tuple[Path, ...] = ()  # folders outside the contract's that $refs may read
    import_paths: tuple[Path, ...] = ()  # a .proto contract's -I folders
    force: bool = False  # replace out_dir/<lang> even when it holds files polysdk did not write

    @property
    def read_options(self) -> ReadOptions:
        return ReadOptions(
            allow_remote_refs=self.allow_remote_refs,
            import_paths=self.import_paths,
            allowed_ref_dirs=self.allowed_ref_dirs,
        )


def _plan_language(
    target: LanguageTarget, decisions: Decisions, options: Options, pkg: Package
) -> LanguagePlan:
    """A language's plan, with the package's LICENSE: the same file in every SDK, so it is added
    here rather than by each view."""
    plan = target.plan(decisions, options)
    if pkg.license_file is not None:
        plan.files.append(TemplateFile(pkg.license_file.template, "LICENSE", pkg.license_file.context))
    return plan


# From this size on, the languages are planned in forked children, one each: planning Stripe's
# contract (468 operations, 4,703 named types) takes about 1.7 s of CPU across the three languages, which
# threads would run one after another. Below it, the forks' own cost is not repaid.
PARALLEL_FROM_DEFINITIONS = 200


def _big(api: ir.Api) -> bool:
    return len(api.operations) + len(api.types) >= PARALLEL_FROM_DEFINITIONS


def _stage_all(request: Request, parent: Path, reading: ContractReading | None) -> tuple[Path, list[str]]:
    """Read, decide and render everything into a staging directory under `parent`, while the front
    end's own checks (OpenAPI validation) run alongside. Returns the staging path and warnings.

    The decisions are built once here and handed to every language. When the contract is
    invalid, the front end's located message wins over whatever a view or a template tripped on,
    because it says what is wrong with the contract."""
    reading = reading or open_contract(request.spec, request.read_options)
    try:
        api = reading.api()
        decisions = build_decisions(api, request.options.package_name)
        pkg = package(api, request.options)  # a bad --license or URL stops here, before rendering
        jobs = [
            (language, functools.partial(_plan_language, TARGETS[language], decisions, request.options, pkg))
            for language in request.languages
        ]
        staging, plan_warnings = stage(jobs, parent, parallel=_big(api))
    except Exception:
        error = reading.failure()
        if error is not None:
            raise error from None
        raise
    try:
        warnings = reading.finish()
        all_warnings = list(
            dict.fromkeys(
                [
                    *warnings,
                    *decisions.warnings,
                    *pkg.warnings,
                    *(w for found in plan_warnings for w in found),
                ]
            )
        )
        if request.strict and all_warnings:
            raise StrictWarningsError(all_warnings)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, all_warnings


def generate(request: Request, reading: ContractReading | None = None) -> list[str]:
    """Write the SDKs into request.out_dir/<language>; returns warnings. All or nothing: on any
    error the output directory is left exactly as it was. `reading` is the contract already opened
    with `open_contract` (the CLI opens it before its heavier imports, so validation starts early).

    A language folder is replaced only when its manifest shows polysdk wrote it (or `force`); the
    check runs before staging, so a refusal is quick, and again just before the swap, because a
    user may have added a file while the SDKs were rendered."""
    prepare_out_dir(request.out_dir)
    if request.out_dir.is_dir():
        remove_stale(request.out_dir)
        check_replaceable(request.out_dir, request.languages, request.force)
    created = not request.out_dir.exists()
    try:
        staging, warnings = _stage_all(request, request.out_dir, reading)
    except StrictWarningsError:
        if created and request.out_dir.is_dir() and not any(request.out_dir.iterdir()):
            request.out_dir.rmdir()  # --strict wrote nothing, so it leaves no empty folder either
        raise
    try:
        check_replaceable(request.out_dir, request.languages, request.force)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_into(staging, request.out_dir, request.languages)
    return warnings


def check(request: Request, reading: ContractReading | None = None) -> list[str]:
    """Differences between request.out_dir and a fresh generation (empty when up to date)."""
    if request.out_dir.exists() and not request.out_dir.is_dir():
        raise UsageError(f"{request.out_dir}: --out is a file, not a folder; pass the folder to check")
    parent = request.out_dir if request.out_dir.exists() else Path(tempfile.gettempdir())
    staging, _ = _stage_all(request, parent, reading)  # with --strict, warnings raise
    try:
        problems = []
        for language in request.languages:
            problems += [
                f"{language}/{problem}"
                for problem in diff_trees(staging / language, request.out_dir / language)
            ]
        return problems
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def languages_from(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [c for c in chosen if c not in TARGETS]
    if unknown or not chosen:
        raise UsageError(
            f"unknown language {', '.join(unknown) or '(none)'}; choose from {', '.join(TARGETS)}"
        )
    return chosen


__all__: Sequence[str] = ("Request", "check", "generate", "languages_from")
