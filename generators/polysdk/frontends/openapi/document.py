"""Loading, validating and dereferencing an OpenAPI contract.

Parsing is YAML (JSON is read with the faster json module). Validation is openapi-spec-validator.
`$ref` resolution is the `referencing` library with our own retrieval: local and relative-file
references are read from disk, remote ones are refused unless the caller allows them, so a
contract can never make polysdk fetch from the network behind the user's back.
"""

from __future__ import annotations

import json
import multiprocessing
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from referencing import Registry, Resource
from referencing import exceptions as ref_errors

from polysdk.errors import ContractError, Location
from polysdk.pointers import join_pointer, line_of

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_text(text: str, path: str) -> Any:
    if path.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ContractError(
                Location(path, line=exc.lineno), f"invalid JSON: {exc.msg}", "fix the syntax error"
            ) from None
    try:
        return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContractError(
            Location(path, line=mark.line + 1 if mark else None),
            f"invalid YAML: {problem}",
            "fix the syntax error",
        ) from None


@dataclass
class Contract:
    """A parsed, validated contract and the resolver for its references."""

    path: str
    uri: str
    data: dict[str, Any]
    version: str
    allow_remote: bool = False
    warnings: list[str] = field(default_factory=list)
    lenient: bool = False
    _documents: dict[str, Any] = field(default_factory=dict)
    _registry: Registry = field(init=False)

    def __post_init__(self) -> None:
        self._documents[self.uri] = self.data
        registry: Registry[Any] = Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        self._registry = registry.with_resource(self.uri, Resource.opaque(self.data))

    @property
    def is_31(self) -> bool:
        return self.version.startswith("3.1")

    def location(self, uri: str, pointer: str) -> Location:
        path = _uri_to_path(uri) if uri.startswith("file:") else uri
        return Location(path, pointer, line_of(path, pointer) if uri.startswith("file:") else None)

    def error(self, uri: str, pointer: str, message: str, hint: str = "") -> ContractError:
        return ContractError(self.location(uri, pointer), message, hint)

    def _retrieve(self, uri: str) -> Resource[Any]:
        if uri in self._documents:
            return Resource.opaque(self._documents[uri])
        scheme = urllib.parse.urlsplit(uri).scheme
        if scheme == "file":
            path = _uri_to_path(uri)
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ref_errors.NoSuchResource(uri) from exc
            data = _parse_text(text, path)
        elif scheme in ("http", "https") and self.allow_remote:
            with urllib.request.urlopen(uri, timeout=30) as response:  # noqa: S310 - opted in
                data = _parse_text(response.read().decode("utf-8"), uri)
        else:
            raise ref_errors.NoSuchResource(uri)
        self._documents[uri] = data
        return Resource.opaque(data)

    def resolve(self, ref: str, base_uri: str, pointer: str) -> tuple[str, str, Any]:
        """Resolve `ref` found at `pointer` of the document `base_uri`.

        Returns the target's document URI, its JSON pointer and its value. The pair (URI, pointer)
        is the target's identity: the IR uses it to give each referenced schema exactly one name.
        """
        absolute = urllib.parse.urljoin(base_uri, ref)
        target_uri, _, fragment = absolute.partition("#")
        fragment = urllib.parse.unquote(fragment)
        scheme = urllib.parse.urlsplit(target_uri).scheme
        if scheme in ("http", "https") and not self.allow_remote:
            raise self.error(
                base_uri,
                pointer,
                f"remote reference {ref!r} is not fetched",
                "pass --allow-remote-refs to fetch it, or vendor the file next to the contract",
            )
        if fragment and not fragment.startswith("/"):
            raise self.error(
                base_uri,
                pointer,
                f"reference {ref!r} uses an anchor, which polysdk does not resolve",
                "refer to the target with a JSON pointer such as '#/components/schemas/Name'",
            )
        try:
            resolved = self._registry.resolver(base_uri).lookup(absolute)
        except ref_errors.PointerToNowhere:
            raise self.error(
                base_uri,
                pointer,
                f"reference {ref!r} points to nothing",
                "check the spelling of the target; JSON pointers escape '/' as '~1'",
            ) from None
        except (ref_errors.Unresolvable, ref_errors.NoSuchResource):
            raise self.error(
                base_uri,
                pointer,
                f"reference {ref!r} cannot be read",
                "check that the referenced file exists next to the contract",
            ) from None
        return target_uri, fragment, resolved.contents


