"""JSON pointers into YAML and JSON files, for located messages (contracts and case files alike)."""

from __future__ import annotations

from pathlib import Path

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def join_pointer(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join("/" + escape_pointer_token(str(t)) for t in tokens)


def line_of(path: str, pointer: str) -> int | None:
    """The 1-based line of a JSON pointer in a YAML/JSON file, for error messages only."""
    try:
        node = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError, UnicodeDecodeError, RecursionError):
        # RecursionError: the pure-Python composer recurses per level of a deeply nested file.
        return None
    return node_line(node, pointer)


def node_line(root: yaml.Node | None, pointer: str) -> int | None:
    """The 1-based line of a JSON pointer in a composed YAML document: the deepest node the
    pointer reaches (its parent's when a token matches nothing)."""
    node = root
    for token in (t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]):
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == token), None)
        elif isinstance(node, yaml.SequenceNode) and token.isdigit() and int(token) < len(node.value):
            match = node.value[int(token)]
        else:
            match = None
        if match is None:
            break
        node = match
    return node.start_mark.line + 1 if node is not None else None


class LocatedFileError(Exception):
    """A data file (case file, SLO file) that cannot be used: one message located at
    `file:line at #/pointer`, with a hint of what to do, printed with exit code 2."""

    def __init__(self, file: Path | str, pointer: str, message: str, hint: str = "") -> None:
        self.file, self.pointer, self.message, self.hint = str(file), pointer, message, hint
        super().__init__(str(self))

    def __str__(self) -> str:
        line = line_of(self.file, self.pointer) if self.pointer else None
        where = f"{self.file}:{line}" if line else self.file
        text = f"{where} at #{self.pointer}: {self.message}" if self.pointer else f"{where}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text
