"""Golden trees: the full generated output for small contracts, compared byte for byte.

Rewrite them after an intended change with `nox -s tests -- tests/test_golden.py --update-golden`
and review the diff like code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from polysdk.generate import Request, generate
from polysdk.render import diff_trees

from .conftest import FIXTURES, REAL_SPECS_DIR, ROOT

GOLDEN = ROOT / "tests" / "golden"
CASES = {
    "hostile": FIXTURES / "hostile.yaml",
    "split-files": FIXTURES / "loader" / "base.yaml",
}
REAL_CASES = {"oneof-discriminator": REAL_SPECS_DIR / "oag-3_0__oneOfDiscriminator.yaml"}


@pytest.mark.parametrize("name", sorted({**CASES, **REAL_CASES}))
def test_golden_tree(name: str, tmp_path: Path, update_golden: bool) -> None:
    spec = {**CASES, **REAL_CASES}[name]
    if not spec.exists():
        pytest.skip(f"{spec} is not available")
    fresh = tmp_path / name
    generate(Request(spec=spec, out_dir=fresh, languages=("go", "rust", "typescript")))
    golden = GOLDEN / name
    if update_golden:
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(fresh, golden)
        return
    assert golden.is_dir(), f"no golden tree for {name}; run with --update-golden"
    problems = diff_trees(fresh, golden)
    assert not problems, f"{name} drifted from its golden tree (run with --update-golden):\n" + "\n".join(
        problems
    )
