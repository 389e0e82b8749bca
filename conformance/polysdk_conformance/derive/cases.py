"""Conformance cases derived from a contract alone, per operation.

For every operation the contract declares, in the order it declares them:

- `Derived/<operationId>/required`: the call with its required arguments; the mock answers the
  first documented success with a body generated from its schema, which must surface intact;
- `Derived/<operationId>/optional`: every optional argument too (when there is one, or a response
  with optional fields), and a response with every optional field, exotic values (int64 beyond
  2^53, non-ASCII text) and a field the contract does not declare;
- `Derived/<operationId>/unknown`: the `optional` case's response with, wherever its schema has
  one, an enum value and a discriminated union's tag that the contract does not list, as a newer
  server sends them: SDKs keep both and surface the body intact;
- `Derived/<operationId>/status-<code>`: each documented error status, played with a generated
  body, must be an `api` error with that status (retries off, so 429 and 5xx answer at once);
- `Derived/<operationId>/pages`: a cursor-paginated operation walked over two pages;
- `Derived/<operationId>/stream`: an event stream's events decoded.

Every request is also checked by the mock against the contract (method, path, query, headers,
body), and the path, query and JSON body are pinned by the step's request matcher. The cases are
plain case-file data (case.schema.json), written to a file the runner loads like any other, so
they are listed, filtered, replayed and listed as known-failing like hand-written cases.

What cannot be derived is skipped with a reason (`Derivation.skipped`), never guessed: an
operation whose required argument has a `pattern` and no example, a cookie parameter, a body kind
the case format cannot pin.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from polysdk.decisions import BodyKind, Decisions, OperationShape, PageStyle, ResultKind
from polysdk.frontends.openapi.document import Contract
from polysdk_conformance.derive.values import Flavour, UnsatisfiableError, ValueGenerator

JsonDict = dict[str, Any]
SUITE = "Derived"
MINIMAL_REQUEST = Flavour(full=False, response=False)
FULL_REQUEST = Flavour(full=True, response=False)
MINIMAL_RESPONSE = Flavour(full=False, response=True)
FULL_RESPONSE = Flavour(full=True, response=True)
UNKNOWN_RESPONSE = Flavour(full=True, response=True, unknown=True)
BINARY_BODY = b"derived \x00\xff bytes"
BEARER_TOKEN = "tok_derived"  # noqa: S105 - a made-up credential the mock accepts
API_KEY = "key_derived"


@dataclass(frozen=True)
class _Call:
    """One call's arguments and the request the server must see."""

    args: JsonDict
    path: str
    query: str
    body: Any  # None when the call sends no body
    left_out: tuple[str, ...]  # query parameters the case could not send, named in its doc


@dataclass
class Derivation:
    """The derived case file's data, and what could not be derived (operation id → reason)."""

    cases: list[JsonDict] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def file_text(self, title: str) -> str:
        """The case file: JSON, which is YAML, so the runner reads it as any case file. Non-ASCII
        stays literal (YAML has no surrogate-pair escapes); sorted keys keep it byte-stable."""
        document = {
            "suite": SUITE,
            "doc": f"Cases derived from the contract {title!r} alone (polysdk conformance --derived).",
            "cases": self.cases,
        }
        return json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def derive(contract: Contract, decisions: Decisions) -> Derivation:
    """The derived cases of every operation of the contract."""
    derivation = Derivation()
    generator = ValueGenerator(lambda schema: _resolve(contract, schema))
    taken: set[str] = set()
    for shape in decisions.operations:
        axis = _axis(shape.operation.id, taken)
        try:
            derivation.cases += _OperationCases(contract, generator, shape, axis).cases()
        except UnsatisfiableError as exc:
            derivation.skipped[shape.operation.id] = str(exc)
    return derivation


