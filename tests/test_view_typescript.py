"""Unit tables for the TypeScript view, plus tsc over generated output when TypeScript is installed.

The narrowing tests compile fixtures with `tsc` from $POLYSDK_TSC or PATH; they skip without it
(fail under CI). Compiling every real-world contract is tests/test_compile.py's job.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from polysdk import ir
from polysdk.decisions import build_decisions
from polysdk.plan import Options
from polysdk.render import diff_trees, render_plan
from polysdk.views import typescript as ts
from polysdk.views.typescript import codecs as ts_codecs
from polysdk.views.typescript import types as ts_types

from .conftest import FIXTURES, ROOT, require_tool

S = ir.PrimitiveType(ir.Prim.STRING)
I64 = ir.PrimitiveType(ir.Prim.INT64)
ANY = ir.PrimitiveType(ir.Prim.ANY)


def api_of(*types: ir.NamedType, title: str = "Test API") -> ir.Api:
    return ir.Api(
        title=title,
        version="1",
        docs=ir.Docs(),
        servers=(),
        tags=(),
        types=types,
        operations=(),
        security_schemes=(),
    )


def obj(name: str, *fields: ir.Field, additional: ir.Type | None = None, doc: str = "") -> ir.NamedType:
    return ir.NamedType(name, ir.ObjectDef(fields, additional), ir.Docs(description=doc))


def fld(wire: str, t: ir.Type, required: bool = True, **kw: object) -> ir.Field:
    return ir.Field(wire, t, required, **kw)  # type: ignore[arg-type]


def decls(api: ir.Api) -> dict[str, ts.TsDeclaration]:
    """Declarations by kind and name, e.g. "TsInterface Agent"."""
    warnings: list[str] = []
    return {f"{type(d).__name__} {d.name}": d for d in ts.models(api, warnings).declarations}


def members(decl: ts.TsDeclaration) -> list[str]:
    assert isinstance(decl, ts.TsInterface)
    return [m.line for m in decl.members]


# Type mapping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "want"),
    [
        (ir.Prim.STRING, "string"),
        (ir.Prim.UUID, "string"),
        (ir.Prim.DATE, "string"),
        (ir.Prim.DECIMAL, "string"),
        (ir.Prim.BYTES, "string"),
        (ir.Prim.BINARY, "Uint8Array"),
        (ir.Prim.BOOLEAN, "boolean"),
        (ir.Prim.INTEGER, "number"),
        (ir.Prim.INT32, "number"),
        (ir.Prim.FLOAT, "number"),
        (ir.Prim.DOUBLE, "number"),
        (ir.Prim.INT64, "bigint"),
        (ir.Prim.DATE_TIME, "Date"),
        (ir.Prim.ANY, "unknown"),
    ],
)
def test_primitive_mapping(kind: ir.Prim, want: str) -> None:
    assert ts.TsTypes(api_of()).of(ir.PrimitiveType(kind)).text == want


def test_every_primitive_is_mapped() -> None:
    assert set(ts_types._PRIMS) == set(ir.Prim)


@pytest.mark.parametrize(
    ("t", "want"),
    [
        (ir.ArrayType(S), "string[]"),
        (ir.ArrayType(ir.ArrayType(S)), "string[][]"),
        (ir.ArrayType(ir.Nullable(S)), "Array<string | null>"),
        (ir.Nullable(ir.ArrayType(S)), "string[] | null"),
        (ir.ArrayType(ir.MapType(I64)), "Array<{ [key: string]: bigint }>"),
        (ir.ArrayType(ir.ConstType("a")), 'Array<"a">'),
        (ir.MapType(ir.Nullable(S)), "{ [key: string]: string | null }"),
        (ir.MapType(ANY), "{ [key: string]: unknown }"),
        (ir.Nullable(ANY), "unknown"),
        (ir.Nullable(ir.Nullable(S)), "string | null"),
        (ir.NamedRef("agent"), "Agent"),
        (ir.ArrayType(ir.NamedRef("agent")), "Agent[]"),
        (ir.ConstType('q"*/`${x}\u2028'), '"q\\"*/`${x}\\u2028"'),
        (ir.ConstType(True), "true"),
        (ir.ConstType(False), "false"),
        (ir.ConstType(-3), "-3"),
        (ir.ConstType(1.5), "1.5"),
        (ir.ConstType(float("inf")), "number"),
    ],
)
def test_type_expressions(t: ir.Type, want: str) -> None:
    api = api_of(obj("agent", fld("id", S)))
    assert ts.TsTypes(api).of(t).text == want


# Properties: optional vs nullable, keys, readonly ------------------------------------------------


@pytest.mark.parametrize(
    ("field", "want"),
    [
        (fld("name", S), "name: string;"),
        (fld("name", S, required=False), "name?: string;"),
        (fld("name", ir.Nullable(S)), "name: string | null;"),
        (fld("name", ir.Nullable(S), required=False), "name?: string | null;"),
        (fld("id", S, read_only=True), "readonly id: string;"),
        (fld("agent_id", S), "agent_id: string;"),
        (fld("$ref", S), "$ref: string;"),
        (fld("_id", S), "_id: string;"),
        (fld("default", S), "default: string;"),
        (fld("__proto__", S), "__proto___: string;"),
        (fld("constructor", S), "constructor_: string;"),
        (fld("toString", S), "toString_: string;"),
        (fld("@type", S), '"@type": string;'),
        (fld("foo-bar", S), '"foo-bar": string;'),
        (fld("2fa_code", S), '"2fa_code": string;'),
        (fld("caf\u00e9", S), '"caf\\u00e9": string;'),
        (fld("a\nb", S), '"a\\nb": string;'),
        (fld("", S), '"": string;'),
    ],
)
def test_property_lines(field: ir.Field, want: str) -> None:
    declared = decls(api_of(obj("Thing", field)))
    assert members(declared["TsInterface Thing"]) == [want]


@pytest.mark.parametrize(
    ("fields", "additional", "want"),
    [
        ((), None, "[key: string]: unknown;"),
        ((), S, "[key: string]: string;"),
        ((fld("a", S),), S, "[key: string]: string;"),
        ((fld("a", ir.PrimitiveType(ir.Prim.INT32)),), S, "[key: string]: string | number;"),
        ((fld("a", S, required=False),), S, "[key: string]: string | undefined;"),
        (
            (fld("a", ir.Nullable(S)),),
            ir.PrimitiveType(ir.Prim.BOOLEAN),
            "[key: string]: boolean | string | null;",
        ),
        ((fld("a", S),), ANY, "[key: string]: unknown;"),
        (
            tuple(fld(f"f{i}", ir.ConstType(i)) for i in range(10)),
            S,
            "[key: string]: unknown;",
        ),
    ],
)
def test_index_signature_covers_properties(
    fields: tuple[ir.Field, ...], additional: ir.Type | None, want: str
) -> None:
    declared = decls(api_of(obj("Bag", *fields, additional=additional)))
    assert members(declared["TsInterface Bag"])[-1] == want


# Names -------------------------------------------------------------------------------------------


def test_type_names_are_pascal_unique_and_avoid_globals() -> None:
    api = api_of(
        obj("agent_status", fld("a", S)),
        obj("AgentStatus", fld("a", S)),
        obj("Error", fld("a", S)),
        obj("Promise", fld("a", S)),
        obj("3GPPFoo", fld("a", S)),
        obj("UnknownVariant", fld("a", S)),
        obj("*/", fld("a", S)),
    )
    assert list(ts.TsTypes(api).names.values()) == [
        "AgentStatus",
        "AgentStatus2",
        "ErrorModel",
        "PromiseModel",
        "N3gppFoo",
        "UnknownVariant2",
        "Model",
    ]


def test_unknown_variant_names_yield_to_contract_names() -> None:
    union = ir.NamedType("Shape", ir.UnionDef((ir.Variant(S), ir.Variant(I64))))
    api = api_of(union, obj("UnknownShape", fld("a", S)))
    types = ts.TsTypes(api)
    assert types.names["UnknownShape"] == "UnknownShape"
    assert types.unknown_names["Shape"] == "UnknownShape2"


# Enums -------------------------------------------------------------------------------------------


def test_string_enum_is_open_with_const_object() -> None:
    values = tuple(ir.EnumValue(v) for v in ("active", "idle", "A", "a", "", "*/", "__proto__", 'x"y'))
    declared = decls(api_of(ir.NamedType("status", ir.EnumDef(ir.Prim.STRING, values))))
    alias = declared["TsAlias Status"]
    assert isinstance(alias, ts.TsAlias)
    assert alias.single == ""  # too long for one line
    assert alias.members == [
        '"active"',
        '"idle"',
        '"A"',
        '"a"',
        '""',
        '"*/"',
        '"__proto__"',
        '"x\\"y"',
        "(string & {})",
    ]
    const = declared["TsConst Status"]
    assert isinstance(const, ts.TsConst)
    assert [(e.key, e.value) for e in const.entries] == [
        ("Active", '"active"'),
        ("Idle", '"idle"'),
        ("A", '"A"'),
        ("A2", '"a"'),
        ("Value", '""'),
        ("Value2", '"*/"'),
        ("Proto", '"__proto__"'),
        ("XY", '"x\\"y"'),
    ]


def test_integer_enum_is_open() -> None:
    values = tuple(ir.EnumValue(v) for v in (-1, 0, 1, 2147483647))
    declared = decls(api_of(ir.NamedType("level", ir.EnumDef(ir.Prim.INTEGER, values))))
    alias = declared["TsAlias Level"]
    assert isinstance(alias, ts.TsAlias)
    assert alias.single == "-1 | 0 | 1 | 2147483647 | (number & {})"
    const = declared["TsConst Level"]
    assert isinstance(const, ts.TsConst)
    assert [e.key for e in const.entries] == ["Minus1", "N0", "N1", "N2147483647"]


# Unions ------------------------------------------------------------------------------------------


def _tagged_union(prop: str, *variants: tuple[str, tuple[str, ...]]) -> ir.NamedType:
    return ir.NamedType(
        "Pet",
        ir.UnionDef(tuple(ir.Variant(ir.NamedRef(n), tags) for n, tags in variants), discriminator=prop),
    )


@pytest.mark.parametrize(
    ("tag_field", "want"),
    [
        (fld("kind", ir.ConstType("cat")), "Cat"),  # already the tag literal
        (fld("kind", ir.ConstType("cat"), required=False), '(Cat & { kind: "cat" })'),
        (fld("kind", ir.Nullable(ir.ConstType("cat"))), '(Cat & { kind: "cat" })'),
        (fld("kind", S), '(Cat & { kind: "cat" })'),
        (fld("kind", ir.Nullable(S), required=False), '(Cat & { kind: "cat" })'),
        (fld("kind", ir.NamedRef("PetKind")), '(Cat & { kind: "cat" })'),  # open enum
        (fld("other", S), '(Cat & { kind: "cat" })'),  # the tag property is not declared
        (fld("kind", ir.PrimitiveType(ir.Prim.INT32)), "Cat"),  # clash: left alone, with a warning
        (fld("kind", ir.ConstType("dog")), "Cat"),  # clash
    ],
)
def test_discriminated_variants_narrow(tag_field: ir.Field, want: str) -> None:
    kinds = ir.NamedType("PetKind", ir.EnumDef(ir.Prim.STRING, (ir.EnumValue("cat"), ir.EnumValue("dog"))))
    api = api_of(_tagged_union("kind", ("Cat", ("cat",))), obj("Cat", tag_field), kinds)
    warnings: list[str] = []
    declared = {f"{type(d).__name__} {d.name}": d for d in ts.models(api, warnings).declarations}
    alias = declared["TsAlias Pet"]
    assert isinstance(alias, ts.TsAlias)
    assert alias.single == f"{want} | UnknownPet"
    assert bool(warnings) == (want == "Cat" and tag_field.type != ir.ConstType("cat"))


def test_discriminated_unknown_variant_shape() -> None:
    api = api_of(
        _tagged_union("@type", ("Box", ('box "q"', "b*/"))),
        obj("Box", fld("@type", S)),
    )
    declared = decls(api)
    alias = declared["TsAlias Pet"]
    assert isinstance(alias, ts.TsAlias)
    assert alias.single == '(Box & { "@type": "box \\"q\\"" | "b*/" }) | UnknownPet'
    unknown = declared["TsInterface UnknownPet"]
    assert isinstance(unknown, ts.TsInterface)
    assert unknown.heritage == " extends UnknownVariant"
    assert members(unknown) == ['readonly "@type"?: never;', "readonly raw: unknown;"]


def test_discriminator_named_raw_moves_the_json() -> None:
    api = api_of(_tagged_union("raw", ("Cat", ("cat",))), obj("Cat", fld("raw", ir.ConstType("cat"))))
    assert members(decls(api)["TsInterface UnknownPet"]) == [
        "readonly raw?: never;",
        "readonly rawJson: unknown;",
    ]


def test_untagged_union() -> None:
    union = ir.NamedType(
        "Content",
        ir.UnionDef((ir.Variant(S), ir.Variant(ir.ArrayType(ir.NamedRef("Block"))), ir.Variant(I64))),
    )
    declared = decls(api_of(union, obj("Block", fld("text", S))))
    alias = declared["TsAlias Content"]
    assert isinstance(alias, ts.TsAlias)
    assert alias.single == "string | Block[] | bigint | UnknownContent"
    assert members(declared["TsInterface UnknownContent"]) == ["readonly raw: unknown;"]


def test_union_collapses_to_unknown_with_an_any_variant() -> None:
    union = ir.NamedType("Loose", ir.UnionDef((ir.Variant(S), ir.Variant(ANY))))
    alias = decls(api_of(union))["TsAlias Loose"]
    assert isinstance(alias, ts.TsAlias)
    assert alias.single == "unknown"


def test_long_unions_are_one_member_per_line() -> None:
    union = ir.NamedType(
        "Event", ir.UnionDef(tuple(ir.Variant(ir.ConstType(f"event.number.{i}")) for i in range(8)))
    )
    alias = decls(api_of(union))["TsAlias Event"]
    assert isinstance(alias, ts.TsAlias)
    assert alias.single == ""
    assert alias.members[-1] == "UnknownEvent"


# Alias cycles ------------------------------------------------------------------------------------


def test_alias_cycles_are_broken_once() -> None:
    api = api_of(
        ir.NamedType("A", ir.AliasDef(ir.NamedRef("B"))),
        ir.NamedType("B", ir.AliasDef(ir.Nullable(ir.NamedRef("A")))),
        ir.NamedType("Self", ir.AliasDef(ir.NamedRef("Self"))),
        ir.NamedType("List", ir.AliasDef(ir.ArrayType(ir.NamedRef("List")))),  # legal: through an array
        ir.NamedType("U", ir.UnionDef((ir.Variant(ir.NamedRef("U2")), ir.Variant(S)))),
        ir.NamedType("U2", ir.UnionDef((ir.Variant(ir.NamedRef("U")), ir.Variant(I64)))),
        obj("Node", fld("next", ir.NamedRef("NodeRef"))),
        ir.NamedType("NodeRef", ir.AliasDef(ir.NamedRef("Node"))),  # legal: through an interface
    )
    assert ts.alias_back_edges(api) == {("B", "A"), ("Self", "Self"), ("U2", "U")}
    warnings: list[str] = []
    declared = {f"{type(d).__name__} {d.name}": d for d in ts.models(api, warnings).declarations}
    assert len(warnings) == 3
    got = {name: d.single for name, d in declared.items() if isinstance(d, ts.TsAlias)}
    assert got == {
        "TsAlias A": "B",
        "TsAlias B": "unknown",
        "TsAlias Self": "unknown",
        "TsAlias List": "List[]",
        "TsAlias U": "U2 | string | UnknownU",
        "TsAlias U2": "unknown",
        "TsAlias NodeRef": "Node",
    }


# Doc comments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("plain", ["plain"]),
        ("ends */ here", ["ends *\\/ here"]),
        ("a\nb\u2028c\u2029d\r\ne", ["a", "b", "c", "d", "e"]),
        ("@deprecated at start", ["\\@deprecated at start"]),
        ("mid @param x", ["mid \\@param x"]),
        ("see {@link Foo}", ["see {\\@link Foo}"]),
        ("mail a@b.c", ["mail a@b.c"]),
        ("bidi \u202e hidden\x00", ["bidi  hidden"]),
        ("trailing   \n\n\n\nnext", ["trailing", "", "next"]),
    ],
)
def test_doc_lines_are_safe(text: str, want: list[str]) -> None:
    assert ts.doc_lines(text) == want


def test_jsdoc_forms() -> None:
    assert ts.jsdoc([]) == []
    assert ts.jsdoc(["one"]) == ["/** one */"]
    assert ts.jsdoc(["one", "", "two"], "  ") == ["  /**", "   * one", "   *", "   * two", "   */"]


HOSTILE_TEXT = "*/ /* // \" ' ` ${x} \\ @deprecated {@link X}\n\u2028 </script> \u202e {{ j }}"


def test_hostile_text_never_escapes_a_comment() -> None:
    field = fld(
        "x", S, docs=ir.Docs(description=HOSTILE_TEXT, deprecated=True), default=ir.Default(HOSTILE_TEXT)
    )
    named = obj("T", field, doc=HOSTILE_TEXT)
    declared = decls(api_of(named))
    interface = declared["TsInterface T"]
    assert isinstance(interface, ts.TsInterface)
    for comment in (interface.doc, interface.members[0].doc):
        text = "\n".join(comment)
        assert text.count("*/") == 1 and text.endswith("*/")
        assert "\u2028" not in text and "\u202e" not in text
        tags = re.findall(r"(?:^|\s|\{)@\w+", text)
        assert tags == [] or all(t.strip() in ("@deprecated", "@defaultValue") for t in tags)
    assert "@deprecated" in interface.members[0].doc[-3]


# Package -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "package_name", "want"),
    [
        ("Orchestrator API", "", "orchestrator-sdk"),
        ('Hostile */ API " ${danger}', "", "hostile-danger-sdk"),
        ("", "", "client-sdk"),
        ("Whatever", "acme_widgets", "acme-widgets-sdk"),
        ("Whatever", "acme-sdk", "acme-sdk"),
    ],
)
def test_npm_name(title: str, package_name: str, want: str) -> None:
    assert ts.npm_name(api_of(title=title), Options(package_name=package_name)) == want


# Rendering ---------------------------------------------------------------------------------------


def _load(spec: Path) -> ir.Api:
    from polysdk.frontends.openapi import build_api, load_contract

    return build_api(load_contract(spec, validate=False))


def _render(spec: Path, out: Path) -> list[str]:
    plan = ts.plan(build_decisions(_load(spec)), Options())
    render_plan(plan, out)
    return plan.warnings


SPECS = {"orchestrator": ROOT / "spec" / "orchestrator.yaml", "hostile": FIXTURES / "hostile.yaml"}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_output_is_deterministic_and_tidy(name: str, tmp_path: Path) -> None:
    _render(SPECS[name], tmp_path / "a")
    _render(SPECS[name], tmp_path / "b")
    assert diff_trees(tmp_path / "a", tmp_path / "b") == []
    files = sorted(p for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert [p.relative_to(tmp_path / "a").as_posix() for p in files] == [
        ".gitignore",
        "README.md",
        "examples/readme.ts",
        "package.json",
        "src/client.ts",
        "src/codec.ts",
        "src/codecs.ts",
        "src/core.ts",
        "src/errors.ts",
        "src/index.ts",
        "src/json.ts",
        "src/models.ts",
        "src/unknown.ts",
        "test/codec.test.mjs",
        "test/runtime.test.mjs",
        "tsconfig.examples.json",
        "tsconfig.json",
    ]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n"), path
        assert "\t" not in text and "\r" not in text, path
        assert "\n\n\n" not in text, path
        assert not re.search(r"[ ]+\n", text), path
        assert str(tmp_path) not in text, path
    models = (tmp_path / "a" / "src" / "models.ts").read_text(encoding="utf-8")
    assert models.startswith("// Code generated by polysdk. DO NOT EDIT.\n")


# Compiling with tsc (toolchain tier) -------------------------------------------------------------


def _tsc() -> str:
    return require_tool("tsc", env_var="POLYSDK_TSC")


def _check(tsc: str, sdk: Path) -> None:
    result = subprocess.run([tsc, "-p", str(sdk), "--noEmit"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[:6000]


@pytest.mark.toolchain
@pytest.mark.parametrize(
    ("name", "fixture"), [("orchestrator", "narrowing.ts"), ("hostile", "hostile_narrowing.ts")]
)
def test_types_compile_and_narrow(name: str, fixture: str, tmp_path: Path) -> None:
    tsc = _tsc()
    _render(SPECS[name], tmp_path)
    shutil.copy(FIXTURES / "typescript" / fixture, tmp_path / "src" / "type_checks.ts")
    _check(tsc, tmp_path)


# Client layer ------------------------------------------------------------------------------------


def test_codecs_follow_the_types() -> None:
    api = api_of(
        obj(
            "Thing",
            fld("id", ir.PrimitiveType(ir.Prim.INT64)),
            fld("at", ir.Nullable(ir.PrimitiveType(ir.Prim.DATE_TIME)), required=False),
            fld("tags", ir.ArrayType(ir.ConstType('a"b'))),
        ),
        ir.NamedType(
            "Shape",
            ir.UnionDef((ir.Variant(ir.NamedRef("Thing"), ("thing",)),), discriminator="raw"),
        ),
    )
    types = ts.TsTypes(api)
    entries = {e.key: e.value for e in ts_codecs.codec_entries(types)}
    assert entries['"Thing"'] == (
        '{ object: [["id", "i64"], ["at", { nullable: "date" }], ["tags", { array: { literal: "a\\"b" } }]], '
        'required: ["id", "tags"] }'
    )
    assert (
        entries['"Shape"']
        == '{ union: [[{ ref: "Thing" }, ["thing"]]], discriminator: "raw", rawKey: "rawJson" }'
    )


def test_client_names_are_unique_and_keyword_safe() -> None:
    plan = ts.plan(build_decisions(_load(FIXTURES / "hostile.yaml")), Options())
    view = next(f.context["client"] for f in plan.files if f.output == "src/client.ts")
    for resource in view.resources:
        methods = [op.method for op in resource.operations]
        assert len(set(methods)) == len(methods)
        assert "constructor" not in methods
    props = [r.prop for r in view.resources]
    assert len(set(props)) == len(props)
    names = [
        view.name,
        *(r.name for r in view.resources),
        *(op.params_name for r in view.resources for op in r.operations),
    ]
    assert len(set(names)) == len(names)
    assert not set(names) & set(ts.RUNTIME_NAMES)


def test_orchestrator_client_surface() -> None:
    plan = ts.plan(build_decisions(_load(SPECS["orchestrator"])), Options())
    view = next(f.context["client"] for f in plan.files if f.output == "src/client.ts")
    methods = {(r.prop, op.method): op for r in view.resources for op in r.operations}
    assert methods["agents", "list"].returns == "PagePromise<AgentList, Agent>"
    assert methods["runs", "streamEvents"].returns == "APIPromise<Stream<RunEvent>>"
    assert methods["artifacts", "download"].returns == "APIPromise<ReadableStream<Uint8Array>>"
    assert methods["agents", "delete"].returns == "APIPromise<void>"
    assert methods["health", "get"].params_arg == "params: GetHealthParams = {}"
    assert "  auth: null," in methods["health", "get"].spec
    assert "  auth: { bearer: true, apiKey: true }," in methods["agents", "list"].spec
    assert '  accept: "application/json",' in methods["agents", "list"].spec
    assert '  accept: "text/event-stream",' in methods["runs", "streamEvents"].spec
    assert '  idempotencyHeader: "Idempotency-Key",' in methods["agents", "register"].spec
    assert view.info[2] == '  envPrefix: "ORCHESTRATOR",'


def test_request_bodies_let_read_only_properties_out() -> None:
    api = api_of(
        obj(
            "Thing",
            fld("id", ir.PrimitiveType(ir.Prim.STRING), read_only=True),
            fld("name", ir.PrimitiveType(ir.Prim.STRING)),
        ),
        obj(
            "Open",
            fld("id", ir.PrimitiveType(ir.Prim.STRING), read_only=True),
            additional=ir.PrimitiveType(ir.Prim.STRING),
        ),
    )
    types = ts.TsTypes(api)
    body = ts.BodyShape("json", "application/json", ir.NamedRef("Thing"), True)
    assert ts.body_type(types, body).text == 'WriteBody<Thing, "id">'
    assert (
        ts.body_type(types, ts.BodyShape("json", "application/json", ir.NamedRef("Open"), True)).text
        == "Open"
    )
    assert (
        ts.body_type(types, ts.BodyShape("binary", "application/octet-stream", None, True)).text
        == "BinaryBody"
    )
    multipart = ts.BodyShape("multipart", "multipart/form-data", ir.NamedRef("Thing"), True)
    assert ts.body_type(types, multipart).text == "MultipartBody<Thing>"


# The type model: rendered form, references (imports), nullability, roles ----------------------------


def test_type_entries_know_their_text_references_and_nullability() -> None:
    api = api_of(
        obj("Thing", fld("id", S)),
        ir.NamedType("Loop", ir.AliasDef(ir.NamedRef("Loop"))),
    )
    types = ts.TsTypes(api)
    thing = types.of(ir.Nullable(ir.ArrayType(ir.NamedRef("Thing"))))
    assert thing.text == "Thing[] | null"
    assert thing.models == {"Thing"} and thing.nullable and not thing.is_unknown
    mixed = types.of(ir.ArrayType(ir.Nullable(ir.NamedRef("Thing"))))
    assert (mixed.text, mixed.models, mixed.nullable) == ("Array<Thing | null>", {"Thing"}, False)
    as_map = types.of(ir.MapType(I64))
    assert (as_map.text, as_map.models) == ("{ [key: string]: bigint }", frozenset())
    # `unknown` absorbs the rest of a union, and with it the references it would need.
    absorbed = ts_types.union([types.of(ir.NamedRef("Thing")), types.of(ANY)])
    assert (absorbed.text, absorbed.models, absorbed.nullable) == ("unknown", frozenset(), True)
    # A reference closing an alias cycle is `unknown` and says so.
    broken = types.of(ir.NamedRef("Loop"), owner="Loop")
    assert broken.broken and broken.is_unknown and broken.models == frozenset()
    assert types.of(ir.ConstType(True)).atoms[0].simple
    assert types.of(ir.ArrayType(ir.ConstType("a"))).text == 'Array<"a">'


def test_runtime_wrappers_are_recorded_as_used() -> None:
    api = api_of(obj("Thing", fld("id", S, read_only=True)))
    types = ts.TsTypes(api)
    body = ts.body_type(types, ts.BodyShape("json", "application/json", ir.NamedRef("Thing"), True))
    assert body.runtime == {"WriteBody"} and body.models == {"Thing"}
    wrapped = ts_types.generic("APIPromise", ts_types.generic("Stream", body))
    assert wrapped.runtime == {"APIPromise", "Stream", "WriteBody"}
    assert wrapped.text == 'APIPromise<Stream<WriteBody<Thing, "id">>>'
    binary = ts.body_type(types, ts.BodyShape("binary", "application/octet-stream", None, True))
    assert binary.runtime == {"BinaryBody"}


def test_client_imports_come_from_the_recorded_types() -> None:
    plan = ts.plan(build_decisions(_load(SPECS["orchestrator"])), Options())
    view = next(f.context["client"] for f in plan.files if f.output == "src/client.ts")
    used = {name for r in view.resources for op in r.operations for name in op.result.returns.models}
    used |= {name for r in view.resources for op in r.operations for m in op.params for name in m.type.models}
    assert view.model_imports == sorted(used)
    assert "type PagePromise" in view.runtime_imports and "Core" in view.runtime_imports


@pytest.mark.parametrize("contract", ["models-only", "webhooks-only"])
def test_a_client_without_operations_imports_nothing_it_does_not_use(contract: str) -> None:
    """Strict tsc refuses an unused import; fixtures/compile/ also runs tsc over the output."""
    plan = ts.plan(build_decisions(_load(FIXTURES / "compile" / f"{contract}.yaml")), Options())
    view = next(f.context["client"] for f in plan.files if f.output == "src/client.ts")
    assert not any(r.operations for r in view.resources)
    assert view.runtime_imports == ["type ClientOptions", "Core", "type SDKInfo"]


def test_methods_and_members_carry_roles() -> None:
    from polysdk.views.typescript.operations import OpKind

    plan = ts.plan(build_decisions(_load(SPECS["orchestrator"])), Options())
    view = next(f.context["client"] for f in plan.files if f.output == "src/client.ts")
    methods = {(r.prop, op.method): op for r in view.resources for op in r.operations}
    assert methods["agents", "list"].kind is OpKind.PAGES
    assert methods["runs", "streamEvents"].kind is OpKind.STREAM
    assert methods["agents", "get"].kind is OpKind.CALL
    get = methods["agents", "get"]
    member = next(m for m in get.params if m.key == "agent_id")
    assert member.param is not None and member.param.wire_name == "agent_id" and member.body is None
    register = methods["agents", "register"]
    body = next(m for m in register.params if m.body is not None)
    assert body.key == "body" and body.param is None


def test_readme_renders_the_chosen_examples() -> None:
    decisions = build_decisions(_load(SPECS["orchestrator"]))
    plan = ts.plan(decisions, Options())
    readme = next(f.context["readme"] for f in plan.files if f.output == "README.md")
    chosen = decisions.examples
    assert chosen.call is not None and readme.call is not None
    view = next(f.context["client"] for f in plan.files if f.output == "src/client.ts")
    assert (readme.call.prop, readme.call.method) == view.methods[chosen.call.operation.id]
    assert readme.sections[:4] == ["configure", "call", "errors", "retries"]
    assert readme.base_url == decisions.client.base_url


# Connect (proto contracts) -------------------------------------------------------------------------

Q64 = ir.PrimitiveType(ir.Prim.INT64, quoted=True)


def _connect_api() -> ir.Api:
    """A Connect service: a paginated unary list and a server stream, with quoted int64 fields."""
    ref = ir.NamedRef

    def rpc(name: str, request: str, media: str, result: str, idempotent: bool | None) -> ir.Operation:
        path = f"/pkg.v1.EventService/{name[0].upper()}{name[1:]}"
        return ir.Operation(
            id=name,
            tags=("Event",),
            http=ir.HttpBinding("POST", path, ir.Protocol.CONNECT),
            params=(),
            body=ir.RequestBody(True, (ir.Content(media, ref(request)),)),
            responses=(ir.Response("200", (ir.Content(media, ref(result)),)),),
            security=(),
            idempotent=idempotent,
        )

    api = api_of(
        obj("Event", fld("sequence", Q64, required=False), fld("toString", S, required=False)),
        obj(
            "ListEventsRequest",
            fld("constructor", S, required=False),
            fld("pageToken", S, required=False),
            fld("pageSize", ir.PrimitiveType(ir.Prim.INT32), required=False),
        ),
        obj(
            "ListEventsResponse",
            fld("events", ir.ArrayType(ref("Event")), required=False),
            fld("nextPageToken", S, required=False),
        ),
        obj("WatchEventsRequest", fld("afterSequence", Q64, required=False)),
    )
    operations = (
        rpc("listEvents", "ListEventsRequest", "application/json", "ListEventsResponse", True),
        rpc("watchEvents", "WatchEventsRequest", "application/connect+json", "Event", None),
    )
    return dataclasses.replace(api, operations=operations)


def test_connect_operations_render_their_decisions() -> None:
    from polysdk.views.typescript.operations import OpKind

    plan = ts.plan(build_decisions(_connect_api()), Options())
    view = next(f.context["client"] for f in plan.files if f.output == "src/client.ts")
    ops = {op.operation_id: op for r in view.resources for op in r.operations}
    listing, watch = ops["listEvents"], ops["watchEvents"]
    assert '  protocol: "connect",' in listing.spec
    assert listing.kind is OpKind.PAGES and listing.result.runtime == "paginate"
    assert (
        '  pagination: { style: "cursor", items: "events", cursorParam: "pageToken", '
        'nextCursorField: "nextPageToken", limitParam: "pageSize", cursorInBody: true },'
    ) in listing.spec
    assert "  retryable: true," in listing.spec
    assert watch.kind is OpKind.STREAM
    assert watch.returns == "APIPromise<ConnectStream<Event>>"
    assert watch.call == "this.#core.connectStream<Event>(op1, params, options)"
    assert '  result: { kind: "connect-stream", codec: { ref: "Event" }, mayBeEmpty: false },' in watch.spec
    assert "  retryable: false," in watch.spec
    assert not any("resumeHeader" in line for line in watch.spec)
    assert "ConnectStream" in ts.RUNTIME_NAMES


def _readme(api: ir.Api) -> ts.TsReadme:
    plan = ts.plan(build_decisions(api), Options())
    return next(f.context["readme"] for f in plan.files if f.output == "README.md")


def test_transcoded_operations_read_google_rpc_status_errors() -> None:
    """An operation whose error bodies are google.rpc.Status says so in its spec (the runtime names
    the numeric code); the README documents it, and Connect's deadline header, only when used."""
    api = _connect_api()
    listing, watch = api.operations
    http = ir.HttpBinding("POST", "/v1/events:list", status_errors=True)
    transcoded = dataclasses.replace(api, operations=(dataclasses.replace(listing, http=http), watch))
    plan = ts.plan(build_decisions(transcoded), Options())
    view = next(f.context["client"] for f in plan.files if f.output == "src/client.ts")
    ops = {op.operation_id: op for r in view.resources for op in r.operations}
    assert "  statusErrors: true," in ops["listEvents"].spec
    assert not any("statusErrors" in line for line in ops["watchEvents"].spec)
    readme = _readme(transcoded)
    assert (readme.status_errors, readme.connect) == (True, True)
    connect_only = _readme(api)
    assert (connect_only.status_errors, connect_only.connect) == (False, True)
    rest = _readme(_load(SPECS["orchestrator"]))
    assert (rest.status_errors, rest.connect) == (False, False)


