"""What a language target produces: templated files, runtime files copied verbatim, a formatter.

Each view module (`views/go.py`, ...) returns a `LanguagePlan`; `render.py` executes plans. Keeping
the plan as data means the rendering code is shared and a view is testable without Jinja.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Options:
    """Choices a user makes on the command line, shared by all languages."""

    package_name: str = ""  # base name, e.g. "orchestrator"; derived from info.title when empty
    sdk_version: str = "0.1.0"
    go_module: str = ""  # e.g. github.com/acme/orchestrator-go; derived when empty
    # Emit each SDK's conformance driver (the conformance kit and `nox -s generate` ask for it);
    # a user's SDK leaves it out.
    drivers: bool = False
    # The SDKs' licence as an SPDX id; overrides the contract's info.license (decisions/package.py).
    license: str = ""
    copyright: str = ""  # the copyright holder named in MIT, BSD and ISC licence texts
    # Registry metadata (Cargo.toml, package.json); left out when empty.
    repository: str = ""
    homepage: str = ""
    documentation: str = ""


@dataclass(frozen=True)
class TemplateFile:
    template: str  # path under templates/, e.g. "go/models.go.j2"
    output: str  # path under the language's output directory
    context: dict[str, Any]


@dataclass(frozen=True)
class RuntimeFile:
    """A hand-written file under templates/<lang>/runtime/, copied as is.

    `replace` holds exact (old, new) substitutions applied once each, e.g. a Go package clause;
    a substitution that does not match fails generation rather than shipping a stale file."""

    source: str  # path under templates/
    output: str
    replace: tuple[tuple[str, str], ...] = ()


@dataclass
class LanguagePlan:
    language: str
    files: list[TemplateFile] = field(default_factory=list)
    runtime: list[RuntimeFile] = field(default_factory=list)
    # Formats files of the staged language directory in place (their paths relative to it: see
    # `to_format`); raises ToolchainError on failure.
    formatter: Callable[[Path, Sequence[str]], None] | None = None
    warnings: list[str] = field(default_factory=list)

    def to_format(self) -> list[str]:
        """The files the formatter is given: the rendered ones, and runtime files that a
        substitution changed. A runtime file copied as written is already formatted (tests check
        it), and formatting it again was most of the formatter's time on a small contract."""
        return [item.output for item in self.files] + [item.output for item in self.runtime if item.replace]
