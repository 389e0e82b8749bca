"""Contract descriptions (CommonMark, as OpenAPI says they are) as Go doc comments.

Go doc has its own syntax (https://go.dev/doc/comment): `# Heading` lines, lists as indented `-`
or `1.` lines, code blocks as indented lines, and links as `[Text]` with a `[Text]: URL` definition
at the end. Raw Markdown reads badly on pkg.go.dev and in `go doc` (`## Conventions`,
`**open**`), and an indented Markdown line would turn into a code block. The text stays untrusted:
`literals.comment_lines` splits it on every line break and drops control characters before
anything here sees it, and each line becomes a `//` comment, which nothing in it can end."""

from __future__ import annotations

import re

from polysdk.literals import comment_lines

_FENCE = re.compile(r"^ {0,3}(```+|~~~+)")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_BULLET = re.compile(r"^( *)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^( *)(\d{1,9})[.)]\s+(.*)$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_LINK = re.compile(r"(!?)\[([^\[\]]+)\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<(https?://[^\s<>]+)>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
# Single-star emphasis only: `_` also sits inside identifiers (snake_case) that must stay as written.
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*(?![\w*])")
_DEFINITION = re.compile(r"^ {0,3}\[([^\[\]]+)\]:\s*<?(https?://[^\s<>]+)>?\s*$")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


class _Links:
    """The `[Text]: URL` definitions a comment ends with, one per text."""

    def __init__(self) -> None:
        self.urls: dict[str, str] = {}

    def inline(self, match: re.Match[str]) -> str:
        image, text, url = match.group(1), " ".join(match.group(2).split()), match.group(3)
        if image or not url.startswith(("http://", "https://")):
            return text  # an image or a relative link: its text is what a reader can use
        if self.urls.setdefault(text, url) != url:
            return f"{text} ({url})"  # Go doc has one URL per link text
        return f"[{text}]"

    def definitions(self) -> list[str]:
        return [f"[{text}]: {url}" for text, url in self.urls.items()]


def _inline(text: str, links: _Links) -> str:
    text = _HTML_BREAK.sub(" ", text)
    text = _LINK.sub(links.inline, text)
    text = _AUTOLINK.sub(r"\1", text)  # Go doc links bare URLs itself
    text = _STRONG.sub(r"\2", text)
    return _EMPHASIS.sub(r"\1", text)


def go_doc_lines(markdown: str) -> list[str]:
    """The text of a Go doc comment (without `//`) for a Markdown description."""
    links = _Links()
    out: list[str] = []
    fence = ""  # the open code fence, if any

    def blank() -> None:
        if out and out[-1]:
            out.append("")

    for line in comment_lines(markdown):
        if fence:
            if line.strip().startswith(fence):
                fence = ""
                blank()
            else:
                out.append("\t" + line if line.strip() else "")
            continue
        opened = _FENCE.match(line)
        if opened:
            fence = opened.group(1)[0] * 3
            blank()
            continue
        if not line.strip():
            blank()
            continue
        if line.startswith(("    ", "\t")) and (not out or not out[-1] or out[-1].startswith("\t")):
            out.append("\t" + line.strip())  # an indented code block stays one
            continue
        heading = _HEADING.match(line)
        if heading:
            blank()
            out.extend([f"# {_inline(heading.group(1), links)}", ""])
            continue
        if _RULE.match(line):
            blank()
            continue
        definition = _DEFINITION.match(line)
        if definition:  # a Markdown link reference definition: Go doc's own syntax, at the end
            links.urls.setdefault(" ".join(definition.group(1).split()), definition.group(2))
            continue
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        if bullet:  # Go doc has no nested lists: every item is one level
            out.append(f"  - {_inline(bullet.group(2), links)}")
        elif numbered:
            # gofmt's layout: the number right-aligned so that its period is in column 3.
            out.append(f"{numbered.group(2) + '.':>3} {_inline(numbered.group(3), links)}")
        elif out and out[-1].startswith(" ") and line.startswith(" "):
            # A list item's next line (only list lines start with a space here; code has a tab).
            out.append(f"    {_inline(line.strip(), links)}")
        else:
            out.append(_inline(line.strip(), links))
    while out and not out[-1]:
        out.pop()
    if links.urls:
        out += ["", *links.definitions()]
    return out


def go_doc(markdown: str) -> list[str]:
    """`//` comment lines of a Markdown description, in Go doc syntax."""
    return [
        f"//{line}" if not line or line.startswith("\t") else f"// {line}" for line in go_doc_lines(markdown)
    ]
