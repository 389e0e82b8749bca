package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net/http"
	"os"
	"strings"
	"testing"

	sdk "github.com/polysdk/orchestrator-proto-sdk-go"
)

// fakeOperations replaces the generated dispatch for one test.
func fakeOperations(t *testing.T, ops map[string]func(*args) operation) {
	t.Helper()
	previous := lookupOperation
	lookupOperation = func(id string) func(*args) operation { return ops[id] }
	t.Cleanup(func() { lookupOperation = previous })
}

// capture collects the driver's output lines for one test.
func capture(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	previous := output
	output = &buf
	t.Cleanup(func() { output = previous })
	return &buf
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var v map[string]any
		decoder := json.NewDecoder(strings.NewReader(line))
		decoder.UseNumber()
		if err := decoder.Decode(&v); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, v)
	}
	return out
}

func run(t *testing.T, line string) map[string]any {
	t.Helper()
	var c caseLine
	if err := json.Unmarshal([]byte(line), &c); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(runCase(&c))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	if err := decoder.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func seqOf(values ...any) seqFunc {
	return func(context.Context, *sdk.Client, []sdk.RequestOption) iter.Seq2[any, error] {
		return func(yield func(any, error) bool) {
			for _, v := range values {
				if !yield(v, nil) {
					return
				}
			}
		}
	}
}

func TestServeWritesHelloAndAnswersEveryLine(t *testing.T) {
	buf := capture(t)
	fakeOperations(t, map[string]func(*args) operation{
		"ping": func(*args) operation {
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) {
				return map[string]any{"pong": true}, nil
			}}
		},
	})
	in := strings.Join([]string{
		`{"type": "case", "id": 1, "base_url": "http://127.0.0.1:1", "operation": "ping"}`,
		``,
		`not json`,
		`{"id": "t", "type": "other"}`,
		`{"type": "case", "operation": "ping"}`,
	}, "\r\n")
	serve(strings.NewReader(in))
	out := lines(t, buf)
	if out[0]["type"] != "hello" || out[0]["sdk"] != "go" || out[0]["sdk_name"] != sdkModule {
		t.Fatalf("hello %v", out[0])
	}
	byID := map[string]map[string]any{}
	logs := 0
	for _, line := range out[1:] {
		if line["type"] == "log" {
			logs++
			continue
		}
		id, _ := json.Marshal(line["id"])
		byID[string(id)] = line
	}
	if logs != 2 || len(byID) != 2 {
		t.Fatalf("%d logs and results %v", logs, byID)
	}
	if r := byID["1"]; r["outcome"] != "ok" || r["value"].(map[string]any)["pong"] != true {
		t.Errorf("ping: %v", r)
	}
	if r := byID[`"t"`]; r["outcome"] != "driver_error" {
		t.Errorf("unexpected type: %v", r)
	}
}

func TestReadLineSplitsLinesAndReportsEOF(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader("a\r\nbb\nccc"), 16)
	var got []string
	for {
		line, tooLong, err := readLine(r)
		if tooLong {
			t.Fatal("short lines reported too long")
		}
		got = append(got, string(line))
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	if strings.Join(got, "|") != "a|bb|ccc" {
		t.Errorf("lines %q", got)
	}
}

