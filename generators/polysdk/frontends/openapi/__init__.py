"""The OpenAPI 3.0/3.1 front end: a contract file in, the IR out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from polysdk import ir
from polysdk.errors import ContractError
from polysdk.frontends import ReadOptions
from polysdk.frontends.openapi import validation
from polysdk.frontends.openapi.builder import build_api
from polysdk.frontends.openapi.document import Contract, check_refs, read_contract, with_deep_stack
from polysdk.frontends.openapi.validation import Finding, start_validation


class OpenApiReading:
    """Opening parses the contract and starts its validation in a child process that inherits the
    parsed document; loading the references and building the IR run here meanwhile. Validation
    faults are warnings: a contract the builder can read generates."""

    def __init__(self, path: Path, options: ReadOptions) -> None:
        self._contract = read_contract(
            path,
            allow_remote_refs=options.allow_remote_refs,
            allowed_ref_dirs=options.allowed_ref_dirs,
        )
        contract = self._contract
        self._verdict: Callable[[], list[Finding]] = (
            cache(start_validation(contract)) if options.validate else lambda: []
        )
        self._api: ir.Api | None = None
        self._load_error: ContractError | None = None

    @property
    def contract(self) -> Contract:
        """The parsed contract and its reference resolver (the conformance kit derives cases and
        validates requests against the document as written)."""
        return self._contract

    def api(self) -> ir.Api:
        if self._api is None:
            contract = self._contract
            try:
                check_refs(contract)
            except ContractError as exc:
                # Located where the contract is wrong, which the validator's view of the same
                # fault (e.g. a dangling $ref) is not: `failure` reports this one.
                self._load_error = exc
                raise
            try:
                self._api = with_deep_stack(lambda: build_api(contract))
            except ContractError:
                raise
            except Exception:
                error = self.failure()
                if error is not None:
                    raise error from None
                raise
        return self._api

    def failure(self) -> ContractError | None:
        """The load error, else the first validation fault: the builder tripped over an invalid
        contract, and the fault says what is wrong with it."""
        if self._load_error is not None:
            return self._load_error
        findings = self._verdict()
        if not findings:
            return None
        hint = "fix it: the generator cannot read the contract past this fault"
        if len(findings) > 1:
            hint += f" ({len(findings) - 1} more faults: openapi-spec-validator lists them all)"
        located = [finding for finding in findings if finding.pointer]
        return (located or findings)[0].as_error(hint)

    def finish(self) -> list[str]:
        api = self.api()
        return [*self._contract.warnings, *(str(finding) for finding in self._verdict()), *api.warnings]


class OpenApiFrontEnd:
    name: str = "openapi"
    suffixes: tuple[str, ...] = (".yaml", ".yml", ".json")

    def open(self, path: Path, options: ReadOptions) -> OpenApiReading:
        return OpenApiReading(path, options)


def load_contract(
    path: str | Path,
    *,
    allow_remote_refs: bool = False,
    allowed_ref_dirs: Iterable[Path] = (),
    validate: bool = True,
) -> Contract:
    """Read a contract, check its references and, unless `validate` is False, validate it in the
    foreground; validation faults go to `Contract.warnings` (the CLI's --strict makes them
    errors). Raises ContractError, never more."""
    contract = read_contract(path, allow_remote_refs=allow_remote_refs, allowed_ref_dirs=allowed_ref_dirs)
    check_refs(contract)
    if validate:
        contract.warnings.extend(str(finding) for finding in validation.validate(contract))
    return contract


OPENAPI = OpenApiFrontEnd()

__all__ = ["OPENAPI", "OpenApiReading", "build_api", "load_contract"]
