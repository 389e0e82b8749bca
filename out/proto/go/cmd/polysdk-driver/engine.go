// This file is the driver's hand-written protocol engine (templates/go/driver/engine.go in
// polysdk, tested by engine_test.go); dispatch.go, generated, maps operationIds to SDK calls.

// Command polysdk-driver is the conformance driver of this SDK (conformance/PROTOCOL.md in polysdk,
// version 1). It writes a hello line, then reads one JSON case per line on stdin, runs each case in
// its own goroutine against a fresh client and writes one JSON result line per case on stdout; a
// {"type": "cancel", "id": ...} line cancels that case's context. It makes no assertions: it
// reports what the SDK surfaced. A load line runs a whole load with one client and answers with
// one load_result line (load.go). At EOF it waits for the cases and loads in flight.
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
	"iter"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	sdk "github.com/polysdk/orchestrator-proto-sdk-go"
)

const protocolVersion = 1

// maxLine is the longest case line the driver reads.
const maxLine = 64 << 20

type hello struct {
	Type         string   `json:"type"`
	Protocol     int      `json:"protocol"`
	SDK          string   `json:"sdk"`
	SDKName      string   `json:"sdk_name"`
	SDKVersion   string   `json:"sdk_version"`
	Capabilities []string `json:"capabilities"`
}

type logLine struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// caseLine is one case from the runner. Pointers tell absent or null (the SDK default) from a value.
type caseLine struct {
	Type      string                     `json:"type"`
	ID        json.RawMessage            `json:"id"`
	BaseURL   *string                    `json:"base_url"`
	Operation string                     `json:"operation"`
	Mode      string                     `json:"mode"`
	Args      map[string]json.RawMessage `json:"args"`
	Client    *clientOptions             `json:"client"`
	Request   *requestOptions            `json:"request"`
	Take      *int                       `json:"take"`
	Cancel    *cancelPlan                `json:"cancel"`

	// ctx is the case's cancellation handle, registered by accept so that a cancel line finds
	// it; cancel cancels it. runCase makes its own when they are nil (tests).
	ctx    context.Context
	cancel context.CancelFunc
}

type clientOptions struct {
	BearerToken *string            `json:"bearer_token"`
	APIKey      *string            `json:"api_key"`
	TimeoutMs   *float64           `json:"timeout_ms"`
	MaxRetries  *int               `json:"max_retries"`
	Headers     map[string]*string `json:"headers"`
	Env         map[string]*string `json:"env"`
	// MaxResponseBytes is the SDK's limit on a buffered body and on one event of a stream.
	MaxResponseBytes *int64 `json:"max_response_bytes"`
}

type requestOptions struct {
	TimeoutMs      *float64           `json:"timeout_ms"`
	MaxRetries     *int               `json:"max_retries"`
	Headers        map[string]*string `json:"headers"`
	IdempotencyKey *string            `json:"idempotency_key"`
	// MaxResponseBytes is the per-call limit on a buffered body and on one event of a stream.
	MaxResponseBytes *int64 `json:"max_response_bytes"`
}

type cancelPlan struct {
	BeforeSend  bool     `json:"before_send"`
	AfterMs     *float64 `json:"after_ms"`
	AfterEvents *int     `json:"after_events"`
	// OnSignal: the runner sends a cancel line for the case when it should be cancelled (every
	// case can be cancelled that way; the flag only says the case expects it).
	OnSignal bool `json:"on_signal"`
}

type errorResult struct {
	Kind      string  `json:"kind"`
	Status    *int    `json:"status"`
	Code      *string `json:"code"`
	Message   string  `json:"message"`
	RequestID *string `json:"request_id"`
	Debug     string  `json:"debug"`
	// Details is the raw `details` of a Connect error or a google.rpc.Status, when it has them.
	Details json.RawMessage `json:"details,omitempty"`
}

