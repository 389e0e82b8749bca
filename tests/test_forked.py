"""Planning languages in forked children (generators/polysdk/forked.py and render.stage's
parallel path): the same output as one after another, and every failure comes back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from polysdk import forked
from polysdk import generate as generate_module
from polysdk.errors import ContractError, Location
from polysdk.generate import Request, generate
from polysdk.render import tree_files
from polysdk.targets import TARGETS

from .conftest import ROOT

pytestmark = pytest.mark.skipif(not forked.available(), reason="no fork on this platform")


def test_results_come_back_in_order() -> None:
    assert forked.run_forked([lambda: 1, lambda: "two", lambda: [3]]) == [1, "two", [3]]


def _located() -> None:
    raise ContractError(Location("api.yaml", "/paths", 3), "a fault", "fix it")


def _unpicklable() -> None:
    class LocalError(Exception):  # a class defined in a function cannot be pickled
        pass

    raise LocalError("inside")


def _dies() -> None:
    os._exit(3)


def test_the_first_failure_in_order_is_raised_as_the_child_raised_it() -> None:
    with pytest.raises(ContractError) as caught:
        forked.run_forked([lambda: 1, _located, _unpicklable])
    assert str(caught.value.location) == "api.yaml:3 at #/paths" and caught.value.hint == "fix it"
    with pytest.raises(RuntimeError, match=r"could not be sent back(.|\n)*LocalError: inside"):
        forked.run_forked([_unpicklable, _located])
    with pytest.raises(RuntimeError, match=r"died \(exit code 3\)"):
        forked.run_forked([lambda: 1, _dies])


def test_languages_planned_in_forks_write_exactly_what_planning_in_turn_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = ROOT / "spec" / "orchestrator.yaml"
    in_turn = generate(Request(spec=spec, out_dir=tmp_path / "turns", languages=tuple(TARGETS)))
    monkeypatch.setattr(generate_module, "PARALLEL_FROM_DEFINITIONS", 0)
    forks: list[int] = []
    run_forked = forked.run_forked
    monkeypatch.setattr(forked, "run_forked", lambda calls: forks.append(len(calls)) or run_forked(calls))
    in_forks = generate(Request(spec=spec, out_dir=tmp_path / "forks", languages=tuple(TARGETS)))
    assert forks == [len(TARGETS)], "one fork per language"
    assert in_forks == in_turn, "the same warnings, in the same order"
    for language in TARGETS:
        assert tree_files(tmp_path / "forks" / language) == tree_files(tmp_path / "turns" / language)


def test_a_failing_language_in_a_fork_leaves_no_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from polysdk import render

    original = render.write_manifest

    def failing_for_rust(root: Path) -> None:
        if root.name == "rust":
            raise render.ToolchainError("rustfmt failed to format the Rust SDK (lib.rs): boom")
        original(root)

    monkeypatch.setattr(generate_module, "PARALLEL_FROM_DEFINITIONS", 0)
    monkeypatch.setattr(render, "write_manifest", failing_for_rust)  # inherited by the forks
    out = tmp_path / "out"
    with pytest.raises(render.ToolchainError, match="boom"):
        generate(Request(spec=ROOT / "spec" / "orchestrator.yaml", out_dir=out, languages=tuple(TARGETS)))
    assert not out.exists() or not any(out.iterdir()), "nothing staged is left behind"
