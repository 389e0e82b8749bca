"""The load mix: its order, its weights, and the raw exchanges the mock's load scenario answers."""

from __future__ import annotations

import base64
import http.client
import json
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from polysdk_conformance.load import plan
from polysdk_conformance.mock import MockServer
from polysdk_conformance.scenario import parse_scenario


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


def test_sequence_is_deterministic_and_honours_the_weights() -> None:
    weights = [entry.weight for entry in plan.MIX]
    order = plan.sequence(weights)
    assert order == plan.sequence(list(weights))
    divisor = 5  # the gcd of 20, 40, 15, 15, 10
    assert len(order) == sum(weights) // divisor
    assert Counter(order) == {index: weight // divisor for index, weight in enumerate(weights)}


def test_sequence_spreads_each_entry_rather_than_bursting() -> None:
    order = plan.sequence([3, 1])
    assert order == [0, 0, 1, 0]  # smooth weighted round robin, not [0, 0, 0, 1]
    heavy = plan.sequence([90, 10])
    assert max(len(run) for run in "".join(map(str, heavy)).split("1")) <= 9


@pytest.mark.parametrize("weights", [[], [0, 1], [-1]])
def test_sequence_refuses_weights_that_are_not_positive(weights: list[int]) -> None:
    with pytest.raises(ValueError, match="positive"):
        plan.sequence(weights)


def test_the_fault_mix_is_weighted_in_the_scenario() -> None:
    scenario = plan.scenario(plan.Faults(rate_limited=0.05, unavailable=0.005))
    statuses = {
        choice["response"].get("status", 200): choice["weight"]
        for choice in scenario["routes"][2]["responses"]
    }
    assert statuses == {200: 9_450, 429: 500, 503: 50}
    assert all(len(route["responses"]) == 1 for route in plan.scenario()["routes"])
    with pytest.raises(ValueError, match="fault fractions"):
        plan.Faults(rate_limited=0.6, unavailable=0.5)


def _send(mock: MockServer, base_url: str, raw: plan.RawRequest) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base_url + raw.path)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(raw.method, path, body=raw.body, headers=raw.headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_every_raw_request_is_answered_by_its_route_and_is_valid_for_the_contract(mock: MockServer) -> None:
    token = mock.register(plan.scenario())
    base = mock.url(token)
    try:
        for entry in plan.MIX:
            answers = [_send(mock, base, raw) for raw in entry.raw]
            assert all(status in (200, 201) for status, _, _ in answers), (entry.name, answers)
            if entry.name == "list":
                pages = [json.loads(body) for _, _, body in answers]
                # Exactly two pages: the first points at the second, which ends the walk.
                assert [page["next_cursor"] for page in pages] == ["c2", None]
            if entry.name == "stream":
                assert answers[0][2].count(b"\n\nevent: ") == 4 and b"run.completed" in answers[0][2]
            if entry.name == "download":
                assert answers[0][2] == plan.DOWNLOAD_BODY and len(answers[0][2]) == 64 * 1024
        journal = mock.journal(token)
    finally:
        mock.forget(token)
    assert len(journal) == sum(len(entry.raw) for entry in plan.MIX)
    assert all(entry["step"] != "unexpected" for entry in journal), journal
    assert [entry["violations"] for entry in journal] == [[]] * len(journal)
    # The create carries its Idempotency-Key and body as the SDK sends them.
    create = next(entry for entry in journal if entry["method"] == "POST")
    assert ["Idempotency-Key", plan.IDEMPOTENCY_KEY] in create["headers"]
    assert json.loads(base64.b64decode(create["body_base64"])) == {"name": "research-assistant"}


def test_a_page_request_with_another_query_matches_no_route() -> None:
    index = parse_scenario(plan.scenario()).index
    assert index is not None
    assert index.find("GET", "/v1/agents", "limit=2") == 0
    assert index.find("GET", "/v1/agents", "limit=2&cursor=c2") == 1  # canonical: order is free
    assert index.find("GET", "/v1/agents", "") is None
    with pytest.raises(ValueError, match="literal path"):
        parse_scenario(
            {
                "kind": "load",
                "routes": [{"method": "GET", "path": "/v1/agents/{id}", "query": "a=1", "responses": [{}]}],
            }
        )


def test_faults_are_answered_with_retry_after_ms(mock: MockServer) -> None:
    token = mock.register(plan.scenario(plan.Faults(rate_limited=0.5, unavailable=0.4), seed=1))
    get = plan.MIX[1].raw[0]
    try:
        answers = [_send(mock, mock.url(token), get) for _ in range(40)]
    finally:
        mock.forget(token)
    statuses = Counter(status for status, _, _ in answers)
    assert set(statuses) == {200, 429, 503}
    assert all(headers.get("Retry-After-Ms") == "1" for status, headers, _ in answers if status != 200)


def test_a_load_line_carries_the_mix_and_its_order() -> None:
    line = plan.load_line(
        line_id="load/open/go",
        base_url="http://127.0.0.1:1/t/x/",
        client_kind="sdk",
        model="open",
        rate_per_s=50,
        concurrency=16,
        duration_ms=1000,
        max_requests=50,
    )
    assert [entry["name"] for entry in line["mix"]] == ["list", "get", "create", "stream", "download"]
    assert line["mix"][2]["request"] == {"idempotency_key": plan.IDEMPOTENCY_KEY}
    assert line["mix"][0]["raw"][1]["path"] == "v1/agents?cursor=c2&limit=2"
    assert line["sequence"] == plan.sequence([entry.weight for entry in plan.MIX])
    assert line["rate_per_s"] == 50 and line["client"]["max_retries"] == 2
    with pytest.raises(ValueError, match="rate_per_s"):
        plan.load_line(
            line_id="x",
            base_url="http://127.0.0.1:1/",
            client_kind="raw",
            model="closed",
            rate_per_s=5,
            concurrency=1,
            duration_ms=1,
            max_requests=1,
        )
