"""One table over several derived runs (one report folder per contract, as `nox -s derived`
writes them): per contract, the derived cases, pass counts per SDK, divergences and wall time.

    python -m polysdk_conformance.derive.summary build/derived

Exit 1 when any contract has a failing case, a divergence or no results (a run that did not
finish), 0 when every one passed; the table is printed and written to <folder>/summary.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

LANGUAGES = ("go", "rust", "typescript")


def _row(name: str, results: dict[str, Any] | None) -> tuple[str, bool]:
    if results is None:
        return f"| {name} | no results (the run did not finish; see its log) | | | | | |", False
    summary = results["summary"]
    counts = []
    clean = summary.get("parity_divergences", 0) == 0
    for language in LANGUAGES:
        own = summary.get(language)
        if own is None:
            counts.append("not run")
            clean = False
            continue
        # As the runner judges a run: known-failing and unsupported cases (a platform limit the
        # driver declares, e.g. a GET body on TypeScript) keep it green, and are shown.
        unsupported, known = own.get("unsupported", 0), own.get("known", 0)
        notes = [f"{n} {what}" for n, what in ((unsupported, "unsupported"), (known, "known")) if n]
        counts.append(f"{own['pass']}/{summary['cases']}" + (f" ({', '.join(notes)})" if notes else ""))
        clean = clean and own["pass"] + unsupported + known == summary["cases"]
    wall = results.get("timings_s", {}).get("total_s", 0.0)
    cells = [name, str(summary["cases"]), *counts, str(summary.get("parity_divergences", 0)), f"{wall:.0f} s"]
    return "| " + " | ".join(cells) + " |", clean


def table(folder: Path) -> tuple[str, bool]:
    """The Markdown table of every contract's run under `folder`, and whether all passed."""
    lines = [
        "| contract | derived cases | go | rust | typescript | divergences | wall time |",
        "|---|---|---|---|---|---|---|",
    ]
    clean = True
    runs = sorted(path for path in folder.iterdir() if path.is_dir())
    for run in runs:
        file = run / "results.json"
        results = json.loads(file.read_text(encoding="utf-8")) if file.is_file() else None
        line, ok = _row(run.name, results)
        lines.append(line)
        clean = clean and ok
    return "\n".join(lines) + "\n", clean and bool(runs)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m polysdk_conformance.derive.summary REPORTS_FOLDER", file=sys.stderr)
        return 2
    folder = Path(args[0])
    text, clean = table(folder)
    (folder / "summary.md").write_text(text, encoding="utf-8")
    print(text, end="")
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
