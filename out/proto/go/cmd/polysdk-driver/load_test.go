package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/polysdk/orchestrator-proto-sdk-go"
)

// load runs one load line through runLoad and returns its answer as JSON values.
func load(t *testing.T, line string) map[string]any {
	t.Helper()
	var l loadLine
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(runLoad(&l))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	if err := decoder.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v["type"] != "load_result" {
		t.Fatalf("answer %v", v)
	}
	return v
}

// entry returns a load_result's entry by name.
func entry(t *testing.T, result map[string]any, name string) map[string]any {
	t.Helper()
	entries, _ := result["entries"].([]any)
	for _, e := range entries {
		if e := e.(map[string]any); e["name"] == name {
			return e
		}
	}
	t.Fatalf("no entry %q in %v", name, result)
	return nil
}

func number(t *testing.T, v any) int64 {
	t.Helper()
	n, err := v.(json.Number).Int64()
	if err != nil {
		t.Fatalf("%v is not an integer", v)
	}
	return n
}

// checkHistogram checks that every key is a three-digit bucket and that the counts add up.
func checkHistogram(t *testing.T, e map[string]any) {
	t.Helper()
	total := int64(0)
	for key, n := range e["latency_us"].(map[string]any) {
		us, err := strconv.ParseInt(key, 10, 64)
		if err != nil || threeDigits(us) != us {
			t.Errorf("%s: key %q is not a three-digit bucket", e["name"], key)
		}
		if us > number(t, e["max_us"]) {
			t.Errorf("%s: bucket %d above max_us %v", e["name"], us, e["max_us"])
		}
		total += number(t, n)
	}
	if total != number(t, e["count"]) {
		t.Errorf("%s: histogram holds %d calls, count %v", e["name"], total, e["count"])
	}
}

func TestThreeDigitsRoundsDown(t *testing.T) {
	for in, want := range map[int64]int64{0: 0, 7: 7, 812: 812, 999: 999, 1000: 1000, 1009: 1000, 1234: 1230, 98765: 98700, 1234567: 1230000} {
		if got := threeDigits(in); got != want {
			t.Errorf("threeDigits(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestLoadPreparesEachEntryOnceAndCountsEveryCall(t *testing.T) {
	var builds, calls atomic.Int64
	fakeOperations(t, map[string]func(*args) operation{
		"get": func(a *args) operation {
			builds.Add(1)
			var id string
			a.decode("id", &id)
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) {
				calls.Add(1)
				if id != "x" {
					return nil, errors.New("arguments not decoded")
				}
				return map[string]string{"id": id}, nil
			}}
		},
		"missing": func(*args) operation {
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) {
				return nil, &sdk.APIError{StatusCode: 404}
			}}
		},
		"list": func(*args) operation {
			return operation{pages: seqOf(1, 2, 3)}
		},
		"download": func(*args) operation {
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) {
				return io.NopCloser(strings.NewReader("data")), nil
			}}
		},
	})
	got := load(t, `{"type": "load", "id": "l", "base_url": "http://127.0.0.1:1/", "client_kind": "sdk",
		"model": "closed", "concurrency": 3, "duration_ms": 60000, "max_requests": 30,
		"mix": [{"name": "get", "operation": "get", "mode": "call", "args": {"id": "x"}},
		        {"name": "missing", "operation": "missing"},
		        {"name": "list", "operation": "list", "mode": "pages"},
		        {"name": "download", "operation": "download"}],
		"sequence": [0, 0, 1, 2, 3]}`)
	if got["error"] != nil || number(t, got["started"]) != 30 {
		t.Fatalf("result %v", got)
	}
	// 30 requests over the sequence [0 0 1 2 3]: six rounds.
	for name, want := range map[string][2]int64{"get": {12, 12}, "missing": {6, 0}, "list": {6, 6}, "download": {6, 6}} {
		e := entry(t, got, name)
		if number(t, e["count"]) != want[0] || number(t, e["ok"]) != want[1] || number(t, e["retries"]) != 0 {
			t.Errorf("%s: %v, want count and ok %v", name, e, want)
		}
		checkHistogram(t, e)
	}
	if errs := entry(t, got, "missing")["errors"].(map[string]any); len(errs) != 1 || number(t, errs["api"]) != 6 {
		t.Errorf("errors %v", errs)
	}
	if builds.Load() != 1 || calls.Load() != 12 {
		t.Errorf("%d builds and %d calls of get, want 1 and 12", builds.Load(), calls.Load())
	}
}

