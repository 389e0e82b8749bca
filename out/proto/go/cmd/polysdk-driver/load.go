// This file is the driver's load engine (templates/go/driver/load.go in polysdk, tested by
// load_test.go): the load lines of conformance/PROTOCOL.md ("Load lines").

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/polysdk/orchestrator-proto-sdk-go"
)

// loadLine is one load from the runner: a mix of calls, sent in `sequence` order under an open
// (fixed arrival rate) or closed (back to back) model, bounded in time and count.
type loadLine struct {
	ID          json.RawMessage `json:"id"`
	BaseURL     *string         `json:"base_url"`
	Client      *clientOptions  `json:"client"`
	ClientKind  string          `json:"client_kind"`
	Model       string          `json:"model"`
	RatePerS    float64         `json:"rate_per_s"`
	Concurrency int             `json:"concurrency"`
	DurationMs  float64         `json:"duration_ms"`
	MaxRequests int64           `json:"max_requests"`
	Mix         []loadEntry     `json:"mix"`
	Sequence    []int           `json:"sequence"`
}

// loadEntry is one kind of call of a mix: an SDK operation (client_kind sdk) or the same HTTP
// exchanges made with net/http (client_kind raw).
type loadEntry struct {
	Name      string                     `json:"name"`
	Operation string                     `json:"operation"`
	Mode      string                     `json:"mode"`
	Args      map[string]json.RawMessage `json:"args"`
	Request   *requestOptions            `json:"request"`
	Raw       []rawRequest               `json:"raw"`
}

type rawRequest struct {
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Headers    map[string]string `json:"headers"`
	BodyBase64 *string           `json:"body_base64"`
}

type loadResult struct {
	Type    string          `json:"type"`
	ID      json.RawMessage `json:"id"`
	Started int64           `json:"started"`
	WallMs  float64         `json:"wall_ms"`
	Entries []entryResult   `json:"entries"`
	// RawEntries are the raw client's calls of a paired load (Entries are the SDK's).
	RawEntries []entryResult `json:"raw_entries,omitempty"`
}

type loadFailure struct {
	Type  string          `json:"type"`
	ID    json.RawMessage `json:"id"`
	Error string          `json:"error"`
}

type entryResult struct {
	Name    string           `json:"name"`
	Count   int64            `json:"count"`
	OK      int64            `json:"ok"`
	Errors  map[string]int64 `json:"errors"`
	Retries int64            `json:"retries"`
	// LatencyUs counts latencies in microseconds by their three-significant-digit bucket.
	LatencyUs map[string]int64 `json:"latency_us"`
	MaxUs     int64            `json:"max_us"`
}

// caller makes one call of an entry: kind is the error's kind ("" on success), retries the
// attempts beyond the first. A caller belongs to one worker and is never called concurrently.
type caller func(ctx context.Context) (kind string, retries int)

// prepared is an entry ready to run: everything is decoded; each worker gets its own caller.
type prepared func() caller

// acceptLoad decodes a load line and returns the job that runs it; a line that does not decode
// is answered at once.
func acceptLoad(id json.RawMessage, line []byte) func() any {
	var l loadLine
	if err := json.Unmarshal(line, &l); err != nil {
		emit(loadFailure{Type: "load_result", ID: id, Error: "cannot decode the load line: " + err.Error()})
		return nil
	}
	return func() any { return runLoad(&l) }
}

// runLoad prepares the load's entries, runs it and returns its load_result line; a load it cannot
// run is answered with an error.
func runLoad(l *loadLine) (out any) {
	fail := func(format string, args ...any) any {
		return loadFailure{Type: "load_result", ID: l.ID, Error: fmt.Sprintf(format, args...)}
	}
	defer func() {
		if p := recover(); p != nil {
			out = fail("panic: %v", p)
		}
	}()
	if err := l.check(); err != nil {
		return fail("%v", err)
	}
	transport := loadTransport(l.Concurrency)
	defer transport.CloseIdleConnections()
	// One set of entries per client: the SDK's, the raw client's, or both for a paired load.
	var clients [][]prepared
	if l.ClientKind != "raw" {
		entries := make([]prepared, len(l.Mix))
		client := newClient(l.BaseURL, l.Client, transport)
		for i, e := range l.Mix {
			p, err := prepareSDK(e, client)
			if err != nil {
				return fail("entry %d (%s): %v", i, e.Name, err)
			}
			entries[i] = p
		}
		clients = append(clients, entries)
	}
	if l.ClientKind != "sdk" {
		entries := make([]prepared, len(l.Mix))
		base, err := url.Parse(*l.BaseURL)
		if err != nil {
			return fail("base_url: %v", err)
		}
		client := &http.Client{Transport: transport}
		if l.Client != nil && l.Client.TimeoutMs != nil {
			client.Timeout = millis(*l.Client.TimeoutMs) // the SDK's timeout, per attempt
		}
		for i, e := range l.Mix {
			p, err := prepareRaw(e, base, client)
			if err != nil {
				return fail("entry %d (%s): %v", i, e.Name, err)
			}
			entries[i] = p
		}
		clients = append(clients, entries)
	}
	started, wall, stats, panicked := l.run(clients)
	if panicked != nil {
		return fail("panic: %v", panicked)
	}
	result := loadResult{Type: "load_result", ID: l.ID, Started: started, WallMs: float64(wall.Microseconds()) / 1000}
	for i, e := range l.Mix {
		result.Entries = append(result.Entries, stats[0][i].result(e.Name))
		if len(stats) == 2 {
			result.RawEntries = append(result.RawEntries, stats[1][i].result(e.Name))
		}
	}
	return result
}

