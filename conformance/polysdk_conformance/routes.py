"""The contract's operations, indexed by method and path template, with validators compiled once.

Two users: the mock's metrics, which label every request with the operationId it reached (a
bounded label set taken from the contract), and the contract check, which asks `clean()` first.
openapi-core (contract.py) rebuilds its path finder, schema validators and format checkers on
every request, which costs milliseconds; here the same schemas are compiled once per parameter
and body, with the same validator class and format checker openapi-core uses, so that a request
can be recognised as clean in microseconds.

`body_errors()` answers "not sure" (None) or, for a request whose path, security and parameters
are certainly clean, the JSON body's schema errors (none: the request is clean). It is at least
as strict as openapi-core on everything it accepts, and gives up on what it does not model
(cookie, array or object parameters, percent-encoded paths, non-JSON bodies, ambiguous
templates): None sends the request to openapi-core, which then produces the findings and their
wording. A request therefore gets exactly openapi-core's findings, only faster when there are none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from openapi_schema_validator import OAS30ReadValidator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# The contract document's URI inside the schema registry: every compiled schema is a $ref into it,
# so that the contract's own `#/components/...` references resolve as they are written.
_CONTRACT_URI = "urn:polysdk:contract"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_BEARER = re.compile(r"Bearer [^ ]+")
JSON_MEDIA = "application/json"


@dataclass(frozen=True)
class _Parameter:
    name: str
    location: str  # path | query | header
    required: bool
    kind: str  # string | integer | number | boolean; "" when clean() does not model the schema
    validator: Validator | None


@dataclass(frozen=True)
class _Operation:
    operation_id: str
    method: str
    template: str
    parameters: tuple[_Parameter, ...]
    # Alternatives (any one suffices), each a tuple of (scheme type, header name) that must all be
    # sent; None when a scheme is of a type clean() does not model.
    security: tuple[tuple[tuple[str, str], ...], ...] | None
    query_names: frozenset[str]  # declared query parameters: any other name is left to openapi-core
    body_required: bool
    body_validator: Validator | None  # the application/json schema, when the body has one
    unmodelled: bool  # a cookie parameter or a $ref clean() cannot follow: always "not sure"


@dataclass(frozen=True)
class _Template:
    pattern: re.Pattern[str]
    literal: bool
    operations: Mapping[str, _Operation]  # by upper-case method


class Routes:
    """The operations of an OpenAPI document (a parsed YAML/JSON mapping)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._spec = spec
        resource = Resource.from_contents(dict(spec), default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_CONTRACT_URI, resource)
        self._format_checker = OAS30ReadValidator.FORMAT_CHECKER  # as openapi-core's 3.1 validator
        # Templates by segment count: a request is compared with the few of its own length only.
        self._templates: dict[int, list[_Template]] = {}
        ids: list[str] = []
        for template, item in (spec.get("paths") or {}).items():
            operations: dict[str, _Operation] = {}
            for method in _METHODS:
                if isinstance(item.get(method), dict):
                    operation = self._operation(template, method, item)
                    operations[method.upper()] = operation
                    ids.append(operation.operation_id)
            compiled = _Template(_template_pattern(template), "{" not in template, operations)
            self._templates.setdefault(template.count("/"), []).append(compiled)
        self.operation_ids = tuple(ids)

    def find(self, method: str, path: str) -> tuple[_Operation | None, dict[str, str]]:
        """The one operation the request reaches and its raw path parameters; None when no
        template, several templates or no operation of that method match."""
        found: list[tuple[_Template, re.Match[str]]] = []
        for template in self._templates.get(path.count("/"), ()):
            match = template.pattern.fullmatch(path)
            if match is not None:
                found.append((template, match))
        literal = [pair for pair in found if pair[0].literal]
        if literal:  # a path without parameters is more specific than any template
            found = literal
        if len(found) != 1:
            return None, {}
        template, match = found[0]
        return template.operations.get(method.upper()), match.groupdict()

    def operation_id(self, method: str, path: str) -> str | None:
        operation, _ = self.find(method, path)
        return operation.operation_id if operation is not None else None

    def body_errors(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> list[ValidationError] | None:
        """The body's schema errors when everything else is certainly clean; None when unsure."""
        if "%" in path:
            return None  # openapi-core's view of percent-encoded segments is its own
        operation, path_values = self.find(method, path)
        if operation is None or operation.unmodelled:
            return None
        sent = _header_map(headers)
        if sent is None or not self._secured(operation, sent):
            return None
        query_values = _query_map(query)
        if query_values is None or not set(query_values) <= operation.query_names:
            return None  # e.g. `labels[team]`: a deepObject parameter's part
        for parameter in operation.parameters:
            source = {"path": path_values, "query": query_values, "header": sent}[parameter.location]
            raw = source.get(parameter.name.lower() if parameter.location == "header" else parameter.name)
            if raw is None:
                if parameter.required:
                    return None
                continue
            if not _valid_parameter(parameter, raw):
                return None
        return _body_errors(operation, sent.get("content-type"), body)

    def _secured(self, operation: _Operation, sent: Mapping[str, str]) -> bool:
        if operation.security is None:
            return False
        if not operation.security:
            return True
        for alternative in operation.security:
            if all(_credential_sent(kind, name, sent) for kind, name in alternative):
                return True
        return False

    # -- compiling ---------------------------------------------------------------------------

    def _operation(self, template: str, method: str, item: Mapping[str, Any]) -> _Operation:
        raw = item[method]
        base = f"/paths/{_escape(template)}"
        unmodelled = False
        parameters: dict[tuple[str, str], _Parameter] = {}
        for where, entries in ((base, item.get("parameters")), (f"{base}/{method}", raw.get("parameters"))):
            for index, entry in enumerate(entries or []):
                resolved = self._resolve(entry, f"{where}/parameters/{index}")
                if resolved is None:
                    unmodelled = True
                    continue
                pointer, parameter = resolved
                if parameter.get("in") not in ("path", "query", "header"):
                    unmodelled = True  # cookies are left to openapi-core
                    continue
                compiled = self._parameter(pointer, parameter)
                parameters[(compiled.location, compiled.name)] = compiled  # operation level wins
        security = self._security(raw.get("security", self._spec.get("security", [])))
        body_required, body_validator = False, None
        if "requestBody" in raw:
            resolved = self._resolve(raw["requestBody"], f"{base}/{method}/requestBody")
            if resolved is None:
                unmodelled = True
            else:
                pointer, request_body = resolved
                body_required = bool(request_body.get("required", False))
                content = request_body.get("content") or {}
                if JSON_MEDIA in content and "schema" in content[JSON_MEDIA]:
                    body_validator = self._validator(
                        f"{pointer}/content/{_escape(JSON_MEDIA)}/schema", content[JSON_MEDIA]["schema"]
                    )
        return _Operation(
            operation_id=str(raw.get("operationId") or f"{method.upper()} {template}"),
            method=method.upper(),
            template=template,
            parameters=tuple(parameters.values()),
            query_names=frozenset(name for location, name in parameters if location == "query"),
            security=security,
            body_required=body_required,
            body_validator=body_validator,
            unmodelled=unmodelled,
        )

    def _parameter(self, pointer: str, parameter: Mapping[str, Any]) -> _Parameter:
        location = str(parameter["in"])
        name = str(parameter.get("name", ""))
        schema = parameter.get("schema")
        resolved = self._resolve(schema, f"{pointer}/schema") if isinstance(schema, dict) else None
        kind = ""
        validator = None
        if resolved is not None and "content" not in parameter:
            schema_pointer, target = resolved
            declared = target.get("type")
            if declared in ("string", "integer", "number", "boolean"):
                kind = str(declared)
                validator = self._validator(schema_pointer, target)
        return _Parameter(
            name=name.lower() if location == "header" else name,
            location=location,
            required=bool(parameter.get("required", location == "path")),
            kind=kind,
            validator=validator,
        )

    def _security(self, requirements: Any) -> tuple[tuple[tuple[str, str], ...], ...] | None:
        schemes = (self._spec.get("components") or {}).get("securitySchemes") or {}
        alternatives: list[tuple[tuple[str, str], ...]] = []
        for requirement in requirements or []:
            needed: list[tuple[str, str]] = []
            for name in requirement:
                scheme = schemes.get(name) or {}
                if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
                    needed.append(("bearer", "authorization"))
                elif scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                    needed.append(("apiKey", str(scheme.get("name", "")).lower()))
                else:
                    return None
            alternatives.append(tuple(needed))
        return tuple(alternatives)

    def _resolve(self, node: Any, pointer: str) -> tuple[str, Mapping[str, Any]] | None:
        """Follows OpenAPI-level `$ref`s within the document: the target's pointer and value."""
        for _ in range(8):  # a reference chain longer than this is not followed
            if not isinstance(node, dict):
                return None
            ref = node.get("$ref")
            if ref is None:
                return pointer, node
            if not isinstance(ref, str) or not ref.startswith("#/"):
                return None
            pointer = ref[1:]
            node = self._spec
            for part in pointer.split("/")[1:]:
                key = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(node, dict) or key not in node:
                    return None
                node = node[key]
        return None

    def _validator(self, pointer: str, schema: Mapping[str, Any]) -> Validator:
        """The schema compiled with its references inlined where they can be (a validator that
        follows a $ref through the registry on every call is ten times slower); a recursive
        schema keeps its references, resolved in the contract document."""
        inlined = self._inline(schema, ())
        validator: Validator
        if inlined is not None:
            validator = OAS31Validator(inlined, format_checker=self._format_checker)
        else:
            reference = {"$ref": f"{_CONTRACT_URI}#{pointer}"}
            validator = OAS31Validator(
                reference, registry=self._registry, format_checker=self._format_checker
            )
        return validator

    def _inline(self, node: Any, seen: tuple[str, ...]) -> Any:
        """The schema with each `{"$ref": "#/..."}` replaced by its target; None when a reference
        is recursive, external, or has sibling keywords (which 2020-12 applies alongside it)."""
        if isinstance(node, list):
            items = [self._inline(item, seen) for item in node]
            return None if any(item is None for item in items) else items
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if set(node) - {"$ref", "description", "summary"} or not isinstance(ref, str) or ref in seen:
                return None
            resolved = self._resolve(node, "")
            return None if resolved is None else self._inline(resolved[1], (*seen, ref))
        inlined: dict[str, Any] = {}
        for key, value in node.items():
            # Under these keywords the keys are names, not schemas: a property named "$ref" is data.
            if key in ("properties", "patternProperties", "$defs", "dependentSchemas"):
                children = {name: self._inline(child, seen) for name, child in value.items()}
                if any(child is None for child in children.values()):
                    return None
                inlined[key] = children
            elif key in ("example", "examples", "default", "const", "enum"):
                inlined[key] = value  # values, never schemas
            else:
                child = self._inline(value, seen)
                if child is None:
                    return None
                inlined[key] = child
        return inlined


def _template_pattern(template: str) -> re.Pattern[str]:
    """`/v1/runs/{run_id}:cancel` -> a pattern whose groups are the parameters (one segment each)."""
    parts = re.split(r"\{([^}/]+)\}", template)
    pattern = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{_group(part)}>[^/]+)"
        for index, part in enumerate(parts)
    )
    return re.compile(pattern)


