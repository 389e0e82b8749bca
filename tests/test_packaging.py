"""The installed distribution works outside the checkout: templates and the default contract ship
inside the wheel. (nox installs polysdk non-editable, so this runs against the built wheel.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polysdk

from .conftest import IN_CI, ROOT


def test_polysdk_runs_from_another_directory_with_the_embedded_contract(tmp_path: Path) -> None:
    if IN_CI:
        assert ROOT / "generators" not in Path(polysdk.__file__).parents, "CI must test the installed wheel"
    executable = shutil.which("polysdk")
    argv = [executable] if executable else [sys.executable, "-m", "polysdk"]
    result = subprocess.run(
        [*argv, "generate", "--out", "sdks", "--lang", "typescript"],
        cwd=tmp_path,
        # Where this test imported polysdk from (site-packages under nox), also for the child.
        env={**os.environ, "PYTHONPATH": str(Path(polysdk.__file__).resolve().parents[1])},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    models = (tmp_path / "sdks" / "typescript" / "src" / "models.ts").read_text()
    assert "export type PlanStep =" in models
