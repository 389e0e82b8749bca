package orchestrator

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// connectRequest is a unary Connect call of /pkg.Service/Method carrying value.
func connectRequest(value any, retryable bool) *request {
	r := newRequest("POST", "/pkg.Service/Method")
	r.connect = true
	r.retryable = retryable
	r.connectBody("application/json", false, value)
	return r
}

func TestConnectUnaryHeadersAndBody(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { ok(w, `{}`) })
	for _, tc := range []struct {
		value   any
		timeout time.Duration
		body    string
		header  string
	}{
		{nil, 1500 * time.Millisecond, `{}`, "1500"},
		{map[string]any{"name": "a"}, 250*time.Millisecond + 900*time.Microsecond, `{"name":"a"}`, "250"},
		{(*testPage)(nil), 3 * time.Second, `{}`, "3000"},
		{struct{}{}, 0, `{}`, ""},
	} {
		resp, err := testCore(rec.server.URL, WithTimeout(tc.timeout)).send(context.Background(), connectRequest(tc.value, false), nil)
		if err != nil {
			t.Fatal(err)
		}
		discard(resp)
		n := rec.count() - 1
		got := rec.request(n)
		if got.Method != "POST" || got.URL.Path != "/pkg.Service/Method" || rec.bodies[n] != tc.body {
			t.Errorf("%s %s %q, want POST /pkg.Service/Method %q", got.Method, got.URL.Path, rec.bodies[n], tc.body)
		}
		if got.Header.Get("Connect-Protocol-Version") != "1" || got.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", got.Header)
		}
		if got.Header.Get("Connect-Timeout-Ms") != tc.header {
			t.Errorf("Connect-Timeout-Ms %q, want %q", got.Header.Get("Connect-Timeout-Ms"), tc.header)
		}
	}
	// A Connect-Timeout-Ms header the caller sets is kept.
	resp, err := testCore(rec.server.URL, WithHeader("Connect-Timeout-Ms", "77")).send(context.Background(), connectRequest(nil, false), nil)
	if err != nil {
		t.Fatal(err)
	}
	discard(resp)
	if got := rec.request(rec.count() - 1).Header.Get("Connect-Timeout-Ms"); got != "77" {
		t.Errorf("Connect-Timeout-Ms %q, want the caller's 77", got)
	}
	if connectTimeout(time.Microsecond) != "1" {
		t.Errorf("a timeout under 1ms is %s", connectTimeout(time.Microsecond))
	}
	// A REST call sends no Connect header.
	r := newRequest("GET", "/x")
	resp, err = testCore(rec.server.URL).send(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	discard(resp)
	if h := rec.request(rec.count() - 1).Header; h.Get("Connect-Protocol-Version") != "" || h.Get("Connect-Timeout-Ms") != "" {
		t.Errorf("a REST call sent Connect headers: %v", h)
	}
}

func TestConnectTimeoutHeaderIsTheCallersDeadline(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { ok(w, `{}`) })
	sent := func(ctx context.Context, c *core, opts ...Option) string {
		t.Helper()
		resp, err := c.send(ctx, connectRequest(nil, false), opts)
		if err != nil {
			t.Fatal(err)
		}
		discard(resp)
		return rec.request(rec.count() - 1).Header.Get("Connect-Timeout-Ms")
	}
	background := context.Background()
	// The SDK's default timeout guards against a hung connection; it is no deadline for the server.
	if got := sent(background, testCore(rec.server.URL)); got != "" {
		t.Errorf("the default timeout was sent: Connect-Timeout-Ms %q", got)
	}
	if got := sent(background, testCore(rec.server.URL, WithTimeout(7*time.Second))); got != "7000" {
		t.Errorf("client-wide timeout: Connect-Timeout-Ms %q, want 7000", got)
	}
	if got := sent(background, testCore(rec.server.URL, WithTimeout(7*time.Second)), WithTimeout(4500*time.Millisecond)); got != "4500" {
		t.Errorf("per-call timeout: Connect-Timeout-Ms %q, want 4500", got)
	}
	// A context deadline is the caller's too: what is left of it is sent when it is the sooner.
	soon, cancel := context.WithTimeout(background, 30*time.Second)
	defer cancel()
	for _, c := range []*core{testCore(rec.server.URL), testCore(rec.server.URL, WithTimeout(time.Hour))} {
		if got, err := strconv.Atoi(sent(soon, c)); err != nil || got < 1 || got > 30000 {
			t.Errorf("context deadline: Connect-Timeout-Ms %d (%v), want at most 30000", got, err)
		}
	}
	if got := sent(soon, testCore(rec.server.URL, WithTimeout(2*time.Second))); got != "2000" {
		t.Errorf("a later context deadline: Connect-Timeout-Ms %q, want the timeout's 2000", got)
	}
}

