"""The crate around the operations: its name and Cargo metadata, the client's defaults (base URL,
environment variables, which credentials the contract takes and where the API key goes), all
rendered from `decisions.client`, and the calls the README shows, from `decisions.examples`."""

from __future__ import annotations

from dataclasses import dataclass

from polysdk import ir
from polysdk.decisions import ClientDefaults, Decisions, OperationShape, ResultKind, package_words
from polysdk.literals import rust_string
from polysdk.plan import Options
from polysdk.views.rust.operations import RustOperation, RustOperations

_API_KEY_IN = {"header": "Header", "query": "Query", "cookie": "Cookie"}


def crate_name(api: ir.Api, options: Options) -> str:
    words = [w.lower() for w in package_words(api, options.package_name)]
    if words[-1] != "sdk":
        words.append("sdk")
    name = "-".join(words)
    return "n" + name if not name[0].isalpha() else name


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes, controls and non-ASCII escaped."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code > 0xFFFF:
            out.append(f"\\U{code:08X}")
        else:
            out.append(f"\\u{code:04X}")
    return '"' + "".join(out) + '"'


@dataclass(frozen=True)
class RustClient:
    """The client's generated constants (Rust expressions) and what the README says of them."""

    default_base_url: str  # Rust string literal, "" when the contract names no absolute server
    has_base_url: bool
    env_prefix: str  # Rust string literal
    env_prefix_plain: str
    env_base_url: str  # ORCHESTRATOR_BASE_URL
    bearer: str  # `true` or `false`
    api_key: str  # `None` or `Some((crate::runtime::ApiKeyIn::Header, "X-API-Key"))`
    api_key_location: str  # header, query or cookie; "" without an API-key scheme
    api_key_name: str
    credentials: tuple[str, ...]  # decisions.client.credentials: what the README configures


def rust_client(defaults: ClientDefaults) -> RustClient:
    placement = defaults.api_key
    api_key = "None"
    if placement is not None:
        api_key = (
            f"Some((runtime::ApiKeyIn::{_API_KEY_IN[placement.location]}, {rust_string(placement.name)}))"
        )
    return RustClient(
        default_base_url=rust_string(defaults.base_url),
        has_base_url=bool(defaults.base_url),
        env_prefix=rust_string(defaults.env_prefix),
        env_prefix_plain=defaults.env_prefix,
        env_base_url=defaults.env_base_url,
        bearer="true" if defaults.bearer else "false",
        api_key=api_key,
        api_key_location=placement.location if placement is not None else "",
        api_key_name=placement.name if placement is not None else "",
        credentials=defaults.credentials,
    )


@dataclass
class RustExample:
    """A call shown in the README: the decisions chose an operation whose required arguments are
    all strings."""

    call: str  # e.g. client.agents().get("id-123")
    op: RustOperation

    @property
    def connect(self) -> bool:
        """A Connect server stream (messages), rather than server-sent events."""
        return self.op.reads is ResultKind.CONNECT_STREAM


def _example(
    operations: RustOperations, shape: OperationShape | None, pages: bool = False
) -> RustExample | None:
    found = operations.find(shape) if shape is not None else None
    if found is None or (pages and found[1].paging is None):
        return None
    group, op = found
    # A String parameter takes `impl Into<String>`; an alias of String takes the alias itself.
    args = ", ".join(
        rust_string("id-123") + ("" if p.into else ".to_owned()") for p in op.params if p.required
    )
    return RustExample(f"client.{group.accessor}().{op.method}({args})", op)


def examples(decisions: Decisions, operations: RustOperations) -> dict[str, RustExample | None]:
    chosen = decisions.examples
    return {
        "call": _example(operations, chosen.call),
        "page": _example(operations, chosen.page, pages=True),
        "stream": _example(operations, chosen.stream),
        "download": _example(operations, chosen.download),
    }
