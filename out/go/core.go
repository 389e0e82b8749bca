package orchestrator

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Option configures a Client (passed to NewClient) or a single call (passed to a method). Options
// given to a method apply on top of the client's for that call only.
type Option func(*config)

// RequestOption is an Option passed to one method call.
type RequestOption = Option

// authScheme says how the contract authenticates: bearer tokens, API keys, or both.
type authScheme struct {
	bearer     bool   // an http bearer, oauth2 or openid scheme exists
	apiKeyIn   string // "header", "query" or "cookie"; "" when there is no API key scheme
	apiKeyName string // the header, query parameter or cookie carrying the API key
}

// clientDefaults are the generated, contract-specific defaults of a Client.
type clientDefaults struct {
	baseURL        string
	envBaseURL     string
	envAPIKey      string
	envBearerToken string
	userAgent      string
	auth           authScheme
}

type config struct {
	baseURL        string
	envBaseURL     string // the variable that sets baseURL, named in the error when there is none
	bearerToken    string
	bearerHeader   string // "Bearer " + bearerFor: the Authorization value, built once per token
	bearerFor      string
	apiKey         string
	httpClient     *http.Client
	timeout        time.Duration
	callerTimeout  bool // timeout was set with WithTimeout rather than left at the SDK's default
	maxRetries     int
	maxResponse    int64
	header         http.Header
	sharedHeader   bool   // header is the client's: cloned before an option of one call changes it
	checkedBase    string // a baseURL already found absolute (set once the client is built)
	userAgent      string
	idempotencyKey string
	responseInto   **http.Response
	attemptsInto   *int
	auth           authScheme
	// Backoff bounds; tests shorten them.
	initialBackoff time.Duration
	maxBackoff     time.Duration
	maxRetryAfter  time.Duration
}

const (
	defaultTimeout        = 60 * time.Second
	defaultMaxRetries     = 2
	defaultInitialBackoff = 500 * time.Millisecond
	defaultMaxBackoff     = 8 * time.Second
	defaultMaxRetryAfter  = 60 * time.Second
)

func newConfig(d clientDefaults, opts []Option) *config {
	c := &config{
		baseURL:        d.baseURL,
		envBaseURL:     d.envBaseURL,
		httpClient:     http.DefaultClient,
		timeout:        defaultTimeout,
		maxRetries:     defaultMaxRetries,
		maxResponse:    defaultMaxResponseBytes,
		header:         http.Header{},
		userAgent:      d.userAgent,
		auth:           d.auth,
		initialBackoff: defaultInitialBackoff,
		maxBackoff:     defaultMaxBackoff,
		maxRetryAfter:  defaultMaxRetryAfter,
	}
	if v := os.Getenv(d.envBaseURL); d.envBaseURL != "" && v != "" {
		c.baseURL = v
	}
	if v := os.Getenv(d.envAPIKey); d.envAPIKey != "" && v != "" {
		c.apiKey = v
	}
	if v := os.Getenv(d.envBearerToken); d.envBearerToken != "" && v != "" {
		c.bearerToken = v
	}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	if c.baseIsAbsolute() {
		c.checkedBase = c.baseURL // calls need not parse it again
	}
	c.authorization() // built here, so that concurrent calls only read it
	return c
}

// with is the configuration of one call: the client's with the call's options on top. The
// header is shared until an option changes it (most calls change none).
func (c *config) with(opts []Option) *config {
	if len(opts) == 0 {
		return c
	}
	copied := *c
	copied.sharedHeader = true
	for _, opt := range opts {
		if opt != nil {
			opt(&copied)
		}
	}
	return &copied
}

// WithBaseURL sets the URL the API is served from. A path prefix is kept: operations are
// resolved below it.
func WithBaseURL(baseURL string) Option { return func(c *config) { c.baseURL = baseURL } }

// WithBearerToken authenticates with `Authorization: Bearer <token>`.
func WithBearerToken(token string) Option { return func(c *config) { c.bearerToken = token } }

// WithAPIKey authenticates with the contract's API key header, query parameter or cookie.
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithHTTPClient sets the *http.Client that sends requests (default http.DefaultClient). The SDK
// uses a copy of it that does not follow redirects by itself: the SDK follows them (at most 10,
// dropping credentials when a redirect leaves the API's origin), so its CheckRedirect is not used.
func WithHTTPClient(client *http.Client) Option {
	return func(c *config) {
		if client != nil {
			c.httpClient = client
		}
	}
}

