"""Contract validation of the requests the mock receives, with openapi-core.

A request is first offered to the compiled route index (routes.py), which recognises a clean
request in microseconds; only a request it is not sure of goes through openapi-core, which costs
milliseconds and is what every finding comes from.

The mock never fails a request because of a violation: violations are journal entries, and the
runner decides what they mean. Where openapi-core is known to misjudge our OpenAPI 3.1 contract,
the finding is kept as a note ("skipped: ...") instead of a violation, so that the limitation is
visible rather than silently hidden or hand-patched with a validator of our own."""

from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from polysdk_conformance.routes import Routes

# openapi-core's 3.1 request validator applies `required` to readOnly properties too, although
# OpenAPI says a required readOnly property is required in responses only.
_READ_ONLY_SKIP = "skipped: openapi-core requires the readOnly property {name!r} in a request body"
# For a binary body (`type: string` with contentMediaType in 3.1), openapi-core validates the raw
# bytes against `type: string` and always fails.
_BINARY_SKIP = "skipped: openapi-core cannot validate a binary body against its 3.1 schema"
# openapi-core reads `style: deepObject` only as a flat object with word keys (`f[a]=1`): an
# array (`expand[]=x`, as Stripe's contract has everywhere) or a nested object (`f[a][b]=1`) is
# "not available" to it, in a query and in a form body's encoding alike.
_DEEP_OBJECT_SKIP = "skipped: openapi-core cannot read the deepObject {what} (it reads flat objects only)"
# It also reads an application/x-www-form-urlencoded body as flat name=value pairs, so a field
# sent in bracket notation (`metadata[key]=v`) fails its cast to an object or array.
_FORM_NESTED_SKIP = "skipped: openapi-core reads a form body's nested fields as flat pairs: {what}"


# openapi-core checks apiKey and http schemes and warns once ("Unsupported scheme type") for every
# other kind (oauth2, openIdConnect), accepting the request: the SDKs send those as a bearer token,
# which the runner's cases pin themselves. The warning says nothing a run can act on.
warnings.filterwarnings("ignore", message="Unsupported scheme type", module=r"openapi_core\.security")


def default_spec_path() -> Path:
    """The orchestrator contract: the copy shipped in the polysdk wheel, else the repository's."""
    try:
        from importlib.resources import files

        shipped = Path(str(files("polysdk") / "spec" / "orchestrator.yaml"))
        if shipped.is_file():
            return shipped
    except (ImportError, TypeError):  # polysdk not importable: running from a checkout
        pass
    return Path(__file__).resolve().parents[2] / "spec" / "orchestrator.yaml"


@dataclass
class _Request:
    """The shape openapi-core's Request protocol asks for."""

    method: str
    host_url: str
    path: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters = field(default_factory=RequestParameters)


@dataclass(frozen=True)
class Findings:
    violations: list[str]
    notes: list[str]


def load_spec(spec_path: Path) -> dict[str, Any]:
    """The contract as polysdk's front end reads it: YAML quirks repaired, integer keys as strings,
    Swagger 2.0 converted, so that the mock validates against what the SDKs were generated from.
    Raises ContractError for a contract that cannot be read."""
    from polysdk.errors import ContractError, Location
    from polysdk.frontends import ReadOptions, open_contract
    from polysdk.frontends.openapi import OpenApiReading

    reading = open_contract(spec_path, ReadOptions(validate=False))
    if not isinstance(reading, OpenApiReading):
        raise ContractError(Location(str(spec_path)), "the mock validates against an OpenAPI contract")
    contract = reading.contract
    return contract.data if contract.is_31 else _without_ref_siblings(contract.data)