func TestModesAndUnsupportedOperations(t *testing.T) {
	fakeOperations(t, map[string]func(*args) operation{
		"list": func(*args) operation {
			return operation{
				call:  func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) { return []int{1}, nil },
				pages: seqOf([]int{1, 2}, []int{3}),
				items: seqOf(1, 2, 3),
			}
		},
		"events": func(*args) operation { return operation{stream: seqOf("a", "b", "c")} },
		"nope":   func(*args) operation { return operation{unsupported: "not in this SDK"} },
		"boom":   func(*args) operation { panic("bad") },
	})
	base := `"type": "case", "base_url": "http://127.0.0.1:1", `
	items := run(t, `{`+base+`"id": "i", "operation": "list", "mode": "items", "take": 2}`)
	if items["outcome"] != "ok" || len(items["items"].([]any)) != 2 {
		t.Errorf("items: %v", items)
	}
	pages := run(t, `{`+base+`"id": "p", "operation": "list", "mode": "pages"}`)
	if len(pages["pages"].([]any)) != 2 {
		t.Errorf("pages: %v", pages)
	}
	events := run(t, `{`+base+`"id": "e", "operation": "events", "mode": "stream"}`)
	if len(events["events"].([]any)) != 3 {
		t.Errorf("events: %v", events)
	}
	for line, outcome := range map[string]string{
		`"id": "a", "operation": "events"`:                              "unsupported", // a stream has no call
		`"id": "b", "operation": "events", "mode": "pages"`:             "unsupported",
		`"id": "c", "operation": "list", "mode": "sideways"`:            "unsupported",
		`"id": "d", "operation": "nope"`:                                "unsupported",
		`"id": "e", "operation": "missing"`:                             "driver_error",
		`"id": "f", "operation": "boom"`:                                "driver_error",
		`"id": "g", "operation": "list", "cancel": {"after_events": 1}`: "unsupported",
		`"id": "h", "operation": "list", "args": {"extra": 1}`:          "driver_error",
	} {
		if got := run(t, `{`+base+line+`}`); got["outcome"] != outcome {
			t.Errorf("%s: %v, want %s", line, got, outcome)
		}
	}
}

func TestArgumentDecoders(t *testing.T) {
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(`{
		"n": 9007199254740993,
		"v": {"x": [1, null]},
		"body": "aGk=",
		"file": {"base64": "aGk=", "filename": "a.txt", "content_type": "text/plain"},
		"plain": "aGk=",
		"parts": {"p": "x"},
		"key": "idem-1",
		"null": null
	}`), &raw); err != nil {
		t.Fatal(err)
	}
	a := newArgs(raw, "")
	var n int64
	var v any
	var reader io.Reader
	var file, plain, none *sdk.File
	a.decode("n", &n)
	a.decode("v", &v)
	body := a.reader("body")
	body.into(&reader)
	a.file("file").into(&file)
	a.file("plain").into(&plain)
	a.file("null").into(&none)
	var part string
	a.object("parts").decode("p", &part)
	a.idempotency("key")
	if a.err != nil {
		t.Fatal(a.err)
	}
	if n != 9007199254740993 || part != "x" || none != nil || *a.idempotencyKey != "idem-1" {
		t.Errorf("n %d, part %q, none %v, key %v", n, part, none, a.idempotencyKey)
	}
	if data, _ := json.Marshal(v); string(data) != `{"x":[1,null]}` {
		t.Errorf("any %s", data)
	}
	if data, _ := io.ReadAll(reader); string(data) != "hi" {
		t.Errorf("reader %q", data)
	}
	// Every call gets its own reader over the bytes decoded once (a load repeats a call).
	var again io.Reader
	body.into(&again)
	if data, _ := io.ReadAll(again); string(data) != "hi" {
		t.Errorf("second reader %q", data)
	}
	if file.Filename != "a.txt" || file.ContentType != "text/plain" || plain.Filename != "" {
		t.Errorf("files %+v %+v", file, plain)
	}
	if unused := a.unused(); len(unused) != 0 {
		t.Errorf("unused %v", unused)
	}
	bad := newArgs(map[string]json.RawMessage{"b": json.RawMessage(`"%%"`), "c": json.RawMessage(`3`)}, "")
	bad.reader("b")
	if bad.err == nil || !strings.Contains(bad.err.Error(), `"b"`) {
		t.Errorf("bad base64: %v", bad.err)
	}
	if unused := bad.unused(); len(unused) != 1 || unused[0] != "c" {
		t.Errorf("unused %v", unused)
	}
}

