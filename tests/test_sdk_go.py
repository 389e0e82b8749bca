# ruff: noqa: E501  (the embedded Go behaviour test is gofmt-formatted, not wrapped at 110)
"""The Go SDK's quality gates and behaviour, run in CI.

Here: staticcheck and go test -race on the committed out/go (the hand-written runtime's own tests,
the README's Example functions, and the behaviour tests below, which drive the generated
orchestrator client against an httptest server), doc comments on every exported symbol, and
staticcheck on every other generated contract but the two largest. gofmt and go vet over all of
them run in test_compile.py. Skips locally when a tool is missing; fails in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from polysdk.generate import Request, generate
from polysdk.plan import Options
from polysdk.views import go as go_view

from .conftest import CORPUS_SPECS, GENERATED_SPECS, ROOT, require_tool

pytestmark = pytest.mark.toolchain

OUT = ROOT / "out" / "go"
# The committed SDKs: the OpenAPI contract's and the proto contract's pass the same gates.
COMMITTED = {"openapi": OUT, "proto": ROOT / "out" / "proto" / "go"}
RUNTIME = ROOT / "templates" / "go" / "runtime"
# staticcheck costs seconds of CPU per module: over the whole corpus (50 contracts, one module
# each) it would add minutes to every run, for checks go vet and the compile tier mostly make.
# It runs on the small and compile specs and on these corpus contracts, the edge cases among them.
STATICCHECKED_CORPUS = {
    "oag-3_0__allOf_composition_discriminator",
    "oag-3_0__oneOfDiscriminator",
    "oag-3_0__schema-with-special-characters",
    "oag-3_0__sse",
    "oag-3_1__null-types-with-type-array",
    "petstore-3_0",
}


def _staticcheck() -> str:
    # The environment variable may hold a path relative to the checkout; commands run elsewhere.
    return str(Path(require_tool("staticcheck", env_var="POLYSDK_STATICCHECK")).resolve())


def _run(argv: list[str], cwd: Path, timeout: int = 900) -> str:
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout, env={**os.environ}
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, f"{' '.join(argv)} failed in {cwd}:\n{output[-6000:]}"
    return output


def test_runtime_is_gofmt_clean() -> None:
    # out/go and every generated contract are checked by gofmt and go vet in test_compile.py.
    assert _run([require_tool("gofmt"), "-l", "."], RUNTIME) == ""


@pytest.mark.parametrize("contract", sorted(COMMITTED))
def test_staticcheck_is_clean(contract: str) -> None:
    _run([_staticcheck(), "./..."], COMMITTED[contract])


def test_go_test_race(tmp_path: Path) -> None:
    """The runtime tests, the README examples and the behaviour tests, with the race detector."""
    go = require_tool("go")
    sdk = tmp_path / "go"
    shutil.copytree(OUT, sdk)
    (sdk / "behaviour_test.go").write_text(BEHAVIOUR_TEST, encoding="utf-8")
    output = _run([go, "test", "-race", "-count=1", "-v", "./..."], sdk)
    for name in ("Example_errors", "Example_retries", "Example_pagination", "Example_streaming"):
        assert f"--- PASS: {name}" in output, f"{name} did not run"
    for name in (
        "TestGeneratedRequestsOnTheWire",
        "TestGeneratedErrorsAndRetries",
        "TestGeneratedPaginationAndStreaming",
    ):
        assert f"--- PASS: {name}" in output, f"{name} did not run"


def test_every_runtime_file_is_shipped() -> None:
    shipped = {p.name for p in RUNTIME.glob("*.go")}
    assert shipped == set(go_view.RUNTIME_FILES)
    assert all((OUT / name).exists() for name in shipped)
    assert (OUT / "README.md").exists() and (OUT / "example_test.go").exists()


def test_the_readme_examples_are_the_example_functions_go_test_runs() -> None:
    """Each README example after the first program (compiled as printed in test_packaging.py) is,
    line for line, the body of an Example function in example_test.go, which `go test` runs and
    checks the output of: the README cannot drift from code that compiles and works."""
    readme = (OUT / "README.md").read_text(encoding="utf-8")
    examples = (OUT / "example_test.go").read_text(encoding="utf-8")
    blocks = re.findall(r"```go\n(.*?)```", readme, flags=re.S)
    assert blocks[0].startswith("package main\n") and len(blocks) >= 5
    for block in blocks[1:]:
        body = "".join(f"\t{line}\n" if line else "\n" for line in block.rstrip("\n").split("\n"))
        assert body in examples, block


def test_runtime_exports_are_reserved() -> None:
    """Every exported identifier of the runtime is in RUNTIME_EXPORTS, so that no schema, params or
    service type can take its name."""
    declared: set[str] = set()
    pattern = re.compile(r"^(?:func|type|var|const)\s+([A-Z]\w*)|^\t([A-Z]\w*)\s+(?:error\s+)?=", re.M)
    for path in RUNTIME.glob("*.go"):
        if path.name.endswith("_test.go"):
            continue
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            declared.add(match.group(1) or match.group(2))
    assert declared, "no exported identifiers found"
    assert declared <= set(go_view.RUNTIME_EXPORTS), sorted(declared - set(go_view.RUNTIME_EXPORTS))


def test_go_mod_is_standard_library_only() -> None:
    text = (OUT / "go.mod").read_text(encoding="utf-8")
    assert "require" not in text
    assert re.search(r"^go 1\.(2[3-9]|[3-9]\d)", text, re.M)


_DECLARATION = re.compile(r"^(?:func (?:\([^)]*\) )?|type )([A-Z]\w*)")


def _undocumented(directory: Path) -> list[str]:
    """Exported declarations (functions, methods, types, block constants and variables) of the
    non-test files that have no doc comment right above them."""
    missing = []
    for path in sorted(directory.glob("*.go")):
        if path.name.endswith("_test.go"):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        in_block = False
        for index, line in enumerate(lines):
            if re.match(r"^(const|var) \($", line):
                in_block = True
                continue
            if in_block and line == ")":
                in_block = False
                continue
            exported = _DECLARATION.match(line) or (in_block and re.match(r"^\t([A-Z]\w*)\b", line))
            if exported and not (index and lines[index - 1].strip().startswith("//")):
                missing.append(f"{path.name}:{index + 1}: {line.strip()[:80]}")
    return missing


@pytest.mark.parametrize("contract", sorted(COMMITTED))
def test_every_exported_symbol_has_a_doc_comment(contract: str) -> None:
    assert _undocumented(COMMITTED[contract]) == []


@pytest.mark.parametrize("name", sorted(GENERATED_SPECS))
def test_generated_go_is_documented_and_staticcheck_clean(name: str, generated: dict[str, Path]) -> None:
    """gofmt, go vet and go test of these run in test_compile.py; here the Go-specific extras."""
    sdk = generated[name] / "go"
    assert _undocumented(sdk) == []
    if name not in CORPUS_SPECS or name in STATICCHECKED_CORPUS:
        _run([_staticcheck(), "./..."], sdk)


def test_a_contract_without_operations_compiles(tmp_path: Path) -> None:
    go = require_tool("go")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: Empty, version: '1'}\npaths: {}\n"
        "components: {schemas: {Thing: {type: object, properties: {a: {type: string}}}}}\n",
        encoding="utf-8",
    )
    generate(Request(spec=spec, out_dir=tmp_path / "out", languages=("go",)))
    sdk = tmp_path / "out" / "go"
    _run([go, "vet", "./..."], sdk)
    _run([_staticcheck(), "./..."], sdk)
    _run([go, "test", "-count=1", "./..."], sdk)


BEHAVIOUR_TEST = r"""package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// seen is one request as the fake server received it.
type seen struct {
	method, rawPath, query string
	header                 http.Header
	body                   string
}

