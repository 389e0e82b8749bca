"""Unit tests of the shared IR walks (generators/polysdk/walks.py)."""

from __future__ import annotations

from polysdk import ir
from polysdk.walks import back_edges, definition_refs, reachable, type_refs


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


def test_reachable_follows_edges_from_the_roots_through_cycles() -> None:
    edges = {"a": ["b"], "b": ["c", "a"], "c": [], "d": ["a"]}
    assert reachable(edges, ["a"]) == {"a", "b", "c"}
    assert reachable(edges, ["d", "x"]) == {"a", "b", "c", "d", "x"}  # a root with no edges is reached
    assert reachable(edges, []) == set()


def test_references_are_found_through_nullables_arrays_and_maps() -> None:
    deep = ir.Nullable(ir.ArrayType(ir.MapType(ir.Nullable(ir.NamedRef("Leaf")))))
    assert type_refs(deep) == ["Leaf"]
    assert type_refs(ir.PrimitiveType(ir.Prim.STRING)) == [] and type_refs(None) == []
    obj = ir.ObjectDef(
        (ir.Field("a", ir.NamedRef("A"), False), ir.Field("b", ir.ArrayType(ir.NamedRef("B")), False)),
        additional=ir.NamedRef("Extra"),
    )
    assert definition_refs(obj) == ["A", "B", "Extra"]
    union = ir.UnionDef((ir.Variant(ir.NamedRef("X")), ir.Variant(ir.PrimitiveType(ir.Prim.INT32))))
    assert definition_refs(union) == ["X"]
    assert definition_refs(ir.AliasDef(ir.MapType(ir.NamedRef("V")))) == ["V"]
    assert definition_refs(ir.EnumDef(ir.Prim.STRING, ())) == []
