"""Derived conformance: the three SDKs of any contract, checked with cases derived from it.

`polysdk conformance --spec FILE --derived` generates the SDKs and their drivers for FILE into
the cache (`<cache-dir>/derived/<name>/sdk`), writes the derived cases as an ordinary case file
(`<cache-dir>/derived/<name>/cases/derived.yaml`, see cases.py) and hands both to the runner,
which builds the drivers, runs the cases against the mock (validating every request against
FILE) and compares the SDKs as it does for the orchestrator's hand-written suites.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from polysdk.decisions import Decisions
from polysdk_conformance.derive.cases import SUITE, Derivation, derive

__all__ = ["SUITE", "Derivation", "Prepared", "derive", "prepare"]


@dataclass(frozen=True)
class Prepared:
    sdk_root: Path  # <lang>/ of each generated SDK
    cases_file: Path
    derivation: Derivation
    warnings: list[str]
    decisions: Decisions  # the contract's, for the runner's case checks (read once)


def _slug(spec: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", spec.stem).strip("-") or "contract"


def prepare(spec: Path, cache_dir: Path, languages: tuple[str, ...]) -> Prepared:
    """Generates the SDKs (with drivers) and the derived case file for `spec`. Raises
    ContractError for a contract that cannot be read, as `polysdk generate` does."""
    from polysdk.decisions import build_decisions
    from polysdk.errors import ContractError, Location
    from polysdk.frontends import open_contract
    from polysdk.frontends.openapi import OpenApiReading
    from polysdk.generate import Request, generate
    from polysdk.plan import Options

    # Read once: the generation below, the IR and the cases all use this reading (validation runs
    # in the background, as for `polysdk generate`).
    reading = open_contract(spec)
    if not isinstance(reading, OpenApiReading):
        raise ContractError(
            Location(str(spec)),
            "derived cases are built from an OpenAPI contract",
            "run --derived on the OpenAPI contract (a .proto contract's cases are hand-written)",
        )
    folder = cache_dir / "derived" / _slug(spec)
    sdk_root = folder / "sdk"
    # The cache is ours: force replaces what an earlier run generated there.
    warnings = generate(Request(spec, sdk_root, languages, Options(drivers=True), force=True), reading)
    decisions = build_decisions(reading.api())
    derivation = derive(reading.contract, decisions)
    cases_file = folder / "cases" / "derived.yaml"
    cases_file.parent.mkdir(parents=True, exist_ok=True)
    cases_file.write_text(derivation.file_text(decisions.api.title), encoding="utf-8")
    return Prepared(sdk_root, cases_file, derivation, warnings, decisions)
