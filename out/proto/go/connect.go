package orchestratorproto

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"reflect"
	"strconv"
	"time"
)

// The Connect protocol (connectrpc.com/docs/protocol) with the JSON codec: unary calls are
// `POST /pkg.Service/Method` with the request message as JSON; server streams send and receive
// application/connect+json envelopes (a flag byte, a 4-byte big-endian length, a message); errors
// are Connect error JSON, {"code": "not_found", "message": "...", "details": [...]}.

const (
	// connectProtocolVersion is the Connect-Protocol-Version header every Connect call sends.
	connectProtocolVersion = "1"
	// connectStreamMedia is the media type of a Connect stream with the JSON codec.
	connectStreamMedia = "application/connect+json"
	// Envelope flags: a message, a compressed message (never negotiated by this SDK) and the
	// end-of-stream message.
	envelopeMessage     byte = 0x00
	envelopeCompressed  byte = 0x01
	envelopeEndOfStream byte = 0x02
	// envelopeHeader is the size of an envelope's prefix: flags and length.
	envelopeHeader = 5
)

// connectCodeStatus is the HTTP equivalent of each Connect error code, the status of an error that
// ends a stream (which has no HTTP status of its own).
var connectCodeStatus = map[string]int{
	"canceled":            499,
	"unknown":             500,
	"invalid_argument":    400,
	"deadline_exceeded":   504,
	"not_found":           404,
	"already_exists":      409,
	"permission_denied":   403,
	"resource_exhausted":  429,
	"failed_precondition": 400,
	"aborted":             409,
	"out_of_range":        400,
	"unimplemented":       501,
	"internal":            500,
	"unavailable":         503,
	"data_loss":           500,
	"unauthenticated":     401,
}