// check refuses a load line that is not bounded or does not say what to send.
func (l *loadLine) check() error {
	switch {
	case l.ClientKind != "sdk" && l.ClientKind != "raw" && l.ClientKind != "paired":
		return fmt.Errorf("unknown client_kind %q", l.ClientKind)
	case l.ClientKind == "paired" && l.Model != "closed":
		return errors.New("a paired load needs the closed model")
	case l.Model != "open" && l.Model != "closed":
		return fmt.Errorf("unknown model %q", l.Model)
	case l.Model == "open" && !(l.RatePerS > 0):
		return errors.New("the open model needs a positive rate_per_s")
	case l.Concurrency < 1:
		return errors.New("concurrency must be at least 1")
	case !(l.DurationMs > 0) || l.MaxRequests < 1:
		return errors.New("a load needs a positive duration_ms and max_requests")
	case len(l.Mix) == 0 || len(l.Sequence) == 0:
		return errors.New("a load needs a mix and a sequence")
	case l.ClientKind != "sdk" && l.BaseURL == nil:
		return errors.New("a raw load needs a base_url")
	}
	for _, index := range l.Sequence {
		if index < 0 || index >= len(l.Mix) {
			return fmt.Errorf("sequence index %d outside the mix", index)
		}
	}
	return nil
}

// loadTransport is the transport of a load, for the SDK's client and the raw one alike: the
// settings of http.DefaultTransport (which the SDK uses by default: keep-alive, HTTP/1.1 on
// loopback), with room for every worker's connection in the idle pool, so that no call pays for
// a new connection because the pool was full.
func loadTransport(concurrency int) *http.Transport {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = max(transport.MaxIdleConnsPerHost, concurrency)
	transport.MaxIdleConns = max(transport.MaxIdleConns, concurrency)
	return transport
}

// prepareSDK decodes an entry's arguments into the SDK's typed parameters once and returns the
// callers of its mode: call (a download read to its end), pages (every page) or stream (every
// event). retries sums attempts-1 over each request the call sent (one per page).
func prepareSDK(e loadEntry, client *sdk.Client) (prepared, error) {
	op, a, err := buildOperation(e.Operation, e.Args)
	if err != nil {
		return nil, err
	}
	_, seq, why := op.mode(e.Operation, e.Mode)
	if why != "" {
		return nil, errors.New(why)
	}
	base := slices.Clip(requestOpts(e.Request, a.idempotencyKey))
	return func() caller {
		attempts := 0
		opts := append(base, sdk.WithAttemptsInto(&attempts))
		// retries takes the attempts the SDK reported since the last look.
		retries := func() int {
			n := max(attempts-1, 0)
			attempts = 0
			return n
		}
		if seq == nil {
			return func(ctx context.Context) (string, int) {
				value, err := op.call(ctx, client, opts)
				if err == nil {
					err = drain(value)
				}
				return errorKind(err), retries()
			}
		}
		return func(ctx context.Context) (string, int) {
			total := 0
			var failed error
			for _, err := range seq(ctx, client, opts) {
				total += retries()
				if err != nil {
					failed = err
					break
				}
			}
			return errorKind(failed), total + retries()
		}
	}, nil
}

// drain reads a streamed download to its end; any other value is already decoded.
func drain(value any) error {
	body, ok := value.(io.ReadCloser)
	if !ok {
		return nil
	}
	defer body.Close()
	_, err := io.Copy(io.Discard, body)
	return err
}

// errorKind is an SDK error's kind ("" for no error).
func errorKind(err error) string {
	if err == nil {
		return ""
	}
	if kind := sdk.ErrorKind(err); kind != "" {
		return kind
	}
	return "untyped"
}

