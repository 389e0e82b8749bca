"""The TypeScript conformance driver's view: conformance/driver.ts and tsconfig.driver.json.

The driver (conformance/PROTOCOL.md) is a small program next to the SDK; it is not part of the
package (tsconfig.json compiles only src/). It reads case lines on stdin, calls the typed SDK method
of each case's operationId and writes one result line per case. Everything contract-specific is
decided here and rendered as one `Entry` constant per operation:

- `params`: `[contract name, params key, codec, nullable]` per path, query, header and cookie
  parameter, with the key the SDK's params interface uses (views/typescript.param_keys) and the
  codec the SDK's own decoder turns the wire value into the SDK value with (int64 → bigint,
  date-time → Date; the driver adds base64 → bytes for binary leaves);
- `body`: `[params key, body kind, codec, nullable]`;
- `idempotency`, `resume`: the contract names of the idempotency-key and Last-Event-ID header
  parameters, which the SDK sends itself: given as args, they become `options.idempotencyKey` and
  an `options.headers` entry (the SDK's public way to send them);
- `kind`: `call` (one awaited call), `pages` (a paginated list: call, pages, items) or `stream`
  (server-sent events); `result` (call only: json, text, binary, empty), `codec` (the value, the
  page body or the event) and `item` (pages only) re-encode what the SDK returns into wire form;
- `call`: the typed method call, e.g. `c["agents"]["list"](p as unknown as api.ListAgentsParams, o)`.

Every contract-derived literal goes through `ts_string`; identifiers are the TypeScript view's own
(claimed) names, so hostile operationIds, parameter names and tags stay inert.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from polysdk import ir
from polysdk.decisions import OperationShape
from polysdk.literals import ts_string
from polysdk.plan import Options, TemplateFile
from polysdk.views.common import DRIVER_CAPABILITIES
from polysdk.views.typescript import (
    HEADER,
    TsClient,
    TsOperation,
    TsTypes,
    _result_type,
    codec,
    npm_name,
    param_keys,
)


@dataclass
class TsDriverOp:
    operation_id: str  # the contract's operationId, as a TypeScript string literal
    const: str  # the module-level constant holding the entry, e.g. `op3`
    lines: list[str]  # the lines of the entry's object literal, indented


@dataclass
class TsDriver:
    header: str
    client: str  # the client class, exported by src/client.ts
    hello: str  # the hello line's object literal
    operations: list[TsDriverOp]


def _nullable(types: TsTypes, t: ir.Type | None) -> bool:
    """Whether the SDK's type for t admits an explicit null (at the top level)."""
    if t is None:
        return True
    atoms = types.atoms(t)
    return "null" in atoms or atoms == ["unknown"]


def _kind(shape: OperationShape) -> str:
    if shape.streaming is not None:
        return "stream"
    return "pages" if shape.pagination is not None else "call"


def entry_lines(types: TsTypes, shape: OperationShape, op: TsOperation, prop: str) -> list[str]:
    """The object literal of one operation's `Entry` (see the module docstring)."""
    kind = _kind(shape)
    _, _, result_codec = _result_type(types, shape)
    pairs, body_key = param_keys(shape)
    lines = [f"  kind: {json.dumps(kind)},"]
    if kind == "call":
        lines.append(f"  result: {json.dumps(shape.result.kind)},")
    lines.append(f"  codec: {result_codec},")
    if shape.pagination is not None and kind == "pages":
        lines.append(f"  item: {codec(types, shape.pagination.item_type)},")
    if pairs:
        lines.append("  params: [")
        for param, key in pairs:
            name, nullable = ts_string(param.wire_name), json.dumps(_nullable(types, param.type))
            lines.append(f"    [{name}, {ts_string(key)}, {codec(types, param.type)}, {nullable}],")
        lines.append("  ],")
    else:
        lines.append("  params: [],")
    body = shape.body
    if body is not None and body_key is not None:
        nullable = json.dumps(body.kind == "json" and _nullable(types, body.type))
        kind_text = json.dumps(body.kind)
        lines.append(f"  body: [{ts_string(body_key)}, {kind_text}, {codec(types, body.type)}, {nullable}],")
    # Header parameters the SDK sends itself take a per-call option instead of a params key.
    if shape.idempotency_header is not None:
        lines.append(f"  idempotency: {ts_string(shape.idempotency_header)},")
    if shape.streaming is not None and shape.streaming.resume_header is not None:
        lines.append(f"  resume: {ts_string(shape.streaming.resume_header)},")
    method = f"c[{ts_string(prop)}][{ts_string(op.method)}]"
    lines.append(f"  call: (c, p, o) => {method}(p as unknown as api.{op.params_name}, o),")
    return lines


def driver(api: ir.Api, types: TsTypes, view: TsClient, options: Options) -> TsDriver:
    surface = view.surface
    operations: list[TsDriverOp] = []
    seen: set[str] = set()
    index = 0
    for resource, group in zip(view.resources, surface.groups, strict=True):
        for op, shape in zip(resource.operations, surface.by_group(group), strict=True):
            if shape.operation.id not in seen:  # like operationMethods: the first one wins
                seen.add(shape.operation.id)
                lines = entry_lines(types, shape, op, resource.prop)
                operations.append(TsDriverOp(ts_string(shape.operation.id), f"op{index}", lines))
            index += 1
    capabilities = ", ".join(json.dumps(c) for c in DRIVER_CAPABILITIES)
    hello = (
        f'{{ type: "hello", protocol: 1, sdk: "typescript", sdk_name: {ts_string(npm_name(api, options))}, '
        f"sdk_version: {ts_string(options.sdk_version)}, capabilities: [{capabilities}] }}"
    )
    return TsDriver(HEADER, view.name, hello, operations)


def files(api: ir.Api, types: TsTypes, view: TsClient, options: Options) -> list[TemplateFile]:
    """The driver's files, appended to the TypeScript plan."""
    return [
        TemplateFile(
            "typescript/driver/driver.ts.j2",
            "conformance/driver.ts",
            {"driver": driver(api, types, view, options)},
        ),
        TemplateFile("typescript/driver/node.d.ts.j2", "conformance/node.d.ts", {"header": HEADER}),
        TemplateFile("typescript/driver/tsconfig.driver.json.j2", "tsconfig.driver.json", {}),
    ]
