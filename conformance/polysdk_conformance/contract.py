"""Contract validation of the requests the mock receives, with openapi-core.

A request is first offered to the compiled route index (routes.py), which recognises a clean
request in microseconds; only a request it is not sure of goes through openapi-core, which costs
milliseconds and is what every finding comes from.

The mock never fails a request because of a violation: violations are journal entries, and the
runner decides what they mean. Where openapi-core is known to misjudge our OpenAPI 3.1 contract,
the finding is kept as a note ("skipped: ...") instead of a violation, so that the limitation is
visible rather than silently hidden or hand-patched with a validator of our own."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from polysdk_conformance.routes import Routes

# openapi-core's 3.1 request validator applies `required` to readOnly properties too, although
# OpenAPI says a required readOnly property is required in responses only.
_READ_ONLY_SKIP = "skipped: openapi-core requires the readOnly property {name!r} in a request body"
# For a binary body (`type: string` with contentMediaType in 3.1), openapi-core validates the raw
# bytes against `type: string` and always fails.
_BINARY_SKIP = "skipped: openapi-core cannot validate a binary body against its 3.1 schema"


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
    with spec_path.open(encoding="utf-8") as stream:
        spec: dict[str, Any] = yaml.safe_load(stream)
    return spec


class ContractValidator:
    """Validates requests (path already stripped of the mock's `/t/<token>` prefix)."""

    def __init__(self, spec: dict[str, Any], routes: Routes | None = None) -> None:
        self.routes = routes or Routes(spec)
        self._api = OpenAPI.from_dict(spec)
        # openapi-core matches the full URL against the contract's servers, so requests are
        # presented as if sent to the first server (host and any path prefix it has).
        servers = spec.get("servers") or [{"url": "http://localhost"}]
        url = urlsplit(str(servers[0].get("url", "")))
        self._host_url = f"{url.scheme or 'http'}://{url.netloc or 'localhost'}"
        self._prefix = url.path.rstrip("/")
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
        for error in errors:
            _describe(error, violations, notes)
        return Findings(violations, notes)


def _lower_media_type(content_type: str) -> str:
    """The media type lowercased as openapi-core expects, its parameters kept: a multipart
    boundary is case-sensitive."""
    media_type, sep, parameters = content_type.partition(";")
    return media_type.strip().lower() + sep + parameters


def _describe(error: BaseException, violations: list[str], notes: list[str]) -> None:
    """One line per finding: the error's summary, then each schema error beneath it."""
    nested = list(getattr(error, "errors", None) or [])  # ParametersError bundles several
    if nested:
        for inner in nested:
            _describe(inner, violations, notes)
        return
    text = str(error).splitlines()[0] if str(error) else ""
    kind = type(error).__name__
    summary = text if text.startswith(kind) else f"{kind}: {text}"
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
