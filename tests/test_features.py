"""Feature goldens: one folder per construct under tests/features/ — a tiny contract, its options and
the excerpts each SDK must contain — so a reviewer sees what one construct turns into in Go, Rust
and TypeScript without reading a whole SDK (in the style of oapi-codegen's per-issue folders).

A folder holds `contract.yaml`, optionally `options.yaml` (fields of polysdk.plan.Options), and
`expect.yaml`: `warnings` (substrings the generation warnings must contain) and, per generated file
(`go/client.go`, `rust/src/operations.rs`, ...), the excerpts that file must contain verbatim."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from polysdk.generate import Request, generate
from polysdk.plan import Options
from polysdk.targets import TARGETS

from .conftest import ROOT

FEATURES = ROOT / "tests" / "features"


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return data or {}


@pytest.mark.parametrize("feature", sorted(p.name for p in FEATURES.iterdir() if p.is_dir()))
def test_feature(feature: str, tmp_path: Path) -> None:
    folder = FEATURES / feature
    expect = _load(folder / "expect.yaml")
    options = Options(**_load(folder / "options.yaml"))
    warnings = generate(
        Request(spec=folder / "contract.yaml", out_dir=tmp_path, languages=tuple(TARGETS), options=options)
    )
    for wanted in expect.pop("warnings", []):
        assert any(wanted in w for w in warnings), f"no warning contains {wanted!r}: {warnings}"
    languages = {path.split("/", 1)[0] for path in expect}
    assert languages == set(TARGETS), f"{feature}: expect.yaml must show every language"
    for path, excerpts in expect.items():
        text = (tmp_path / path).read_text(encoding="utf-8")
        for excerpt in excerpts:
            assert excerpt.strip() in text, f"{feature}: {path} lacks:\n{excerpt}"