def _without_ref_siblings(node: Any) -> Any:
    """An OpenAPI 3.0 document with the siblings of every `$ref` dropped, as 3.0 says they are
    ignored ("any properties added SHALL be ignored") and as the SDKs were generated; openapi-core
    applies them (`$ref: Amount` beside `type: number` would demand an object that is a number)."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            return {"$ref": node["$ref"]}
        return {key: _without_ref_siblings(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_without_ref_siblings(item) for item in node]
    return node


class ContractValidator:
    """Validates requests (path already stripped of the mock's `/t/<token>` prefix)."""

    def __init__(self, spec: dict[str, Any], routes: Routes | None = None) -> None:
        self.routes = routes or Routes(spec)
        # The contract is not validated again: `polysdk generate` reports a published contract's
        # faults as warnings and still generates, and the mock must serve what it generated from.
        # (openapi-core's check_spec skips validation for None; its annotation omits it.)
        config = Config(spec_validator_cls=None)  # type: ignore[arg-type]
        self._api = OpenAPI.from_dict(spec, config=config)
        # openapi-core matches the full URL against the contract's servers, so requests are
        # presented as if sent to the first server (host and any path prefix it has).
        servers = spec.get("servers") or [{"url": "http://localhost"}]
        url = urlsplit(_server_url(servers[0]))
        self._host_url = f"{url.scheme or 'http'}://{url.netloc or 'localhost'}"
        self._prefix = url.path.rstrip("/")
        self._other_servers = _operation_servers(spec) - {(self._host_url, self._prefix)}
        # The validator keeps lazily built caches; one request at a time keeps them consistent.
        self._lock = threading.Lock()

    def quick_check(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> Findings | None:
        """check()'s findings when the route index can tell them -- none, or only the notes on
        readOnly properties openapi-core would wrongly require -- else None: then check() must
        decide (it is slow enough to belong off the event loop)."""
        errors = self.routes.body_errors(method, path, query, headers, body)
        if errors is None:
            return None
        names = [_read_only_required(error) for error in errors]
        if any(name is None for name in names):
            return None
        return Findings([], [_READ_ONLY_SKIP.format(name=name) for name in names])

    def check(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> Findings:
        """openapi-core's findings on the request."""
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        request = _Request(
            method=method.lower(),
            host_url=self._host_url,
            path=self._prefix + path,
            body=body or None,
            content_type=_lower_media_type(content_type),
            parameters=RequestParameters(
                query=ImmutableMultiDict(parse_qsl(query, keep_blank_values=True)),
                header=Headers(headers),
            ),
        )
        violations: list[str] = []
        notes: list[str] = []
        try:
            with self._lock:
                errors = list(self._api.request_validator.iter_errors(request))
        except Exception as exc:  # noqa: BLE001 - a validator bug must never take the mock down
            return Findings([], [f"skipped: openapi-core failed: {type(exc).__name__}: {exc}"])
        if any(type(error).__name__ == "ServerNotFound" for error in errors) and self._other_servers:
            # An operation (or path) with servers of its own: present the request as sent there.
            for host_url, prefix in self._other_servers:
                retry = replace(request, host_url=host_url, path=prefix + path)
                with self._lock:
                    again = list(self._api.request_validator.iter_errors(retry))
                if not any(type(error).__name__ == "ServerNotFound" for error in again):
                    errors = again
                    break
        form = request.content_type.startswith("application/x-www-form-urlencoded")
        for error in errors:
            if type(error).__name__ == "ServerNotFound":
                # The request is presented at the contract's own server URL; one openapi-core
                # cannot match (a template with undeclared variables, `{siteUrl}`) says nothing
                # about the request.
                notes.append(f"skipped: openapi-core cannot match the contract's servers: {error}")
                continue
            _describe(error, violations, notes, form=form)
        return Findings(violations, notes)


def _lower_media_type(content_type: str) -> str:
    """The media type lowercased as openapi-core expects, its parameters kept: a multipart
    boundary is case-sensitive."""
    media_type, sep, parameters = content_type.partition(";")
    return media_type.strip().lower() + sep + parameters


def _server_url(server: Any) -> str:
    """A server's URL with its variables' defaults in place of `{name}`."""
    if not isinstance(server, dict):
        return ""
    url = str(server.get("url", ""))
    for name, variable in (server.get("variables") or {}).items():
        if isinstance(variable, dict) and "default" in variable:
            url = url.replace("{" + str(name) + "}", str(variable["default"]))
    return url


def _operation_servers(spec: dict[str, Any]) -> set[tuple[str, str]]:
    """(host URL, path prefix) of the servers that paths and operations declare for themselves."""
    found: set[tuple[str, str]] = set()
    for item in (spec.get("paths") or {}).values():
        if not isinstance(item, dict):
            continue
        nodes = [item, *(op for op in item.values() if isinstance(op, dict))]
        for node in nodes:
            for server in node.get("servers") or []:
                if isinstance(server, dict) and isinstance(server.get("url"), str):
                    url = urlsplit(_server_url(server))
                    found.add((f"{url.scheme or 'http'}://{url.netloc or 'localhost'}", url.path.rstrip("/")))
    return found


def _describe(error: BaseException, violations: list[str], notes: list[str], *, form: bool = False) -> None:
    """One line per finding: the error's summary, then each schema error beneath it."""
    nested = list(getattr(error, "errors", None) or [])  # ParametersError bundles several
    if nested:
        for inner in nested:
            _describe(inner, violations, notes, form=form)
        return
    text = str(error).splitlines()[0] if str(error) else ""
    kind = type(error).__name__
    summary = text if text.startswith(kind) else f"{kind}: {text}"
    deep = _DEEP_OBJECT.search(f"{summary} {error.__cause__ or ''}")
    if deep:
        notes.append(_DEEP_OBJECT_SKIP.format(what=repr(deep.group(1))))
        return
    if form and "Failed to cast value to" in summary:
        notes.append(_FORM_NESTED_SKIP.format(what=summary.split("Failed to cast ", 1)[1][:120]))
        return
    schema_errors = _schema_errors(error)
    if not schema_errors:
        cause = str(error.__cause__ or "").splitlines()[:1]
        violations.append(f"{summary} ({cause[0]})" if cause and cause[0] not in summary else summary)
        return
    head = summary.split(":", 2)
    prefix = ":".join(head[:2]) if len(head) > 2 else summary
    for schema_error in schema_errors:
        name = _read_only_required(schema_error)
        if name is not None:
            notes.append(_READ_ONLY_SKIP.format(name=name))
            continue
        if isinstance(getattr(schema_error, "instance", None), bytes):
            notes.append(_BINARY_SKIP)
            continue
        location = "/".join(str(part) for part in getattr(schema_error, "absolute_path", []))
        message = str(getattr(schema_error, "message", schema_error)).splitlines()[0]
        violations.append(f"{prefix}: {'/' + location + ': ' if location else ''}{message}")


# How openapi-core names the deepObject it could not read: "('deepObject', 'expand')".
_DEEP_OBJECT = re.compile(r"\('deepObject', '([^']*)'\)")


def _schema_errors(error: BaseException) -> list[Any]:
    cause: BaseException | None = error
    while cause is not None:
        found = getattr(cause, "schema_errors", None)
        if found:
            return list(found)
        cause = cause.__cause__
    return []


def _read_only_required(schema_error: Any) -> str | None:
    """The property name when the error is `required` on a readOnly property, else None."""
    if getattr(schema_error, "validator", None) != "required":
        return None
    schema = getattr(schema_error, "schema", None)
    message = str(getattr(schema_error, "message", ""))
    if not isinstance(schema, dict) or not message.endswith(" is a required property"):
        return None
    name = message.removesuffix(" is a required property").strip("'\"")
    prop = (schema.get("properties") or {}).get(name)
    if isinstance(prop, dict) and prop.get("readOnly") is True:
        return name
    return None
