package polysdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func readAll(t *testing.T, input string) []sseEvent {
	t.Helper()
	reader := newSSEReader(strings.NewReader(input))
	var events []sseEvent
	for {
		event, err := reader.next()
		if errors.Is(err, io.EOF) {
			return events
		}
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, event)
	}
}

func TestSSEParser(t *testing.T) {
	input := "\ufeff: keep-alive\n\n" +
		"id: 1\nevent: step.started\ndata: {\"a\":\ndata:  1}\n\n" +
		"data:no space\r\n\r\n" +
		"id: 2\rretry: 1500\rdata: cr\r\r" +
		"event: ignored-without-data\n\n" +
		"id\ndata: reset id\n\n" +
		"data: unterminated"
	events := readAll(t, input)
	want := []sseEvent{
		{event: "step.started", data: []byte("{\"a\":\n 1}"), id: "1"},
		{event: "message", data: []byte("no space"), id: "1"},
		{event: "message", data: []byte("cr"), id: "2"},
		{event: "message", data: []byte("reset id"), id: ""},
	}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("events\n got %q\nwant %q", events, want)
	}
	reader := newSSEReader(strings.NewReader("retry: 1500\ndata: x\n\n"))
	if _, err := reader.next(); err != nil || reader.retry != 1500*time.Millisecond {
		t.Errorf("retry %v %v", reader.retry, err)
	}
}

type testEvent struct {
	Type     string `json:"type"`
	Sequence int64  `json:"sequence"`
}

func writeEvents(w http.ResponseWriter, from, to int64) {
	for i := from; i <= to; i++ {
		fmt.Fprintf(w, ": comment\nid: %d\nevent: tick\ndata: {\"type\":\"tick\",\"sequence\":%d}\n\n", i, i)
	}
	w.(http.Flusher).Flush()
}

func TestStreamEndsCleanly(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		writeEvents(w, 1, 3)
	})
	r := newRequest("GET", "")
	r.path = "/events"
	r.accept = "text/event-stream" // the generated builder sets the operation's Accept
	var got []int64
	for event, err := range stream[testEvent](context.Background(), testCore(rec.server.URL), r, nil, "Last-Event-ID") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, event.Sequence)
	}
	if fmt.Sprint(got) != "[1 2 3]" || rec.count() != 1 {
		t.Errorf("events %v after %d requests", got, rec.count())
	}
	if accept := rec.request(0).Header.Get("Accept"); accept != "text/event-stream" {
		t.Errorf("accept %q", accept)
	}
}

func TestStreamResumesWithLastEventID(t *testing.T) {
	rec := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if n == 1 {
			writeEvents(w, 1, 2)
			// Drop the connection without ending the chunked body.
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		writeEvents(w, 3, 4)
	})
	r := newRequest("GET", "")
	r.path = "/events"
	r.accept = "text/event-stream" // the generated builder sets the operation's Accept
	var got []int64
	for event, err := range stream[testEvent](context.Background(), testCore(rec.server.URL), r, nil, "Last-Event-ID") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, event.Sequence)
	}
	if fmt.Sprint(got) != "[1 2 3 4]" || rec.count() != 2 {
		t.Fatalf("events %v after %d requests", got, rec.count())
	}
	if id := rec.request(1).Header.Get("Last-Event-ID"); id != "2" {
		t.Errorf("resumed with Last-Event-ID %q, want 2", id)
	}
}

func TestStreamReconnectsAreBounded(t *testing.T) {
	rec := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if n == 1 {
			writeEvents(w, 1, 1)
		}
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	r := newRequest("GET", "")
	r.path = "/events"
	var last error
	events := 0
	for _, err := range stream[testEvent](context.Background(), testCore(rec.server.URL), r, nil, "Last-Event-ID") {
		if err == nil {
			events++
		}
		last = err
	}
	if ErrorKind(last) != "connection" || rec.count() != 3 || events != 1 {
		t.Errorf("error %v after %d connections and %d events, want a connection error after 3", last, rec.count(), events)
	}
}

func TestStreamDropBeforeAnyEventIDIsNotReplayed(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"type\":\"tick\",\"sequence\":1}\n\n")
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	r := newRequest("GET", "")
	r.path = "/events"
	var last error
	events := 0
	for _, err := range stream[testEvent](context.Background(), testCore(rec.server.URL), r, nil, "Last-Event-ID") {
		if err == nil {
			events++
		}
		last = err
	}
	var connErr *ConnectionError
	if !errors.As(last, &connErr) || rec.count() != 1 || events != 1 {
		t.Errorf("error %v after %d connections and %d events, want one connection and a connection error", last, rec.count(), events)
	}
}

func TestStreamRefusesAnotherContentType(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>data: {}</html>\n\n")
	})
	r := newRequest("GET", "")
	r.path = "/events"
	var last error
	for _, err := range stream[json.RawMessage](context.Background(), testCore(rec.server.URL), r, nil, "") {
		last = err
	}
	var decodeErr *DecodeError
	if !errors.As(last, &decodeErr) || !strings.Contains(string(decodeErr.Body), "<html>") {
		t.Errorf("error %v, want a decode error carrying the body", last)
	}
}