func TestPairedLoadMakesEachCallWithBothClientsTakingTurnsToGoFirst(t *testing.T) {
	var (
		mu    sync.Mutex
		order []string
	)
	note := func(who string) {
		mu.Lock()
		order = append(order, who)
		mu.Unlock()
	}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		note("raw")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id": "x"}`))
	}))
	defer server.Close()
	fakeOperations(t, map[string]func(*args) operation{
		"get": func(*args) operation {
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) {
				note("sdk")
				return nil, nil
			}}
		},
	})
	got := load(t, `{"type": "load", "id": "p", "base_url": "`+server.URL+`/", "client_kind": "paired",
		"client": {"timeout_ms": 30000}, "model": "closed", "concurrency": 1, "duration_ms": 60000, "max_requests": 4,
		"mix": [{"name": "get", "operation": "get", "raw": [{"method": "GET", "path": "agents/x"}]}],
		"sequence": [0]}`)
	if got["error"] != nil || number(t, got["started"]) != 4 {
		t.Fatalf("result %v", got)
	}
	raw, _ := got["raw_entries"].([]any)
	if len(raw) != 1 {
		t.Fatalf("raw_entries %v", got["raw_entries"])
	}
	for _, e := range []map[string]any{entry(t, got, "get"), raw[0].(map[string]any)} {
		if number(t, e["count"]) != 4 || number(t, e["ok"]) != 4 {
			t.Errorf("%v: want 4 calls, all ok", e)
		}
		checkHistogram(t, e)
	}
	want := []string{"sdk", "raw", "raw", "sdk", "sdk", "raw", "raw", "sdk"}
	if !slices.Equal(order, want) {
		t.Errorf("calls in the order %v, want %v", order, want)
	}
	open := load(t, `{"type": "load", "id": "p", "base_url": "`+server.URL+`/", "client_kind": "paired",
		"model": "open", "rate_per_s": 10, "concurrency": 1, "duration_ms": 1000, "max_requests": 1,
		"mix": [{"name": "get", "operation": "get", "raw": [{"method": "GET", "path": "agents/x"}]}], "sequence": [0]}`)
	if message, _ := open["error"].(string); !strings.Contains(message, "closed model") {
		t.Errorf("a paired open load: %v", open)
	}
}

func TestLoadLinesThatCannotRunAreAnsweredWithAnError(t *testing.T) {
	fakeOperations(t, map[string]func(*args) operation{
		"get": func(*args) operation {
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) { return nil, nil }}
		},
		"events": func(*args) operation { return operation{stream: seqOf(1)} },
	})
	base := `"type": "load", "id": "l", "base_url": "http://127.0.0.1:1/", "model": "closed", "concurrency": 1, "duration_ms": 1000, "max_requests": 1, `
	for line, why := range map[string]string{
		`"client_kind": "sdk", "mix": [{"name": "a", "operation": "nope"}], "sequence": [0]`:                       "unknown operation",
		`"client_kind": "sdk", "mix": [{"name": "a", "operation": "get", "args": {"x": 1}}], "sequence": [0]`:      "unknown arguments",
		`"client_kind": "sdk", "mix": [{"name": "a", "operation": "events", "mode": "call"}], "sequence": [0]`:     "only mode stream",
		`"client_kind": "sdk", "mix": [{"name": "a", "operation": "get"}], "sequence": [1]`:                        "outside the mix",
		`"client_kind": "raw", "mix": [{"name": "a", "raw": []}], "sequence": [0]`:                                 "needs requests",
		`"client_kind": "raw", "mix": [{"name": "a", "raw": [{"method": "GET", "path": "%zz"}]}], "sequence": [0]`: "path",
		`"client_kind": "other", "mix": [{"name": "a", "operation": "get"}], "sequence": [0]`:                      "client_kind",
	} {
		got := load(t, `{`+base+line+`}`)
		if message, _ := got["error"].(string); !strings.Contains(message, why) || got["entries"] != nil {
			t.Errorf("%s: %v, want an error with %q", line, got, why)
		}
	}
	unbounded := load(t, `{"type": "load", "id": "l", "client_kind": "sdk", "model": "open", "rate_per_s": 10, "concurrency": 1,
		"max_requests": 10, "mix": [{"name": "a", "operation": "get"}], "sequence": [0]}`)
	if message, _ := unbounded["error"].(string); !strings.Contains(message, "duration_ms") {
		t.Errorf("a load without a duration: %v", unbounded)
	}
}

