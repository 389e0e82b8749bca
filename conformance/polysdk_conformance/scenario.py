"""The scenario a mock plays for one case: an ordered list of expected request -> response steps.

A scenario arrives as plain JSON data (from a case file, or over the mock's control API) and is
checked here once, at registration, so that the server itself only ever sees well-formed steps.
Every mistake raises ValueError naming the step and field, because a case author debugging a
scenario should not have to read a traceback from inside the server.

Scenario shape::

    {"steps": [{"request": {"method": "GET", "path": "/v1/agents",      # canonical comparison,
                            "query": "limit=5",            # see wire.py; optional
                            "headers": {"Accept": "..."},  # optional, exact values, names any case
                            "body_text": "...",            # optional, exact body as UTF-8
                            "body_json": {...},            # optional, semantic JSON equality
                            "absent_headers": ["Authorization"],  # optional, must not be sent
                            "present_headers": ["Connect-Timeout-Ms"],  # optional, must be sent
                            "header_patterns": {"Connect-Timeout-Ms": "[0-9]+"},  # optional,
                                                           # one value must fully match the regex
                            "origin": "other"},            # optional: primary (default) | other
                "response": {"kind": "json", "status": 200, "headers": {...}, "body": {...},
                             "delay_ms": 0},
                "times": 1}],
     "validate": true}     # optional: false skips the contract check (proto cases)

A load scenario (`"kind": "load"`) answers any number of requests, as a benchmark or a load run
needs: each route matches a method and a path template (`{name}` stands for one non-empty
segment) and answers with a weighted choice among its responses -- e.g. 95 parts a page, 3 parts
a 503, 2 parts a 429. A route with a literal path may also name an exact `query` (compared in
canonical form): the pages of a cursor walk share one path and differ only there. Routes are found
through an index (by method, path and query, then by method and path, then by method and segment
count), never by scanning the list; a path matching two templates takes the first listed.
`seed` makes the sequence of choices repeatable; `journal_limit` keeps that many requests in the
journal (the rest are only counted: `journal_dropped`)::

    {"kind": "load", "seed": 7, "journal_limit": 100,
     "routes": [{"method": "GET", "path": "/v1/agents/{agent_id}",
                 "responses": [{"weight": 95, "response": {"kind": "json", "body": {...}}},
                               {"weight": 5, "response": {"kind": "json", "status": 503}}]}]}

A request whose Content-Type is `application/connect+json` carries its message in one Connect
envelope (flag byte, 4-byte big-endian length, JSON): `body_json` is then compared with the JSON of
that envelope, and a body that is not exactly one uncompressed envelope never matches.

Response kinds: json (body: any JSON), text (body: str), bytes (body_base64), sse (events:
[{event, data, id, retry, comment, delay_ms}], drop_after: N, hold: true keeps the stream open
after the events until the client leaves), reset (abort with a TCP RST), truncated (declare a
longer Content-Length than the body sent, then close), garbage (write non-HTTP bytes, then close),
hold (never answer: wait until the client closes the connection, bounded by MAX_HOLD_MS), large
(prefix + fill * count + suffix, streamed in chunks, so that a body of hundreds of megabytes costs
the mock no memory), connect_stream (a Connect server stream, below).
json, text, bytes and large take `gzip: true` to send the body gzip-encoded
(`Content-Encoding: gzip`; for large, compressed as it streams: a gzip bomb). Any kind may wait
delay_ms first, which also scripts a stall.

connect_stream writes `application/connect+json` envelopes: `messages` (each a JSON message,
flag 0x00), then `envelopes` (hostile ones: `{flag, json | text | base64, declared_length, cut,
delay_ms}` -- `flag` 0x01 is "compressed", `declared_length` overrides the length in the header,
`cut: N` writes only the first N bytes of the envelope, header included, and then ends the body:
EOF inside an envelope), then the end-of-stream envelope (flag 0x02) with `end`: `{error: {code,
message, details}}` and/or `{metadata: {...}}`; `{}` (the default) is a clean end, `null` writes no
end-of-stream envelope at all. `after_end` envelopes follow the end-of-stream (a client must
ignore them). `hold: true` keeps the stream open after the envelopes, with no end-of-stream,
until the client leaves (cancellation cases). Connect unary errors are plain json responses
(status + `{code, message, details}`).
In response header values, `{mock}` stands for the scenario's base URL (`http://127.0.0.1:PORT/t/TOKEN/`),
so that absolute URLs such as a Link header's point back at the same scenario; `{mock_other}` is
the same scenario on the mock's second origin (another port), for cross-origin redirects.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from polysdk_conformance.wire import canonical_path, canonical_query

# Delays are bounded so that a mistyped case cannot hang a conformance run.
# Stands for the scenario's base URL in client base URLs, environment values and response headers.
MOCK_PLACEHOLDER = "{mock}"
OTHER_ORIGIN_PLACEHOLDER = "{mock_other}"
ORIGINS = ("primary", "other")
MAX_DELAY_MS = 30_000
# A held response or stream ends by itself after this long, so a client that ignores its
# cancellation or timeout fails the case instead of hanging the run.
MAX_HOLD_MS = 30_000
MAX_LARGE_BYTES = 1 << 30
MAX_TIMES = 1_000
# Caps on what one scenario may hold, so that registrations cannot exhaust the mock's memory.
MAX_STEPS = 2_000
MAX_ROUTES = 500
MAX_ROUTE_RESPONSES = 100
MAX_WEIGHT = 1_000_000
# The journal of a scenario keeps at most this many requests (steps: the default and the cap;
# load scenarios choose up to it with `journal_limit`).
MAX_JOURNAL = 10_000
DEFAULT_LOAD_JOURNAL = 1_000
KINDS = ("json", "text", "bytes", "sse", "reset", "truncated", "garbage", "hold", "large", "connect_stream")
CONNECT_STREAM_MEDIA = "application/connect+json"
# Connect envelope flags (connectrpc.com/docs/protocol): a message, compressed, end-of-stream.
FLAG_MESSAGE, FLAG_COMPRESSED, FLAG_END = 0x00, 0x01, 0x02
MAX_ENVELOPE_LENGTH = 0xFFFFFFFF
_NO_BODY = object()
# `{name}` in a load route's path: one non-empty segment (or part of one, as in `{id}:cancel`).
_TEMPLATE_PARAMETER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass(frozen=True)
class SseEvent:
    data: str | None = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None
    delay_ms: int = 0

    def encode(self) -> bytes:
        """The event on the wire; multi-line data becomes one `data:` line per line."""
        lines: list[str] = []
        if self.comment is not None:
            lines += [f": {line}" for line in self.comment.split("\n")]
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        if self.data is not None:
            lines += [f"data: {line}" for line in self.data.split("\n")]
        return ("\n".join(lines) + "\n\n").encode("utf-8")


@dataclass(frozen=True)
class Envelope:
    """One Connect envelope: flag byte, 4-byte big-endian length, payload; hostile variants
    declare another length or are cut short."""

    flag: int
    payload: bytes
    declared_length: int | None = None
    cut: int | None = None  # write only this many bytes of the encoded envelope, then end
    delay_ms: int = 0

    def encode(self) -> bytes:
        length = len(self.payload) if self.declared_length is None else self.declared_length
        data = bytes([self.flag]) + length.to_bytes(4, "big") + self.payload
        return data if self.cut is None else data[: self.cut]


def envelope(flag: int, message: Any) -> Envelope:
    """A well-formed envelope holding `message` as compact JSON."""
    return Envelope(flag, _compact_json(message))


def _compact_json(message: Any) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def parse_envelopes(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The complete envelopes at the start of `data`, and the bytes left over (a partial one)."""
    found: list[tuple[int, bytes]] = []
    offset = 0
    while len(data) - offset >= 5:
        length = int.from_bytes(data[offset + 1 : offset + 5], "big")
        if len(data) - offset - 5 < length:
            break
        found.append((data[offset], data[offset + 5 : offset + 5 + length]))
        offset += 5 + length
    return found, data[offset:]


