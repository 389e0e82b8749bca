"""The mock orchestrator: a real HTTP server on 127.0.0.1 that plays scripted scenarios.

Each case registers a scenario and gets a token; the SDK under test is given the base URL
`http://127.0.0.1:PORT/t/TOKEN/`, so cases run in parallel without sharing state. Every request is
journaled exactly as the server saw it (raw path and query, headers in order and original case,
body bytes, timing, connection) and validated against the contract; the runner asserts on the
journal. The mock itself asserts nothing: a request that matches no step gets a diagnostic status
(418) and is recorded as unexpected. Load scenarios (scenario.py) answer any number of requests
from weighted routes; `/metrics` exports what the mock served (metrics.py).

Memory is bounded: at most MAX_SCENARIOS registered scenarios (429 beyond), scenarios of bounded
size (413), and per token a journal of at most `journal_limit` entries and MAX_JOURNAL_BYTES of
bodies. A step scenario whose journal is full answers 413 (its journal could no longer prove
anything); a load scenario goes on answering and only counts what it no longer keeps.

The server runs its asyncio loop in a background thread so that synchronous code (pytest, the
runner) can drive it; all shared state is guarded by one lock and every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import random
import secrets
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import HttpVersion11, web

from polysdk_conformance.contract import ContractValidator, Findings, default_spec_path, load_spec
from polysdk_conformance.metrics import ABORTED, CONTENT_TYPE_LATEST, MockMetrics, sdk_of
from polysdk_conformance.routes import Routes
from polysdk_conformance.scenario import (
    CONNECT_STREAM_MEDIA,
    MAX_HOLD_MS,
    MOCK_PLACEHOLDER,
    OTHER_ORIGIN_PLACEHOLDER,
    ResponseAction,
    Scenario,
    ScenarioTooLargeError,
    parse_scenario,
)

MAX_BODY = 16 * 1024 * 1024
# After an oversized body the rest is still read (and dropped), up to this much, so that the
# client finishes sending and can read the 413 instead of failing on a broken pipe.
MAX_DRAIN = 64 * 1024 * 1024
# Registered scenarios at once (the runner forgets each case's scenario when it is done).
MAX_SCENARIOS = 10_000
# Request bodies kept in one token's journal, in bytes.
MAX_JOURNAL_BYTES = 64 * 1024 * 1024
UNEXPECTED_STATUS = 418
# The note on a request of a scenario registered with `validate: false` (a proto contract's case).
NOT_VALIDATED = (
    "skipped: the case runs against the proto contract, which the OpenAPI validation does not describe"
)
STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 5.0
BODY_READ_TIMEOUT_S = 30.0

JsonDict = dict[str, Any]


@dataclass
class _TokenState:
    """One registered scenario: its progress through the steps and its journal."""

    scenario: Scenario
    registered_at: float
    received: list[int]
    journal: list[JsonDict] = field(default_factory=list)
    dropped: int = 0
    # Responses written in full (a held response never is): the runner can cancel a call once
    # the mock has answered, e.g. to land in a retry's backoff.
    responded: int = 0
    journal_bytes: int = 0
    # Requests the contract check found at fault, journaled or not.
    violating: int = 0
    # Load scenarios: the (seeded) choice of responses and how often each route's responses played.
    rng: random.Random = field(default_factory=random.Random)
    played: list[list[int]] = field(default_factory=list)

    def keeps(self, body: bytes) -> bool:
        """Whether the journal has room for one more request with this body."""
        limit = self.scenario.journal_limit
        return len(self.journal) < limit and self.journal_bytes + len(body) <= MAX_JOURNAL_BYTES

    def choose(self, method: str, path: str, query: str) -> tuple[int, int] | None:
        """A load scenario's route for the request and the response it plays, or None."""
        assert self.scenario.index is not None
        route = self.scenario.index.find(method, path, query)
        if route is None:
            return None
        choice = self.scenario.routes[route].choose(self.rng)
        self.played[route][choice] += 1
        return route, choice

    def match(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        origin: str = "primary",
    ) -> tuple[int | None, str]:
        """The step this request plays, in order, or None with the reason.

        Steps are played in order. A step with `times: n` is an upper bound once it has been
        reached: a client that retries fewer times may move on to the next step; a step never
        reached cannot be skipped."""
        reason = "no steps are left"
        for index, step in enumerate(self.scenario.steps):
            count = self.received[index]
            if count >= step.times:
                continue
            why = step.request.mismatch(method, path, query, headers, body, origin)
            if not why:
                self.received[index] += 1
                return index, ""
            if reason == "no steps are left":
                reason = f"step {index} ({step.request.method} {step.request.path}): {why}"
            if count == 0:
                break
        return None, reason


