"""Safe literals and comments for untrusted contract text.

Every string or comment that carries text from the contract goes through one of these functions.
String literals escape everything that is not printable ASCII, so no quote, backtick, `${`,
newline, `\\u2028` or bidi control can end or reinterpret the literal. Comments are split on every
kind of line break and neutralise the sequences that could end the comment or inject code.
"""

from __future__ import annotations

import re

_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\", "`", "$", "'"}


def _escape(text: str, astral: str, bmp: str) -> str:
    out = []
    for char in text:
        if char in _SAFE or char in "`$'":
            out.append(char)
        elif char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif ord(char) > 0xFFFF:
            out.append(astral.format(ord(char)))
        else:
            out.append(bmp.format(ord(char)))
    return '"' + "".join(out) + '"'


def go_string(text: str) -> str:
    """An interpreted Go string literal."""
    return _escape(text, "\\U{:08x}", "\\u{:04x}")


def rust_string(text: str) -> str:
    """A Rust string literal."""
    return _escape(text, "\\u{{{:x}}}", "\\u{{{:x}}}")


def ts_string(text: str) -> str:
    """A TypeScript double-quoted string literal (backticks and `${` are inert inside it)."""
    out = []
    for char in text:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(_escape(char, "", "\\u{:04x}")[1:-1])
    return '"' + "".join(out) + '"'


# Characters that end a line in some language or editor, and controls that can hide text.
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def comment_lines(text: str) -> list[str]:
    """Contract text as clean comment lines: one per line break, controls removed, trailing
    whitespace stripped, leading and trailing blank lines dropped, runs of blank lines collapsed."""
    lines = [_CONTROLS.sub("", line).rstrip() for line in _LINE_BREAKS.split(text.expandtabs(4))]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


def line_comment(text: str, marker: str) -> list[str]:
    """`// text` style comment lines (Go `//`, Rust `///`): a line comment cannot be closed early."""
    return [f"{marker} {line}" if line else marker for line in comment_lines(text)]


def block_comment_safe(line: str) -> str:
    """Text for a `/* */` or JSDoc comment: `*/` would close it, so it becomes `*\\/`."""
    return line.replace("*/", "*\\/")
