"""The visible corpus: every real public contract in tests/fixtures/real/ (see its SOURCES.md)
generates without error and compiles in Go, Rust and TypeScript. There is no allowed-failure list.

Each language checks the whole corpus in one batch, because per-contract runs repeat the same
start-up and dependency work about fifty times: one Go workspace and one `go vet` over every
module, one Cargo workspace and one `cargo clippy -D warnings` (dependencies build once, crates
in parallel, in the target folder the rest of the compile tier shares), one strict `tsc` program
over every SDK's sources and README examples. A failure names the contracts whose code the first
compiler errors point at. Skips locally when a toolchain is missing; fails in CI."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import CORPUS_SPECS, Generated, require_tool
from .test_compile import CARGO_TARGET

pytestmark = pytest.mark.toolchain

# Output lines shown when a batch fails: enough for the first errors of several contracts.
SHOWN_LINES = 80


def test_the_corpus_is_large_enough() -> None:
    # Issue 14: at least 40 real public contracts, each with its source and licence recorded.
    assert len(CORPUS_SPECS) >= 40
    sources = (next(iter(CORPUS_SPECS.values())).parent / "SOURCES.md").read_text(encoding="utf-8")
    unrecorded = [spec.name for spec in CORPUS_SPECS.values() if f"| `{spec.name}` |" not in sources]
    assert unrecorded == [], "add a SOURCES.md line (source, commit, licence) for each of these"


def test_every_contract_generates(generation: Generated) -> None:
    failures = {name: error for name, error in generation.failures.items() if name in CORPUS_SPECS}
    assert failures == {}, "\n".join(f"{name}: {error[:500]}" for name, error in failures.items())


@pytest.fixture(scope="module")
def corpus(generation: Generated) -> dict[str, Path]:
    """The corpus SDKs that generated (test_every_contract_generates reports the others)."""
    return {name: sdk for name, sdk in generation.sdks.items() if name in CORPUS_SPECS}


def _check(argv: list[str], cwd: Path, corpus: dict[str, Path], env: dict[str, str] | None = None) -> None:
    """Runs one batch over the corpus; on failure, names the contracts the errors point at."""
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    if result.returncode == 0:
        return
    output = (result.stdout + "\n" + result.stderr).strip()
    mentioned = (re.search(rf"(^|[/\s]){re.escape(name)}/", output, re.MULTILINE) for name in corpus)
    failing = sorted(name for name, found in zip(corpus, mentioned, strict=True) if found)
    shown = "\n".join(output.splitlines()[:SHOWN_LINES])
    pytest.fail(f"{' '.join(argv[:3])} failed for {', '.join(failing) or 'the corpus'}:\n{shown}")


def _root(corpus: dict[str, Path]) -> Path:
    # Every SDK sits in the same session folder: the batch files go next to them.
    return next(iter(corpus.values())).parent


def test_go_vets_clean(corpus: dict[str, Path]) -> None:
    go = require_tool("go")
    gofmt = require_tool("gofmt")
    root = _root(corpus)
    folders = [f"{name}/go" for name in corpus]
    unformatted = subprocess.run(
        [gofmt, "-l", *folders], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert unformatted == "", f"gofmt would change:\n{unformatted}"
    # One workspace of every module, so one `go vet` type-checks them all (tests included).
    (root / "go.work").unlink(missing_ok=True)
    _check([go, "work", "init", *(f"./{name}/go" for name in corpus)], root, corpus)
    modules = [
        (sdk / "go" / "go.mod").read_text(encoding="utf-8").splitlines()[0].removeprefix("module ")
        for sdk in corpus.values()
    ]
    patterns = [f"{module}/..." for module in modules]
    _check([go, "vet", *patterns], root, corpus, env={"GOWORK": str(root / "go.work")})


def test_rust_checks_and_lints_clean(corpus: dict[str, Path]) -> None:
    cargo = require_tool("cargo")
    root = _root(corpus)
    members = "".join(f'  "{name}/rust",\n' for name in corpus)
    workspace = f'[workspace]\nresolver = "2"\nmembers = [\n{members}]\n'
    (root / "Cargo.toml").write_text(workspace, encoding="utf-8")
    _check(
        # clippy is cargo check plus the lints: -D warnings costs next to nothing over check.
        [cargo, "clippy", "--workspace", "--quiet", "--message-format", "short", "--", "-D", "warnings"],
        root,
        corpus,
        env={"CARGO_TARGET_DIR": str(CARGO_TARGET)},
    )


def test_typescript_type_checks(corpus: dict[str, Path]) -> None:
    tsc = require_tool("tsc", env_var="POLYSDK_TSC")
    root = _root(corpus)
    # The SDKs' own strict flags (read from one of them, so this cannot drift from the template),
    # over every SDK's sources as one program: the standard library is checked once.
    first = next(iter(corpus.values()))
    own = json.loads((first / "typescript" / "tsconfig.json").read_text(encoding="utf-8"))
    options = own["compilerOptions"]
    for emitted in ("rootDir", "outDir", "declaration", "declarationMap", "sourceMap"):
        options.pop(emitted, None)
    # The README examples too (each SDK's tsconfig.examples.json): they are what users copy.
    sources = [f"{name}/typescript/{folder}" for name in corpus for folder in ("src", "examples")]
    config = {"compilerOptions": {**options, "noEmit": True}, "include": sources}
    (root / "tsconfig.corpus.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    _check([tsc, "-p", "tsconfig.corpus.json"], root, corpus)