def single_envelope(body: bytes) -> tuple[bytes | None, str]:
    """The payload of a body that is exactly one uncompressed message envelope, or why it is not."""
    found, rest = parse_envelopes(body)
    if len(found) != 1 or rest:
        return None, f"not exactly one Connect envelope ({len(found)} complete, {len(rest)} bytes left over)"
    flag, payload = found[0]
    if flag != FLAG_MESSAGE:
        return None, f"the envelope's flag is 0x{flag:02x}, not 0x00"
    return payload, ""


@dataclass(frozen=True)
class ResponseAction:
    kind: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    events: tuple[SseEvent, ...] = ()
    drop_after: int | None = None
    declared_length: int | None = None
    delay_ms: int = 0
    gzip: bool = False
    hold: bool = False  # sse, connect_stream: keep the stream open after the events
    large: LargeBody | None = None
    # connect_stream: what it writes after its headers, in order -- messages, hostile envelopes,
    # then (unless there is none) the end-of-stream envelope and the after_end ones
    envelopes: tuple[Envelope, ...] = ()


@dataclass(frozen=True)
class LargeBody:
    """prefix + fill * count + suffix, produced in chunks as it is sent."""

    prefix: bytes
    fill: bytes
    count: int
    suffix: bytes

    def chunks(self, chunk_bytes: int = 256 * 1024) -> Iterator[bytes]:
        yield self.prefix
        per_chunk = max(1, chunk_bytes // len(self.fill))
        block = self.fill * per_chunk
        left = self.count
        while left >= per_chunk:
            yield block
            left -= per_chunk
        if left:
            yield self.fill * left
        yield self.suffix


@dataclass(frozen=True)
class ExpectedRequest:
    method: str
    path: str
    query: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body_text: str | None = None
    body_json: Any = _NO_BODY
    absent_headers: tuple[str, ...] = ()
    origin: str = "primary"
    present_headers: tuple[str, ...] = ()
    header_patterns: tuple[tuple[str, str], ...] = ()

    def mismatch(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        origin: str = "primary",
    ) -> str:
        """Why a request does not match this expectation, or "" when it does."""
        if origin != self.origin:
            return f"arrived at the {origin} origin, expected at the {self.origin} one"
        if method.upper() != self.method:
            return f"method {method} != {self.method}"
        if canonical_path(path) != canonical_path(self.path):
            return f"path {path!r} != {self.path!r}"
        if self.query is not None and canonical_query(query) != canonical_query(self.query):
            return f"query {query!r} != {self.query!r}"
        for name, value in self.headers:
            seen = [v for k, v in headers if k.lower() == name.lower()]
            if value not in seen:
                return f"header {name}: {seen!r} does not contain {value!r}"
        for name in self.absent_headers:
            if any(k.lower() == name.lower() for k, _ in headers):
                return f"header {name} was sent but must not be"
        for name in self.present_headers:
            if not any(k.lower() == name.lower() for k, _ in headers):
                return f"header {name} is missing"
        for name, pattern in self.header_patterns:
            seen = [v for k, v in headers if k.lower() == name.lower()]
            if not any(re.fullmatch(pattern, value) for value in seen):
                return f"header {name}: {seen!r} has no value matching {pattern!r}"
        if self.body_text is not None and body != self.body_text.encode("utf-8"):
            return "body differs from body_text"
        if self.body_json is not _NO_BODY:
            media = next((v for k, v in headers if k.lower() == "content-type"), "")
            if media.split(";")[0].strip().lower() == CONNECT_STREAM_MEDIA:
                payload, why = single_envelope(body)
                if payload is None:
                    return f"body is {why}"
                body = payload
            try:
                decoded = json.loads(body)
            except ValueError:
                return "body is not JSON"
            if decoded != self.body_json:
                return "body differs from body_json"
        return ""


@dataclass(frozen=True)
class Step:
    request: ExpectedRequest
    response: ResponseAction
    times: int = 1


class ScenarioTooLargeError(ValueError):
    """A scenario over one of the caps above (the control API answers 413)."""


@dataclass(frozen=True)
class LoadRoute:
    method: str
    path: str
    responses: tuple[ResponseAction, ...]
    # Running totals of the weights: a uniform point below the last one falls in one response's share.
    cumulative: tuple[int, ...]
    query: str | None = None  # canonical; None matches any query

    def choose(self, rng: random.Random) -> int:
        """The index of the response this request gets."""
        if len(self.responses) == 1:
            return 0
        return bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])


