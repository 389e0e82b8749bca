"""What every SDK package says about itself: its licence and its registry metadata.

The licence comes from `--license` or else the contract's `info.license` (its SPDX `identifier`, or
a `name` that is a known licence's); registries (crates.io, npm) and pkg.go.dev need one before they
publish or show a package. The same decision serves every language, so a Go module, a crate and an
npm package generated together never disagree about their licence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from polysdk import ir
from polysdk.errors import UsageError
from polysdk.names import snake

if TYPE_CHECKING:
    from polysdk.plan import Options

# The licences whose full text polysdk ships (templates/common/licenses/<id>.txt.j2).
BUNDLED = ("Apache-2.0", "BSD-3-Clause", "ISC", "MIT")
# Names (lower case, punctuation as spaces) that contracts use for those licences.
_NAMES = {
    "mit": "MIT",
    "mit license": "MIT",
    "the mit license": "MIT",
    "expat": "MIT",
    "apache 2.0": "Apache-2.0",
    "apache 2": "Apache-2.0",
    "apache2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license version 2.0": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0",
    "asl 2.0": "Apache-2.0",
    "bsd 3 clause": "BSD-3-Clause",
    "bsd 3 clause license": "BSD-3-Clause",
    "3 clause bsd": "BSD-3-Clause",
    "new bsd": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "modified bsd license": "BSD-3-Clause",
    "isc": "ISC",
    "isc license": "ISC",
}
# A Go module path `go get` can fetch: a lower-case first element holding a dot (a host), then
# path elements (golang.org/x/mod/module.CheckPath, without its rarer refusals).
_GO_MODULE = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[A-Za-z0-9._~-]+)*")
# Hosts whose repository URL is also the start of a Go module path (`go get` knows them).
_GO_HOSTS = ("github.com", "gitlab.com", "bitbucket.org")
# An SPDX licence expression's syntax (ids, `+`, AND/OR/WITH, parentheses); registries check the ids.
_SPDX_EXPRESSION = re.compile(r"[A-Za-z0-9.+()-]+(?: (?:AND|OR|WITH) [A-Za-z0-9.+()-]+)*")


@dataclass(frozen=True)
class LicenseFile:
    template: str  # under templates/, e.g. "common/licenses/MIT.txt.j2"
    context: dict[str, str]


@dataclass(frozen=True)
class Package:
    # The SPDX expression for Cargo.toml's and package.json's `license`; "" when the licence has
    # none (then Cargo.toml points at the LICENSE file and package.json says "SEE LICENSE IN LICENSE").
    spdx: str
    license_file: LicenseFile | None  # None: no licence anywhere, so no LICENSE file
    summary: str  # info.summary on one line ("" when absent), for the registries' descriptions
    repository: str
    homepage: str
    documentation: str
    warnings: tuple[str, ...]

    def description(self, lead: str) -> str:
        """A registry description: `lead` (e.g. "Rust SDK for the Todo API"), then the summary."""
        if not self.summary:
            return lead
        return f"{lead.rstrip('.')}. {self.summary}{'' if self.summary.endswith('.') else '.'}"


@dataclass(frozen=True)
class GoModule:
    path: str  # go.mod's module path
    # Where the path came from: "--go-module", "info.x-go-module", "--repository", or "" when
    # nothing named one and `path` is a local name only a `replace` directive can reach.
    origin: str

    @property
    def published(self) -> bool:
        return bool(self.origin)


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9.]+", " ", text.lower().replace("licence", "license")).split())


def _bundled(spdx: str) -> str:
    """The bundled licence `spdx` names, in its canonical spelling; "" when none."""
    return next((known for known in BUNDLED if known.lower() == spdx.lower()), "")


def _spdx_url(spdx: str) -> str:
    return f"https://spdx.org/licenses/{spdx}.html" if re.fullmatch(r"[A-Za-z0-9.+-]+", spdx) else ""


def _from_spdx(spdx: str, url: str, holder: str, origin: str) -> tuple[str, LicenseFile, list[str]]:
    known = _bundled(spdx)
    if known:
        return known, LicenseFile(f"common/licenses/{known}.txt.j2", {"holder": holder}), []
    url = url or _spdx_url(spdx)
    warning = (
        f"{origin}: polysdk has no text for licence {spdx}, so each SDK's LICENSE only names it"
        f"{' and links ' + url if url else ''}; replace LICENSE with the licence's full text before "
        "publishing"
    )
    return spdx, LicenseFile("common/licenses/other.txt.j2", {"name": spdx, "url": url}), [warning]


def _license(
    found: ir.License | None, override: str, holder: str
) -> tuple[str, LicenseFile | None, list[str]]:
    if override:
        if not _SPDX_EXPRESSION.fullmatch(override):
            raise UsageError(
                f"--license {override!r} is not an SPDX licence id; use one such as MIT or Apache-2.0 "
                "(https://spdx.org/licenses/)"
            )
        return _from_spdx(override, "", holder, "--license")
    if found is None:
        return (
            "",
            None,
            [
                "info.license: the contract names no licence and no --license was given, so the SDKs "
                "have no LICENSE and cannot be published (crates.io and npm refuse a package without a "
                "licence; pkg.go.dev hides its docs); pass --license SPDX-ID, or give an OpenAPI "
                "contract an info.license"
            ],
        )
    if found.identifier and _SPDX_EXPRESSION.fullmatch(found.identifier):
        return _from_spdx(found.identifier, found.url, holder, "info.license.identifier")
    named = _NAMES.get(_words(found.name)) or _bundled(found.name)
    if named:
        return _from_spdx(named, found.url, holder, "info.license.name")
    name = " ".join(found.name.split()) or found.identifier or found.url
    warning = (
        f"info.license: {name!r} is not a licence polysdk knows by name, so each SDK's LICENSE only "
        "names it and the manifests point at that file; give info.license an SPDX `identifier` or "
        "pass --license SPDX-ID"
    )
    context = {"name": name, "url": found.url}
    return "", LicenseFile("common/licenses/other.txt.j2", context), [warning]


def _url(option: str, value: str) -> str:
    parts = urlsplit(value)
    usable = parts.scheme in ("http", "https") and parts.netloc and not any(c.isspace() for c in value)
    if value and not usable:
        raise UsageError(
            f"--{option} {value!r} is not an http(s) URL; pass one such as https://example.com/sdk"
        )
    return value


def package(api: ir.Api, options: Options) -> Package:
    """The package decision; UsageError when an option's value is unusable."""
    title = " ".join(api.title.split()) or "API"
    holder = " ".join(options.copyright.split()) or f"the authors of the {title} SDKs"
    spdx, license_file, warnings = _license(api.license, options.license.strip(), holder)
    return Package(
        spdx=spdx,
        license_file=license_file,
        summary=" ".join(api.docs.summary.split()),
        repository=_url("repository", options.repository),
        homepage=_url("homepage", options.homepage),
        documentation=_url("documentation", options.documentation),
        warnings=tuple(warnings),
    )


