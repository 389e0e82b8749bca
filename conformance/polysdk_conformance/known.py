"""Known-failing lists: conformance/known_failing/<sdk>.txt, one glob and its reason per line.

    # comments and blank lines are ignored
    Retries/retry-after/http-date    # Retry-After as an HTTP date is not parsed yet

A listed case that fails is "known"; a listed case that passes fails the run (the list is stale:
remove the line); a pattern that matches no case fails the run; a pattern broader than one axis
(`*`, `Suite/*`) is refused — each entry is one defect to fix, not a place to park a suite.
`write_list` rewrites a list from a run's failures, keeping the reasons of entries that remain.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from polysdk_conformance.cases import CaseError

HEADER = (
    "# Cases this SDK is known to fail: a glob over case names, then '#' and the reason.\n"
    "# A listed case that passes fails the run. Rewrite with `polysdk conformance --update-known-failing`.\n"
)


@dataclass(frozen=True)
class Entry:
    pattern: str
    reason: str
    line: int


def _too_broad(pattern: str) -> bool:
    """Patterns must pin the suite and the axis literally: `Suite/axis/...`."""
    segments = pattern.split("/")
    return len(segments) < 3 or any(ch in segment for segment in segments[:2] for ch in "*?[")


def read_list(path: Path, case_ids: list[str]) -> list[Entry]:
    """The entries of one list; CaseError (exit code 2) for a malformed, broad or stale entry."""
    if not path.exists():
        return []
    entries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        pattern, _, reason = text.partition("#")
        pattern, reason = pattern.strip(), reason.strip()
        where = f"{path}:{number}"
        if not reason:
            raise CaseError(where, "", f"{pattern!r} has no reason", "add '# why it fails' after the pattern")
        if _too_broad(pattern):
            raise CaseError(
                where,
                "",
                f"{pattern!r} is too broad: a pattern names its suite and axis literally",
                "list the failing cases (or one axis, Suite/axis/*) instead",
            )
        if not any(fnmatchcase(case_id, pattern) for case_id in case_ids):
            raise CaseError(
                where, "", f"{pattern!r} matches no case", "remove the line (or fix the case name)"
            )
        entries.append(Entry(pattern, reason, number))
    return entries


def match(entries: list[Entry], case_id: str) -> Entry | None:
    return next((entry for entry in entries if fnmatchcase(case_id, entry.pattern)), None)


def write_list(path: Path, failing: dict[str, str], previous: list[Entry]) -> None:
    """Rewrites a list with exactly the failing cases; earlier reasons are kept where they apply."""
    lines = []
    for case_id in sorted(failing):
        entry = match(previous, case_id)
        reason = entry.reason if entry else failing[case_id]
        lines.append(f"{case_id}  # {' '.join(reason.split())[:200]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