@dataclass(frozen=True)
class LoadIndex:
    """The routes of a load scenario by method, canonical path and canonical query (literal
    routes with a query), by method and canonical path (literal routes), then by method and
    segment count (templated routes, in the order given)."""

    literal: dict[tuple[str, str], int]
    templated: dict[tuple[str, int], tuple[tuple[re.Pattern[str], int], ...]]
    queried: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def find(self, method: str, path: str, query: str = "") -> int | None:
        path = canonical_path(path)
        method = method.upper()
        found = self.queried.get((method, path, canonical_query(query))) if self.queried else None
        if found is None:
            found = self.literal.get((method, path))
        if found is not None:
            return found
        for pattern, index in self.templated.get((method, path.count("/")), ()):
            if pattern.fullmatch(path):
                return index
        return None


@dataclass(frozen=True)
class Scenario:
    steps: tuple[Step, ...] = field(default_factory=tuple)
    name: str = ""
    # The path prefix of the base URL the SDK was given ("/api/v2"); removed before a request is
    # validated against the contract, whose paths do not know it.
    prefix: str = ""
    # False: the requests are not checked against the mock's (OpenAPI) contract -- cases of the
    # proto contract, whose wire the OpenAPI document does not describe.
    validate: bool = True
    # A load scenario plays routes (any number of times) instead of steps.
    routes: tuple[LoadRoute, ...] = ()
    index: LoadIndex | None = None
    seed: int | None = None
    journal_limit: int = MAX_JOURNAL

    @property
    def load(self) -> bool:
        return self.index is not None