type fake struct {
	mu   sync.Mutex
	reqs []seen
}

func (f *fake) last(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("no request")
	}
	return f.reqs[len(f.reqs)-1]
}

func start(t *testing.T, handler func(n int, w http.ResponseWriter, r *http.Request)) (*fake, *Client) {
	t.Helper()
	f := &fake{}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), string(data)})
		n := len(f.reqs)
		f.mu.Unlock()
		handler(n, w, r)
	}))
	t.Cleanup(server.Close)
	t.Setenv(EnvAPIKey, "")
	t.Setenv(EnvBearerToken, "")
	t.Setenv(EnvBaseURL, "")
	return f, NewClient(WithBaseURL(server.URL+"/t/token"), WithBearerToken("tok_secret"), WithTimeout(5*time.Second))
}

// agentJSON is an Agent with every required property (the SDK refuses one without them).
func agentJSON(id, name string) string {
	return `{"id":"` + id + `","name":"` + name + `","status":"online","created_at":"2025-01-14T09:30:00Z","updated_at":"2025-01-14T09:30:00Z","last_heartbeat_at":null}`
}

// runJSON is a Run with every required property.
func runJSON(id string) string {
	return `{"id":"` + id + `","plan_id":"p","agent_id":"a","status":"queued","priority":1,"last_sequence":0,"cost_usd":0,"usage_by_model":{},"created_at":"2025-01-14T09:30:00Z","started_at":null,"completed_at":null,"failure":null}`
}

