"""Every assertion of the kit: one driver result and the mock's journal against the case.

Drivers only report; the checks live here, once, so that the three SDKs are held to one reading
of each case. `check` returns the list of failures (empty: the case passed).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from polysdk_conformance.cases import Case, Operation
from polysdk_conformance.wire import canonical_value

JsonDict = dict[str, Any]
ERROR_KINDS = ("api", "timeout", "cancelled", "connection", "decode", "invalid_request")


def same(left: Any, right: Any) -> bool:
    """JSON equality where booleans are not numbers and 1 == 1.0 (encoders differ on floats)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and left == right


def first_difference(want: Any, got: Any, where: str = "") -> str:
    """Where two canonical values first differ, as a JSON pointer with both sides."""
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(want.keys() | got.keys()):
            if key not in got:
                return f"{where}/{key}: missing (want {short(want[key])})"
            if key not in want:
                return f"{where}/{key}: unexpected field {short(got[key])}"
            if not same(want[key], got[key]):
                return first_difference(want[key], got[key], f"{where}/{key}")
        return ""
    if isinstance(want, list) and isinstance(got, list):
        for index, (a, b) in enumerate(zip(want, got, strict=False)):
            if not same(a, b):
                return first_difference(a, b, f"{where}/{index}")
        if len(want) != len(got):
            return f"{where}: {len(got)} items, want {len(want)}"
        return ""
    return f"{where or '/'}: got {short(got)}, want {short(want)}"


def short(value: Any, limit: int = 160) -> str:
    """A value as compact JSON (keys sorted), cut to `limit` characters for a message."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- what the case expects the SDK to surface ---------------------------------------------


def _response_value(response: JsonDict) -> Any:
    """The canonical value an SDK surfaces for one scripted response."""
    kind = response["kind"]
    status = response.get("status", 200)
    if kind == "json":
        return None if status == 204 else response.get("body")
    if kind == "text":
        body = response.get("body", "")
        return None if status == 204 or body == "" else body
    if kind == "bytes":
        return {"base64": response.get("body_base64", "")}
    return None


def expected_value(case: Case) -> Any:
    if "value" in case.expect:
        return case.expect["value"]
    return _response_value(case.steps[-1]["response"])


def expected_events(case: Case) -> list[Any] | None:
    """The events of the scripted SSE responses, in order, up to drops and `take`."""
    if "events" in case.expect:
        return list(case.expect["events"])
    events: list[Any] = []
    for step in case.steps:
        response = step["response"]
        if response["kind"] == "connect_stream":
            played_messages = _connect_messages(response)
            if played_messages is None:
                return None
            events += played_messages
            continue
        if response["kind"] != "sse":
            continue
        played = response.get("events", [])
        if "drop_after" in response:
            played = played[: response["drop_after"]]
        for event in played:
            if event.get("data") is None:
                continue
            try:
                events.append(json.loads(event["data"]))
            except ValueError:
                return None  # not derivable; the case must say what it expects
    return events[: case.take] if case.take is not None else events


def _connect_messages(response: JsonDict) -> list[Any] | None:
    """The messages of a connect_stream response that an SDK surfaces as events: `messages`, then
    well-formed message envelopes; None when a hostile envelope makes it a matter for the case."""
    messages = list(response.get("messages", []))
    for item in response.get("envelopes", []):
        if item.get("flag", 0) != 0 or "json" not in item or {"cut", "declared_length"} & set(item):
            return None
        messages.append(item["json"])
    return messages


def expected_pages(case: Case) -> list[Any]:
    if "pages" in case.expect:
        return list(case.expect["pages"])
    pages = [_response_value(step["response"]) for step in case.steps if step["response"]["kind"] == "json"]
    return pages[: case.take] if case.take is not None else pages


def expected_items(case: Case, operation: Operation) -> list[Any]:
    if "items" in case.expect:
        return list(case.expect["items"])
    items: list[Any] = []
    for page in (_response_value(s["response"]) for s in case.steps if s["response"]["kind"] == "json"):
        if operation.items_field is None and isinstance(page, list):
            items += page
        elif isinstance(page, dict) and isinstance(page.get(operation.items_field or ""), list):
            items += page[operation.items_field or ""]
    return items[: case.take] if case.take is not None else items


# -- the checks ---------------------------------------------------------------------------


def check(case: Case, operation: Operation, result: JsonDict, report: JsonDict) -> list[str]:
    """Failures of one SDK's run of a case: surfaced outcome, then the wire."""
    failures = _surfaced(case, operation, result)
    failures += _wire(case, result, report)
    return failures