// statusOfCode is the HTTP equivalent of a Connect code; an unknown code is 500.
func statusOfCode(code string) int {
	if status, ok := connectCodeStatus[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// codeOfStatus is the Connect code of an HTTP status whose body is not Connect error JSON.
func codeOfStatus(status int) string {
	switch status {
	case 400:
		return "internal"
	case 401:
		return "unauthenticated"
	case 403:
		return "permission_denied"
	case 404:
		return "unimplemented"
	case 429, 502, 503, 504:
		return "unavailable"
	}
	return "unknown"
}

// connectError is the error of a Connect call answered with a non-2xx status: an *APIError with the
// Connect error's code, message (the status text when there is none) and details (or, when the
// body is not Connect error JSON, the code of the HTTP status), or a *TimeoutError for
// deadline_exceeded.
func connectError(method, path string, resp *http.Response, data []byte, attempts int) error {
	e := newAPIError(method, path, resp, data, attempts)
	rpc, ok := parseRPCError(data, false)
	if !ok {
		e.Code = codeOfStatus(resp.StatusCode)
		return e
	}
	e.Message = http.StatusText(resp.StatusCode)
	return rpc.into(e)
}

// retryConnect applies Connect's retry rule to a non-2xx response of a retryable call:
// unavailable (503) is retried, resource_exhausted (429) only when the server gives a retry hint
// (Retry-After or Retry-After-Ms), nothing else; X-Should-Retry overrides it as for REST.
func retryConnect(resp *http.Response) bool {
	switch status := resp.StatusCode; status {
	case http.StatusServiceUnavailable:
		return true
	case http.StatusTooManyRequests:
		return resp.Header.Get("Retry-After") != "" || resp.Header.Get("Retry-After-Ms") != ""
	}
	return false
}

// connectTimeout is the Connect-Timeout-Ms value of a per-attempt timeout: whole milliseconds,
// at least 1.
func connectTimeout(timeout time.Duration) string {
	return strconv.FormatInt(max(timeout.Milliseconds(), 1), 10)
}

// envelope frames a message as one Connect envelope.
func envelope(flags byte, message []byte) []byte {
	out := make([]byte, envelopeHeader, envelopeHeader+len(message))
	out[0] = flags
	binary.BigEndian.PutUint32(out[1:], uint32(len(message)))
	return append(out, message...)
}

// connectBody sends value as the request message of a Connect call: JSON ({} for no value, as a
// request without fields), framed as one envelope for a stream.
func (r *request) connectBody(contentType string, stream bool, value any) {
	data, err := marshalJSON(value, true)
	if err != nil {
		r.fail("cannot encode the request message as JSON: %v", err)
		return
	}
	if isJSONNull(data) {
		data = []byte("{}")
	}
	if stream {
		data = envelope(envelopeMessage, data)
	}
	r.body = &body{contentType: contentType, data: data}
}

// errNoEndOfStream is a Connect stream that ended cleanly without its end-of-stream message.
var errNoEndOfStream = errors.New("the Connect stream ended without an end-of-stream message")

// envelopeReader reads the envelopes of a Connect stream, each within a limit.
type envelopeReader struct {
	r     io.Reader
	limit int64
}

// envelopeError is a malformed envelope: a flag this SDK does not accept, or one over the limit.
type envelopeError struct{ msg string }

// Error describes the envelope.
func (e *envelopeError) Error() string { return e.msg }

// errInsideEnvelope marks a stream that ended inside an envelope (the body broke mid-read).
var errInsideEnvelope = errors.New("the Connect stream ended inside an envelope")

// next reads one envelope. A clean end before it is io.EOF; an end inside it errInsideEnvelope;
// other errors are the body's own.
func (e *envelopeReader) next() (byte, []byte, error) {
	var head [envelopeHeader]byte
	if n, err := io.ReadFull(e.r, head[:]); err != nil {
		if n > 0 && errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, errInsideEnvelope
		}
		return 0, nil, err
	}
	flags, size := head[0], binary.BigEndian.Uint32(head[1:])
	switch flags {
	case envelopeMessage, envelopeEndOfStream:
	case envelopeCompressed, envelopeCompressed | envelopeEndOfStream:
		return 0, nil, &envelopeError{"a compressed envelope, but no compression was negotiated"}
	default:
		return 0, nil, &envelopeError{fmt.Sprintf("an envelope with the unknown flags 0x%02x", flags)}
	}
	if int64(size) > e.limit {
		return 0, nil, &limitError{limit: e.limit, what: fmt.Sprintf("an envelope of the stream (%d bytes)", size)}
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(e.r, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return 0, nil, errInsideEnvelope
		}
		return 0, nil, err
	}
	return flags, data, nil
}

// endOfStream adds the metadata of an end-of-stream message to the response's trailers and returns
// the error the message carries (nil when the stream ended normally), as the SDK's error:
// *APIError with the code's HTTP equivalent as its status, or *TimeoutError for
// deadline_exceeded. A malformed message is a *DecodeError.
func endOfStream(r *request, resp *http.Response, data []byte, attempts int) error {
	malformed := func(err error) error {
		return &DecodeError{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: data, Err: fmt.Errorf("the end-of-stream message: %w", err)}
	}
	if err := validateJSON(data); err != nil {
		return malformed(err)
	}
	var end struct {
		Error    json.RawMessage `json:"error"`
		Metadata json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(data, &end); err != nil {
		return malformed(err)
	}
	addTrailers(resp, end.Metadata)
	if len(end.Error) == 0 || isJSONNull(end.Error) {
		return nil
	}
	rpc, ok := parseRPCError(end.Error, false)
	if !ok {
		return malformed(errors.New("its error has no string code"))
	}
	status := statusOfCode(rpc.code)
	return rpc.into(&APIError{
		StatusCode: status,
		Message:    http.StatusText(status),
		RequestID:  resp.Header.Get("X-Request-Id"),
		Header:     resp.Header,
		Body:       data,
		Attempts:   attempts,
		Method:     r.method,
		Path:       r.path,
	})
}

// addTrailers merges the metadata of an end-of-stream message ({"name": ["v1", "v2"]}), the
// Connect stream's trailers, into resp.Trailer, where a caller holding the response
// (WithResponseInto) finds them once the stream has ended. An entry that is not a list of strings
// is skipped: the messages and the stream's outcome do not depend on it.
func addTrailers(resp *http.Response, metadata json.RawMessage) {
	var entries map[string]json.RawMessage
	if json.Unmarshal(metadata, &entries) != nil {
		return
	}
	for name, raw := range entries {
		var values []string
		if json.Unmarshal(raw, &values) != nil {
			continue
		}
		if resp.Trailer == nil {
			resp.Trailer = http.Header{}
		}
		for _, v := range values {
			resp.Trailer.Add(name, v)
		}
	}
}

// connectStream sends a Connect server-streaming request and yields each message decoded as T,
// then ends normally or with the error of the end-of-stream message (never retried: messages may
// already have been delivered). A 2xx response that is not application/connect+json, a
// compressed or unknown envelope, an envelope longer than max_response_bytes, a message that does
// not decode and a stream without its end-of-stream message are *DecodeError; a stream broken
// inside an envelope is a *ConnectionError. Once ctx is done the next pull yields a
// *CancelledError; breaking out of the loop closes the connection. Connect streams do not resume.
func connectStream[T any](ctx context.Context, c *core, r *request, opts []Option) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cfg := c.cfg.with(opts)
		limit := cfg.responseLimit()
		attempts := 0
		r.streamed = true
		resp, err := c.send(ctx, r, append(opts[:len(opts):len(opts)], WithAttemptsInto(&attempts)))
		if cfg.attemptsInto != nil {
			*cfg.attemptsInto = attempts
		}
		if err != nil {
			yield(zero, err)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		contentType := resp.Header.Get("Content-Type")
		decodeErr := func(body []byte, err error) error {
			return &DecodeError{StatusCode: resp.StatusCode, ContentType: contentType, Body: body, Err: err}
		}
		if err := wrongMedia(resp, limit, "an", connectStreamMedia); err != nil {
			yield(zero, err)
			return
		}
		reader := &envelopeReader{r: resp.Body, limit: limit}
		for {
			if err := ctx.Err(); err != nil {
				yield(zero, &CancelledError{Attempts: attempts, Err: err})
				return
			}
			flags, data, err := reader.next()
			if err != nil {
				var limitErr *limitError
				var envErr *envelopeError
				switch {
				case ctx.Err() != nil:
					err = &CancelledError{Attempts: attempts, Err: ctx.Err()}
				case errors.Is(err, io.EOF):
					err = decodeErr(nil, errNoEndOfStream)
				case errors.As(err, &limitErr), errors.As(err, &envErr):
					err = decodeErr(nil, err)
				case errors.Is(err, errInsideEnvelope):
					err = &ConnectionError{Attempts: attempts, Message: err.Error(), Err: io.ErrUnexpectedEOF}
				}
				yield(zero, err) // otherwise already typed by the body (typedBody)
				return
			}
			if flags == envelopeEndOfStream {
				if err := endOfStream(r, resp, data, attempts); err != nil {
					yield(zero, err)
				}
				return // anything after the end-of-stream message is ignored
			}
			var value T
			if err := unmarshalStrict(data, &value); err != nil {
				yield(zero, decodeErr(data, err))
				return
			}
			if !yield(value, nil) {
				return
			}
		}
	}
}

// nextBodyCursor is the request for the page after a cursor page whose cursor and page size are
// fields of the JSON request body (a Connect list method, AIP-158): the cursor is set in a copy of
// the body. Nil when the cursor is absent or empty, unchanged, or hasMore is false.
func nextBodyCursor(r *request, field string, cursor any, hasMore any) *request {
	if more, ok := deref(hasMore); ok && more.Kind() == reflect.Bool && !more.Bool() {
		return nil
	}
	v, ok := deref(cursor)
	if !ok {
		return nil
	}
	value := text(v)
	var current []byte
	if r.body != nil {
		current = r.body.data
	}
	if value == "" || value == bodyString(current, field) {
		return nil
	}
	encoded, _ := json.Marshal(value)
	data, err := setMember(current, field, encoded)
	if err != nil {
		return nil
	}
	next := cloneRequest(r)
	contentType := "application/json"
	if r.body != nil {
		contentType = r.body.contentType
	}
	next.body = &body{contentType: contentType, data: data}
	return next
}

// bodyString is the string member `field` of a JSON object, or "".
func bodyString(data []byte, field string) string {
	members, err := objectMembers(data)
	if err != nil {
		return ""
	}
	for _, m := range members {
		if string(m.key) == field {
			var s string
			_ = json.Unmarshal(m.value, &s)
			return s
		}
	}
	return ""
}

// setMember returns the JSON object data with the member `field` set to value (replaced in place,
// or added last); empty data is an empty object.
func setMember(data []byte, field string, value []byte) ([]byte, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}")
	}
	members, err := objectMembers(data)
	if err != nil {
		return nil, err
	}
	key, _ := json.Marshal(field)
	member := append(append(append([]byte{}, key...), ':'), value...)
	out := []byte{'{'}
	found := false
	for _, m := range members {
		if len(out) > 1 {
			out = append(out, ',')
		}
		if string(m.key) == field {
			out = append(out, member...)
			found = true
			continue
		}
		out = append(out, m.text...)
	}
	if !found {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, member...)
	}
	return append(out, '}'), nil
}
