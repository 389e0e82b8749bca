"""The generate pipeline: contract → IR → per-language plans → staged files → atomic swap."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from polysdk.errors import ContractError, UsageError
from polysdk.frontends.openapi import build_api, load_contract
from polysdk.frontends.openapi.document import apply_verdict, start_validation
from polysdk.plan import Options
from polysdk.render import diff_trees, stage, swap_into
from polysdk.targets import TARGETS


@dataclass(frozen=True)
class Request:
    spec: Path
    out_dir: Path
    languages: tuple[str, ...]
    options: Options = field(default_factory=Options)
    lenient: bool = False
    allow_remote_refs: bool = False


Validation = Callable[[], ContractError | None]


def _stage_all(request: Request, parent: Path, validation: Validation | None) -> tuple[Path, list[str]]:
    """Load, build and render everything into a staging directory under `parent`, with OpenAPI
    validation running alongside in another process. Returns the staging path and warnings.

    When the contract is invalid, the validator's located message wins over whatever the builder
    or a template tripped on, because it says what is wrong with the contract."""
    wait_for_validation = validation or start_validation(
        request.spec, allow_remote_refs=request.allow_remote_refs
    )
    try:
        contract = load_contract(
            request.spec, allow_remote_refs=request.allow_remote_refs, lenient=request.lenient, validate=False
        )
        api = build_api(contract)
        jobs = [
            (language, functools.partial(TARGETS[language], api, request.options))
            for language in request.languages
        ]
        staging, plans = stage(jobs, parent)
    except Exception:
        error = wait_for_validation()
        if error is not None and not request.lenient:
            raise error from None
        raise
    try:
        apply_verdict(contract, wait_for_validation())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, [*contract.warnings, *api.warnings, *(w for plan in plans for w in plan.warnings)]


def generate(request: Request, validation: Validation | None = None) -> list[str]:
    """Write the SDKs into request.out_dir/<language>; returns warnings. All or nothing: on any
    error the output directory is left exactly as it was. `validation` is a validation already
    started with `start_validation` (the CLI starts it before its heavier imports)."""
    staging, warnings = _stage_all(request, request.out_dir, validation)
    swap_into(staging, request.out_dir, request.languages)
    return list(dict.fromkeys(warnings))


def check(request: Request, validation: Validation | None = None) -> list[str]:
    """Differences between request.out_dir and a fresh generation (empty when up to date)."""
    parent = request.out_dir if request.out_dir.exists() else Path(tempfile.gettempdir())
    staging, _ = _stage_all(request, parent, validation)
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
