package polysdk

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
)

const (
	// defaultMaxResponseBytes bounds a buffered response body (and one event of a stream).
	defaultMaxResponseBytes int64 = 32 << 20
	// maxRedirects is the number of redirects followed in a row; the next one is an *APIError.
	maxRedirects = 10
)

// errResent is the cause of an attempt that net/http tried to send a second time on its own.
var errResent = errors.New("the server closed the connection without a response")

// bodyReadError marks a failure of the connection while a response body is read, as opposed to
// a body that was read but cannot be decoded (a corrupt gzip stream).
type bodyReadError struct{ err error }

// Error is the connection's error.
func (e *bodyReadError) Error() string { return e.err.Error() }

// Unwrap returns the connection's error.
func (e *bodyReadError) Unwrap() error { return e.err }

// markedReader marks the read errors of a raw response body.
type markedReader struct{ r io.Reader }

// Read reads the body, marking its errors.
func (m markedReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF {
		var marked *bodyReadError
		if !errors.As(err, &marked) {
			err = &bodyReadError{err: err}
		}
	}
	return n, err
}

// corruptError is a body that arrived but cannot be decompressed.
type corruptError struct{ err error }

// Error says the compressed body is corrupt.
func (e *corruptError) Error() string { return "the gzip-compressed body is corrupt: " + e.err.Error() }

// Unwrap returns the decompressor's error.
func (e *corruptError) Unwrap() error { return e.err }

// limitError is a buffered body (or one event of a stream) over max_response_bytes.
type limitError struct {
	limit int64
	what  string
}

// Error names the limit.
func (e *limitError) Error() string {
	return fmt.Sprintf("%s exceeds max_response_bytes (%d bytes)", e.what, e.limit)
}

// responseBody reads a response body: raw read errors are marked, and a gzip body is inflated as
// it is read (never more than the reader asks for).
type responseBody struct {
	raw     io.ReadCloser
	gzip    bool
	inflate *gzip.Reader
	err     error
}

// Read reads the body, inflating it when it is gzip-compressed.
func (b *responseBody) Read(p []byte) (int, error) {
	if !b.gzip {
		return markedReader{b.raw}.Read(p)
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.inflate == nil {
		zr, err := gzip.NewReader(markedReader{b.raw})
		if err != nil {
			b.err = gzipError(err)
			return 0, b.err
		}
		b.inflate = zr
	}
	n, err := b.inflate.Read(p)
	if err != nil && err != io.EOF {
		err = gzipError(err)
		b.err = err
	}
	return n, err
}

// Close closes the raw body.
func (b *responseBody) Close() error { return b.raw.Close() }

func gzipError(err error) error {
	var marked *bodyReadError
	if err == io.EOF || errors.As(err, &marked) {
		return err // an empty body, or the connection failed
	}
	return &corruptError{err: err}
}

// wrapResponse replaces resp.Body with a reader that inflates a gzip body and marks read errors.
func wrapResponse(resp *http.Response) {
	gzipped := !resp.Uncompressed && strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip")
	if gzipped {
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	}
	resp.Body = &responseBody{raw: resp.Body, gzip: gzipped}
}

// bufferedBody is a response body the SDK has read in full: decoding it takes its bytes as they
// are rather than reading them again.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

func newBufferedBody(data []byte) *bufferedBody {
	return &bufferedBody{Reader: bytes.NewReader(data), data: data}
}

// Close does nothing: the body is in memory.
func (*bufferedBody) Close() error { return nil }

// readBody reads a response body to its end; a buffered body nobody has read yet gives its bytes.
func readBody(body io.Reader) ([]byte, error) {
	if b, ok := body.(*bufferedBody); ok && b.Len() == len(b.data) {
		_, _ = b.Seek(0, io.SeekEnd) // read, as io.ReadAll would leave it
		return b.data, nil
	}
	return io.ReadAll(body)
}

// readLimited reads at most limit bytes of r; over is true when r holds more.
func readLimited(r io.Reader, limit int64) (data []byte, over bool, err error) {
	read := limit
	if read < (1<<63)-1 {
		read++
	}
	data, err = io.ReadAll(io.LimitReader(r, read))
	if int64(len(data)) > limit {
		return data[:limit], true, err
	}
	return data, false, err
}

// typedBody is the body of a streamed response handed to the caller: its read errors are the
// SDK's (*ConnectionError, *CancelledError, *DecodeError), never raw transport errors.
type typedBody struct {
	io.ReadCloser
	ctx        context.Context // the caller's
	attemptCtx context.Context
	attempts   int
	resp       *http.Response
	cfg        *config
}

// Read reads the body; an error is one of the SDK's.
func (b *typedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.cfg.bodyError(b.ctx, b.attemptCtx, b.attempts, b.resp, err, nil)
	}
	return n, err
}