class TooManyScenariosError(RuntimeError):
    """MAX_SCENARIOS are registered: the control API answers 429."""


async def _cancel_pending() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _diagnostic(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"mock_error": message, **extra}, status=status)


class MockServer:
    """The mock orchestrator, started in-process: `with MockServer() as mock: url = mock.base_url`."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, spec_path: Path | None = None, validate: bool = True
    ) -> None:
        self._host = host
        self._port = port
        spec = load_spec(spec_path or default_spec_path())
        # The route index labels every request's metrics, validating or not.
        self._routes = Routes(spec)
        self._validator = ContractValidator(spec, self._routes) if validate else None
        self.metrics = MockMetrics(self._routes.operation_ids)
        self._states: dict[str, _TokenState] = {}
        # Reentrant: _record takes it and is also called with it held.
        self._lock = threading.RLock()
        # Notified whenever a journal entry is recorded or a response finished: wait_for() sleeps
        # on it, so the runner reacts to what the mock saw, never to a clock.
        self._progress = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.ServerRunner | None = None
        self.base_url = ""
        # The second origin (same host, another port): a redirect there is cross-origin.
        self.other_base_url = ""
        self._other_port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> str:
        """Starts serving in a background thread; returns the base URL (no trailing slash)."""
        if self._thread is not None:
            return self.base_url
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="polysdk-mock", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            port, other = asyncio.run_coroutine_threadsafe(self._serve(), loop).result(STARTUP_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        self.base_url = f"http://{self._host}:{port}"
        self.other_base_url = f"http://{self._host}:{other}"
        self._other_port = other
        return self.base_url

    def stop(self) -> None:
        """Stops the server, closing open connections; bounded by SHUTDOWN_TIMEOUT_S."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if self._runner is not None:
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(SHUTDOWN_TIMEOUT_S)
            # Handlers still sleeping in a scripted delay are cancelled, not abandoned mid-await.
            asyncio.run_coroutine_threadsafe(_cancel_pending(), loop).result(SHUTDOWN_TIMEOUT_S)
            # The contract checks run in the loop's default executor; join its threads too.
            asyncio.run_coroutine_threadsafe(loop.shutdown_default_executor(), loop).result(
                SHUTDOWN_TIMEOUT_S
            )
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(SHUTDOWN_TIMEOUT_S)
            if not thread.is_alive():
                loop.close()
            self._loop = self._thread = self._runner = None

    def __enter__(self) -> MockServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def _serve(self) -> tuple[int, int]:
        # aiohttp's low-level server: every request comes to _handle, which routes it itself; an
        # Application's router and middleware chain cost a tenth of the mock's throughput.
        server = web.Server(self._handle, access_log=None)
        runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        self._runner = runner
        await web.TCPSite(runner, self._host, self._port).start()
        await web.TCPSite(runner, self._host, 0).start()
        return int(runner.addresses[0][1]), int(runner.addresses[1][1])

    # -- scenarios and journals -------------------------------------------------------------

    def register(self, scenario: Scenario | JsonDict) -> str:
        """Registers a scenario (a Scenario or its JSON form); returns its token.

        Raises ValueError naming the step and field when the JSON form is malformed,
        ScenarioTooLargeError (a ValueError) when it exceeds a cap, TooManyScenariosError when
        MAX_SCENARIOS are registered."""
        parsed = scenario if isinstance(scenario, Scenario) else parse_scenario(scenario)
        token = secrets.token_hex(8)
        state = _TokenState(
            parsed,
            time.monotonic(),
            [0] * len(parsed.steps),
            rng=random.Random(parsed.seed),  # noqa: S311 - picks scripted answers; no secret
            played=[[0] * len(route.responses) for route in parsed.routes],
        )
        with self._lock:
            if len(self._states) >= MAX_SCENARIOS:
                raise TooManyScenariosError(
                    f"{MAX_SCENARIOS} scenarios are registered, the most the mock holds; "
                    "DELETE /_mock/scenarios/<token> those that are done"
                )
            self._states[token] = state
        return token

    def url(self, token: str) -> str:
        """The base URL an SDK is given for this scenario."""
        return f"{self.base_url}/t/{token}/"

    def other_url(self, token: str) -> str:
        """The same scenario on the second origin."""
        return f"{self.other_base_url}/t/{token}/"

    def wait_for(self, token: str, *, requests: int = 0, responses: int = 0, timeout: float) -> bool:
        """Blocks until the token's journal holds `requests` entries and `responses` responses were
        written in full; False when the timeout passes first or the token is forgotten."""
        deadline = time.monotonic() + timeout
        with self._progress:
            while True:
                state = self._states.get(token)
                if state is None:
                    return False
                if len(state.journal) + state.dropped >= requests and state.responded >= responses:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._progress.wait(left)

    def forget(self, token: str) -> bool:
        with self._progress:
            self._progress.notify_all()
            return self._states.pop(token, None) is not None

    def journal(self, token: str) -> list[JsonDict]:
        """Every request received for the token, in arrival order (copies)."""
        with self._lock:
            return [dict(entry) for entry in self._state(token).journal]

    def unexpected(self, token: str) -> list[JsonDict]:
        return [entry for entry in self.journal(token) if entry["step"] == "unexpected"]

    def unmatched_steps(self, token: str) -> list[JsonDict]:
        """Steps expected but not (or not as often as scripted) received."""
        with self._lock:
            state = self._state(token)
            return [
                {
                    "step": index,
                    "method": step.request.method,
                    "path": step.request.path,
                    "times": step.times,
                    "received": state.received[index],
                }
                for index, step in enumerate(state.scenario.steps)
                if state.received[index] < step.times
            ]

    def report(self, token: str) -> JsonDict:
        """Journal, unexpected requests and unmatched steps together, as the control API returns."""
        journal = self.journal(token)
        with self._lock:
            state = self._state(token)
            report: JsonDict = {
                "token": token,
                "journal": journal,
                "journal_dropped": state.dropped,
                "responded": state.responded,
                "violating_requests": state.violating,
                "unexpected": [entry for entry in journal if entry["step"] == "unexpected"],
                "unmatched_steps": self.unmatched_steps(token),
            }
            if state.scenario.load:
                report["played"] = [
                    {"method": route.method, "path": route.path, "responses": list(counts)}
                    for route, counts in zip(state.scenario.routes, state.played, strict=True)
                ]
        return report

    def _state(self, token: str) -> _TokenState:
        state = self._states.get(token)
        if state is None:
            raise KeyError(f"unknown mock token {token!r}")
        return state

    # -- request handling -------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        refused = await _expect_continue(request)
        if refused is not None:
            return refused
        raw_path, _, query = request.raw_path.partition("?")
        if raw_path == "/_mock" or raw_path.startswith("/_mock/"):
            return await self._control(request, raw_path)
        if raw_path == "/metrics" and request.method == "GET":
            return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})
        sdk = sdk_of(request.headers.get("User-Agent"))
        if not raw_path.startswith("/t/"):
            response = _diagnostic(404, f"requests must go to /t/<token>/...; got {raw_path!r}")
            return self._observed(started, None, sdk, response)
        token, _, rest = raw_path[3:].partition("/")
        path = "/" + rest
        origin = "other" if _local_port(request) == self._other_port else "primary"
        with self._lock:
            state = self._states.get(token)
        if state is None:
            response = _diagnostic(
                404, f"unknown mock token {token!r}: register a scenario first", token=token
            )
            return self._observed(started, None, sdk, response)
        prefix = state.scenario.prefix
        contract_path = path[len(prefix) :] if prefix and path.startswith(prefix + "/") else path
        operation_id = self._routes.operation_id(request.method, contract_path)
        operation = (
            self.metrics.label(operation_id)
            if operation_id is not None
            else self.metrics.connect_label(contract_path)
        )

        # Timing is taken when the request head arrived, before the body: backoff windows are
        # measured between attempts, not between finished uploads.
        time_ms = round((time.monotonic() - state.registered_at) * 1000, 3)
        body, oversized = await _read_body(request)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers]
        with self._lock:
            keep = state.keeps(body)
        entry: JsonDict | None = None
        if keep:
            entry = {
                "method": request.method,
                "path": path,
                "query": query,
                "headers": [list(pair) for pair in headers],
                "body_base64": base64.b64encode(body).decode("ascii"),
                "time_ms": time_ms,
                "connection": _connection_id(request),
                "origin": origin,
                "violations": [],
                "notes": [],
            }
        if oversized:
            if entry is not None:
                entry.update(step="unexpected", mismatch=f"body larger than {MAX_BODY} bytes")
            self._record(state, entry, 0)
            response = _diagnostic(413, f"request body larger than {MAX_BODY} bytes; the mock refuses it")
            return self._observed(started, operation, sdk, response)
        if entry is None and not state.scenario.load:
            self._record(state, None, 0)
            response = _diagnostic(
                413,
                f"this scenario's journal is full ({state.scenario.journal_limit} requests or "
                f"{MAX_JOURNAL_BYTES} bytes of bodies); register a load scenario for bulk traffic",
                token=token,
            )
            return self._observed(started, operation, sdk, response)

        # Matched and journaled in arrival order, before the (slower, off-loop) contract check,
        # whose findings are then filled into the same journal entry.
        with self._lock:
            action, reason = self._play(state, entry, (request.method, path, query, headers, body, origin))
            self._record(state, entry, len(body))
        if self._validator is not None and not state.scenario.validate:
            if entry is not None:
                with self._lock:
                    entry["notes"] = [NOT_VALIDATED]
        elif self._validator is not None:
            await self._validate(
                state, entry, operation, sdk, (request.method, contract_path, query, headers, body)
            )
        if action is None:
            response = _diagnostic(UNEXPECTED_STATUS, f"unexpected request: {reason}", token=token)
            return self._observed(started, operation, sdk, response)
        placeholders = {MOCK_PLACEHOLDER: self.url(token), OTHER_ORIGIN_PLACEHOLDER: self.other_url(token)}
        answer = await _respond(request, action, placeholders)
        if action.kind != "hold":  # a held response is never written: the client left instead
            with self._progress:
                state.responded += 1
                self._progress.notify_all()
        status: int | str = ABORTED if action.kind in ("reset", "garbage") else answer.status
        self.metrics.observe(operation, status, sdk, time.perf_counter() - started)
        return answer

    @staticmethod
    def _play(
        state: _TokenState,
        entry: JsonDict | None,
        request: tuple[str, str, str, list[tuple[str, str]], bytes, str],
    ) -> tuple[ResponseAction | None, str]:
        """The response the scenario plays for the request (None: unexpected, with the reason),
        noted in its journal entry. Called with the lock held."""
        method, path, query, headers, body, origin = request
        if state.scenario.load:
            chosen = state.choose(method, path, query)
            if chosen is None:
                reason = f"no route of the load scenario matches {method} {path}"
                if entry is not None:
                    entry.update(step="unexpected", mismatch=reason)
                return None, reason
            if entry is not None:
                entry.update(step=chosen[0], response=chosen[1])
            return state.scenario.routes[chosen[0]].responses[chosen[1]], ""
        index, reason = state.match(method, path, query, headers, body, origin)
        if index is None:
            if entry is not None:
                entry.update(step="unexpected", mismatch=reason)
            return None, reason
        if entry is not None:
            entry["step"] = index
        return state.scenario.steps[index].response, ""

    async def _validate(
        self,
        state: _TokenState,
        entry: JsonDict | None,
        operation: str,
        sdk: str,
        request: tuple[str, str, str, list[tuple[str, str]], bytes],
    ) -> None:
        """Checks the request against the contract: on the loop when the compiled route index is
        sure it is clean, else with openapi-core in the default executor."""
        assert self._validator is not None
        findings: Findings | None = self._validator.quick_check(*request)
        if findings is None:
            findings = await asyncio.get_running_loop().run_in_executor(None, self._validator.check, *request)
        if findings.violations:
            self.metrics.violation(operation, sdk)
        with self._lock:
            state.violating += bool(findings.violations)
            if entry is not None:
                entry["violations"], entry["notes"] = findings.violations, findings.notes

    def _observed(
        self, started: float, operation: str | None, sdk: str, response: web.Response
    ) -> web.Response:
        self.metrics.observe(
            self.metrics.label(operation), response.status, sdk, time.perf_counter() - started
        )
        return response

    def _record(self, state: _TokenState, entry: JsonDict | None, body_bytes: int) -> None:
        """Journals the entry (None: counts a request the journal has no room for)."""
        with self._progress:
            if entry is None:
                state.dropped += 1
            else:
                entry["seq"] = len(state.journal) + state.dropped
                state.journal.append(entry)
                state.journal_bytes += body_bytes
            self._progress.notify_all()

    async def _control(self, request: web.BaseRequest, path: str) -> web.StreamResponse:
        parts = [part for part in path.split("/") if part][1:]  # after "_mock"
        if parts == ["scenarios"] and request.method == "POST":
            body, oversized = await _read_body(request)
            if oversized:
                return _diagnostic(413, f"scenario larger than {MAX_BODY} bytes")
            try:
                data = json.loads(body)
            except ValueError as exc:
                return _diagnostic(400, f"scenario is not valid JSON: {exc}")
            try:
                token = self.register(data)
            except ScenarioTooLargeError as exc:
                return _diagnostic(413, f"scenario too large: {exc}")
            except ValueError as exc:
                return _diagnostic(400, f"invalid scenario: {exc}")
            except TooManyScenariosError as exc:
                return _diagnostic(429, str(exc))
            return web.json_response({"token": token, "base_url": self.url(token)}, status=201)
        if len(parts) == 3 and parts[0] == "scenarios" and parts[2] == "journal" and request.method == "GET":
            try:
                return web.json_response(self.report(parts[1]))
            except KeyError:
                return _diagnostic(404, f"unknown mock token {parts[1]!r}", token=parts[1])
        if len(parts) == 2 and parts[0] == "scenarios" and request.method == "DELETE":
            if self.forget(parts[1]):
                return web.json_response({"deleted": parts[1]})
            return _diagnostic(404, f"unknown mock token {parts[1]!r}", token=parts[1])
        return _diagnostic(
            404,
            f"no control endpoint {request.method} {path}; use POST /_mock/scenarios, "
            "GET /_mock/scenarios/<token>/journal or DELETE /_mock/scenarios/<token>",
        )


