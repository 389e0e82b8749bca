"""IR walks that the decisions layer and every view need, written once: following aliases to
what a reference finally names, finding the cycles of a reference graph, unwrapping nullables.

Each walk is cycle-safe (an alias chain that loops ends the walk) and iterative, so neither a
long chain of named schemas nor a deep one can overflow the stack."""

from __future__ import annotations

from polysdk import ir


def unwrap_nullable(t: ir.Type) -> ir.Type:
    return t.inner if isinstance(t, ir.Nullable) else t


def resolve(api: ir.Api, t: ir.Type | None) -> ir.Type | ir.Definition | None:
    """What `t` finally stands for: a structural type, or the definition (object, enum, union)
    that a chain of aliases ends at. None for None or an alias cycle."""
    seen: set[str] = set()
    while isinstance(t, ir.NamedRef):
        if t.name in seen:
            return None
        seen.add(t.name)
        definition = api.types_by_name[t.name].definition
        if not isinstance(definition, ir.AliasDef):
            return definition
        t = definition.target
    return t


def object_def(api: ir.Api, t: ir.Type | None) -> ir.ObjectDef | None:
    """The object a named reference stands for, through aliases (None for anything else)."""
    if not isinstance(t, ir.NamedRef):
        return None
    found = resolve(api, t)
    return found if isinstance(found, ir.ObjectDef) else None


def array_items(api: ir.Api, t: ir.Type | None) -> ir.Type | None:
    """The item type of an array, directly or through aliases (None for anything else)."""
    found = resolve(api, t)
    return found.items if isinstance(found, ir.ArrayType) else None


def type_refs(t: ir.Type | None) -> list[str]:
    """The named types a type refers to, through nullables, arrays and maps."""
    while isinstance(t, ir.Nullable | ir.ArrayType | ir.MapType):
        t = t.inner if isinstance(t, ir.Nullable) else t.items if isinstance(t, ir.ArrayType) else t.values
    return [t.name] if isinstance(t, ir.NamedRef) else []


def definition_refs(definition: ir.Definition) -> list[str]:
    """The named types a definition refers to: its fields' (and extra properties'), its variants'
    or its alias target's."""
    if isinstance(definition, ir.ObjectDef):
        return [
            r for t in (*(f.type for f in definition.fields), definition.additional) for r in type_refs(t)
        ]
    if isinstance(definition, ir.UnionDef):
        return [r for v in definition.variants for r in type_refs(v.type)]
    if isinstance(definition, ir.AliasDef):
        return type_refs(definition.target)
    return []


def reachable(edges: dict[str, list[str]], roots: list[str]) -> set[str]:
    """The nodes of a directed graph reachable from `roots` (included) along `edges`."""
    pending = list(roots)
    reached: set[str] = set()
    while pending:
        node = pending.pop()
        if node not in reached:
            reached.add(node)
            pending.extend(edges.get(node, []))
    return reached


def cyclic_edges(edges: dict[str, list[str]]) -> set[tuple[str, str]]:
    """The edges (a, b) of a directed graph that lie on a cycle, i.e. a and b are in the same
    strongly connected component (Tarjan's algorithm, iterative so deep specs cannot overflow).

    Views use it to decide where a by-value reference must become a pointer or a Box."""
    component = _components(edges)
    return {
        (a, b)
        for a, targets in edges.items()
        for b in targets
        if a in component and component.get(a) == component.get(b)
    }


def _components(edges: dict[str, list[str]]) -> dict[str, int]:
    """Each node's strongly connected component, named by the index of its root."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    component: dict[str, int] = {}
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child_index = work.pop()
            if child_index == 0:
                index[node] = low[node] = len(index)
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
                _pop_component(node, stack, on_stack, component, index[node])
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return component


def _pop_component(
    node: str, stack: list[str], on_stack: set[str], component: dict[str, int], name: int
) -> None:
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component[member] = name
        if member == node:
            return


def back_edges(edges: dict[str, list[str]]) -> set[tuple[str, str]]:
    """The back edges of a depth-first search of a directed graph, in the order of `edges` (and of
    each node's targets): removing them leaves the graph acyclic while keeping every other edge.
    Targets that are not nodes of `edges` are ignored. Iterative, so deep graphs cannot overflow."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    back: set[tuple[str, str]] = set()
    for root in edges:
        if root in state:
            continue
        state[root] = 1
        work = [(root, iter(edges[root]))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                work.pop()
            elif child not in edges or state.get(child) == 2:
                continue
            elif state.get(child) == 1:
                back.add((node, child))
            else:
                state[child] = 1
                work.append((child, iter(edges[child])))
    return back