def _group(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"path parameter {name!r} is not modelled by the mock's route index")
    return name


def _escape(key: str) -> str:
    """A JSON pointer token (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def _header_map(headers: list[tuple[str, str]]) -> dict[str, str] | None:
    """Headers by lower-case name; None when a name repeats (left to openapi-core)."""
    sent: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in sent:
            return None
        sent[key] = value
    return sent


def _query_map(query: str) -> dict[str, str] | None:
    """Query parameters by name; None when a name repeats or a value is percent-encoded."""
    if "%" in query or "+" in query:
        return None
    values: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in values:
            return None
        values[name] = value
    return values


def _credential_sent(kind: str, header: str, sent: Mapping[str, str]) -> bool:
    value = sent.get(header)
    if value is None:
        return False
    return _BEARER.fullmatch(value) is not None if kind == "bearer" else bool(value)


def _valid_parameter(parameter: _Parameter, raw: str) -> bool:
    if parameter.validator is None:
        return False
    value: Any
    if parameter.kind == "integer":
        if _INTEGER.fullmatch(raw) is None:
            return False
        value = int(raw)
    elif parameter.kind == "number":
        if _NUMBER.fullmatch(raw) is None:
            return False
        value = float(raw)
    elif parameter.kind == "boolean":
        if raw not in ("true", "false"):
            return False
        value = raw == "true"
    else:
        value = raw
    return bool(parameter.validator.is_valid(value))


def _body_errors(
    operation: _Operation, content_type: str | None, body: bytes
) -> list[ValidationError] | None:
    if not body:
        return None if operation.body_required else []
    if operation.body_validator is None or content_type is None:
        return None
    if content_type.strip().lower() != JSON_MEDIA:
        return None  # parameters, other media types and wildcard matching: openapi-core decides
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if operation.body_validator.is_valid(document):
        return []
    return list(operation.body_validator.iter_errors(document))