// WithTimeout limits each attempt (default 60s): a request that is retried gets the full timeout
// again. Zero or a negative duration means no limit. Streamed bodies (downloads, event streams)
// are limited until their response headers arrive, not while they are read, except a Connect
// server stream: a timeout set with this option bounds the whole stream, from the start of its
// attempt. A Connect call sends the timeout set here (or the context's deadline, when sooner) as
// Connect-Timeout-Ms; the default is the SDK's guard against a hung connection and is not sent.
func WithTimeout(timeout time.Duration) Option {
	return func(c *config) { c.timeout, c.callerTimeout = timeout, true }
}

// WithMaxRetries sets how many times a failed attempt is retried (default 2; 0 disables retries).
func WithMaxRetries(retries int) Option {
	return func(c *config) { c.maxRetries = max(retries, 0) }
}

// WithMaxResponseBytes bounds the memory a response can take (default 32 MiB): a buffered body
// (JSON, text, bytes, after gzip decompression) longer than n bytes is a *DecodeError naming
// max_response_bytes, an error body is cut at n bytes (the *APIError is kept), and one event of an
// event stream may hold at most n bytes. Streamed downloads are not bounded. n <= 0 restores the
// default.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) {
		if n <= 0 {
			n = defaultMaxResponseBytes
		}
		c.maxResponse = n
	}
}

// responseLimit is max_response_bytes, the default when unset.
func (c *config) responseLimit() int64 {
	if c.maxResponse <= 0 {
		return defaultMaxResponseBytes
	}
	return c.maxResponse
}

// WithHeader sets a header on every request (replacing a previous value for the same key).
func WithHeader(key, value string) Option {
	return func(c *config) {
		if c.sharedHeader {
			c.header, c.sharedHeader = c.header.Clone(), false
		}
		c.header.Set(key, value)
	}
}

// WithUserAgent replaces the User-Agent header, which names this SDK, its version and Go by default.
func WithUserAgent(userAgent string) Option { return func(c *config) { c.userAgent = userAgent } }

// WithIdempotencyKey sets the idempotency key of an operation that declares one. Without it the
// SDK generates a key per call; either way every attempt of the call sends the same key.
func WithIdempotencyKey(key string) Option { return func(c *config) { c.idempotencyKey = key } }

// WithResponseInto stores the last raw *http.Response of the call into *dst: its status and
// headers are available even when the call returns an error. Its body has been consumed, except
// for streamed results. Once a Connect server stream has ended, its Trailer holds the stream's
// trailers (the metadata of the end-of-stream message) next to any HTTP trailers.
func WithResponseInto(dst **http.Response) Option { return func(c *config) { c.responseInto = dst } }

// WithAttemptsInto stores the number of HTTP attempts the call made into *dst.
func WithAttemptsInto(dst *int) Option { return func(c *config) { c.attemptsInto = dst } }

// core is what every service shares: the client's configuration.
type core struct {
	cfg *config
}

// request is one operation call, built by the generated method before it is sent.
type request struct {
	method            string
	path              string // already expanded and escaped, e.g. /v1/agents/agt%2F1
	query             *query
	header            http.Header
	body              *body
	authenticated     bool
	noBearer          bool   // the operation's security accepts no bearer token
	noAPIKey          bool   // the operation's security accepts no API key
	retryable         bool   // idempotent method, or made safe by an idempotency key
	idempotencyHeader string // the header carrying the idempotency key, if the operation has one
	accept            string // the Accept header the contract's decisions chose for the operation
	streamed          bool   // the body is handed to the caller (WithTimeout says what bounds it)
	connect           bool   // a Connect protocol call: Connect headers, errors and retry rule
	statusErrors      bool   // error bodies are google.rpc.Status (a transcoded gRPC method)
	rawURL            string // a complete URL to use instead of base URL + path + query (Link pages)
	err               error  // an invalid_request problem found while building
}

func newRequest(method, path string) *request {
	return &request{method: method, path: path, query: &query{}, header: http.Header{}, retryable: true}
}

// fail records a problem found while building the request; the call returns it before sending.
func (r *request) fail(format string, args ...any) {
	if r.err == nil {
		r.err = &InvalidRequestError{Message: fmt.Sprintf(format, args...)}
	}
}

// body is a request body that can be sent again on a retry.
type body struct {
	contentType string
	data        []byte    // a buffered body
	reader      io.Reader // a streamed body; replayable only when it is an io.Seeker
	used        bool
}