def parse_scenario(data: Any) -> Scenario:
    """A checked Scenario from JSON data; ValueError with the step and field on any mistake."""
    if not isinstance(data, dict):
        raise ValueError("scenario: expected a JSON object with a 'steps' list")
    kind = data.get("kind", "steps")
    if kind not in ("steps", "load"):
        raise ValueError(f"scenario.kind: {kind!r} is not 'steps' or 'load'")
    common = {"kind", "name", "prefix", "validate"}
    _only(data, common | ({"steps"} if kind == "steps" else {"routes", "seed", "journal_limit"}), "scenario")
    name = data.get("name", "")
    if not isinstance(name, str):
        raise ValueError("scenario: 'name' must be a string")
    prefix = data.get("prefix", "")
    if not isinstance(prefix, str) or (prefix and (not prefix.startswith("/") or prefix.endswith("/"))):
        raise ValueError("scenario: 'prefix' must be a path such as '/api/v2' (no trailing slash)")
    validate = data.get("validate", True)
    if not isinstance(validate, bool):
        raise ValueError("scenario: 'validate' must be true or false")
    if kind == "load":
        return _load(data, name, prefix, validate)
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise ValueError("scenario: 'steps' must be a list")
    if len(steps) > MAX_STEPS:
        raise ScenarioTooLargeError(
            f"scenario: {len(steps)} steps, more than the {MAX_STEPS} a scenario may hold"
        )
    return Scenario(tuple(_step(raw, f"steps[{i}]") for i, raw in enumerate(steps)), name, prefix, validate)


def _load(data: dict[str, Any], name: str, prefix: str, validate: bool) -> Scenario:
    raw_routes = data.get("routes")
    if not isinstance(raw_routes, list) or not raw_routes:
        raise ValueError("scenario: 'routes' must be a non-empty list")
    if len(raw_routes) > MAX_ROUTES:
        raise ScenarioTooLargeError(
            f"scenario: {len(raw_routes)} routes, more than the {MAX_ROUTES} a scenario may hold"
        )
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError("scenario.seed: expected an integer")
    journal_limit = _int(
        data, "journal_limit", "scenario", default=DEFAULT_LOAD_JOURNAL, low=0, high=MAX_JOURNAL
    )
    routes = tuple(_load_route(raw, f"routes[{i}]") for i, raw in enumerate(raw_routes))
    literal: dict[tuple[str, str], int] = {}
    queried: dict[tuple[str, str, str], int] = {}
    templated: dict[tuple[str, int], list[tuple[re.Pattern[str], int]]] = {}
    for position, route in enumerate(routes):
        path = canonical_path(route.path)
        if route.query is not None:
            queried.setdefault((route.method, path, route.query), position)
        elif "{" in path:
            pattern = re.compile("[^/]+".join(re.escape(part) for part in _TEMPLATE_PARAMETER.split(path)))
            templated.setdefault((route.method, path.count("/")), []).append((pattern, position))
        else:
            literal.setdefault((route.method, path), position)  # the first listed wins, as for templates
    index = LoadIndex(literal, {key: tuple(value) for key, value in templated.items()}, queried)
    return Scenario((), name, prefix, validate, routes, index, seed, journal_limit)


