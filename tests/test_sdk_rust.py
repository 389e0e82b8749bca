"""The Rust SDK's quality gates and behaviour: fmt, clippy and tests (runtime unit tests and README
doctests) on out/rust, and a driver program calling the generated operations against a local
HTTP server on 127.0.0.1 (wire format, auth, retries, pagination, streaming, uploads, errors)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, require_tool

pytestmark = pytest.mark.toolchain

CRATE = ROOT / "out" / "rust"
CARGO_TARGET = Path(os.environ.get("POLYSDK_CARGO_TARGET", ROOT / ".cache" / "cargo-target"))


def _cargo(*args: str, cwd: Path = CRATE, timeout: int = 1500) -> str:
    cargo = require_tool("cargo")
    result = subprocess.run(
        [cargo, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, "CARGO_TARGET_DIR": str(CARGO_TARGET)},
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, f"cargo {' '.join(args)} failed:\n{output[-6000:]}"
    return result.stdout


# Static checks -----------------------------------------------------------------------------------


def test_manifest_is_lean_and_complete() -> None:
    manifest = tomllib.loads((CRATE / "Cargo.toml").read_text())
    package = manifest["package"]
    for key in ("edition", "rust-version", "license", "description"):
        assert package[key]
    deps = manifest["dependencies"]
    assert deps["reqwest"]["default-features"] is False
    assert not {"rustls-tls", "native-tls"} & set(deps["reqwest"]["features"])  # a feature of the SDK's
    features = manifest["features"]
    assert features == {
        "default": ["rustls-tls"],
        "rustls-tls": ["reqwest/rustls-tls"],
        "native-tls": ["reqwest/native-tls"],
    }
    assert set(deps) == {"bytes", "chrono", "futures", "reqwest", "serde", "serde_json", "thiserror", "tokio"}
    assert deps["tokio"]["features"] == ["time"]


def test_runtime_is_copied_verbatim_and_no_panics_on_server_data() -> None:
    for name in ("client", "connect", "error", "http", "pagination", "sse"):
        source = (ROOT / "templates" / "rust" / "runtime" / "runtime" / f"{name}.rs").read_text()
        assert (CRATE / "src" / "runtime" / f"{name}.rs").read_text() == source
        code = source.split("#[cfg(test)]")[0]
        assert not re.search(r"\.unwrap\(\)|\.expect\(|panic!|unreachable!", code), name
    operations = (CRATE / "src" / "operations.rs").read_text()
    assert not re.search(r"\.unwrap\(\)|\.expect\(|panic!", operations)


def test_readme_is_the_crate_doc_with_every_section() -> None:
    readme = (CRATE / "README.md").read_text()
    for section in (
        "## Install",
        "## Configure and authenticate",
        "## Errors",
        "## Retries",
        "## Pagination",
    ):
        assert section in readme
    for section in ("## Streaming", "## Downloads"):
        assert section in readme
    assert "ORCHESTRATOR_BASE_URL" in readme and "ORCHESTRATOR_API_KEY" in readme
    assert '#![doc = include_str!("../README.md")]' in (CRATE / "src" / "lib.rs").read_text()


@pytest.mark.parametrize("crate", [CRATE, ROOT / "out" / "proto" / "rust"], ids=["openapi", "proto"])
def test_readme_compiles_as_written_with_only_the_listed_dependencies(tmp_path: Path, crate: Path) -> None:
    """A user's crate: its [dependencies] are the README's install section as printed (the SDK
    itself taken from its folder, since it is not on crates.io), and each Rust block of the README
    a file of its own, exactly as shown (a block without `fn main` is a set of items: the file gets
    an empty main). No hidden `# ` lines: GitHub and crates.io show them."""
    readme = (crate / "README.md").read_text()
    package = tomllib.loads((crate / "Cargo.toml").read_text())["package"]
    [install] = re.findall(r"## Install\n\n```toml\n(.*?)```", readme, flags=re.S)
    sdk_line = f'{package["name"]} = "{package["version"]}"\n'
    assert sdk_line in install
    dependencies = install.replace(sdk_line, f"{package['name']} = {{ path = {json.dumps(str(crate))} }}\n")
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "readme-user"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        + dependencies
    )
    blocks = re.findall(r"```rust[^\n]*\n(.*?)```", readme, flags=re.S)
    assert len(blocks) >= 5
    (tmp_path / "examples").mkdir()
    for number, block in enumerate(blocks):
        assert not re.search(r"^\s*# ", block, flags=re.M), block  # nothing hidden
        tail = "" if "fn main(" in block else "\nfn main() {}\n"
        (tmp_path / "examples" / f"block{number}.rs").write_text(block + tail)
    _cargo("build", "--examples", "--quiet", cwd=tmp_path)


# Quality gates ----------------------------------------------------------------------------------


def test_tests_and_doctests_run_and_no_openssl() -> None:
    # cargo fmt --check and clippy -D warnings on this crate run in test_compile.py.
    output = _cargo("test", "--quiet")
    assert "0 failed" in output
    # Runtime unit tests and the README's doctests both ran.
    counts = [int(n) for n in re.findall(r"test result: ok\. (\d+) passed", output)]
    assert len(counts) >= 2 and min(counts) > 0, output
    # rustls only: no OpenSSL anywhere in the dependency tree.
    tree = _cargo("tree", "--edges", "normal", "--prefix", "none")
    assert "reqwest" in tree and "rustls" in tree
    assert "openssl" not in tree and "native-tls" not in tree


def test_the_native_tls_feature_swaps_the_tls_backend() -> None:
    """`default-features = false, features = ["native-tls"]`, as the README says: the crate builds
    on the platform's TLS, and rustls is gone from the tree."""
    features = ("--no-default-features", "--features", "native-tls")
    tree = _cargo("tree", "--edges", "normal", "--prefix", "none", *features)
    crates = {line.split()[0] for line in tree.splitlines() if line.strip()}
    assert "native-tls" in crates and not {"rustls", "hyper-rustls", "tokio-rustls"} & crates
    _cargo("check", "--lib", "--quiet", *features)


