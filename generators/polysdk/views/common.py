"""View helpers shared by the languages: method naming and the drivers' capabilities."""

from __future__ import annotations

from polysdk.names import split_words

# What every generated conformance driver can run (conformance/PROTOCOL.md): one list for the three
# languages, so that the runner never skips a case for one SDK that it runs for another.
DRIVER_CAPABILITIES = ("cancel", "env", "stream", "pages", "multipart", "binary", "form")
# The one platform limit a driver declares apart: a request body on GET or HEAD, which a contract
# may require (e.g. Asana's typeahead lookups) and net/http and reqwest send, but which the Fetch
# standard forbids, so the fetch-based TypeScript SDK refuses it (InvalidRequestError). Cases that
# need it are `unsupported` on TypeScript, shown as such, never a silent pass.
GET_BODY_CAPABILITY = "get_body"


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