def _load_route(raw: Any, where: str) -> LoadRoute:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object with 'method', 'path' and 'responses'")
    _only(raw, {"method", "path", "query", "responses"}, where)
    method, path, query = raw.get("method"), raw.get("path"), raw.get("query")
    if not isinstance(method, str) or not method.isalpha():
        raise ValueError(f"{where}.method: expected an HTTP method such as 'GET'")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"{where}.path: expected a path template after the token, starting with '/'")
    if "{" in _TEMPLATE_PARAMETER.sub("", path) or "}" in _TEMPLATE_PARAMETER.sub("", path):
        raise ValueError(f"{where}.path: a template parameter is written {{name}}, within one segment")
    if query is not None and (not isinstance(query, str) or "{" in path):
        raise ValueError(
            f"{where}.query: expected the exact raw query string (without '?') of a literal path"
        )
    choices = raw.get("responses")
    if not isinstance(choices, list) or not choices:
        raise ValueError(f"{where}.responses: expected a non-empty list of {{weight, response}}")
    if len(choices) > MAX_ROUTE_RESPONSES:
        raise ScenarioTooLargeError(f"{where}.responses: more than {MAX_ROUTE_RESPONSES} responses")
    responses: list[ResponseAction] = []
    cumulative: list[int] = []
    total = 0
    for i, choice in enumerate(choices):
        here = f"{where}.responses[{i}]"
        if not isinstance(choice, dict):
            raise ValueError(f"{here}: expected {{weight, response}}")
        _only(choice, {"weight", "response"}, here)
        total += _int(choice, "weight", here, default=1, low=1, high=MAX_WEIGHT)
        responses.append(_response(choice.get("response"), f"{here}.response"))
        cumulative.append(total)
    canonical = None if query is None else canonical_query(query)
    return LoadRoute(method.upper(), path, tuple(responses), tuple(cumulative), canonical)


def _step(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object with 'request' and 'response'")
    _only(raw, {"request", "response", "times"}, where)
    times = _int(raw, "times", where, default=1, low=1, high=MAX_TIMES)
    return Step(
        _request(raw.get("request"), f"{where}.request"),
        _response(raw.get("response"), f"{where}.response"),
        times,
    )


def _request(raw: Any, where: str) -> ExpectedRequest:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object with 'method' and 'path'")
    allowed = {
        "method",
        "path",
        "query",
        "headers",
        "body_text",
        "body_json",
        "absent_headers",
        "present_headers",
        "header_patterns",
        "origin",
    }
    _only(raw, allowed, where)
    method = raw.get("method")
    path = raw.get("path")
    if not isinstance(method, str) or not method.isalpha():
        raise ValueError(f"{where}.method: expected an HTTP method such as 'GET'")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"{where}.path: expected the raw path after the token, starting with '/'")
    query = raw.get("query")
    if query is not None and not isinstance(query, str):
        raise ValueError(f"{where}.query: expected the exact raw query string (without '?')")
    body_text = raw.get("body_text")
    if body_text is not None and not isinstance(body_text, str):
        raise ValueError(f"{where}.body_text: expected a string")
    absent = raw.get("absent_headers", [])
    if not isinstance(absent, list) or not all(isinstance(name, str) and name for name in absent):
        raise ValueError(f"{where}.absent_headers: expected a list of header names")
    present = raw.get("present_headers", [])
    if not isinstance(present, list) or not all(isinstance(name, str) and name for name in present):
        raise ValueError(f"{where}.present_headers: expected a list of header names")
    patterns = _headers(raw.get("header_patterns"), f"{where}.header_patterns")
    for name, pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{where}.header_patterns.{name}: not a regular expression: {exc}") from None
    origin = raw.get("origin", "primary")
    if origin not in ORIGINS:
        raise ValueError(f"{where}.origin: {origin!r} is not one of {', '.join(ORIGINS)}")
    return ExpectedRequest(
        method=method.upper(),
        path=path,
        query=query,
        headers=_headers(raw.get("headers"), f"{where}.headers"),
        body_text=body_text,
        body_json=raw.get("body_json", _NO_BODY),
        absent_headers=tuple(absent),
        origin=origin,
        present_headers=tuple(present),
        header_patterns=patterns,
    )