// artifactJSON is an Artifact with every required property.
func artifactJSON(id string) string {
	return `{"id":"` + id + `","run_id":"r","filename":"a.txt","content_type":"text/plain","size_bytes":1,"sha256":"00","created_at":"2025-01-14T09:30:00Z","expires_at":null}`
}

func jsonReply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func TestGeneratedRequestsOnTheWire(t *testing.T) {
	f, client := start(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/metrics"):
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "up 1\n")
		case strings.HasSuffix(r.URL.Path, "/content"):
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = io.WriteString(w, "\x00\x01binary")
		case strings.HasSuffix(r.URL.Path, "messages:wait"):
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/health"):
			jsonReply(w, 200, `{"status":"ok","version":"1","checks":{}}`)
		default:
			jsonReply(w, 200, `{"id":"agt_1","name":"n","status":"some-future-status","created_at":"2025-01-14T09:30:00Z","updated_at":"2025-01-14T09:30:00Z","last_heartbeat_at":null,"unknown_field":true,"last_sequence":9007199254740993}`)
		}
	})
	ctx := context.Background()

	agent, err := client.Agents.Get(ctx, GetAgentParams{AgentID: "a/b?c#d %é"})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.last(t); got.rawPath != "/t/token/v1/agents/a%2Fb%3Fc%23d%20%25%C3%A9" || got.header.Get("Authorization") != "Bearer tok_secret" {
		t.Errorf("get agent: %s %v", got.rawPath, got.header)
	}
	if agent.Status != AgentStatus("some-future-status") {
		t.Errorf("an unknown enum value was not kept: %q", agent.Status)
	}
	if ua := f.last(t).header.Get("User-Agent"); ua != UserAgent || !strings.HasSuffix(ua, " (go)") {
		t.Errorf("user agent %q", ua)
	}

	limit := int32(2)
	_, _ = client.Agents.List(ctx, ListAgentsParams{Limit: &limit, Status: []AgentStatus{"online", "busy"}, Capability: []string{"a", "b"}, Labels: map[string]string{"team": "r"}})
	if q := f.last(t).query; q != "limit=2&status=online&status=busy&capability=a,b&labels%5Bteam%5D=r" {
		t.Errorf("list agents query %s", q)
	}
	after := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	_, _ = client.Runs.List(ctx, ListRunsParams{Status: []RunStatus{"running", "queued"}, AgentIds: []string{"x", "y"}, CreatedAfter: &after})
	if q := f.last(t).query; q != "status=running%7Cqueued&agent_ids=x%20y&created_after=2025-02-01T00%3A00%3A00Z" {
		t.Errorf("list runs query %s", q)
	}

	_, _ = client.Agents.Update(ctx, UpdateAgentParams{AgentID: "a", Body: AgentUpdate{Description: Null[string](), MaxConcurrency: Value(int32(8))}})
	if got := f.last(t); got.body != `{"description":null,"max_concurrency":8}` || got.header.Get("Content-Type") != "application/merge-patch+json" {
		t.Errorf("merge patch %s %q", got.body, got.header.Get("Content-Type"))
	}

	_, _ = client.Auth.CreateAccessToken(ctx, CreateAccessTokenParams{Body: TokenRequest{GrantType: "client_credentials", ClientID: "id", ClientSecret: "s"}})
	if got := f.last(t); got.body != "grant_type=client_credentials&client_id=id&client_secret=s" || got.header.Get("Authorization") != "" {
		t.Errorf("token: %s, authorization %q", got.body, got.header.Get("Authorization"))
	}

	if text, err := client.Health.GetMetrics(ctx); err != nil || text != "up 1\n" {
		t.Errorf("metrics %q %v", text, err)
	}
	if err := client.Agents.Delete(ctx, DeleteAgentParams{AgentID: "a"}); err != nil {
		t.Errorf("delete: %v", err)
	}
	if batch, err := client.Messages.Wait(ctx, WaitForMessagesParams{AgentID: "a"}); batch != nil || err != nil {
		t.Errorf("204 long poll: %v %v", batch, err)
	}

	body, err := client.Artifacts.Download(ctx, DownloadArtifactParams{ArtifactID: "art"})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(body)
	_ = body.Close()
	if string(data) != "\x00\x01binary" {
		t.Errorf("download %q", data)
	}

	_, _ = client.Artifacts.Upload(ctx, UploadArtifactParams{RunID: "r", Filename: "a b.bin", Body: strings.NewReader("raw")})
	if got := f.last(t); got.body != "raw" || got.query != "filename=a%20b.bin" || got.header.Get("Content-Type") != "application/octet-stream" || got.header.Get("Idempotency-Key") == "" {
		t.Errorf("upload %+v", got)
	}

	name := "report.pdf"
	_, _ = client.Artifacts.UploadMultipart(ctx, UploadArtifactMultipartParams{RunID: "r", File: &File{Filename: "r.pdf", Content: strings.NewReader("%PDF")}, Metadata: &ArtifactMetadata{Filename: &name}})
	got := f.last(t)
	_, params, _ := mime.ParseMediaType(got.header.Get("Content-Type"))
	reader := multipart.NewReader(strings.NewReader(got.body), params["boundary"])
	var parts []string
	for {
		p, err := reader.NextPart()
		if err != nil {
			break
		}
		content, _ := io.ReadAll(p)
		parts = append(parts, fmt.Sprintf("%s|%s|%s|%s", p.FormName(), p.FileName(), p.Header.Get("Content-Type"), content))
	}
	if strings.Join(parts, ";") != `file|r.pdf|application/octet-stream|%PDF;metadata||application/json|{"filename":"report.pdf"}` {
		t.Errorf("multipart parts %q", parts)
	}

	if _, err := client.Health.Get(ctx); err != nil || f.last(t).header.Get("Authorization") != "" {
		t.Errorf("health must be unauthenticated: %v %q", err, f.last(t).header.Get("Authorization"))
	}
	if _, err := client.Agents.Get(ctx, GetAgentParams{}); ErrorKind(err) != "invalid_request" {
		t.Errorf("a missing path parameter: %v", err)
	}
}