def _axis(operation_id: str, taken: set[str]) -> str:
    """The operationId as a case-name segment (the characters case names allow), unique."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", operation_id).strip("-._") or "operation"
    axis, n = base, 2
    while axis in taken:
        axis, n = f"{base}-{n}", n + 1
    taken.add(axis)
    return axis


def _resolve(contract: Contract, schema: JsonDict) -> JsonDict:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    _uri, _pointer, target = contract.resolve(ref, contract.uri, "")
    return target if isinstance(target, dict) else {}


class _OperationCases:
    """The cases of one operation."""

    def __init__(
        self, contract: Contract, generator: ValueGenerator, shape: OperationShape, axis: str
    ) -> None:
        self.axis = axis
        self.contract = contract
        self.values = generator
        self.shape = shape
        self.op = shape.operation
        self.raw, self.params = self._raw_operation()

    def cases(self) -> list[JsonDict]:
        auth = self.shape.auth
        anonymous = any(not alternative for alternative in self.op.security)
        if auth is not None and not (auth.bearer or auth.api_key or anonymous):
            schemes = " or ".join("+".join(alternative) for alternative in self.op.security)
            raise UnsatisfiableError(f"its security ({schemes}) uses no scheme the SDKs support")
        if self.shape.cookie_params and any(p.required for p in self.shape.cookie_params):
            raise UnsatisfiableError("a required cookie parameter: the driver protocol cannot set cookies")
        cases = [self._call("required", MINIMAL_REQUEST, MINIMAL_RESPONSE)]
        if self._has_optional():
            cases.append(self._call("optional", FULL_REQUEST, FULL_RESPONSE))
        if self._success(UNKNOWN_RESPONSE) != self._success(FULL_RESPONSE):
            # Only where the response has an enum or a discriminated union to play unknown values in.
            cases.append(self._call("unknown", MINIMAL_REQUEST, UNKNOWN_RESPONSE))
        if self.shape.pagination is not None:
            pages = self._pages()
            if pages is not None:
                cases.append(pages)
        cases += self._errors()
        return cases

    # -- the contract as written --------------------------------------------------------------

    def _raw_operation(self) -> tuple[JsonDict, dict[tuple[Any, Any], JsonDict]]:
        """The operation as the contract writes it, and its parameters (the path item's too) by
        (name, location)."""
        item = self._deref((self.contract.data.get("paths") or {}).get(self.op.http.path) or {})
        operation = self._deref(item.get(self.op.http.method.lower()) or {})
        params = {}
        for raw in [*(item.get("parameters") or []), *(operation.get("parameters") or [])]:
            raw = self._deref(raw)
            params[(raw.get("name"), raw.get("in"))] = raw
        return operation, params

    def _deref(self, node: Any) -> JsonDict:
        if not isinstance(node, dict):
            return {}
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 64:
            node = _resolve(self.contract, node)
            seen += 1
        return node if isinstance(node, dict) else {}

    def _param_schema(self, name: str, location: str) -> JsonDict:
        raw = self.params.get((name, location), {})
        schema = raw.get("schema")
        if isinstance(schema, dict):
            return schema
        for media in (raw.get("content") or {}).values():
            if isinstance(media, dict) and isinstance(media.get("schema"), dict):
                return dict(media["schema"])
        return {"type": "string"}

    def _media_schema(self, content: Any, media_type: str) -> JsonDict | None:
        content = content if isinstance(content, dict) else {}
        raw = content.get(media_type)
        if raw is None:
            # The contract may spell it with parameters (`application/json;charset=utf-8`), which
            # the decisions layer has already reduced to the bare type.
            def essence(name: object) -> str:
                return str(name).split(";", 1)[0].strip().lower()

            raw = next((value for key, value in content.items() if essence(key) == essence(media_type)), None)
        media = self._deref(raw or {})
        schema = media.get("schema")
        return schema if isinstance(schema, dict) else None

    def _response(self, status: str) -> JsonDict:
        responses = self.raw.get("responses") or {}
        return self._deref(
            responses.get(status) or responses.get(int(status) if status.isdigit() else status) or {}
        )

    def _has_optional(self) -> bool:
        params = [*self.shape.path_params, *self.shape.query_params, *self.shape.header_params]
        return (
            any(not p.required for p in params)
            or self.shape.body is not None
            or (self.shape.result.kind == ResultKind.JSON)
        )

    # -- arguments and the wire ---------------------------------------------------------------

    def _args(self, flavour: Flavour) -> _Call:
        """The case's args, and the path, query and body the server must see."""
        args: JsonDict = {}
        path = self.op.http.path
        query: list[str] = []
        left_out: list[str] = []
        for param in self.shape.path_params:
            value = self._param_value(param.wire_name, "path", flavour)
            args[param.wire_name] = value
            path = path.replace("{" + param.wire_name + "}", _path_segment(value))
        for param in self.shape.query_params:
            if not (param.required or flavour.full):
                continue
            try:
                value = self._param_value(param.wire_name, "query", flavour)
            except UnsatisfiableError:
                if param.required:
                    raise
                left_out.append(param.wire_name)
                continue
            if value is None:
                continue  # a null query value is sent as nothing: the case leaves it out
            if not _serialisable(value, param.style):
                # OpenAPI defines no wire form for it (a nested value, an array as deepObject):
                # SDKs may each be right, so the case leaves it out and says so.
                if param.required:
                    raise UnsatisfiableError(
                        f"the required query parameter {param.wire_name!r} has a value with no "
                        f"serialisation OpenAPI defines for style {param.style}"
                    )
                left_out.append(param.wire_name)
                continue
            args[param.wire_name] = value
            query += _query_pairs(param.wire_name, value, param.style, param.explode)
        for param in self.shape.header_params:
            if param.required or flavour.full:
                args[param.wire_name] = self._param_value(param.wire_name, "header", flavour)
        body: Any = None
        shape = self.shape.body
        # A GET or HEAD body has no meaning (RFC 9110) and fetch cannot send one; Stripe declares
        # empty form bodies on its GETs. The case sends none unless the contract requires it.
        bodiless = self.op.http.method in ("GET", "HEAD") and not (shape and shape.required)
        if shape is not None and (shape.required or flavour.full) and not bodiless:
            body = self._body(flavour)
            args["body"] = body
        return _Call(args, path, "&".join(query), body, tuple(left_out))

    def _param_value(self, name: str, location: str, flavour: Flavour) -> Any:
        schema = self._param_schema(name, location)
        # Path segments and headers stay plain: their encodings are pinned by the hand-written
        # suites; what a derived case adds is that every operation's route and types work.
        plain = Flavour(full=flavour.full and location == "query", response=False)
        value = self.values.value(schema, plain, 1, name)
        if location != "query" and isinstance(value, str) and not value.isascii():
            value = value.encode("ascii", "ignore").decode()
        return value

    def _body(self, flavour: Flavour) -> Any:
        shape = self.shape.body
        assert shape is not None
        if shape.kind == BodyKind.BINARY:
            return base64.b64encode(BINARY_BODY).decode()
        schema = self._body_schema() or {"type": "string"}
        if shape.kind == BodyKind.TEXT:
            return self.values.value({"type": "string"} | schema, flavour, 1, "text")
        if shape.kind == BodyKind.MULTIPART:
            return self._multipart(schema, flavour)
        value = self.values.value(schema, flavour, 0)
        if shape.kind == BodyKind.FORM and isinstance(value, dict) and not _form_fields(value):
            # Empty objects vanish from a form: a required body must still send something.
            value = self.values.value(schema, FULL_REQUEST, 0)
        return value

    def _body_schema(self) -> JsonDict | None:
        """The request body's schema for the media type the SDKs send."""
        shape = self.shape.body
        assert shape is not None
        body = self._deref(self.raw.get("requestBody"))
        return self._media_schema(body.get("content"), shape.media_type)

    def _multipart(self, schema: JsonDict, flavour: Flavour) -> JsonDict:
        """A multipart body's fields: file parts (binary strings) as base64, others as values."""
        merged = self.values.merged(schema)
        required = set(merged.get("required") or ())
        fields: JsonDict = {}
        for name, sub in (merged.get("properties") or {}).items():
            if name not in required and not flavour.full:
                continue
            if self._is_file(sub):
                fields[name] = base64.b64encode(BINARY_BODY).decode()
            else:
                fields[name] = self.values.value(sub, flavour, 1, name)
        return fields

    def _wire(self, body: Any) -> JsonDict:
        """What the case pins of a form or multipart body (JSON bodies are pinned by the step)."""
        shape = self.shape.body
        if shape is None or body is None or not isinstance(body, dict):
            return {}
        if shape.kind == BodyKind.FORM:
            wire: JsonDict = {"content_type": "application/x-www-form-urlencoded"}
            if all(not isinstance(value, dict | list) for value in body.values()):
                # Nested fields are encoded as each contract's `encoding` says; the mock's validator
                # checks those, the runner pins flat forms exactly.
                wire["form"] = {key: _scalar_text(value) for key, value in body.items()}
            return wire
        if shape.kind == BodyKind.MULTIPART:
            properties = self.values.merged(self._body_schema() or {}).get("properties") or {}
            parts = []
            for name, value in body.items():
                part: JsonDict = {"name": name}
                if self._is_file(properties.get(name)):
                    part["base64"] = value
                elif isinstance(value, str):
                    part["text"] = value
                parts.append(part)
            return {"content_type": "multipart/form-data", "multipart": parts}
        return {}

    def _is_file(self, schema: Any) -> bool:
        """Whether a multipart property is a file part (binary content)."""
        part = self.values.merged(schema) if isinstance(schema, dict) else {}
        return part.get("format") == "binary" or "contentMediaType" in part

    def _client(self, retries: bool = True) -> JsonDict:
        client: JsonDict = {}
        auth = self.shape.auth
        if auth is not None and auth.bearer:
            client["bearer_token"] = BEARER_TOKEN
        if auth is not None and auth.api_key:
            client["api_key"] = API_KEY
        if not retries:
            client["max_retries"] = 0
        return client

    def _request(self, path: str, query: str, body: Any) -> JsonDict:
        request: JsonDict = {"method": self.op.http.method, "path": path, "query": query}
        if body is not None and self.shape.body is not None and self.shape.body.kind == BodyKind.JSON:
            request["body_json"] = body
        return request

    # -- the cases ------------------------------------------------------------------------------

    def _call(self, name: str, request_flavour: Flavour, response_flavour: Flavour) -> JsonDict:
        call = self._args(request_flavour)
        status, response = self._success(response_flavour)
        doc = f"{self.op.http.method} {self.op.http.path} with its {name} arguments answered {status}."
        if response_flavour.unknown:
            doc = (
                f"{self.op.http.method} {self.op.http.path} answered {status} with enum values and union "
                "tags the contract does not list, as a newer server sends them: the SDK keeps them."
            )
        if call.left_out:
            doc += (
                f" Left out: {', '.join(call.left_out)} (no value the contract allows, or a nested "
                "query value, whose serialisation OpenAPI does not define)."
            )
        case: JsonDict = {
            "name": f"{self.axis}/{name}",
            "doc": doc,
            "operation": self.op.id,
            "args": call.args,
            "client": self._client(),
            "steps": [{"request": self._request(call.path, call.query, call.body), "response": response}],
        }
        wire = self._wire(call.body)
        if wire:
            case["expect"] = {"wire": wire}
        requires = self._requires()
        if requires:
            case["requires"] = requires
        if self.shape.result.kind == ResultKind.SSE:
            case["mode"] = "stream"
        return case

    def _requires(self) -> list[str]:
        """The driver capabilities the operation's cases need (PROTOCOL.md, hello)."""
        needs = []
        body = self.shape.body
        if body is not None and body.kind in (BodyKind.MULTIPART, BodyKind.FORM, BodyKind.BINARY):
            needs.append(str(body.kind))
        if self.shape.result.kind == ResultKind.SSE:
            needs.append("stream")
        elif self.shape.result.kind == ResultKind.BINARY and "binary" not in needs:
            needs.append("binary")
        if self.shape.requires_get_body:
            needs.append("get_body")  # which fetch cannot send (views/common.py)
        return needs

    def _success(self, flavour: Flavour) -> tuple[int, JsonDict]:
        result = self.shape.result
        documented = self._success_status()
        status = int(documented) if documented.isdigit() else 200  # 2XX or default: played as 200
        raw = self._response(documented)
        if result.kind == ResultKind.EMPTY or status == 204:
            return status, {"kind": "text", "status": status, "body": ""}
        if result.kind == ResultKind.BINARY:
            return status, {
                "kind": "bytes",
                "status": status,
                "body_base64": base64.b64encode(BINARY_BODY).decode(),
            }
        schema = self._media_schema(raw.get("content"), result.media_type) or {}
        if result.kind == ResultKind.TEXT:
            text = self.values.value({"type": "string"} | schema, flavour, 1, "text")
            return status, {"kind": "text", "status": status, "body": str(text)}
        if result.kind == ResultKind.SSE:
            event_schema = schema if result.type is not None else {"type": "string"}
            data = json.dumps(self.values.value(event_schema, flavour, 0), ensure_ascii=False)
            events = [{"id": str(n), "data": data} for n in (1, 2)]
            return status, {"kind": "sse", "status": status, "events": events}
        if result.kind != ResultKind.JSON:
            raise UnsatisfiableError(
                f"a {result.kind} response: derived cases play JSON, text, binary and SSE"
            )
        return status, {"kind": "json", "status": status, "body": self.values.value(schema, flavour, 0)}

    def _pages(self) -> JsonDict | None:
        """Two pages walked page by page: the second request carries what the first page says
        (its cursor, its Link URL or the advanced offset), and the walk ends after it."""
        pagination = self.shape.pagination
        assert pagination is not None
        if pagination.cursor_in_body:
            return None  # a Connect method's cursor: OpenAPI contracts have none
        call = self._args(MINIMAL_REQUEST)
        path, query, body = call.path, call.query, call.body
        status, first = self._success(MINIMAL_RESPONSE)
        if first.get("kind") != "json":
            return None
        page_one, page_two = first["body"], copy.deepcopy(first["body"])
        item = self._page_item()
        second_query = query
        headers: JsonDict = {}
        if pagination.style == PageStyle.CURSOR and pagination.cursor_param and pagination.next_cursor_field:
            if not isinstance(page_one, dict):
                return None
            page_one, page_two = self._with_items(page_one, [item, item]), self._with_items(page_two, [item])
            page_one[pagination.next_cursor_field] = "cursor_2"
            # The last page's cursor is null where the page requires the field, else absent.
            if pagination.next_cursor_field in self._page_schema().get("required", ()):
                page_two[pagination.next_cursor_field] = None
            else:
                page_two.pop(pagination.next_cursor_field, None)
            if pagination.has_more_field:
                page_one[pagination.has_more_field], page_two[pagination.has_more_field] = True, False
            second_query = "&".join(filter(None, [query, f"{quote(pagination.cursor_param)}=cursor_2"]))
        elif pagination.style == PageStyle.LINK:
            page_one, page_two = self._with_items(page_one, [item, item]), self._with_items(page_two, [item])
            second_query = "&".join(filter(None, [query, "page=2"]))
            headers = {"Link": f'<{{mock}}{path.lstrip("/")}?{second_query}>; rel="next"'}
        elif pagination.style == PageStyle.OFFSET and pagination.offset_param:
            page_one = self._with_items(page_one, [item, item])
            # With a total the walk ends when it is reached; without one, at an empty page.
            page_two = self._with_items(page_two, [item] if pagination.total_field else [])
            if pagination.total_field and isinstance(page_one, dict) and isinstance(page_two, dict):
                page_one[pagination.total_field] = page_two[pagination.total_field] = 3
            second_query = "&".join(filter(None, [query, f"{quote(pagination.offset_param)}=2"]))
        else:
            return None
        first_response = {"kind": "json", "status": status, "body": page_one}
        if headers:
            first_response["headers"] = headers
        return {
            "name": f"{self.axis}/pages",
            "doc": f"Two {pagination.style} pages walked page by page; the second request follows the first.",
            "operation": self.op.id,
            "mode": "pages",
            "requires": ["pages"],
            "args": call.args,
            "client": self._client(),
            "steps": [
                {"request": self._request(path, query, body), "response": first_response},
                {
                    "request": self._request(path, second_query, body),
                    "response": {"kind": "json", "status": status, "body": page_two},
                },
            ],
        }

    def _page_schema(self) -> JsonDict:
        raw = self._response(self._success_status())
        return self.values.merged(self._media_schema(raw.get("content"), self.shape.result.media_type) or {})

    def _page_item(self) -> Any:
        """One item of a page, generated from the schema of the page's item array."""
        pagination = self.shape.pagination
        assert pagination is not None
        schema = self._page_schema()
        if pagination.items_field:
            schema = self.values.merged((schema.get("properties") or {}).get(pagination.items_field) or {})
        return self.values.value(schema.get("items", {}), MINIMAL_RESPONSE, 1)

    def _with_items(self, page: Any, items: list[Any]) -> Any:
        field_name = self.shape.pagination.items_field if self.shape.pagination else None
        if field_name is None:
            return list(items)
        page = dict(page) if isinstance(page, dict) else {}
        page[field_name] = list(items)
        return page

    def _success_status(self) -> str:
        statuses = [s for s in self.shape.result.statuses if s.isdigit() and s.startswith("2")]
        return statuses[0] if statuses else (self.shape.result.statuses or ("200",))[0]

    def _errors(self) -> list[JsonDict]:
        cases = []
        call = self._args(MINIMAL_REQUEST)
        requires = self._requires()
        for error in self.shape.errors:
            if not (error.status.isdigit() and error.status[0] in "45"):
                continue  # 4XX and default name no one status to play
            status = int(error.status)
            schema = self._media_schema(self._response(error.status).get("content"), error.media_type)
            response: JsonDict = (
                {"kind": "json", "status": status, "body": self.values.value(schema, MINIMAL_RESPONSE, 0)}
                if schema is not None and "json" in error.media_type
                else {"kind": "text", "status": status, "body": "derived error"}
            )
            cases.append(
                {
                    "name": f"{self.axis}/status-{error.status}",
                    "doc": f"The documented {error.status} answer is an api error with that status.",
                    "operation": self.op.id,
                    "args": call.args,
                    "client": self._client(retries=False),
                    "steps": [
                        {"request": self._request(call.path, call.query, call.body), "response": response}
                    ],
                    "expect": {"outcome": "error", "error": {"kind": "api", "status": status}},
                    **({"mode": "stream"} if self.shape.streaming else {}),
                    **({"requires": requires} if requires else {}),
                }
            )
        return cases


def _form_fields(value: Any) -> bool:
    """Whether a form body value has any scalar to send (nested empty objects send nothing)."""
    if isinstance(value, dict):
        return any(_form_fields(item) for item in value.values())
    if isinstance(value, list):
        return any(_form_fields(item) for item in value)
    return True


def _serialisable(value: Any, style: str) -> bool:
    """Whether OpenAPI's style table defines the query form of the value: a scalar, an array of
    scalars (not as deepObject) or an object of scalars."""
    if isinstance(value, list):
        return style != "deepObject" and all(not isinstance(item, dict | list) for item in value)
    if isinstance(value, dict):
        return all(not isinstance(item, dict | list) for item in value.values())
    return True


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 1.0 is written "1" by Go, Rust and JavaScript alike
    return str(value)


def _path_segment(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(urllib.parse.quote(_scalar_text(item), safe="") for item in value)
    return urllib.parse.quote(_scalar_text(value), safe="")


def quote(text: str) -> str:
    """Percent-encodes everything but RFC 3986's unreserved characters (what every SDK sends)."""
    return urllib.parse.quote(text, safe="")


def _query_pairs(name: str, value: Any, style: str, explode: bool) -> list[str]:
    """The query pairs of one parameter as OpenAPI's style and explode serialise it."""
    if isinstance(value, list):
        if explode and style == "form":
            return [f"{quote(name)}={quote(_scalar_text(item))}" for item in value]
        separator = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(style, ",")
        return [f"{quote(name)}={quote(separator.join(_scalar_text(item) for item in value))}"]
    if isinstance(value, dict):
        if style == "deepObject":
            return [f"{quote(f'{name}[{key}]')}={quote(_scalar_text(item))}" for key, item in value.items()]
        if explode:
            return [f"{quote(key)}={quote(_scalar_text(item))}" for key, item in value.items()]
        flat = ",".join(f"{key},{_scalar_text(item)}" for key, item in value.items())
        return [f"{quote(name)}={quote(flat)}"]
    return [f"{quote(name)}={quote(_scalar_text(value))}"]
