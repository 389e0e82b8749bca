"""Swagger 2.0 to OpenAPI 3.0, on the way in, as swagger2openapi converts it.

Many public APIs still publish Swagger 2.0. Rather than refuse them, the front end converts the
parsed document and reads the result like any 3.0 contract, with one warning that says so. PyPI
has no maintained converter (checked 2026-12: the 2.0 tools there generate docs or tests), so the
conversion is here, and covers what the Swagger 2.0 specification defines:

- host, basePath and schemes become `servers`;
- definitions, parameters and responses become components (local `$ref`s rewritten); a body or
  formData parameter, which OpenAPI 3 has no parameter for, is inlined where it is used;
- a body parameter becomes a `requestBody` with one content entry per `consumes` type, formData
  parameters one form (`multipart/form-data` or `application/x-www-form-urlencoded`) object;
- `produces` gives each response's content types, and `examples` their examples;
- securityDefinitions become securitySchemes (basic, apiKey, the four oauth2 flows);
- in schemas, `x-nullable` becomes `nullable`, `type: file` a binary string, a string
  `discriminator` a discriminator object;
- collectionFormat becomes style and explode.
"""

from __future__ import annotations

from typing import Any

VERSION = "3.0.3"
_Resolved = tuple[dict[str, Any], dict[str, Any]]  # (a parameter, followed if inlined; as written)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_DEFAULT_MEDIA = ["application/json"]
_FORM_MEDIA = ("multipart/form-data", "application/x-www-form-urlencoded")
# Keywords a 2.0 parameter or header shares with JSON Schema: they move into its 3.0 `schema`.
_SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
)
_LOCAL_REFS = (
    ("#/definitions/", "#/components/schemas/"),
    ("#/parameters/", "#/components/parameters/"),
    ("#/responses/", "#/components/responses/"),
)
_OAUTH_FLOWS = {
    "implicit": ("implicit", ("authorizationUrl",)),
    "password": ("password", ("tokenUrl",)),
    "application": ("clientCredentials", ("tokenUrl",)),
    "accessCode": ("authorizationCode", ("authorizationUrl", "tokenUrl")),
}


def is_swagger2(data: dict[str, Any]) -> bool:
    return str(data.get("swagger", "")).startswith("2.")