func TestGeneratedErrorsAndRetries(t *testing.T) {
	f, client := start(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 2 {
			w.Header().Set("Retry-After", "0")
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("X-Request-Id", "req_9")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"type":"about:blank","title":"Too many","status":429,"code":"rate_limited","request_id":"req_9"}`)
			return
		}
		jsonReply(w, 201, agentJSON("agt_1", "n"))
	})
	var attempts int
	agent, err := client.Agents.Register(context.Background(), RegisterAgentParams{Body: Agent{Name: "n"}}, WithAttemptsInto(&attempts))
	if err != nil || agent.ID != "agt_1" || attempts != 3 {
		t.Fatalf("register: %v %v after %d attempts", agent, err, attempts)
	}
	f.mu.Lock()
	keys := []string{f.reqs[0].header.Get("Idempotency-Key"), f.reqs[1].header.Get("Idempotency-Key"), f.reqs[2].header.Get("Idempotency-Key")}
	f.mu.Unlock()
	if keys[0] == "" || keys[0] != keys[1] || keys[1] != keys[2] {
		t.Errorf("idempotency keys %q", keys)
	}
	_, err = client.Agents.Register(context.Background(), RegisterAgentParams{Body: Agent{Name: "n"}}, WithMaxRetries(0), WithIdempotencyKey("mine"))
	if err != nil || f.last(t).header.Get("Idempotency-Key") != "mine" {
		t.Errorf("explicit key: %v %q", err, f.last(t).header.Get("Idempotency-Key"))
	}

	_, client2 := start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"title":"Not found","status":404,"code":"not_found","detail":"No agent.","request_id":"req_1"}`)
	})
	_, err = client2.Agents.Get(context.Background(), GetAgentParams{AgentID: "x"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "not_found" || apiErr.RequestID != "req_1" || !errors.Is(err, ErrNotFound) {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(err.Error(), "tok_secret") {
		t.Error("credentials in the error")
	}
}

func TestGeneratedPaginationAndStreaming(t *testing.T) {
	base := ""
	_, client := start(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case strings.HasSuffix(r.URL.Path, "/v1/agents"):
			if q.Get("cursor") == "" {
				jsonReply(w, 200, `{"data":[`+agentJSON("a1", "x")+`,`+agentJSON("a2", "y")+`],"next_cursor":"c2","has_more":true}`)
			} else {
				jsonReply(w, 200, `{"data":[`+agentJSON("a3", "z")+`],"next_cursor":null,"has_more":false}`)
			}
		case strings.HasSuffix(r.URL.Path, "/v1/runs"):
			if q.Get("page_token") == "" {
				w.Header().Set("Link", "<"+base+"/t/token/v1/runs?page_token=p2>; rel=\"next\"")
				jsonReply(w, 200, "["+runJSON("r1")+"]")
			} else {
				jsonReply(w, 200, "["+runJSON("r2")+"]")
			}
		case strings.HasSuffix(r.URL.Path, "/artifacts"):
			if q.Get("offset") == "" {
				jsonReply(w, 200, `{"data":[`+artifactJSON("x1")+`,`+artifactJSON("x2")+`],"total":3,"offset":0,"limit":2}`)
			} else {
				jsonReply(w, 200, `{"data":[`+artifactJSON("x3")+`],"total":3,"offset":2,"limit":2}`)
			}
		case strings.HasSuffix(r.URL.Path, "events:stream"):
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, ": keep-alive\n\nid: 9007199254740993\nevent: step.started\ndata: {\"type\":\"step.started\",\"sequence\":9007199254740993,\"run_id\":\"r\",\"occurred_at\":\"2025-02-03T08:02:03Z\",\"step_id\":\"s\",\"step_type\":\"tool_call\"}\n\ndata: {\"type\":\"from.the.future\"}\n\n")
		}
	})
	ctx := context.Background()
	var ids []string
	for agent, err := range client.Agents.ListAll(ctx, ListAgentsParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, agent.ID)
	}
	if strings.Join(ids, ",") != "a1,a2,a3" {
		t.Errorf("cursor pagination %v", ids)
	}
	ids = nil
	for run, err := range client.Runs.ListAll(ctx, ListRunsParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, run.ID)
	}
	if strings.Join(ids, ",") != "r1,r2" {
		t.Errorf("link pagination (a relative next link) %v", ids)
	}
	ids = nil
	for artifact, err := range client.Artifacts.ListRunArtifactsAll(ctx, ListRunArtifactsParams{RunID: "r"}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, artifact.ID)
	}
	if strings.Join(ids, ",") != "x1,x2,x3" {
		t.Errorf("offset pagination %v", ids)
	}
	var kinds []string
	for event, err := range client.Runs.StreamEvents(ctx, StreamRunEventsParams{RunID: "r"}) {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case event.StepStarted != nil:
			kinds = append(kinds, fmt.Sprintf("step.started:%d", event.StepStarted.Sequence))
		case event.Unknown != nil:
			kinds = append(kinds, "unknown")
		}
	}
	if strings.Join(kinds, ",") != "step.started:9007199254740993,unknown" {
		t.Errorf("events %v", kinds)
	}
}
"""


# ---------------------------------------------------------------------------------------------
# A protobuf contract: Connect calls, a Connect stream and quoted int64, against httptest

CONNECT_PROTO = """
syntax = "proto3";
package acme.v1;
import "google/protobuf/wrappers.proto";
message Counter {
  int64 total = 1;
  optional int64 maybe = 2;
  repeated sint64 list = 3;
  map<string, fixed64> by_name = 4;
  google.protobuf.Int64Value wrapped = 5;
  int32 small = 6;
}
service CounterService {
  rpc Get(Counter) returns (Counter);
  rpc Watch(Counter) returns (stream Counter);
}
"""

CONNECT_TEST = r"""package acme

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func envelopeOf(flags byte, message string) []byte {
	out := []byte{flags, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], uint32(len(message)))
	return append(out, message...)
}

