package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestAPIErrorReadsProblemDetails(t *testing.T) {
	resp := &http.Response{StatusCode: 404, Header: http.Header{"X-Request-Id": {"req_header"}}}
	body := []byte(`{"type":"https://x/problems/not-found","title":"Not found","status":404,"detail":"No agent 'a'.","instance":"/v1/agents/a","code":"not_found","request_id":"req_body"}`)
	err := error(newAPIError("GET", "/v1/agents/a", resp, body, 1))
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatal("errors.As failed")
	}
	if apiErr.Code != "not_found" || apiErr.Message != "No agent 'a'." || apiErr.RequestID != "req_header" {
		t.Errorf("code %q message %q request id %q", apiErr.Code, apiErr.Message, apiErr.RequestID)
	}
	if apiErr.Type != "https://x/problems/not-found" || apiErr.Title != "Not found" || apiErr.Instance != "/v1/agents/a" {
		t.Errorf("problem fields %+v", apiErr)
	}
	if string(apiErr.Body) != string(body) {
		t.Error("raw body not kept")
	}
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || !IsStatus(err, 404) || ErrorKind(err) != "api" {
		t.Error("status matching failed")
	}
	var problem struct {
		Code     string `json:"code"`
		Instance string `json:"instance"`
	}
	if apiErr.Decode(&problem) != nil || problem.Code != "not_found" || problem.Instance != "/v1/agents/a" {
		t.Errorf("Decode: %+v", problem)
	}
	if ErrorKind((&APIError{Body: []byte("<html>")}).Decode(&problem)) != "decode" {
		t.Error("decoding a non-JSON body must fail with a DecodeError")
	}
	wrapped := fmt.Errorf("context: %w", err)
	if !errors.Is(wrapped, ErrNotFound) {
		t.Error("a wrapped APIError does not match ErrNotFound")
	}
	want := "GET /v1/agents/a: 404 Not Found: not_found: No agent 'a'. (request id req_header)"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestAPIErrorOtherBodies(t *testing.T) {
	for _, tc := range []struct {
		body, code, message, requestID string
	}{
		{`{"error":{"message":"Bad card","code":"card_declined","type":"card_error"}}`, "card_declined", "Bad card", ""},
		{`{"error":"plain text error"}`, "", "plain text error", ""},
		{`{"message":"m","request_id":"r1"}`, "", "m", "r1"},
		{`<html>gateway</html>`, "", "Bad Gateway", ""},
		{``, "", "Bad Gateway", ""},
		{`[1,2]`, "", "Bad Gateway", ""},
	} {
		e := newAPIError("POST", "/x", &http.Response{StatusCode: 502, Header: http.Header{}}, []byte(tc.body), 2)
		if e.Code != tc.code || e.Message != tc.message || e.RequestID != tc.requestID || e.Attempts != 2 {
			t.Errorf("%s: code %q message %q request id %q", tc.body, e.Code, e.Message, e.RequestID)
		}
	}
}

func TestRPCStatusErrors(t *testing.T) {
	for _, tc := range []struct {
		status  int
		body    string
		kind    string
		code    string
		message string
		details string
	}{
		{404, `{"code":5,"message":"agent agt_9 not found","details":[ {"@type":"type.googleapis.com/google.rpc.ResourceInfo","resourceName":"agt_9"} ]}`,
			"api", "not_found", "agent agt_9 not found", `[{"@type":"type.googleapis.com/google.rpc.ResourceInfo","resourceName":"agt_9"}]`},
		{400, `{"code":3,"message":"name is required"}`, "api", "invalid_argument", "name is required", ""},
		{500, `{"code":99,"message":"odd"}`, "api", "unknown", "odd", ""},
		{500, `{"code":0}`, "api", "unknown", "Internal Server Error", ""},
		{500, `{"code":-1}`, "api", "unknown", "Internal Server Error", ""},
		{500, `{"code":5.0}`, "api", "unknown", "Internal Server Error", ""},
		{500, `{"code":18446744073709551621}`, "api", "unknown", "Internal Server Error", ""},
		{401, `{"code":16,"message":"","details":null}`, "api", "unauthenticated", "Unauthorized", ""},
		{400, `{"code":9,"details":{"reason":"R"}}`, "api", "failed_precondition", "Bad Request", `{"reason":"R"}`},
		{422, `{"code":3,"title":"Invalid","detail":"bad name"}`, "api", "invalid_argument", "bad name", ""},
		{403, `{"code":"permission_denied","message":"no"}`, "api", "permission_denied", "no", ""},
		{400, `{"code":true,"message":"m"}`, "api", "", "m", ""},
		{502, `<html>bad gateway</html>`, "api", "", "Bad Gateway", ""},
		{504, `{"code":4,"message":"upstream deadline","details":[{"@type":"t"}]}`, "timeout", "deadline_exceeded", "upstream deadline", `[{"@type":"t"}]`},
		{400, `{"code":"deadline_exceeded"}`, "timeout", "deadline_exceeded", "", ""},
	} {
		rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		})
		r := newRequest("GET", "/v1/agents/agt_9")
		r.statusErrors = true
		_, err := testCore(rec.server.URL, WithMaxRetries(0)).send(context.Background(), r, nil)
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
		case errors.As(err, &timeout):
			if timeout.StatusCode != tc.status || timeout.Code != tc.code || timeout.Message != tc.message || string(timeout.Details) != tc.details || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%d %s: %#v", tc.status, tc.body, timeout)
			}
		}
	}
	// Without the flag, the same body is a REST error: a numeric code is not named, and
	// deadline_exceeded is an API error like any other code.
	for body, code := range map[string]string{`{"code":5,"message":"m"}`: "", `{"code":"deadline_exceeded"}`: "deadline_exceeded"} {
		e := newAPIError("GET", "/x", &http.Response{StatusCode: 404, Header: http.Header{}}, []byte(body), 1)
		if e.Code != code || e.Details != nil {
			t.Errorf("%s read as REST: %#v", body, e)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	cases := map[string]error{
		"timeout":         &TimeoutError{Attempts: 1},
		"cancelled":       &CancelledError{Err: context.Canceled},
		"connection":      &ConnectionError{Message: "refused"},
		"decode":          &DecodeError{StatusCode: 200, Body: []byte("{")},
		"invalid_request": &InvalidRequestError{Message: "missing"},
		"":                errors.New("other"),
	}
	for want, err := range cases {
		if got := ErrorKind(fmt.Errorf("wrapped: %w", err)); got != want {
			t.Errorf("ErrorKind(%T) = %q, want %q", err, got, want)
		}
		if err.Error() == "" {
			t.Errorf("%T has an empty message", err)
		}
	}
	if ErrorKind(&CancelledError{Err: context.DeadlineExceeded}) != "timeout" {
		t.Error("a context deadline is a timeout")
	}
	if !errors.Is(&CancelledError{Err: context.Canceled}, context.Canceled) {
		t.Error("a CancelledError does not match context.Canceled")
	}
	if strings.Contains((&TimeoutError{Attempts: 3}).Error(), "%!") {
		t.Error("bad format")
	}
}
