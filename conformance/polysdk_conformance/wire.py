"""Canonical forms of what travels on the wire, so that equivalent encodings compare equal.

Two SDKs may percent-encode differently and both be right: `labels[team]` and `labels%5Bteam%5D`
reach a server as the same name. What must never be equivalent is a delimiter and its escaped
form: `a%2Fb` is one path segment and `a/b` is two; `a,b` is a two-item list and `a%2Cb` one
value. Canonical form therefore decodes needless escapes and keeps the significant ones encoded
(upper-case hex), following RFC 3986 section 6.2.2 with the delimiters of each component kept.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

# Characters whose escaped and literal forms mean different things.
_PATH_SIGNIFICANT = frozenset(b"/?#%")
_QUERY_SIGNIFICANT = frozenset(b"&=+%#")
_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")


def _canonical(text: str, significant: frozenset[int], plus_is_space: bool) -> str:
    plain = text.isascii() and text.isprintable() and " " not in text and "%" not in text
    if plain and not (plus_is_space and "+" in text):
        return text  # nothing escaped and nothing to escape: already canonical
    raw = text.encode("utf-8")
    out: list[str] = []
    i = 0
    while i < len(raw):
        byte = raw[i]
        match = _ESCAPE.match(raw, i) if byte == 0x25 else None
        if match:
            value = int(match.group(1), 16)
            i += 3
        elif byte == 0x2B and plus_is_space:
            value = 0x20
            i += 1
        else:
            # A literal byte: keep it literal when it is a printable ASCII character.
            i += 1
            if 0x21 <= byte < 0x7F:
                out.append(chr(byte))
            else:
                out.append(f"%{byte:02X}")
            continue
        if value in significant or value < 0x21 or value >= 0x7F:
            out.append(f"%{value:02X}")
        else:
            out.append(chr(value))
    return "".join(out)


def canonical_path(path: str) -> str:
    """A path with needless escapes decoded; `%2F`, `%3F`, `%23`, `%25` and non-ASCII stay encoded."""
    return _canonical(path, _PATH_SIGNIFICANT, plus_is_space=False)


def canonical_query(query: str) -> str:
    """A query with needless escapes decoded (`+` is a space, shown as `%20`) and its parameters
    in name order. The order of distinct names carries no meaning; the order of one name's
    repeated values does (`status=a&status=b`), so the sort is stable."""
    pairs = [_canonical(pair, _QUERY_SIGNIFICANT, plus_is_space=True) for pair in query.split("&") if pair]
    return "&".join(sorted(pairs, key=lambda pair: pair.partition("=")[0]))


_DATE_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def canonical_time(text: str) -> str | None:
    """An RFC 3339 date-time as UTC with a trimmed fraction (`...T07:02:03.5Z`), else None."""
    match = _DATE_TIME.match(text)
    if not match:
        return None
    fraction = (match.group(7) or ".")[1:]
    zone = match.group(8).upper().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(f"{text[:19].replace('t', 'T')}{zone}").astimezone(UTC)
    except ValueError:
        return None
    digits = fraction.rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{digits}" if digits else "") + "Z"


def canonical_value(value: Any) -> Any:
    """A JSON value with every RFC 3339 date-time string in canonical UTC form.

    SDKs re-encode times in their own style (offsets, trailing zeros); the instant is what must
    agree. A plain string that happens to look like a date-time is normalised on both sides of a
    comparison alike, so nothing can pass that should fail except a changed time zone spelling."""
    if isinstance(value, str):
        return canonical_time(value) or value
    if isinstance(value, list):
        return [canonical_value(item) for item in value]
    if isinstance(value, dict):
        return {key: canonical_value(item) for key, item in value.items()}
    return value