async def _expect_continue(request: web.BaseRequest) -> web.Response | None:
    """Answers `Expect: 100-continue` as aiohttp's application router would (the low-level server
    leaves it to the handler): a client waiting for it then sends its body."""
    expect = request.headers.get("Expect")
    if not expect or request.version != HttpVersion11:
        return None
    if expect.lower() != "100-continue":
        return web.Response(status=417, text=f"Unknown Expect: {expect}")
    try:
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await request.writer.drain()
    except ConnectionError:
        # The client left before sending its body ("Cannot write to closing transport"): not a
        # mock error. The request is still journaled with the body that arrived (none).
        pass
    request.writer.output_size = 0  # the interim response is not part of the body's size
    return None


async def _read_body(request: web.BaseRequest) -> tuple[bytes, bool]:
    """The body, or (b"", True) when it exceeds MAX_BODY (the rest is drained, bounded)."""
    if not request.body_exists:
        return b"", False
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_READ_TIMEOUT_S):
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > MAX_DRAIN:
                    break
                if size <= MAX_BODY:
                    chunks.append(chunk)
    except (TimeoutError, ConnectionError):
        # A client that stops sending mid-body, or leaves ("Connection lost", a reset), gets what
        # arrived journaled: a client leaving is part of many cases, not a mock error to log.
        pass
    if size > MAX_BODY:
        return b"", True
    return b"".join(chunks), False


