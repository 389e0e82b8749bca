package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// APIError is the error of a call the server answered with a non-2xx status. Match it with
// errors.As; match a status with errors.Is(err, ErrNotFound) and the other Err* values.
type APIError struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Code is the machine-readable error code of the body (`code`, or `error.code`), if any.
	Code string
	// Message is a human-readable explanation: the body's `detail`, `message` or `title`, or the
	// status text.
	Message string
	// RequestID is the X-Request-Id response header, or the body's `request_id`.
	RequestID string
	// Type, Title, Detail and Instance are the RFC 9457 problem details fields, when present.
	Type, Title, Detail, Instance string
	// Header holds the response headers.
	Header http.Header
	// Body is the raw response body, cut at max_response_bytes (WithMaxResponseBytes); for the
	// error that ends a Connect stream, the end-of-stream message.
	Body []byte
	// Details is the `details` of a Connect error (an array of Connect error details: type,
	// base64 value, debug) or of a google.rpc.Status (protojson Any values with @type), as raw
	// JSON; nil when there is none.
	Details json.RawMessage
	// Attempts is the number of HTTP attempts the call made.
	Attempts int
	// Method and Path identify the request (the path has no query string, so no credentials).
	Method, Path string
}

func newAPIError(method, path string, resp *http.Response, data []byte, attempts int) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		Body:       data,
		Attempts:   attempts,
		Method:     method,
		Path:       path,
		RequestID:  resp.Header.Get("X-Request-Id"),
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) == nil {
		str := func(name string) string {
			var s string
			if raw, ok := fields[name]; ok && json.Unmarshal(raw, &s) == nil {
				return s
			}
			return ""
		}
		e.Type, e.Title, e.Detail, e.Instance = str("type"), str("title"), str("detail"), str("instance")
		e.Code = str("code")
		e.Message = firstNonEmpty(e.Detail, str("message"), e.Title)
		if e.RequestID == "" {
			e.RequestID = str("request_id")
		}
		var nested struct {
			Message string `json:"message"`
			Code    string `json:"code"`
			Type    string `json:"type"`
		}
		if raw, ok := fields["error"]; ok {
			if json.Unmarshal(raw, &nested) == nil {
				e.Code = firstNonEmpty(e.Code, nested.Code, nested.Type)
				e.Message = firstNonEmpty(e.Message, nested.Message)
			} else if s := str("error"); s != "" {
				e.Message = firstNonEmpty(e.Message, s)
			}
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// rpcStatusError is the error of a transcoded gRPC method answered with a non-2xx status. A
// google.rpc.Status body ({"code": 5, "message": "...", "details": [...]}) names its gRPC code
// (5 is not_found; a string code is kept as it is) and keeps its message and details: an
// *APIError with the response's status, or a *TimeoutError for deadline_exceeded. Any other body is
// read as for REST.
func rpcStatusError(method, path string, resp *http.Response, data []byte, attempts int) error {
	e := newAPIError(method, path, resp, data, attempts)
	if rpc, ok := parseRPCError(data, true); ok {
		return rpc.into(e)
	}
	return e
}

// grpcCodeNames are the gRPC status codes by number, named as Connect writes them; 0 (ok) and
// numbers past the end are "unknown".
var grpcCodeNames = [...]string{
	"unknown", "canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found",
	"already_exists", "permission_denied", "resource_exhausted", "failed_precondition", "aborted",
	"out_of_range", "unimplemented", "internal", "unavailable", "data_loss", "unauthenticated",
}

// grpcCodeName names a gRPC code number given as a JSON number; anything but a whole number the
// SDK knows is "unknown", since a newer server's code is not guessed at.
func grpcCodeName(number string) string {
	n, err := strconv.ParseUint(number, 10, 64)
	if err != nil || n >= uint64(len(grpcCodeNames)) {
		return "unknown"
	}
	return grpcCodeNames[n]
}

// rpcError is the code, message and details of an RPC error object: Connect error JSON or a
// google.rpc.Status.
type rpcError struct {
	code    string
	message string
	details json.RawMessage
}

// parseRPCError reads an RPC error object; ok is false when data is not a JSON object with a
// string `code` (or, for a google.rpc.Status, numeric, a number). Connect error details are kept
// only as an array; a google.rpc.Status's whenever present and not null.
func parseRPCError(data []byte, numeric bool) (rpcError, bool) {
	var fields map[string]json.RawMessage
	if validateJSON(data) != nil || json.Unmarshal(data, &fields) != nil || fields == nil {
		return rpcError{}, false
	}
	var e rpcError
	raw := bytes.TrimSpace(fields["code"])
	switch {
	case bytes.HasPrefix(raw, []byte(`"`)):
		if json.Unmarshal(raw, &e.code) != nil {
			return rpcError{}, false
		}
	case numeric && len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		e.code = grpcCodeName(string(raw))
	default:
		return rpcError{}, false
	}
	if raw, ok := fields["message"]; ok {
		_ = json.Unmarshal(raw, &e.message)
	}
	details := bytes.TrimSpace(fields["details"])
	if bytes.HasPrefix(details, []byte("[")) || numeric && len(details) > 0 && !isJSONNull(details) {
		var compact bytes.Buffer
		if json.Compact(&compact, details) == nil {
			e.details = json.RawMessage(compact.Bytes())
		}
	}
	return e, true
}

// into is the SDK error of an RPC error answered with e's status: e with the code, the message
// (e's own when there is none) and the details, or a *TimeoutError for deadline_exceeded.
func (w rpcError) into(e *APIError) error {
	if w.code == rpcDeadlineExceeded {
		return &TimeoutError{Attempts: e.Attempts, StatusCode: e.StatusCode, Code: w.code, Message: w.message, Details: w.details}
	}
	e.Code, e.Details = w.code, w.details
	e.Message = firstNonEmpty(w.message, e.Message)
	return e
}

// rpcDeadlineExceeded is the RPC code that is a timeout rather than an API error.
const rpcDeadlineExceeded = "deadline_exceeded"

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// Error describes the failure without credentials or the query string.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Message != "" && e.Message != http.StatusText(e.StatusCode) {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Decode decodes the raw error body into v, e.g. the contract's problem details type.
func (e *APIError) Decode(v any) error {
	if err := json.Unmarshal(e.Body, v); err != nil {
		return &DecodeError{StatusCode: e.StatusCode, ContentType: e.Header.Get("Content-Type"), Body: e.Body, Err: err}
	}
	return nil
}

// Is matches the status errors: errors.Is(err, ErrNotFound) is true for a 404 *APIError.
func (e *APIError) Is(target error) bool {
	s, ok := target.(*statusError)
	return ok && s.status == e.StatusCode
}

// statusError is the type of the Err* status values.
type statusError struct {
	status int
}

// Error is the status line, e.g. "404 Not Found".
func (s *statusError) Error() string {
	return fmt.Sprintf("%d %s", s.status, http.StatusText(s.status))
}

// Values matched by errors.Is against an *APIError with the same status.
var (
	// ErrBadRequest matches a 400 response.
	ErrBadRequest error = &statusError{http.StatusBadRequest}
	// ErrUnauthorized matches a 401 response.
	ErrUnauthorized error = &statusError{http.StatusUnauthorized}
	// ErrForbidden matches a 403 response.
	ErrForbidden error = &statusError{http.StatusForbidden}
	// ErrNotFound matches a 404 response.
	ErrNotFound error = &statusError{http.StatusNotFound}
	// ErrConflict matches a 409 response.
	ErrConflict error = &statusError{http.StatusConflict}
	// ErrPayloadTooLarge matches a 413 response.
	ErrPayloadTooLarge error = &statusError{http.StatusRequestEntityTooLarge}
	// ErrUnprocessableEntity matches a 422 response.
	ErrUnprocessableEntity error = &statusError{http.StatusUnprocessableEntity}
	// ErrRateLimited matches a 429 response.
	ErrRateLimited error = &statusError{http.StatusTooManyRequests}
	// ErrInternalServer matches a 500 response.
	ErrInternalServer error = &statusError{http.StatusInternalServerError}
	// ErrServiceUnavailable matches a 503 response.
	ErrServiceUnavailable error = &statusError{http.StatusServiceUnavailable}
)

// IsStatus reports whether err is an *APIError with the given HTTP status.
func IsStatus(err error, status int) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == status
}

// TimeoutError means an attempt exceeded the per-attempt timeout (and no retry was left), a
// Connect stream outlived the caller's timeout, or the server answered with the code
// deadline_exceeded (a Connect error or a google.rpc.Status; Code and Message are then set).
// errors.Is(err, context.DeadlineExceeded) is true.
type TimeoutError struct {
	Attempts int
	Timeout  time.Duration
	// StatusCode is the HTTP status of the server's deadline_exceeded error (the code's HTTP
	// equivalent, 504, when it ended a Connect stream); 0 when the client's own timeout fired.
	StatusCode int
	// Code is "deadline_exceeded" when the server reported the timeout, else "".
	Code string
	// Message is the server's message of a deadline_exceeded error.
	Message string
	// Details is the `details` of the server's deadline_exceeded error, as raw JSON.
	Details json.RawMessage
}

// Error names the timeout and the attempt, or what the server reported.
func (e *TimeoutError) Error() string {
	if e.Code != "" {
		text := fmt.Sprintf("request timed out: the server answered %s", e.Code)
		if e.Message != "" {
			text += ": " + e.Message
		}
		return fmt.Sprintf("%s (attempt %d)", text, e.Attempts)
	}
	return fmt.Sprintf("request timed out after %s (attempt %d)", e.Timeout, e.Attempts)
}

// Unwrap makes errors.Is(err, context.DeadlineExceeded) true.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// CancelledError means the caller's context ended the call (before sending, during an attempt or
// during a backoff). errors.Is(err, context.Canceled) or context.DeadlineExceeded tells which.
type CancelledError struct {
	Attempts int
	Err      error
}

// Error wraps the context error.
func (e *CancelledError) Error() string { return "request cancelled: " + e.Err.Error() }

// Unwrap returns the context's error.
func (e *CancelledError) Unwrap() error { return e.Err }

// ConnectionError means no HTTP response was received (refused, reset, DNS, TLS, truncated body).
type ConnectionError struct {
	Attempts int
	Message  string
	Err      error
}

// Error describes the transport failure without credentials.
func (e *ConnectionError) Error() string { return "connection error: " + e.Message }

// Unwrap returns the transport's error.
func (e *ConnectionError) Unwrap() error { return e.Err }

// DecodeError means a 2xx response body was malformed or not what the contract describes.
type DecodeError struct {
	StatusCode  int
	ContentType string
	// Body is the raw response body.
	Body []byte
	Err  error
}

// Error says what could not be decoded.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("cannot decode the %d response (%s): %v", e.StatusCode, e.ContentType, e.Err)
}

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// InvalidRequestError means the call was refused before sending: a missing required parameter,
// a header value with a line break, a bad base URL.
type InvalidRequestError struct {
	Message string
}

// Error says why the request was refused.
func (e *InvalidRequestError) Error() string { return "invalid request: " + e.Message }

// ErrorKind names the kind of an error returned by this SDK: "api", "timeout" (the per-attempt
// timeout or the context's deadline), "cancelled", "connection", "decode", "invalid_request", or
// "" for any other error.
func ErrorKind(err error) string {
	var (
		apiErr     *APIError
		timeout    *TimeoutError
		cancelled  *CancelledError
		connection *ConnectionError
		decode     *DecodeError
		invalid    *InvalidRequestError
	)
	switch {
	case errors.As(err, &apiErr):
		return "api"
	case errors.As(err, &timeout):
		return "timeout"
	case errors.As(err, &cancelled):
		if errors.Is(cancelled.Err, context.DeadlineExceeded) {
			return "timeout" // the caller's context deadline
		}
		return "cancelled"
	case errors.As(err, &connection):
		return "connection"
	case errors.As(err, &decode):
		return "decode"
	case errors.As(err, &invalid):
		return "invalid_request"
	}
	return ""
}