def _response(raw: Any, where: str) -> ResponseAction:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object with a 'kind' among {', '.join(KINDS)}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
    common = {"kind", "status", "headers", "delay_ms"}
    extra = {
        "json": {"body", "gzip"},
        "text": {"body", "gzip"},
        "bytes": {"body_base64", "gzip"},
        "sse": {"events", "drop_after", "hold"},
        "reset": set(),
        "truncated": {"body", "declared_length"},
        "garbage": {"body"},
        "hold": set(),
        "large": {"prefix", "fill", "count", "suffix", "gzip"},
        "connect_stream": {"messages", "envelopes", "end", "after_end", "hold"},
    }[kind]
    _only(raw, common | extra, where)
    status = _int(raw, "status", where, default=200, low=100, high=599)
    headers = _headers(raw.get("headers"), f"{where}.headers")
    delay_ms = _int(raw, "delay_ms", where, default=0, low=0, high=MAX_DELAY_MS)
    body = b""
    if kind == "json":
        body = json.dumps(raw.get("body"), ensure_ascii=False).encode("utf-8")
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers = (("Content-Type", "application/json"), *headers)
    elif kind in ("text", "truncated", "garbage"):
        body = _text(raw, "body", where)
        if kind == "garbage" and not body:
            body = b"\x00\x01 this is not HTTP \xff\xfe\r\n"
    elif kind == "bytes":
        body = _base64(raw, "body_base64", where)
    events: tuple[SseEvent, ...] = ()
    drop_after: int | None = None
    if kind == "sse":
        raw_events = raw.get("events", [])
        if not isinstance(raw_events, list):
            raise ValueError(f"{where}.events: expected a list")
        events = tuple(_event(event, f"{where}.events[{i}]") for i, event in enumerate(raw_events))
        if "drop_after" in raw:
            drop_after = _int(raw, "drop_after", where, default=0, low=0, high=len(events))
    declared_length: int | None = None
    if kind == "truncated":
        declared_length = _int(raw, "declared_length", where, default=len(body) + 64, low=len(body) + 1)
    gzip = _bool(raw, "gzip", where)
    hold = _bool(raw, "hold", where)
    large = _large(raw, where) if kind == "large" else None
    envelopes = _connect_stream(raw, where, hold) if kind == "connect_stream" else ()
    return ResponseAction(
        kind,
        status,
        headers,
        body,
        events,
        drop_after,
        declared_length,
        delay_ms,
        gzip,
        hold,
        large,
        envelopes,
    )


def _connect_stream(raw: dict[str, Any], where: str, hold: bool) -> tuple[Envelope, ...]:
    messages = raw.get("messages", [])
    if not isinstance(messages, list):
        raise ValueError(f"{where}.messages: expected a list of JSON messages")
    envelopes = [envelope(FLAG_MESSAGE, message) for message in messages]
    hostile = raw.get("envelopes", [])
    if not isinstance(hostile, list):
        raise ValueError(f"{where}.envelopes: expected a list of envelopes")
    envelopes += [_envelope(item, f"{where}.envelopes[{i}]") for i, item in enumerate(hostile)]
    cut = [i for i, item in enumerate(envelopes) if item.cut is not None]
    if cut and cut[0] != len(envelopes) - 1:
        raise ValueError(f"{where}.envelopes: only the last envelope may be cut (the body ends there)")
    if hold and ("end" in raw or "after_end" in raw or cut):
        raise ValueError(f"{where}.hold: a held stream has no end, after_end or cut envelope")
    end_raw = raw.get("end", {})
    end: list[Envelope] = []  # none: the stream ends without an end-of-stream envelope
    if end_raw is not None and not hold and not cut:
        if not isinstance(end_raw, dict):
            raise ValueError(
                f"{where}.end: expected {{error: {{code, message, details}}}}, "
                "{metadata: ...}, {} or null"
            )
        _only(end_raw, {"error", "metadata"}, f"{where}.end")
        error = end_raw.get("error")
        if error is not None and not (isinstance(error, dict) and isinstance(error.get("code"), str)):
            raise ValueError(f"{where}.end.error: expected an object with a string 'code'")
        end.append(envelope(FLAG_END, end_raw))
    elif cut and "end" in raw and end_raw is not None:
        raise ValueError(f"{where}.end: the body ends inside the cut envelope; no end-of-stream follows")
    after = raw.get("after_end", [])
    if not isinstance(after, list):
        raise ValueError(f"{where}.after_end: expected a list of JSON messages")
    if end:  # after_end envelopes follow an end-of-stream only
        end += [envelope(FLAG_MESSAGE, item) for item in after]
    return (*envelopes, *end)


