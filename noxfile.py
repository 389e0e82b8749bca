"""polysdk's single entry point. `nox -s generate` regenerates out/; `nox -s lint tests` is CI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests", "conformance", "derived"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).resolve().parent
TOOLCHAIN = ROOT / "tests" / "toolchain"
GO_BIN = ROOT / ".cache" / "go-bin"
CARGO_TARGET = ROOT / ".cache" / "cargo-target"  # shared by the tests and conformance sessions
STATICCHECK_VERSION = "v0.8.2"  # staticcheck 2026.2.2, which knows Go 1.26
PRISM = ROOT / ".cache" / "prism"  # Stoplight's mock server, the mock's yardstick (bench_mock)
PRISM_VERSION = "5.14.2"


def _install_polysdk(session: nox.Session, *groups: str, extras: str = "") -> None:
    session.install(f".[{extras}]" if extras else ".")
    for group in groups:
        session.install("--group", group) if _uv(session) else session.install(*_group(group))


def _uv(session: nox.Session) -> bool:
    return getattr(session.virtualenv, "venv_backend", "") == "uv"


def _group(name: str) -> list[str]:
    import tomllib

    with (ROOT / "pyproject.toml").open("rb") as handle:
        return list(tomllib.load(handle)["dependency-groups"][name])


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate out/ (Go, Rust, TypeScript, with their conformance drivers) from
    spec/orchestrator.yaml, and out/proto/ from spec/orchestrator.proto. Extra args go to
    `polysdk generate`, e.g. `nox -s generate -- --lang go`."""
    _install_polysdk(session)
    session.run(
        "polysdk", "generate", "spec/orchestrator.yaml", "--out", "out", "--drivers", *session.posargs
    )
    # A package of its own name, so that both SDKs of a language can be built side by side.
    session.run(
        "polysdk",
        "generate",
        "spec/orchestrator.proto",
        "--out",
        "out/proto",
        "--name",
        "orchestrator-proto",
        # A .proto file has no info.license nor x-go-module: the OpenAPI contract's licence, and
        # a module path of its own.
        "--license",
        "Apache-2.0",
        "--go-module",
        "github.com/polysdk/orchestrator-proto-sdk-go",
        "--drivers",
        *session.posargs,
    )


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tables, golden trees, out/ drift and the compile tier (go, cargo, tsc). Extra args go
    to pytest, e.g. `nox -s tests -- -k names`. With CI=true no toolchain tier may skip."""
    _install_polysdk(session, "test", extras="conformance")
    session.run("npm", "ci", "--no-audit", "--no-fund", "--prefix", str(TOOLCHAIN), external=True)
    staticcheck = GO_BIN / "staticcheck"
    if not staticcheck.exists():
        session.run(
            "go",
            "install",
            f"honnef.co/go/tools/cmd/staticcheck@{STATICCHECK_VERSION}",
            env={"GOBIN": str(GO_BIN)},
            external=True,
        )
    tools = TOOLCHAIN / "node_modules" / ".bin"
    env = {
        "POLYSDK_TSC": str(tools / "tsc"),
        "POLYSDK_PUBLINT": str(tools / "publint"),
        "POLYSDK_STATICCHECK": str(staticcheck),
    }
    session.run("pytest", *session.posargs, env=env)


def _driver_toolchain(session: nox.Session) -> dict[str, str]:
    """Installs what building the SDKs' drivers needs (polysdk with the conformance extra, the
    pinned tsc) and returns their environment. The tests session's Rust target directory is
    shared, so out/rust and its dependencies compile once (load's --release builds go to its
    release/ folder)."""
    _install_polysdk(session, extras="conformance")
    session.run("npm", "ci", "--no-audit", "--no-fund", "--prefix", str(TOOLCHAIN), external=True)
    return {
        "POLYSDK_TSC": str(TOOLCHAIN / "node_modules" / ".bin" / "tsc"),
        "CARGO_TARGET_DIR": str(CARGO_TARGET),
    }


@nox.session
def conformance(session: nox.Session) -> None:
    """Every conformance case against the Go, Rust and TypeScript SDKs in out/, then parity; reports
    in build/conformance (matrix.html, results.json, junit.xml). Extra args go to the runner, e.g.
    `nox -s conformance -- --lang go --run 'Retries/*'`."""
    session.run("polysdk", "conformance", *session.posargs, env=_driver_toolchain(session))


# Derived conformance in CI, in all three SDKs: every contract of the visible corpus
# (../shared/specs/real, copied into tests/fixtures/real) -- the OpenAPI Initiative's petstore,
# Spotify's Web API (a published contract with validation faults), Stripe's (936 cases over its
# 534 operations), openapi-generator's edge-case specs (allOf and oneOf discriminators, special
# characters, 3.1 null types, event streams) -- and the orchestrator itself (pages, streams, forms,
# multipart). Each costs a Rust build of its crate: Stripe's is the big one, about 4 minutes cold
# on this machine kind (cargo build --timings: the SDK crate 132 s, its driver 79 s). The rest of
# tests/fixtures/real is the documented command `nox -s derived -- tests/fixtures/real/*.json ...`.
DERIVED_CONTRACTS = (
    "tests/fixtures/real/petstore-3.0.yaml",
    "tests/fixtures/real/spotify-web-api.yaml",
    "tests/fixtures/real/stripe-spec3.yaml",
    "tests/fixtures/real/oag-3_0__allOf_composition_discriminator.yaml",
    "tests/fixtures/real/oag-3_0__oneOfDiscriminator.yaml",
    "tests/fixtures/real/oag-3_0__schema-with-special-characters.yaml",
    "tests/fixtures/real/oag-3_1__null-types-with-type-array.yaml",
    "tests/fixtures/real/oag-3_0__sse.yaml",
    "spec/orchestrator.yaml",
)


@nox.session
def derived(session: nox.Session) -> None:
    """Derived conformance (`polysdk conformance --spec FILE --derived`) over real contracts:
    each contract's SDKs generated into .cache, cases derived from the contract, all three SDKs
    run and compared; reports in build/derived/<contract>/ and one table in
    build/derived/summary.md. Extra args name other contracts, e.g.
    `nox -s derived -- path/to/openapi.yaml`."""
    env = _driver_toolchain(session)
    reports = ROOT / "build" / "derived"
    if reports.exists():
        shutil.rmtree(reports)  # the summary reads every folder here: only this run's
    for spec in session.posargs or DERIVED_CONTRACTS:
        folder = reports / Path(spec).stem
        # A failing contract does not stop the others: the summary below judges them all.
        session.run(
            "polysdk", "conformance", "--spec", spec, "--derived", "--report-dir", str(folder),
            env=env, success_codes=[0, 1],
        )  # fmt: skip
    session.run("python", "-m", "polysdk_conformance.derive.summary", str(reports))


@nox.session
def load(session: nox.Session) -> None:
    """The SDKs in out/ under load against the mock (`polysdk load`, README "Load, budgets and
    SLOs"): the short profile, budgets of perf/budgets.yaml, SLOs of perf/slos.yaml through a real
    Prometheus; reports in build/load (results.json, results.md, index.html). Extra args go to
    `polysdk load`, e.g. `nox -s load -- --profile full` or `-- --lang go`."""
    session.run("polysdk", "load", *session.posargs, env=_driver_toolchain(session))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check and mypy --strict over the Python code."""
    _install_polysdk(session, "lint", extras="conformance")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Generation side by side on the orchestrator contract and on Stripe's
    (tests/fixtures/real/stripe-spec3.yaml or $POLYSDK_STRIPE_SPEC): polysdk (all three languages,
    and each alone) against openapi-generator (go, rust, typescript-fetch), oapi-codegen and
    openapi-typescript, which tests/bench/generate_bench.py installs at pinned versions into
    .cache/bench-peers (java and mvn, go, npm needed); wall, CPU and peak RSS, medians, the CPU
    ratios; build/bench/generate.json and .md. Extra args go to it, e.g. `-- --runs 5` or
    `-- --no-peers`. Then each SDK against a hostile server (tests/bench/hostile_bench.py: a 50 MiB
    event line, a gzip bomb)."""
    _install_polysdk(session, extras="conformance")
    stripe = os.environ.get("POLYSDK_STRIPE_SPEC", str(ROOT / "tests/fixtures/real/stripe-spec3.yaml"))
    session.run("python", "tests/bench/generate_bench.py", "--stripe", stripe, *session.posargs)
    # Each SDK against a hostile server: a 50 MiB event line and a gzip bomb, through its driver.
    session.run("npm", "ci", "--no-audit", "--no-fund", "--prefix", str(TOOLCHAIN), external=True)
    env = {
        "POLYSDK_TSC": str(TOOLCHAIN / "node_modules" / ".bin" / "tsc"),
        "CARGO_TARGET_DIR": str(CARGO_TARGET),
    }
    session.run("python", "tests/bench/hostile_bench.py", env=env)


@nox.session
def bench_mock(session: nox.Session) -> None:
    """The mock orchestrator as a load target against Prism on the same contract and endpoints,
    request validation on in both, side by side: wrk (Debian's `wrk`) drives each with the same
    scripted mix for several alternating rounds; medians, p99 and the ratio are printed and
    written to build/bench/mock_bench.json. Extra args go to tests/bench/mock_bench.py, e.g.
    `nox -s bench_mock -- --rounds 5 --duration 10`."""
    _install_polysdk(session, extras="conformance")
    prism = PRISM / "node_modules" / ".bin" / "prism"
    if not prism.exists():
        session.run(
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(PRISM),
            f"@stoplight/prism-cli@{PRISM_VERSION}",
            external=True,
        )
    session.run("python", "tests/bench/mock_bench.py", "--prism", str(prism), *session.posargs)
