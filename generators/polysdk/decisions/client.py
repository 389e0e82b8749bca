"""Client-wide decisions: the default base URL, the environment-variable prefix, which
credentials the client can send and where the API key goes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from polysdk import ir
from polysdk.decisions.operations import BEARER_KINDS, sdk_api_key_scheme
from polysdk.names import split_words

_NOISE = {"api", "apis", "openapi", "service", "rest", "http", "v1", "v2", "v3"}


@dataclass(frozen=True)
class ApiKeyPlacement:
    location: str  # header, query or cookie
    name: str  # the header, query parameter or cookie name


@dataclass(frozen=True)
class ClientDefaults:
    base_url: str  # the first absolute server URL; "" when the contract names none
    env_prefix: str  # ORCHESTRATOR for ORCHESTRATOR_BASE_URL, _API_KEY, _BEARER_TOKEN
    bearer: bool  # some security scheme takes a bearer token (http bearer, OAuth 2, OpenID)
    api_key: ApiKeyPlacement | None  # the first API-key scheme, if any

    @property
    def credentials(self) -> tuple[str, ...]:
        """The credentials the contract's security schemes take, as examples show them: "bearer"
        and/or "api-key", or none. An example never configures one the SDK would not send."""
        return (*(("bearer",) if self.bearer else ()), *(("api-key",) if self.api_key else ()))

    @property
    def env_base_url(self) -> str:
        return f"{self.env_prefix}_BASE_URL"

    @property
    def env_api_key(self) -> str:
        return f"{self.env_prefix}_API_KEY"

    @property
    def env_bearer_token(self) -> str:
        return f"{self.env_prefix}_BEARER_TOKEN"


def package_words(api: ir.Api, override: str = "") -> list[str]:
    """Words for the SDK's package name: the user's choice, else info.title minus noise words."""
    words = split_words(override) if override else split_words(api.title)
    if not override:
        words = [w for w in words if w.lower() not in _NOISE]
    return words or ["client"]


def sdk_words(api: ir.Api, override: str = "") -> list[str]:
    """package_words without a trailing "SDK": each language adds its own suffix back."""
    words = package_words(api, override)
    return words[:-1] if len(words) > 1 and words[-1].lower() == "sdk" else words


def env_prefix(api: ir.Api, override: str = "") -> str:
    """The prefix of the SDK's environment variables, one rule for every language: upper-case
    alphanumeric words joined by '_', 'N' before a digit."""
    prefix = "_".join(re.sub(r"[^A-Z0-9]", "", w.upper()) for w in sdk_words(api, override)).strip("_")
    prefix = prefix or "API"
    return "N" + prefix if prefix[0].isdigit() else prefix


def _is_absolute(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def client_defaults(api: ir.Api, package_name: str) -> tuple[ClientDefaults, list[str]]:
    """The client defaults, and warnings about what the contract leaves to the user."""
    warnings = []
    base_url = next((s.url for s in api.servers if _is_absolute(s.url)), "")
    if not base_url and api.servers:
        warnings.append(
            f"servers: {api.servers[0].url!r} is relative to wherever the contract is served, so the "
            "SDKs have no default base URL; users set one (option or environment variable)"
        )
    scheme = sdk_api_key_scheme(api)
    api_key = ApiKeyPlacement(scheme.location, scheme.param_name) if scheme is not None else None
    for other in api.security_schemes:
        if other.kind == "api-key" and scheme is not None and other.name != scheme.name:
            warnings.append(
                f"components.securitySchemes.{other.name}: a second API-key scheme is not supported: the "
                f"SDKs send their one API key as {scheme.name!r} ({scheme.location} {scheme.param_name!r}), "
                f"so an operation that accepts only {other.name!r} is called without a key"
            )
    defaults = ClientDefaults(
        base_url=base_url,
        env_prefix=env_prefix(api, package_name),
        bearer=any(s.kind in BEARER_KINDS for s in api.security_schemes),
        api_key=api_key,
    )
    return defaults, warnings
