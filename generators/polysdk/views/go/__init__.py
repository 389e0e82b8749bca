"""The Go view: every Go-specific decision about names, types, tags, imports and docs.

One concern per module: `types` (the Go type model), `models` (structs, enums, unions, aliases),
`operations` (params structs, request builders, methods by role), `client` (services and the
client-wide defaults), `docs` (README and runnable examples), `driver` (the conformance driver's
generated dispatch). The hand-written runtime (templates/go/runtime) sends requests with retries,
decodes, paginates (XxxPages, XxxAll as iter.Seq2), streams server-sent events, and speaks the
Connect protocol (connect.go: headers, error JSON, enveloped server streams) with proto3 JSON's
quoted 64-bit integers (quoted.go).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from polysdk.decisions import Decisions, package_words
from polysdk.decisions.package import go_module as decide_go_module
from polysdk.format_cache import format_with_cache
from polysdk.literals import go_string, line_comment
from polysdk.names import api_phrase, go_package_name, snake
from polysdk.plan import LanguagePlan, Options, RuntimeFile, TemplateFile
from polysdk.render import run_tool
from polysdk.views.go.client import GoClient, GoService, build_client
from polysdk.views.go.docs import GoDocs, GoExample, build_docs
from polysdk.views.go.driver import GoDriver, build_driver, driver_files
from polysdk.views.go.godoc import go_doc
from polysdk.views.go.models import GoAlias, GoEnum, GoField, GoModels, GoStruct, GoUnion, build_models
from polysdk.views.go.operations import Carrier, GoMethod, GoOperation, GoParamField, MethodRole, Origin
from polysdk.views.go.types import RUNTIME_EXPORTS, GoType, GoTypes

GO_VERSION = "1.24"  # omitzero (1.24) for absent-vs-empty slices and Nullable fields

RUNTIME_FILES = (
    "connect.go",
    "connect_test.go",
    "core.go",
    "core_test.go",
    "encode.go",
    "encode_test.go",
    "errors.go",
    "errors_test.go",
    "json.go",
    "json_test.go",
    "nullable.go",
    "nullable_test.go",
    "pagination.go",
    "pagination_test.go",
    "quoted.go",
    "quoted_test.go",
    "sse.go",
    "sse_test.go",
    "transport.go",
    "union.go",
    "union_test.go",
)


def _gofmt(directory: Path, files: Sequence[str]) -> None:
    go_files = [name for name in files if name.endswith(".go")]
    if go_files:  # files formatted before come from the cache (format_cache.py)
        format_with_cache(
            directory,
            go_files,
            ("gofmt", "-w"),
            lambda misses: run_tool(["gofmt", "-w", *misses], directory, "format the Go SDK"),
        )


def plan(decisions: Decisions, options: Options) -> LanguagePlan:
    api = decisions.api
    words = package_words(api, options.package_name)
    package = go_package_name(words)
    go_module, module_warnings = decide_go_module(api, options, words)
    module = go_module.path
    types = GoTypes(api)
    models = build_models(api, package, types)
    # The product name, not the module path's last element (which may be `go`).
    user_agent = f"{snake(words).replace('_', '-')}-sdk-go/{options.sdk_version} (go)"
    client = build_client(decisions, package, types, models, user_agent)
    context: dict[str, object] = {
        "package": package,
        "module": module,
        "go_version": GO_VERSION,
        "title": go_string(api.title),
        "version": go_string(options.sdk_version),
        "api_version": go_string(api.version),
        "doc": go_doc(api.docs.text),
        "title_doc": line_comment(f"Package {package} is a client for the {api_phrase(api.title)}.", "//")[0],
        "models": models,
        "client": client,
        "docs": build_docs(decisions, package, go_module, client),
    }
    result = LanguagePlan(language="go")
    result.files = [
        TemplateFile("go/go.mod.j2", "go.mod", context),
        TemplateFile("go/doc.go.j2", "doc.go", context),
        TemplateFile("go/models.go.j2", "models.go", context),
        TemplateFile("go/client.go.j2", "client.go", context),
        TemplateFile("go/operations.go.j2", "operations.go", context),
        TemplateFile("go/example_test.go.j2", "example_test.go", context),
        TemplateFile("go/README.md.j2", "README.md", context),
    ]
    clause = ("package polysdk", f"package {package}")
    result.runtime = [RuntimeFile(f"go/runtime/{name}", name, (clause,)) for name in RUNTIME_FILES]
    if options.drivers:
        dispatch, engine = driver_files(module, client, context)
        result.files.append(dispatch)
        result.runtime += engine
    result.warnings += [*module_warnings, *client.warnings]
    result.formatter = _gofmt
    return result


__all__ = [
    "GO_VERSION",
    "RUNTIME_EXPORTS",
    "RUNTIME_FILES",
    "Carrier",
    "GoAlias",
    "GoClient",
    "GoDocs",
    "GoDriver",
    "GoEnum",
    "GoExample",
    "GoField",
    "GoMethod",
    "GoModels",
    "GoOperation",
    "GoParamField",
    "GoService",
    "GoStruct",
    "GoType",
    "GoTypes",
    "GoUnion",
    "MethodRole",
    "Origin",
    "build_client",
    "build_docs",
    "build_driver",
    "build_models",
    "plan",
]