def _surfaced(case: Case, operation: Operation, result: JsonDict) -> list[str]:
    outcome = result.get("outcome")
    if outcome == "driver_error":
        return [f"the driver failed: {result.get('message', '')}"]
    want = case.expect.get("outcome", "ok")
    error = result.get("error") or {}
    if want == "ok" and outcome != "ok":
        return [f"expected success, got {error.get('kind')} error: {short(error.get('message', ''))}"]
    failures: list[str] = []
    if want == "error":
        if outcome != "error":
            return [f"expected a {case.expect['error']['kind']} error, got success"]
        failures += _error(case.expect["error"], error)
    else:
        failures += _value(case, operation, result)
    if case.mode != "call" and want == "error":
        failures += _collected(case, operation, result, partial=True)
    return failures


def _error(want: JsonDict, got: JsonDict) -> list[str]:
    failures = []
    if got.get("kind") not in ERROR_KINDS:
        failures.append(f"an untyped error ({got.get('kind')!r}): {short(got.get('message', ''))}")
    elif got.get("kind") != want["kind"]:
        failures.append(f"error kind {got.get('kind')}, want {want['kind']}: {short(got.get('message', ''))}")
    for key in ("status", "code", "request_id"):
        if key in want and got.get(key) != want[key]:
            failures.append(f"error {key} {got.get(key)!r}, want {want[key]!r}")
    if "details" in want and not same(want["details"], got.get("details")):
        failures.append(f"error details {short(got.get('details'))}, want {short(want['details'])}")
    for text in want.get("message_includes", ()):
        if text not in str(got.get("message") or ""):
            failures.append(f"the error's message does not name {text!r}: {short(got.get('message', ''))}")
    for secret in want.get("message_excludes", ()):
        for field in ("message", "debug"):
            if secret in str(got.get(field) or ""):
                failures.append(f"the error's {field} reveals the secret {secret!r}")
    return failures


def _value(case: Case, operation: Operation, result: JsonDict) -> list[str]:
    failures: list[str] = []
    if case.mode == "call":
        want, got = canonical_value(expected_value(case)), canonical_value(result.get("value"))
        if not same(want, got):
            failures.append(f"value differs at {first_difference(want, got)}")
        if "http_status" in case.expect and result.get("http_status") != case.expect["http_status"]:
            failures.append(f"http_status {result.get('http_status')}, want {case.expect['http_status']}")
        surfaced = result.get("response_headers") or {}
        for name, value in case.expect.get("response_headers", {}).items():
            if surfaced.get(name.lower()) != value:
                failures.append(f"response header {name}: {surfaced.get(name.lower())!r}, want {value!r}")
        return failures
    return _collected(case, operation, result, partial=False)


def _collected(case: Case, operation: Operation, result: JsonDict, *, partial: bool) -> list[str]:
    """Pages, items or events; after an error only those the case names are checked."""
    key = {"pages": "pages", "items": "items", "stream": "events"}[case.mode]
    if partial and key not in case.expect:
        return []
    if case.mode == "pages":
        want: list[Any] | None = expected_pages(case)
    elif case.mode == "items":
        want = expected_items(case, operation)
    else:
        want = expected_events(case)
    if want is None:
        return [f"the case must list the expected {key}: they cannot be derived from its responses"]
    got = result.get(key)
    if not isinstance(got, list):
        return [f"the driver reported no {key}"]
    want, got = canonical_value(want), canonical_value(got)
    if not same(want, got):
        return [f"{key} differ at {first_difference(want, got)}"]
    return []


def _wire(case: Case, result: JsonDict, report: JsonDict) -> list[str]:
    failures: list[str] = []
    journal = report.get("journal", [])
    for entry in report.get("unexpected", []):
        failures.append(
            f"unexpected request {entry['method']} {entry['path']}"
            f"{'?' + entry['query'] if entry['query'] else ''}: {entry.get('mismatch', '')}"
        )
    optional = case.optional_steps()
    for step in report.get("unmatched_steps", []):
        if step["step"] in optional:
            continue
        failures.append(
            f"expected but not received: step {step['step']} {step['method']} {step['path']} "
            f"({step['received']} of {step['times']} times)"
        )
    for entry in [] if case.expect.get("allow_violations") else journal:
        for violation in entry.get("violations", []):
            failures.append(f"request {entry['seq']} breaks the contract: {violation}")
    expect = case.expect
    if "attempts" in expect:
        if len(journal) != expect["attempts"]:
            failures.append(f"the server received {len(journal)} requests, want {expect['attempts']}")
        reported = result.get("attempts")
        if reported is not None and case.mode == "call" and reported != len(journal):
            failures.append(f"the SDK reports {reported} attempts; the server received {len(journal)}")
    window: JsonDict = expect.get("elapsed_ms") or {}
    elapsed = result.get("elapsed_ms")
    too_fast = isinstance(elapsed, int | float) and elapsed < window.get("min", 0)
    too_slow = isinstance(elapsed, int | float) and elapsed > window.get("max", float("inf"))
    if too_fast or too_slow:
        failures.append(f"took {elapsed:.0f} ms, want {window.get('min', 0)}..{window.get('max', '∞')} ms")
    failures += _headers(expect.get("wire", {}), journal)
    return failures