func TestErrorsAreDescribedWithTheSDKsKinds(t *testing.T) {
	api := describe(&sdk.APIError{StatusCode: 404, Code: "not_found", RequestID: "r1", Message: "gone"})
	if api.Kind != "api" || *api.Status != 404 || *api.Code != "not_found" || *api.RequestID != "r1" {
		t.Errorf("api error %+v", api)
	}
	decode := describe(&sdk.DecodeError{StatusCode: 200, Err: errors.New("bad")})
	if decode.Kind != "decode" || *decode.Status != 200 {
		t.Errorf("decode error %+v", decode)
	}
	if untyped := describe(errors.New("plain")); untyped.Kind != "untyped" || untyped.Status != nil {
		t.Errorf("untyped error %+v", untyped)
	}
	// A Connect error's details are reported raw; without details the key is left out.
	connect := describe(&sdk.APIError{StatusCode: 400, Code: "invalid_argument", Details: json.RawMessage(`[{"type":"t","value":""}]`)})
	if line, _ := json.Marshal(connect); !strings.Contains(string(line), `"details":[{"type":"t","value":""}]`) {
		t.Errorf("details %s", line)
	}
	if line, _ := json.Marshal(api); strings.Contains(string(line), `"details"`) {
		t.Errorf("details without any: %s", line)
	}
	// A deadline_exceeded the server reported keeps its status, code and details.
	timeout := describe(&sdk.TimeoutError{StatusCode: 504, Code: "deadline_exceeded", Message: "slow", Details: json.RawMessage(`[]`)})
	if timeout.Kind != "timeout" || timeout.Status == nil || *timeout.Status != 504 || timeout.Code == nil ||
		*timeout.Code != "deadline_exceeded" || string(timeout.Details) != `[]` {
		t.Errorf("timeout %+v", timeout)
	}
	// The client's own timeout has neither.
	if own := describe(&sdk.TimeoutError{Attempts: 1}); own.Status != nil || own.Code != nil || own.Details != nil {
		t.Errorf("own timeout %+v", own)
	}
}

func TestDebugTextOfAHugeBodyIsCutWithoutTouchingTheError(t *testing.T) {
	body := bytes.Repeat([]byte("a"), 1<<20)
	for _, err := range []error{
		&sdk.DecodeError{StatusCode: 200, ContentType: "application/json", Body: body, Err: errors.New("bad")},
		&sdk.APIError{StatusCode: 500, Body: body},
	} {
		text := debugText(err)
		if !strings.Contains(text, "Body:[]uint8{0x61, 0x61") || len(text) > maxDebugBytes+40 {
			t.Errorf("debug text %.80q... (%d bytes)", text, len(text))
		}
		if !strings.HasSuffix(text, " more bytes)") {
			t.Errorf("debug text not marked as cut: ...%q", text[len(text)-40:])
		}
	}
	if len(body) != 1<<20 {
		t.Errorf("the error's body was changed: %d bytes", len(body))
	}
}

func TestDownloadsSettleAsBase64AndHeadersAreLowerCased(t *testing.T) {
	value, err := settle(io.NopCloser(strings.NewReader("hi")))
	if err != nil || value.(map[string]string)["base64"] != base64.StdEncoding.EncodeToString([]byte("hi")) {
		t.Errorf("settle %v %v", value, err)
	}
	if h := headers(http.Header{"X-Request-Id": {"a", "b"}}); h["x-request-id"] != "a" {
		t.Errorf("headers %v", h)
	}
}

func TestClientEnvironmentIsRestored(t *testing.T) {
	t.Setenv("POLYSDK_DRIVER_TEST", "before")
	value := "during"
	cl := &clientOptions{Env: map[string]*string{"POLYSDK_DRIVER_TEST": &value, "POLYSDK_DRIVER_UNSET": nil}}
	client := newClient(nil, cl, &http.Transport{})
	if client == nil || os.Getenv("POLYSDK_DRIVER_TEST") != "before" {
		t.Errorf("environment not restored: %q", os.Getenv("POLYSDK_DRIVER_TEST"))
	}
	if _, set := os.LookupEnv("POLYSDK_DRIVER_UNSET"); set {
		t.Error("an unset variable was left set")
	}
	key, timeout, retries, limit := "k", 5.0, 1, int64(1024)
	opts := requestOpts(&requestOptions{TimeoutMs: &timeout, MaxRetries: &retries, IdempotencyKey: &key, MaxResponseBytes: &limit}, &key)
	if len(opts) != 5 {
		t.Errorf("%d request options, want 5", len(opts))
	}
	var c2 caseLine
	if err := json.Unmarshal([]byte(`{"client": {"max_response_bytes": 1024}, "request": {"max_response_bytes": 2048}}`), &c2); err != nil ||
		c2.Client.MaxResponseBytes == nil || *c2.Client.MaxResponseBytes != 1024 || *c2.Request.MaxResponseBytes != 2048 {
		t.Errorf("max_response_bytes not read: %v", err)
	}
}