# Behaviour against a local server -----------------------------------------------------------------

# Server responses carry every required property: a missing one is a decode error.
AGENT = {
    "name": "n",
    "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-01-01T00:00:00Z",
    "last_heartbeat_at": None,
}
ARTIFACT = {
    "run_id": "r1",
    "filename": "f",
    "content_type": "x/y",
    "size_bytes": 1,
    "sha256": "00",
    "created_at": "2024-01-01T00:00:00Z",
    "expires_at": None,
}


# The driver program: calls the generated SDK, prints one JSON line per scenario; no assertions.
DRIVER = r"""// Drives the generated Rust SDK (out/rust) against the test's local server:
// one JSON line per scenario on stdout; all assertions live in the Python test.
use std::time::Duration;

use futures::StreamExt;
use orchestrator_sdk::{Client, Error, FilePart};
use serde_json::{json, Value};

fn out(case: &str, result: Value) {
    println!("{}", json!({ "case": case, "result": result }));
}

fn err(e: &Error) -> Value {
    json!({
        "kind": e.kind(),
        "status": e.status(),
        "attempts": e.attempts(),
        "code": e.api().and_then(|a| a.code.clone()),
        "message": e.api().map(|a| a.message.clone()),
        "request_id": e.api().and_then(|a| a.request_id.clone()),
        "title": e.api().and_then(|a| a.problem.as_ref()).and_then(|p| p.title.clone()),
        "shown": format!("{e} {e:?}"),
    })
}

fn outcome<T>(result: Result<T, Error>, ok: impl FnOnce(T) -> Value) -> Value {
    match result {
        Ok(v) => json!({ "ok": ok(v) }),
        Err(e) => json!({ "error": err(&e) }),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let base = std::env::args().nth(1).unwrap_or_default();
    let client = Client::builder()
        .base_url(format!("{base}/prefix/"))
        .bearer_token("sekrit-token")
        .initial_retry_delay(Duration::from_millis(1))
        .default_header("x-team", "qa")
        .build()
        .unwrap();
    out("client_debug", json!(format!("{client:?}")));

    let r = client.agents().delete("a/b c?#%é").send_with_response().await;
    out("delete", outcome(r, |r| json!({ "status": r.meta.status, "attempts": r.meta.attempts })));

    let ids: Vec<Value> = client
        .agents()
        .list()
        .limit(1)
        .capability(vec!["x y".to_owned(), "z".to_owned()])
        .items()
        .map(|a| a.map(|a| json!([a.id, a.status.as_str()])).unwrap_or_else(|e| err(&e)))
        .collect()
        .await;
    out("cursor_items", json!(ids));

    let ids: Vec<Value> = client
        .artifacts()
        .list_run_artifacts("r1")
        .limit(2)
        .items()
        .map(|a| a.map(|a| json!(a.id)).unwrap_or_else(|e| err(&e)))
        .collect()
        .await;
    out("offset_items", json!(ids));

    let runs: Vec<Value> = client
        .runs()
        .list()
        .limit(1)
        .items()
        .map(|r| r.map(|r| json!([r.id, r.last_sequence])).unwrap_or_else(|e| err(&e)))
        .collect()
        .await;
    out("link_items", json!(runs));

    let r = client.agents().get("missing").send().await;
    out("not_found", outcome(r, |a| json!(a.id)));

    let agent = serde_json::from_value(json!({
        "id": "a1", "name": "n", "status": "online",
        "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"
    }))
    .unwrap();
    let r = client.agents().register(agent).send_with_response().await;
    out("retried", outcome(r, |r| json!({ "attempts": r.meta.attempts, "id": r.data.id })));

    let r = client.health().get().send().await;
    out("health", outcome(r, |_| json!(true)));
    let r = client.health().get_metrics().send().await;
    out("metrics", outcome(r, |text| json!(text)));

    let token = serde_json::from_value(json!({
        "grant_type": "client_credentials", "client_id": "c", "client_secret": "s&t"
    }))
    .unwrap();
    let r = client.auth().create_access_token(token).send().await;
    out("token", outcome(r, |t| json!(t.access_token)));

    let r = client.runs().stream_events("r1").send().await;
    let events = match r {
        Ok(stream) => {
            let events: Vec<Value> = stream
                .map(|e| match e {
                    Ok(e) => json!({
                        "event": e.event,
                        "id": e.id,
                        "started": matches!(e.data, orchestrator_sdk::RunEvent::RunStarted(_)),
                        "data": serde_json::to_value(&e.data).ok(),
                    }),
                    Err(e) => err(&e),
                })
                .collect()
                .await;
            json!({ "ok": events })
        }
        Err(e) => json!({ "error": err(&e) }),
    };
    out("sse", events);

    let r = client
        .artifacts()
        .upload("r1", "f.bin", vec![0u8, 1, 2, 255])
        .send()
        .await;
    out("upload", outcome(r, |a| json!(a.id)));
    let file = FilePart::new(b"hello".to_vec()).filename("h.txt");
    let r = client.artifacts().upload_multipart("r1", file).send().await;
    out("multipart", outcome(r, |a| json!(a.id)));

    let r = client.artifacts().download("x").send().await;
    let bytes = match r {
        Ok(body) => {
            let chunks: Vec<_> = body.into_stream().collect().await;
            let mut all = Vec::new();
            for chunk in chunks {
                all.extend_from_slice(&chunk.unwrap_or_default());
            }
            json!({ "ok": all })
        }
        Err(e) => json!({ "error": err(&e) }),
    };
    out("download", bytes);

    let r = client.agents().get("x").header("x-evil", "a\r\nb").send().await;
    out("injection", outcome(r, |a| json!(a.id)));

    let r = client
        .agents()
        .get("slow")
        .timeout(Duration::from_millis(200))
        .max_retries(0)
        .send()
        .await;
    out("timeout", outcome(r, |a| json!(a.id)));
}
"""


