"""View helpers shared by the languages: package naming and walking the types of an Api."""

from __future__ import annotations

import re

from polysdk import ir
from polysdk.names import split_words

_NOISE = {"api", "apis", "openapi", "service", "rest", "http", "v1", "v2", "v3"}


def package_words(api: ir.Api, override: str = "") -> list[str]:
    """Words for the SDK's package name: the user's choice, else info.title minus noise words."""
    words = split_words(override) if override else split_words(api.title)
    if not override:
        words = [w for w in words if w.lower() not in _NOISE]
    return words or ["client"]


# What every generated conformance driver can run (conformance/PROTOCOL.md): one list for the three
# languages, so that the runner never skips a case for one SDK that it runs for another.
DRIVER_CAPABILITIES = ("cancel", "env", "stream", "pages", "multipart", "binary", "form")


def sdk_words(api: ir.Api, override: str = "") -> list[str]:
    """package_words without a trailing "SDK": each language adds its own suffix back."""
    words = package_words(api, override)
    return words[:-1] if len(words) > 1 and words[-1].lower() == "sdk" else words


def env_prefix(api: ir.Api, override: str = "") -> str:
    """The prefix of the SDK's environment variables (ORCHESTRATOR for ORCHESTRATOR_BASE_URL), one
    rule for every language: upper-case alphanumeric words joined by '_', 'N' before a digit."""
    prefix = "_".join(re.sub(r"[^A-Z0-9]", "", w.upper()) for w in sdk_words(api, override)).strip("_")
    prefix = prefix or "API"
    return "N" + prefix if prefix[0].isdigit() else prefix


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


_PREPOSITIONS = frozenset({"to", "for", "of", "by", "from", "with", "in", "on", "into"})


def _group_forms(word: str) -> set[str]:
    """A group word and its plural/singular forms: agents ~ agent, categories ~ category."""
    w = word.lower()
    forms = {w, w + "s", w + "es"}
    if w.endswith("ies"):
        forms.add(w[:-3] + "y")
    if w.endswith("es"):
        forms.add(w[:-2])
    if w.endswith("s"):
        forms.add(w[:-1])
    if w.endswith("y"):
        forms.add(w[:-1] + "ies")
    return forms


def _matches_group(words: list[str], group_words: list[str]) -> bool:
    if len(words) != len(group_words):
        return False
    head = all(a.lower() == b.lower() for a, b in zip(words[:-1], group_words[:-1], strict=True))
    return head and words[-1].lower() in _group_forms(group_words[-1])


def method_words(operation_id: str, group: str) -> list[str]:
    """The words of an operation's method name inside its group, the same in every SDK.

    The group's name is dropped where it only repeats the resource: right after the verb
    (`listAgents` in agents → list, `getAgentStatus` → get Status, `streamRunEvents` in runs →
    stream Events) or at the end after a preposition (`respondToElicitation` → respond,
    `waitForMessages` → wait). Elsewhere it carries meaning and stays (`listRunArtifacts` in
    artifacts). When nothing would be left, the whole operationId is kept."""
    words = split_words(operation_id)
    group_words = split_words(group)
    n = len(group_words)
    if not group_words or len(words) <= n:
        return words
    if _matches_group(words[1 : 1 + n], group_words):
        return [words[0], *words[1 + n :]]
    if (
        len(words) > n + 1
        and words[-n - 1].lower() in _PREPOSITIONS
        and _matches_group(words[-n:], group_words)
    ):
        return words[: -n - 1]
    return words