func TestAnySeqErasesTheElementTypeAndStopsEarly(t *testing.T) {
	typed := func(yield func(int, error) bool) {
		for i := range 5 {
			if !yield(i, nil) {
				return
			}
		}
	}
	var got []any
	for value, err := range anySeq(iter.Seq2[int, error](typed)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, value)
		if len(got) == 2 {
			break
		}
	}
	if len(got) != 2 || got[1] != 1 {
		t.Errorf("values %v", got)
	}
}

// blockingOp waits for its context to end and reports the context's error.
func blockingOp(started chan<- struct{}) func(*args) operation {
	return func(*args) operation {
		return operation{call: func(ctx context.Context, _ *sdk.Client, _ []sdk.RequestOption) (any, error) {
			started <- struct{}{}
			<-ctx.Done()
			return nil, &sdk.CancelledError{Err: ctx.Err()}
		}}
	}
}

func TestCancelLinesCancelTheirCase(t *testing.T) {
	buf := capture(t)
	started := make(chan struct{}, 2)
	fakeOperations(t, map[string]func(*args) operation{"wait": blockingOp(started)})
	reader, writer := io.Pipe()
	done := make(chan struct{})
	go func() {
		serve(reader)
		close(done)
	}()
	write := func(line string) {
		if _, err := io.WriteString(writer, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"type": "case", "id": "a", "base_url": "http://127.0.0.1:1", "operation": "wait", "cancel": {"on_signal": true}}`)
	write(`{"type": "case", "id": "b", "base_url": "http://127.0.0.1:1", "operation": "wait", "cancel": {"on_signal": true}}`)
	<-started
	<-started
	write(`{"type": "cancel", "id": "unknown"}`)
	write(`{"type": "cancel", "id": "a"}`)
	write(`{"type": "cancel", "id": "a"}`) // a second cancel, or one for a finished case, is ignored
	write(`{"type": "cancel", "id": "b"}`)
	_ = writer.Close()
	<-done // the cancel lines end the cases (were they ignored, the test would hang, not pass)
	results := 0
	for _, line := range lines(t, buf)[1:] {
		if line["type"] != "result" {
			t.Errorf("unexpected line %v", line)
			continue
		}
		results++
		if line["outcome"] != "error" || line["error"].(map[string]any)["kind"] != "cancelled" {
			t.Errorf("result %v", line)
		}
	}
	if results != 2 {
		t.Errorf("%d results, want 2", results)
	}
}

func TestCancelAfterEventsKeepsPulling(t *testing.T) {
	fakeOperations(t, map[string]func(*args) operation{
		"events": func(*args) operation {
			return operation{stream: func(ctx context.Context, _ *sdk.Client, _ []sdk.RequestOption) iter.Seq2[any, error] {
				return func(yield func(any, error) bool) {
					for i := range 5 {
						if ctx.Err() != nil {
							yield(nil, &sdk.CancelledError{Err: ctx.Err()})
							return
						}
						if !yield(i, nil) {
							return
						}
					}
				}
			}}
		},
	})
	got := run(t, `{"type": "case", "id": "s", "base_url": "http://127.0.0.1:1", "operation": "events", "mode": "stream", "cancel": {"after_events": 2}}`)
	if got["outcome"] != "error" || len(got["events"].([]any)) != 2 || got["error"].(map[string]any)["kind"] != "cancelled" {
		t.Errorf("result %v", got)
	}
}