class Journal:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.register_calls = 0


def _handler(journal: Journal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {"content-type": "application/json"}).items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
            self._reply(
                status, json.dumps(value).encode(), {"content-type": "application/json", **(headers or {})}
            )

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            entry = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
            with journal.lock:
                journal.requests.append(entry)
            path = self.path.removeprefix("/prefix")
            route = path.split("?")[0]
            if self.command == "DELETE":
                self._reply(204, b"", {})
            elif route == "/v1/agents" and self.command == "GET":
                if "cursor=" in path:
                    page = {
                        "data": [{**AGENT, "id": "a2", "status": "hibernating"}],
                        "next_cursor": None,
                        "has_more": False,
                    }
                else:
                    page = {
                        "data": [{**AGENT, "id": "a1", "status": "online"}],
                        "next_cursor": "c/2",
                        "has_more": True,
                    }
                self._json(200, page)
            elif route == "/v1/runs/r1/artifacts" and self.command == "GET":
                offset = int(re.search(r"offset=(\d+)", path).group(1)) if "offset=" in path else 0  # type: ignore[union-attr]
                ids = [f"f{i}" for i in range(offset, min(offset + 2, 3))]
                data = [{**ARTIFACT, "id": i} for i in ids]
                self._json(200, {"data": data, "total": 3, "offset": offset, "limit": 2})
            elif route == "/v1/runs" and self.command == "GET":
                run = {
                    "plan_id": "p",
                    "agent_id": "a",
                    "status": "running",
                    "priority": 1,
                    "last_sequence": 9007199254740993,
                    "cost_usd": 0.5,
                    "usage_by_model": {},
                    "created_at": "2024-01-01T00:00:00Z",
                    "started_at": None,
                    "completed_at": None,
                    "failure": None,
                }
                if "cursor=2" in path:
                    self._json(200, [{**run, "id": "r2"}])
                else:
                    link = '</prefix/v1/runs?cursor=2&limit=1>; rel="next"'
                    self._json(200, [{**run, "id": "r1"}], {"link": link})
            elif route == "/v1/agents/missing":
                problem = {
                    "type": "about:blank",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "no such agent",
                    "code": "agent_not_found",
                }
                self._json(
                    404, problem, {"content-type": "application/problem+json", "x-request-id": "req-404"}
                )
            elif route == "/v1/agents/slow":
                time.sleep(1.0)
                self._json(200, {**AGENT, "id": "slow", "status": "online"})
            elif route == "/v1/agents" and self.command == "POST":
                journal.register_calls += 1
                if journal.register_calls == 1:
                    self._json(503, {"title": "busy"}, {"retry-after": "0"})
                else:
                    self._json(201, {**AGENT, "id": "a1", "status": "online"})
            elif route == "/health":
                self._json(200, {"status": "ok", "version": "1", "checks": {}})
            elif route == "/metrics":
                self._reply(200, b"up 1\n", {"content-type": "text/plain"})
            elif route == "/v1/auth/token":
                self._json(200, {"access_token": "t0k", "token_type": "Bearer", "expires_in": 60})
            elif route == "/v1/runs/r1/events:stream":
                started = {
                    "type": "run.started",
                    "sequence": 1,
                    "run_id": "r1",
                    "occurred_at": "2024-01-01T00:00:00Z",
                    "agent_id": "a",
                }
                stream = b': hi\n\nevent: custom\nid: 7\ndata: {"type":"x.custom",\ndata: "n":1}\n\n'
                stream += b"id: 8\ndata: " + json.dumps(started).encode() + b"\n\n"
                self._reply(200, stream, {"content-type": "text/event-stream"})
            elif route in ("/v1/runs/r1/artifacts", "/v1/runs/r1/artifacts:multipart"):
                self._json(201, {**ARTIFACT, "id": "up"})
            elif route == "/v1/artifacts/x/content":
                self._reply(200, bytes([9, 8, 7]), {"content-type": "application/octet-stream"})
            else:
                self._json(500, {"title": f"unexpected {self.command} {path}"}, {"x-should-retry": "false"})

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle  # noqa: N815

    return Handler


