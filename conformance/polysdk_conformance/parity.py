"""Parity: the three SDKs' results and journals for one case, compared with each other.

Independent of the expectation: two SDKs that fail a case the same way are at parity, and two
that pass it may still differ on something the case does not pin down (a header, an attempt, a
field). Each difference is reported as the aspect and each SDK's form of it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from polysdk_conformance.expect import body_bytes, header, multipart_parts, same, short
from polysdk_conformance.scenario import CONNECT_STREAM_MEDIA, parse_envelopes
from polysdk_conformance.wire import canonical_path, canonical_query, canonical_value

JsonDict = dict[str, Any]

# Headers the HTTP stack chooses, not the SDK: they legitimately differ between languages.
TRANSPORT_HEADERS = frozenset(
    {
        "host",
        "user-agent",
        "content-length",
        "transfer-encoding",
        "connection",
        "accept-encoding",
        "accept-language",
        "sec-fetch-mode",
        "keep-alive",
    }
)
# Generated per call: compared by where they repeat, not by value.
GENERATED_HEADERS = frozenset({"idempotency-key"})


def signature(result: JsonDict, journal: list[JsonDict]) -> dict[str, Any]:
    """What must be identical across SDKs, keyed by aspect."""
    error = result.get("error") or {}
    surfaced: dict[str, Any] = {
        "outcome": result.get("outcome"),
        "error": {key: error.get(key) for key in ("kind", "status", "code", "request_id")} if error else None,
    }
    for key in ("value", "pages", "items", "events"):
        if key in result:
            surfaced[key] = canonical_value(result[key])
    keys: dict[str, str] = {}
    requests = [_request(entry, keys) for entry in journal]
    surfaced["requests"] = len(requests)
    for index, request in enumerate(requests):
        for field, value in request.items():
            if field == "headers":
                for name, values in value.items():
                    surfaced[f"request {index + 1} header {name}"] = values
            else:
                surfaced[f"request {index + 1} {field}"] = value
    return surfaced


def _request(entry: JsonDict, keys: dict[str, str]) -> JsonDict:
    headers: dict[str, list[str]] = {}
    for name, value in entry["headers"]:
        lower = name.lower()
        if lower in TRANSPORT_HEADERS:
            continue
        if lower in GENERATED_HEADERS:
            value = keys.setdefault(value, f"<generated {len(keys) + 1}>")
        elif lower == "content-type":
            value = value.split(";")[0].strip().lower()  # multipart boundaries differ
        headers.setdefault(lower, []).append(value)
    return {
        "origin": entry.get("origin", "primary"),  # which of the mock's two origins it reached
        "method": entry["method"],
        "path": canonical_path(entry["path"]),
        "query": canonical_query(entry["query"]),
        "headers": dict(sorted(headers.items())),
        "body": _body(entry),
    }


def _body(entry: JsonDict) -> Any:
    data = body_bytes(entry)
    if not data:
        return None
    parts = multipart_parts(entry)
    if parts is not None:
        return [{**part, "content": base64.b64encode(part["content"]).decode("ascii")} for part in parts]
    media = next(iter(header(entry, "content-type")), "").split(";")[0].strip().lower()
    if media == CONNECT_STREAM_MEDIA:  # one envelope: compared by its flag and JSON
        found, rest = parse_envelopes(data)
        if len(found) == 1 and not rest:
            flag, payload = found[0]
            try:
                return {"envelope_flag": flag, "json": json.loads(payload)}
            except ValueError:
                pass
    if media.endswith("json"):
        try:
            return json.loads(data)
        except ValueError:
            pass
    return base64.b64encode(data).decode("ascii")


def format_signature(result: JsonDict, journal: list[JsonDict]) -> dict[str, Any]:
    """What must be identical when one SDK runs a case from both contract formats (OpenAPI and
    proto): the surfaced outcome, and each request's method, path, query and body. Headers are
    left out: each contract declares its own (Accept, content types of errors)."""
    return format_form(signature(result, journal))


def format_form(found: dict[str, Any]) -> dict[str, Any]:
    """A signature() as format_signature() has it: without the request headers."""
    return {aspect: form for aspect, form in found.items() if " header " not in aspect}


def compare_formats(per_language: dict[str, dict[str, dict[str, Any]]]) -> Comparison:
    """Each SDK's OpenAPI run of a case against its proto run ({language: {contract: signature}}):
    the divergences name the SDK; the outliers are the SDKs whose two runs differ."""
    found: list[str] = []
    odd: list[str] = []
    details: list[Difference] = []
    for language, by_contract in per_language.items():
        if len(by_contract) < 2:
            continue
        compared = compare(by_contract)
        found += [f"{language}: {difference}" for difference in compared.divergences]
        details += [
            Difference(f"{language}: {difference.aspect}", difference.forms, language)
            for difference in compared.differences
        ]
        if compared.divergences:
            odd.append(language)
    return Comparison(found, odd, details)


@dataclass(frozen=True)
class Difference:
    """One aspect on which the runs differ, with each run's whole form of it (for a side-by-side
    diff; `divergences` holds the same cut to one line)."""

    aspect: str
    forms: dict[str, Any]  # by SDK (or, across formats, by contract); ABSENT where a run has none
    sdk: str = ""  # across formats: the SDK whose two runs these are


ABSENT = "<absent>"


@dataclass(frozen=True)
class Comparison:
    divergences: list[str]  # each aspect on which the SDKs differ, with every SDK's form of it
    outliers: list[str]  # the SDKs that differ from the majority (all of them when there is none)
    differences: list[Difference] = dataclasses.field(default_factory=list)  # the divergences, unabridged


def compare(signatures: dict[str, dict[str, Any]]) -> Comparison:
    """The SDKs' signatures compared aspect by aspect."""
    found: list[str] = []
    odd: set[str] = set()
    details: list[Difference] = []
    for aspect in sorted({key for sig in signatures.values() for key in sig}, key=_aspect_order):
        forms = {lang: sig.get(aspect, ABSENT) for lang, sig in signatures.items()}
        groups: list[list[str]] = []  # SDKs whose forms are the same
        for lang, form in forms.items():
            group = next((g for g in groups if same(forms[g[0]], form)), None)
            if group is None:
                groups.append([lang])
            else:
                group.append(lang)
        if len(groups) < 2:
            continue
        found.append(f"{aspect}: " + "; ".join(f"{lang}: {short(form, 300)}" for lang, form in forms.items()))
        details.append(Difference(aspect, forms))
        largest = max(len(g) for g in groups)
        majority = [g for g in groups if len(g) == largest]
        odd.update(lang for g in groups if len(majority) > 1 or g is not majority[0] for lang in g)
    return Comparison(found, sorted(odd), details)


def _aspect_order(aspect: str) -> tuple[int, str]:
    order = ["outcome", "error", "value", "pages", "items", "events", "requests"]
    return (order.index(aspect), aspect) if aspect in order else (len(order), aspect)
