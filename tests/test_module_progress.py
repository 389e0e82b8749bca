"""tests/module_progress.py: pytest's default output is one line per module with its counts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSING = "".join(f"def test_pass_{i}():\n    pass\n\n" for i in range(30))


def _pytest(folder: Path, *args: str) -> list[str]:
    (folder / "conftest.py").write_text(
        "from tests import module_progress\n\n\ndef pytest_configure(config):\n"
        "    module_progress.register(config)\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "COLUMNS": "100",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(folder),
            *args,
            str(folder),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=120,
        check=False,
    )
    return done.stdout.splitlines()


def test_each_module_is_one_line_with_its_counts(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text(
        "import pytest\n\n" + PASSING + "@pytest.mark.skip(reason='x')\ndef test_skipped():\n    pass\n",
        encoding="utf-8",
    )
    (tmp_path / "test_b.py").write_text(
        "def test_one():\n    pass\n\n\ndef test_broken():\n    assert 1 == 2\n", encoding="utf-8"
    )
    lines = _pytest(tmp_path)
    a = next(line for line in lines if line.startswith("test_a.py "))
    assert re.fullmatch(r"test_a\.py s 30 passed, 1 skipped in \d+\.\d s +\[ 93%\]", a), a
    b = next(line for line in lines if line.startswith("test_b.py "))
    assert re.fullmatch(r"test_b\.py F 1 passed, 1 failed in \d+\.\d s +\[100%\]", b), b
    assert not any("..." in line for line in lines)  # no dots
    assert any("assert 1 == 2" in line for line in lines)  # the failure is reported as usual


def test_quiet_and_verbose_runs_are_left_as_they_were(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text(PASSING, encoding="utf-8")
    assert any(line.startswith("." * 30) for line in _pytest(tmp_path, "-q"))
    assert sum("PASSED" in line for line in _pytest(tmp_path, "-v")) == 30
