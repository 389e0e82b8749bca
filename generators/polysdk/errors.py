"""The one error type a user sees for a bad contract: located, actionable, exit code 2."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in the contract a problem is: a file, a JSON pointer and, when known, a line."""

    file: str
    pointer: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where} at #{_elided(self.pointer)}" if self.pointer else where


_POINTER_SHOWN = 240  # a pointer into a deeply nested contract can run to kilobytes


def _elided(pointer: str) -> str:
    if len(pointer) <= _POINTER_SHOWN:
        return pointer
    # Whole tokens only: the start says which schema, the end what is wrong with it.
    head = pointer[: pointer.rindex("/", 0, _POINTER_SHOWN * 2 // 3)]
    tail = pointer[pointer.index("/", len(pointer) - _POINTER_SHOWN // 3) :]
    hidden = pointer[len(head) : len(pointer) - len(tail)].count("/")
    return f"{head}/...({hidden} tokens)...{tail}"


class ContractError(Exception):
    """A contract that polysdk cannot turn into SDKs; the CLI prints it and exits with code 2."""

    def __init__(self, location: Location, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.location = location
        self.message = message
        self.hint = hint

    def __reduce__(self) -> tuple[type[ContractError], tuple[Location, str, str]]:
        # Sent from the validator process to the parent: pickle the fields, not Exception.args.
        return (ContractError, (self.location, self.message, self.hint))

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class StrictWarningsError(Exception):
    """--strict: the contract generates, but with warnings, which CI wants treated as errors."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''} and --strict")
        self.warnings = warnings


class UsageError(Exception):
    """A command-line choice that cannot be honoured, e.g. an unknown language; exit code 2."""


class ToolchainError(Exception):
    """A formatter or compiler that generation needs is missing or failed."""