def _uri_to_path(uri: str) -> str:
    return urllib.request.url2pathname(urllib.parse.urlsplit(uri).path)


_LITERAL_KEYS = frozenset({"example", "default", "const", "enum"})


def _holds_data(parent_key: str | int | None, key: str | int, grandparent_key: str | int | None) -> bool:
    """Whether node[key] is literal data or an extension rather than OpenAPI structure, so that a
    `$ref` inside it is a value, not a reference (e.g. `example: {$ref: ...}`)."""
    if not isinstance(key, str) or parent_key in ("properties", "patternProperties"):
        return False
    if key.startswith("x-") or key in _LITERAL_KEYS:
        return True
    return key == "value" and grandparent_key == "examples"


def _iter_refs(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every `$ref` string in a document's structure, with the pointer of the object holding it."""
    stack: list[tuple[Any, str, str | int | None, str | int | None]] = [(value, pointer, None, None)]
    while stack:
        node, where, key, parent_key = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and key not in ("properties", "patternProperties"):
                yield ref, where
            for child_key, child in node.items():
                if isinstance(child, (dict, list)) and not _holds_data(key, child_key, parent_key):
                    stack.append((child, join_pointer(where, child_key), child_key, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                if isinstance(child, (dict, list)):
                    stack.append((child, join_pointer(where, index), key, parent_key))


def load_contract(
    path: str | Path, *, allow_remote_refs: bool = False, lenient: bool = False, validate: bool = True
) -> Contract:
    """Read, check the version of, resolve the references of, and validate a contract. Raises
    ContractError, never more.

    `lenient` turns a validation failure into a warning (in `Contract.warnings`) for contracts
    that break the OpenAPI schema in ways the generator can live with."""
    contract = _read_contract(path, allow_remote_refs=allow_remote_refs, lenient=lenient)
    _check_refs(contract)
    if validate:
        apply_verdict(contract, _validation_error(contract))
    return contract


def _read_contract(path: str | Path, *, allow_remote_refs: bool, lenient: bool = False) -> Contract:
    """Parse a contract and check that it is OpenAPI 3.0 or 3.1."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(Location(path), "file not found", "check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(Location(path), f"cannot read file: {exc}", "") from None
    data = _parse_text(text, path)
    if not isinstance(data, dict):
        raise ContractError(
            Location(path), "a contract must be a YAML or JSON object", "is this an OpenAPI file?"
        )
    if "swagger" in data:
        raise ContractError(
            Location(path, "/swagger", line_of(path, "/swagger")),
            f"Swagger {data.get('swagger')} is not supported; polysdk reads OpenAPI 3.0 and 3.1",
            "convert it first, e.g. with swagger2openapi or https://converter.swagger.io",
        )
    version = data.get("openapi")
    if not isinstance(version, str) or not version.startswith(("3.0", "3.1")):
        raise ContractError(
            Location(path, "/openapi", line_of(path, "/openapi")),
            f"unsupported or missing 'openapi' version {version!r}",
            "polysdk reads OpenAPI 3.0.x and 3.1.x documents",
        )
    uri = Path(path).resolve().as_uri()
    return Contract(
        path=path, uri=uri, data=data, version=version, allow_remote=allow_remote_refs, lenient=lenient
    )


def start_validation(
    path: str | Path, *, allow_remote_refs: bool = False
) -> Callable[[], ContractError | None]:
    """Validate the contract at `path` in a forked child process while the caller loads, builds
    and renders, and return the function that waits for the verdict (the validation error, or
    None). Validation is the slowest step (a second for openapi-spec-validator's imports, seconds
    for Stripe's contract) and the machine has cores to spare. The child parses the file itself,
    so it can start before the parent has read it; a contract that fails to load is reported by
    the parent's own load. Where fork is unavailable, validation runs here, synchronously."""

    def verdict() -> ContractError | None:
        # Only parsing: the caller's own load checks the references and reports load errors.
        try:
            contract = _read_contract(path, allow_remote_refs=allow_remote_refs)
        except ContractError:
            return None
        return _validation_error(contract)

    if "fork" not in multiprocessing.get_all_start_methods():
        result = verdict()
        return lambda: result
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)

    def child() -> None:
        writer.send(verdict())

    process = context.Process(target=child, daemon=True)
    process.start()
    writer.close()

    def wait() -> ContractError | None:
        try:
            error: ContractError | None = reader.recv()
        except EOFError:
            error = ContractError(Location(str(path)), "the validator process died", "run again")
        finally:
            process.join()
            reader.close()
        return error

    return wait


def _validation_error(contract: Contract) -> ContractError | None:
    try:
        _validate(contract)
    except ContractError as exc:
        return exc
    except RecursionError:
        # openapi-spec-validator follows $ref/allOf cycles that never reach a schema forever.
        return ContractError(
            Location(contract.path),
            "validation recursed without end: schemas refer to each other in a cycle "
            "(e.g. A is allOf B and B is allOf A)",
            "break the cycle; a recursive type needs a property or items between the references",
        )
    return None


def apply_verdict(contract: Contract, error: ContractError | None) -> None:
    """Raise a validation error, or record it as a warning when the contract is read leniently."""
    if error is None:
        return
    if not contract.lenient:
        raise error
    contract.warnings.append(f"{error.location}: {error.message} (continuing: --lenient)")


def _check_refs(contract: Contract) -> None:
    """Resolve every `$ref` of the contract and of the files it references, so that a dangling or
    remote reference is reported where it is written, before the validator trips over it."""
    pending = [(contract.uri, contract.data)]
    seen_documents = {contract.uri}
    while pending:
        uri, data = pending.pop()
        for ref, where in _iter_refs(data):
            target_uri, _, _ = contract.resolve(ref, uri, where)
            if target_uri not in seen_documents:
                seen_documents.add(target_uri)
                pending.append((target_uri, contract._documents[target_uri]))


def _find_instance(data: Any, tail: list[Any], instance: Any) -> str:
    """The pointer of the first node whose path ends with `tail` and whose value is `instance`.
    openapi-spec-validator reports schema errors relative to the schema it checked; this finds
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


def _deepest(error: Any) -> Any:
    """The most specific of a validation error's causes: for a failed oneOf, the alternative
    that got furthest into the document, which is the one the author meant."""
    while getattr(error, "context", None):
        error = max(error.context, key=lambda cause: len(list(cause.absolute_path)))
    return error


def _first_error(contract: Contract, precise: bool) -> Any:
    """The first error openapi-spec-validator finds, or None.

    The fast pass uses the jsonschema-rs backend when it is installed (several times faster on
    large contracts). Its errors carry no sub-causes, so when it finds one, a `precise` pass with
    the pure-Python jsonschema backend finds the same error with the detail to locate it."""
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.schemas import schema_v30, schema_v31
    from openapi_spec_validator.schemas.backend.jsonschema import create_validator
    from openapi_spec_validator.validation import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    def read(uri: str) -> Any:
        return contract._retrieve(uri).contents

    handlers: Mapping[str, Any] = {"file": read}
    if contract.allow_remote:
        handlers = {"file": read, "http": read, "https": read}
    cls: Any = OpenAPIV31SpecValidator if contract.is_31 else OpenAPIV30SpecValidator
    if precise:
        meta_schema = schema_v31 if contract.is_31 else schema_v30
        cls = type("PreciseValidator", (cls,), {"schema_validator": create_validator(meta_schema)})
    schema_path = SchemaPath.from_dict(contract.data, base_uri=contract.uri, handlers=handlers)
    return next(iter(cls(schema_path).iter_errors()), None)


def _validate(contract: Contract) -> None:
    try:
        error = _first_error(contract, precise=False)
        if error is not None:
            error = _first_error(contract, precise=True) or error
    except (ref_errors.Unresolvable, ref_errors.NoSuchResource, OSError) as exc:
        raise ContractError(
            Location(contract.path), f"a reference cannot be resolved: {exc}", "check the $ref targets"
        ) from None
    if error is None:
        return
    error = _deepest(error)
    parts = list(getattr(error, "absolute_path", None) or getattr(error, "path", None) or [])
    pointer = join_pointer("", *parts)
    if parts and parts[0] not in contract.data:  # relative to a schema the validator checked
        pointer = _find_instance(contract.data, parts, getattr(error, "instance", None))
    message = getattr(error, "message", str(error)).splitlines()[0]
    if len(message) > 200:
        message = f"fails the {getattr(error, 'validator', 'schema')!r} rule of the OpenAPI schema"
    raise contract.error(
        contract.uri,
        pointer,
        f"not a valid OpenAPI {contract.version} document: {message}",
        "fix the contract; openapi-spec-validator reports the same",
    )