def _local_port(request: web.BaseRequest) -> int:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return int(sockname[1]) if isinstance(sockname, tuple) else 0


def _connection_id(request: web.BaseRequest) -> str:
    """The client's address:port, which tells a retry on a new connection from one on the same."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else ""


def _substitute(value: str, placeholders: dict[str, str]) -> str:
    for placeholder, url in placeholders.items():
        value = value.replace(placeholder, url)
    return value


async def _respond(
    request: web.BaseRequest, action: ResponseAction, placeholders: dict[str, str]
) -> web.StreamResponse:
    if action.delay_ms:
        await asyncio.sleep(action.delay_ms / 1000)
    # `{mock}` in a header value (e.g. an absolute Link URL) names this scenario's base URL,
    # `{mock_other}` the same scenario on the second origin.
    headers = [(name, _substitute(value, placeholders)) for name, value in action.headers]
    if action.kind in ("json", "text", "bytes"):
        default_type = {"json": "application/json", "text": "text/plain; charset=utf-8"}.get(
            action.kind, "application/octet-stream"
        )
        # No default type on an empty body: a 204 with a Content-Type is itself an oddity.
        if action.body:
            _default_header(headers, "Content-Type", default_type)
        body = action.body
        if action.gzip:
            body = _gzip(body)
            headers.append(("Content-Encoding", "gzip"))
        response = web.Response(status=action.status, body=body)
        response.headers.popall("Content-Type", None)
        for name, value in headers:
            response.headers.add(name, value)
        return response
    if action.kind == "sse":
        return await _stream_events(request, action, headers)
    if action.kind == "large":
        return await _stream_large(request, action, headers)
    if action.kind == "connect_stream":
        return await _stream_connect(request, action, headers)
    if action.kind == "hold":
        await _hold(request)
        return web.Response(status=499)
    transport = request.transport
    if transport is None:  # the client already went away
        return web.Response(status=499)
    if action.kind == "reset":
        # SO_LINGER 0 makes close() send a TCP RST, which clients report as "connection reset".
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    elif action.kind == "truncated":
        head = [f"HTTP/1.1 {action.status} Mock", f"Content-Length: {action.declared_length}"]
        head += [f"{name}: {value}" for name, value in headers if name.lower() != "content-length"]
        transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + action.body)
        transport.close()
    else:  # garbage
        transport.write(action.body)
        transport.close()
    # The connection is gone; aiohttp drops this response when it finds the transport closed.
    return web.Response(status=action.status)


async def _stream_events(
    request: web.BaseRequest, action: ResponseAction, headers: list[tuple[str, str]]
) -> web.StreamResponse:
    _default_header(headers, "Content-Type", "text/event-stream")
    _default_header(headers, "Cache-Control", "no-cache")
    played = action.events if action.drop_after is None else action.events[: action.drop_after]
    return await _stream(request, action, headers, ((event.delay_ms, event.encode()) for event in played))


async def _stream_connect(
    request: web.BaseRequest, action: ResponseAction, headers: list[tuple[str, str]]
) -> web.StreamResponse:
    """A Connect server stream: envelopes as scripted, the end-of-stream envelope among them (or
    none, a cut envelope, or a held stream)."""
    _default_header(headers, "Content-Type", CONNECT_STREAM_MEDIA)
    return await _stream(
        request, action, headers, ((item.delay_ms, item.encode()) for item in action.envelopes)
    )


async def _stream(
    request: web.BaseRequest,
    action: ResponseAction,
    headers: list[tuple[str, str]],
    chunks: Iterable[tuple[int, bytes]],
) -> web.StreamResponse:
    """A streamed body: each chunk written after its delay (ms), then the end of the body -- or a
    dropped connection (sse drop_after: no terminating chunk, the client sees EOF), or a held one
    (`hold`: open until the client leaves). A client that stops reading (take, cancellation, a
    limit) ends it early: not a mock error."""
    response = web.StreamResponse(status=action.status)
    for name, value in headers:
        response.headers.add(name, value)
    try:
        await response.prepare(request)
        for delay_ms, data in chunks:
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000)
            await response.write(data)
        if action.drop_after is not None and request.transport is not None:
            request.transport.abort()
            return response
        if action.hold:
            await _hold(request)
            return response
        await response.write_eof()
    except ConnectionError:  # reset, broken pipe, aiohttp's "Connection lost" and ClientConnectionResetError
        pass
    return response


async def _hold(request: web.BaseRequest) -> None:
    """Waits, answering nothing, until the client closes the connection (bounded by MAX_HOLD_MS);
    then closes it from this side. The client's own cancellation or timeout is what ends a held
    call: the case does not depend on how long anything takes."""
    deadline = time.monotonic() + MAX_HOLD_MS / 1000
    transport = request.transport
    while transport is not None and not transport.is_closing() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)  # aiohttp offers no disconnect event to a running handler
    if transport is not None and not transport.is_closing():
        transport.abort()


def _gzip(body: bytes) -> bytes:
    return b"".join(_gzip_chunks([body]))


async def _stream_large(
    request: web.BaseRequest, action: ResponseAction, headers: list[tuple[str, str]]
) -> web.StreamResponse:
    """A body of any size, produced and (when gzip) compressed chunk by chunk as it is written;
    a client that stops reading (e.g. at its size limit) ends it. Empty chunks are not written."""
    assert action.large is not None
    _default_header(headers, "Content-Type", "application/json")
    chunks: Iterable[bytes] = action.large.chunks()
    if action.gzip:
        headers.append(("Content-Encoding", "gzip"))
        chunks = _gzip_repeated_chunks(chunks)
    return await _stream(request, action, headers, ((0, chunk) for chunk in chunks if chunk))


def _default_header(headers: list[tuple[str, str]], name: str, value: str) -> None:
    """Adds the header unless the scenario gave one of that name."""
    if not any(given.lower() == name.lower() for given, _ in headers):
        headers.append((name, value))


def _gzip_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    for chunk in chunks:
        yield compressor.compress(chunk)
    yield compressor.flush()


# A gzip member's header: magic, deflate, no flags, no time, no extra flags, unknown OS.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def _gzip_repeated_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A gzip stream of the chunks in which each distinct chunk is compressed only once.

    A large body repeats one block hundreds of times (a gzip bomb is 256 MiB of it): compressing
    it all on the event loop cost seconds of CPU per SDK, most of it after the client had already
    stopped at its limit. Each distinct chunk is deflated on its own, from an empty history and
    sync-flushed to a byte boundary, so the pieces concatenate into one valid deflate stream; only
    the CRC-32 (about a hundred times cheaper than deflating) is computed over every byte."""
    pieces: dict[bytes, bytes] = {}
    crc = size = 0
    yield _GZIP_HEADER
    for chunk in chunks:
        piece = pieces.get(chunk)
        if piece is None:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate: no container
            piece = pieces[chunk] = compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        yield piece
    yield zlib.compressobj(6, zlib.DEFLATED, -15).flush()  # the final, empty block
    yield struct.pack("<II", crc, size & 0xFFFFFFFF)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs a standalone mock until interrupted, printing its base URL on the first line."""
    parser = argparse.ArgumentParser(prog="polysdk mock", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free port)")
    parser.add_argument("--spec", type=Path, default=None, help="contract to validate requests against")
    parser.add_argument("--no-validate", action="store_true", help="skip contract validation")
    args = parser.parse_args(argv)
    # Loopback only: the mock accepts scripted faults and must never be reachable from outside.
    server = MockServer("127.0.0.1", args.port, args.spec, validate=not args.no_validate)
    with server:
        print(server.base_url, flush=True)
        print(
            f"control API: POST {server.base_url}/_mock/scenarios; Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
