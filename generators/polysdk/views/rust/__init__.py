"""The Rust view: the decisions rendered as a Rust crate.

One concern per module: `types` (the typed Rust type model and names), `models` (models.rs),
`operations` (operations.rs), `client` (crate metadata, client defaults, README examples),
`docs` (doc comments) and `driver` (the conformance driver's generated dispatch). The transport,
retries, errors, SSE, Connect streams and pagination are the hand-written runtime under
templates/rust/runtime/runtime/, copied verbatim with its own unit tests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from polysdk import ir
from polysdk.decisions import Decisions
from polysdk.decisions.package import Package, package
from polysdk.format_cache import format_with_cache
from polysdk.literals import rust_string
from polysdk.plan import LanguagePlan, Options, RuntimeFile, TemplateFile
from polysdk.render import format_through
from polysdk.views.rust.client import crate_name, examples, rust_client, toml_string
from polysdk.views.rust.docs import DOC_LINT_ALLOWS, doc, rustdoc_lines
from polysdk.views.rust.driver import driver_files
from polysdk.views.rust.models import (
    RustAlias,
    RustField,
    RustModels,
    RustNewtype,
    build_models,
    const_condition,
)
from polysdk.views.rust.operations import RustOperations, build_operations
from polysdk.views.rust.types import Kind, RustType, RustTypes, enum_variant_names, field_namer

RUST_VERSION = "1.80"
RUNTIME_MODULES = ("mod", "client", "connect", "error", "http", "json", "pagination", "sse", "test_server")
EDITION = "2021"


RUSTFMT = ("rustfmt", "--edition", EDITION, "--emit", "stdout")
# rustfmt's configuration files: in the file's folder or one above it, then the user's.
RUSTFMT_CONFIG_NAMES = ("rustfmt.toml", ".rustfmt.toml")


def _rustfmt(directory: Path, files: Sequence[str]) -> None:
    # Through stdin: given a path, rustfmt would also format every module the file declares
    # (lib.rs declares the hand-written runtime, which is formatted already). Files formatted
    # before come from the cache (format_cache.py).
    rust_files = [name for name in files if name.endswith(".rs")]
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "rustfmt"
    format_with_cache(
        directory,
        rust_files,
        RUSTFMT,
        lambda misses: format_through(RUSTFMT, directory, misses, "format the Rust SDK"),
        config_names=RUSTFMT_CONFIG_NAMES,
        config_homes=(Path.home(), config_home),
    )


def _paging_warnings(operations: RustOperations) -> list[str]:
    """Pagination the decisions found that the Rust builder cannot walk: it is then a plain call."""
    return [
        f"operation {op.shape.operation.id!r}: the Rust SDK cannot walk its {op.shape.pagination.style} "
        "pagination (the page's fields do not fit); it is a plain call without pages() and items()"
        for group in operations.groups
        for op in group.operations
        if op.shape.pagination is not None and op.paging is None
    ]


def _cargo_metadata(pkg: Package, title: str, crate: str) -> dict[str, str]:
    """Cargo.toml's `[package]` metadata as TOML values; an absent URL is an empty string (left out).
    The documentation defaults to docs.rs, which builds the docs of every crate on crates.io (and
    without any of the three URLs `cargo publish` warns)."""
    return {
        "description": toml_string(pkg.description(f"Rust SDK for the {title}")),
        "license": toml_string(pkg.spdx) if pkg.spdx else "",
        "license_file": toml_string("LICENSE") if pkg.license_file and not pkg.spdx else "",
        **{
            key: toml_string(value) if value else ""
            for key, value in (
                ("repository", pkg.repository),
                ("homepage", pkg.homepage),
                ("documentation", pkg.documentation or f"https://docs.rs/{crate}"),
            )
        },
    }


def _context(decisions: Decisions, options: Options, crate: str, types: RustTypes) -> dict[str, object]:
    api = decisions.api
    title = " ".join(api.title.split()) or "the API"
    crate_doc = doc(f"Rust SDK for the {title}.", marker="//!")
    if api.docs.text:
        crate_doc += ["//!", *doc(api.docs.text, marker="//!")]
    models = build_models(api, types)
    operations = build_operations(api, types, decisions)
    return {
        "crate": toml_string(crate),
        "crate_ident": crate.replace("-", "_"),
        "crate_plain": crate,
        "title": "".join(c for c in title if c.isalnum() or c in " -_.,()") or "the API",
        "version": toml_string(options.sdk_version),
        "version_plain": options.sdk_version
        if re.fullmatch(r"[0-9A-Za-z.+-]+", options.sdk_version)
        else "0.1.0",
        "edition": toml_string(EDITION),
        "rust_version": toml_string(RUST_VERSION),
        **_cargo_metadata(package(api, options), title, crate),
        "crate_doc": crate_doc,
        "doc_lint_allows": list(DOC_LINT_ALLOWS),
        "models": models,
        "operations": operations,
        "client": rust_client(decisions.client),
        "env_prefix_plain": decisions.client.env_prefix,
        "sdk_name": rust_string(crate),
        "sdk_version": rust_string(options.sdk_version),
        "examples": examples(decisions, operations),
        # Whether any operation speaks the Connect protocol (the README then says how it errs).
        "connect": any(op.protocol is ir.Protocol.CONNECT for op in decisions.operations),
    }


def plan(decisions: Decisions, options: Options) -> LanguagePlan:
    crate = crate_name(decisions.api, options)
    types = RustTypes(decisions.api)  # its graph analyses run once, for the models and the operations
    context = _context(decisions, options, crate, types)
    operations = context["operations"]
    assert isinstance(operations, RustOperations)
    result = LanguagePlan(language="rust")
    result.files = [
        TemplateFile("rust/Cargo.toml.j2", "Cargo.toml", context),
        TemplateFile("rust/README.md.j2", "README.md", context),
        TemplateFile("rust/lib.rs.j2", "src/lib.rs", context),
        TemplateFile("rust/models.rs.j2", "src/models.rs", context),
        TemplateFile("rust/operations.rs.j2", "src/operations.rs", context),
    ]
    result.runtime = [
        RuntimeFile("rust/runtime/serde_helpers.rs", "src/serde_helpers.rs"),
        RuntimeFile("rust/runtime/gitignore", ".gitignore"),
        *(
            RuntimeFile(f"rust/runtime/runtime/{name}.rs", f"src/runtime/{name}.rs")
            for name in RUNTIME_MODULES
        ),
    ]
    if options.drivers:
        generated, engine = driver_files(operations, crate, options.sdk_version)
        result.files += generated
        result.runtime += engine
    result.formatter = _rustfmt
    result.warnings = list(dict.fromkeys([*types.warnings, *_paging_warnings(operations)]))
    return result


__all__ = [
    "EDITION",
    "RUNTIME_MODULES",
    "Kind",
    "RustAlias",
    "RustField",
    "RustModels",
    "RustNewtype",
    "RustOperations",
    "RustType",
    "RustTypes",
    "build_models",
    "build_operations",
    "const_condition",
    "crate_name",
    "enum_variant_names",
    "field_namer",
    "plan",
    "rustdoc_lines",
    "toml_string",
]
