"""Front ends: a contract file in, the IR out. Each front end is one entry of FRONT_ENDS, chosen by
the contract's file type; the pipeline, the CLI and the conformance kit read contracts only
through `open_contract`, never through a front end's internals."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from polysdk import ir
from polysdk.errors import ContractError, Location


@dataclass(frozen=True)
class ReadOptions:
    allow_remote_refs: bool = False  # http(s) references are refused unless asked for
    # False skips validation, for a contract already generated from (the conformance kit's reading)
    validate: bool = True
    # Folders searched for a .proto contract's imports (protoc's -I), before the bundled ones.
    import_paths: tuple[Path, ...] = ()
    # Folders outside an OpenAPI contract's own from which its $refs may read files
    # (--allow-external-refs); by default only the contract's folder and below.
    allowed_ref_dirs: tuple[Path, ...] = ()


class ContractReading(Protocol):
    """One contract being read. Opening it may start checks that run in the background (OpenAPI
    validation runs in another process while the SDKs are rendered)."""

    def api(self) -> ir.Api:
        """The contract's IR, built once; raises ContractError with a located message."""
        ...

    def finish(self) -> list[str]:
        """Waits for the background checks: the warnings (front-end and IR ones included), or a
        ContractError."""
        ...

    def failure(self) -> ContractError | None:
        """When a later step trips over the contract: the contract's own located error, if the
        checks found one (it says what is wrong better than whatever tripped)."""
        ...


class FrontEnd(Protocol):
    name: str
    suffixes: tuple[str, ...]  # the file types it claims, e.g. (".yaml", ".yml", ".json")

    def open(self, path: Path, options: ReadOptions) -> ContractReading: ...


# Each front end's module and the file types it reads. A run imports only the front end its
# contract needs: the proto front end's imports (protobuf's runtime) cost an OpenAPI run about
# 50 ms, and the OpenAPI one's (the reference resolver) a proto run about 100 ms.
# tests/test_architecture.py checks these against each front end's own `suffixes`.
FRONT_ENDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("polysdk.frontends.openapi:OPENAPI", (".yaml", ".yml", ".json")),
    ("polysdk.frontends.proto:PROTO", (".proto", ".pb", ".binpb", ".desc", ".protoset")),
)


def load_front_end(where: str) -> FrontEnd:
    """The front end named `module:attribute` in FRONT_ENDS, imported now."""
    module, attribute = where.split(":")
    front_end: FrontEnd = getattr(importlib.import_module(module), attribute)
    return front_end


def front_end_for(path: Path) -> FrontEnd:
    """The front end that reads `path`, by its file type; ContractError for one nobody reads."""
    suffix = path.suffix.lower()
    for where, suffixes in FRONT_ENDS:
        if suffix in suffixes:
            return load_front_end(where)
    known = ", ".join(s for _, suffixes in FRONT_ENDS for s in suffixes)
    raise ContractError(
        Location(str(path)), f"unknown contract file type {suffix or '(none)'!r}", f"use {known}"
    )


def open_contract(path: Path, options: ReadOptions | None = None) -> ContractReading:
    return front_end_for(path).open(path, options or ReadOptions())


def read_api(path: Path, options: ReadOptions | None = None) -> ir.Api:
    """The IR of a contract, read in the foreground (validation included)."""
    reading = open_contract(path, options)
    api = reading.api()
    reading.finish()
    return api