func TestOpenModelKeepsItsScheduleWhileACallIsSlow(t *testing.T) {
	fastDone := make(chan struct{})
	var fast atomic.Int64
	fakeOperations(t, map[string]func(*args) operation{
		// slow holds its worker until every fast call has ended: were the requests sent one after
		// another (a schedule waiting for the slow call), none would, and slow would time out.
		"slow": func(*args) operation {
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) {
				select {
				case <-fastDone:
					return nil, nil
				case <-time.After(time.Minute):
					return nil, &sdk.TimeoutError{}
				}
			}}
		},
		"fast": func(*args) operation {
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) {
				if fast.Add(1) == 5 {
					close(fastDone)
				}
				return nil, nil
			}}
		},
	})
	got := load(t, `{"type": "load", "id": "l", "client_kind": "sdk", "model": "open", "rate_per_s": 1000,
		"concurrency": 2, "duration_ms": 60000, "max_requests": 6,
		"mix": [{"name": "slow", "operation": "slow"}, {"name": "fast", "operation": "fast"}],
		"sequence": [0, 1, 1, 1, 1, 1]}`)
	slow, fastEntry := entry(t, got, "slow"), entry(t, got, "fast")
	if number(t, slow["ok"]) != 1 || number(t, fastEntry["ok"]) != 5 || number(t, got["started"]) != 6 {
		t.Errorf("result %v", got)
	}
}

func TestOpenModelLatencyCountsTheWaitForAWorker(t *testing.T) {
	var slowTook time.Duration
	fakeOperations(t, map[string]func(*args) operation{
		"slow": func(*args) operation {
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) {
				began := time.Now()
				time.Sleep(2 * time.Millisecond) // a slow server
				slowTook = time.Since(began)
				return nil, nil
			}}
		},
		"fast": func(*args) operation {
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) { return nil, nil }}
		},
	})
	// One worker; fast is due 1 µs after slow, so it waits for slow to end: its latency, counted
	// from when it was due, cannot be shorter than slow's call (less that microsecond).
	got := load(t, `{"type": "load", "id": "l", "client_kind": "sdk", "model": "open", "rate_per_s": 1000000,
		"concurrency": 1, "duration_ms": 60000, "max_requests": 2,
		"mix": [{"name": "slow", "operation": "slow"}, {"name": "fast", "operation": "fast"}], "sequence": [0, 1]}`)
	if waited := number(t, entry(t, got, "fast")["max_us"]); waited < slowTook.Microseconds()-1 {
		t.Errorf("fast's latency %d µs does not count its wait for slow (%v)", waited, slowTook)
	}
}

func TestLoadStopsAtItsBounds(t *testing.T) {
	fakeOperations(t, map[string]func(*args) operation{
		"get": func(*args) operation {
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) { return nil, nil }}
		},
	})
	counted := load(t, `{"type": "load", "id": "l", "client_kind": "sdk", "model": "closed", "concurrency": 4,
		"duration_ms": 60000, "max_requests": 7, "mix": [{"name": "get", "operation": "get"}], "sequence": [0]}`)
	if number(t, counted["started"]) != 7 || number(t, entry(t, counted, "get")["count"]) != 7 {
		t.Errorf("max_requests: %v", counted)
	}
	// One request a second for half a second: the second is due after the deadline, so at most
	// the first starts (the load ends without waiting for the other 98).
	timed := load(t, `{"type": "load", "id": "l", "client_kind": "sdk", "model": "open", "rate_per_s": 1, "concurrency": 4,
		"duration_ms": 500, "max_requests": 100, "mix": [{"name": "get", "operation": "get"}], "sequence": [0]}`)
	if number(t, timed["started"]) > 1 {
		t.Errorf("duration_ms: %v", timed)
	}
}

func TestRawLoadReadsBodiesAndKeepsItsConnections(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 256<<10)
	var (
		mu          sync.Mutex
		connections int
		badBodies   int
	)
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/big":
			_, _ = w.Write(big)
		case "/v1/echo":
			body, _ := io.ReadAll(r.Body)
			if r.Method != http.MethodPost || string(body) != "hi" || r.Header.Get("Authorization") != "Bearer tok" {
				mu.Lock()
				badBodies++
				mu.Unlock()
			}
			w.WriteHeader(http.StatusCreated)
		default:
			http.NotFound(w, r)
		}
	}))
	server.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			mu.Lock()
			connections++
			mu.Unlock()
		}
	}
	server.Start()
	defer server.Close()
	got := load(t, `{"type": "load", "id": "raw", "base_url": "`+server.URL+`/v1/", "client_kind": "raw",
		"client": {"timeout_ms": 30000}, "model": "closed", "concurrency": 4, "duration_ms": 60000, "max_requests": 40,
		"mix": [{"name": "big", "raw": [{"method": "GET", "path": "big"}]},
		        {"name": "two", "raw": [{"method": "GET", "path": "big"},
		                                {"method": "POST", "path": "echo", "headers": {"Authorization": "Bearer tok"}, "body_base64": "aGk="}]},
		        {"name": "missing", "raw": [{"method": "GET", "path": "missing"}]}],
		"sequence": [0, 1, 0, 2]}`)
	for name, want := range map[string][2]int64{"big": {20, 20}, "two": {10, 10}, "missing": {10, 0}} {
		e := entry(t, got, name)
		if number(t, e["count"]) != want[0] || number(t, e["ok"]) != want[1] || number(t, e["retries"]) != 0 {
			t.Errorf("%s: %v, want count and ok %v", name, e, want)
		}
		checkHistogram(t, e)
	}
	if errs := entry(t, got, "missing")["errors"].(map[string]any); number(t, errs["api"]) != 10 {
		t.Errorf("a 404 is an api error: %v", errs)
	}
	mu.Lock()
	defer mu.Unlock()
	// Every body read to its end and room for every worker's connection in the pool: the four
	// workers keep their connections across 50 exchanges. (net/http may still drop one that it
	// could not confirm the request was written on soon enough, under a loaded race detector.)
	if connections > 8 || badBodies != 0 {
		t.Errorf("%d connections for 4 workers and 50 exchanges, %d bad requests", connections, badBodies)
	}
}

