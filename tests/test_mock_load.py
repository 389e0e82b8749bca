"""The mock as a load target: load scenarios, /metrics, the caps on its memory, and the compiled
route index that lets it validate requests without openapi-core's per-request cost."""

from __future__ import annotations

import base64
import http.client
import json
import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from polysdk_conformance import mock as mock_module
from polysdk_conformance.contract import ContractValidator, default_spec_path, load_spec
from polysdk_conformance.metrics import sdk_of
from polysdk_conformance.mock import UNEXPECTED_STATUS, MockServer
from polysdk_conformance.scenario import MAX_ROUTES, MAX_STEPS, parse_scenario

BEARER = ("Authorization", "Bearer test-token")
RUN = "5b0c2c1e-7a53-4c8e-9a51-2f4d8f1e6a10"
OK = {"kind": "json", "body": {"id": "agt_1", "name": "a"}}
UNAVAILABLE = {"kind": "json", "status": 503, "body": {"title": "unavailable"}}


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture(scope="module")
def validator() -> ContractValidator:
    return ContractValidator(load_spec(default_spec_path()))


class Client:
    """One keep-alive connection, as a load generator uses."""

    def __init__(self, mock: MockServer) -> None:
        host, port = mock.base_url.removeprefix("http://").rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=10)

    def send(
        self, method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b""
    ) -> tuple[int, bytes]:
        self.conn.request(method, target, body=body or None, headers=dict(headers or []))
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def load(*routes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"kind": "load", "routes": list(routes), **extra}


def route(method: str, path: str, *responses: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "method": method,
        "path": path,
        "responses": [{"weight": weight, "response": response} for weight, response in responses],
    }


def statuses(mock: MockServer, token: str, targets: list[str]) -> list[int]:
    client = Client(mock)
    try:
        return [client.send("GET", f"/t/{token}{target}", [BEARER])[0] for target in targets]
    finally:
        client.close()


# -- load scenarios -------------------------------------------------------------------------------


def test_a_load_route_answers_beyond_any_step_limit_with_its_weights(mock: MockServer) -> None:
    token = mock.register(load(route("GET", "/v1/agents/{agent_id}", (80, OK), (20, UNAVAILABLE)), seed=3))
    seen = Counter(statuses(mock, token, [f"/v1/agents/agt_{i}" for i in range(1_500)]))
    assert sum(seen.values()) == 1_500 and set(seen) == {200, 503}
    assert 0.15 < seen[503] / 1_500 < 0.25, seen  # 20 % within a wide margin: 1,500 seeded draws
    report = mock.report(token)
    assert report["played"] == [
        {"method": "GET", "path": "/v1/agents/{agent_id}", "responses": [seen[200], seen[503]]}
    ]
    assert report["violating_requests"] == 0 and report["unexpected"] == []


def test_a_seed_makes_the_choices_repeatable(mock: MockServer) -> None:
    scenario = load(route("GET", "/v1/agents/{agent_id}", (1, OK), (1, UNAVAILABLE)), seed=42)
    runs = [statuses(mock, mock.register(scenario), ["/v1/agents/a"] * 50) for _ in range(2)]
    assert runs[0] == runs[1] and set(runs[0]) == {200, 503}


def test_load_routes_are_found_by_method_and_path_through_the_index(mock: MockServer) -> None:
    teapot = {"kind": "json", "status": 202, "body": {}}
    token = mock.register(
        load(
            route("GET", "/v1/agents/{agent_id}", (1, OK)),
            route("GET", "/v1/agents/special", (1, teapot)),  # a literal path beats any template
            route("POST", "/v1/runs/{run_id}:cancel", (1, teapot)),
            route("GET", "/v1/agents", (1, {"kind": "json", "body": {"data": []}})),
        )
    )
    index = parse_scenario(load(route("GET", "/v1/agents/{agent_id}", (1, OK)))).index
    assert (
        index is not None
        and index.find("GET", "/v1/agents/x") == 0
        and index.find("PUT", "/v1/agents/x") is None
    )
    client = Client(mock)
    try:
        assert client.send("GET", f"/t/{token}/v1/agents/abc", [BEARER])[0] == 200
        assert client.send("GET", f"/t/{token}/v1/agents/special", [BEARER])[0] == 202
        assert client.send("POST", f"/t/{token}/v1/runs/{RUN}:cancel", [BEARER])[0] == 202
        assert client.send("GET", f"/t/{token}/v1/agents?limit=5", [BEARER])[0] == 200
        status, body = client.send("DELETE", f"/t/{token}/v1/agents/abc", [BEARER])
    finally:
        client.close()
    assert status == UNEXPECTED_STATUS and b"no route of the load scenario matches" in body
    assert [entry["step"] for entry in mock.journal(token)] == [0, 1, 2, 3, "unexpected"]