def test_quoted_int64_has_its_own_codec_and_is_a_bigint() -> None:
    types = ts.TsTypes(_connect_api())
    entries = {e.key: e.value for e in ts_codecs.codec_entries(types)}
    assert entries['"Event"'] == '{ object: [["sequence", "q64"], ["toString", "str", "toString_"]] }'
    assert types.of(Q64).text == "bigint"
    assert ts_codecs.codec(types, I64) == '"i64"'


@pytest.mark.toolchain
def test_connect_sdk_compiles(tmp_path: Path) -> None:
    """A Connect service's SDK and driver pass strict tsc."""
    tsc = _tsc()
    plan = ts.plan(build_decisions(_connect_api()), Options(drivers=True))
    render_plan(plan, tmp_path)
    _check(tsc, tmp_path)
    result = subprocess.run(
        [tsc, "-p", "tsconfig.driver.json", "--noEmit"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[:6000]


def test_a_get_body_the_contract_requires_is_a_generation_warning(tmp_path: Path) -> None:
    """fetch cannot send a GET body: the TypeScript SDK refuses the call, and says so up front."""
    from .conftest import api_from_text

    api = api_from_text(
        tmp_path,
        """openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /lookup:
    get:
      operationId: lookup
      requestBody:
        required: true
        content: {application/json: {schema: {type: object, properties: {q: {type: string}}}}}
      responses: {'200': {description: ok}}
""",
    )
    warnings = ts.plan(build_decisions(api), Options()).warnings
    expected = "typescript: operation 'lookup' (GET /lookup) requires a request body, which fetch cannot"
    assert any(w.startswith(expected) for w in warnings), warnings
