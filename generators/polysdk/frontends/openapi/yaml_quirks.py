"""YAML that js-yaml reads and libyaml refuses, read as js-yaml reads it.

Redocly, openapi-typescript and most of the JavaScript tooling parse contracts with js-yaml, so
published contracts contain what it tolerates. Two quirks, checked against js-yaml 4.1 on small
fixtures (tests/fixtures/yaml_quirks/):

- C1 control characters (U+0080-U+009F) inside a scalar, usually Windows-1252 punctuation
  decoded as Latin-1 (U+0092 for a right quote, U+0085 for an ellipsis). libyaml refuses the
  whole file ("unacceptable character"); they are kept as written.
- A line holding only whitespace with a tab in it (or such whitespace and a comment), typically
  an "empty" line inside a long Markdown description. libyaml reads the tab as indentation and
  refuses the file; js-yaml reads a blank line, as does this.

Other plain-scalar quirks a reader might expect here (`: ` or ` #` inside a multi-line plain
scalar, a tab that indents content) are refused by js-yaml too, so they stay errors.

The repair is only tried after libyaml has refused the text, so valid YAML keeps the fast path
and its exact meaning. It keeps every line where it was, so locations stay right.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_C1 = re.compile("[\x80-\x9f]")
# Whitespace-only lines that hold a tab, optionally followed by a comment.
_TAB_BLANK = re.compile(r"^[ \t]*\t[ \t]*(?:#[^\n]*)?$", re.MULTILINE)
_PRIVATE_USE = (0xE000, 0xF8FF)
_LINES_SHOWN = 5


@dataclass
class Repair:
    """A text libyaml can read, what was changed (one note per quirk, with the lines), and the
    placeholders to turn back into the characters they stand for once the text is parsed."""

    text: str
    notes: list[tuple[int, str]] = field(default_factory=list)  # (first line, what was done)
    _placeholders: dict[int, str] = field(default_factory=dict)  # for str.translate

    def restore(self, data: Any) -> Any:
        """`data` (parsed from `text`) with the placeholders replaced by the original characters."""
        if not self._placeholders:
            return data
        table = self._placeholders
        marks = frozenset(chr(code) for code in table)

        def fix(text: str) -> str:
            return text.translate(table) if not marks.isdisjoint(text) else text

        root: list[Any] = [data]
        pending: list[tuple[Any, Any]] = [(root, 0)]
        seen: set[int] = set()
        while pending:
            holder, key = pending.pop()
            value = holder[key]
            if isinstance(value, str):
                holder[key] = fix(value)
            elif isinstance(value, (dict, list)) and id(value) not in seen:
                seen.add(id(value))  # shared by a YAML alias: fixed once
                if isinstance(value, dict) and any(
                    not marks.isdisjoint(k) for k in value if isinstance(k, str)
                ):
                    items = [(fix(k) if isinstance(k, str) else k, v) for k, v in value.items()]
                    value.clear()
                    value.update(items)
                keys = value.keys() if isinstance(value, dict) else range(len(value))
                pending.extend((value, k) for k in keys)
        return root[0]


def repair(text: str) -> Repair | None:
    """The text with the quirks above made readable by libyaml, or None when it has none."""
    c1 = sorted(set(_C1.findall(text)))
    line_at = _line_finder(text)
    tab_lines = [line_at(match.start()) for match in _TAB_BLANK.finditer(text)]
    base = _free_block(text, len(c1)) if c1 else None
    if base is None and not tab_lines:
        return None
    result = Repair(text)
    if c1 and base is not None:
        forward = {ord(char): chr(base + index) for index, char in enumerate(c1)}
        result._placeholders = {ord(chr(base + index)): char for index, char in enumerate(c1)}
        lines = sorted({line_at(m.start()) for m in _C1.finditer(text)})
        names = ", ".join(f"U+{ord(char):04X}" for char in c1)
        result.notes.append(
            (
                lines[0],
                f"C1 control characters ({names}) on {_lines(lines)}, which libyaml refuses, are kept "
                "as written, as js-yaml reads them (often Windows-1252 punctuation decoded as Latin-1)",
            )
        )
        result.text = result.text.translate(forward)
    if tab_lines:
        result.text = _TAB_BLANK.sub("", result.text)
        result.notes.append(
            (
                tab_lines[0],
                f"whitespace-only lines with a tab on {_lines(tab_lines)}, which libyaml reads as "
                "indentation and refuses, are read as blank lines, as js-yaml reads them",
            )
        )
    return result


def _free_block(text: str, size: int) -> int | None:
    """The first code point of `size` private-use characters none of which occur in `text`, or None
    (a contract using thousands of private-use characters is left as libyaml reads it)."""
    used = {ord(char) for char in set(text) if _PRIVATE_USE[0] <= ord(char) <= _PRIVATE_USE[1]}
    base = _PRIVATE_USE[0]
    while base + size - 1 <= _PRIVATE_USE[1]:
        clash = [code for code in range(base, base + size) if code in used]
        if not clash:
            return base
        base = clash[-1] + 1
    return None


def _line_finder(text: str) -> Callable[[int], int]:
    """offset -> 1-based line, by bisection over the newlines (found once)."""
    newlines = [match.start() for match in re.finditer("\n", text)]
    return lambda offset: bisect.bisect_left(newlines, offset) + 1


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(line) for line in lines[:_LINES_SHOWN])
    more = f" and {len(lines) - _LINES_SHOWN} more" if len(lines) > _LINES_SHOWN else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"