def convert(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The OpenAPI 3.0 document equivalent to the Swagger 2.0 document `data`, and notes on what has
    no 3.0 equivalent and was approximated. The result shares nodes with `data`, which is spent."""
    return _Converter(data).convert()


class _Converter:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.notes: list[str] = []
        self.consumes = _media(data.get("consumes"), _DEFAULT_MEDIA)
        self.produces = _media(data.get("produces"), _DEFAULT_MEDIA)

    def convert(self) -> tuple[dict[str, Any], list[str]]:
        data = self.data
        out: dict[str, Any] = {"openapi": VERSION, "info": data.get("info", {})}
        servers = self._servers()
        if servers:
            out["servers"] = servers
        for key in ("security", "tags", "externalDocs"):
            if key in data:
                out[key] = data[key]
        out.update(_extensions(data))
        paths = data.get("paths")
        out["paths"] = (
            {path: self._path_item(item) if isinstance(item, dict) else item for path, item in paths.items()}
            if isinstance(paths, dict)
            else {}
        )
        components = self._components()
        if components:
            out["components"] = components
        return _rewrite_refs(out), self.notes

    def _servers(self) -> list[dict[str, str]]:
        host = self.data.get("host")
        base = self.data.get("basePath") or ""
        base = base if isinstance(base, str) else ""
        if not isinstance(host, str) or not host:
            return [{"url": base}] if base else []
        schemes = [s for s in self.data.get("schemes") or ["https"] if isinstance(s, str)]
        return [{"url": f"{scheme}://{host}{base}"} for scheme in schemes or ["https"]]

    def _components(self) -> dict[str, Any]:
        components: dict[str, Any] = {}
        definitions = self.data.get("definitions")
        if isinstance(definitions, dict):
            components["schemas"] = {name: _schema(schema) for name, schema in definitions.items()}
        parameters = self.data.get("parameters")
        if isinstance(parameters, dict):
            # Body and formData parameters are inlined where they are used: 3.0 has no such thing.
            plain = {
                name: self._parameter(parameter)
                for name, parameter in parameters.items()
                if isinstance(parameter, dict) and parameter.get("in") not in ("body", "formData")
            }
            if plain:
                components["parameters"] = plain
        responses = self.data.get("responses")
        if isinstance(responses, dict):
            components["responses"] = {
                name: self._response(response, self.produces) for name, response in responses.items()
            }
        schemes = self.data.get("securityDefinitions")
        if isinstance(schemes, dict):
            components["securitySchemes"] = {
                name: _security_scheme(scheme) for name, scheme in schemes.items() if isinstance(scheme, dict)
            }
        return components

    def _path_item(self, item: dict[str, Any]) -> dict[str, Any]:
        shared = [self._resolve_parameter(p) for p in item.get("parameters") or [] if isinstance(p, dict)]
        out: dict[str, Any] = {}
        for key, value in item.items():
            if key in _METHODS and isinstance(value, dict):
                out[key] = self._operation(value, shared)
            elif key == "parameters":
                kept = [self._parameter(p) for p, _ in shared if p.get("in") not in ("body", "formData")]
                if kept:
                    out["parameters"] = kept
            else:
                out[key] = value
        # Path-level body and formData parameters belong to each operation's request body.
        return out

    def _resolve_parameter(self, parameter: dict[str, Any]) -> _Resolved:
        """(the parameter, as written): a `$ref` to a body or formData parameter is followed,
        since it is inlined; other references stay references."""
        ref = parameter.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            self.notes.append(f"parameter {ref!r}, in another file, is read as OpenAPI 3 without conversion")
        if isinstance(ref, str) and ref.startswith("#/parameters/"):
            target = (self.data.get("parameters") or {}).get(_unescape(ref[len("#/parameters/") :]))
            if isinstance(target, dict) and target.get("in") in ("body", "formData"):
                return target, parameter
        return parameter, parameter

    def _operation(self, operation: dict[str, Any], shared: list[_Resolved]) -> dict[str, Any]:
        consumes = _media(operation.get("consumes"), self.consumes)
        produces = _media(operation.get("produces"), self.produces)
        own = [self._resolve_parameter(p) for p in operation.get("parameters") or [] if isinstance(p, dict)]
        # An operation's parameter overrides a path-level one of the same name and location.
        overridden = {(p.get("name"), p.get("in")) for p, _ in own}
        inherited = [pair for pair in shared if (pair[0].get("name"), pair[0].get("in")) not in overridden]
        merged = [*inherited, *own]
        out: dict[str, Any] = {}
        for key, value in operation.items():
            if key in ("consumes", "produces", "parameters", "responses"):
                continue
            if key == "schemes":
                name = operation.get("operationId", "?")
                self.notes.append(f"operation {name}: its own schemes are dropped")
                continue
            out[key] = value
        parameters = [self._parameter(p) for p, _ in merged if p.get("in") not in ("body", "formData")]
        if parameters:
            out["parameters"] = parameters
        body = next((p for p, _ in merged if p.get("in") == "body"), None)
        form = [p for p, _ in merged if p.get("in") == "formData"]
        if body is not None:
            out["requestBody"] = self._body(body, consumes)
        elif form:
            out["requestBody"] = self._form(form, consumes)
        responses = operation.get("responses")
        if isinstance(responses, dict):
            out["responses"] = {code: self._response(r, produces) for code, r in responses.items()}
        elif responses is not None:
            out["responses"] = responses
        return out

    def _parameter(self, parameter: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in parameter:
            return dict(parameter)
        out: dict[str, Any] = {}
        schema: dict[str, Any] = {}
        for key, value in parameter.items():
            if key in _SCHEMA_KEYS:
                schema[key] = value
            elif key != "collectionFormat":
                out[key] = value
        if schema:
            out["schema"] = _schema(_items_schema(schema))
        if parameter.get("type") == "array":
            out.update(self._style(parameter.get("collectionFormat", "csv"), str(parameter.get("in", ""))))
        return out

    def _style(self, collection_format: Any, location: str) -> dict[str, Any]:
        if collection_format == "multi":
            return {"style": "form", "explode": True}
        if collection_format == "ssv":
            return {"style": "spaceDelimited", "explode": False}
        if collection_format == "pipes":
            return {"style": "pipeDelimited", "explode": False}
        if collection_format not in ("csv", None):
            self.notes.append(f"collectionFormat {collection_format!r} has no OpenAPI 3 style; read as csv")
        if location in ("path", "header"):
            return {"style": "simple", "explode": False}
        return {"style": "form", "explode": False}

    def _body(self, body: dict[str, Any], consumes: list[str]) -> dict[str, Any]:
        schema = _schema(body.get("schema", {}))
        out: dict[str, Any] = {"content": {media: {"schema": schema} for media in consumes}}
        if "description" in body:
            out["description"] = body["description"]
        if body.get("required") is True:
            out["required"] = True
        if isinstance(body.get("name"), str):
            out["x-codegen-request-body-name"] = body["name"]  # swagger2openapi keeps it so
        out.update(_extensions(body))
        return out

    def _form(self, form: list[dict[str, Any]], consumes: list[str]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for parameter in form:
            name = str(parameter.get("name", ""))
            converted = self._parameter(parameter)
            field = dict(converted.get("schema", {}))
            if "description" in parameter:
                field["description"] = parameter["description"]
            properties[name] = field
            if parameter.get("required") is True:
                required.append(name)
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        media = [m for m in consumes if m in _FORM_MEDIA]
        if not media:
            has_file = any(p.get("type") == "file" for p in form)
            media = ["multipart/form-data" if has_file else "application/x-www-form-urlencoded"]
        return {"content": {m: {"schema": schema} for m in media}}

    def _response(self, response: Any, produces: list[str]) -> Any:
        if not isinstance(response, dict) or "$ref" in response:
            return response
        out: dict[str, Any] = {"description": response.get("description", "")}
        headers = response.get("headers")
        if isinstance(headers, dict):
            out["headers"] = {name: self._header(header) for name, header in headers.items()}
        if "schema" in response:
            schema = _schema(response["schema"])
            given = response.get("examples")
            examples: dict[str, Any] = given if isinstance(given, dict) else {}
            content: dict[str, Any] = {}
            for media in produces:
                entry: dict[str, Any] = {"schema": schema}
                if media in examples:
                    entry["example"] = examples[media]
                content[media] = entry
            out["content"] = content
        out.update(_extensions(response))
        return out

    def _header(self, header: Any) -> Any:
        if not isinstance(header, dict):
            return header
        out = {k: v for k, v in header.items() if k not in _SCHEMA_KEYS and k != "collectionFormat"}
        schema = {k: v for k, v in header.items() if k in _SCHEMA_KEYS}
        if schema:
            out["schema"] = _schema(_items_schema(schema))
        return out


def _media(value: Any, default: list[str]) -> list[str]:
    if isinstance(value, list):
        media = [m for m in value if isinstance(m, str)]
        if media:
            return list(dict.fromkeys(media))
    return default


def _extensions(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if isinstance(k, str) and k.startswith("x-")}


def _items_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's `items` is a 2.0 items object (with its own collectionFormat): a schema."""
    items = schema.get("items")
    if isinstance(items, dict):
        inner = {k: v for k, v in items.items() if k != "collectionFormat"}
        schema = {**schema, "items": _items_schema(inner)}
    return schema


def _schema(schema: Any) -> Any:
    """A 2.0 schema as 3.0 has it: x-nullable, type file and a string discriminator converted, in
    the schema and every schema nested in it."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "x-nullable":
            out["nullable"] = value
        elif key == "type" and value == "file":
            out["type"] = "string"
            out["format"] = "binary"
        elif key == "discriminator" and isinstance(value, str):
            out["discriminator"] = {"propertyName": value}
        elif key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: _schema(sub) for name, sub in value.items()}
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = [_schema(sub) for sub in value]
        elif key in ("items", "additionalProperties", "not"):
            out[key] = [_schema(sub) for sub in value] if isinstance(value, list) else _schema(value)
        elif key not in out:
            out[key] = value
    return out


def _security_scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    kind = scheme.get("type")
    described = {"description": scheme["description"]} if "description" in scheme else {}
    if kind == "basic":
        return {"type": "http", "scheme": "basic", **described, **_extensions(scheme)}
    if kind == "oauth2":
        flow_name, urls = _OAUTH_FLOWS.get(str(scheme.get("flow")), ("implicit", ("authorizationUrl",)))
        flow: dict[str, Any] = {url: scheme.get(url, "") for url in urls}
        flow["scopes"] = scheme.get("scopes") or {}
        return {"type": "oauth2", "flows": {flow_name: flow}, **described, **_extensions(scheme)}
    return dict(scheme)  # apiKey: the same fields in both versions


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _rewrite_refs(node: Any) -> Any:
    """Every local `$ref` pointed at its 3.0 home. References to other files are left as they are:
    they name a schema file, which needs no conversion, by its own pointers."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str):
                for old, new in _LOCAL_REFS:
                    if ref.startswith(old):
                        current["$ref"] = new + ref[len(old) :]
                        break
            stack.extend(v for v in current.values() if isinstance(v, (dict, list)))
        elif isinstance(current, list):
            stack.extend(v for v in current if isinstance(v, (dict, list)))
    return node
