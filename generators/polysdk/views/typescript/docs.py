"""Doc comments (JSDoc) and the README's data: which calls the examples make, never prose."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from polysdk import ir
from polysdk.decisions import Decisions, OperationShape, ResultKind
from polysdk.literals import block_comment_safe, comment_lines
from polysdk.names import ts_property_key
from polysdk.views.typescript.types import TsTypes, literal

# A JSDoc tag starts at `@` after whitespace or at a line start, an inline tag after `{`.
_JSDOC_TAG = re.compile(r"(^|[\s{])@")


def doc_lines(text: str) -> list[str]:
    """Contract text as JSDoc body lines that cannot close the comment or start a tag."""
    return [_JSDOC_TAG.sub(r"\1\\@", block_comment_safe(line)) for line in comment_lines(text)]


def jsdoc(body: list[str], indent: str = "") -> list[str]:
    """A JSDoc comment: one line when the body is one line, else the `/** … */` block form."""
    if not body:
        return []
    if len(body) == 1:
        return [f"{indent}/** {body[0]} */"]
    lines = (f"{indent} * {line}" if line else f"{indent} *" for line in body)
    return [f"{indent}/**", *lines, f"{indent} */"]


def with_tags(body: list[str], tags: list[str]) -> list[str]:
    return [*body, "", *tags] if body and tags else [*body, *tags]


def symbol_doc(docs: ir.Docs, fallback: str, notes: tuple[str, ...] = ()) -> list[str]:
    body = doc_lines(docs.text) or doc_lines(fallback)
    for note in notes:
        body = [*body, "", *doc_lines(note)]
    tags = ["@deprecated"] if docs.deprecated else []
    return jsdoc(with_tags(body, tags))


def default_tag(default: ir.Default | None) -> list[str]:
    """A `@defaultValue` line with the default as JSON, when it is short enough to be useful."""
    if default is None:
        return []
    try:
        text = json.dumps(default.value, ensure_ascii=True, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return []
    return [f"@defaultValue {line}" for line in doc_lines(text)] if len(text) <= 80 else []


# README ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TsCall:
    """A call the README shows: `client.<prop>.<method>(<args>)`."""

    prop: str
    method: str
    args: str  # the params object literal, or "" when the call passes none


@dataclass
class TsReadme:
    title: str
    package: str
    client: str
    env_prefix: str
    credentials: tuple[str, ...]  # decisions.client.credentials: what the examples configure
    base_url: str  # the default base URL; "" when the user must configure one
    sections: list[str]  # the examples shown, in order: configure, call, errors, retries, ...
    imports: list[str]  # names examples/readme.ts imports from the package
    call: TsCall | None  # decisions.examples.call, rendered
    page: TsCall | None
    stream: TsCall | None
    download: TsCall | None
    # Whether the streaming example is a Connect server stream (else server-sent events).
    connect_stream: bool = False
    connect: bool = False  # whether any operation speaks Connect (Connect-Timeout-Ms)
    status_errors: bool = False  # whether any operation's error bodies are google.rpc.Status


_SAMPLES = {
    **dict.fromkeys((ir.Prim.STRING, ir.Prim.DECIMAL, ir.Prim.DATE, ir.Prim.UUID, ir.Prim.BYTES), '"id"'),
    **dict.fromkeys((ir.Prim.INTEGER, ir.Prim.INT32, ir.Prim.FLOAT, ir.Prim.DOUBLE), "10"),
    ir.Prim.INT64: "1n",
    ir.Prim.BOOLEAN: "true",
    ir.Prim.DATE_TIME: "new Date()",
}


def _sample(types: TsTypes, t: ir.Type) -> str | None:
    """A sample TypeScript value of a parameter's type, or None when it is not simple."""
    resolved = types.resolve(t)
    if isinstance(resolved, ir.PrimitiveType):
        return _SAMPLES.get(resolved.kind)
    if isinstance(resolved, ir.EnumDef) and resolved.values:
        return literal(resolved.values[0].value).text
    if isinstance(resolved, ir.ConstType):
        return literal(resolved.value).text
    return None


def _call(
    types: TsTypes, shape: OperationShape | None, methods: dict[str, tuple[str, str]], warnings: list[str]
) -> TsCall | None:
    if shape is None:
        return None
    args = []
    for param in [*shape.path_params, *shape.query_params, *shape.header_params, *shape.cookie_params]:
        if param.required or param.location is ir.ParamLocation.PATH:
            value = _sample(types, param.type)
            if value is None:
                warnings.append(
                    f"typescript: README example {shape.operation.id!r}: no sample value for "
                    f"parameter {param.wire_name!r}; the example is left out"
                )
                return None
            args.append(f"{ts_property_key(param.wire_name)}: {value}")
    prop, method = methods[shape.operation.id]
    return TsCall(prop, method, "{ " + ", ".join(args) + " }" if args else "")


def readme(
    decisions: Decisions,
    types: TsTypes,
    client: str,
    package: str,
    methods: dict[str, tuple[str, str]],
    warnings: list[str],
) -> TsReadme:
    """The README's data: the calls of decisions.examples (rendered by the view's names)."""
    examples = decisions.examples
    call = _call(types, examples.call, methods, warnings)
    download = _call(types, examples.download, methods, warnings)
    runtime = [
        "APIConnectionTimeoutError",
        "APIError",
        "APIUserAbortError",
        "NotFoundError",
        "RateLimitError",
    ]
    imports = [client, *(runtime if call is not None else []), *(["readAll"] if download is not None else [])]
    page = _call(types, examples.page, methods, warnings)
    stream = _call(types, examples.stream, methods, warnings)
    sections = [
        "configure",
        *(["call", "errors", "retries"] if call is not None else []),
        *(["pagination"] if page is not None else []),
        *(["streaming"] if stream is not None else []),
        *(["download"] if download is not None else []),
    ]
    return TsReadme(
        title=" ".join(comment_lines(decisions.api.title)) or "the API",
        package=package,
        client=client,
        env_prefix=decisions.client.env_prefix,
        credentials=decisions.client.credentials,
        base_url=decisions.client.base_url,
        sections=sections,
        imports=sorted(imports, key=str.lower),
        call=call,
        page=page,
        stream=stream,
        download=download,
        connect_stream=examples.stream is not None
        and examples.stream.result.kind == ResultKind.CONNECT_STREAM,
        connect=any(op.protocol is ir.Protocol.CONNECT for op in decisions.operations),
        status_errors=any(op.status_errors for op in decisions.operations),
    )