func TestStreamEventLimit(t *testing.T) {
	rec := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		switch n {
		case 1: // many small events, and comments, all fine under a 200-byte limit
			for i := 0; i < 50; i++ {
				_, _ = io.WriteString(w, ": keep-alive keep-alive keep-alive keep-alive\n")
				writeEvents(w, int64(i), int64(i))
			}
		case 2: // a line that never ends
			_, _ = io.WriteString(w, "data: "+strings.Repeat("a", 10000))
		case 3: // data lines that never end their event
			writeEvents(w, 1, 1)
			for i := 0; i < 100; i++ {
				_, _ = io.WriteString(w, "data: zzzzzzzzzz\n")
			}
		}
	})
	r := newRequest("GET", "")
	r.path = "/events"
	run := func() (int, error) {
		events := 0
		var last error
		for _, err := range stream[testEvent](context.Background(), testCore(rec.server.URL), cloneRequest(r), []Option{WithMaxResponseBytes(200)}, "") {
			if err == nil {
				events++
			}
			last = err
		}
		return events, last
	}
	if events, err := run(); events != 50 || err != nil {
		t.Errorf("%d events, error %v; want 50 events", events, err)
	}
	for _, want := range []int{0, 1} {
		events, err := run()
		if ErrorKind(err) != "decode" || !strings.Contains(err.Error(), "max_response_bytes (200 bytes)") || events != want {
			t.Errorf("%d events, error %v; want %d events and a decode error naming the limit", events, err, want)
		}
	}
}

func TestSSEParserIsLinear(t *testing.T) {
	// One 8 MiB line delivered in small reads: a parser that rescanned its buffer on each read
	// would take minutes. How fast it is, is measured by `nox -s bench`, not asserted here.
	line := "data: " + strings.Repeat("x", 8<<20) + "\n\n"
	reader := newSSEReader(iotest.HalfReader(strings.NewReader(line)))
	event, err := reader.next()
	if err != nil || len(event.data) != 8<<20 {
		t.Fatal(len(event.data), err)
	}
}

func TestStreamEarlyStopReleasesTheConnection(t *testing.T) {
	released := make(chan struct{})
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		writeEvents(w, 1, 1)
		<-r.Context().Done()
		close(released)
	})
	r := newRequest("GET", "")
	r.path = "/events"
	for event, err := range stream[testEvent](context.Background(), testCore(rec.server.URL), r, nil, "") {
		if err != nil || event.Sequence != 1 {
			t.Fatal(event, err)
		}
		break
	}
	<-released // the server sees the connection closed once the loop stopped (else: a hang, not a pass)
}

func TestStreamErrors(t *testing.T) {
	rec := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {not json}\n\n")
	})
	r := newRequest("GET", "")
	r.path = "/events"
	check := func(want string) {
		t.Helper()
		var last error
		for _, err := range stream[json.RawMessage](context.Background(), testCore(rec.server.URL), cloneRequest(r), nil, "") {
			last = err
		}
		if ErrorKind(last) != want {
			t.Errorf("error %v, want %s", last, want)
		}
	}
	check("api")
	check("decode")
}

func TestStreamCancelledMidStream(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		writeEvents(w, 1, 3) // the next events are already buffered when the loop cancels
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newRequest("GET", "")
	r.path = "/events"
	var events int
	var last error
	for _, err := range stream[testEvent](ctx, testCore(rec.server.URL), r, nil, "Last-Event-ID") {
		if err != nil {
			last = err
			continue // keep pulling: the next pull must end the stream
		}
		events++
		cancel()
	}
	if events != 1 || ErrorKind(last) != "cancelled" || !errors.Is(last, context.Canceled) || rec.count() != 1 {
		t.Errorf("%d events, error %v, %d connections", events, last, rec.count())
	}
}

// TestSSEBuffersAreRecycledCleanly parses streams one after another, each reader handing its
// buffer back: a recycled buffer still holds the last stream's bytes, which must never show.
func TestSSEBuffersAreRecycledCleanly(t *testing.T) {
	long := strings.Repeat("x", sseBufferSize) // grows past the first buffer, which is not kept
	for i, input := range []string{"data: first stream\n\n", "data: " + long + "\n\n", "data: 2\n\n", ": only a comment\n"} {
		reader := newSSEReader(strings.NewReader(input))
		var events []string
		for {
			event, err := reader.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, string(event.data))
		}
		reader.release()
		want := map[int][]string{0: {"first stream"}, 1: {long}, 2: {"2"}, 3: nil}[i]
		if fmt.Sprint(events) != fmt.Sprint(want) {
			t.Errorf("stream %d: %.40q, want %.40q", i, events, want)
		}
	}
}
