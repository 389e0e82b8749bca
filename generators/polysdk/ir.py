"""The intermediate representation: one typed, frozen, language-neutral model of an API.

Front ends (OpenAPI today, protobuf later) build it; per-language views read it. It holds no
language decisions and no flags that only one front end understands: an operation's HTTP binding
is a separate value, so an RPC from a .proto file can carry one too.

Names here are the contract's own spellings, made unique across the API (see `names.py` for how
each language turns them into identifiers). Named types are referred to by `NamedRef(name)`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


class Prim(enum.Enum):
    """Primitive kinds with their formats; views map each to one language type."""

    STRING = "string"
    BOOLEAN = "boolean"
    INTEGER = "integer"  # an integer without a declared width
    INT32 = "int32"
    INT64 = "int64"
    FLOAT = "float"
    DOUBLE = "double"
    DECIMAL = "decimal"  # arbitrary precision, carried as a string
    DATE = "date"
    DATE_TIME = "date-time"
    UUID = "uuid"
    BYTES = "byte"  # base64 text in JSON
    BINARY = "binary"  # raw bytes: request or response bodies, multipart files
    ANY = "any"  # free-form JSON


@dataclass(frozen=True)
class PrimitiveType:
    kind: Prim
    # The value travels as a JSON string ("123"), as the proto3 JSON mapping writes 64-bit
    # integers; decoders accept a JSON number too. Only INT64 is ever quoted.
    quoted: bool = False


@dataclass(frozen=True)
class ConstType:
    """A single allowed value (`const`, or a one-value enum), e.g. a union variant's tag."""

    value: str | int | float | bool


@dataclass(frozen=True)
class ArrayType:
    items: Type


@dataclass(frozen=True)
class MapType:
    """A JSON object used as a dictionary from string keys to values."""

    values: Type


@dataclass(frozen=True)
class NamedRef:
    name: str


@dataclass(frozen=True)
class Nullable:
    """The value may be JSON `null`. Whether it may be absent is the field's `required`."""

    inner: Type


Type = PrimitiveType | ConstType | ArrayType | MapType | NamedRef | Nullable


@dataclass(frozen=True)
class Docs:
    summary: str = ""
    description: str = ""
    deprecated: bool = False

    @property
    def text(self) -> str:
        """Summary and description as one text, without repeating one inside the other."""
        if self.summary and self.description and self.summary not in self.description:
            return f"{self.summary}\n\n{self.description}"
        return self.description or self.summary


@dataclass(frozen=True)
class Default:
    """A default value as JSON, wrapped so that a default of `null` is distinguishable."""

    value: Any


@dataclass(frozen=True)
class Field:
    wire_name: str
    type: Type
    required: bool
    docs: Docs = Docs()
    default: Default | None = None
    read_only: bool = False
    write_only: bool = False

    @property
    def nullable(self) -> bool:
        return isinstance(self.type, Nullable)


@dataclass(frozen=True)
class ObjectDef:
    fields: tuple[Field, ...]
    additional: Type | None = None  # type of extra properties, when the contract declares them


@dataclass(frozen=True)
class EnumValue:
    value: str | int
    docs: Docs = Docs()


@dataclass(frozen=True)
class EnumDef:
    """An enum open to values the contract does not list: servers extend enums over time."""

    base: Prim  # STRING or INTEGER
    values: tuple[EnumValue, ...]


@dataclass(frozen=True)
class Variant:
    type: Type
    tags: tuple[str, ...] = ()  # discriminator values that select this variant


@dataclass(frozen=True)
class UnionDef:
    """oneOf/anyOf. With a discriminator, the tag property picks the variant; without, the
    JSON kind and required properties do. A value no variant matches is kept as raw JSON."""

    variants: tuple[Variant, ...]
    discriminator: str | None = None


@dataclass(frozen=True)
class AliasDef:
    """A named schema that is not an object, enum or union, e.g. `Id: {type: string}`."""

    target: Type


Definition = ObjectDef | EnumDef | UnionDef | AliasDef