func (b *body) open() (io.Reader, bool) {
	if b.reader == nil {
		return bytes.NewReader(b.data), true
	}
	if !b.used {
		b.used = true
		if seeker, ok := b.reader.(io.Seeker); ok {
			if _, err := seeker.Seek(0, io.SeekCurrent); err != nil {
				return nil, false
			}
		}
		return b.reader, true
	}
	seeker, ok := b.reader.(io.Seeker)
	if !ok {
		return nil, false
	}
	if _, err := seeker.Seek(0, io.SeekStart); err != nil {
		return nil, false
	}
	return b.reader, true
}

func (c *config) url(r *request) (string, error) {
	if r.rawURL != "" {
		return r.rawURL, nil
	}
	if c.baseURL == "" {
		return "", &InvalidRequestError{Message: "no base URL: the contract names no server, so set one with WithBaseURL or the " + c.envBaseURL + " environment variable"}
	}
	if c.baseURL != c.checkedBase && !c.baseIsAbsolute() {
		return "", &InvalidRequestError{Message: "the base URL is not an absolute URL"}
	}
	full := strings.TrimRight(c.baseURL, "/") + r.path
	if encoded := r.query.encode(); encoded != "" {
		full += "?" + encoded
	}
	return full, nil
}

// baseIsAbsolute reports whether the base URL (without its trailing slashes) parses as an
// absolute URL, with a scheme and a host.
func (c *config) baseIsAbsolute() bool {
	parsed, err := url.Parse(strings.TrimRight(c.baseURL, "/"))
	return err == nil && parsed.Scheme != "" && parsed.Host != ""
}

// hasQueryParam reports whether a URL already carries a query parameter (e.g. a Link page URL).
func hasQueryParam(target, name string) bool {
	parsed, err := url.Parse(target)
	return err == nil && parsed.Query().Has(name)
}

// refuseControls reports a header value that could split or smuggle a header.
func refuseControls(name, value string, secret bool) error {
	if strings.ContainsAny(value, "\r\n\x00") {
		shown := value
		if secret {
			shown = "[REDACTED]"
		}
		return &InvalidRequestError{Message: fmt.Sprintf("header %s contains a line break or NUL: %q", name, shown)}
	}
	return nil
}