func TestGeneratedConnectCalls(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	var headers []http.Header
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(data))
		headers = append(headers, r.Header.Clone())
		n := len(bodies)
		mu.Unlock()
		switch {
		case r.URL.Path == "/acme.v1.CounterService/Get" && n == 1:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"total":"9007199254740993","maybe":5,"list":["-1",2],"byName":{"a":"3"},"wrapped":null,"small":7}`)
		case r.URL.Path == "/acme.v1.CounterService/Get":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"code":"not_found","message":"no counter","details":[{"type":"t","value":""}]}`)
		case r.URL.Path == "/acme.v1.CounterService/Watch":
			w.Header().Set("Content-Type", "application/connect+json")
			_, _ = w.Write(envelopeOf(0, `{"total":"1"}`))
			_, _ = w.Write(envelopeOf(0, `{"total":2}`))
			_, _ = w.Write(envelopeOf(2, `{"error":{"code":"resource_exhausted","message":"quota"}}`))
		}
	}))
	defer server.Close()
	ctx := context.Background()
	client := NewClient(WithBaseURL(server.URL), WithTimeout(5*time.Second))
	total := int64(1<<53 + 1)
	got, err := client.Counter.Get(ctx, GetParams{Body: Counter{Total: &total, List: []int64{-1}, Wrapped: Value[int64](4)}})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Total != 1<<53+1 || *got.Maybe != 5 || fmt.Sprint(got.List) != "[-1 2]" || got.ByName["a"] != 3 || !got.Wrapped.IsNull() || *got.Small != 7 {
		t.Errorf("decoded %+v", got)
	}
	again, _ := json.Marshal(got)
	if string(again) != `{"total":"9007199254740993","maybe":"5","list":["-1","2"],"byName":{"a":"3"},"wrapped":null,"small":7}` {
		t.Errorf("encoded again %s", again)
	}
	if bodies[0] != `{"total":"9007199254740993","list":["-1"],"wrapped":"4"}` {
		t.Errorf("request %s", bodies[0])
	}
	h := headers[0]
	if h.Get("Connect-Protocol-Version") != "1" || h.Get("Connect-Timeout-Ms") != "5000" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}

	_, err = client.Counter.Get(ctx, GetParams{})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "not_found" || apiErr.Message != "no counter" || string(apiErr.Details) != `[{"type":"t","value":""}]` || !errors.Is(err, ErrNotFound) {
		t.Errorf("error %#v", err)
	}
	if bodies[1] != `{}` {
		t.Errorf("empty message sent as %q", bodies[1])
	}

	var totals []int64
	var last error
	for c, err := range client.Counter.Watch(ctx, WatchParams{}) {
		if err != nil {
			last = err
			continue
		}
		totals = append(totals, *c.Total)
	}
	if fmt.Sprint(totals) != "[1 2]" || !errors.As(last, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != "resource_exhausted" {
		t.Errorf("stream %v, %v", totals, last)
	}
	if bodies[2] != string(envelopeOf(0, `{}`)) || headers[2].Get("Content-Type") != "application/connect+json" {
		t.Errorf("stream request %q %v", bodies[2], headers[2])
	}
}
"""


def test_a_proto_contract_speaks_connect(tmp_path: Path) -> None:
    """Connect unary calls, errors with details, a Connect stream ending in an error and quoted
    int64 in every shape, generated from a .proto and run against httptest; the driver builds."""
    go = require_tool("go")
    spec = tmp_path / "acme.proto"
    spec.write_text(CONNECT_PROTO, encoding="utf-8")
    generate(Request(spec=spec, out_dir=tmp_path / "out", languages=("go",), options=Options(drivers=True)))
    sdk = tmp_path / "out" / "go"
    (sdk / "connect_behaviour_test.go").write_text(CONNECT_TEST, encoding="utf-8")
    assert _run([require_tool("gofmt"), "-l", "."], sdk) == ""
    _run([go, "vet", "./..."], sdk)
    _run([go, "build", "-o", str(tmp_path / "driver"), "./cmd/polysdk-driver"], sdk)
    output = _run([go, "test", "-count=1", "-v", "-run", "TestGeneratedConnectCalls", "."], sdk)
    assert "--- PASS: TestGeneratedConnectCalls" in output
    assert _undocumented(sdk) == []
    _run([_staticcheck(), "./..."], sdk)
