"""The language registry: one LanguageTarget per language. The pipeline, the CLI, the tests and
the conformance kit iterate TARGETS; nothing else lists languages. Adding a language is one entry
here plus its own view package and templates."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from polysdk.decisions import Decisions
from polysdk.plan import LanguagePlan, Options
from polysdk.views import go, rust, typescript

Planner = Callable[[Decisions, Options], LanguagePlan]
# A build step: the command and the environment variables it adds (run inside the SDK directory).
Step = tuple[list[str], dict[str, str]]


@dataclass(frozen=True)
class DriverBuild:
    """How to build an SDK's conformance driver and the command that then starts it."""

    steps: list[Step]
    run: list[str]
    source: str  # the driver's source, relative to the SDK: absent when generated without --drivers


@dataclass(frozen=True)
class LanguageTarget:
    name: str
    plan: Planner  # decisions + options → the files to write (templates, runtime files, formatter)
    format_tools: tuple[str, ...]  # commands generation itself needs (the formatter)
    check_tools: tuple[str, ...]  # commands that compile and test the generated SDK
    # sdk_dir, cache_dir → how to build and start the driver (emitted with `--drivers`).
    driver: Callable[[Path, Path], DriverBuild]
    # The same driver built optimised, for `polysdk load`: a debug build would measure the
    # compiler's unoptimised code, not the SDK.
    load_driver: Callable[[Path, Path], DriverBuild]


def _go_driver(sdk_dir: Path, cache_dir: Path) -> DriverBuild:
    binary = cache_dir / "polysdk-driver-go"
    return DriverBuild(
        [(["go", "build", "-o", str(binary), "./cmd/polysdk-driver"], {})],
        [str(binary)],
        "cmd/polysdk-driver",
    )


def _go_load_driver(sdk_dir: Path, cache_dir: Path) -> DriverBuild:
    # `go build` optimises by default; a binary of its own so that a conformance run sharing the
    # cache folder never starts a half-written one.
    binary = cache_dir / "polysdk-driver-go-load"
    return DriverBuild(
        [(["go", "build", "-o", str(binary), "./cmd/polysdk-driver"], {})],
        [str(binary)],
        "cmd/polysdk-driver",
    )


def _rust_driver(sdk_dir: Path, cache_dir: Path, *, release: bool = False) -> DriverBuild:
    target = Path(os.environ.get("CARGO_TARGET_DIR", cache_dir / "cargo-target"))
    build = ["cargo", "build", "--quiet", "--example", "polysdk_driver", *(["--release"] if release else [])]
    return DriverBuild(
        [(build, {"CARGO_TARGET_DIR": str(target)})],
        [str(target / ("release" if release else "debug") / "examples" / "polysdk_driver")],
        "examples/polysdk_driver",
    )


def _rust_load_driver(sdk_dir: Path, cache_dir: Path) -> DriverBuild:
    return _rust_driver(sdk_dir, cache_dir, release=True)


def _typescript_driver(sdk_dir: Path, cache_dir: Path) -> DriverBuild:
    script = sdk_dir / ".driver-build" / "conformance" / "driver.js"
    return DriverBuild(
        [([tsc(), "-p", "tsconfig.driver.json"], {})], ["node", str(script)], "conformance/driver.ts"
    )


def tsc() -> str:
    """tsc: $POLYSDK_TSC (nox sets it to the pinned toolchain), a checkout's pinned one, or PATH's."""
    configured = os.environ.get("POLYSDK_TSC")
    if configured:
        return configured
    pinned = Path(__file__).resolve().parents[2] / "tests" / "toolchain" / "node_modules" / ".bin" / "tsc"
    if pinned.exists():
        return str(pinned)
    return shutil.which("tsc") or "tsc"


TARGETS: dict[str, LanguageTarget] = {
    target.name: target
    for target in (
        LanguageTarget("go", go.plan, ("gofmt",), ("go",), _go_driver, _go_load_driver),
        LanguageTarget("rust", rust.plan, ("rustfmt",), ("cargo",), _rust_driver, _rust_load_driver),
        # tsc has no optimisation levels: V8 optimises the same JavaScript at run time.
        LanguageTarget(
            "typescript", typescript.plan, (), ("node", "npm"), _typescript_driver, _typescript_driver
        ),
    )
}
