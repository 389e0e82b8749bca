"""The generate pipeline: contract → IR → per-language plans → staged files → atomic swap."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from polysdk import ir
from polysdk.frontends.openapi import build_api, load_contract
from polysdk.plan import LanguagePlan, Options
from polysdk.render import diff_trees, stage, swap_into
from polysdk.targets import TARGETS


@dataclass(frozen=True)
class Request:
    spec: Path
    out_dir: Path
    languages: tuple[str, ...]
    options: Options = Options()
    lenient: bool = False
    allow_remote_refs: bool = False


def load_api(request: Request) -> ir.Api:
    contract = load_contract(request.spec, allow_remote_refs=request.allow_remote_refs, lenient=request.lenient)
    return build_api(contract)


def plans_for(api: ir.Api, request: Request) -> list[LanguagePlan]:
    return [TARGETS[language](api, request.options) for language in request.languages]


def generate(request: Request) -> list[str]:
    """Write the SDKs into request.out_dir/<language>; returns warnings. All or nothing: on any
    error the output directory is left exactly as it was."""
    api = load_api(request)
    plans = plans_for(api, request)
    staging = stage(plans, request.out_dir)
    swap_into(staging, request.out_dir, request.languages)
    return [*api.warnings, *(w for plan in plans for w in plan.warnings)]


def check(request: Request) -> list[str]:
    """Differences between request.out_dir and a fresh generation (empty when up to date)."""
    api = load_api(request)
    staging = stage(plans_for(api, request), request.out_dir.parent if not request.out_dir.exists() else request.out_dir)
    try:
        problems = []
        for language in request.languages:
            for problem in diff_trees(staging / language, request.out_dir / language):
                problems.append(f"{language}/{problem.split(': ', 1)[1]}: {problem.split(':', 1)[0]}")
        return problems
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def languages_from(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [c for c in chosen if c not in TARGETS]
    if unknown or not chosen:
        raise ValueError(f"unknown language {', '.join(unknown) or '(none)'}; choose from {', '.join(TARGETS)}")
    return chosen


def default_spec() -> Path:
    """The embedded orchestrator contract: in the installed package, or the checkout's spec/."""
    packaged = Path(__file__).resolve().parent / "spec" / "orchestrator.yaml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "spec" / "orchestrator.yaml"


__all__: Sequence[str] = ("Request", "check", "default_spec", "generate", "languages_from")