def header(entry: JsonDict, name: str) -> list[str]:
    return [value for key, value in entry["headers"] if key.lower() == name.lower()]


def body_bytes(entry: JsonDict) -> bytes:
    try:
        return base64.b64decode(entry.get("body_base64", ""))
    except (binascii.Error, ValueError):
        return b""


def multipart_parts(entry: JsonDict) -> list[JsonDict] | None:
    """The parts of a multipart/form-data body as name, filename, content type and content."""
    content_type = next(iter(header(entry, "content-type")), "")
    if not content_type.lower().startswith("multipart/"):
        return None
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body_bytes(entry)
    )
    if not message.is_multipart():
        return None
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        parts.append(
            {
                "name": part.get_param("name", header="content-disposition"),
                "filename": part.get_filename(),
                "content_type": part.get_content_type() if part.get("content-type") else None,
                "content": content,
            }
        )
    return parts


def _headers(wire: JsonDict, journal: list[JsonDict]) -> list[str]:
    failures: list[str] = []
    for index, entry in enumerate(journal):
        label = f"request {index + 1}"
        for name in wire.get("present", ()):
            if not header(entry, name):
                failures.append(f"{label}: header {name} is missing")
        for name in wire.get("absent", ()):
            if header(entry, name):
                failures.append(f"{label}: header {name} must not be sent (got {header(entry, name)!r})")
        for name, value in wire.get("equals", {}).items():
            if header(entry, name) != [value]:
                failures.append(f"{label}: header {name} is {header(entry, name)!r}, want [{value!r}]")
        for name, pattern in wire.get("matches", {}).items():
            values = header(entry, name)
            if len(values) != 1 or not re.search(pattern, values[0]):
                failures.append(f"{label}: header {name} is {values!r}, which does not match {pattern!r}")
        if "content_type" in wire:
            media = next(iter(header(entry, "content-type")), "").split(";")[0].strip().lower()
            if media != wire["content_type"]:
                failures.append(f"{label}: content type {media!r}, want {wire['content_type']!r}")
        if "body_base64" in wire and entry.get("body_base64") != wire["body_base64"]:
            failures.append(f"{label}: the body bytes differ from body_base64")
        if "form" in wire:
            got = dict(parse_qsl(body_bytes(entry).decode("utf-8", "replace"), keep_blank_values=True))
            if got != wire["form"]:
                failures.append(f"{label}: form fields {got!r}, want {wire['form']!r}")
        if "multipart" in wire:
            failures += [f"{label}: {problem}" for problem in _multipart(wire["multipart"], entry)]
    for name in wire.get("same_across_attempts", ()):
        seen = {tuple(header(entry, name)) for entry in journal}
        if len(seen) > 1:
            failures.append(f"header {name} changed between attempts: {sorted(seen)!r}")
    return failures


def _multipart(want: list[JsonDict], entry: JsonDict) -> list[str]:
    parts = multipart_parts(entry)
    if parts is None:
        return ["the body is not multipart/form-data"]
    names = [part["name"] for part in parts]
    if names != [part["name"] for part in want]:
        return [f"multipart part names {names!r}, want {[p['name'] for p in want]!r}"]
    failures = []
    for expected, part in zip(want, parts, strict=True):
        for key in ("filename", "content_type"):
            if key in expected and part[key] != expected[key]:
                failures.append(f"part {part['name']}: {key} {part[key]!r}, want {expected[key]!r}")
        content = part["content"]
        if "text" in expected and content != expected["text"].encode("utf-8"):
            failures.append(f"part {part['name']}: content {content[:80]!r}, want {expected['text']!r}")
        if "base64" in expected and content != base64.b64decode(expected["base64"]):
            failures.append(f"part {part['name']}: content differs from base64")
    return failures
