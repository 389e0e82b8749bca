"""Rust doc comments: contract text as `///` lines that rustdoc cannot run as doctests, and
contract names shown as inline code."""

from __future__ import annotations

import re
from functools import lru_cache

from polysdk.literals import comment_lines, rust_string

# Lints the contract's prose can trigger in doc comments, allowed at the top of models.rs and
# lib.rs. Descriptions are Markdown (or HTML) written for other renderers: lazy list
# continuations, over-indented list items, HTML tags and bare URLs are normal there.
DOC_LINT_ALLOWS = (
    "clippy::doc_lazy_continuation",
    "clippy::doc_overindented_list_items",
    "clippy::doc_nested_refdefs",
    "clippy::too_long_first_doc_paragraph",
    "clippy::doc_suspicious_footnotes",
    "rustdoc::all",  # bare URLs, broken or redundant links, HTML tags: all about prose
)

_CONTAINER = re.compile(r"(>|[-*+](?=\s|$)|\d{1,9}[.)](?=\s|$))")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)$")


def _split_containers(line: str) -> tuple[list[str], str]:
    """Block-quote and list markers at the start of a line, and the text after them."""
    rest = line.lstrip()
    markers: list[str] = []
    while match := _CONTAINER.match(rest):
        markers.append(match.group(1))
        rest = rest[match.end() :].lstrip()
    return markers, rest


def _fence_opener(rest: str) -> str | None:
    match = _FENCE.match(rest)
    if match is None or (match.group(1)[0] == "`" and "`" in match.group(2)):
        return None  # a backtick fence's info string cannot hold a backtick: inline code
    return match.group(1)


def _fence_closer(rest: str, fence: str) -> bool:
    text = rest.rstrip()
    return len(text) >= len(fence) and set(text) == {fence[0]}


def rustdoc_lines(text: str) -> list[str]:
    """Contract text as Markdown lines for a doc comment that rustdoc cannot run as a doctest.

    A doctest comes from a fenced code block without a language or from an indented code block.
    So every fence opener becomes ```text (moved to column 0, out of any list or quote) and its
    closer is moved to column 0 too; elsewhere, indentation is capped at three spaces and the space
    after list and quote markers at one, so no line can start an indented code block. In a text
    with fences, a `<` that starts a line is escaped so that no HTML block can hide a fence from
    CommonMark while this function counts it: openers and closers are then paired exactly as
    rustdoc pairs them, and no closer can be read as a bare opener."""
    return list(_rustdoc_lines(text))


@lru_cache(maxsize=1 << 16)  # descriptions repeat across a contract's fields
def _rustdoc_lines(text: str) -> tuple[str, ...]:
    lines = comment_lines(text)
    fenced = any(_fence_opener(_split_containers(line)[1]) for line in lines)
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        markers, rest = _split_containers(line)
        if fence is not None:
            if _fence_closer(rest, fence):
                out.append(fence)
                fence = None
            else:
                out.append(line)
            continue
        opener = _fence_opener(rest)
        if opener is not None:
            fence = opener
            out.append(opener + "text")
            continue
        if fenced and rest.startswith("<"):
            rest = "&lt;" + rest[1:]
        indent = min(len(line) - len(line.lstrip()), 3)
        out.append(" " * indent + " ".join([*markers, rest]).rstrip() if (markers or rest) else "")
    return tuple(out)


def doc(text: str, fallback: str = "", marker: str = "///") -> list[str]:
    """Doc comment lines for a symbol: the contract's text, else a generated sentence."""
    lines = rustdoc_lines(text) or rustdoc_lines(fallback)
    return [f"{marker} {line}" if line else marker for line in lines]


_PLAIN = re.compile(r"^[A-Za-z0-9_.:/@$+-][A-Za-z0-9_.:/@$+ -]*$")


def code(text: str) -> str:
    """Contract text shown as inline code in a doc comment: as is when plain, else as a Rust
    string literal (one line, quotes and controls escaped), never holding a backtick."""
    shown = text if _PLAIN.match(text) and not text.endswith(" ") else rust_string(text)
    return "`" + shown.replace("`", "\\u{60}") + "`"


def inline(text: str) -> str:
    """Contract text inside inline code that is already open: escaped as in a Rust string
    literal (so nothing can end the comment line), without backticks."""
    return rust_string(text).removeprefix('"').removesuffix('"').replace("`", "")