func TestConnectErrors(t *testing.T) {
	for _, tc := range []struct {
		status  int
		body    string
		kind    string
		code    string
		message string
		details string
	}{
		{404, `{"code":"not_found","message":"no run r1","details":[{"type":"google.rpc.RetryInfo","value":"AA=="}]}`, "api", "not_found", "no run r1", `[{"type":"google.rpc.RetryInfo","value":"AA=="}]`},
		{400, `{"code":"invalid_argument"}`, "api", "invalid_argument", "Bad Request", ""},
		{409, `{"code":"aborted","message":"m","details":"not a list"}`, "api", "aborted", "m", ""},
		{400, `not json`, "api", "internal", "Bad Request", ""},
		{401, ``, "api", "unauthenticated", "Unauthorized", ""},
		{403, `{"code":7,"message":"numeric"}`, "api", "permission_denied", "numeric", ""},
		{404, `{"error":{"code":"x"}}`, "api", "unimplemented", "Not Found", ""},
		{429, `[]`, "api", "unavailable", "Too Many Requests", ""},
		{502, `{}`, "api", "unavailable", "Bad Gateway", ""},
		{418, `{"message":"teapot"}`, "api", "unknown", "teapot", ""},
		{201, `{}`, "api", "unknown", "Created", ""}, // a Connect success is 200 only
		{204, ``, "api", "unknown", "No Content", ""},
		{504, `{"code":"deadline_exceeded","message":"too slow"}`, "timeout", "deadline_exceeded", "too slow", ""},
		{400, `{"code":"deadline_exceeded"}`, "timeout", "deadline_exceeded", "", ""},
	} {
		rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		})
		_, err := testCore(rec.server.URL).send(context.Background(), connectRequest(nil, false), nil)
		if ErrorKind(err) != tc.kind {
			t.Errorf("%d %s: %v, want kind %s", tc.status, tc.body, err, tc.kind)
			continue
		}
		var apiErr *APIError
		var timeout *TimeoutError
		switch {
		case errors.As(err, &apiErr):
			if apiErr.StatusCode != tc.status || apiErr.Code != tc.code || apiErr.Message != tc.message || string(apiErr.Details) != tc.details {
				t.Errorf("%d %s: %d %q %q %s", tc.status, tc.body, apiErr.StatusCode, apiErr.Code, apiErr.Message, apiErr.Details)
			}
			if tc.status == 404 && !errors.Is(err, ErrNotFound) {
				t.Errorf("%v does not match ErrNotFound", err)
			}
		case errors.As(err, &timeout):
			if timeout.Code != tc.code || timeout.Message != tc.message || timeout.StatusCode != tc.status || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%d %s: %#v", tc.status, tc.body, timeout)
			}
			if !strings.Contains(err.Error(), "deadline_exceeded") {
				t.Errorf("the timeout does not say what the server answered: %v", err)
			}
		default:
			t.Errorf("%d %s: %T", tc.status, tc.body, err)
		}
	}
}

func TestConnectRetryRule(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		header    map[string]string
		retryable bool
		attempts  int
	}{
		{"unavailable is retried", 503, nil, true, 3},
		{"resource_exhausted without a hint is not", 429, nil, true, 1},
		{"resource_exhausted with Retry-After is", 429, map[string]string{"Retry-After": "0"}, true, 3},
		{"resource_exhausted with Retry-After-Ms is", 429, map[string]string{"Retry-After-Ms": "1"}, true, 3},
		{"internal is not", 500, nil, true, 1},
		{"gateway timeout is not", 504, nil, true, 1},
		{"conflict is not", 409, nil, true, 1},
		{"x-should-retry true overrides", 500, map[string]string{"X-Should-Retry": "true"}, true, 3},
		{"x-should-retry false overrides", 503, map[string]string{"X-Should-Retry": "false"}, true, 1},
		{"a call that is not retryable is never retried", 503, nil, false, 1},
		{"nor with x-should-retry", 503, map[string]string{"X-Should-Retry": "true"}, false, 1},
	} {
		rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			for k, v := range tc.header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, `{"code":"unavailable"}`)
		})
		var attempts int
		_, err := testCore(rec.server.URL).send(context.Background(), connectRequest(nil, tc.retryable), []Option{WithAttemptsInto(&attempts)})
		if ErrorKind(err) != "api" || attempts != tc.attempts || rec.count() != tc.attempts {
			t.Errorf("%s: %v after %d attempts (%d requests), want %d", tc.name, err, attempts, rec.count(), tc.attempts)
		}
	}
}