def go_module(api: ir.Api, options: Options, words: list[str]) -> tuple[GoModule, list[str]]:
    """The Go SDK's module path, and warnings: `--go-module`, else the contract's `info.x-go-module`,
    else `<repository>/go` when `--repository` is a github.com (gitlab.com, bitbucket.org)
    repository, whose `go/` folder the Go SDK then is. With none of them the module gets a local
    name (`todo-sdk-go`): go.mod needs one, but no README tells users to `go get` it.
    UsageError when `--go-module` is not a module path."""
    chosen = options.go_module.strip()
    if chosen:
        if not _GO_MODULE.fullmatch(chosen):
            raise UsageError(
                f"--go-module {chosen!r} is not a Go module path; pass one such as "
                "github.com/acme/todo-sdk-go (a host with a dot, then the path)"
            )
        return GoModule(chosen, "--go-module"), []
    local = f"{snake(words).replace('_', '-')}-sdk-go"
    if api.go_module:
        if _GO_MODULE.fullmatch(api.go_module):
            return GoModule(api.go_module, "info.x-go-module"), []
        return GoModule(local, ""), [
            f"info.x-go-module: {api.go_module!r} is not a Go module path (a host with a dot, then the "
            f"path), so it is not used and the Go SDK's module is the local name {local}"
        ]
    parts = urlsplit(options.repository)
    segments = [s for s in parts.path.split("/") if s][:2]
    if parts.hostname in _GO_HOSTS and len(segments) == 2:
        owner, repo = segments[0], segments[1].removesuffix(".git")
        path = f"{parts.hostname}/{owner}/{repo}/go"
        if _GO_MODULE.fullmatch(path):
            return GoModule(path, "--repository"), []
    return GoModule(local, ""), [
        f"go: no Go module path (pass --go-module, give the contract an info.x-go-module, or pass a "
        f"--repository on github.com), so go.mod names the local module {local}, which `go get` "
        "cannot fetch; the Go README shows how to use it with a `replace` directive"
    ]