def test_a_load_journal_keeps_its_limit_and_counts_the_rest(mock: MockServer) -> None:
    token = mock.register(load(route("GET", "/v1/agents/{agent_id}", (1, OK)), journal_limit=5))
    statuses(mock, token, ["/v1/agents/a"] * 12)
    report = mock.report(token)
    assert len(report["journal"]) == 5 and report["journal_dropped"] == 7
    assert [entry["seq"] for entry in report["journal"]] == [0, 1, 2, 3, 4]
    assert mock.wait_for(token, requests=12, responses=12, timeout=5)


def test_violations_are_counted_past_the_journal(mock: MockServer) -> None:
    token = mock.register(load(route("GET", "/v1/runs/{run_id}", (1, OK)), journal_limit=1))
    statuses(mock, token, ["/v1/runs/not-a-uuid"] * 3)
    report = mock.report(token)
    assert report["violating_requests"] == 3
    assert any("uuid" in violation for violation in report["journal"][0]["violations"])


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        (load(route("GET", "/v1/a/{x", (1, OK))), "routes[0].path"),
        (load(route("GET", "/v1/a", (0, OK))), "weight: 0 must be between 1"),
        ({"kind": "load", "routes": []}, "'routes' must be a non-empty list"),
        ({"kind": "load", "steps": []}, "unknown field(s) steps"),
        ({"kind": "soak", "steps": []}, "scenario.kind"),
        (load(route("GET", "/v1/a", (1, OK)), seed="x"), "scenario.seed"),
    ],
)
def test_malformed_load_scenarios_are_refused(mock: MockServer, scenario: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        mock.register(scenario)


# -- caps -----------------------------------------------------------------------------------------


def control(mock: MockServer, payload: Any) -> tuple[int, dict[str, Any]]:
    client = Client(mock)
    try:
        status, body = client.send("POST", "/_mock/scenarios", body=json.dumps(payload).encode())
    finally:
        client.close()
    return status, json.loads(body)


def test_oversized_scenarios_get_413(mock: MockServer) -> None:
    steps = [{"request": {"method": "GET", "path": "/x"}, "response": OK}] * (MAX_STEPS + 1)
    status, body = control(mock, {"steps": steps})
    assert status == 413 and f"more than the {MAX_STEPS}" in body["mock_error"]
    routes = [route("GET", f"/r{i}", (1, OK)) for i in range(MAX_ROUTES + 1)]
    status, body = control(mock, load(*routes))
    assert status == 413 and f"more than the {MAX_ROUTES}" in body["mock_error"]


def test_too_many_scenarios_get_429(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mock_module, "MAX_SCENARIOS", 2)
    with MockServer(validate=False) as server:
        scenario = load(route("GET", "/a", (1, OK)))
        first = server.register(scenario)
        server.register(scenario)
        status, body = control(server, scenario)
        assert status == 429 and "2 scenarios are registered" in body["mock_error"]
        server.forget(first)
        assert control(server, scenario)[0] == 201


def test_a_step_scenario_whose_journal_is_full_answers_413(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mock_module, "MAX_JOURNAL_BYTES", 10)
    with MockServer(validate=False) as server:
        ok = {"request": {"method": "POST", "path": "/a"}, "response": OK, "times": 3}
        token = server.register({"steps": [ok]})
        client = Client(server)
        try:
            first = client.send("POST", f"/t/{token}/a", body=b"12345678")
            second = client.send("POST", f"/t/{token}/a", body=b"12345678")
        finally:
            client.close()
        assert first[0] == 200
        assert second[0] == 413 and b"journal is full" in second[1]
        report = server.report(token)
        assert len(report["journal"]) == 1 and report["journal_dropped"] == 1


# -- metrics --------------------------------------------------------------------------------------


def scrape(mock: MockServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    client = Client(mock)
    try:
        status, body = client.send("GET", "/metrics")
    finally:
        client.close()
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode("utf-8"))
        for sample in family.samples
    }