func TestRetriedConnectCallSucceeds(t *testing.T) {
	rec := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		ok(w, `{"id":"r1"}`)
	})
	var attempts int
	resp, err := testCore(rec.server.URL).send(context.Background(), connectRequest(map[string]string{"id": "r1"}, true), []Option{WithAttemptsInto(&attempts)})
	if err != nil || attempts != 2 {
		t.Fatal(err, attempts)
	}
	discard(resp)
	if rec.bodies[0] != rec.bodies[1] || rec.bodies[1] != `{"id":"r1"}` {
		t.Errorf("bodies %q", rec.bodies)
	}
}

// frame is one envelope of a Connect stream.
func frame(flags byte, message string) []byte {
	return envelope(flags, []byte(message))
}

// connectServer answers every request with the given Connect stream body.
func connectServer(t *testing.T, chunks ...[]byte) *recorder {
	return newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/connect+json")
		for _, chunk := range chunks {
			_, _ = w.Write(chunk)
			w.(http.Flusher).Flush()
		}
	})
}

func streamRequest(value any) *request {
	r := newRequest("POST", "/pkg.Service/Stream")
	r.connect = true
	r.connectBody("application/connect+json", true, value)
	return r
}

// collect runs a Connect stream to its end.
func collect(c *core, r *request, opts ...Option) ([]testEvent, error) {
	var events []testEvent
	var last error
	for event, err := range connectStream[testEvent](context.Background(), c, r, opts) {
		if err != nil {
			last = err
			continue
		}
		events = append(events, event)
	}
	return events, last
}

func TestConnectStreamRequestIsOneEnvelope(t *testing.T) {
	rec := connectServer(t, frame(0, `{"sequence":1}`), frame(2, `{}`))
	events, err := collect(testCore(rec.server.URL, WithTimeout(2*time.Second)), streamRequest(map[string]any{"run_id": "r1"}))
	if err != nil || len(events) != 1 || events[0].Sequence != 1 {
		t.Fatal(events, err)
	}
	body := []byte(rec.bodies[0])
	if len(body) < 5 || body[0] != 0 || int(binary.BigEndian.Uint32(body[1:5])) != len(body)-5 || string(body[5:]) != `{"run_id":"r1"}` {
		t.Errorf("request body %q", body)
	}
	h := rec.request(0).Header
	if h.Get("Content-Type") != "application/connect+json" || h.Get("Connect-Protocol-Version") != "1" || h.Get("Connect-Timeout-Ms") != "2000" {
		t.Errorf("headers %v", h)
	}
	rec = connectServer(t, frame(2, `{}`))
	if _, err := collect(testCore(rec.server.URL), streamRequest(nil)); err != nil || !bytes.Equal([]byte(rec.bodies[0]), frame(0, `{}`)) {
		t.Errorf("empty request %q: %v", rec.bodies[0], err)
	}
}

