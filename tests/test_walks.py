"""Unit tests of the shared IR walks (generators/polysdk/walks.py)."""

from __future__ import annotations

from polysdk.walks import back_edges


def test_back_edges_break_every_cycle_and_keep_the_rest() -> None:
    edges = {"a": ["b"], "b": ["a", "c"], "c": ["c"], "d": ["a", "x"]}
    # Depth-first in the order given: a → b → a closes a cycle at b; c refers to itself; x is not a node.
    assert back_edges(edges) == {("b", "a"), ("c", "c")}
    kept = {(a, b) for a, targets in edges.items() for b in targets if b in edges} - back_edges(edges)
    assert ("a", "b") in kept and ("d", "a") in kept


def test_back_edges_of_a_long_chain_do_not_overflow() -> None:
    n = 50_000
    edges = {str(i): [str(i + 1)] for i in range(n)}
    edges[str(n)] = ["0"]
    assert back_edges(edges) == {(str(n), "0")}