def requests_total(samples: dict[Any, float], operation: str, status: str, sdk: str) -> float:
    key = ("polysdk_mock_requests_total", (("operation", operation), ("sdk", sdk), ("status", status)))
    return samples.get(key, 0.0)


def test_metrics_count_requests_by_operation_status_and_sdk_with_faults_as_5xx() -> None:
    with MockServer() as server:
        token = server.register(
            load(
                route("GET", "/v1/agents/{agent_id}", (1, OK)),
                route("GET", "/v1/runs/{run_id}", (1, UNAVAILABLE)),
            )
        )
        agents = {
            "orchestrator-sdk-go/0.1.0 (go)": 3,
            "orchestrator-sdk-rust/0.1.0 (rust)": 2,
            "@polysdk/orchestrator/0.1.0 (typescript)": 1,
            "curl/8.0": 4,
        }
        client = Client(server)
        try:
            for agent, count in agents.items():
                for _ in range(count):
                    client.send("GET", f"/t/{token}/v1/agents/a", [BEARER, ("User-Agent", agent)])
            for _ in range(2):
                client.send("GET", f"/t/{token}/v1/runs/{RUN}", [BEARER, ("User-Agent", "x (go)")])
            client.send("GET", f"/t/{token}/nowhere", [BEARER])
        finally:
            client.close()
        samples = scrape(server)
    assert requests_total(samples, "getAgent", "200", "go") == 3
    assert requests_total(samples, "getAgent", "200", "rust") == 2
    assert requests_total(samples, "getAgent", "200", "typescript") == 1
    assert requests_total(samples, "getAgent", "200", "other") == 4
    assert requests_total(samples, "getRun", "503", "other") == 2  # a scripted fault is a 5xx
    assert requests_total(samples, "unknown", str(UNEXPECTED_STATUS), "other") == 1
    count = ("polysdk_mock_request_duration_seconds_count", (("operation", "getAgent"), ("sdk", "go")))
    assert samples[count] == 3
    fastest = (
        "polysdk_mock_request_duration_seconds_bucket",
        (("le", "5e-05"), ("operation", "getAgent"), ("sdk", "go")),
    )
    assert fastest in samples  # sub-millisecond buckets exist for loopback percentiles


def test_a_connect_call_counts_under_its_methods_operation() -> None:
    """A Connect unary call (POST /<package>.<Service>/<Method>) matches no OpenAPI route: the
    metrics name it by its method's operation id, so the proto SDKs' load shows per operation."""
    with MockServer() as server:
        token = server.register(load(route("GET", "/v1/agents/{agent_id}", (1, OK))))
        client = Client(server)
        try:
            for path in ("polysdk.orchestrator.v1.OrchestratorService/GetAgent", "a.B/NoSuchMethod", "x/y"):
                client.send("POST", f"/t/{token}/{path}", [BEARER, ("User-Agent", "x (rust)")])
        finally:
            client.close()
        samples = scrape(server)
    labelled = {
        dict(labels)["operation"]
        for (name, labels), value in samples.items()
        if name == "polysdk_mock_requests_total" and value
    }
    assert labelled == {"getAgent", "unknown"}
    assert server.metrics.connect_label("/polysdk.orchestrator.v1.RunEventService/StreamRunEvents") == (
        "streamRunEvents"
    )


def test_metrics_count_contract_violations() -> None:
    with MockServer() as server:
        token = server.register(load(route("GET", "/v1/runs/{run_id}", (1, OK))))
        statuses(server, token, ["/v1/runs/nope", f"/v1/runs/{RUN}"])
        samples = scrape(server)
    key = ("polysdk_mock_contract_violations_total", (("operation", "getRun"), ("sdk", "other")))
    assert samples[key] == 1