func TestServeAnswersLoadLines(t *testing.T) {
	buf := capture(t)
	fakeOperations(t, map[string]func(*args) operation{
		"get": func(*args) operation {
			return operation{call: func(context.Context, *sdk.Client, []sdk.RequestOption) (any, error) { return nil, nil }}
		},
	})
	in := strings.Join([]string{
		`{"type": "load", "id": "ok", "client_kind": "sdk", "model": "closed", "concurrency": 1, "duration_ms": 60000, "max_requests": 3, "mix": [{"name": "get", "operation": "get"}], "sequence": [0]}`,
		`{"type": "load", "id": "bad", "max_requests": "many"}`,
	}, "\n")
	serve(strings.NewReader(in))
	out := lines(t, buf)
	if caps, _ := out[0]["capabilities"].([]any); !slices.Contains(caps, any("load")) {
		t.Errorf("hello without the load capability: %v", out[0])
	}
	answers := map[string]map[string]any{}
	for _, line := range out[1:] {
		if line["type"] != "load_result" {
			t.Errorf("unexpected line %v", line)
			continue
		}
		answers[line["id"].(string)] = line
	}
	if ok := answers["ok"]; ok == nil || number(t, ok["started"]) != 3 || ok["error"] != nil {
		t.Errorf("load: %v", ok)
	}
	if bad := answers["bad"]; bad == nil || !strings.Contains(bad["error"].(string), "cannot decode") {
		t.Errorf("undecodable load: %v", bad)
	}
}

func TestRawLoadDecodesWhatItReceivesAsAHandWrittenCallWould(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`{"id": "a", "sequence": 9007199254740993}`))
		case "/problem":
			w.Header().Set("Content-Type", "application/problem+json")
			_, _ = w.Write([]byte(`{"title": "cut`))
		case "/bad-json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id": "a"} trailing`))
		case "/events":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write([]byte(": comment\r\nid: 1\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nevent: ping\n\ndata:[2]\n\ndata: not json"))
		case "/bad-event":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write([]byte("data: {\"a\": 1}\n\ndata: {oops}\n\n"))
		case "/long-event":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write([]byte("data: \"" + strings.Repeat("x", maxRawEventLine) + "\"\n\n"))
		case "/binary":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write([]byte("{not json"))
		case "/empty":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`not json either`))
		}
	}))
	defer server.Close()
	paths := []string{"json", "problem", "bad-json", "events", "bad-event", "long-event", "binary", "empty", "missing"}
	var mix []string
	var sequence []string
	for i, p := range paths {
		mix = append(mix, `{"name": "`+p+`", "raw": [{"method": "GET", "path": "`+p+`"}]}`)
		sequence = append(sequence, strconv.Itoa(i))
	}
	got := load(t, `{"type": "load", "id": "raw", "base_url": "`+server.URL+`/", "client_kind": "raw",
		"model": "closed", "concurrency": 1, "duration_ms": 60000, "max_requests": `+strconv.Itoa(len(paths))+`,
		"mix": [`+strings.Join(mix, ",")+`], "sequence": [`+strings.Join(sequence, ",")+`]}`)
	// The last event of /events ends with the stream, unterminated: dropped, as the SDK drops it.
	want := map[string]string{"json": "", "problem": "decode", "bad-json": "decode", "events": "", "bad-event": "decode",
		"long-event": "decode", "binary": "", "empty": "", "missing": "api"}
	for name, kind := range want {
		e := entry(t, got, name)
		errs := e["errors"].(map[string]any)
		switch {
		case number(t, e["count"]) != 1:
			t.Errorf("%s: %v", name, e)
		case kind == "" && (number(t, e["ok"]) != 1 || len(errs) != 0):
			t.Errorf("%s: want success, got %v", name, e)
		case kind != "" && (len(errs) != 1 || errs[kind] == nil || number(t, errs[kind]) != 1):
			t.Errorf("%s: want one %s error, got %v", name, kind, e)
		}
	}
}
