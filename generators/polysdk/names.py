"""Names in one place: split a contract's spelling into words once; each language then applies
its casing, reserved words and a deterministic collision rule.

Contract names are untrusted: they may contain punctuation, start with digits, differ only by case,
or be keywords. Every identifier we emit comes from here and is a valid identifier.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache

# A word is an acronym run (HTTP in HTTPServer), a capitalised or lower-case word, or digits kept
# with the letters that follow them (3GPP, 2fa).
_WORD = re.compile(r"\d+[A-Z]+(?![a-z])|\d+[a-z]*|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")


def _ascii(text: str) -> str:
    if text.isascii():  # NFKD leaves ASCII as it is
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def split_words(text: str) -> list[str]:
    """`listAgents` → [list, Agents]; `HTTPServer_2fa` → [HTTP, Server, 2fa]; `3GPPFoo` → [3GPP, Foo]."""
    return list(_split_words(text))


# Every language's views split the same contract names: the cache answers the repeats (bounded,
# for long-lived processes).
@lru_cache(maxsize=1 << 16)
def _split_words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(_ascii(text)))


def pascal(words: Iterable[str], initialisms: frozenset[str] = frozenset()) -> str:
    out = []
    for word in words:
        upper = word.upper()
        out.append(upper if upper in initialisms else word[:1].upper() + word[1:].lower())
    return "".join(out)


def camel(words: Iterable[str], initialisms: frozenset[str] = frozenset()) -> str:
    words = list(words)
    if not words:
        return ""
    return words[0].lower() + pascal(words[1:], initialisms)


def snake(words: Iterable[str]) -> str:
    return "_".join(word.lower() for word in words)


# Go: golint's common initialisms, so that agent_id becomes AgentID.
GO_INITIALISMS = frozenset(
    [
        "ACL",
        "API",
        "ASCII",
        "CPU",
        "CSS",
        "DNS",
        "EOF",
        "GUID",
        "HTML",
        "HTTP",
        "HTTPS",
        "ID",
        "IP",
        "JSON",
        "LHS",
        "QPS",
        "RAM",
        "RHS",
        "RPC",
        "SLA",
        "SMTP",
        "SQL",
        "SSE",
        "SSH",
        "TCP",
        "TLS",
        "TTL",
        "UDP",
        "UI",
        "UID",
        "UUID",
        "URI",
        "URL",
        "UTF8",
        "VM",
        "XML",
        "XMPP",
        "XSRF",
        "XSS",
    ]
)

RUST_KEYWORDS = frozenset(
    [
        "as",
        "async",
        "await",
        "break",
        "const",
        "continue",
        "crate",
        "dyn",
        "else",
        "enum",
        "extern",
        "false",
        "fn",
        "for",
        "if",
        "impl",
        "in",
        "let",
        "loop",
        "match",
        "mod",
        "move",
        "mut",
        "pub",
        "ref",
        "return",
        "self",
        "Self",
        "static",
        "struct",
        "super",
        "trait",
        "true",
        "type",
        "unsafe",
        "use",
        "where",
        "while",
        "abstract",
        "become",
        "box",
        "do",
        "final",
        "gen",
        "macro",
        "override",
        "priv",
        "try",
        "typeof",
        "unsized",
        "virtual",
        "yield",
        "union",
    ]
)
# Keywords that cannot be written as raw identifiers (r#self is not allowed).
RUST_NOT_RAW = frozenset({"crate", "self", "Self", "super", "_"})
# Type names that would shadow the prelude or the types our generated code uses.
RUST_RESERVED_TYPES = frozenset(
    [
        "Box",
        "Option",
        "Some",
        "None",
        "Result",
        "Ok",
        "Err",
        "String",
        "Vec",
        "HashMap",
        "BTreeMap",
        "Value",
        "Default",
        "Debug",
        "Clone",
        "Copy",
        "Send",
        "Sync",
        "Sized",
        "Drop",
        "Fn",
        "FnMut",
        "FnOnce",
        "Iterator",
        "IntoIterator",
        "ToString",
        "ToOwned",
        "From",
        "Into",
        "PartialEq",
        "Eq",
        "PartialOrd",
        "Ord",
        "Hash",
        "Serialize",
        "Deserialize",
        "Serializer",
        "Deserializer",
        "DateTime",
        "Utc",
        "Self",
        "Client",
        "Error",
    ]
)

TS_RESERVED = frozenset(
    [
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "new",
        "null",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "implements",
        "interface",
        "let",
        "package",
        "private",
        "protected",
        "public",
        "static",
        "yield",
        "any",
        "boolean",
        "number",
        "string",
        "symbol",
        "bigint",
        "unknown",
        "never",
        "object",
        "undefined",
        "as",
        "async",
        "await",
        "constructor",
        "declare",
        "from",
        "get",
        "is",
        "keyof",
        "module",
        "namespace",
        "of",
        "readonly",
        "require",
        "set",
        "type",
        "infer",
    ]
)
# Global types a generated declaration must not shadow in its module.
TS_RESERVED_TYPES = frozenset(
    [
        "Array",
        "ArrayBuffer",
        "BigInt",
        "Blob",
        "Boolean",
        "Date",
        "Error",
        "File",
        "FormData",
        "Function",
        "Headers",
        "Iterable",
        "Map",
        "Number",
        "Object",
        "Partial",
        "Pick",
        "Promise",
        "ReadableStream",
        "Readonly",
        "Record",
        "RegExp",
        "Request",
        "Required",
        "Response",
        "Set",
        "String",
        "Symbol",
        "Uint8Array",
        "URL",
        "Client",
        "APIError",
        "Omit",
        "Exclude",
        "Extract",
    ]
)

GO_RESERVED_TYPES = frozenset(["Client", "Option", "APIError", "Nullable", "Error"])


class Namer:
    """Hands out unique identifiers within one scope, deterministically.

    `style` turns words into an identifier; `fix` makes a reserved identifier usable. Names are
    claimed in the order callers ask, so callers ask in a stable order (the contract's order or
    sorted); a clash gets the lowest free numeric suffix, e.g. `FooBar`, `FooBar2`.
    """

    def __init__(
        self,
        style: Callable[[list[str]], str],
        fix: Callable[[str], str],
        fallback: str,
        taken: Iterable[str] = (),
        fold_case: bool = False,
    ) -> None:
        self._style = style
        self._fix = fix
        self._fallback = fallback
        self._fold = fold_case
        self._taken: set[str] = {self._key(t) for t in taken}

    def _key(self, name: str) -> str:
        return name.lower() if self._fold else name

    def reserve(self, name: str) -> None:
        self._taken.add(self._key(name))

    def claim(self, text: str) -> str:
        words = split_words(text) or split_words(self._fallback)
        base = self._fix(self._style(words))
        name, n = base, 2
        while self._key(name) in self._taken:
            name, n = f"{base}{n}", n + 1
        self._taken.add(self._key(name))
        return name


def needs_leading_letter(ident: str) -> bool:
    return not ident or not (ident[0].isalpha() or ident[0] == "_")


def go_fix_type(ident: str) -> str:
    ident = "N" + ident if needs_leading_letter(ident) else ident
    return ident + "Model" if ident in GO_RESERVED_TYPES else ident


def rust_fix_field(ident: str) -> str:
    ident = "n" + ident if needs_leading_letter(ident) else ident
    if ident in RUST_NOT_RAW:
        return ident + "_"
    return "r#" + ident if ident in RUST_KEYWORDS else ident


def rust_fix_type(ident: str) -> str:
    ident = "N" + ident if needs_leading_letter(ident) else ident
    return ident + "Model" if ident in RUST_RESERVED_TYPES or ident in RUST_KEYWORDS else ident


def ts_fix_type(ident: str) -> str:
    ident = "N" + ident if needs_leading_letter(ident) else ident
    return ident + "Model" if ident in TS_RESERVED_TYPES else ident


_TS_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def ts_property_key(wire_name: str) -> str:
    """A TypeScript property key for a wire name: bare when it is a plain identifier, else quoted."""
    from polysdk.literals import ts_string

    return wire_name if _TS_IDENT.match(wire_name) else ts_string(wire_name)


# Names a Go package must not take: keywords and predeclared identifiers (a package clause or an
# importer's qualifier would not parse or would shadow them), `main` and `init` (a command, an
# invalid package name), `documentation` (go/build ignores such files) and the last element of
# every standard-library package the generated SDK imports (its example test imports both).
GO_PACKAGE_RESERVED = frozenset(
    [
        *[
            "break",
            "case",
            "chan",
            "const",
            "continue",
            "default",
            "defer",
            "else",
            "fallthrough",
            "for",
            "func",
            "go",
            "goto",
            "if",
            "import",
            "interface",
            "map",
            "package",
            "range",
            "return",
            "select",
            "struct",
            "switch",
            "type",
            "var",
        ],
        *[
            "any",
            "bool",
            "byte",
            "comparable",
            "complex64",
            "complex128",
            "error",
            "float32",
            "float64",
            "int",
            "int8",
            "int16",
            "int32",
            "int64",
            "rune",
            "string",
            "uint",
            "uint8",
            "uint16",
            "uint32",
            "uint64",
            "uintptr",
            "true",
            "false",
            "iota",
            "nil",
            "append",
            "cap",
            "clear",
            "close",
            "complex",
            "copy",
            "delete",
            "imag",
            "len",
            "make",
            "max",
            "min",
            "new",
            "panic",
            "print",
            "println",
            "real",
            "recover",
        ],
        "main",
        "init",
        "documentation",
        *[
            "atomic",
            "base64",
            "binary",
            "bufio",
            "bytes",
            "context",
            "errors",
            "fmt",
            "gzip",
            "http",
            "httptest",
            "httptrace",
            "io",
            "iotest",
            "iter",
            "json",
            "math",
            "mime",
            "multipart",
            "net",
            "os",
            "rand",
            "reflect",
            "regexp",
            "slices",
            "sort",
            "strconv",
            "strings",
            "sync",
            "testing",
            "textproto",
            "time",
            "url",
            "utf16",
            "utf8",
        ],
    ]
)


def go_package_name(words: Iterable[str]) -> str:
    """A Go package name: the words lower-cased and joined, each word once in a row (`Todo API
    API` → `todoapi`), `sdk` in front of a leading digit and after a reserved name (`map` → `mapsdk`)."""
    kept: list[str] = []
    for word in (w.lower() for w in words):
        if not kept or kept[-1] != word:
            kept.append(word)
    package = "".join(kept) or "client"
    if not package[:1].isalpha():
        package = "sdk" + package
    return package + "sdk" if package in GO_PACKAGE_RESERVED else package


_ENDS_WITH_API = re.compile(r"\bAPIs?\s*$", re.IGNORECASE)


def api_phrase(title: str) -> str:
    """`Todo` → `Todo API`, but `Todo API` stays as it is rather than `Todo API API`."""
    return title if _ENDS_WITH_API.search(title) else f"{title} API".lstrip()