@pytest.mark.parametrize(
    ("agent", "sdk"),
    [
        ("orchestrator-sdk-go/0.1.0 (go)", "go"),
        ("orchestrator/0.1.0 (rust)", "rust"),
        ("orchestrator-sdk/0.1.0 (typescript)", "typescript"),
        ("@scope/pkg/0.1.0 (typescript)", "typescript"),
        ("a/b/0.1.0 (typescript)", "other"),  # not the generated form: [@scope/]name/version (lang)
        ("pkg/0.1.0 (python)", "other"),
        (None, "other"),
    ],
)
def test_the_sdk_label_comes_from_the_generated_user_agents(agent: str | None, sdk: str) -> None:
    assert sdk_of(agent) == sdk


# -- the compiled route index agrees with openapi-core --------------------------------------------

AUTH = [BEARER, ("Accept", "application/json")]
JSON = [*AUTH, ("Content-Type", "application/json")]
AGENT = json.dumps({"name": "a", "capabilities": ["x"], "max_concurrency": 2}).encode()
Request = tuple[str, str, str, list[tuple[str, str]], bytes]
CLEAN: list[Request] = [
    ("GET", "/v1/agents", "limit=5", AUTH, b""),
    ("GET", "/v1/agents", "", [("X-API-Key", "k")], b""),
    ("GET", "/v1/agents/abc", "", AUTH, b""),
    ("GET", f"/v1/runs/{RUN}", "", AUTH, b""),
    ("GET", "/health", "", [], b""),
    ("POST", "/v1/agents", "", JSON, AGENT),  # only openapi-core's readOnly notes
]
UNSURE_OR_FAULTY: list[Request] = [
    ("GET", "/v1/agents", "limit=500", AUTH, b""),
    ("GET", "/v1/agents", "limit=abc", AUTH, b""),
    ("GET", "/v1/agents", "limit=99999999999", AUTH, b""),
    ("GET", "/v1/agents", "limit=5", [], b""),
    ("GET", "/v1/agents", "limit=5", [("Authorization", "Basic x")], b""),
    ("GET", "/v1/agents", "status=online&status=busy", AUTH, b""),
    ("GET", "/v1/agents", "labels[team]=research", AUTH, b""),
    ("GET", "/v1/agents", "foo=1", AUTH, b""),
    ("GET", "/v1/agents/a%2Fb", "", AUTH, b""),
    ("GET", "/v1/runs/abc", "", AUTH, b""),
    ("POST", f"/v1/runs/{RUN}:cancel", "", AUTH, b""),
    ("DELETE", "/v1/plans", "", AUTH, b""),
    ("GET", "/nope", "", AUTH, b""),
    ("POST", "/v1/agents", "", JSON, b"{}"),
    ("POST", "/v1/agents", "", JSON, b'{"name": 5}'),
    ("POST", "/v1/agents", "", JSON, b"not json"),
    ("POST", "/v1/agents", "", JSON, b""),
    ("POST", "/v1/agents", "", [*AUTH, ("Content-Type", "text/plain")], AGENT),
    ("POST", "/v1/agents", "", [*AUTH, ("Content-Type", "application/json; charset=utf-8")], AGENT),
]


@pytest.mark.parametrize("request_", CLEAN + UNSURE_OR_FAULTY, ids=lambda r: f"{r[0]} {r[1]}?{r[2]}")
def test_the_route_index_gives_openapi_cores_findings_or_defers(
    validator: ContractValidator, request_: Request
) -> None:
    quick = validator.quick_check(*request_)
    full = validator.check(*request_)
    assert quick is None or quick == full
    if request_ in CLEAN:
        assert quick is not None and full.violations == []  # the fast path serves these


def test_expect_100_continue_is_answered_before_the_body(mock: MockServer) -> None:
    token = mock.register(load(route("POST", "/a", (1, OK)), validate=False))
    host, port = mock.base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = f"POST /t/{token}/a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        sock.sendall(head.encode("ascii"))
        interim = sock.recv(64)
        sock.sendall(b"{}")
        final = sock.recv(4096)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert final.startswith(b"HTTP/1.1 200 ")
    [entry] = mock.journal(token)
    assert base64.b64decode(entry["body_base64"]) == b"{}"
