"""Golden trees: the generated output for small contracts, compared byte for byte.

Runtime files copied verbatim from templates/<lang>/runtime/ are left out: they do not depend on
the contract, out/ carries them, and each SDK's gates test them.

Rewrite them after an intended change with `nox -s tests -- tests/test_golden.py --update-golden`
and review the diff like code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from polysdk.decisions import build_decisions
from polysdk.frontends import read_api
from polysdk.generate import Request, generate
from polysdk.plan import Options
from polysdk.render import diff_trees
from polysdk.targets import TARGETS

from .conftest import FIXTURES, REAL_SPECS_DIR, ROOT, SPEC, require_tool

GOLDEN = ROOT / "tests" / "golden"
CASES = {
    "hostile": FIXTURES / "hostile.yaml",
    "split-files": FIXTURES / "loader" / "base.yaml",
}
REAL_CASES = {"oneof-discriminator": REAL_SPECS_DIR / "oag-3_0__oneOfDiscriminator.yaml"}


@pytest.mark.parametrize("language", sorted(TARGETS))
@pytest.mark.parametrize("name", sorted({**CASES, **REAL_CASES}))
def test_golden_tree(name: str, language: str, tmp_path: Path, update_golden: bool) -> None:
    spec = {**CASES, **REAL_CASES}[name]
    if not spec.exists():
        pytest.skip(f"{spec} is not available")
    fresh = tmp_path / name / language
    generate(Request(spec=spec, out_dir=tmp_path / name, languages=(language,)))
    decisions = build_decisions(read_api(spec))
    for runtime in TARGETS[language].plan(decisions, Options()).runtime:
        (fresh / runtime.output).unlink()
    for directory in sorted(fresh.rglob("*"), reverse=True):  # deepest first
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    golden = GOLDEN / name / language
    if update_golden:
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(fresh, golden)
        return
    assert golden.is_dir(), f"no golden tree for {name}/{language}; run with --update-golden"
    problems = diff_trees(fresh, golden)
    assert not problems, f"{name}/{language} drifted from its golden tree (run with --update-golden):\n" + (
        "\n".join(problems)
    )


@pytest.mark.toolchain
@pytest.mark.parametrize("language", sorted(TARGETS))
def test_runtime_files_copied_as_written_are_formatted(language: str, tmp_path: Path) -> None:
    # The formatter is given only the rendered files and the runtime files a substitution
    # changed; this is why the others may be left out.
    for tool in TARGETS[language].format_tools:
        require_tool(tool)
    plan = TARGETS[language].plan(build_decisions(read_api(SPEC)), Options(drivers=True))
    if plan.formatter is None:
        return
    verbatim = [runtime for runtime in plan.runtime if not runtime.replace]
    written = {}
    for runtime in verbatim:
        source = (ROOT / "templates" / runtime.source).read_text(encoding="utf-8")
        (tmp_path / runtime.output).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / runtime.output).write_text(source, encoding="utf-8")
        written[runtime.output] = source
    plan.formatter(tmp_path, sorted(written))
    changed = [name for name, text in written.items() if (tmp_path / name).read_text("utf-8") != text]
    assert not changed, f"the formatter changes these {language} runtime files: format them in templates/"
