"""Loading and dereferencing an OpenAPI contract (validation is validation.py's).

Parsing is YAML (JSON is read with the faster json module), with libyaml's C loader; what it
refuses and js-yaml reads is read as js-yaml reads it (yaml_quirks.py). `$ref` resolution is
the `referencing` library with our own retrieval: local and relative-file references are read
from disk within the contract's folder (or folders the caller allows), remote ones are refused
unless the caller allows them, so a contract can never make polysdk read a user's other files
or fetch from the network behind the user's back.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from referencing import Registry, Resource
from referencing import exceptions as ref_errors

from polysdk.errors import ContractError, Location
from polysdk.frontends.openapi import swagger2, yaml_quirks
from polysdk.pointers import join_pointer, line_of

_T = TypeVar("_T")

# A contract nested deeper than this is refused with a located message: the builder and the
# validator recurse once (the validator several frames) per level, on a stack sized for it.
MAX_DEPTH = 1000
# YAML aliases may repeat at most this many nodes in all: a 1.4 KB "billion laughs" file expands
# to hundreds of millions, which every later walk of the contract would visit.
MAX_ALIAS_NODES = 100_000
# Enough frames for the validator on MAX_DEPTH levels (about five per level), and no more: an
# allOf cycle, which the validator follows until the limit, costs time superlinear in it.
_DEEP_RECURSION_LIMIT = 6000
_DEEP_STACK_BYTES = 512 * 1024 * 1024


def with_deep_stack(function: Callable[[], _T]) -> _T:
    """`function()` run on a thread whose stack (and Python's recursion limit) fits MAX_DEPTH
    levels of the recursive builder and validator: real contracts chain hundreds of named schemas
    or nest hundreds of inline ones, past Python's default limit of 1000 frames."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, function()))
        except BaseException as exc:  # noqa: BLE001 - re-raised as it is in the caller's thread
            outcome.append((False, exc))

    previous_limit = sys.getrecursionlimit()
    previous_size = threading.stack_size(_DEEP_STACK_BYTES)
    try:
        sys.setrecursionlimit(max(previous_limit, _DEEP_RECURSION_LIMIT))
        thread = threading.Thread(target=run, name="polysdk-deep-stack")
        thread.start()
    finally:
        threading.stack_size(previous_size)
    thread.join()
    sys.setrecursionlimit(previous_limit)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


class _ContractLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, with every mapping key a string as OpenAPI (a JSON format) has them:
    `200:` is the response code "200" and `1: one` in an enum map the key "1", spelled as written,
    rather than integers the validator's schema backend cannot handle."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value if key_node.tag != "tag:yaml.org,2002:null" else "null"
            else:
                key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found a non-scalar key",
                    key_node.start_mark,
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return node.value if isinstance(node, yaml.SequenceNode) else []


def _check_aliases(root: yaml.Node, path: str) -> None:
    """Refuse a document whose aliases repeat more than MAX_ALIAS_NODES nodes, or refer to a node
    that contains them, before anything expands it."""
    # An alias is a node met a second time. Most contracts have none: one walk finds that out.
    seen: set[int] = {id(root)}
    repeats: list[tuple[yaml.Node, yaml.Node]] = []  # (the node holding the alias, its target)
    pending: list[yaml.Node] = [root]
    while pending:
        node = pending.pop()
        for child in _children(node):
            if id(child) in seen:
                repeats.append((node, child))
            else:
                seen.add(id(child))
                pending.append(child)
    if not repeats:
        return
    size = _expanded_sizes(root, path)
    repeated = 0
    for holder, target in repeats:
        repeated += size[id(target)]
        if repeated > MAX_ALIAS_NODES:
            raise ContractError(
                Location(path, line=holder.start_mark.line + 1),
                f"YAML aliases here expand the document past {MAX_ALIAS_NODES} repeated nodes "
                "(a 'billion laughs' document)",
                "write the repeated parts out, or share them with $ref",
            )


def _expanded_sizes(root: yaml.Node, path: str) -> dict[int, int]:
    """The node count of each distinct node with its aliases expanded (by id), or ContractError
    for an alias inside the node it refers to, which expands without end."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    work: list[tuple[yaml.Node, bool]] = [(root, False)]
    while work:
        node, children_done = work.pop()
        if id(node) in size:
            continue
        if children_done:
            on_path.discard(id(node))
            size[id(node)] = 1 + sum(size[id(child)] for child in _children(node))
            continue
        if id(node) in on_path:
            raise ContractError(
                Location(path, line=node.start_mark.line + 1),
                "a YAML alias refers to a node that contains it",
                "write the repeated part out, or share it with a $ref",
            )
        on_path.add(id(node))
        work.append((node, True))
        work.extend((child, False) for child in _children(node) if id(child) not in size)
    return size


def _check_depth(data: Any, path: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH, at the first node past it."""
    pending: list[tuple[Any, str, int]] = [(data, "", 0)]
    while pending:
        node, pointer, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ContractError(
                Location(path, pointer, line_of(path, pointer)),
                f"the contract nests deeper than {MAX_DEPTH} levels here",
                "flatten it: give deep inline schemas names under components and $ref them",
            )
        if isinstance(node, dict):
            pending.extend((v, join_pointer(pointer, k), depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            pending.extend((v, join_pointer(pointer, i), depth + 1) for i, v in enumerate(node))


def _load_yaml(text: str, path: str) -> Any:
    loader = _ContractLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_aliases(node, path)
        return loader.construct_document(node)
    finally:
        loader.dispose()


@dataclass
class Parsed:
    """A document's data, the text it was read from (after any repair of js-yaml quirks; lines
    are unchanged by it), and the warnings reading it raised."""

    data: Any
    text: str
    warnings: list[str] = field(default_factory=list)


def _parse_text(text: str, path: str) -> Parsed:
    parsed = _parse_syntax(text, path)
    _check_depth(parsed.data, path)
    return parsed


def _parse_syntax(text: str, path: str) -> Parsed:
    if path.endswith(".json"):
        try:
            # json's decoder recurses per level: on the deep stack, so that _check_depth can say
            # where a too-deep contract goes too deep.
            return Parsed(with_deep_stack(lambda: json.loads(text)), text)
        except json.JSONDecodeError as exc:
            raise ContractError(
                Location(path, line=exc.lineno), f"invalid JSON: {exc.msg}", "fix the syntax error"
            ) from None
    try:
        return Parsed(_load_yaml(text, path), text)
    except yaml.YAMLError as exc:
        error = exc
    # libyaml refused it: what js-yaml reads (see yaml_quirks) is read the same way, with a warning.
    repaired = yaml_quirks.repair(text)
    if repaired is not None:
        try:
            data = repaired.restore(_load_yaml(repaired.text, path))
        except yaml.YAMLError as exc:
            error = exc  # a fault of its own, past the quirks: that is the one to report
        else:
            notes = [f"{Location(path, line=line)}: {note}" for line, note in repaired.notes]
            return Parsed(data, repaired.text, notes)
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    deep = "nesting depth" in problem  # libyaml's own bound, the same as MAX_DEPTH
    raise ContractError(
        Location(path, line=mark.line + 1 if mark else None),
        f"invalid YAML: {problem}",
        "flatten it: give deep inline schemas names under components and $ref them"
        if deep
        else "fix the syntax error",
    ) from None


@dataclass
class Contract:
    """A parsed contract and the resolver for its references.

    Files it references are read only from `roots` (the contract's own folder and the folders
    the user allowed, symlinks resolved), and remote ones only when `allow_remote`."""

    path: str
    uri: str
    data: dict[str, Any]
    version: str
    allow_remote: bool = False
    warnings: list[str] = field(default_factory=list)
    roots: tuple[Path, ...] = ()
    text: str | None = None  # the contract's text, for locating validation findings
    converted_from: str = ""  # e.g. "Swagger 2.0": pointers are into the converted document
    _documents: dict[str, Any] = field(default_factory=dict)
    _outside: dict[str, Path | None] = field(default_factory=dict)  # outside_roots, by URI
    _file_digests: dict[Path, str] = field(default_factory=dict)  # loaded_files
    _registry: Registry = field(init=False)

    def __post_init__(self) -> None:
        self._documents[self.uri] = self.data
        registry: Registry[Any] = Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        self._registry = registry.with_resource(self.uri, Resource.opaque(self.data))

    @property
    def is_31(self) -> bool:
        return self.version.startswith("3.1")

    def location(self, uri: str, pointer: str) -> Location:
        if not uri.startswith("file:"):
            return Location(uri, pointer)
        path = _uri_to_path(uri)
        if uri == self.uri and self.converted_from:
            return Location(f"{self.path} (converted from {self.converted_from})", pointer)
        return Location(path, pointer, line_of(path, pointer))

    def error(self, uri: str, pointer: str, message: str, hint: str = "") -> ContractError:
        return ContractError(self.location(uri, pointer), message, hint)

    def retrieve(self, uri: str) -> Any:
        """The parsed document at `uri` (a file within the roots, or an allowed remote URL)."""
        return self._retrieve(uri).contents

    def loaded_files(self) -> dict[Path, str]:
        """The local files read so far besides the contract itself (its references' documents),
        each with the sha256 of the text read."""
        return dict(self._file_digests)

    def outside_roots(self, uri: str) -> Path | None:
        """The real path of a file: URI that lies outside every root, else None."""
        if uri not in self._outside:
            # Asked once per $ref: resolving symlinks each time was a tenth of a big contract's
            # generation, for the few documents a contract references.
            self._outside[uri] = self._outside_roots(uri)
        return self._outside[uri]

    def _outside_roots(self, uri: str) -> Path | None:
        if urllib.parse.urlsplit(uri).scheme != "file" or not self.roots:
            return None
        real = Path(_uri_to_path(uri)).resolve()
        return None if any(real.is_relative_to(root) for root in self.roots) else real

    def _retrieve(self, uri: str) -> Resource[Any]:
        if uri in self._documents:
            return Resource.opaque(self._documents[uri])
        scheme = urllib.parse.urlsplit(uri).scheme
        if scheme == "file":
            if self.outside_roots(uri) is not None:
                raise ref_errors.NoSuchResource(uri)
            path = _uri_to_path(uri)
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ref_errors.NoSuchResource(uri) from exc
            self._file_digests[Path(path)] = text_digest(text)
            parsed = _parse_text(text, path)
        elif scheme in ("http", "https") and self.allow_remote:
            from urllib.request import urlopen  # only for a remote reference someone opted in to

            with urlopen(uri, timeout=30) as response:  # noqa: S310 - opted in
                parsed = _parse_text(response.read().decode("utf-8"), uri)
        else:
            raise ref_errors.NoSuchResource(uri)
        self.warnings.extend(parsed.warnings)
        self._documents[uri] = parsed.data
        return Resource.opaque(parsed.data)

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
                f"remote reference {_capped(ref)!r} is not fetched",
                "pass --allow-remote-refs to fetch it, or vendor the file next to the contract",
            )
        outside = self.outside_roots(target_uri)
        if outside is not None:
            raise self.error(
                base_uri,
                pointer,
                f"reference {_capped(ref)!r} reads {outside}, outside the contract's folder",
                f"pass --allow-external-refs {outside.parent} to read files there, "
                "or copy the file next to the contract",
            )
        if fragment and not fragment.startswith("/"):
            raise self.error(
                base_uri,
                pointer,
                f"reference {_capped(ref)!r} uses an anchor, which polysdk does not resolve",
                "refer to the target with a JSON pointer such as '#/components/schemas/Name'",
            )
        try:
            resolved = self._registry.resolver(base_uri).lookup(absolute)
        except ref_errors.PointerToNowhere:
            raise self.error(
                base_uri,
                pointer,
                f"reference {_capped(ref)!r} points to nothing",
                "check the spelling of the target; JSON pointers escape '/' as '~1'",
            ) from None
        except (ref_errors.Unresolvable, ref_errors.NoSuchResource):
            raise self.error(
                base_uri,
                pointer,
                f"reference {_capped(ref)!r} cannot be read",
                "check that the referenced file exists next to the contract",
            ) from None
        return target_uri, fragment, resolved.contents


def text_digest(text: str) -> str:
    """The sha256 of a text (as UTF-8): what a document read was, for caches to compare."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _uri_to_path(uri: str) -> str:
    path = urllib.parse.urlsplit(uri).path
    if os.name == "nt":
        from nturl2path import url2pathname

        return url2pathname(path)
    return urllib.parse.unquote(path)  # urllib.request.url2pathname on POSIX, without its import


_LITERAL_KEYS = frozenset({"example", "default", "const", "enum"})


def _holds_data(parent_key: str | int | None, key: str | int, grandparent_key: str | int | None) -> bool:
    """Whether node[key] is literal data or an extension rather than OpenAPI structure, so that a
    `$ref` inside it is a value, not a reference (e.g. `example: {$ref: ...}`)."""
    if not isinstance(key, str) or parent_key in ("properties", "patternProperties"):
        return False
    if key == "default" and parent_key == "responses" and grandparent_key != "properties":
        return False  # the default response, not a schema's default value
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


def check_refs(contract: Contract) -> None:
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


def _capped(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def read_contract(
    path: str | Path, *, allow_remote_refs: bool = False, allowed_ref_dirs: Iterable[Path] = ()
) -> Contract:
    """Parse a contract and check that it is OpenAPI 3.0 or 3.1. Raises ContractError, never more."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(Location(path), "file not found", "check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(Location(path), f"cannot read file: {exc}", "") from None
    parsed = _parse_text(text, path)
    data = parsed.data
    if not isinstance(data, dict):
        raise ContractError(
            Location(path), "a contract must be a YAML or JSON object", "is this an OpenAPI file?"
        )
    warnings = parsed.warnings
    converted_from = ""
    if "swagger" in data:
        where = Location(path, "/swagger", line_of(path, "/swagger"))
        if not swagger2.is_swagger2(data):
            raise ContractError(
                where,
                f"Swagger {data.get('swagger')} is not supported; polysdk reads Swagger 2.0 and OpenAPI 3",
                "convert it first, e.g. with https://converter.swagger.io",
            )
        data, notes = swagger2.convert(data)
        converted_from = "Swagger 2.0"
        approximations = f"; approximated: {'; '.join(dict.fromkeys(notes))}" if notes else ""
        warnings.append(
            f"{where}: converted from Swagger 2.0 to OpenAPI {swagger2.VERSION} on the way in, as "
            "swagger2openapi does; pointers in the messages below are into the converted document"
            f"{approximations}"
        )
    version = data.get("openapi")
    if not isinstance(version, str) or not version.startswith(("3.0", "3.1")):
        raise ContractError(
            Location(path, "/openapi", line_of(path, "/openapi")),
            f"unsupported or missing 'openapi' version {version!r}",
            "polysdk reads OpenAPI 3.0.x and 3.1.x documents",
        )
    real = Path(path).resolve()
    # Symlinks resolved, so that a link inside the folder cannot reach outside it.
    roots = (real.parent, *(Path(folder).resolve() for folder in allowed_ref_dirs))
    return Contract(
        path=path,
        uri=real.as_uri(),
        data=data,
        version=version,
        allow_remote=allow_remote_refs,
        warnings=warnings,
        roots=roots,
        text=parsed.text,
        converted_from=converted_from,
    )
