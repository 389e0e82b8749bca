"""Safe literals and comments for untrusted contract text.

Every string or comment that carries text from the contract goes through one of these functions.
String literals escape everything that is not printable ASCII, so no quote, backtick, `${`,
newline, `\\u2028` or bidi control can end or reinterpret the literal. Comments are split on every
kind of line break and neutralise the sequences that could end the comment or inject code.
"""

from __future__ import annotations

import re
from functools import lru_cache

# What a string literal carries as is: printable ASCII but the quote and the backslash (backticks,
# `$` and `'` are inert in a double-quoted literal of every target language).
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
# Contract text repeats (a description shared by fields, and every text is rendered once per
# language): the caches answer the repeats. Bounded, for long-lived processes.
_CACHE_SIZE = 1 << 16


def _escape(text: str, astral: str, bmp: str) -> str:
    def escaped(match: re.Match[str]) -> str:
        char = match.group()
        short = _SHORT_ESCAPES.get(char)
        if short is not None:
            return short
        return (astral if ord(char) > 0xFFFF else bmp).format(ord(char))

    return '"' + _UNSAFE.sub(escaped, text) + '"'


@lru_cache(maxsize=_CACHE_SIZE)
def go_string(text: str) -> str:
    """An interpreted Go string literal."""
    return _escape(text, "\\U{:08x}", "\\u{:04x}")


@lru_cache(maxsize=_CACHE_SIZE)
def rust_string(text: str) -> str:
    """A Rust string literal."""
    return _escape(text, "\\u{{{:x}}}", "\\u{{{:x}}}")


def _ts_escaped(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    if code > 0xFFFF:  # a surrogate pair: JavaScript strings are UTF-16
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


@lru_cache(maxsize=_CACHE_SIZE)
def ts_string(text: str) -> str:
    """A TypeScript double-quoted string literal (backticks and `${` are inert inside it)."""
    return '"' + _UNSAFE.sub(_ts_escaped, text) + '"'


# Characters that end a line in some language or editor, and controls that can hide text.
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def comment_lines(text: str) -> list[str]:
    """Contract text as clean comment lines: one per line break, controls removed, trailing
    whitespace stripped, leading and trailing blank lines dropped, runs of blank lines collapsed."""
    return list(_comment_lines(text))


@lru_cache(maxsize=_CACHE_SIZE)
def _comment_lines(text: str) -> tuple[str, ...]:
    lines = [_CONTROLS.sub("", line).rstrip() for line in _LINE_BREAKS.split(text.expandtabs(4))]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return tuple(out)


def line_comment(text: str, marker: str) -> list[str]:
    """`// text` style comment lines (Go `//`, Rust `///`): a line comment cannot be closed early."""
    return list(_line_comment(text, marker))


@lru_cache(maxsize=_CACHE_SIZE)
def _line_comment(text: str, marker: str) -> tuple[str, ...]:
    return tuple(f"{marker} {line}" if line else marker for line in _comment_lines(text))


def block_comment_safe(line: str) -> str:
    """Text for a `/* */` or JSDoc comment: `*/` would close it, so it becomes `*\\/`."""
    return line.replace("*/", "*\\/")