@dataclass(frozen=True)
class NamedType:
    name: str
    definition: Definition
    docs: Docs = Docs()
    source: str = ""  # JSON pointer of the schema in the contract, for messages and traceability


class ParamLocation(enum.Enum):
    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    COOKIE = "cookie"


@dataclass(frozen=True)
class Param:
    wire_name: str
    location: ParamLocation
    type: Type
    required: bool
    style: str  # form, simple, label, matrix, spaceDelimited, pipeDelimited, deepObject
    explode: bool
    docs: Docs = Docs()
    default: Default | None = None


@dataclass(frozen=True)
class Encoding:
    """Per-part encoding of a multipart or form body."""

    part: str
    content_type: str


@dataclass(frozen=True)
class Content:
    media_type: str
    type: Type | None  # None when the contract gives no schema
    encodings: tuple[Encoding, ...] = ()


@dataclass(frozen=True)
class RequestBody:
    required: bool
    contents: tuple[Content, ...]
    docs: Docs = Docs()


@dataclass(frozen=True)
class Header:
    wire_name: str
    type: Type
    required: bool = False
    docs: Docs = Docs()


@dataclass(frozen=True)
class Response:
    status: str  # "200", "2XX" or "default"
    contents: tuple[Content, ...] = ()
    headers: tuple[Header, ...] = ()
    docs: Docs = Docs()


class Protocol(enum.Enum):
    """The wire protocol of an operation's HTTP binding."""

    REST = "rest"  # an OpenAPI operation, or a proto RPC transcoded by google.api.http
    # The Connect protocol (connectrpc.com): POST /pkg.Service/Method with the request message as
    # JSON; errors as Connect error JSON; server streams as application/connect+json envelopes.
    CONNECT = "connect"


@dataclass(frozen=True)
class HttpBinding:
    method: str  # upper case
    path: str  # template relative to the server URL, e.g. /v1/runs/{run_id}:cancel
    protocol: Protocol = Protocol.REST
    # Error bodies are google.rpc.Status JSON ({"code": 5, "message", "details"}), as gRPC
    # transcoding (grpc-gateway, Envoy, Vanguard) writes them: `code` is a gRPC code number.
    status_errors: bool = False


@dataclass(frozen=True)
class SecurityScheme:
    name: str
    kind: str  # http-bearer, http-basic, api-key, oauth2, openid
    location: str = ""  # for api-key: header, query or cookie
    param_name: str = ""  # for api-key: the header, query or cookie name
    docs: Docs = Docs()


@dataclass(frozen=True)
class Operation:
    id: str
    tags: tuple[str, ...]
    http: HttpBinding
    params: tuple[Param, ...]
    body: RequestBody | None
    responses: tuple[Response, ...]
    # Each inner tuple is one way to authenticate (all schemes in it together); () means none.
    security: tuple[tuple[str, ...], ...]
    docs: Docs = Docs()
    # Whether calling twice is safe, when the contract says so (a proto method's
    # idempotency_level); None leaves it to the HTTP method.
    idempotent: bool | None = None


@dataclass(frozen=True)
class Server:
    url: str
    docs: Docs = Docs()


@dataclass(frozen=True)
class Tag:
    name: str
    docs: Docs = Docs()


@dataclass(frozen=True)
class License:
    """The contract's `info.license`: what the SDKs are published under."""

    name: str = ""
    identifier: str = ""  # an SPDX id (OpenAPI 3.1's `identifier`)
    url: str = ""


@dataclass(frozen=True)
class Api:
    title: str
    version: str
    docs: Docs
    servers: tuple[Server, ...]
    tags: tuple[Tag, ...]
    types: tuple[NamedType, ...]
    operations: tuple[Operation, ...]
    security_schemes: tuple[SecurityScheme, ...]
    warnings: tuple[str, ...] = field(default=(), compare=False)
    license: License | None = None  # None when the contract names none
    # The Go module path the contract asks for (OpenAPI `info.x-go-module`); "" when it names none.
    go_module: str = ""

    @cached_property
    def types_by_name(self) -> dict[str, NamedType]:
        return {named.name: named for named in self.types}