@pytest.fixture(scope="module")
def driven(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Journal]]:
    require_tool("cargo")
    crate = tmp_path_factory.mktemp("rust-driver")
    (crate / "src").mkdir()
    (crate / "src" / "main.rs").write_text(DRIVER)
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "driver"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        "[dependencies]\n"
        f"orchestrator-sdk = {{ path = {json.dumps(str(CRATE))} }}\n"
        'futures = { version = "0.3", default-features = false, features = ["std"] }\n'
        'serde_json = "1"\n'
        'tokio = { version = "1", features = ["macros", "rt"] }\n'
    )
    _cargo("build", "--quiet", cwd=crate)
    journal = Journal()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(journal))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        binary = CARGO_TARGET / "debug" / "driver"
        run = subprocess.run(
            [str(binary), f"http://127.0.0.1:{server.server_address[1]}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr[-4000:]
        results = {}
        for line in run.stdout.splitlines():
            item = json.loads(line)
            results[item["case"]] = item["result"]
        yield results, journal
    finally:
        server.shutdown()


def _requests(journal: Journal, route: str) -> list[dict[str, Any]]:
    return [r for r in journal.requests if r["path"].split("?")[0] == "/prefix" + route]


def test_path_is_one_segment_with_auth_user_agent_and_default_headers(driven: Any) -> None:
    results, journal = driven
    assert results["delete"] == {"ok": {"status": 204, "attempts": 1}}
    (request,) = [r for r in journal.requests if r["method"] == "DELETE"]
    assert request["path"] == "/prefix/v1/agents/a%2Fb%20c%3F%23%25%C3%A9"
    assert request["headers"]["authorization"] == "Bearer sekrit-token"
    assert request["headers"]["user-agent"] == "orchestrator-sdk/0.1.0 (rust)"
    assert request["headers"]["x-team"] == "qa"
    assert "sekrit" not in results["client_debug"]


def test_cursor_pagination_streams_every_item_with_open_enums(driven: Any) -> None:
    results, journal = driven
    assert results["cursor_items"] == [["a1", "online"], ["a2", "hibernating"]]
    first, second = _requests(journal, "/v1/agents")[:2]
    # explode: false in the contract: one comma-separated value
    assert first["path"] == "/prefix/v1/agents?limit=1&capability=x%20y%2Cz"
    assert second["path"] == "/prefix/v1/agents?cursor=c%2F2&limit=1&capability=x%20y%2Cz"


def test_offset_pagination_stops_at_the_total(driven: Any) -> None:
    results, journal = driven
    assert results["offset_items"] == ["f0", "f1", "f2"]
    paths = [r["path"] for r in _requests(journal, "/v1/runs/r1/artifacts") if r["method"] == "GET"]
    assert paths == ["/prefix/v1/runs/r1/artifacts?limit=2", "/prefix/v1/runs/r1/artifacts?offset=2&limit=2"]


def test_link_pagination_follows_the_next_link_with_exact_int64(driven: Any) -> None:
    results, journal = driven
    assert results["link_items"] == [["r1", 9007199254740993], ["r2", 9007199254740993]]
    paths = [r["path"] for r in _requests(journal, "/v1/runs")]
    assert paths == ["/prefix/v1/runs?limit=1", "/prefix/v1/runs?cursor=2&limit=1"]
    assert all(r["headers"]["authorization"] == "Bearer sekrit-token" for r in _requests(journal, "/v1/runs"))


def test_problem_json_errors_are_typed(driven: Any) -> None:
    results, _ = driven
    error = results["not_found"]["error"]
    assert error["kind"] == "api" and error["status"] == 404 and error["attempts"] == 1
    assert error["code"] == "agent_not_found" and error["message"] == "no such agent"
    assert error["request_id"] == "req-404" and error["title"] == "Not Found"
    assert "sekrit" not in error["shown"]


def test_retry_reuses_the_idempotency_key(driven: Any) -> None:
    results, journal = driven
    assert results["retried"] == {"ok": {"attempts": 2, "id": "a1"}}
    posts = [r for r in _requests(journal, "/v1/agents") if r["method"] == "POST"]
    keys = [r["headers"].get("idempotency-key") for r in posts]
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    sent = json.loads(posts[0]["body"])
    assert sent["name"] == "n" and "status" not in sent and "id" not in sent  # read-only: never sent


def test_public_operations_send_no_credentials_and_text_and_form_work(driven: Any) -> None:
    results, journal = driven
    assert results["health"] == {"ok": True}
    assert results["metrics"] == {"ok": "up 1\n"}
    assert results["token"] == {"ok": "t0k"}
    for route in ("/health", "/metrics", "/v1/auth/token"):
        (request,) = _requests(journal, route)
        assert "authorization" not in request["headers"]
    (metrics,) = _requests(journal, "/metrics")
    assert metrics["headers"]["accept"].startswith("text/plain")
    (token,) = _requests(journal, "/v1/auth/token")
    assert token["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert token["body"] == b"grant_type=client_credentials&client_id=c&client_secret=s%26t"  # schema order


def test_server_sent_events_are_parsed_and_typed(driven: Any) -> None:
    results, journal = driven
    unknown, started = results["sse"]["ok"]
    assert unknown["event"] == "custom" and unknown["id"] == "7" and not unknown["started"]
    assert unknown["data"] == {"type": "x.custom", "n": 1}  # an unknown variant keeps its JSON
    assert started["event"] == "message" and started["id"] == "8" and started["started"]
    (request,) = _requests(journal, "/v1/runs/r1/events:stream")
    assert request["headers"]["accept"] == "text/event-stream"


def test_uploads_and_streaming_download(driven: Any) -> None:
    results, journal = driven
    assert results["upload"] == {"ok": "up"} and results["multipart"] == {"ok": "up"}
    upload = next(r for r in _requests(journal, "/v1/runs/r1/artifacts") if r["method"] == "POST")
    assert upload["path"] == "/prefix/v1/runs/r1/artifacts?filename=f.bin"
    assert upload["body"] == bytes([0, 1, 2, 255])
    assert upload["headers"]["content-type"] == "application/octet-stream"
    assert upload["headers"]["idempotency-key"]
    (multipart,) = _requests(journal, "/v1/runs/r1/artifacts:multipart")
    assert multipart["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="h.txt"' in multipart["body"] and b"hello" in multipart["body"]
    assert results["download"] == {"ok": [9, 8, 7]}


def test_refused_headers_and_timeouts(driven: Any) -> None:
    results, journal = driven
    assert results["injection"]["error"]["kind"] == "invalid_request"
    assert not _requests(journal, "/v1/agents/x")
    error = results["timeout"]["error"]
    assert error["kind"] == "timeout" and error["attempts"] == 1


# The protobuf contract: Connect unary calls, server streams and body-cursor pages ------------------

# A scripted HTTP/1.1 server on 127.0.0.1 (one reply per connection, in order; requests recorded)
# and the generated SDK's Connect operations; the assertions are Rust's own.
CONNECT_TEST = r"""
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use orchestrator_connect_test_sdk::models::*;
use orchestrator_connect_test_sdk::{Client, Error};

struct Seen {
    head: String,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

fn reply(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let length = body.len();
    let head = format!("HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\n");
    let mut out = format!("{head}content-length: {length}\r\nconnection: close\r\n\r\n").into_bytes();
    out.extend_from_slice(body);
    out
}

fn frame(flags: u8, json: &str) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(&(json.len() as u32).to_be_bytes());
    out.extend_from_slice(json.as_bytes());
    out
}

fn serve(replies: Vec<Vec<u8>>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for bytes in replies {
            let (mut stream, _) = listener.accept().unwrap();
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            let end = loop {
                if let Some(pos) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                    break pos;
                }
                let n = stream.read(&mut buf).unwrap();
                data.extend_from_slice(&buf[..n]);
            };
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let mut seen = Seen { head, body: data[end + 4..].to_vec() };
            let length: usize = seen.header("content-length").map_or(0, |v| v.parse().unwrap());
            while seen.body.len() < length {
                let n = stream.read(&mut buf).unwrap();
                seen.body.extend_from_slice(&buf[..n]);
            }
            log.lock().unwrap().push(seen);
            stream.write_all(&bytes).unwrap();
        }
    });
    (url, seen)
}

fn client(url: &str) -> Client {
    Client::builder().base_url(url).bearer_token("tok").build().unwrap()
}

const STREAM: &str = "application/connect+json";

#[tokio::test]
async fn unary_calls_and_their_errors() {
    let details = r#"{"code":"not_found","message":"gone","details":[{"type":"t","value":"AA=="}]}"#;
    let (url, seen) = serve(vec![
        reply(200, "application/json", br#"{"id":"m1","agentId":"a1","future":1}"#),
        reply(404, "application/json", details.as_bytes()),
    ]);
    let c = client(&url);
    let request = GetMessageRequest { message_id: Some("m1".to_owned()), ..Default::default() };
    let message = c.messaging().get_message(request.clone()).send().await.unwrap();
    assert_eq!(message.id.as_deref(), Some("m1"));
    assert_eq!(message.extra.get("future"), Some(&serde_json::json!(1)));
    let err = c.messaging().get_message(request).send().await.unwrap_err();
    let api = err.api().expect("an API error");
    assert_eq!((api.status, api.code.as_deref(), api.message.as_str()), (404, Some("not_found"), "gone"));
    assert_eq!(api.details, Some(serde_json::json!([{"type": "t", "value": "AA=="}])));
    let seen = seen.lock().unwrap();
    assert!(seen[0].head.starts_with("POST /polysdk.orchestrator.v1.MessagingService/GetMessage "));
    assert_eq!(seen[0].header("connect-protocol-version").as_deref(), Some("1"));
    assert_eq!(seen[0].header("content-type").as_deref(), Some("application/json"));
    assert_eq!(seen[0].body, br#"{"messageId":"m1"}"#);
}

#[tokio::test]
async fn server_streams_deliver_messages_then_their_end() {
    let mut ok = frame(0, r#"{"id":"m1"}"#);
    ok.extend(frame(0, r#"{"id":"m2"}"#));
    ok.extend(frame(2, "{}"));
    let mut failed = frame(0, r#"{"sequence":"9007199254740993","runId":"r1"}"#);
    failed.extend(frame(2, r#"{"error":{"code":"unavailable","message":"later"}}"#));
    let (url, seen) = serve(vec![reply(200, STREAM, &ok), reply(200, STREAM, &failed)]);
    let c = client(&url);
    let watch = WatchMessagesRequest { agent_id: Some("a1".to_owned()), ..Default::default() };
    let messages: Vec<_> = c.messaging().watch_messages(watch).send().await.unwrap().collect().await;
    let ids: Vec<_> = messages.into_iter().map(|m| m.unwrap().id.unwrap()).collect();
    assert_eq!(ids, ["m1", "m2"]);
    let events = StreamRunEventsRequest {
        run_id: Some("r1".to_owned()),
        after_sequence: Some(5),
        ..Default::default()
    };
    let timeout = std::time::Duration::from_secs(9);
    let mut stream = c.run_event().stream(events).timeout(timeout).send().await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.sequence, Some(9_007_199_254_740_993));
    assert_eq!(serde_json::to_value(&first).unwrap()["sequence"], "9007199254740993");
    let err: Error = stream.next().await.unwrap().unwrap_err();
    let api = err.api().expect("an API error");
    assert_eq!((api.status, api.code.as_deref()), (503, Some("unavailable")));
    assert!(stream.next().await.is_none());
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].header("content-type").as_deref(), Some(STREAM));
    assert_eq!(seen[0].body, frame(0, r#"{"agentId":"a1"}"#));
    assert_eq!(seen[1].body, frame(0, r#"{"runId":"r1","afterSequence":"5"}"#));
    assert_eq!(seen[1].header("connect-timeout-ms").as_deref(), Some("9000"));
}

#[tokio::test]
async fn pages_carry_their_cursor_in_the_body_and_end_on_an_empty_token() {
    let (url, seen) = serve(vec![
        reply(200, "application/json", br#"{"events":[{"sequence":"1"}],"nextPageToken":"t2"}"#),
        reply(200, "application/json", br#"{"events":[{"sequence":2}],"nextPageToken":""}"#),
    ]);
    let c = client(&url);
    let request = ListRunEventsRequest {
        run_id: Some("r1".to_owned()),
        page_size: Some(1),
        ..Default::default()
    };
    let items: Vec<_> = c.run_event().list(request).items().collect().await;
    let sequences: Vec<_> = items.into_iter().map(|e| e.unwrap().sequence.unwrap()).collect();
    assert_eq!(sequences, [1, 2]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, br#"{"runId":"r1","pageSize":1}"#);
    assert_eq!(seen[1].body, br#"{"runId":"r1","pageSize":1,"pageToken":"t2"}"#);
}
"""


def test_proto_sdk_speaks_connect(tmp_path: Path) -> None:
    from polysdk.generate import Request, generate
    from polysdk.plan import Options

    from .conftest import PROTO_SPEC

    require_tool("cargo")
    # A crate name of its own: the target directory is shared, and a second root crate named
    # `orchestrator-sdk` would overwrite out/rust's build of that name (same metadata hash), so
    # that later builds of out/rust would link this crate instead.
    options = Options(package_name="orchestrator-connect-test")
    generate(Request(spec=PROTO_SPEC, out_dir=tmp_path, languages=("rust",), options=options))
    crate = tmp_path / "rust"
    (crate / "tests").mkdir()
    (crate / "tests" / "connect.rs").write_text(CONNECT_TEST)
    output = _cargo("test", "--test", "connect", cwd=crate)
    assert "test result: ok. 3 passed" in output
