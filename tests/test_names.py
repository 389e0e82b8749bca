"""Word splitting, casing, reserved words and collisions: the hard cases of ARCHITECTURE.md §4."""

from __future__ import annotations

import pytest

from polysdk import names
from polysdk.literals import comment_lines, go_string, line_comment, rust_string, ts_string


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("listAgents", ["list", "Agents"]),
        ("HTTPServer", ["HTTP", "Server"]),
        ("3GPPFoo", ["3GPP", "Foo"]),
        ("2fa_code", ["2fa", "code"]),
        ("_id", ["id"]),
        ("$ref", ["ref"]),
        ("@type", ["type"]),
        ("foo-bar", ["foo", "bar"]),
        ("runs/{run_id}:cancel", ["runs", "run", "id", "cancel"]),
        ("agentID", ["agent", "ID"]),
        ("Ünïcödé name", ["Unicode", "name"]),
        ("🚀", []),
        ("", []),
    ],
)
def test_split_words(text: str, words: list[str]) -> None:
    assert names.split_words(text) == words


@pytest.mark.parametrize(
    ("text", "go", "snake"),
    [
        ("agent_id", "AgentID", "agent_id"),
        ("endpointUrl", "EndpointURL", "endpoint_url"),
        ("3GPPFoo", "N3gppFoo", "3gpp_foo"),
        ("http_status", "HTTPStatus", "http_status"),
    ],
)
def test_casing(text: str, go: str, snake: str) -> None:
    assert names.go_fix_type(names.pascal(names.split_words(text), names.GO_INITIALISMS)) == go
    assert names.snake(names.split_words(text)) == snake


def test_namer_collisions_are_deterministic_and_case_aware() -> None:
    namer = names.Namer(names.pascal, names.go_fix_type, "Model")
    claimed = [namer.claim(n) for n in ["foo_bar", "fooBar", "foo-bar", "FooBar", "🚀", "🚀"]]
    assert claimed == ["FooBar", "FooBar2", "FooBar3", "FooBar4", "Model", "Model2"]
    folded = names.Namer(names.pascal, names.ts_fix_type, "Model", taken=["Agent"], fold_case=True)
    assert folded.claim("AGENT") == "Agent2"


@pytest.mark.parametrize(
    ("fix", "ident", "want"),
    [
        (names.rust_fix_field, "type", "r#type"),
        (names.rust_fix_field, "self", "self_"),
        (names.rust_fix_field, "crate", "crate_"),
        (names.rust_fix_type, "Self", "SelfModel"),
        (names.rust_fix_type, "Option", "OptionModel"),
        (names.go_fix_type, "Client", "ClientModel"),
        (names.ts_fix_type, "Promise", "PromiseModel"),
        (names.go_fix_type, "3D", "N3D"),
    ],
)
def test_reserved_words(fix, ident: str, want: str) -> None:  # type: ignore[no-untyped-def]
    assert fix(ident) == want


HOSTILE = 'a"b\\c`d${e}\nf\u2028g*/h\U0001f680\x00'


def test_string_literals_escape_everything_that_could_break_out() -> None:
    assert go_string(HOSTILE) == '"a\\"b\\\\c`d${e}\\nf\\u2028g*/h\\U0001f680\\u0000"'
    assert rust_string(HOSTILE) == '"a\\"b\\\\c`d${e}\\nf\\u{2028}g*/h\\u{1f680}\\u{0}"'
    assert ts_string(HOSTILE) == '"a\\"b\\\\c`d${e}\\nf\\u2028g*/h\\ud83d\\ude80\\u0000"'
    assert names.ts_property_key("ok_name") == "ok_name"
    assert names.ts_property_key("foo-bar") == '"foo-bar"'


def test_comments_split_every_line_break_and_drop_controls() -> None:
    text = "first\r\nsecond\u2028third\u2029\n\n\nfourth\x1b[31m\u202e"
    assert comment_lines(text) == ["first", "second", "third", "", "fourth[31m"]
    assert line_comment("a\nb", "//") == ["// a", "// b"]
    assert line_comment("", "//") == []


@pytest.mark.parametrize(
    ("words", "package"),
    [
        (["map"], "mapsdk"),
        (["type"], "typesdk"),
        (["http"], "httpsdk"),
        (["errors"], "errorssdk"),
        (["Time"], "timesdk"),
        (["init"], "initsdk"),
        (["main"], "mainsdk"),
        (["Documentation"], "documentationsdk"),
        (["string"], "stringsdk"),
        (["Todo", "API", "API"], "todoapi"),
        (["Pet", "Store"], "petstore"),
        (["3", "D"], "sdk3d"),
        ([], "client"),
    ],
)
def test_go_package_names_are_usable(words: list[str], package: str) -> None:
    assert names.go_package_name(words) == package


def test_go_package_names_avoid_every_standard_package_the_sdk_imports() -> None:
    """The example test imports the SDK next to these; a new runtime import needs a new entry."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates" / "go"
    sources = [p.read_text(encoding="utf-8") for p in root.rglob("*") if p.suffix in (".go", ".j2")]
    imported = {
        path.rsplit("/", 1)[-1]
        for text in sources
        for path in re.findall(r'^\s*(?:import\s+)?"([a-z0-9/]+)"$', text, re.MULTILINE)
        if "." not in path.split("/", 1)[0]
    }
    assert imported and imported <= names.GO_PACKAGE_RESERVED


@pytest.mark.parametrize(
    ("title", "phrase"),
    [
        ("Todo", "Todo API"),
        ("Todo API", "Todo API"),
        ("Pet APIs", "Pet APIs"),
        ("", "API"),
        ("Rapi", "Rapi API"),
    ],
)
def test_api_phrase_does_not_double_api(title: str, phrase: str) -> None:
    assert names.api_phrase(title) == phrase
