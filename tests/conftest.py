"""Shared fixtures: specs, the orchestrator IR, and toolchain gating for the compile tier.

Toolchain tests skip locally when a tool is missing and fail when CI=true: in CI a missing
toolchain is a broken pipeline, not a reason to pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from polysdk import ir
from polysdk.frontends.openapi import build_api, load_contract

from . import module_progress

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "orchestrator.yaml"
PROTO_SPEC = ROOT / "spec" / "orchestrator.proto"  # the same API as a protobuf contract
FIXTURES = ROOT / "tests" / "fixtures"
# Vendored copies of ../shared/specs/real (see its SOURCES.md), so a fresh clone is self-contained.
REAL_SPECS_DIR = Path(os.environ.get("POLYSDK_REAL_SPECS", ROOT / "tests" / "fixtures" / "real"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def polysdk_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m polysdk ARGS` in a child process, from this checkout, with `env` added."""
    return subprocess.run(
        [sys.executable, "-m", "polysdk", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "generators"), **(env or {})},
    )


def real_specs() -> list[Path]:
    specs = sorted(REAL_SPECS_DIR.glob("*.yaml")) + sorted(REAL_SPECS_DIR.glob("*.json"))
    if not specs and IN_CI:
        raise RuntimeError(f"no real-world specs found in {REAL_SPECS_DIR}; set POLYSDK_REAL_SPECS")
    return specs


def require_tool(name: str, env_var: str | None = None) -> str:
    """The path of a toolchain command; skips locally when missing, fails in CI."""
    candidate = os.environ.get(env_var, "") if env_var else ""
    path = candidate if candidate and Path(candidate).exists() else shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if IN_CI:
            pytest.fail(f"{message}, and CI=true forbids skipping the toolchain tier")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def orchestrator_api() -> ir.Api:
    return build_api(load_contract(SPEC))


@pytest.fixture(scope="session")
def hostile_api() -> ir.Api:
    return build_api(load_contract(FIXTURES / "hostile.yaml"))


# Contracts the compile tier and the SDK gates generate once per session (besides out/).
SMALL_SPECS = {"hostile": FIXTURES / "hostile.yaml", "split-files": FIXTURES / "loader" / "base.yaml"}
# Small contracts that once generated code that did not compile: gofmt, vet, cargo check and tsc only.
COMPILE_SPECS = {f"compile-{spec.stem}": spec for spec in sorted((FIXTURES / "compile").glob("*.yaml"))}
# The visible corpus: every real public contract vendored in tests/fixtures/real/ (see its SOURCES.md).
CORPUS_SPECS = {spec.stem.replace(".", "_"): spec for spec in real_specs()}
GENERATED_SPECS = {**SMALL_SPECS, **COMPILE_SPECS, **CORPUS_SPECS}


def _package_names(sdk: Path) -> tuple[str, str]:
    """The Rust crate name and Go module path polysdk derived for a generated SDK."""
    crate = next(
        line.split('"')[1]
        for line in (sdk / "rust" / "Cargo.toml").read_text(encoding="utf-8").splitlines()
        if line.startswith("name = ")
    )
    module = (sdk / "go" / "go.mod").read_text(encoding="utf-8").splitlines()[0].removeprefix("module ")
    return crate, module


@dataclass
class Generated:
    """Where each contract of GENERATED_SPECS was generated, and the contracts that failed to."""

    sdks: dict[str, Path]
    failures: dict[str, str]


@pytest.fixture(scope="session")
def generation(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """Every contract of GENERATED_SPECS generated once per test session in all three languages
    (some real-world specs break the OpenAPI schema: their faults are warnings, as for a user).

    Names come from each contract's info.title, as a user gets them; a contract whose derived
    name another one already took (several test specs are all "OpenAPI Petstore") is generated
    again under its file name, so that the corpus builds as one Cargo workspace and one Go
    workspace, where names must be unique. A contract that fails to generate is recorded with
    its error rather than aborting the session, so the corpus test can name every failure."""
    from polysdk.generate import Request, generate
    from polysdk.plan import Options

    root = tmp_path_factory.mktemp("generated")
    sdks: dict[str, Path] = {}
    failures: dict[str, str] = {}
    taken: set[str] = set()
    languages = ("go", "rust", "typescript")
    for name, spec in GENERATED_SPECS.items():
        # The corpus gets a folder of its own: test_corpus makes it one Cargo and one Go
        # workspace, which must not enclose the other SDKs.
        out = root / "corpus" / name if name in CORPUS_SPECS else root / name
        try:
            generate(Request(spec=spec, out_dir=out, languages=languages))
            names = set(_package_names(out))
            if names & taken:
                options = Options(package_name=name)
                generate(
                    Request(
                        spec=spec,
                        out_dir=out,
                        languages=languages,
                        options=options,
                        force=True,
                    )
                )
                names = set(_package_names(out))
        except Exception as exc:  # noqa: BLE001 - recorded per contract; test_corpus reports them
            failures[name] = f"{type(exc).__name__}: {exc}"
            continue
        taken |= names
        sdks[name] = out
    return Generated(sdks, failures)


@pytest.fixture(scope="session")
def generated(generation: Generated) -> dict[str, Path]:
    """out/ and out/proto/ for the orchestrator contract (OpenAPI and protobuf), and every
    contract of GENERATED_SPECS that generated."""
    return {"orchestrator": ROOT / "out", "orchestrator-proto": ROOT / "out" / "proto", **generation.sdks}


def api_from_text(tmp_path: Path, text: str, name: str = "spec.yaml") -> ir.Api:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return build_api(load_contract(path))


def pytest_configure(config: pytest.Config) -> None:
    module_progress.register(config)  # one line per module instead of a dot per test


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from a fresh generation instead of comparing against it",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden")) or os.environ.get("POLYSDK_UPDATE_GOLDEN") == "1"
