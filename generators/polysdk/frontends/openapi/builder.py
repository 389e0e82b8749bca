"""OpenAPI paths, parameters, bodies, responses and security to the IR `Api`."""

from __future__ import annotations

import re
from typing import Any

from polysdk import ir
from polysdk.frontends.openapi.document import Contract
from polysdk.frontends.openapi.schemas import SchemaConverter
from polysdk.names import split_words
from polysdk.pointers import join_pointer

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_DEFAULT_STYLE = {"path": "simple", "query": "form", "header": "simple", "cookie": "form"}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _docs(node: dict[str, Any]) -> ir.Docs:
    return ir.Docs(
        summary=_text(node.get("summary")),
        description=_text(node.get("description")),
        deprecated=node.get("deprecated") is True,
    )


def _license(node: Any) -> ir.License | None:
    if not isinstance(node, dict):
        return None
    found = ir.License(
        name=_text(node.get("name")), identifier=_text(node.get("identifier")), url=_text(node.get("url"))
    )
    return found if found != ir.License() else None


def _go_module(info: dict[str, Any]) -> str:
    """The Go module path an `info.x-go-module` (or `x-polysdk-go-module`) extension names."""
    for key in ("x-polysdk-go-module", "x-go-module"):
        value = info.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


class _Builder:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.uri = contract.uri
        self.schemas = SchemaConverter(contract)

    def deref(self, node: Any, pointer: str) -> tuple[Any, str, str]:
        """Follow a `$ref` to a reusable component (parameter, response, body, header)."""
        uri = self.uri
        for _ in range(32):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node, uri, pointer
            uri, pointer, node = self.contract.resolve(node["$ref"], uri, pointer)
        raise self.contract.error(self.uri, pointer, "reference chain too long or cyclic", "")

    def build(self) -> ir.Api:
        data = self.contract.data
        self.schemas.reserve_components()
        info = data.get("info", {}) if isinstance(data.get("info"), dict) else {}
        operations = self._operations()
        self.schemas.convert_components()
        servers = tuple(
            ir.Server(url=_text(s.get("url")), docs=ir.Docs(description=_text(s.get("description"))))
            for s in data.get("servers", []) or []
            if isinstance(s, dict)
        )
        tags = tuple(
            ir.Tag(name=_text(t.get("name")), docs=_docs(t))
            for t in data.get("tags", []) or []
            if isinstance(t, dict) and t.get("name")
        )
        return ir.Api(
            title=_text(info.get("title")),
            version=str(info.get("version", "")),
            docs=_docs(info),
            servers=servers,
            tags=tags,
            types=self.schemas.named_types(),
            operations=operations,
            security_schemes=self._security_schemes(),
            warnings=tuple(self.schemas.warnings),
            license=_license(info.get("license")),
            go_module=_go_module(info),
        )

    # Operations ----------------------------------------------------------------------------------

    def _operations(self) -> tuple[ir.Operation, ...]:
        paths = self.contract.data.get("paths", {}) or {}
        global_security = self.contract.data.get("security")
        operations: list[ir.Operation] = []
        used_ids: set[str] = set()
        for path, item in paths.items():
            item_pointer = join_pointer("/paths", path)
            item, _, _ = self.deref(item, item_pointer)
            if not isinstance(item, dict):
                continue
            shared = item.get("parameters", []) or []
            for method in _METHODS:
                node = item.get(method)
                if not isinstance(node, dict):
                    continue
                pointer = join_pointer(item_pointer, method)
                op_id = _text(node.get("operationId")) or self._synthetic_id(method, path)
                canonical = "".join(w.lower() for w in split_words(op_id))
                if canonical in used_ids:
                    raise self.contract.error(
                        self.uri,
                        join_pointer(pointer, "operationId"),
                        f"operationId {op_id!r} clashes with another operation's name",
                        "give every operation a distinct operationId",
                    )
                used_ids.add(canonical)
                security = node.get("security", global_security)
                operations.append(
                    ir.Operation(
                        id=op_id,
                        tags=tuple(str(t) for t in node.get("tags", []) or []),
                        http=ir.HttpBinding(method=method.upper(), path=str(path)),
                        params=self._params(
                            shared, item_pointer, node.get("parameters", []) or [], pointer, op_id
                        ),
                        body=self._body(node.get("requestBody"), join_pointer(pointer, "requestBody"), op_id),
                        responses=self._responses(
                            node.get("responses", {}) or {}, join_pointer(pointer, "responses"), op_id
                        ),
                        security=self._security(security),
                        docs=_docs(node),
                    )
                )
        return tuple(operations)

    @staticmethod
    def _synthetic_id(method: str, path: str) -> str:
        words = [w for w in re.split(r"[^A-Za-z0-9]+", path) if w]
        return "_".join([method, *words]) if words else method

    def _params(
        self, shared: list[Any], shared_pointer: str, own: list[Any], pointer: str, op_id: str
    ) -> tuple[ir.Param, ...]:
        by_key: dict[tuple[str, str], ir.Param] = {}
        sources = [(p, join_pointer(shared_pointer, "parameters", i)) for i, p in enumerate(shared)]
        sources += [(p, join_pointer(pointer, "parameters", i)) for i, p in enumerate(own)]
        for raw, raw_pointer in sources:
            node, uri, node_pointer = self.deref(raw, raw_pointer)
            if not isinstance(node, dict):
                continue
            name, location = _text(node.get("name")), _text(node.get("in"))
            if location not in _DEFAULT_STYLE:
                continue
            if location == "header" and name.lower() in ("accept", "content-type", "authorization"):
                continue  # OpenAPI says these are ignored as parameters
            schema, schema_pointer = node.get("schema"), join_pointer(node_pointer, "schema")
            content = node.get("content")
            if schema is None and isinstance(content, dict) and content:
                media = next(iter(content))
                schema = (content[media] or {}).get("schema")
                schema_pointer = join_pointer(node_pointer, "content", media, "schema")
            param_type = self.schemas.type_of(schema, uri, schema_pointer, f"{op_id}_{name}")
            style = _text(node.get("style")) or _DEFAULT_STYLE[location]
            explode = node.get("explode")
            resolved_schema, _, _ = self.schemas.deref(schema, uri, schema_pointer)
            default = None
            if isinstance(resolved_schema, dict) and "default" in resolved_schema:
                default = ir.Default(resolved_schema["default"])
            by_key[(name, location)] = ir.Param(
                wire_name=name,
                location=ir.ParamLocation(location),
                type=param_type,
                required=node.get("required") is True or location == "path",
                style=style,
                explode=explode if isinstance(explode, bool) else style == "form",
                docs=_docs(node),
                default=default,
            )
        return tuple(by_key.values())

    def _contents(self, content: Any, uri: str, pointer: str, hint: str) -> tuple[ir.Content, ...]:
        if not isinstance(content, dict):
            return ()
        out = []
        for media_type, media in content.items():
            media = media if isinstance(media, dict) else {}
            media_pointer = join_pointer(pointer, "content", media_type)
            schema = media.get("schema")
            value_type = (
                None
                if schema is None
                else self.schemas.type_of(schema, uri, join_pointer(media_pointer, "schema"), hint)
            )
            encodings = tuple(
                ir.Encoding(part=str(part), content_type=_text((enc or {}).get("contentType")))
                for part, enc in (media.get("encoding") or {}).items()
                if isinstance(enc, dict) and enc.get("contentType")
            )
            out.append(ir.Content(media_type=str(media_type), type=value_type, encodings=encodings))
        return tuple(out)

    def _body(self, raw: Any, pointer: str, op_id: str) -> ir.RequestBody | None:
        if raw is None:
            return None
        node, uri, node_pointer = self.deref(raw, pointer)
        if not isinstance(node, dict):
            return None
        return ir.RequestBody(
            required=node.get("required") is True,
            contents=self._contents(node.get("content"), uri, node_pointer, f"{op_id}_request"),
            docs=_docs(node),
        )

    def _responses(self, raw: dict[str, Any], pointer: str, op_id: str) -> tuple[ir.Response, ...]:
        out = []
        successes = [s for s in raw if str(s).startswith("2")]
        for status, response in raw.items():
            status = str(status)
            node, uri, node_pointer = self.deref(response, join_pointer(pointer, status))
            if not isinstance(node, dict):
                continue
            if status.startswith("2"):
                hint = f"{op_id}_response" if len(successes) == 1 else f"{op_id}_{status}_response"
            else:
                hint = f"{op_id}_{status}_error"
            headers = []
            for header_name, header in (node.get("headers") or {}).items():
                header_node, header_uri, header_pointer = self.deref(
                    header, join_pointer(node_pointer, "headers", header_name)
                )
                if not isinstance(header_node, dict):
                    continue
                headers.append(
                    ir.Header(
                        wire_name=str(header_name),
                        type=self.schemas.type_of(
                            header_node.get("schema"),
                            header_uri,
                            join_pointer(header_pointer, "schema"),
                            f"{op_id}_{header_name}_header",
                        ),
                        required=header_node.get("required") is True,
                        docs=_docs(header_node),
                    )
                )
            out.append(
                ir.Response(
                    status=status,
                    contents=self._contents(node.get("content"), uri, node_pointer, hint),
                    headers=tuple(headers),
                    docs=_docs(node),
                )
            )
        return tuple(out)

    # Security ------------------------------------------------------------------------------------

    @staticmethod
    def _security(raw: Any) -> tuple[tuple[str, ...], ...]:
        if not isinstance(raw, list):
            return ()
        return tuple(tuple(str(name) for name in req) for req in raw if isinstance(req, dict))

    def _security_schemes(self) -> tuple[ir.SecurityScheme, ...]:
        schemes = (self.contract.data.get("components", {}) or {}).get("securitySchemes", {}) or {}
        out = []
        for name, raw in schemes.items():
            node, _, _ = self.deref(raw, join_pointer("/components/securitySchemes", name))
            if not isinstance(node, dict):
                continue
            kind = _text(node.get("type"))
            if kind == "http":
                scheme = _text(node.get("scheme")).lower()
                kind = f"http-{scheme}" if scheme in ("bearer", "basic") else "http-other"
            elif kind == "apiKey":
                kind = "api-key"
            elif kind == "openIdConnect":
                kind = "openid"
            out.append(
                ir.SecurityScheme(
                    name=str(name),
                    kind=kind,
                    location=_text(node.get("in")),
                    param_name=_text(node.get("name")),
                    docs=_docs(node),
                )
            )
        return tuple(out)


def build_api(contract: Contract) -> ir.Api:
    """The IR of a loaded contract. Raises ContractError for what the IR cannot represent."""
    return _Builder(contract).build()
