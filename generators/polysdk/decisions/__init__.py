"""The decisions layer: every language-neutral choice an SDK makes, made once per generation.

`build_decisions` runs once in the pipeline and its result is handed to every language's view (and
read by the conformance kit). A view renders a decision, or reports as a generation warning that
its language cannot express it; it never decides again. That is what keeps the SDKs at parity."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from polysdk import ir
from polysdk.decisions.client import (
    ApiKeyPlacement,
    ClientDefaults,
    client_defaults,
    package_words,
    sdk_words,
)
from polysdk.decisions.examples import Examples, choose_examples
from polysdk.decisions.operations import (
    Auth,
    BodyKind,
    BodyShape,
    ErrorShape,
    OperationShape,
    PageStyle,
    Pagination,
    ResultKind,
    ResultShape,
    Streaming,
    body_kind,
    operation_shape,
)


@dataclass(frozen=True)
class Decisions:
    api: ir.Api
    operations: tuple[OperationShape, ...]
    groups: tuple[str, ...]  # in contract tag order, then first use
    client: ClientDefaults
    examples: Examples  # which operations the READMEs show
    warnings: tuple[str, ...]

    def by_group(self, group: str) -> Iterator[OperationShape]:
        return (op for op in self.operations if op.group == group)


def build_decisions(api: ir.Api, package_name: str = "") -> Decisions:
    operations = tuple(operation_shape(api, op) for op in api.operations)
    declared = [tag.name for tag in api.tags]
    used = [op.group for op in operations]
    groups = tuple(g for g in dict.fromkeys([*declared, *used]) if g in used)
    client, warnings = client_defaults(api, package_name)
    return Decisions(
        api=api,
        operations=operations,
        groups=groups,
        client=client,
        examples=choose_examples(api, operations),
        warnings=tuple(warnings),
    )


__all__ = [
    "ApiKeyPlacement",
    "Auth",
    "BodyKind",
    "BodyShape",
    "ClientDefaults",
    "Decisions",
    "ErrorShape",
    "Examples",
    "OperationShape",
    "PageStyle",
    "Pagination",
    "ResultKind",
    "ResultShape",
    "Streaming",
    "body_kind",
    "build_decisions",
    "package_words",
    "sdk_words",
]