type result struct {
	Type            string            `json:"type"`
	ID              json.RawMessage   `json:"id"`
	Outcome         string            `json:"outcome"`
	Message         string            `json:"message,omitempty"`
	Value           json.RawMessage   `json:"value,omitempty"`
	Pages           []json.RawMessage `json:"pages,omitzero"`
	Items           []json.RawMessage `json:"items,omitzero"`
	Events          []json.RawMessage `json:"events,omitzero"`
	HTTPStatus      *int              `json:"http_status,omitempty"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	Attempts        *int              `json:"attempts"`
	ElapsedMs       *float64          `json:"elapsed_ms,omitempty"`
	Error           *errorResult      `json:"error,omitempty"`
}

// callFunc makes one call; seqFunc starts an iteration (pages, items or stream events).
type (
	callFunc func(ctx context.Context, c *sdk.Client, o []sdk.RequestOption) (any, error)
	seqFunc  func(ctx context.Context, c *sdk.Client, o []sdk.RequestOption) iter.Seq2[any, error]
)

// operation holds what the SDK offers for one operation; a nil mode is not supported.
type operation struct {
	call        callFunc
	pages       seqFunc
	items       seqFunc
	stream      seqFunc
	unsupported string // why the driver cannot call the operation at all
}

// lookupOperation finds an operation's builder (lookup, in the generated dispatch.go; tests
// replace it).
var lookupOperation = lookup

var (
	outMu sync.Mutex // one line at a time on stdout
	envMu sync.Mutex // client construction, which reads the environment
)

// output receives the driver's lines (tests replace it).
var output io.Writer = os.Stdout

func emit(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(logLine{Type: "log", Message: "cannot encode a line: " + err.Error()})
	}
	outMu.Lock()
	defer outMu.Unlock()
	_, _ = output.Write(append(data, '\n'))
}

func main() {
	serve(os.Stdin)
}

// serve writes the hello line, then answers every case line of in; it returns at EOF once the
// cases in flight are answered.
func serve(in io.Reader) {
	emit(hello{
		Type:         "hello",
		Protocol:     protocolVersion,
		SDK:          "go",
		SDKName:      sdkModule,
		SDKVersion:   sdk.SDKVersion,
		Capabilities: capabilities,
	})
	reader := bufio.NewReaderSize(in, 1<<20)
	var wg sync.WaitGroup
	for {
		line, tooLong, err := readLine(reader)
		if tooLong {
			emit(logLine{Type: "log", Message: fmt.Sprintf("skipped a line longer than %d bytes", maxLine)})
		} else if len(bytes.TrimSpace(line)) > 0 {
			// Lines are accepted in order (a cancel line always finds the case before it); cases
			// and loads then run concurrently.
			if job := accept(line); job != nil {
				wg.Add(1)
				go func() {
					defer wg.Done()
					emit(job())
				}()
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				emit(logLine{Type: "log", Message: "cannot read stdin: " + err.Error()})
			}
			break
		}
	}
	wg.Wait()
}

// readLine reads one line (without its end); a line longer than maxLine is read to its end and
// dropped, so that one bad line does not stop the driver. err is io.EOF after the last line.
func readLine(r *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong && len(line)+len(chunk) > maxLine+1 {
			tooLong, line = true, nil
		}
		if !tooLong {
			line = append(line, chunk...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return bytes.TrimRight(line, "\r\n"), tooLong, err
		}
	}
}

func hasID(id json.RawMessage) bool {
	return len(id) > 0 && string(id) != "null"
}

// cases are the cancellation handles of the cases in flight, by id.
type cases struct {
	mu      sync.Mutex
	cancels map[string]context.CancelFunc
}

var running = &cases{cancels: map[string]context.CancelFunc{}}

// idKey is an id's canonical JSON, so that two spellings of one id match.
func idKey(id json.RawMessage) string {
	var v any
	if json.Unmarshal(id, &v) != nil {
		return string(id)
	}
	data, _ := json.Marshal(v)
	return string(data)
}

func (cs *cases) add(id json.RawMessage, cancel context.CancelFunc) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.cancels[idKey(id)] = cancel
}

func (cs *cases) remove(id json.RawMessage) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.cancels, idKey(id))
}

// cancel cancels a case in flight; an unknown or finished case is ignored.
func (cs *cases) cancel(id json.RawMessage) {
	cs.mu.Lock()
	cancel := cs.cancels[idKey(id)]
	cs.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// accept reads one line: a cancel line takes effect at once; a case line gets its cancellation
// handle, registered under its id, and is returned to be run, as is a load line. Anything else is
// answered here.
func accept(line []byte) func() any {
	var probe struct {
		Type string          `json:"type"`
		ID   json.RawMessage `json:"id"`
	}
	// A line that is not even this is reported below, by the case decoder.
	if json.Unmarshal(line, &probe) == nil && probe.Type == "load" && hasID(probe.ID) {
		return acceptLoad(probe.ID, line)
	}
	var c caseLine
	if err := json.Unmarshal(line, &c); err != nil {
		var probe struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(line, &probe) == nil && hasID(probe.ID) {
			emit(failure(probe.ID, "driver_error", "cannot decode the case line: "+err.Error()))
		} else {
			emit(logLine{Type: "log", Message: "cannot decode a line: " + err.Error()})
		}
		return nil
	}
	if !hasID(c.ID) {
		emit(logLine{Type: "log", Message: "a line without an id"})
		return nil
	}
	switch c.Type {
	case "case":
	case "cancel":
		running.cancel(c.ID)
		return nil
	default:
		emit(failure(c.ID, "driver_error", fmt.Sprintf("unexpected line type %q", c.Type)))
		return nil
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	running.add(c.ID, c.cancel)
	return func() any {
		defer running.remove(c.ID)
		return runCase(&c)
	}
}

func failure(id json.RawMessage, outcome, message string) *result {
	return &result{Type: "result", ID: id, Outcome: outcome, Message: message}
}

// runCase runs one case; a panic becomes a driver_error.
func runCase(c *caseLine) (res *result) {
	defer func() {
		if p := recover(); p != nil {
			res = failure(c.ID, "driver_error", fmt.Sprintf("panic: %v", p))
		}
	}()
	op, a, err := buildOperation(c.Operation, c.Args)
	if err != nil {
		return failure(c.ID, "driver_error", err.Error())
	}
	mode, seq, why := op.mode(c.Operation, c.Mode)
	if why != "" {
		return failure(c.ID, "unsupported", why)
	}
	plan := c.Cancel
	if plan == nil {
		plan = &cancelPlan{}
	}
	if plan.AfterEvents != nil && mode == "call" {
		return failure(c.ID, "unsupported", "cancel after_events needs an iteration mode")
	}

	// Each case's client gets its own transport, as a fresh client per case intends. With the
	// shared http.DefaultTransport a scripted fault could land on a connection another case left
	// idle, and net/http silently resends an idempotent request that fails on a reused
	// connection, so fault cases would depend on the order in which cases happened to run.
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := newClient(c.BaseURL, c.Client, transport)
	var (
		resp     *http.Response
		attempts int
	)
	opts := requestOpts(c.Request, a.idempotencyKey)
	opts = append(opts, sdk.WithResponseInto(&resp), sdk.WithAttemptsInto(&attempts))
	ctx, cancel := c.ctx, c.cancel
	if ctx == nil {
		ctx, cancel = context.WithCancel(context.Background())
	}
	defer cancel()
	if plan.BeforeSend {
		cancel()
	}
	start := time.Now()
	if plan.AfterMs != nil {
		timer := time.AfterFunc(millis(*plan.AfterMs), cancel)
		defer timer.Stop()
	}
	res = &result{Type: "result", ID: c.ID, Attempts: &attempts}
	if mode == "call" {
		value, err := op.call(ctx, client, opts)
		if err == nil {
			value, err = settle(value)
		}
		res.ElapsedMs = since(start)
		if err != nil {
			res.Outcome, res.Error = "error", describe(err)
			return res
		}
		data, err := json.Marshal(value)
		if err != nil {
			return failure(c.ID, "driver_error", "cannot encode the value: "+err.Error())
		}
		res.Outcome, res.Value = "ok", data
		if resp != nil {
			status := resp.StatusCode
			res.HTTPStatus, res.ResponseHeaders = &status, headers(resp.Header)
		}
		return res
	}
	values := []json.RawMessage{}
	var failed error
	if c.Take == nil || *c.Take > 0 {
		for value, err := range seq(ctx, client, opts) {
			if err != nil {
				failed = err
				break
			}
			data, err := json.Marshal(value)
			if err != nil {
				return failure(c.ID, "driver_error", "cannot encode a value: "+err.Error())
			}
			values = append(values, data)
			if plan.AfterEvents != nil && len(values) == *plan.AfterEvents {
				cancel() // cancel the call's context, and go on consuming
			}
			if c.Take != nil && len(values) >= *c.Take {
				break
			}
		}
	}
	res.ElapsedMs = since(start)
	switch mode {
	case "pages":
		res.Pages = values
	case "items":
		res.Items = values
	default:
		res.Events = values
	}
	res.Outcome = "ok"
	if failed != nil {
		res.Outcome, res.Error = "error", describe(failed)
	}
	return res
}

// buildOperation decodes an operation's arguments (by their contract names) and returns its calls;
// an unknown operation or argument, or one that does not decode, is an error.
func buildOperation(operationID string, raw map[string]json.RawMessage) (operation, *args, error) {
	build := lookupOperation(operationID)
	if build == nil {
		return operation{}, nil, fmt.Errorf("unknown operation %q", operationID)
	}
	a := newArgs(raw, "")
	op := build(a)
	if a.err == nil {
		if unknown := a.unused(); len(unknown) > 0 {
			a.err = fmt.Errorf("unknown arguments %q", unknown)
		}
	}
	return op, a, a.err
}

// mode picks the function of a case's or load entry's mode ("" is call); seq is nil for call, and
// why says why the mode cannot run (an unsupported operation, an unknown or inapplicable mode).
func (op operation) mode(operationID, mode string) (name string, seq seqFunc, why string) {
	if op.unsupported != "" {
		return "", nil, op.unsupported
	}
	if mode == "" {
		mode = "call"
	}
	switch mode {
	case "call":
		if op.call == nil {
			return "", nil, fmt.Sprintf("%q is an event stream: only mode stream applies", operationID)
		}
		return mode, nil, ""
	case "pages":
		seq = op.pages
	case "items":
		seq = op.items
	case "stream":
		seq = op.stream
	default:
		return "", nil, fmt.Sprintf("unknown mode %q", mode)
	}
	if seq == nil {
		return "", nil, fmt.Sprintf("mode %s does not apply to %q in this SDK", mode, operationID)
	}
	return mode, seq, ""
}

func millis(ms float64) time.Duration {
	return time.Duration(ms * float64(time.Millisecond))
}

func since(start time.Time) *float64 {
	elapsed := float64(time.Since(start).Microseconds()) / 1000
	return &elapsed
}

// settle turns a streamed download into its canonical form, reading it fully.
func settle(value any) (any, error) {
	body, ok := value.(io.ReadCloser)
	if !ok {
		return value, nil
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	return map[string]string{"base64": base64.StdEncoding.EncodeToString(data)}, nil
}

// headers lower-cases the names and keeps the first value of each.
func headers(h http.Header) map[string]string {
	out := map[string]string{}
	for name, values := range h {
		if len(values) > 0 {
			out[strings.ToLower(name)] = values[0]
		}
	}
	return out
}

// maxDebugBytes bounds an error's debug text: a hostile body of tens of MiB kept in an error
// would otherwise make a result line of hundreds of MiB (its bytes printed one by one).
const maxDebugBytes = 4096

// describe maps an error with the SDK's ErrorKind; an error it does not classify is "untyped".
func describe(err error) *errorResult {
	e := &errorResult{Kind: sdk.ErrorKind(err), Message: err.Error(), Debug: debugText(err)}
	if e.Kind == "" {
		e.Kind = "untyped"
	}
	var apiErr *sdk.APIError
	if errors.As(err, &apiErr) {
		status := apiErr.StatusCode
		e.Status = &status
		if apiErr.Code != "" {
			code := apiErr.Code
			e.Code = &code
		}
		if apiErr.RequestID != "" {
			requestID := apiErr.RequestID
			e.RequestID = &requestID
		}
		e.Details = apiErr.Details
	}
	// A deadline_exceeded the server reported: its status, code and details, as for an API error.
	var timeout *sdk.TimeoutError
	if errors.As(err, &timeout) && timeout.Code != "" {
		status, code := timeout.StatusCode, timeout.Code
		e.Status, e.Code = &status, &code
		if len(timeout.Details) > 0 {
			e.Details = timeout.Details
		}
	}
	// A decode error has a status too (the response arrived); Rust and TypeScript report it.
	var decodeErr *sdk.DecodeError
	if errors.As(err, &decodeErr) && decodeErr.StatusCode != 0 {
		status := decodeErr.StatusCode
		e.Status = &status
	}
	return e
}

func sortedKeys(m map[string]*string) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

// newClient builds a case's or a load's client on transport; its environment variables are set
// only while NewClient reads them, under a lock every construction takes.
func newClient(baseURL *string, cl *clientOptions, transport http.RoundTripper) *sdk.Client {
	opts := []sdk.Option{sdk.WithHTTPClient(&http.Client{Transport: transport})}
	if baseURL != nil {
		opts = append(opts, sdk.WithBaseURL(*baseURL))
	}
	if cl == nil {
		cl = &clientOptions{}
	}
	if cl.BearerToken != nil {
		opts = append(opts, sdk.WithBearerToken(*cl.BearerToken))
	}
	if cl.APIKey != nil {
		opts = append(opts, sdk.WithAPIKey(*cl.APIKey))
	}
	if cl.TimeoutMs != nil {
		opts = append(opts, sdk.WithTimeout(millis(*cl.TimeoutMs)))
	}
	if cl.MaxRetries != nil {
		opts = append(opts, sdk.WithMaxRetries(*cl.MaxRetries))
	}
	if cl.MaxResponseBytes != nil {
		opts = append(opts, sdk.WithMaxResponseBytes(*cl.MaxResponseBytes))
	}
	for _, name := range sortedKeys(cl.Headers) {
		if value := cl.Headers[name]; value != nil {
			opts = append(opts, sdk.WithHeader(name, *value))
		}
	}
	envMu.Lock()
	defer envMu.Unlock()
	type saved struct {
		value string
		set   bool
	}
	previous := map[string]saved{}
	for _, name := range sortedKeys(cl.Env) {
		value, set := os.LookupEnv(name)
		previous[name] = saved{value, set}
		if v := cl.Env[name]; v != nil {
			_ = os.Setenv(name, *v)
		} else {
			_ = os.Unsetenv(name)
		}
	}
	defer func() {
		for name, old := range previous {
			if old.set {
				_ = os.Setenv(name, old.value)
			} else {
				_ = os.Unsetenv(name)
			}
		}
	}()
	return sdk.NewClient(opts...)
}

// requestOpts are the case's per-call options.
func requestOpts(r *requestOptions, idempotencyKey *string) []sdk.RequestOption {
	var opts []sdk.RequestOption
	if idempotencyKey != nil {
		opts = append(opts, sdk.WithIdempotencyKey(*idempotencyKey))
	}
	if r == nil {
		return opts
	}
	if r.TimeoutMs != nil {
		opts = append(opts, sdk.WithTimeout(millis(*r.TimeoutMs)))
	}
	if r.MaxRetries != nil {
		opts = append(opts, sdk.WithMaxRetries(*r.MaxRetries))
	}
	if r.MaxResponseBytes != nil {
		opts = append(opts, sdk.WithMaxResponseBytes(*r.MaxResponseBytes))
	}
	for _, name := range sortedKeys(r.Headers) {
		if value := r.Headers[name]; value != nil {
			opts = append(opts, sdk.WithHeader(name, *value))
		}
	}
	if r.IdempotencyKey != nil {
		opts = append(opts, sdk.WithIdempotencyKey(*r.IdempotencyKey))
	}
	return opts
}

// args are a case's arguments by contract name; every decoder marks its key as used.
type args struct {
	raw            map[string]json.RawMessage
	used           map[string]bool
	prefix         string
	children       []*args
	err            error
	idempotencyKey *string
}

func newArgs(raw map[string]json.RawMessage, prefix string) *args {
	return &args{raw: raw, used: map[string]bool{}, prefix: prefix}
}

// unused lists the arguments no decoder took, sorted.
func (a *args) unused() []string {
	var out []string
	for key := range a.raw {
		if !a.used[key] {
			out = append(out, a.prefix+key)
		}
	}
	for _, child := range a.children {
		out = append(out, child.unused()...)
	}
	sort.Strings(out)
	return out
}

func (a *args) take(key string) (json.RawMessage, bool) {
	raw, ok := a.raw[key]
	if ok {
		a.used[key] = true
	}
	return raw, ok
}

func (a *args) fail(key string, err error) {
	if a.err == nil {
		a.err = fmt.Errorf("argument %q: %w", a.prefix+key, err)
	}
}

// decode sets *dst from the argument's JSON (numbers in `any` kept exact); absent leaves it unset
// and null sets a pointer, slice or map to nil.
func (a *args) decode(key string, dst any) {
	raw, ok := a.take(key)
	if !ok {
		return
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	if err := decoder.Decode(dst); err != nil {
		a.fail(key, err)
	}
}

// base64Arg decodes a base64 string argument; ok is false when it is absent or null.
func (a *args) base64Arg(key string) (data []byte, ok bool) {
	raw, ok := a.take(key)
	if !ok || string(raw) == "null" {
		return nil, false
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		a.fail(key, err)
		return nil, false
	}
	data, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		a.fail(key, err)
		return nil, false
	}
	return data, true
}

// anySeq erases the element type of an SDK iterator.
func anySeq[T any](seq iter.Seq2[T, error]) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for value, err := range seq {
			if !yield(value, err) {
				return
			}
		}
	}
}

// payload is a binary body decoded from a base64 string; absent or null sets nothing.
type payload struct {
	data []byte
	set  bool
}

// into gives one call its body: a bytes.Reader of its own, so that a retry can resend it and
// calls made at once do not share a read position.
func (b payload) into(dst *io.Reader) {
	if b.set {
		*dst = bytes.NewReader(b.data)
	}
}

// reader decodes a binary body from a base64 string.
func (a *args) reader(key string) payload {
	data, ok := a.base64Arg(key)
	return payload{data: data, set: ok}
}

// filePart is a multipart file part; absent or null sets nothing.
type filePart struct {
	payload
	filename, contentType string
}

// into gives one call its file part, with a reader of its own.
func (f filePart) into(dst **sdk.File) {
	if f.set {
		*dst = &sdk.File{Filename: f.filename, ContentType: f.contentType, Content: bytes.NewReader(f.data)}
	}
}

// file decodes a multipart file part from a base64 string, or from an object with "base64" and
// optional "filename" and "content_type".
func (a *args) file(key string) filePart {
	raw, ok := a.raw[key]
	if !ok || string(raw) == "null" {
		a.take(key)
		return filePart{}
	}
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return filePart{payload: a.reader(key)}
	}
	a.take(key)
	var part struct {
		Base64      string `json:"base64"`
		Filename    string `json:"filename"`
		ContentType string `json:"content_type"`
	}
	if err := json.Unmarshal(raw, &part); err != nil {
		a.fail(key, err)
		return filePart{}
	}
	data, err := base64.StdEncoding.DecodeString(part.Base64)
	if err != nil {
		a.fail(key, err)
		return filePart{}
	}
	return filePart{payload: payload{data: data, set: true}, filename: part.Filename, contentType: part.ContentType}
}

// object returns the fields of an object argument (a multipart body) as arguments of their own.
func (a *args) object(key string) *args {
	child := newArgs(nil, a.prefix+key+".")
	child.err = a.err
	a.children = append(a.children, child)
	raw, ok := a.take(key)
	if ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &child.raw); err != nil {
			a.fail(key, err)
		}
	}
	return child
}

// idempotency takes the operation's idempotency key header as the call's idempotency key.
func (a *args) idempotency(key string) {
	raw, ok := a.take(key)
	if !ok || string(raw) == "null" {
		return
	}
	var value string
	if err := json.Unmarshal(raw, &value); err != nil {
		a.fail(key, err)
		return
	}
	a.idempotencyKey = &value
}

// debugText is the error's Go syntax, cut at maxDebugBytes (on a character boundary).
func debugText(err error) string {
	text := fmt.Sprintf("%#v", bodyCut(err))
	if len(text) <= maxDebugBytes {
		return text
	}
	cut := maxDebugBytes
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d more bytes)", text[:cut], len(text)-cut)
}

// bodyCut is err with the body of an API or decode error cut at maxDebugBytes before it is
// formatted: %#v writes each byte of a []byte as six characters, so a 32 MiB body cost seconds
// of CPU and a 200 MB string only for debugText to keep its first 4 KiB.
func bodyCut(err error) error {
	switch e := err.(type) {
	case *sdk.APIError:
		if len(e.Body) > maxDebugBytes {
			cut := *e
			cut.Body = cut.Body[:maxDebugBytes]
			return &cut
		}
	case *sdk.DecodeError:
		if len(e.Body) > maxDebugBytes {
			cut := *e
			cut.Body = cut.Body[:maxDebugBytes]
			return &cut
		}
	}
	return err
}
