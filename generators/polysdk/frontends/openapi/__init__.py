"""The OpenAPI 3.0/3.1 front end: a contract file in, the IR out."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from polysdk import ir
from polysdk.errors import ContractError
from polysdk.frontends import ReadOptions
from polysdk.frontends.openapi.builder import build_api
from polysdk.frontends.openapi.document import Contract, apply_verdict, load_contract, start_validation


class OpenApiReading:
    """Validation runs in a child process from `open` on; loading and building run here."""

    def __init__(self, path: Path, options: ReadOptions) -> None:
        self._path = path
        self._options = options
        self._verdict: Callable[[], ContractError | None] = (
            cache(start_validation(path, allow_remote_refs=options.allow_remote_refs))
            if options.validate
            else lambda: None
        )
        self._contract: Contract | None = None
        self._api: ir.Api | None = None

    def api(self) -> ir.Api:
        if self._api is None:
            try:
                self._contract = load_contract(
                    self._path,
                    allow_remote_refs=self._options.allow_remote_refs,
                    lenient=self._options.lenient,
                    validate=False,
                )
                self._api = build_api(self._contract)
            except Exception:
                error = self.failure()
                if error is not None:
                    raise error from None
                raise
        return self._api

    def failure(self) -> ContractError | None:
        return None if self._options.lenient else self._verdict()

    def finish(self) -> list[str]:
        api = self.api()
        assert self._contract is not None
        apply_verdict(self._contract, self._verdict())
        return [*self._contract.warnings, *api.warnings]


class OpenApiFrontEnd:
    name: str = "openapi"
    suffixes: tuple[str, ...] = (".yaml", ".yml", ".json")

    def open(self, path: Path, options: ReadOptions) -> OpenApiReading:
        return OpenApiReading(path, options)


OPENAPI = OpenApiFrontEnd()

__all__ = ["OPENAPI", "build_api", "load_contract"]
