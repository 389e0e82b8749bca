"""View helpers shared by the languages: package naming and walking the types of an Api."""

from __future__ import annotations

from polysdk import ir
from polysdk.names import split_words

_NOISE = {"api", "apis", "openapi", "service", "rest", "http", "v1", "v2", "v3"}


def package_words(api: ir.Api, override: str = "") -> list[str]:
    """Words for the SDK's package name: the user's choice, else info.title minus noise words."""
    words = split_words(override) if override else split_words(api.title)
    if not override:
        words = [w for w in words if w.lower() not in _NOISE]
    return words or ["client"]


def referenced_prims(api: ir.Api) -> set[ir.Prim]:
    """Primitive kinds used anywhere in the declared types, to decide imports."""
    found: set[ir.Prim] = set()

    def visit(t: ir.Type | None) -> None:
        if isinstance(t, ir.PrimitiveType):
            found.add(t.kind)
        elif isinstance(t, ir.Nullable):
            visit(t.inner)
        elif isinstance(t, ir.ArrayType):
            visit(t.items)
        elif isinstance(t, ir.MapType):
            visit(t.values)

    for named in api.types:
        d = named.definition
        if isinstance(d, ir.ObjectDef):
            for f in d.fields:
                visit(f.type)
            visit(d.additional)
        elif isinstance(d, ir.UnionDef):
            for v in d.variants:
                visit(v.type)
        elif isinstance(d, ir.AliasDef):
            visit(d.target)
    return found


def cyclic_edges(edges: dict[str, list[str]]) -> set[tuple[str, str]]:
    """The edges (a, b) of a directed graph that lie on a cycle, i.e. a and b are in the same
    strongly connected component (Tarjan's algorithm, iterative so deep specs cannot overflow).

    Views use it to decide where a by-value reference must become a pointer or a Box."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    component: dict[str, int] = {}
    counter = 0
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child_index = work.pop()
            if child_index == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = edges.get(node, [])
            if child_index < len(children):
                work.append((node, child_index + 1))
                child = children[child_index]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = index[node]
                    if member == node:
                        break
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return {
        (a, b)
        for a, targets in edges.items()
        for b in targets
        if a in component and component.get(a) == component.get(b)
    }