func (c *config) build(ctx context.Context, r *request, key string) (*http.Request, error) {
	target, err := c.url(r)
	if err != nil {
		return nil, err
	}
	if r.authenticated && c.sendsAPIKey(r) && c.auth.apiKeyIn == "query" && !hasQueryParam(target, c.auth.apiKeyName) {
		separator := "?"
		if strings.Contains(target, "?") {
			separator = "&"
		}
		target += separator + escapeQuery(c.auth.apiKeyName) + "=" + escapeQuery(c.apiKey)
	}
	var reader io.Reader
	length := int64(-1)
	if r.body != nil {
		var ok bool
		if reader, ok = r.body.open(); !ok {
			return nil, errNotReplayable
		}
		if r.body.reader == nil {
			length = int64(len(r.body.data))
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, nil)
	if err != nil {
		return nil, &InvalidRequestError{Message: "cannot build the request: " + redact(err.Error(), c)}
	}
	setBody(req, reader, length)
	h := newHeaderBuilder(c.header, r.header)
	for name, values := range c.header {
		h.add(name, values)
	}
	for name, values := range r.header {
		delete(h.header, name)
		h.add(name, values)
	}
	if r.body != nil && r.body.contentType != "" {
		h.set("Content-Type", r.body.contentType)
	}
	if h.header.Get("Accept") == "" {
		h.set("Accept", r.accept)
	}
	if c.userAgent != "" {
		h.set("User-Agent", c.userAgent)
	}
	// The SDK inflates gzip itself, bounded by max_response_bytes (see wrapResponse).
	h.set("Accept-Encoding", "gzip")
	if r.idempotencyHeader != "" {
		h.set(http.CanonicalHeaderKey(r.idempotencyHeader), key)
	}
	if r.connect {
		h.set("Connect-Protocol-Version", connectProtocolVersion)
		if timeout, ok := c.deadline(ctx); ok && h.header.Get("Connect-Timeout-Ms") == "" {
			h.set("Connect-Timeout-Ms", connectTimeout(timeout))
		}
	}
	req.Header = h.header
	for name, values := range req.Header {
		for _, v := range values {
			if err := refuseControls(name, v, false); err != nil {
				return nil, err
			}
		}
	}
	if err := c.unusedCredential(); err != nil {
		return nil, err
	}
	if r.authenticated {
		if err := c.authenticate(req, r, &h); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// headerBuilder fills a request's header map from one backing array of values rather than a
// slice per header (as Header.Set and Add allocate): a request carries half a dozen headers.
type headerBuilder struct {
	header http.Header
	values []string
}

// newHeaderBuilder has room for the given headers' values and the ones build and authenticate set
// (Content-Type, Accept, User-Agent, Accept-Encoding, an idempotency key, credentials and the
// Connect headers), so that neither the map nor the array grows.
func newHeaderBuilder(headers ...http.Header) headerBuilder {
	const own = 8
	n, values := own, own
	for _, header := range headers {
		n += len(header)
		for _, v := range header {
			values += len(v)
		}
	}
	return headerBuilder{header: make(http.Header, n), values: make([]string, 0, values)}
}

// set replaces the values of the canonical key name with value.
func (h *headerBuilder) set(name, value string) {
	h.values = append(h.values, value)
	n := len(h.values)
	// Capped, so that appending to one header's values copies them rather than overwriting the next.
	h.header[name] = h.values[n-1 : n : n]
}

// add appends values to those of the canonical key name.
func (h *headerBuilder) add(name string, values []string) {
	if len(values) == 0 {
		return
	}
	if existing := h.header[name]; len(existing) > 0 {
		h.header[name] = append(existing, values...)
		return
	}
	start := len(h.values)
	h.values = append(h.values, values...)
	n := len(h.values)
	h.header[name] = h.values[start:n:n]
}

// deadline is the time the caller gives an attempt: the timeout set with WithTimeout or what is
// left of the context's deadline, whichever is sooner. ok is false when the caller set neither
// (the SDK's default timeout is not the caller's deadline).
func (c *config) deadline(ctx context.Context) (timeout time.Duration, ok bool) {
	if c.callerTimeout && c.timeout > 0 {
		timeout, ok = c.timeout, true
	}
	if at, has := ctx.Deadline(); has {
		if left := time.Until(at); !ok || left < timeout {
			timeout, ok = left, true
		}
	}
	return timeout, ok
}

// authorization is the Authorization header of the bearer token, built once for the client's token
// (a call's WithBearerToken builds its own).
func (c *config) authorization() string {
	if c.bearerFor != c.bearerToken || c.bearerHeader == "" {
		c.bearerHeader, c.bearerFor = "Bearer "+c.bearerToken, c.bearerToken
	}
	return c.bearerHeader
}

// sendsBearer and sendsAPIKey say which credential an authenticated request carries: the bearer
// token when the operation accepts one and it is set, else the API key.
func (c *config) sendsBearer(r *request) bool {
	return c.bearerToken != "" && c.auth.bearer && !r.noBearer
}

func (c *config) sendsAPIKey(r *request) bool {
	return !c.sendsBearer(r) && c.apiKey != "" && c.auth.apiKeyIn != "" && !r.noAPIKey
}

// unusedCredential refuses a credential that no security scheme of the API takes: given with an
// option (the environment's variable for it is not read), it would otherwise be left out of every
// request without a word.
func (c *config) unusedCredential() error {
	switch {
	case c.apiKey != "" && c.auth.apiKeyIn == "":
		return &InvalidRequestError{Message: "WithAPIKey was given, but the API declares no API-key security scheme, so the key would never be sent"}
	case c.bearerToken != "" && !c.auth.bearer:
		return &InvalidRequestError{Message: "WithBearerToken was given, but the API declares no bearer-token security scheme, so the token would never be sent"}
	}
	return nil
}

func (c *config) authenticate(req *http.Request, r *request, h *headerBuilder) error {
	if c.sendsBearer(r) {
		if err := refuseControls("Authorization", c.bearerToken, true); err != nil {
			return err
		}
		h.set("Authorization", c.authorization())
		return nil
	}
	if !c.sendsAPIKey(r) {
		return nil
	}
	if err := refuseControls(c.auth.apiKeyName, c.apiKey, true); err != nil {
		return err
	}
	switch c.auth.apiKeyIn {
	case "header":
		h.set(http.CanonicalHeaderKey(c.auth.apiKeyName), c.apiKey)
	case "cookie":
		req.AddCookie(&http.Cookie{Name: c.auth.apiKeyName, Value: c.apiKey})
	}
	return nil
}

var (
	errNotReplayable  = errors.New("the request body cannot be sent again")
	errAttemptTimeout = errors.New("attempt timed out")
)

// newUUID returns a random (version 4) UUID for idempotency keys.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// cancelOnClose releases an attempt's context, and stops its timer if it still runs, when a
// streamed body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
	timer  *time.Timer // nil once the response headers ended the attempt's timeout
}

// Close closes the body and releases the attempt's context.
func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	if b.timer != nil {
		b.timer.Stop()
	}
	b.cancel(nil)
	return err
}

// send runs a request with retries and returns a 2xx response whose body the caller must close,
// or an error from the taxonomy (*APIError, *TimeoutError, *CancelledError, *ConnectionError,
// *DecodeError, *InvalidRequestError). A buffered body (every response but a streamed one) has
// been read in full, within max_response_bytes.
func (c *core) send(ctx context.Context, r *request, opts []Option) (*http.Response, error) {
	cfg := c.cfg.with(opts)
	attempts := 0
	defer func() {
		if cfg.attemptsInto != nil {
			*cfg.attemptsInto = attempts
		}
	}()
	if r.err != nil {
		return nil, r.err
	}
	key := cfg.idempotencyKey
	if r.idempotencyHeader != "" && key == "" {
		key = newUUID()
	}
	client := cfg.client()
	limit := cfg.responseLimit()
	var last error
	// retry waits before the next attempt after failure and returns nil, or returns the error
	// the call ends with (failure when no retry is left).
	retry := func(failure error, delay time.Duration) error {
		if !r.retryable || attempts > cfg.maxRetries {
			return failure
		}
		last = failure
		if err := cfg.sleep(ctx, delay); err != nil {
			return &CancelledError{Attempts: attempts, Err: err}
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, &CancelledError{Attempts: attempts, Err: err}
		}
		attemptCtx, cancel := context.WithCancelCause(ctx)
		var timer *time.Timer
		if cfg.timeout > 0 {
			timer = time.AfterFunc(cfg.timeout, func() { cancel(errAttemptTimeout) })
		}
		guardedCtx, guard := withResendGuard(attemptCtx, cancel)
		req, err := cfg.build(guardedCtx, r, key)
		if err != nil {
			cancel(nil)
			if errors.Is(err, errNotReplayable) && last != nil {
				return nil, last // the body was consumed: the previous attempt's failure stands
			}
			return nil, err
		}
		attempts++
		resp, err := cfg.do(client, req, r, guard, limit)
		if err != nil {
			cause := context.Cause(attemptCtx)
			cancel(nil)
			var failure error
			switch {
			case ctx.Err() != nil:
				return nil, &CancelledError{Attempts: attempts, Err: ctx.Err()}
			case errors.Is(cause, errAttemptTimeout):
				failure = &TimeoutError{Attempts: attempts, Timeout: cfg.timeout}
			case errors.Is(cause, errResent):
				failure = &ConnectionError{Attempts: attempts, Message: errResent.Error(), Err: errResent}
			default:
				failure = &ConnectionError{Attempts: attempts, Message: redact(unwrapURLError(err).Error(), cfg), Err: unwrapURLError(err)}
			}
			if err := retry(failure, cfg.backoff(attempts)); err != nil {
				return nil, err
			}
			continue
		}
		if cfg.responseInto != nil {
			*cfg.responseInto = resp
		}
		wrapResponse(resp)
		if success(r, resp.StatusCode) {
			if r.streamed {
				// A caller's timeout is the deadline of a whole Connect stream, as
				// Connect-Timeout-Ms told the server; any other timeout ends with the headers.
				if timer != nil && !(r.connect && cfg.callerTimeout) {
					timer.Stop()
					timer = nil
				}
				typed := &typedBody{ReadCloser: resp.Body, ctx: ctx, attemptCtx: attemptCtx, attempts: attempts, resp: resp, cfg: cfg}
				resp.Body = &cancelOnClose{ReadCloser: typed, cancel: cancel, timer: timer}
				return resp, nil
			}
			data, over, err := readLimited(resp.Body, limit)
			_ = resp.Body.Close()
			if err != nil {
				// A truncated body is a connection failure: retried like one.
				failure := cfg.bodyError(ctx, attemptCtx, attempts, resp, err, data)
				cancel(nil)
				switch failure.(type) {
				case *CancelledError, *DecodeError:
					return nil, failure
				}
				if err := retry(failure, cfg.backoff(attempts)); err != nil {
					return nil, err
				}
				continue
			}
			cancel(nil)
			if over {
				return nil, &DecodeError{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: data, Err: &limitError{limit: limit, what: "response body"}}
			}
			resp.Body = newBufferedBody(data)
			return resp, nil
		}
		// An error body is cut at the limit; the status is what matters.
		data, _, readErr := readLimited(resp.Body, limit)
		_ = resp.Body.Close()
		cancel(nil)
		resp.Body = newBufferedBody(data)
		var apiErr error
		switch {
		case r.connect:
			apiErr = connectError(r.method, r.path, resp, data, attempts)
		case r.statusErrors:
			apiErr = rpcStatusError(r.method, r.path, resp, data, attempts)
		default:
			apiErr = newAPIError(r.method, r.path, resp, data, attempts)
		}
		if readErr != nil && ctx.Err() != nil {
			return nil, &CancelledError{Attempts: attempts, Err: ctx.Err()}
		}
		if !shouldRetry(r, resp) {
			return nil, apiErr
		}
		delay, ok := cfg.retryAfter(resp.Header)
		if !ok {
			delay = cfg.backoff(attempts)
		}
		if err := retry(apiErr, delay); err != nil {
			return nil, err
		}
	}
}

// success reports whether a status is a successful answer: any 2xx, or for a Connect call 200
// only (anything else is a Connect error).
func success(r *request, status int) bool {
	if r.connect {
		return status == http.StatusOK
	}
	return status >= 200 && status < 300
}

// do sends req and follows the redirects it meets, returning the final response.
// req's context carries guard, which is armed again for each hop.
func (c *config) do(client *http.Client, req *http.Request, r *request, guard *resendGuard, limit int64) (*http.Response, error) {
	var state redirectState
	for {
		guard.reset()
		sent := req
		if client.Jar != nil {
			sent = req.WithContext(req.Context())
			sent.Header = req.Header.Clone() // a cookie jar adds to the sent header, not to the next hop's
		}
		resp, err := client.Do(sent)
		if err != nil {
			return nil, err
		}
		next := c.follow(req, resp, r, &state)
		if next == nil {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, min(limit, 64<<10)))
		_ = resp.Body.Close()
		req = next
	}
}

