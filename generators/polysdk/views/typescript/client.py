"""src/client.ts: one `<Package>Client` class taking one `ClientOptions` object, one property per
group of operations (the contract's first tag) holding a `<Group>Resource` class, one method per
operation.

Method names come from the operationId with the group's word dropped when it directly follows the
verb (`listAgents` in `agents` → `agents.list`), unique per resource and never `constructor`; all
names are claimed before any operation is built. `operationMethods` maps operationIds to
`[property, method]`. The client's defaults (base URL, environment variables, where the API key
goes, whether a bearer token is taken) render `decisions.client`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from polysdk import ir
from polysdk.decisions import ClientDefaults, Decisions, sdk_words
from polysdk.literals import ts_string
from polysdk.names import Namer, camel, needs_leading_letter
from polysdk.plan import Options
from polysdk.views.common import method_words
from polysdk.views.typescript.codecs import TsCodecEntry, codec_entries
from polysdk.views.typescript.docs import doc_lines, jsdoc, symbol_doc
from polysdk.views.typescript.operations import TsOperation, operation
from polysdk.views.typescript.types import TsTypes

_RESERVED_MEMBERS = ("constructor", "prototype", "__proto__")
_ALWAYS_IMPORTED = frozenset({"ClientOptions", "SDKInfo"})
# What every operation's spec and method use; imported only when there is an operation, since
# strict tsc refuses an unused import (a contract of models or webhooks only has none).
_OPERATION_IMPORTS = frozenset({"OperationSpec", "RequestOptions"})


def npm_name(api: ir.Api, options: Options) -> str:
    return "-".join(w.lower() for w in sdk_words(api, options.package_name))[:200] + "-sdk"


def _fix_member(ident: str) -> str:
    ident = "n" + ident if needs_leading_letter(ident) else ident
    return ident + "_" if ident in _RESERVED_MEMBERS else ident


@dataclass
class TsResource:
    name: str
    prop: str
    doc: list[str]
    operations: list[TsOperation]


@dataclass
class TsClient:
    name: str
    doc: list[str]
    info: list[str]
    env_prefix: str  # plain, e.g. ORCHESTRATOR
    model_imports: list[str]
    runtime_imports: list[str]  # e.g. `type APIPromise`, `Core`
    resources: list[TsResource]
    codecs: list[TsCodecEntry]
    operation_map: list[str] = field(default_factory=list)  # `  "opId": ["group", "method"],` lines
    # operationId → (property, method); the first operation of an id wins, like operationMethods.
    methods: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Names:
    """Every name the client declares, claimed before any code is built."""

    props: dict[str, str]  # group → client property
    resources: dict[str, str]  # group → resource class
    methods: list[list[tuple[str, str]]]  # per group, per operation: (method, params interface)


def _claim_names(decisions: Decisions, types: TsTypes) -> _Names:
    props = Namer(camel, _fix_member, "operations", taken=_RESERVED_MEMBERS)
    names = _Names({}, {}, [])
    for group in decisions.groups:
        methods = Namer(camel, _fix_member, "call", taken=_RESERVED_MEMBERS)
        names.props[group] = props.claim(group)
        names.resources[group] = types.namer.claim(group + " resource")
        names.methods.append(
            [
                (
                    methods.claim(" ".join(method_words(shape.operation.id, group)) or shape.operation.id),
                    types.namer.claim(shape.operation.id + " params"),
                )
                for shape in decisions.by_group(group)
            ]
        )
    return names


def info_lines(defaults: ClientDefaults, package: str, options: Options) -> list[str]:
    """The `SDKInfo` object literal's lines."""
    lines = [
        f"  name: {ts_string(package)},",
        f"  version: {ts_string(options.sdk_version)},",
        f"  envPrefix: {ts_string(defaults.env_prefix)},",
        f"  defaultBaseURL: {ts_string(defaults.base_url)},",
        f"  bearer: {json.dumps(defaults.bearer)},",
    ]
    if defaults.api_key is not None:
        key = defaults.api_key
        lines.append(f"  apiKey: {{ in: {ts_string(key.location)}, name: {ts_string(key.name)} }},")
    return [*lines, "  codecs,"]


def _imports(resources: list[TsResource]) -> tuple[list[str], list[str]]:
    """The model names and runtime names the methods' signatures use (recorded by their types)."""
    models: set[str] = set()
    runtime: set[str] = set(_ALWAYS_IMPORTED)
    for op in (op for resource in resources for op in resource.operations):
        runtime |= _OPERATION_IMPORTS
        for t in [op.result.returns, *(member.type for member in op.params)]:
            models |= t.models
            runtime |= t.runtime
    # Core is a value (the client constructs it); everything else is imported as a type.
    runtime_imports = [name if name == "Core" else f"type {name}" for name in sorted([*runtime, "Core"])]
    return sorted(models), runtime_imports


def client(decisions: Decisions, types: TsTypes, options: Options) -> TsClient:
    api = decisions.api
    client_name = types.namer.claim(" ".join([*sdk_words(api, options.package_name), "client"]))
    names = _claim_names(decisions, types)
    resources: list[TsResource] = []
    methods: dict[str, tuple[str, str]] = {}
    tag_docs = {tag.name: tag.docs for tag in api.tags}
    index = 0
    for group, group_methods in zip(decisions.groups, names.methods, strict=True):
        prop = names.props[group]
        ops = []
        for shape, (method, params_name) in zip(decisions.by_group(group), group_methods, strict=True):
            ops.append(operation(types, shape, index, method, params_name))
            methods.setdefault(shape.operation.id, (prop, method))
            index += 1
        doc = symbol_doc(tag_docs.get(group, ir.Docs()), f"The `{group}` operations.")
        resources.append(TsResource(names.resources[group], prop, doc, ops))
    model_imports, runtime_imports = _imports(resources)
    title = " ".join(part for part in (api.title, api.version) if part)
    doc = jsdoc(
        [
            *doc_lines(f"The client of {title or 'the API'}."),
            "",
            "One instance holds the configuration; its properties group the operations by the",
            "contract's tags.",
        ]
    )
    return TsClient(
        name=client_name,
        doc=doc,
        info=info_lines(decisions.client, npm_name(api, options), options),
        env_prefix=decisions.client.env_prefix,
        model_imports=model_imports,
        runtime_imports=runtime_imports,
        resources=resources,
        codecs=codec_entries(types),
        operation_map=[
            f"  {ts_string(op_id)}: [{ts_string(prop)}, {ts_string(method)}],"
            for op_id, (prop, method) in methods.items()
        ],
        methods=methods,
    )
