"""The compile tier: generated SDKs build and lint clean in all three languages.

The committed out/ (orchestrator contract) gets every gate: gofmt, go vet, go test; cargo fmt,
clippy -D warnings, cargo test; tsc --noEmit under the strictest flags. Every other contract
(hostile fixture, split files, all vendored real-world specs, Stripe included) must at least
compile: go vet, cargo check (clippy for the small ones), tsc. Skips locally when a toolchain is
missing; fails in CI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from polysdk.generate import Request, generate

from .conftest import FIXTURES, ROOT, real_specs, require_tool

pytestmark = pytest.mark.toolchain

CARGO_TARGET = Path(os.environ.get("POLYSDK_CARGO_TARGET", ROOT / ".cache" / "cargo-target"))
SMALL_SPECS = {"hostile": FIXTURES / "hostile.yaml", "split-files": FIXTURES / "loader" / "base.yaml"}


def _specs() -> dict[str, Path]:
    found = dict(SMALL_SPECS)
    for spec in real_specs():
        found[spec.stem.replace(".", "_")] = spec
    return found


SPECS = _specs()


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every non-default contract generated once per test session (lenient: some real-world
    specs break the OpenAPI schema in ways the generator tolerates)."""
    root = tmp_path_factory.mktemp("generated")
    out = {"orchestrator": ROOT / "out"}
    for name, spec in SPECS.items():
        generate(
            Request(spec=spec, out_dir=root / name, languages=("go", "rust", "typescript"), lenient=True)
        )
        out[name] = root / name
    return out


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, f"{' '.join(argv)} failed in {cwd}:\n{output[-6000:]}"
    return output


ALL = ["orchestrator", *SPECS]
FULL_GATES = ["orchestrator", *SMALL_SPECS]


@pytest.mark.parametrize("name", ALL)
def test_go_vets_clean(name: str, generated: dict[str, Path]) -> None:
    go = require_tool("go")
    gofmt = require_tool("gofmt")
    directory = generated[name] / "go"
    assert _run([gofmt, "-l", "."], directory) == "", "gofmt would change files"
    _run([go, "vet", "./..."], directory)


@pytest.mark.parametrize("name", FULL_GATES)
def test_go_tests_pass(name: str, generated: dict[str, Path]) -> None:
    _run([require_tool("go"), "test", "./..."], generated[name] / "go")


def _cargo(name: str, generated: dict[str, Path], *args: str) -> None:
    cargo = require_tool("cargo")
    _run([cargo, *args], generated[name] / "rust", env={"CARGO_TARGET_DIR": str(CARGO_TARGET)})


@pytest.mark.parametrize("name", FULL_GATES)
def test_rust_fmt_clippy_and_tests(name: str, generated: dict[str, Path]) -> None:
    _cargo(name, generated, "fmt", "--check")
    _cargo(name, generated, "clippy", "--all-targets", "--quiet", "--", "-D", "warnings")
    _cargo(name, generated, "test", "--quiet")


@pytest.mark.parametrize("name", [n for n in ALL if n not in FULL_GATES])
def test_rust_checks(name: str, generated: dict[str, Path]) -> None:
    _cargo(name, generated, "check", "--quiet")


@pytest.mark.parametrize("name", ALL)
def test_typescript_type_checks(name: str, generated: dict[str, Path]) -> None:
    tsc = require_tool("tsc", env_var="POLYSDK_TSC")
    _run([tsc, "-p", ".", "--noEmit"], generated[name] / "typescript")
