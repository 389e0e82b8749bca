"""Independent pieces of Python work in forked children, one each, so that they use every core
(threads share one interpreter lock: planning three languages in threads runs them one after
another). Each child inherits the parent's memory as it is at the fork (the contract, its IR, the
decisions), so nothing is pickled on the way in; only each result, or the error, comes back.
"""

from __future__ import annotations

import gc
import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


def available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def run_forked(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Runs every call in a forked child at once; their results, in order. When calls fail, the
    first failure in order is raised, as the exception the child raised (or, when it cannot be
    sent back, a RuntimeError naming it), after every child has ended."""
    context = multiprocessing.get_context("fork")
    started: list[tuple[Connection, Any]] = []
    # Frozen, the collector in a child never walks the inherited objects (nor copies their pages).
    gc.freeze()
    try:
        for call in calls:
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_child, args=(call, writer), daemon=True)
            process.start()
            writer.close()
            started.append((reader, process))
    finally:
        gc.unfreeze()
    outcomes: list[tuple[str, Any]] = []
    try:
        for reader, process in started:
            try:
                outcomes.append(reader.recv())
            except EOFError:
                process.join()
                outcomes.append(
                    ("error", RuntimeError(f"a forked worker died (exit code {process.exitcode})"))
                )
    finally:
        for reader, process in started:
            if process.is_alive() and len(outcomes) < len(started):
                process.terminate()  # interrupted: nothing is left writing
            process.join()
            reader.close()
    for kind, value in outcomes:
        if kind == "error":
            raise value
    return [value for _, value in outcomes]


def _child(call: Callable[[], Any], writer: Connection) -> None:
    try:
        outcome: tuple[str, Any] = ("ok", call())
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        outcome = ("error", exc)
    try:
        writer.send(outcome)
    except Exception:  # noqa: BLE001 - a result or an exception that cannot be pickled
        kind, value = outcome
        what = "".join(traceback.format_exception(value)) if kind == "error" else repr(value)
        writer.send(("error", RuntimeError(f"a forked worker's {kind} could not be sent back:\n{what}")))
    finally:
        writer.close()