func TestConnectStreamEnds(t *testing.T) {
	messages := append(frame(0, `{"sequence":1}`), frame(0, `{"sequence":2}`)...)
	for _, tc := range []struct {
		name   string
		end    []byte
		kind   string
		status int
		code   string
	}{
		{"normally", frame(2, `{}`), "", 0, ""},
		{"normally with metadata", frame(2, `{"metadata":{"x-trailer":["1"]}}`), "", 0, ""},
		{"normally with a null error", frame(2, `{"error":null}`), "", 0, ""},
		{"normally, ignoring what follows", append(frame(2, `{}`), frame(0, `{"sequence":3}`)...), "", 0, ""},
		{"in an error", frame(2, `{"error":{"code":"not_found","message":"gone","details":[{"type":"t","value":""}]}}`), "api", 404, "not_found"},
		{"in an unknown code", frame(2, `{"error":{"code":"brand_new"}}`), "api", 500, "brand_new"},
		{"in unavailable (not retried)", frame(2, `{"error":{"code":"unavailable"}}`), "api", 503, "unavailable"},
		{"in canceled", frame(2, `{"error":{"code":"canceled"}}`), "api", 499, "canceled"},
		{"in deadline_exceeded", frame(2, `{"error":{"code":"deadline_exceeded","message":"late"}}`), "timeout", 504, "deadline_exceeded"},
		{"in a malformed end", frame(2, `{"error":`), "decode", 200, ""},
		{"in an error without a code", frame(2, `{"error":{"message":"?"}}`), "decode", 200, ""},
		{"in a compressed envelope", frame(1, `x`), "decode", 200, ""},
		{"in a compressed end", frame(3, `{}`), "decode", 200, ""},
		{"in an unknown flag", frame(0x80, `{}`), "decode", 200, ""},
		{"without end-of-stream", nil, "decode", 200, ""},
		{"inside an envelope header", []byte{0, 0}, "connection", 0, ""},
		{"inside an envelope", frame(0, `{"sequence":3}`)[:9], "connection", 0, ""},
		{"in a message that does not decode", frame(0, `{"sequence":"three"}`), "decode", 200, ""},
		{"in a message that is not JSON", frame(0, `{`), "decode", 200, ""},
	} {
		rec := connectServer(t, messages, tc.end)
		var attempts int
		events, err := collect(testCore(rec.server.URL), streamRequest(nil), WithAttemptsInto(&attempts))
		if len(events) != 2 || ErrorKind(err) != tc.kind || rec.count() != 1 || attempts != 1 {
			t.Errorf("%s: %d events, %v (%d requests, %d attempts), want kind %q", tc.name, len(events), err, rec.count(), attempts, tc.kind)
			continue
		}
		var apiErr *APIError
		var timeout *TimeoutError
		var decodeErr *DecodeError
		switch {
		case errors.As(err, &apiErr):
			if apiErr.StatusCode != tc.status || apiErr.Code != tc.code || apiErr.Path != "/pkg.Service/Stream" {
				t.Errorf("%s: %#v", tc.name, apiErr)
			}
			if tc.code == "not_found" && (string(apiErr.Details) != `[{"type":"t","value":""}]` || apiErr.Message != "gone" || !errors.Is(err, ErrNotFound)) {
				t.Errorf("%s: %#v", tc.name, apiErr)
			}
		case errors.As(err, &timeout):
			if timeout.StatusCode != tc.status || timeout.Code != tc.code || timeout.Message != "late" {
				t.Errorf("%s: %#v", tc.name, timeout)
			}
		case errors.As(err, &decodeErr):
			if decodeErr.StatusCode != tc.status {
				t.Errorf("%s: %#v", tc.name, decodeErr)
			}
		}
	}
}

func TestConnectStreamEnvelopeLimit(t *testing.T) {
	big := `{"sequence":1,"pad":"` + strings.Repeat("x", 100) + `"}`
	rec := connectServer(t, frame(0, `{"sequence":1}`), frame(0, big), frame(2, `{}`))
	events, err := collect(testCore(rec.server.URL), streamRequest(nil), WithMaxResponseBytes(int64(len(big)-1)))
	var decodeErr *DecodeError
	if len(events) != 1 || !errors.As(err, &decodeErr) || !strings.Contains(err.Error(), "max_response_bytes") {
		t.Fatalf("%d events, %v", len(events), err)
	}
	events, err = collect(testCore(rec.server.URL), streamRequest(nil), WithMaxResponseBytes(int64(len(big))))
	if len(events) != 2 || err != nil {
		t.Fatalf("%d events at the limit, %v", len(events), err)
	}
	// The length is checked before anything is read: a 4 GiB envelope costs nothing.
	rec = connectServer(t, []byte{0, 0xff, 0xff, 0xff, 0xff})
	if _, err := collect(testCore(rec.server.URL), streamRequest(nil)); !errors.As(err, &decodeErr) || !strings.Contains(err.Error(), "max_response_bytes") {
		t.Fatal(err)
	}
}

