"""The data of the Go README and of example_test.go: the operations decisions.examples chose, as
runnable Example functions (a fake server's handler, the calling code and its output). The prose
around them lives in templates/go/README.md.j2."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from polysdk import ir, walks
from polysdk.decisions import Decisions, OperationShape, PageStyle, ResultKind
from polysdk.decisions.package import GoModule
from polysdk.literals import comment_lines, go_string
from polysdk.views.go.client import GoClient, GoService
from polysdk.views.go.operations import GoMethod, GoOperation, MethodRole, Origin
from polysdk.views.go.types import quoted


@dataclass
class GoExample:
    """One README example, also an Example function run by `go test` against an httptest server."""

    kind: str  # errors | retries | pagination | streaming: the README and doc comment say what it shows
    name: str  # Example function name
    handler: list[str]  # the body of the test server's handler (w, r)
    code: list[str]  # the example's code after the server is set up (shown in the README)
    output: list[str]  # the expected output lines
    imports: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)  # lines before the server starts
    methods: dict[str, str] = field(default_factory=dict)  # method names by role, for the prose


@dataclass
class GoDocs:
    package: str
    module: str
    published: bool  # the module path is one `go get` can fetch (else a local name, used with replace)
    title: str  # plain text, one line
    examples: list[GoExample]
    credentials: tuple[str, ...]  # decisions.client.credentials: what the examples configure
    env_base_url: str  # plain names
    env_api_key: str
    env_bearer_token: str
    default_base_url: str  # plain; "" when the contract names no absolute server URL
    imports: list[str] = field(default_factory=list)
    connect: bool = False  # some operations speak the Connect protocol (the README says how)
    status_errors: bool = False  # some operations answer errors as google.rpc.Status
    quoted_int64: bool = False  # some fields hold 64-bit integers that travel as JSON strings


_SCALARS: dict[ir.Prim, object] = {
    ir.Prim.BOOLEAN: True,
    ir.Prim.INTEGER: 1,
    ir.Prim.INT32: 1,
    ir.Prim.INT64: 1,
    ir.Prim.FLOAT: 1.5,
    ir.Prim.DOUBLE: 1.5,
    ir.Prim.DATE_TIME: "2025-01-01T00:00:00Z",
    ir.Prim.ANY: {},
    ir.Prim.BYTES: "",
}


def sample(api: ir.Api, t: ir.Type | None, depth: int = 0) -> object:
    """A small JSON value that decodes as type t (for the examples' fake servers)."""
    found = walks.resolve(api, walks.unwrap_nullable(t)) if t is not None and depth < 8 else None
    if isinstance(found, ir.Nullable):
        return sample(api, found.inner, depth + 1)
    if isinstance(found, ir.ConstType):
        return found.value
    if isinstance(found, ir.ArrayType):
        return []
    if isinstance(found, ir.PrimitiveType):
        return _SCALARS.get(found.kind, "x")
    if isinstance(found, ir.EnumDef):
        return found.values[0].value if found.values else ""
    if isinstance(found, ir.UnionDef):
        tagged = next((v for v in found.variants if v.tags), None)
        if found.discriminator and tagged is not None:
            value = sample(api, tagged.type, depth + 1)
            return {**value, found.discriminator: tagged.tags[0]} if isinstance(value, dict) else value
        return sample(api, found.variants[0].type, depth + 1) if found.variants else {}
    if isinstance(found, ir.ObjectDef):
        # Every required property, since the SDK refuses an object without one.
        return {f.wire_name: sample(api, f.type, depth + 1) for f in found.fields if f.required}
    return {}


def _call_params(operation: GoOperation, package: str) -> str:
    """The operation's parameters with every required one set (decisions.examples chose an
    operation whose required parameters are plain strings and whose body is optional)."""
    if not operation.params_type:
        return ""
    values = [
        f'{f.name}: "id_123"'
        for f in operation.fields
        if f.origin is Origin.PARAM and f.param is not None and f.param.required
    ]
    return f"{package}.{operation.params_type}{{{', '.join(values)}}}"


class _Writer:
    def __init__(self, decisions: Decisions, client: GoClient, package: str) -> None:
        self.api = decisions.api
        self.alias = package
        # The credential the contract takes (the bearer token when it takes both), if any.
        options = {"bearer": 'WithBearerToken("my-token")', "api-key": 'WithAPIKey("my-api-key")'}
        self.credential = options.get(next(iter(decisions.client.credentials), ""), "")
        self.by_shape = {id(o.shape): (s, o) for s, o in client.operations()}

    def find(self, shape: OperationShape | None) -> tuple[GoService, GoOperation] | None:
        return self.by_shape.get(id(shape)) if shape is not None else None

    def new_client(self, *extra: str) -> str:
        a = self.alias
        credential = [f"{a}.{self.credential}"] if self.credential else []
        options = [f"{a}.WithBaseURL(server.URL)", *credential, *extra]
        return f"client := {a}.NewClient({', '.join(options)})"

    def call(self, service: GoService, operation: GoOperation, method: GoMethod, *extra: str) -> str:
        args = ", ".join(
            a for a in ("context.Background()", _call_params(operation, self.alias), *extra) if a
        )
        result = "_, err" if method.value else "err"
        return f"{result} := client.{service.field}.{method.name}({args})"

    def loop(self, service: GoService, operation: GoOperation, method: GoMethod, counter: str) -> list[str]:
        args = ", ".join(a for a in ("context.Background()", _call_params(operation, self.alias)) if a)
        return [
            self.new_client(),
            f"{counter} := 0",
            f"for _, err := range client.{service.field}.{method.name}({args}) {{",
            "\tif err != nil {",
            "\t\tfmt.Println(err)",
            "\t\tbreak",
            "\t}",
            f"\t{counter}++",
            "}",
            f"fmt.Println({counter})",
        ]

    def errors(self, service: GoService, operation: GoOperation) -> GoExample:
        a = self.alias
        problem = {
            "title": "Not found",
            "status": 404,
            "code": "not_found",
            "detail": "No such resource.",
            "request_id": "req_123",
        }
        return GoExample(
            kind="errors",
            name="Example_errors",
            handler=[
                'w.Header().Set("Content-Type", "application/problem+json")',
                "w.WriteHeader(http.StatusNotFound)",
                f"_, _ = io.WriteString(w, {go_string(json.dumps(problem))})",
            ],
            code=[
                self.new_client(),
                self.call(service, operation, operation.first),
                f"var apiErr *{a}.APIError",
                "if errors.As(err, &apiErr) {",
                "\tfmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Message, apiErr.RequestID)",
                "}",
                f"fmt.Println(errors.Is(err, {a}.ErrNotFound), {a}.ErrorKind(err))",
            ],
            output=["404 not_found No such resource. req_123", "true api"],
            imports=["errors", "io"],
        )

    def retries(self, service: GoService, operation: GoOperation) -> GoExample:
        a = self.alias
        body = json.dumps(sample(self.api, operation.shape.result.type))
        return GoExample(
            kind="retries",
            name="Example_retries",
            handler=[
                "if calls.Add(1) == 1 {",
                '\tw.Header().Set("Retry-After-Ms", "10")',
                "\tw.WriteHeader(http.StatusServiceUnavailable)",
                "\treturn",
                "}",
                'w.Header().Set("Content-Type", "application/json")',
                f"_, _ = io.WriteString(w, {go_string(body)})",
            ],
            code=[
                self.new_client(f"{a}.WithMaxRetries(3)"),
                "var attempts int",
                "var raw *http.Response",
                self.call(
                    service,
                    operation,
                    operation.first,
                    f"{a}.WithAttemptsInto(&attempts)",
                    f"{a}.WithResponseInto(&raw)",
                ),
                "fmt.Println(err, attempts, raw.StatusCode)",
            ],
            output=["<nil> 2 200"],
            imports=["io", "sync/atomic"],
            setup=["var calls atomic.Int32"],
        )

    def pagination(self, service: GoService, operation: GoOperation) -> GoExample | None:
        p = operation.shape.pagination
        items = operation.method(MethodRole.ITEMS)
        pages = operation.method(MethodRole.PAGES)
        if p is None or items is None or pages is None:
            return None
        item = sample(self.api, p.item_type)
        page: object = [item, item]
        empty: object = []
        if p.style is not PageStyle.LINK:
            assert p.items_field is not None
            base = sample(self.api, operation.shape.result.type)
            base = base if isinstance(base, dict) else {}
            page, empty = {**base, p.items_field: [item, item]}, {**base, p.items_field: []}
        marker = p.offset_param if p.style is PageStyle.OFFSET else p.cursor_param or "page"
        return GoExample(
            kind="pagination",
            name="Example_pagination",
            handler=[
                'w.Header().Set("Content-Type", "application/json")',
                f"if r.URL.Query().Has({go_string(marker or '')}) {{",
                f"\t_, _ = io.WriteString(w, {go_string(json.dumps(empty))})",
                "\treturn",
                "}",
                f"_, _ = io.WriteString(w, {go_string(json.dumps(page))})",
            ],
            code=self.loop(service, operation, items, "count"),
            output=["2"],
            imports=["io"],
            methods={"call": operation.first.name, "pages": pages.name, "items": items.name},
        )

    def streaming(self, service: GoService, operation: GoOperation) -> GoExample:
        data = json.dumps(sample(self.api, operation.shape.result.type))
        events = f"id: 1\ndata: {data}\n\n: keep-alive\n\nid: 2\ndata: {data}\n\n"
        return GoExample(
            kind="streaming",
            name="Example_streaming",
            handler=[
                'w.Header().Set("Content-Type", "text/event-stream")',
                f"_, _ = io.WriteString(w, {go_string(events)})",
            ],
            code=self.loop(service, operation, operation.first, "events"),
            output=["2"],
            imports=["io"],
        )


def _examples(decisions: Decisions, client: GoClient, package: str) -> list[GoExample]:
    writer = _Writer(decisions, client, package)
    examples: list[GoExample | None] = []
    chosen = decisions.examples
    call = writer.find(chosen.call)
    if call is not None:
        examples.append(writer.errors(*call))
        examples.append(writer.retries(*call) if call[1].shape.retryable else None)
    # The example servers speak REST: a page token in the query, server-sent events.
    page = writer.find(chosen.page)
    in_body = (
        page is not None and page[1].shape.pagination is not None and page[1].shape.pagination.cursor_in_body
    )
    examples.append(writer.pagination(*page) if page is not None and not in_body else None)
    stream = writer.find(chosen.stream)
    sse = stream is not None and stream[1].shape.result.kind is ResultKind.SSE
    examples.append(writer.streaming(*stream) if stream is not None and sse else None)
    return [e for e in examples if e is not None]


def build_docs(decisions: Decisions, package: str, module: GoModule, client: GoClient) -> GoDocs:
    examples = _examples(decisions, client, package)
    imports = {"net/http", "time"}
    for example in examples:
        imports.update(["context", "fmt", "net/http/httptest", *example.imports])
    defaults = decisions.client
    fields = [
        f
        for named in decisions.api.types
        if isinstance(named.definition, ir.ObjectDef)
        for f in named.definition.fields
    ]
    return GoDocs(
        package=package,
        module=module.path,
        published=module.published,
        title=" ".join(comment_lines(decisions.api.title)) or package,
        examples=examples,
        credentials=defaults.credentials,
        env_base_url=defaults.env_base_url,
        env_api_key=defaults.env_api_key,
        env_bearer_token=defaults.env_bearer_token,
        default_base_url=defaults.base_url,
        imports=sorted(imports),
        connect=any(op.protocol is ir.Protocol.CONNECT for op in decisions.operations),
        status_errors=any(op.status_errors for op in decisions.operations),
        quoted_int64=any(quoted(f.type) for f in fields),
    )