def _envelope(raw: Any, where: str) -> Envelope:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected {{flag, json | text | base64, declared_length, cut, delay_ms}}")
    _only(raw, {"flag", "json", "text", "base64", "declared_length", "cut", "delay_ms"}, where)
    flag = _int(raw, "flag", where, default=FLAG_MESSAGE, low=0, high=255)
    given = [key for key in ("json", "text", "base64") if key in raw]
    if len(given) > 1:
        raise ValueError(f"{where}: give one of json, text or base64")
    payload = b""
    if given == ["json"]:
        payload = _compact_json(raw["json"])
    elif given == ["text"]:
        payload = _text(raw, "text", where)
    elif given == ["base64"]:
        payload = _base64(raw, "base64", where)
    declared = (
        _int(raw, "declared_length", where, default=0, low=0, high=MAX_ENVELOPE_LENGTH)
        if "declared_length" in raw
        else None
    )
    cut = _int(raw, "cut", where, default=0, low=0) if "cut" in raw else None
    delay_ms = _int(raw, "delay_ms", where, default=0, low=0, high=MAX_DELAY_MS)
    return Envelope(flag, payload, declared, cut, delay_ms)


def _text(raw: dict[str, Any], key: str, where: str) -> bytes:
    """A string field (default empty) as UTF-8."""
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key}: expected a string")
    return value.encode("utf-8")


def _base64(raw: dict[str, Any], key: str, where: str) -> bytes:
    """A base64 field (default empty), decoded."""
    encoded = raw.get(key, "")
    if not isinstance(encoded, str):
        raise ValueError(f"{where}.{key}: expected a base64 string")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}.{key}: not valid base64") from None


def _large(raw: dict[str, Any], where: str) -> LargeBody:
    texts = {key: _text(raw, key, where) for key in ("prefix", "fill", "suffix")}
    if not texts["fill"]:
        raise ValueError(f"{where}.fill: expected a non-empty string to repeat")
    count = _int(raw, "count", where, default=0, low=0, high=MAX_LARGE_BYTES // len(texts["fill"]))
    return LargeBody(texts["prefix"], texts["fill"], count, texts["suffix"])


def _bool(raw: dict[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{where}.{key}: expected true or false")
    return value


def _event(raw: Any, where: str) -> SseEvent:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object")
    _only(raw, {"event", "data", "id", "retry", "comment", "delay_ms"}, where)
    texts: dict[str, str | None] = {}
    for key in ("event", "data", "id", "comment"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{where}.{key}: expected a string")
        if key != "data" and key != "comment" and isinstance(value, str) and "\n" in value:
            raise ValueError(f"{where}.{key}: must be a single line")
        texts[key] = value
    retry = _int(raw, "retry", where, default=-1, low=0) if "retry" in raw else None
    delay_ms = _int(raw, "delay_ms", where, default=0, low=0, high=MAX_DELAY_MS)
    return SseEvent(texts["data"], texts["event"], texts["id"], retry, texts["comment"], delay_ms)


def _headers(raw: Any, where: str) -> tuple[tuple[str, str], ...]:
    """Headers as an object or a list of [name, value] pairs (to repeat a name)."""
    if raw is None:
        return ()
    pairs = list(raw.items()) if isinstance(raw, dict) else raw
    if not isinstance(pairs, list):
        raise ValueError(f"{where}: expected an object or a list of [name, value] pairs")
    result: list[tuple[str, str]] = []
    for pair in pairs:
        if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise ValueError(f"{where}: {pair!r} is not a [name, value] pair of strings")
        name, value = pair
        if not name or any(c in name for c in " :\r\n") or "\r" in value or "\n" in value:
            raise ValueError(f"{where}: {name!r} is not a valid header")
        result.append((name, value))
    return tuple(result)


def _int(
    raw: dict[str, Any], key: str, where: str, *, default: int, low: int, high: int | None = None
) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}.{key}: expected an integer")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{where}.{key}: {value} must be {bound}")
    return value


def _only(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValueError(
            f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