// rawExchange is one request of a raw entry, built once.
type rawExchange struct {
	method string
	url    string
	header http.Header
	body   []byte // nil: no body
}

// prepareRaw resolves a raw entry's requests against the base URL and decodes their bodies once.
func prepareRaw(e loadEntry, base *url.URL, client *http.Client) (prepared, error) {
	if len(e.Raw) == 0 {
		return nil, errors.New("a raw entry needs requests")
	}
	exchanges := make([]rawExchange, len(e.Raw))
	for i, r := range e.Raw {
		target, err := base.Parse(r.Path)
		if err != nil {
			return nil, fmt.Errorf("request %d: path: %w", i, err)
		}
		x := rawExchange{method: r.Method, url: target.String(), header: http.Header{}}
		for name, value := range r.Headers {
			x.header.Set(name, value)
		}
		if r.BodyBase64 != nil {
			if x.body, err = base64.StdEncoding.DecodeString(*r.BodyBase64); err != nil {
				return nil, fmt.Errorf("request %d: body_base64: %w", i, err)
			}
		}
		if _, err := http.NewRequest(x.method, x.url, nil); err != nil {
			return nil, fmt.Errorf("request %d: %w", i, err)
		}
		exchanges[i] = x
	}
	call := func(ctx context.Context) (string, int) {
		for _, x := range exchanges {
			if kind := x.send(ctx, client); kind != "" {
				return kind, 0
			}
		}
		return "", 0
	}
	return func() caller { return call }, nil
}

// send makes the exchange and handles its response as a hand-written call would (see decodeRaw),
// reading the body to its end so that the connection goes back to the pool, as the SDK's does; a
// status of 400 or more is an api error (its body read, not decoded).
func (x rawExchange) send(ctx context.Context, client *http.Client) string {
	var body io.Reader
	if x.body != nil {
		body = bytes.NewReader(x.body)
	}
	req, err := http.NewRequestWithContext(ctx, x.method, x.url, body)
	if err != nil {
		return "invalid_request"
	}
	req.Header = x.header.Clone() // net/http may add to a request's header
	resp, err := client.Do(req)
	if err != nil {
		return rawErrorKind(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return rawErrorKind(err)
		}
		return "api"
	}
	return decodeRaw(resp)
}

// decodeRaw consumes a successful raw response the way a hand-written call does, with the
// standard library's generic tools, so that the SDK's overhead is measured against a call that
// also decodes what it receives: an application/json (or +json) body is read whole and decoded
// by encoding/json into an any; a text/event-stream is split into its events (blank-line
// separated) and the data of each (its data: lines joined by newlines) is decoded the same way;
// any other body is read to its end. A body that does not decode is a decode error.
func decodeRaw(resp *http.Response) string {
	media, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	media = strings.ToLower(strings.TrimSpace(media))
	switch {
	case media == "application/json" || strings.HasSuffix(media, "+json"):
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return rawErrorKind(err)
		}
		if len(data) == 0 && resp.StatusCode == http.StatusNoContent {
			return ""
		}
		var v any
		if json.Unmarshal(data, &v) != nil {
			return "decode"
		}
	case media == "text/event-stream":
		return decodeRawEvents(resp.Body)
	default:
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return rawErrorKind(err)
		}
	}
	return ""
}

// maxRawEventLine bounds one line of a raw event stream (the scanner's buffer grows up to it).
const maxRawEventLine = 1 << 20

// decodeRawEvents reads an event stream line by line and decodes the data of each event as JSON
// (an event without data: lines dispatches nothing, as in the HTML standard's parser).
func decodeRawEvents(body io.Reader) string {
	scanner := bufio.NewScanner(body)
	scanner.Buffer(make([]byte, 0, 4096), maxRawEventLine)
	var data []byte
	hasData := false
	dispatch := func() bool {
		defer func() { data, hasData = data[:0], false }()
		var v any
		return !hasData || json.Unmarshal(data, &v) == nil
	}
	for scanner.Scan() {
		line := scanner.Bytes()
		if len(line) == 0 {
			if !dispatch() {
				return "decode"
			}
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if string(field) != "data" {
			continue
		}
		value = bytes.TrimPrefix(value, []byte(" "))
		if hasData {
			data = append(data, '\n')
		}
		data, hasData = append(data, value...), true
	}
	if err := scanner.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return "decode"
		}
		return rawErrorKind(err)
	}
	return "" // an event the stream ends inside of is dropped, as the standard (and the SDK) says
}

// rawErrorKind names a net/http failure with the SDK's kinds.
func rawErrorKind(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	}
	return "connection"
}

