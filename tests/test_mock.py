"""The mock orchestrator, exercised over real loopback HTTP with the standard library's clients."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from polysdk_conformance.mock import UNEXPECTED_STATUS, MockServer

BEARER = ("Authorization", "Bearer test-token")
Reply = tuple[int, list[tuple[str, str]], bytes]


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


def connect(mock: MockServer, timeout: float = 5.0) -> http.client.HTTPConnection:
    host, port = mock.base_url.removeprefix("http://").rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def send(
    mock: MockServer,
    method: str,
    target: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
) -> Reply:
    """One request with headers sent exactly in the given order and case."""
    conn = connect(mock)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", mock.base_url.removeprefix("http://"))
        for name, value in headers or []:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def step(method: str, path: str, response: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"request": {"method": method, "path": path}, "response": response, **extra}


def test_json_response_and_journal_keep_the_wire_form(mock: MockServer) -> None:
    token = mock.register(
        {
            "steps": [
                step(
                    "PUT",
                    "/v1/agents/a%2Fb%20%C3%A9",
                    {
                        "kind": "json",
                        "status": 201,
                        "headers": {"X-Request-Id": "req-1"},
                        "body": {"id": "a/b"},
                    },
                )
            ]
        }
    )
    status, headers, body = send(
        mock,
        "PUT",
        f"/t/{token}/v1/agents/a%2Fb%20%C3%A9?z=1&a=%2C",
        [("x-Zeta", "1"), BEARER, ("Content-Type", "application/json"), ("X-alpha", "2")],
        b'{"name": "n"}',
    )
    assert status == 201
    assert json.loads(body) == {"id": "a/b"}
    assert ("X-Request-Id", "req-1") in headers
    assert dict(headers)["Content-Type"] == "application/json"

    [entry] = mock.journal(token)
    assert entry["method"] == "PUT"
    assert entry["path"] == "/v1/agents/a%2Fb%20%C3%A9"  # still percent-encoded
    assert entry["query"] == "z=1&a=%2C"
    names = [name for name, _ in entry["headers"]]
    assert names == ["Host", "x-Zeta", "Authorization", "Content-Type", "X-alpha", "Content-Length"]
    assert base64.b64decode(entry["body_base64"]) == b'{"name": "n"}'
    assert entry["step"] == 0
    assert entry["time_ms"] >= 0
    assert entry["connection"].startswith("127.0.0.1:")
    assert mock.unexpected(token) == []
    assert mock.unmatched_steps(token) == []


def test_tokens_are_isolated_when_used_in_parallel(mock: MockServer) -> None:
    tokens = [
        mock.register({"steps": [step("GET", "/v1/plans/p", {"kind": "text", "body": f"plan {i}"})]})
        for i in range(2)
    ]
    replies: dict[int, Reply] = {}

    def call(i: int) -> None:
        replies[i] = send(mock, "GET", f"/t/{tokens[i]}/v1/plans/p", [BEARER])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [replies[i][2] for i in range(2)] == [b"plan 0", b"plan 1"]
    assert dict(replies[0][1])["Content-Type"].startswith("text/plain")
    for token in tokens:
        assert [entry["step"] for entry in mock.journal(token)] == [0]


def test_repeated_step_scripts_retries_and_the_journal_counts_attempts(mock: MockServer) -> None:
    token = mock.register(
        {
            "steps": [
                step("POST", "/v1/runs", {"kind": "json", "status": 503, "body": {"title": "busy"}}, times=2),
                step("POST", "/v1/runs", {"kind": "json", "status": 201, "body": {"id": "r"}}),
            ]
        }
    )
    statuses = [
        send(mock, "POST", f"/t/{token}/v1/runs", [BEARER, ("Idempotency-Key", "k-1")], b"{}")[0]
        for _ in range(3)
    ]
    assert statuses == [503, 503, 201]
    journal = mock.journal(token)
    assert [entry["step"] for entry in journal] == [0, 0, 1]
    assert [entry["seq"] for entry in journal] == [0, 1, 2]
    keys = {value for entry in journal for name, value in entry["headers"] if name == "Idempotency-Key"}
    assert keys == {"k-1"}
    assert journal[0]["time_ms"] <= journal[1]["time_ms"] <= journal[2]["time_ms"]


def test_fewer_retries_than_scripted_may_move_on_but_are_reported(mock: MockServer) -> None:
    token = mock.register(
        {
            "steps": [
                step("GET", "/health", {"kind": "json", "status": 503, "body": {}}, times=3),
                step("GET", "/metrics", {"kind": "text", "body": "m 1"}),
                step("GET", "/health", {"kind": "json", "body": {"status": "ok"}}),
            ]
        }
    )
    assert send(mock, "GET", f"/t/{token}/health")[0] == 503
    assert send(mock, "GET", f"/t/{token}/metrics")[0] == 200
    assert mock.unmatched_steps(token) == [
        {"step": 0, "method": "GET", "path": "/health", "times": 3, "received": 1},
        {"step": 2, "method": "GET", "path": "/health", "times": 1, "received": 0},
    ]


def test_a_step_never_reached_cannot_be_skipped(mock: MockServer) -> None:
    token = mock.register(
        {
            "steps": [
                step("GET", "/health", {"kind": "json", "body": {}}),
                step("GET", "/metrics", {"kind": "text"}),
            ]
        }
    )
    assert send(mock, "GET", f"/t/{token}/metrics")[0] == UNEXPECTED_STATUS
    assert "step 0 (GET /health)" in mock.unexpected(token)[0]["mismatch"]


def test_unexpected_request_gets_a_diagnostic_and_unreached_steps_are_reported(mock: MockServer) -> None:
    token = mock.register(
        {
            "steps": [
                step("GET", "/v1/agents", {"kind": "json", "body": {"data": []}}),
                step("DELETE", "/v1/agents/a", {"kind": "bytes", "status": 204}),
            ]
        }
    )
    status, _, body = send(mock, "POST", f"/t/{token}/v1/agents", [BEARER], b"{}")
    assert status == UNEXPECTED_STATUS
    diagnostic = json.loads(body)
    assert "unexpected request" in diagnostic["mock_error"]
    assert "step 0 (GET /v1/agents)" in diagnostic["mock_error"]
    [entry] = mock.unexpected(token)
    assert entry["step"] == "unexpected"
    assert entry["method"] == "POST"
    assert "method POST != GET" in entry["mismatch"]
    assert [s["step"] for s in mock.unmatched_steps(token)] == [0, 1]


def test_request_matchers_check_query_headers_and_json_body(mock: MockServer) -> None:
    expected = {
        "method": "POST",
        "path": "/v1/plans",
        "query": "dry_run=true",
        "headers": {"content-type": "application/json"},
        "body_json": {"goal": "g", "n": 1},
    }
    token = mock.register(
        {"steps": [{"request": expected, "response": {"kind": "json", "status": 201, "body": {}}}]}
    )
    json_type = ("Content-Type", "application/json")
    assert send(mock, "POST", f"/t/{token}/v1/plans?dry_run=false", [json_type], b"{}")[0] == 418
    wrong_body = b'{"goal": "x", "n": 1}'
    assert send(mock, "POST", f"/t/{token}/v1/plans?dry_run=true", [json_type], wrong_body)[0] == 418
    body = b'{"n": 1, "goal": "g"}'
    assert send(mock, "POST", f"/t/{token}/v1/plans?dry_run=true", [json_type], body)[0] == 201
    mismatches = [entry["mismatch"] for entry in mock.unexpected(token)]
    assert "query" in mismatches[0]
    assert "body differs from body_json" in mismatches[1]


def test_unknown_token_gets_404_naming_it(mock: MockServer) -> None:
    status, _, body = send(mock, "GET", "/t/no-such-token/v1/agents")
    assert status == 404
    assert "no-such-token" in json.loads(body)["mock_error"]
    status, _, body = send(mock, "GET", "/v1/agents")
    assert status == 404
    assert "/t/<token>/" in json.loads(body)["mock_error"]


def parse_sse(raw: bytes) -> list[dict[str, str]]:
    events = []
    for block in raw.decode("utf-8").split("\n\n"):
        if not block:
            continue
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            fields[name] = f"{fields[name]}\n{value}" if name in fields else value
        events.append(fields)
    return events


def test_sse_events_arrive_in_order_with_ids_and_multi_line_data(mock: MockServer) -> None:
    events = [
        {"comment": "keep-alive"},
        {"event": "run.started", "id": "1", "data": '{"seq": 1}', "retry": 1500},
        {"event": "log", "id": "2", "data": "line one\nline two", "delay_ms": 50},
        {"id": "3", "data": "last"},
    ]
    token = mock.register(
        {"steps": [step("GET", "/v1/runs/r/events:stream", {"kind": "sse", "events": events})]}
    )
    started = time.monotonic()
    status, headers, body = send(mock, "GET", f"/t/{token}/v1/runs/r/events:stream", [BEARER])
    assert status == 200
    assert time.monotonic() - started >= 0.05
    assert dict(headers)["Content-Type"] == "text/event-stream"
    assert parse_sse(body) == [
        {"": "keep-alive"},
        {"event": "run.started", "id": "1", "retry": "1500", "data": '{"seq": 1}'},
        {"event": "log", "id": "2", "data": "line one\nline two"},
        {"id": "3", "data": "last"},
    ]


def test_sse_stream_dropped_after_n_events(mock: MockServer) -> None:
    events = [{"id": str(i), "data": f"e{i}"} for i in range(5)]
    token = mock.register({"steps": [step("GET", "/s", {"kind": "sse", "events": events, "drop_after": 2})]})
    conn = connect(mock)
    try:
        conn.request("GET", f"/t/{token}/s")
        response = conn.getresponse()
        assert response.status == 200
        with pytest.raises(http.client.IncompleteRead) as caught:
            response.read()
        assert parse_sse(caught.value.partial) == [{"id": "0", "data": "e0"}, {"id": "1", "data": "e1"}]
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("response", "error"),
    [
        ({"kind": "reset"}, ConnectionResetError),
        ({"kind": "truncated", "body": '{"id": "a'}, http.client.IncompleteRead),
        ({"kind": "garbage"}, http.client.BadStatusLine),
    ],
    ids=["reset", "truncated", "garbage"],
)
def test_faults_surface_as_client_errors(
    mock: MockServer, response: dict[str, Any], error: type[Exception]
) -> None:
    token = mock.register({"steps": [step("GET", "/v1/agents", response)]})
    conn = connect(mock)
    try:
        with pytest.raises(error):
            conn.request("GET", f"/t/{token}/v1/agents", headers=dict([BEARER]))
            conn.getresponse().read()
    finally:
        conn.close()
    assert [entry["step"] for entry in mock.journal(token)] == [0]


def test_delay_is_honoured(mock: MockServer) -> None:
    token = mock.register(
        {"steps": [step("GET", "/health", {"kind": "text", "body": "ok", "delay_ms": 200})]}
    )
    started = time.monotonic()
    assert send(mock, "GET", f"/t/{token}/health")[2] == b"ok"
    assert time.monotonic() - started >= 0.2  # a lower bound only: a loaded machine adds time


def test_contract_validation_flags_a_wrong_query_type_and_passes_a_valid_request(mock: MockServer) -> None:
    ok = {"kind": "json", "body": {"data": [], "has_more": False}}
    token = mock.register({"steps": [step("GET", "/v1/agents", ok, times=2)]})
    send(mock, "GET", f"/t/{token}/v1/agents?limit=abc", [BEARER])
    send(mock, "GET", f"/t/{token}/v1/agents?limit=5&status=online&status=busy", [BEARER])
    bad, good = mock.journal(token)
    assert any("limit" in violation for violation in bad["violations"]), bad["violations"]
    assert good["violations"] == []


def test_contract_validation_flags_missing_credentials(mock: MockServer) -> None:
    token = mock.register({"steps": [step("GET", "/v1/agents", {"kind": "json", "body": {}})]})
    send(mock, "GET", f"/t/{token}/v1/agents")
    [entry] = mock.journal(token)
    assert any("Security" in violation for violation in entry["violations"])


def test_contract_validation_notes_what_openapi_core_cannot_check(mock: MockServer) -> None:
    run = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    path = f"/v1/runs/{run}/artifacts"
    token = mock.register({"steps": [step("POST", path, {"kind": "json", "status": 201, "body": {}})]})
    send(
        mock,
        "POST",
        f"/t/{token}{path}?filename=a.bin",
        [BEARER, ("Content-Type", "application/octet-stream")],
        b"\0",
    )
    [entry] = mock.journal(token)
    assert entry["violations"] == []
    assert entry["notes"] == ["skipped: openapi-core cannot validate a binary body against its 3.1 schema"]


def test_empty_body_gets_no_default_content_type(mock: MockServer) -> None:
    token = mock.register({"steps": [step("DELETE", "/v1/agents/a", {"kind": "bytes", "status": 204})]})
    status, headers, body = send(mock, "DELETE", f"/t/{token}/v1/agents/a", [BEARER])
    assert (status, body) == (204, b"")
    assert "Content-Type" not in dict(headers)


def test_oversized_body_gets_413(mock: MockServer) -> None:
    token = mock.register({"steps": [step("POST", "/v1/runs/r/artifacts", {"kind": "json", "body": {}})]})
    status, _, body = send(
        mock, "POST", f"/t/{token}/v1/runs/r/artifacts", [BEARER], b"x" * (16 * 1024 * 1024 + 1)
    )
    assert status == 413
    assert "larger than" in json.loads(body)["mock_error"]
    [entry] = mock.journal(token)
    assert entry["step"] == "unexpected"
    assert mock.unmatched_steps(token)[0]["received"] == 0


def control(mock: MockServer, method: str, path: str, data: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(f"{mock.base_url}{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_control_api_round_trip(mock: MockServer) -> None:
    scenario = {"steps": [step("GET", "/health", {"kind": "json", "body": {"status": "ok"}})]}
    status, created = control(mock, "POST", "/_mock/scenarios", json.dumps(scenario).encode())
    assert status == 201
    token = created["token"]
    assert created["base_url"] == f"{mock.base_url}/t/{token}/"
    with urllib.request.urlopen(f"{created['base_url']}health", timeout=5) as response:
        assert json.loads(response.read()) == {"status": "ok"}
    status, report = control(mock, "GET", f"/_mock/scenarios/{token}/journal")
    assert status == 200
    assert [entry["path"] for entry in report["journal"]] == ["/health"]
    assert report["unexpected"] == [] and report["unmatched_steps"] == []
    assert control(mock, "DELETE", f"/_mock/scenarios/{token}")[0] == 200
    status, gone = control(mock, "GET", f"/_mock/scenarios/{token}/journal")
    assert status == 404 and token in gone["mock_error"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not valid JSON"),
        (
            b'{"steps": [{"request": {"method": "GET"}, "response": {"kind": "json"}}]}',
            "steps[0].request.path",
        ),
    ],
)
def test_control_api_rejects_bad_scenarios_with_400(mock: MockServer, payload: bytes, message: str) -> None:
    status, diagnostic = control(mock, "POST", "/_mock/scenarios", payload)
    assert status == 400
    assert message in diagnostic["mock_error"]


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ([], "expected a JSON object"),
        (
            {"steps": [{"request": {"method": "GET", "path": "x"}, "response": {"kind": "json"}}]},
            "starting with '/'",
        ),
        ({"steps": [step("GET", "/a", {"kind": "teapot"})]}, "steps[0].response.kind"),
        ({"steps": [step("GET", "/a", {"kind": "json", "delay_ms": 60_000})]}, "between 0 and 30000"),
        ({"steps": [step("GET", "/a", {"kind": "bytes", "body_base64": "***"})]}, "not valid base64"),
        ({"steps": [step("GET", "/a", {"kind": "json"}, times=0)]}, "steps[0].times"),
        ({"steps": [step("GET", "/a", {"kind": "json", "bogus": 1})]}, "unknown field(s) bogus"),
    ],
)
def test_register_rejects_malformed_scenarios(mock: MockServer, scenario: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        mock.register(scenario)


def test_standalone_main_prints_its_base_url_and_stops_on_interrupt() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "polysdk_conformance.mock", "--port", "0", "--no-validate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{base_url}/t/nobody/x", timeout=60) as response:
            pytest.fail(f"expected 404, got {response.status}")
    except urllib.error.HTTPError as exc:
        with exc:
            assert exc.code == 404
    finally:
        process.send_signal(signal.SIGINT)
        try:
            # The exit is the event waited on; the timeout only guards against a hang.
            assert process.wait(timeout=120) == 0
        finally:
            process.kill()
            process.communicate(timeout=5)


def test_stop_releases_threads_and_the_port() -> None:
    before = set(threading.enumerate())
    server = MockServer()
    base_url = server.start()
    port = int(base_url.rsplit(":", 1)[1])
    slow = {"kind": "text", "body": "late", "delay_ms": 30_000}
    token = server.register({"steps": [step("GET", "/health", {"kind": "text"}), step("GET", "/slow", slow)]})
    assert send(server, "GET", f"/t/{token}/health")[0] == 200  # runs a contract check in the executor
    # A request still in flight (a long delay) must not hold shutdown up: the client sees its
    # connection closed, not the late answer a stop that waited would have let through.
    conn = connect(server, timeout=120)
    conn.request("GET", f"/t/{token}/slow")
    assert server.wait_for(token, requests=2, timeout=120)
    server.stop()
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        conn.getresponse().read()
    conn.close()
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_second_origin_redirect_target_and_absent_headers(mock: MockServer) -> None:
    """`{mock_other}` names the scenario on the second port; a step can demand a request arrive
    there and without credentials (what a cross-origin redirect must look like)."""
    token = mock.register(
        {
            "steps": [
                step("GET", "/a", {"kind": "text", "status": 307, "headers": {"Location": "{mock_other}b"}}),
                {
                    "request": {
                        "method": "GET",
                        "path": "/b",
                        "origin": "other",
                        "absent_headers": ["Authorization"],
                    },
                    "response": {"kind": "text", "body": "there"},
                },
            ]
        }
    )
    status, headers, _ = send(mock, "GET", f"/t/{token}/a", [BEARER])
    assert status == 307
    location = dict(headers)["Location"]
    assert location == f"{mock.other_base_url}/t/{token}/b" and mock.other_base_url != mock.base_url

    # Credentials on the other origin: no match, a diagnostic and the reason in the journal.
    host, port = mock.other_base_url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", f"/t/{token}/b", headers=dict([BEARER]))
        refused = conn.getresponse()
        refused.read()
        assert refused.status == UNEXPECTED_STATUS
        conn.request("GET", f"/t/{token}/b")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"there")
    finally:
        conn.close()
    journal = mock.journal(token)
    assert [entry["origin"] for entry in journal] == ["primary", "other", "other"]
    assert "Authorization was sent but must not be" in journal[1]["mismatch"]

    # The same path on the primary origin does not play a step meant for the other one.
    again = mock.register(
        {
            "steps": [
                {"request": {"method": "GET", "path": "/b", "origin": "other"}, "response": {"kind": "text"}}
            ]
        }
    )
    assert send(mock, "GET", f"/t/{again}/b")[0] == UNEXPECTED_STATUS
    assert "expected at the other one" in mock.journal(again)[0]["mismatch"]


def test_gzip_and_large_bodies_stream_without_holding_them(mock: MockServer) -> None:
    import gzip
    import zlib

    token = mock.register(
        {
            "steps": [
                step("GET", "/small", {"kind": "json", "body": {"id": "a"}, "gzip": True}),
                step(
                    "GET",
                    "/bomb",
                    {
                        "kind": "large",
                        "prefix": '{"name":"',
                        "fill": "a",
                        "count": 8 << 20,
                        "suffix": '"}',
                        "gzip": True,
                    },
                ),
            ]
        }
    )
    status, headers, body = send(mock, "GET", f"/t/{token}/small")
    assert status == 200 and dict(headers)["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(body)) == {"id": "a"}

    status, headers, body = send(mock, "GET", f"/t/{token}/bomb")
    assert dict(headers)["Content-Encoding"] == "gzip"
    assert len(body) < 100_000  # 8 MiB of 'a' compresses about a thousandfold
    inflated = zlib.decompress(body, 31)
    assert len(inflated) == (8 << 20) + len('{"name":""}') and inflated.startswith(b'{"name":"aaa')


def test_a_large_gzip_body_compresses_each_distinct_chunk_once_into_one_valid_stream() -> None:
    """The repeated block is deflated once and its piece reused; gzip (CRC-32, size) still checks
    the whole body, a fill that does not divide the chunk size and an uneven remainder included."""
    import gzip

    from polysdk_conformance.mock import _gzip_repeated_chunks
    from polysdk_conformance.scenario import LargeBody

    body = LargeBody(b'{"name":"', b"xyz", 300_001, b'"}')
    pieces = list(_gzip_repeated_chunks(body.chunks(chunk_bytes=4096)))
    assert gzip.decompress(b"".join(pieces)) == b"".join(body.chunks())
    # prefix, 219 equal blocks and the remainder: the equal blocks are one and the same piece.
    block_pieces = pieces[2:-4]
    assert len(block_pieces) == 300_001 // (4096 // 3) and len({id(p) for p in block_pieces}) == 1


def test_hold_answers_nothing_until_the_client_leaves_and_wait_for_sees_it(mock: MockServer) -> None:
    """A held response ends when the client closes; wait_for tells the runner the request arrived
    (and, for a written response, that it was written) without any sleep."""
    token = mock.register(
        {
            "steps": [
                step("POST", "/up", {"kind": "hold"}),
                step("GET", "/done", {"kind": "text", "body": "ok"}),
            ]
        }
    )
    conn = connect(mock, timeout=30)
    conn.request("POST", f"/t/{token}/up", body=b"x" * 1000)
    assert mock.wait_for(token, requests=1, timeout=30)
    assert not mock.wait_for(token, responses=1, timeout=0.05)  # nothing answered
    conn.close()  # the client gives up: the mock lets go of the held response
    assert send(mock, "GET", f"/t/{token}/done")[2] == b"ok"
    assert mock.wait_for(token, requests=2, responses=1, timeout=30)
    assert [entry["step"] for entry in mock.journal(token)] == [0, 1]
    assert mock.report(token)["responded"] == 1
    mock.forget(token)
    assert not mock.wait_for(token, requests=5, timeout=30)  # a forgotten token does not block


def test_sse_hold_keeps_the_stream_open_after_its_events(mock: MockServer) -> None:
    token = mock.register(
        {"steps": [step("GET", "/s", {"kind": "sse", "events": [{"data": "e0"}], "hold": True})]}
    )
    sock = socket.create_connection(mock.base_url.removeprefix("http://").rsplit(":", 1), timeout=30)
    try:
        sock.sendall(f"GET /t/{token}/s HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = b""
        while b"data: e0\n\n" not in received:
            chunk = sock.recv(4096)
            assert chunk, "the stream ended instead of being held"
            received += chunk
    finally:
        sock.close()
    assert mock.wait_for(token, responses=1, timeout=30)  # ends once the client left


# -- the Connect protocol -------------------------------------------------------------------

CONNECT_STREAM = "application/connect+json"


def envelope(message: Any, flag: int = 0) -> bytes:
    payload = json.dumps(message, separators=(",", ":")).encode()
    return bytes([flag]) + len(payload).to_bytes(4, "big") + payload


def read_stream(mock: MockServer, token: str, path: str = "/s") -> tuple[int, dict[str, str], bytes]:
    """POSTs one enveloped request and reads the whole streamed answer."""
    conn = connect(mock, timeout=30)
    try:
        headers = {"Content-Type": CONNECT_STREAM, "Connect-Protocol-Version": "1"}
        conn.request("POST", f"/t/{token}{path}", body=envelope({"agentId": "a"}), headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def envelopes(data: bytes) -> list[tuple[int, Any]]:
    from polysdk_conformance.scenario import parse_envelopes

    found, rest = parse_envelopes(data)
    assert rest == b""
    return [(flag, json.loads(payload)) for flag, payload in found]


def connect_step(response: dict[str, Any], **request: Any) -> dict[str, Any]:
    return {"request": {"method": "POST", "path": "/s", **request}, "response": response}


def test_connect_stream_writes_messages_then_end_of_stream(mock: MockServer) -> None:
    token = mock.register(
        {
            "steps": [
                connect_step(
                    {"kind": "connect_stream", "messages": [{"n": 1}, {"n": 2}], "after_end": [{"n": 3}]},
                    body_json={"agentId": "a"},
                )
            ]
        }
    )
    status, headers, body = read_stream(mock, token)
    assert status == 200 and headers["Content-Type"] == CONNECT_STREAM
    assert envelopes(body) == [(0, {"n": 1}), (0, {"n": 2}), (2, {}), (0, {"n": 3})]
    assert mock.unexpected(token) == []


@pytest.mark.parametrize(
    ("end", "last"),
    [
        ({"error": {"code": "internal", "message": "boom", "details": [{"type": "t", "value": ""}]}}, True),
        ({"metadata": {"x-count": ["2"]}}, True),
        (None, False),
    ],
    ids=["error", "metadata", "missing"],
)
def test_connect_stream_end_of_stream_variants(mock: MockServer, end: Any, last: bool) -> None:
    token = mock.register(
        {"steps": [connect_step({"kind": "connect_stream", "messages": [{"n": 1}], "end": end})]}
    )
    found = envelopes(read_stream(mock, token)[2])
    assert found[0] == (0, {"n": 1})
    assert found[1:] == ([(2, end)] if last else [])


def test_connect_stream_hostile_envelopes(mock: MockServer) -> None:
    """A compressed flag, a declared length and a cut envelope are written byte for byte."""
    from polysdk_conformance.scenario import parse_envelopes

    flagged = mock.register(
        {"steps": [connect_step({"kind": "connect_stream", "envelopes": [{"flag": 1, "json": {"n": 1}}]})]}
    )
    assert envelopes(read_stream(mock, flagged)[2]) == [(1, {"n": 1}), (2, {})]
    cut = mock.register(
        {
            "steps": [
                connect_step(
                    {
                        "kind": "connect_stream",
                        "messages": [{"n": 1}],
                        "envelopes": [{"json": {"n": 2}, "cut": 7}],
                    }
                )
            ]
        }
    )
    found, rest = parse_envelopes(read_stream(mock, cut)[2])
    assert [flag for flag, _ in found] == [0]  # no end-of-stream: the body ends inside an envelope
    assert rest == envelope({"n": 2})[:7]
    declared = mock.register(
        {
            "steps": [
                connect_step(
                    {
                        "kind": "connect_stream",
                        "envelopes": [{"text": "ab", "declared_length": 1 << 30}],
                        "end": None,
                    }
                )
            ]
        }
    )
    body = read_stream(mock, declared)[2]
    assert body == b"\x00" + (1 << 30).to_bytes(4, "big") + b"ab"


def test_connect_stream_hold_keeps_the_stream_open_after_its_messages(mock: MockServer) -> None:
    token = mock.register(
        {"steps": [connect_step({"kind": "connect_stream", "messages": [{"n": 1}], "hold": True})]}
    )
    sock = socket.create_connection(mock.base_url.removeprefix("http://").rsplit(":", 1), timeout=30)
    try:
        request = (
            f"POST /t/{token}/s HTTP/1.1\r\nHost: x\r\nContent-Type: {CONNECT_STREAM}\r\n"
            f"Content-Length: 0\r\n\r\n"
        )
        sock.sendall(request.encode())
        received = b""
        while envelope({"n": 1})[5:] not in received:
            chunk = sock.recv(4096)
            assert chunk, "the stream ended instead of being held"
            received += chunk
        assert not mock.wait_for(token, responses=1, timeout=0.05)  # still held
    finally:
        sock.close()
    assert mock.wait_for(token, responses=1, timeout=30)  # ends once the client left


def test_an_enveloped_request_body_is_matched_by_its_json(mock: MockServer) -> None:
    token = mock.register(
        {
            "steps": [
                connect_step({"kind": "connect_stream", "messages": []}, body_json={"agentId": "a"}),
            ]
        }
    )
    bare = json.dumps({"agentId": "a"}).encode()
    streamed = [("Content-Type", CONNECT_STREAM)]
    assert send(mock, "POST", f"/t/{token}/s", streamed, bare)[0] == UNEXPECTED_STATUS  # not enveloped
    compressed = envelope({"agentId": "a"}, flag=1)
    assert send(mock, "POST", f"/t/{token}/s", streamed, compressed)[0] == UNEXPECTED_STATUS
    twice = envelope({"agentId": "a"}) * 2
    assert send(mock, "POST", f"/t/{token}/s", streamed, twice)[0] == UNEXPECTED_STATUS
    assert send(mock, "POST", f"/t/{token}/s", streamed, envelope({"agentId": "a"}))[0] == 200
    mismatches = [entry["mismatch"] for entry in mock.unexpected(token)]
    assert "not exactly one Connect envelope" in mismatches[0]
    assert "flag is 0x01" in mismatches[1]
    assert "1 complete" not in mismatches[2] and "2 complete" in mismatches[2]


def test_header_presence_and_pattern_matchers(mock: MockServer) -> None:
    request = {
        "present_headers": ["Connect-Protocol-Version"],
        "header_patterns": {"Connect-Timeout-Ms": "[0-9]+"},
    }
    ok = {"kind": "json", "body": {}}
    token = mock.register({"steps": [connect_step(ok, **request)]})
    path = f"/t/{token}/s"
    assert send(mock, "POST", path, [("Connect-Timeout-Ms", "100")], b"{}")[0] == UNEXPECTED_STATUS
    version = ("Connect-Protocol-Version", "1")
    assert send(mock, "POST", path, [version, ("Connect-Timeout-Ms", "1.5")], b"{}")[0] == UNEXPECTED_STATUS
    assert send(mock, "POST", path, [version, ("connect-timeout-ms", "2500")], b"{}")[0] == 200
    mismatches = [entry["mismatch"] for entry in mock.unexpected(token)]
    assert "header Connect-Protocol-Version is missing" in mismatches[0]
    assert "no value matching '[0-9]+'" in mismatches[1]


def test_a_scenario_registered_without_validation_is_noted_not_validated(mock: MockServer) -> None:
    from polysdk_conformance.mock import NOT_VALIDATED

    ok = {"kind": "json", "body": {}}
    token = mock.register({"validate": False, "steps": [step("POST", "/pkg.Service/Method", ok)]})
    assert (
        send(mock, "POST", f"/t/{token}/pkg.Service/Method", [("Content-Type", "application/json")], b"{}")[0]
        == 200
    )
    [entry] = mock.journal(token)
    assert entry["violations"] == [] and entry["notes"] == [NOT_VALIDATED]


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ({"kind": "connect_stream", "messages": {}}, "messages: expected a list"),
        ({"kind": "connect_stream", "hold": True, "end": {}}, "a held stream has no end"),
        ({"kind": "connect_stream", "end": {"error": {"message": "x"}}}, "a string 'code'"),
        ({"kind": "connect_stream", "end": {"trailers": {}}}, "unknown field(s) trailers"),
        (
            {"kind": "connect_stream", "envelopes": [{"json": 1, "cut": 2}, {"json": 2}]},
            "only the last envelope may be cut",
        ),
        ({"kind": "connect_stream", "envelopes": [{"json": 1, "text": "x"}]}, "one of json, text or base64"),
        ({"kind": "connect_stream", "envelopes": [{"flag": 256}]}, "between 0 and 255"),
    ],
)
def test_malformed_connect_streams_are_refused(
    mock: MockServer, response: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        mock.register({"steps": [connect_step(response)]})


def test_header_patterns_must_be_regular_expressions(mock: MockServer) -> None:
    with pytest.raises(ValueError, match="not a regular expression"):
        mock.register({"steps": [connect_step({"kind": "json"}, header_patterns={"X": "("})]})


@pytest.mark.parametrize("leaves", ["mid-body", "mid-body with a reset", "before a 100-continue"])
def test_a_client_that_leaves_is_journaled_without_a_logged_traceback(
    mock: MockServer, caplog: pytest.LogCaptureFixture, leaves: str
) -> None:
    """aiohttp logs "Error handling request" with a traceback when a handler raises; a client
    leaving mid-request ("Connection lost", "Cannot write to closing transport") is not a mock
    error and must not fill the console."""
    token = mock.register(
        {"steps": [{"request": {"method": "POST", "path": "/v1/agents"}, "response": {"kind": "json"}}]}
    )
    host, port = mock.base_url.removeprefix("http://").rsplit(":", 1)
    head = f"POST /t/{token}/v1/agents HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    caplog.set_level(logging.INFO, logger="aiohttp")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        if leaves == "before a 100-continue":
            sock.sendall(f"{head}Content-Length: 10\r\nExpect: 100-continue\r\n\r\n".encode())
        else:
            sock.sendall(f'{head}Content-Length: 1000\r\n\r\n{{"name"'.encode())
            if leaves == "mid-body with a reset":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # Journaled and answered (into a closed connection): the handler ran to its end.
    assert mock.wait_for(token, requests=1, responses=1, timeout=30)
    assert [entry["method"] for entry in mock.journal(token)] == ["POST"]
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
