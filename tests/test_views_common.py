"""Decisions the three views share: method names inside a group are the same in every SDK."""

from __future__ import annotations

import pytest

from polysdk import ir
from polysdk.decisions import build_decisions
from polysdk.decisions.client import env_prefix
from polysdk.plan import Options
from polysdk.views import go, rust, typescript
from polysdk.views.common import method_words
from polysdk.walks import cyclic_edges


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


@pytest.mark.parametrize(
    ("title", "prefix", "npm"),
    [
        ("Orchestrator API", "ORCHESTRATOR", "orchestrator-sdk"),
        ("Acme SDK", "ACME", "acme-sdk"),
        ("3D Printer API", "N3D_PRINTER", "3d-printer-sdk"),
        ("Café-Bar (beta)", "CAFE_BAR_BETA", "cafe-bar-beta-sdk"),
    ],
)
def test_one_env_prefix_for_every_language(title: str, prefix: str, npm: str) -> None:
    """The three SDKs read the same environment variables: the prefix is decided once."""
    api = ir.Api(title, "1", ir.Docs(), servers=(), tags=(), types=(), operations=(), security_schemes=())
    assert env_prefix(api) == prefix
    assert typescript.npm_name(api, Options()) == npm
    go_client = go.plan(build_decisions(api), Options()).files[0].context["client"]
    rust_context = rust.plan(build_decisions(api), Options()).files[0].context
    ts_client = typescript.client(build_decisions(api), typescript.TsTypes(api), Options())
    assert (go_client.env_prefix, rust_context["env_prefix_plain"], ts_client.env_prefix) == (prefix,) * 3
    assert go_client.env_api_key == f'"{prefix}_API_KEY"'
    assert f'  envPrefix: "{prefix}",' in ts_client.info
