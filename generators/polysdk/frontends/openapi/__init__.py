"""The OpenAPI 3.0/3.1 front end: a contract file in, the IR out."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from polysdk import ir
from polysdk.errors import ContractError
from polysdk.frontends import ReadOptions
from polysdk.frontends.openapi.builder import build_api
from polysdk.frontends.openapi.document import (
    Contract,
    apply_verdict,
    load_contract,
    start_validation,
    with_deep_stack,
)


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
        self._load_error: ContractError | None = None

    def api(self) -> ir.Api:
        if self._api is None:
            try:
                contract = load_contract(
                    self._path,
                    allow_remote_refs=self._options.allow_remote_refs,
                    lenient=self._options.lenient,
                    validate=False,
                )
            except ContractError as exc:
                # Located where the contract is wrong, which the validator's view of the same
                # fault (e.g. a dangling $ref) is not: `failure` reports this one.
                self._load_error = exc
                raise
            self._contract = contract
            try:
                self._api = with_deep_stack(lambda: build_api(contract))
            except Exception:
                error = self.failure()
                if error is not None:
                    raise error from None
                raise
        return self._api

    def failure(self) -> ContractError | None:
        if self._load_error is not None:
            return self._load_error
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
