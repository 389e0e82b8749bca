"""The protobuf front end: a .proto file (or a FileDescriptorSet) in, the IR out.

grpcio-tools' protoc reads the contract (see descriptors.py); builder.py maps the descriptors onto
the same IR as OpenAPI, so the same views, templates and runtimes serve both."""

from __future__ import annotations

from pathlib import Path

from polysdk import ir
from polysdk.errors import ContractError
from polysdk.frontends import ReadOptions
from polysdk.frontends.proto.builder import build_api
from polysdk.frontends.proto.descriptors import DESCRIPTOR_SET_SUFFIXES, read_descriptors


class ProtoReading:
    """protoc checks the contract while reading it, so there is nothing left to run in the
    background: `finish` only hands over the warnings."""

    def __init__(self, path: Path, options: ReadOptions) -> None:
        self._path = path
        self._options = options
        self._api: ir.Api | None = None

    def api(self) -> ir.Api:
        if self._api is None:
            self._api = build_api(read_descriptors(self._path, self._options.import_paths))
        return self._api

    def failure(self) -> ContractError | None:
        return None

    def finish(self) -> list[str]:
        return list(self.api().warnings)


class ProtoFrontEnd:
    name: str = "proto"
    suffixes: tuple[str, ...] = (".proto", *DESCRIPTOR_SET_SUFFIXES)

    def open(self, path: Path, options: ReadOptions) -> ProtoReading:
        return ProtoReading(path, options)


PROTO = ProtoFrontEnd()

__all__ = ["PROTO"]