func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// redact removes the client's credentials from a message.
func redact(message string, c *config) string {
	for _, secret := range []string{c.bearerToken, c.apiKey, url.QueryEscape(c.apiKey)} {
		if len(secret) >= 4 {
			message = strings.ReplaceAll(message, secret, "[REDACTED]")
		}
	}
	return message
}

// retryableStatus reports the statuses retried by default.
func retryableStatus(status int) bool {
	switch status {
	case 408, 409, 429, 500, 502, 503, 504:
		return true
	}
	return false
}

// shouldRetry applies X-Should-Retry (true or false overrides the status) to a retryable request;
// a request that is not retryable is never retried. A Connect call follows Connect's rule
// (retryConnect) rather than the REST statuses.
func shouldRetry(r *request, resp *http.Response) bool {
	if !r.retryable {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get("X-Should-Retry"))) {
	case "true":
		return true
	case "false":
		return false
	}
	if r.connect {
		return retryConnect(resp)
	}
	return retryableStatus(resp.StatusCode)
}

// backoff is the exponential delay before retry number `attempt` (1 for the first retry), with
// up to 25% jitter subtracted, capped at maxBackoff.
func (c *config) backoff(attempt int) time.Duration {
	delay := float64(c.initialBackoff) * math.Pow(2, float64(attempt-1))
	delay = math.Min(delay, float64(c.maxBackoff))
	return time.Duration(delay * (1 - 0.25*mathrand.Float64()))
}

// retryAfter reads Retry-After-Ms, then Retry-After (seconds or an HTTP date); ok is false when
// neither is usable or the delay exceeds the cap.
func (c *config) retryAfter(h http.Header) (time.Duration, bool) {
	var delay time.Duration
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms >= 0 {
		delay = time.Duration(ms * float64(time.Millisecond))
	} else if value := strings.TrimSpace(h.Get("Retry-After")); value != "" {
		if seconds, err := strconv.ParseFloat(value, 64); err == nil && seconds >= 0 {
			delay = time.Duration(seconds * float64(time.Second))
		} else if at, err := http.ParseTime(value); err == nil {
			delay = max(time.Until(at), 0)
		} else {
			return 0, false
		}
	} else {
		return 0, false
	}
	if delay > c.maxRetryAfter {
		return 0, false
	}
	return delay, true
}

// sleep waits for d or until ctx ends, whichever comes first.
func (c *config) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
