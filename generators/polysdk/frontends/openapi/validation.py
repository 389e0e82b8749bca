"""OpenAPI validation that informs rather than blocks: every fault openapi-spec-validator finds,
located in the contract, as findings the caller reports as warnings.

Validation is the slowest step on big contracts (openapi-spec-validator's imports take a second,
Stripe's contract several), so it runs in a forked child while the parent builds and renders. The
child inherits the contract the parent already parsed (fork copies memory, nothing is parsed or
pickled twice); only the findings travel back. A child that dies or runs past VALIDATION_TIMEOUT
is a finding too, so that the rest of the pipeline never hangs or crashes on the validator.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from referencing import exceptions as ref_errors

from polysdk.errors import ContractError, Location
from polysdk.frontends.openapi import validation_cache
from polysdk.frontends.openapi.document import Contract, with_deep_stack
from polysdk.pointers import join_pointer, node_line

# Generous: Stripe's contract validates in about 7 s of CPU; a contract whose allOf chains make the
# validator superlinear is reported as unvalidated rather than holding generation forever.
VALIDATION_TIMEOUT = 600.0
_MESSAGE_LIMIT = 200
_STOPPED = "openapi-spec-validator stopped"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, order=True)
class Finding:
    """One validation fault. Ordered by where it is in the contract, then by what it says."""

    line: int
    pointer: str
    message: str
    file: str

    @property
    def location(self) -> Location:
        return Location(self.file, self.pointer, self.line or None)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def as_error(self, hint: str) -> ContractError:
        return ContractError(self.location, self.message, hint)


Verdict = Callable[[], list[Finding]]


def start_validation(contract: Contract) -> Verdict:
    """Validate `contract` in a forked child and return the function that waits for its findings
    (sorted, without duplicates). Where fork is unavailable, validation runs here, synchronously."""
    entry = validation_cache.entry_for(contract)
    kept = validation_cache.lookup(entry)
    if kept is not None:
        return lambda: kept  # validated before exactly as it is now (validation_cache.py)
    import multiprocessing  # only when validating: a warm run (findings kept) does without it

    if "fork" not in multiprocessing.get_all_start_methods():
        findings = validate(contract)
        validation_cache.store(entry, contract, findings)
        return lambda: findings
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)

    def child() -> None:
        _cache_protocol_members()
        try:
            findings = validate(contract)
        except BaseException as exc:  # noqa: BLE001 - any crash is a finding, never a traceback
            writer.send([Finding(0, "", f"the validator failed ({_crash(exc)})", contract.path)])
        else:
            writer.send(findings)
            validation_cache.store(entry, contract, findings)  # a crash is not kept

    process = context.Process(target=child, daemon=True)
    # The child inherits the parsed contract; frozen, the collector there never walks it (and
    # so never copies its pages): measured on Stripe's contract, 0.5 s less CPU in the child.
    gc.freeze()
    try:
        process.start()
    finally:
        gc.unfreeze()
    writer.close()

    def wait() -> list[Finding]:
        try:
            if reader.poll(VALIDATION_TIMEOUT):
                found: list[Finding] = reader.recv()
                return found
            process.kill()
            why = f"validation did not finish within {VALIDATION_TIMEOUT:g} s"
        except EOFError:
            why = "the validator process died"
        finally:
            process.join()
            reader.close()
        if process.exitcode not in (0, None):
            why += f" (exit code {process.exitcode})"
        return [Finding(0, "", f"{why}; the contract was generated without validation", contract.path)]

    return wait


def _cache_protocol_members() -> None:
    """Python 3.11 recomputes a runtime-checkable Protocol's members (walking its MRO) on every
    `isinstance` check against it; pathable, which openapi-spec-validator walks the contract with,
    makes such checks at every step: a fifth of the validator's CPU on Stripe's contract. Python
    3.12 computes them once per class; this does the same on 3.11, in the forked validator child
    only (the parent's `typing` is left alone). A class's members are fixed once it is defined."""
    import functools
    import sys
    import typing

    if sys.version_info >= (3, 12):
        return
    for name in ("_get_protocol_attrs", "_is_callable_members_only"):  # each a function of the class
        if hasattr(typing, name):
            setattr(typing, name, functools.cache(getattr(typing, name)))


def validate(contract: Contract) -> list[Finding]:
    """Every fault openapi-spec-validator finds in the contract, located, sorted, deduplicated."""
    try:
        errors = with_deep_stack(lambda: _all_errors(contract))
    except RecursionError:
        # openapi-spec-validator follows $ref/allOf cycles that never reach a schema forever (the
        # contract's own depth is bounded by MAX_DEPTH, which the deep stack fits).
        return [
            Finding(
                0,
                "",
                "validation recursed without end: schemas refer to each other in a cycle "
                "(e.g. A is allOf B and B is allOf A)",
                contract.path,
            )
        ]
    except (ref_errors.Unresolvable, ref_errors.NoSuchResource, OSError) as exc:
        # Normally the parent's own reference check reports the reference where it is written;
        # this is the validator's view of it, whose text embeds the whole target document.
        ref = getattr(exc, "ref", None) or getattr(exc, "filename", None) or type(exc).__name__
        return [Finding(0, "", f"a reference cannot be resolved: {_capped(str(ref))}", contract.path)]
    placed: dict[tuple[str, str], None] = {}
    for error in errors:
        for leaf in _leaves(error):
            placed[_place(contract, leaf)] = None
    if len(placed) > 1:
        # openapi-spec-validator's keyword checks, after the schema's, repeat some faults the
        # schema located, without a place: the located ones say it.
        placed = {key: None for key in placed if key[0] or key[1].startswith(_STOPPED)}
    lines = _lines_of(contract, [pointer for pointer, _ in placed])
    schema = f"OpenAPI {contract.version} schema"
    file = contract.path
    if contract.converted_from:
        file += f" (converted from {contract.converted_from})"
    found = {
        Finding(
            lines.get(p) or 0,
            p,
            message if message.startswith(_STOPPED) else f"{schema}: {message}",
            file,
        )
        for p, message in placed
    }
    return sorted(found)


def _all_errors(contract: Contract) -> list[Any]:
    """All errors openapi-spec-validator finds. The fast pass uses the jsonschema-rs backend when it
    is installed (several times faster on large contracts); its errors carry no sub-causes, so
    when it finds any, a pass with the pure-Python jsonschema backend finds them with the detail
    to locate each."""
    errors = _collect(_iter_errors(contract, precise=False))
    if not errors:
        return []
    return _collect(_iter_errors(contract, precise=True)) or errors


class _Stopped:
    """openapi-spec-validator crashed part-way (its keyword checks assume a well-formed document,
    e.g. a path item that is an object): the faults found so far stand, and this says it stopped."""

    absolute_path: tuple[str, ...] = ()

    def __init__(self, exc: Exception) -> None:
        self.message = f"{_STOPPED} here ({_crash(exc)}); later faults are not listed"


def _collect(errors: Iterator[Any]) -> list[Any]:
    found: list[Any] = []
    try:
        found.extend(errors)
    except (RecursionError, ref_errors.Unresolvable, ref_errors.NoSuchResource, OSError):
        raise
    except Exception as exc:  # noqa: BLE001 - a validator bug on a malformed contract
        found.append(_Stopped(exc))
    return found


def _crash(exc: BaseException) -> str:
    return _capped(f"{type(exc).__name__}: {exc}")


def _iter_errors(contract: Contract, precise: bool) -> Iterator[Any]:
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.schemas import schema_v30, schema_v31
    from openapi_spec_validator.schemas.backend.jsonschema import create_validator
    from openapi_spec_validator.validation import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    def read(uri: str) -> Any:
        return contract.retrieve(uri)

    handlers: Mapping[str, Any] = {"file": read}
    if contract.allow_remote:
        handlers = {"file": read, "http": read, "https": read}
    base: Any = OpenAPIV31SpecValidator if contract.is_31 else OpenAPIV30SpecValidator
    keywords = {**base.keyword_validators, "schema": _set_backed(base.keyword_validators["schema"])}
    attributes: dict[str, Any] = {"keyword_validators": keywords}
    if precise:
        meta_schema = schema_v31 if contract.is_31 else schema_v30
        attributes["schema_validator"] = create_validator(meta_schema)
    cls = type("Validator", (base,), attributes)
    schema_path = SchemaPath.from_dict(contract.data, base_uri=contract.uri, handlers=handlers)
    return iter(cls(schema_path).iter_errors())


class _SeenIds(set[int]):
    """The ids of the schemas openapi-spec-validator's schema walk has checked. It keeps them in
    lists, whose `in` is linear: quadratic on a contract with thousands of schemas (Stripe's: a
    third of the validation's CPU). A set gives the same answers."""

    def append(self, schema_id: int) -> None:
        self.add(schema_id)


def _set_backed(schema_validator: type[Any]) -> type[Any]:
    """The library's schema keyword validator, remembering the schemas it has seen in sets."""

    def init(self: Any, registry: Any) -> None:
        schema_validator.__init__(self, registry)
        self.visited_schema_ids = _SeenIds()
        self.meta_checked_schema_ids = _SeenIds()

    return type(schema_validator.__name__, (schema_validator,), {"__init__": init})


def _leaves(error: Any) -> Iterator[Any]:
    """The specific faults behind a validation error. A failed oneOf (a schema or a $ref; a response
    or a $ref) carries one group of causes per alternative: the alternative the author meant is
    the one that got furthest into the document, and not the bare "is it a $ref" one; all of its
    causes are faults, one per place."""
    context = getattr(error, "context", None)
    if not context:
        yield error
        return
    branches: dict[Any, list[Any]] = {}
    for cause in context:
        path = list(getattr(cause, "relative_schema_path", None) or [None])
        branches.setdefault(path[0], []).append(cause)

    def score(item: tuple[Any, list[Any]]) -> tuple[int, bool]:
        _, causes = item
        depth = max(len(list(cause.absolute_path)) for cause in causes)
        only_ref = all(getattr(cause, "message", "") == "'$ref' is a required property" for cause in causes)
        return depth, not only_ref

    _, chosen = max(branches.items(), key=score)
    seen: set[tuple[Any, ...]] = set()
    for cause in chosen:
        where = tuple(cause.absolute_path)
        if where not in seen:  # one fault per place: "not of type" and "not one of" say the same
            seen.add(where)
            yield from _leaves(cause)


def _place(contract: Contract, error: Any) -> tuple[str, str]:
    parts = list(getattr(error, "absolute_path", None) or getattr(error, "path", None) or [])
    pointer = join_pointer("", *parts)
    if parts and parts[0] not in contract.data:  # relative to a schema the validator checked
        pointer = _find_instance(contract.data, parts, getattr(error, "instance", None))
    message = str(getattr(error, "message", error)).splitlines()[0]
    if len(message) > _MESSAGE_LIMIT:
        message = f"fails the {getattr(error, 'validator', 'schema')!r} rule"
    return pointer, message


def _find_instance(data: Any, tail: list[Any], instance: Any) -> str:
    """The pointer of the first node whose path ends with `tail` and whose value is `instance`.
    openapi-spec-validator reports some errors relative to the schema it checked; this finds
    where in the document that schema is."""
    queue: deque[tuple[Any, list[Any]]] = deque([(data, [])])
    while queue:
        node, path = queue.popleft()
        if len(path) >= len(tail) and path[len(path) - len(tail) :] == tail and node == instance:
            return join_pointer("", *path)
        if isinstance(node, dict):
            queue.extend((value, [*path, key]) for key, value in node.items())
        elif isinstance(node, list):
            queue.extend((value, [*path, index]) for index, value in enumerate(node))
    return join_pointer("", *tail)


def _lines_of(contract: Contract, pointers: Iterable[str]) -> dict[str, int]:
    """The line of each pointer, from one composition of the contract's text (only when there are
    findings; a clean contract is never composed). None for a contract converted from Swagger 2.0,
    whose pointers are into the converted document."""
    wanted = sorted(set(pointers) - {""})  # the whole document is no place
    if not wanted or contract.converted_from or contract.text is None:
        return {}
    try:
        root = yaml.compose(contract.text, Loader=_LOADER)
    except yaml.YAMLError:
        return {}
    lines = {pointer: node_line(root, pointer) for pointer in wanted}
    return {pointer: line for pointer, line in lines.items() if line is not None}


def _capped(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
