"""The compile tier: generated SDKs build and lint clean in all three languages.

The committed out/ and out/proto/ (the orchestrator contract as OpenAPI and as protobuf) get every
gate: gofmt, go vet, go test; cargo fmt,
clippy -D warnings, cargo test; tsc --noEmit under the strictest flags. The other small
contracts (hostile fixture, split files, tests/fixtures/compile/) must at least compile: go vet,
cargo check (clippy for the small ones), tsc. The real-world corpus (tests/fixtures/real/, Stripe
included) compiles in batches in test_corpus.py. Skips locally when a toolchain is missing; fails
in CI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import COMPILE_SPECS, ROOT, SMALL_SPECS, require_tool

pytestmark = pytest.mark.toolchain

CARGO_TARGET = Path(os.environ.get("POLYSDK_CARGO_TARGET", ROOT / ".cache" / "cargo-target"))


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, f"{' '.join(argv)} failed in {cwd}:\n{output[-6000:]}"
    return output


COMMITTED = ["orchestrator", "orchestrator-proto"]  # out/ and out/proto/
ALL = [*COMMITTED, *SMALL_SPECS, *COMPILE_SPECS]
FULL_GATES = [*COMMITTED, *SMALL_SPECS]
# out/ runs its tests in the test_sdk_* behaviour tests; out/proto/ here with the small contracts.
TESTED_HERE = ["orchestrator-proto", *sorted(SMALL_SPECS)]


@pytest.mark.parametrize("name", ALL)
def test_go_vets_clean(name: str, generated: dict[str, Path]) -> None:
    go = require_tool("go")
    gofmt = require_tool("gofmt")
    directory = generated[name] / "go"
    assert _run([gofmt, "-l", "."], directory) == "", "gofmt would change files"
    _run([go, "vet", "./..."], directory)


# out/go's tests run with -race and the behaviour tests in test_sdk_go.py.
@pytest.mark.parametrize("name", TESTED_HERE)
def test_go_tests_pass(name: str, generated: dict[str, Path]) -> None:
    _run([require_tool("go"), "test", "./..."], generated[name] / "go")


def _cargo(name: str, generated: dict[str, Path], *args: str) -> None:
    cargo = require_tool("cargo")
    _run([cargo, *args], generated[name] / "rust", env={"CARGO_TARGET_DIR": str(CARGO_TARGET)})


@pytest.mark.parametrize("name", FULL_GATES)
def test_rust_fmt_and_clippy(name: str, generated: dict[str, Path]) -> None:
    _cargo(name, generated, "fmt", "--check")
    _cargo(name, generated, "clippy", "--all-targets", "--quiet", "--", "-D", "warnings")


# out/rust's tests and doctests run in test_sdk_rust.py, which also counts them.
@pytest.mark.parametrize("name", TESTED_HERE)
def test_rust_tests_pass(name: str, generated: dict[str, Path]) -> None:
    _cargo(name, generated, "test", "--quiet")


@pytest.mark.parametrize("name", [n for n in ALL if n not in FULL_GATES])
def test_rust_checks(name: str, generated: dict[str, Path]) -> None:
    _cargo(name, generated, "check", "--quiet")


@pytest.mark.parametrize("name", ALL)
def test_typescript_type_checks(name: str, generated: dict[str, Path]) -> None:
    tsc = require_tool("tsc", env_var="POLYSDK_TSC")
    _run([tsc, "-p", ".", "--noEmit"], generated[name] / "typescript")
