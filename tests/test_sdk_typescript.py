"""Quality gates and behaviour tests of the generated TypeScript SDK.

- `tsc` under the strictest flags over the committed out/typescript, and over its README examples
  (examples/readme.ts, the code the README shows) for the orchestrator, hostile and small real specs;
- the package builds to dist/ and passes publint;
- the runtime's own node:test tests (test/runtime.test.mjs, shipped in every SDK) and end-to-end
  tests of the generated orchestrator client (tests/fixtures/typescript/client.test.mjs) run
  against a local node:http server on 127.0.0.1;
- the README matches its examples (out/ drift itself is checked by test_cli.py).

Toolchain tests skip locally when node/tsc/publint are missing and fail in CI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT, require_tool

OUT = ROOT / "out" / "typescript"


def _run(argv: list[str], cwd: Path, timeout: float = 300) -> str:
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout, env={**os.environ}
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, f"{' '.join(argv)} failed in {cwd}:\n{output[-6000:]}"
    return output


def _tsc() -> str:
    return str(Path(require_tool("tsc", env_var="POLYSDK_TSC")).resolve())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """out/typescript copied and built to dist/ with tsc."""
    tsc = _tsc()
    sdk = tmp_path_factory.mktemp("ts-built") / "sdk"
    shutil.copytree(OUT, sdk, ignore=shutil.ignore_patterns("node_modules", "dist"))
    _run([tsc, "-p", "tsconfig.json"], sdk)
    return sdk


def test_readme_shows_exactly_the_checked_examples() -> None:
    readme = (OUT / "README.md").read_text(encoding="utf-8")
    examples = (OUT / "examples" / "readme.ts").read_text(encoding="utf-8")
    blocks = re.findall(r"```ts\n(.*?)```", readme, flags=re.S)
    bodies = re.findall(r"Promise<void> \{\n(.*?)\n\}\n", examples, flags=re.S)
    assert len(bodies) >= 6
    for body in bodies:
        code = "\n".join(line[2:] for line in body.splitlines()) + "\n"
        assert code in blocks, code
    for section in ("## Install", "## Errors", "## Retries", "## Pagination", "## Streaming", "bigint"):
        assert section in readme


def test_strict_type_check_and_examples() -> None:
    tsc = _tsc()
    config = (OUT / "tsconfig.json").read_text(encoding="utf-8")
    for flag in ('"strict": true', '"noUncheckedIndexedAccess": true', '"exactOptionalPropertyTypes": true'):
        assert flag in config
    # tsc over tsconfig.json alone runs for every generated contract in test_compile.py.
    _run([tsc, "-p", "tsconfig.examples.json"], OUT)


@pytest.mark.parametrize("name", ["hostile", "oag-3_0__sse", "petstore-3_0"])
def test_examples_type_check_for_other_contracts(name: str, generated: dict[str, Path]) -> None:
    _run([_tsc(), "-p", "tsconfig.examples.json"], generated[name] / "typescript")


def test_package_passes_publint(built: Path) -> None:
    publint = str(Path(require_tool("publint", env_var="POLYSDK_PUBLINT")).resolve())
    output = _run([publint, "--strict"], built)
    assert "All good" in output or "warning" not in output.lower(), output


def test_package_metadata() -> None:
    import json

    package = json.loads((OUT / "package.json").read_text(encoding="utf-8"))
    assert package["type"] == "module"
    assert package["sideEffects"] is False
    assert package["engines"]["node"] == ">=20"
    assert package["exports"]["."]["types"] == "./dist/index.d.ts"
    assert "dependencies" not in package
    assert list(package["devDependencies"]) == ["typescript"]


def test_runtime_and_client_node_tests(built: Path) -> None:
    node = require_tool("node")
    shutil.copy(FIXTURES / "typescript" / "client.test.mjs", built / "test" / "client.test.mjs")
    output = _run([node, "--test", "--test-reporter=tap", "test/"], built, timeout=180)
    passed = re.search(r"^# pass (\d+)$", output, flags=re.M)
    failed = re.search(r"^# fail (\d+)$", output, flags=re.M)
    assert passed and failed, output[-3000:]
    assert int(failed.group(1)) == 0, output[-6000:]
    assert int(passed.group(1)) >= 22, output[-3000:]