// bodyError types an error met while reading a response body: a corrupt compressed body is a
// *DecodeError, the caller's cancellation a *CancelledError, the attempt's timeout a
// *TimeoutError, anything else a *ConnectionError.
func (c *config) bodyError(ctx, attemptCtx context.Context, attempts int, resp *http.Response, err error, data []byte) error {
	var corrupt *corruptError
	switch {
	case errors.As(err, &corrupt):
		return &DecodeError{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: data, Err: corrupt}
	case ctx.Err() != nil:
		return &CancelledError{Attempts: attempts, Err: ctx.Err()}
	case errors.Is(context.Cause(attemptCtx), errAttemptTimeout):
		return &TimeoutError{Attempts: attempts, Timeout: c.timeout}
	}
	cause := err
	var marked *bodyReadError
	if errors.As(err, &marked) {
		cause = marked.err
	}
	return &ConnectionError{Attempts: attempts, Message: "reading the response body: " + redact(cause.Error(), c), Err: cause}
}

// resendGuard makes net/http's own re-send of a request (after a reused connection failed once
// the request was written) fail instead: the SDK's retry policy is the only one. A request that
// was never written may still go out on another connection, which is safe. One guard serves an
// attempt and its redirects (reset before each hop); its hooks travel in the attempt's context.
type resendGuard struct {
	written atomic.Bool
	cancel  context.CancelCauseFunc
	trace   httptrace.ClientTrace
}

// withResendGuard returns ctx carrying a new guard's hooks, and the guard.
func withResendGuard(ctx context.Context, cancel context.CancelCauseFunc) (context.Context, *resendGuard) {
	g := &resendGuard{cancel: cancel}
	g.trace.GetConn = func(string) {
		if g.written.Load() {
			g.cancel(errResent)
		}
	}
	g.trace.WroteHeaders = func() { g.written.Store(true) }
	return httptrace.WithClientTrace(ctx, &g.trace), g
}

// reset arms the guard for the next request sent with its context (a redirect's).
func (g *resendGuard) reset() { g.written.Store(false) }

// setBody gives req its body without GetBody, so that net/http never replays it by itself.
func setBody(req *http.Request, reader io.Reader, length int64) {
	if reader == nil {
		req.Body, req.GetBody, req.ContentLength = nil, nil, 0
		return
	}
	if sized, ok := reader.(interface{ Len() int }); ok && length < 0 {
		length = int64(sized.Len())
	}
	if length == 0 {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
		return
	}
	req.Body = io.NopCloser(reader)
	req.GetBody = nil
	req.ContentLength = length
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if port := u.Port(); port != "" {
		return port
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// redirectState is what a chain of redirects has decided so far.
type redirectState struct {
	hops        int
	bodyDropped bool
	crossOrigin bool // credentials were dropped; they are never added again
}

// follow returns the request for the redirect resp answers to prev, or nil when it cannot be
// followed (no usable Location, too many hops, a body that cannot be sent again).
func (c *config) follow(prev *http.Request, resp *http.Response, r *request, st *redirectState) *http.Request {
	if !isRedirect(resp.StatusCode) || st.hops >= maxRedirects {
		return nil
	}
	location := resp.Header.Get("Location")
	if location == "" {
		return nil
	}
	target, err := prev.URL.Parse(location)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil
	}
	method := prev.Method
	dropBody := st.bodyDropped
	switch resp.StatusCode {
	case http.StatusSeeOther:
		if method != http.MethodHead {
			method = http.MethodGet
		}
		dropBody = true
	case http.StatusMovedPermanently, http.StatusFound:
		if method == http.MethodPost {
			method = http.MethodGet
			dropBody = true
		}
	}
	next := prev.Clone(prev.Context())
	next.Method = method
	next.URL = target
	next.Host = ""
	if dropBody || r.body == nil {
		st.bodyDropped = st.bodyDropped || dropBody
		next.Header.Del("Content-Type")
		next.Header.Del("Content-Length")
		setBody(next, nil, 0)
	} else {
		reader, ok := r.body.open()
		if !ok {
			return nil
		}
		length := int64(-1)
		if r.body.reader == nil {
			length = int64(len(r.body.data))
		}
		setBody(next, reader, length)
	}
	if !st.crossOrigin && !sameOrigin(prev.URL, target) {
		st.crossOrigin = true
	}
	if st.crossOrigin {
		next.Header.Del("Authorization")
		next.Header.Del("Cookie")
		if c.auth.apiKeyIn == "header" && c.auth.apiKeyName != "" {
			next.Header.Del(c.auth.apiKeyName)
		}
	} else if r.authenticated && c.sendsAPIKey(r) && c.auth.apiKeyIn == "query" && !hasQueryParam(target.String(), c.auth.apiKeyName) {
		query := target.RawQuery
		if query != "" {
			query += "&"
		}
		copied := *target
		copied.RawQuery = query + escapeQuery(c.auth.apiKeyName) + "=" + escapeQuery(c.apiKey)
		next.URL = &copied
	}
	st.hops++
	return next
}

// client is the SDK's copy of the configured *http.Client: redirects are followed by send.
func (c *config) client() *http.Client {
	copied := *c.httpClient
	copied.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &copied
}
