"""The pipeline's structure: decisions made once and handed to every view, front ends chosen by
file type, drivers only when asked for, and functions small enough to review."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from radon.complexity import cc_visit

import polysdk.decisions
import polysdk.decisions.operations
import polysdk.generate
from polysdk.generate import Request, generate
from polysdk.targets import TARGETS, LanguageTarget

from .conftest import FIXTURES, ROOT

GENERATORS = ROOT / "generators" / "polysdk"
MAX_COMPLEXITY = 25
# What each language's conformance driver adds to an SDK directory (see --drivers).
DRIVER_PATHS = {
    "go": ("cmd/polysdk-driver",),
    "rust": ("examples/polysdk_driver", "examples/polysdk_driver.rs"),
    "typescript": ("conformance", "tsconfig.driver.json"),
}


def test_decisions_are_built_once_and_handed_to_every_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    shapes: list[str] = []
    received: dict[str, object] = {}
    real_build = polysdk.generate.build_decisions
    real_shape = polysdk.decisions.operations.operation_shape

    def build(*args: Any, **kwargs: Any) -> Any:
        built.append(real_build(*args, **kwargs))
        return built[-1]

    def shape(api: Any, op: Any) -> Any:
        shapes.append(op.id)
        return real_shape(api, op)

    monkeypatch.setattr(polysdk.generate, "build_decisions", build)
    # Both names a view could reach the shape builder by.
    monkeypatch.setattr(polysdk.decisions, "operation_shape", shape)
    monkeypatch.setattr(polysdk.decisions.operations, "operation_shape", shape)
    for name, target in list(TARGETS.items()):

        def plan(decisions: Any, options: Any, name: str = name, real: Any = target.plan) -> Any:
            received[name] = decisions
            return real(decisions, options)

        monkeypatch.setitem(TARGETS, name, LanguageTarget(**{**target.__dict__, "plan": plan}))
    generate(Request(spec=ROOT / "spec" / "orchestrator.yaml", out_dir=tmp_path, languages=tuple(TARGETS)))
    assert len(built) == 1
    assert set(received) == set(TARGETS) and all(d is built[0] for d in received.values())
    assert sorted(shapes) == sorted(dict.fromkeys(shapes)), "an operation's shape was decided twice"


@pytest.mark.parametrize("drivers", [False, True])
def test_drivers_are_emitted_only_when_asked_for(tmp_path: Path, drivers: bool) -> None:
    from polysdk.plan import Options

    generate(
        Request(
            spec=FIXTURES / "hostile.yaml",
            out_dir=tmp_path,
            languages=tuple(TARGETS),
            options=Options(drivers=drivers),
        )
    )
    for language, paths in DRIVER_PATHS.items():
        present = [p for p in paths if (tmp_path / language / p).exists()]
        assert bool(present) == drivers, f"{language}: {present or paths}"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        # The proto front end reads it: protoc's own error, located at the line.
        ("api.proto", "api.proto:2: Expected top-level statement"),
        ("api.txt", "unknown contract file type '.txt'"),
    ],
)
def test_front_end_is_chosen_by_file_type(tmp_path: Path, name: str, message: str) -> None:
    contract = tmp_path / name
    contract.write_text('syntax = "proto3";\n{\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "polysdk", "generate", str(contract), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_front_end_table_matches_each_front_end_and_a_run_imports_only_its_own() -> None:
    from polysdk.frontends import FRONT_ENDS, load_front_end

    for where, suffixes in FRONT_ENDS:
        assert load_front_end(where).suffixes == suffixes, where
    # A fresh interpreter reading the OpenAPI contract never imports the proto front end (nor
    # protobuf's runtime), and the reverse.
    probe = (
        "import sys; from pathlib import Path; from polysdk.frontends import read_api; "
        "read_api(Path(sys.argv[1])); "
        "print(sorted(m for m in ('polysdk.frontends.proto', 'polysdk.frontends.openapi', "
        "'google.protobuf') if m in sys.modules))"
    )
    loaded = {}
    for contract in ("orchestrator.yaml", "orchestrator.proto"):
        result = subprocess.run(
            [sys.executable, "-c", probe, str(ROOT / "spec" / contract)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "generators")},
        )
        loaded[contract] = result.stdout.strip()
    assert loaded["orchestrator.yaml"] == "['polysdk.frontends.openapi']"
    assert "polysdk.frontends.openapi" not in loaded["orchestrator.proto"]


def test_no_function_in_the_generator_is_too_complex_to_review() -> None:
    too_complex = [
        f"{path.relative_to(ROOT)}:{block.lineno} {block.fullname} ({block.complexity})"
        for path in sorted(GENERATORS.rglob("*.py"))
        for block in cc_visit(path.read_text(encoding="utf-8"))
        if block.complexity > MAX_COMPLEXITY
    ]
    assert not too_complex, f"cyclomatic complexity above {MAX_COMPLEXITY}:\n" + "\n".join(too_complex)