// run sends the load with `concurrency` workers, each with its own callers and statistics
// (merged at the end, so that recording takes no lock). Request i is entry sequence[i % n]; the
// workers claim the requests in order. Open model: request i is due at start + i/rate whatever
// happened before, and its latency runs from then, so a call that waited for a free worker
// counts its wait. Closed model: a worker starts its next request as soon as its last one ends,
// and latency runs from the start. Nothing starts at or after the deadline or beyond
// max_requests. With two clients (a paired load), request i is made by both, one right after the
// other, the SDK first when i is even: both see the same machine, call by call.
func (l *loadLine) run(clients [][]prepared) (started int64, wall time.Duration, stats [][]entryStats, panicked any) {
	start := time.Now()
	deadline := start.Add(millis(l.DurationMs))
	var (
		next    atomic.Int64
		stop    atomic.Bool
		mu      sync.Mutex // guards panicked
		wg      sync.WaitGroup
		ctx     = context.Background()
		workers = make([][][]entryStats, l.Concurrency)
	)
	stats = make([][]entryStats, len(clients))
	for c := range clients {
		stats[c] = make([]entryStats, len(clients[c]))
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					stop.Store(true)
					mu.Lock()
					panicked = p
					mu.Unlock()
				}
			}()
			own := make([][]entryStats, len(clients))
			callers := make([][]caller, len(clients))
			for c, entries := range clients {
				own[c] = make([]entryStats, len(entries))
				callers[c] = make([]caller, len(entries))
				for i, p := range entries {
					callers[c][i] = p()
				}
			}
			workers[w] = own
			for !stop.Load() {
				i := next.Add(1) - 1
				if i >= l.MaxRequests {
					return
				}
				var due time.Time
				if l.Model == "open" {
					due = start.Add(time.Duration(float64(i) / l.RatePerS * float64(time.Second)))
					if !due.Before(deadline) {
						return
					}
					time.Sleep(time.Until(due))
				}
				now := time.Now()
				if !now.Before(deadline) {
					return
				}
				if l.Model != "open" {
					due = now
				}
				entry := l.Sequence[i%int64(len(l.Sequence))]
				for n := range callers {
					c := (n + int(i%2)) % len(callers) // a paired load alternates who goes first
					if n > 0 {
						due = time.Now()
					}
					kind, retries := callers[c][entry](ctx)
					own[c][entry].record(time.Since(due), kind, retries)
				}
			}
		}()
	}
	wg.Wait()
	wall = time.Since(start)
	for _, own := range workers {
		for c := range own {
			for i := range own[c] {
				stats[c][i].merge(&own[c][i])
				if c == 0 {
					started += own[c][i].count
				}
			}
		}
	}
	return started, wall, stats, panicked
}

// entryStats are one entry's counts and latency histogram (one worker's, or merged).
type entryStats struct {
	count, ok, retries, maxUs int64
	errors                    map[string]int64
	latency                   map[int64]int64 // by threeDigits bucket
}

func (s *entryStats) record(latency time.Duration, kind string, retries int) {
	us := max(latency.Microseconds(), 0)
	s.count++
	s.retries += int64(retries)
	s.maxUs = max(s.maxUs, us)
	if s.latency == nil {
		s.latency, s.errors = map[int64]int64{}, map[string]int64{}
	}
	s.latency[threeDigits(us)]++
	if kind == "" {
		s.ok++
	} else {
		s.errors[kind]++
	}
}

func (s *entryStats) merge(o *entryStats) {
	if o.count == 0 {
		return
	}
	if s.latency == nil {
		s.latency, s.errors = map[int64]int64{}, map[string]int64{}
	}
	s.count += o.count
	s.ok += o.ok
	s.retries += o.retries
	s.maxUs = max(s.maxUs, o.maxUs)
	for bucket, n := range o.latency {
		s.latency[bucket] += n
	}
	for kind, n := range o.errors {
		s.errors[kind] += n
	}
}

func (s *entryStats) result(name string) entryResult {
	r := entryResult{Name: name, Count: s.count, OK: s.ok, Errors: map[string]int64{}, Retries: s.retries,
		LatencyUs: map[string]int64{}, MaxUs: s.maxUs}
	for kind, n := range s.errors {
		r.Errors[kind] = n
	}
	for bucket, n := range s.latency {
		r.LatencyUs[strconv.FormatInt(bucket, 10)] = n
	}
	return r
}

// threeDigits rounds a non-negative value down to three significant digits (1234 -> 1230): the
// bucket of an HDR-style histogram with at most 0.1% relative error.
func threeDigits(v int64) int64 {
	scale := int64(1)
	for v/scale >= 1000 {
		scale *= 10
	}
	return v / scale * scale
}
