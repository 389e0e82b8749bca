"""Which operations the SDK READMEs (and Go's runnable examples) show, chosen once so that the three
READMEs illustrate the same calls."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from polysdk import ir, walks
from polysdk.decisions.operations import OperationShape, ResultKind


@dataclass(frozen=True)
class Examples:
    call: OperationShape | None  # a plain JSON call (preferably an authenticated one with a path id)
    page: OperationShape | None  # a paginated list
    stream: OperationShape | None  # an event stream
    download: OperationShape | None  # a binary download


# Kinds every SDK takes as a plain string argument, so an example can pass a literal.
_STRING_KINDS = frozenset({ir.Prim.STRING, ir.Prim.UUID})


def _is_plain_string(api: ir.Api, t: ir.Type) -> bool:
    found = walks.resolve(api, t)
    return isinstance(found, ir.PrimitiveType) and found.kind in _STRING_KINDS


def simple_arguments(api: ir.Api, shape: OperationShape) -> bool:
    """Whether an example can call the operation with string literals alone: every required
    parameter is a plain string and no body is required."""
    if shape.body is not None and shape.body.required:
        return False
    return all(_is_plain_string(api, p.type) for p in shape.operation.params if p.required)


def choose_examples(api: ir.Api, operations: Sequence[OperationShape]) -> Examples:
    # Group order first (the order the READMEs list resources in), then contract order.
    order = list(dict.fromkeys([tag.name for tag in api.tags] + [op.group for op in operations]))
    ranked = sorted(operations, key=lambda op: order.index(op.group))
    simple = [op for op in ranked if simple_arguments(api, op)]

    def first(test: Callable[[OperationShape], bool]) -> OperationShape | None:
        return next((op for op in simple if test(op)), None)

    def plain(op: OperationShape) -> bool:
        return op.result.kind is ResultKind.JSON and op.pagination is None

    return Examples(
        call=first(lambda op: plain(op) and op.authenticated and bool(op.path_params)) or first(plain),
        page=first(lambda op: op.pagination is not None),
        stream=first(lambda op: op.streaming is not None),
        download=first(lambda op: op.result.kind is ResultKind.BINARY),
    )