func TestConnectStreamHTTPErrorsAndContentType(t *testing.T) {
	rec := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		switch n {
		case 1, 2:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"code":"unavailable","message":"busy"}`)
		case 3:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"code":"not_found","message":"no run"}`)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{}`)
		}
	})
	c := testCore(rec.server.URL)
	r := streamRequest(nil)
	r.retryable = true
	var attempts int
	_, err := collect(c, r, WithAttemptsInto(&attempts))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "not_found" || apiErr.StatusCode != 404 || attempts != 3 {
		t.Fatalf("%v after %d attempts", err, attempts)
	}
	if _, err := collect(c, streamRequest(nil)); ErrorKind(err) != "decode" || !strings.Contains(err.Error(), "application/connect+json") {
		t.Fatal(err)
	}
}

func TestConnectStreamEarlyStopAndCancel(t *testing.T) {
	released := make(chan struct{})
	rec := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/connect+json")
		for i := 1; i <= 3; i++ {
			_, _ = w.Write(frame(0, fmt.Sprintf(`{"sequence":%d}`, i)))
		}
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		if n == 1 {
			close(released)
		}
	})
	for event, err := range connectStream[testEvent](context.Background(), testCore(rec.server.URL), streamRequest(nil), nil) {
		if err != nil || event.Sequence != 1 {
			t.Fatal(event, err)
		}
		break
	}
	<-released // the connection is closed once the loop stopped
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var events int
	var last error
	for _, err := range connectStream[testEvent](ctx, testCore(rec.server.URL), streamRequest(nil), nil) {
		if err != nil {
			last = err
			continue
		}
		events++
		cancel()
	}
	if events != 1 || ErrorKind(last) != "cancelled" || !errors.Is(last, context.Canceled) {
		t.Errorf("%d events, %v", events, last)
	}
}

func TestCursorInBodyPagination(t *testing.T) {
	var seen []string
	server := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		switch n {
		case 1:
			ok(w, `{"data":["a","b"],"next_cursor":"t2"}`)
		case 2:
			ok(w, `{"data":["c"],"next_cursor":"t3"}`)
		case 3:
			ok(w, `{"data":["d"],"next_cursor":""}`) // AIP-158: an empty token ends the walk
		default:
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	c := testCore(server.server.URL)
	first := connectRequest(map[string]any{"filter": "x", "pageSize": 2}, true)
	seq := pages(context.Background(), c, first, nil, decodePage[testPage], func(p *testPage, _ *http.Response, r *request) *request {
		return nextBodyCursor(r, "pageToken", p.NextCursor, nil)
	})
	for item, err := range all(seq, func(p *testPage) []string { return p.Data }) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, item)
	}
	want := []string{`{"filter":"x","pageSize":2}`, `{"filter":"x","pageSize":2,"pageToken":"t2"}`, `{"filter":"x","pageSize":2,"pageToken":"t3"}`}
	if fmt.Sprint(seen) != "[a b c d]" || fmt.Sprint(server.bodies) != fmt.Sprint(want) {
		t.Fatalf("items %v, bodies %q", seen, server.bodies)
	}
	for i := range want {
		if server.request(i).URL.RawQuery != "" || server.request(i).Header.Get("Connect-Protocol-Version") != "1" {
			t.Errorf("page %d: query %q, headers %v", i, server.request(i).URL.RawQuery, server.request(i).Header)
		}
	}
}

func TestNextBodyCursor(t *testing.T) {
	r := connectRequest(map[string]any{"pageToken": "a", "pageSize": 5}, true)
	for _, tc := range []struct {
		cursor, more any
		body         string
	}{
		{"b", nil, `{"pageSize":5,"pageToken":"b"}`},
		{Value("b"), true, `{"pageSize":5,"pageToken":"b"}`},
		{"a", nil, ""}, // unchanged: no loop
		{"", nil, ""},
		{Null[string](), nil, ""},
		{(*string)(nil), nil, ""},
		{"b", false, ""},
	} {
		next := nextBodyCursor(r, "pageToken", tc.cursor, tc.more)
		got := ""
		if next != nil {
			got = string(next.body.data)
		}
		if got != tc.body {
			t.Errorf("cursor %#v, more %v: %q, want %q", tc.cursor, tc.more, got, tc.body)
		}
	}
	if string(r.body.data) != `{"pageSize":5,"pageToken":"a"}` {
		t.Errorf("the first request was changed: %s", r.body.data)
	}
	empty := newRequest("POST", "/pkg.Service/List")
	if next := nextBodyCursor(empty, "pageToken", `x"y`, nil); next == nil || string(next.body.data) != `{"pageToken":"x\"y"}` {
		t.Errorf("%v", next)
	}
}

func TestConnectStreamCallerTimeoutBoundsTheWholeStream(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/connect+json")
		_, _ = w.Write(frame(0, `{"sequence":1}`))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the stream stays open until the client gives up
	})
	var attempts int
	events, err := collect(testCore(rec.server.URL), streamRequest(nil), WithTimeout(300*time.Millisecond), WithAttemptsInto(&attempts))
	var timeout *TimeoutError
	if len(events) != 1 || !errors.As(err, &timeout) || ErrorKind(err) != "timeout" || timeout.Code != "" || timeout.Timeout != 300*time.Millisecond {
		t.Fatalf("%d events, %v; want the message, then the client's timeout", len(events), err)
	}
	if got := rec.request(0).Header.Get("Connect-Timeout-Ms"); got != "300" || attempts != 1 {
		t.Errorf("Connect-Timeout-Ms %q after %d attempts", got, attempts)
	}
}

func TestStreamedBodiesKeepOnlyTheCallersConnectTimeout(t *testing.T) {
	rec := connectServer(t, frame(2, `{}`))
	for _, tc := range []struct {
		name    string
		connect bool
		opts    []Option
		running bool // the attempt's timer still runs once the headers arrived
	}{
		{"a Connect stream with the default timeout", true, nil, false},
		{"a Connect stream with the caller's timeout", true, []Option{WithTimeout(time.Minute)}, true},
		{"a download with the caller's timeout", false, []Option{WithTimeout(time.Minute)}, false},
	} {
		r := streamRequest(nil)
		r.connect, r.streamed = tc.connect, true
		resp, err := testCore(rec.server.URL).send(context.Background(), r, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if body, ok := resp.Body.(*cancelOnClose); !ok || (body.timer != nil) != tc.running {
			t.Errorf("%s: timer running %v, want %v", tc.name, ok && body.timer != nil, tc.running)
		}
		discard(resp)
	}
}

func TestConnectStreamTrailers(t *testing.T) {
	metadata := `"metadata":{"x-trailer":["1","2"],"grpc-thing":["a"]}`
	want := http.Header{"X-Trailer": {"1", "2"}, "Grpc-Thing": {"a"}}
	for _, tc := range []struct {
		end  string
		kind string
	}{
		{`{` + metadata + `}`, ""},
		{`{"error":{"code":"not_found"},` + metadata + `}`, "api"},
	} {
		rec := connectServer(t, frame(0, `{"sequence":1}`), frame(2, tc.end))
		var raw *http.Response
		events, err := collect(testCore(rec.server.URL), streamRequest(nil), WithResponseInto(&raw))
		if len(events) != 1 || ErrorKind(err) != tc.kind || raw == nil {
			t.Fatalf("%s: %d events, %v", tc.end, len(events), err)
		}
		if !reflect.DeepEqual(raw.Trailer, want) {
			t.Errorf("%s: trailers %v, want %v", tc.end, raw.Trailer, want)
		}
	}
	rec := connectServer(t, frame(2, `{}`))
	var raw *http.Response
	if _, err := collect(testCore(rec.server.URL), streamRequest(nil), WithResponseInto(&raw)); err != nil || len(raw.Trailer) != 0 {
		t.Errorf("no metadata: trailers %v, %v", raw.Trailer, err)
	}
}

func TestAddTrailersMergesWithHTTPTrailers(t *testing.T) {
	resp := &http.Response{Trailer: http.Header{"X-Real": {"r"}}}
	addTrailers(resp, json.RawMessage(`{"x-real":["m"],"x-new":["a","b"],"x-text":"not a list","x-numbers":[1]}`))
	if want := (http.Header{"X-Real": {"r", "m"}, "X-New": {"a", "b"}}); !reflect.DeepEqual(resp.Trailer, want) {
		t.Errorf("trailers %v, want %v", resp.Trailer, want)
	}
	resp = &http.Response{}
	addTrailers(resp, json.RawMessage(`["not an object"]`))
	if resp.Trailer != nil {
		t.Errorf("malformed metadata gave trailers %v", resp.Trailer)
	}
}
