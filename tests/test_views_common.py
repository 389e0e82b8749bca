"""Decisions the three views share: method names inside a group are the same in every SDK."""

from __future__ import annotations

import pytest

from polysdk.views.common import cyclic_edges, method_words


@pytest.mark.parametrize(
    ("operation_id", "group", "words"),
    [
        ("listAgents", "agents", ["list"]),
        ("getAgent", "agents", ["get"]),
        ("getAgentStatus", "agents", ["get", "Status"]),
        ("registerAgent", "agents", ["register"]),
        ("streamRunEvents", "runs", ["stream", "Events"]),
        ("respondToElicitation", "elicitations", ["respond"]),
        ("waitForMessages", "messages", ["wait"]),
        ("sendMessage", "messages", ["send"]),
        ("listRunArtifacts", "artifacts", ["list", "Run", "Artifacts"]),
        ("uploadArtifactMultipart", "artifacts", ["upload", "Multipart"]),
        ("createAccessToken", "auth", ["create", "Access", "Token"]),
        ("agents", "agents", ["agents"]),  # nothing would be left: keep the whole id
        ("GetAccounts", "default", ["Get", "Accounts"]),
        ("listCategories", "category", ["list"]),
        ("getHealth", "health", ["get"]),
    ],
)
def test_method_words(operation_id: str, group: str, words: list[str]) -> None:
    assert method_words(operation_id, group) == words


def test_cyclic_edges() -> None:
    edges = {"a": ["b"], "b": ["a", "c"], "c": [], "d": ["d"], "e": ["a"]}
    assert cyclic_edges(edges) == {("a", "b"), ("b", "a"), ("d", "d")}
