package orchestratorproto

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

type testStatus string

func TestQueryStyles(t *testing.T) {
	limit := int32(20)
	var absent *int32
	when := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	q := &query{}
	q.add("status", "form", true, []testStatus{"online", "busy"})
	q.add("capability", "form", false, []string{"web search", "a,b"})
	q.add("ids", "spaceDelimited", false, []string{"x", "y"})
	q.add("states", "pipeDelimited", false, []string{"running", "queued"})
	q.add("labels", "deepObject", true, map[string]string{"tier": "gold", "team": "r&d"})
	q.add("limit", "form", true, &limit)
	q.add("absent", "form", true, absent)
	q.add("nil_list", "form", true, []string(nil))
	q.add("after", "form", true, when)
	q.add("flag", "form", true, false)
	q.add("nullable", "form", true, Value(int64(9007199254740993)))
	q.add("null", "form", true, Null[string]())
	want := "status=online&status=busy&capability=web%20search,a%2Cb&ids=x%20y&states=running%7Cqueued" +
		"&labels%5Bteam%5D=r%26d&labels%5Btier%5D=gold&limit=20&after=2025-02-01T00%3A00%3A00Z&flag=false" +
		"&nullable=9007199254740993"
	if got := q.encode(); got != want {
		t.Errorf("query\n got %s\nwant %s", got, want)
	}
	q.set("limit", "5")
	if q.get("limit") != "5" || strings.Count(q.encode(), "limit=") != 1 {
		t.Errorf("set: %s", q.encode())
	}
	if c := q.clone(); c.encode() != q.encode() {
		t.Error("clone differs")
	}
}

// testUnion writes its own JSON, as a generated union does: a scalar variant or an object one.
type testUnion struct{ raw string }

func (u testUnion) MarshalJSON() ([]byte, error) { return []byte(u.raw), nil }

func TestUnionParametersAreEncodedByTheVariantTheyHold(t *testing.T) {
	q := &query{}
	q.add("trial_end", "deepObject", true, testUnion{`"now"`})
	q.add("cancel_at", "deepObject", true, &testUnion{`9007199254740993`})
	q.add("created", "deepObject", true, testUnion{`{"gt":7}`})
	q.add("ids", "form", true, testUnion{`["a","b"]`})
	q.add("has", "form", true, []testUnion{{`"link"`}, {`"image"`}})
	q.add("null", "form", true, testUnion{`null`})
	want := "trial_end=now&cancel_at=9007199254740993&created%5Bgt%5D=7&ids=a&ids=b&has=link&has=image"
	if got := q.encode(); got != want {
		t.Errorf("query\n got %s\nwant %s", got, want)
	}
	r := &request{header: http.Header{}}
	if segment := r.pathSegment("id", testUnion{`"a/b"`}); segment != "a%2Fb" {
		t.Errorf("path segment %q", segment)
	}
	r.setHeader("X-When", testUnion{`"now"`})
	if got := r.header.Get("X-When"); got != "now" {
		t.Errorf("header %q", got)
	}
}

type testBody struct {
	Name        string           `json:"name"`
	Description Nullable[string] `json:"description,omitzero"`
	Labels      map[string]any   `json:"labels,omitzero"`
}

func TestJSONBodiesKeepAbsentAndNull(t *testing.T) {
	for _, tc := range []struct {
		body testBody
		want string
	}{
		{testBody{Name: "a"}, `{"name":"a"}`},
		{testBody{Name: "a", Description: Null[string]()}, `{"name":"a","description":null}`},
		{testBody{Name: "a", Description: Value("d"), Labels: map[string]any{"team": nil}}, `{"name":"a","description":"d","labels":{"team":null}}`},
	} {
		r := newRequest("PATCH", "/x")
		r.jsonBody("application/merge-patch+json", tc.body)
		if r.err != nil || string(r.body.data) != tc.want || r.body.contentType != "application/merge-patch+json" {
			t.Errorf("body %s (%v), want %s", r.body.data, r.err, tc.want)
		}
	}
}

func TestFormBody(t *testing.T) {
	r := newRequest("POST", "/token")
	r.formBody("application/x-www-form-urlencoded", struct {
		GrantType string         `json:"grant_type"`
		Scope     *string        `json:"scope,omitempty"`
		Extra     []string       `json:"extra"`
		Nested    map[string]any `json:"nested"`
		Items     []any          `json:"items"`
	}{
		GrantType: "client credentials",
		Extra:     []string{"a", "b"},
		Nested:    map[string]any{"a": map[string]any{"b": 1, "c": nil}},
		Items:     []any{map[string]any{"p": true}},
	})
	want := "grant_type=client+credentials&extra=a&extra=b&nested%5Ba%5D%5Bb%5D=1&items%5B0%5D%5Bp%5D=true"
	if r.err != nil || string(r.body.data) != want {
		t.Errorf("form %s (%v), want %s", r.body.data, r.err, want)
	}
}

func TestMultipartBody(t *testing.T) {
	r := newRequest("POST", "/upload")
	m := r.multipart()
	m.file("file", &File{Filename: `re"port.pdf`, Content: strings.NewReader("%PDF")}, "application/octet-stream", true)
	m.field("metadata", &struct {
		Filename string `json:"filename"`
	}{"x.pdf"}, "application/json")
	m.field("note", "hello", "")
	m.field("absent", (*string)(nil), "")
	m.done()
	if r.err != nil {
		t.Fatal(r.err)
	}
	media, params, err := mime.ParseMediaType(r.body.contentType)
	if err != nil || media != "multipart/form-data" {
		t.Fatalf("content type %q", r.body.contentType)
	}
	reader := multipart.NewReader(strings.NewReader(string(r.body.data)), params["boundary"])
	type part struct{ name, filename, contentType, content string }
	var parts []part
	for {
		p, err := reader.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p)
		parts = append(parts, part{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), string(data)})
	}
	want := []part{
		{"file", `re"port.pdf`, "application/octet-stream", "%PDF"},
		{"metadata", "", "application/json", `{"filename":"x.pdf"}`},
		{"note", "", "", "hello"},
	}
	if len(parts) != len(want) {
		t.Fatalf("parts %+v", parts)
	}
	for i := range want {
		if parts[i] != want[i] {
			t.Errorf("part %d: %+v, want %+v", i, parts[i], want[i])
		}
	}
	r = newRequest("POST", "/upload")
	m = r.multipart()
	m.file("file", nil, "", true)
	m.done()
	if ErrorKind(r.err) != "invalid_request" {
		t.Errorf("a missing required file: %v", r.err)
	}
	// A body the contract does not require: left empty, none is sent; begun, it must be whole.
	r = newRequest("POST", "/upload")
	m = r.optionalMultipart()
	m.file("file", nil, "", true)
	m.field("note", (*string)(nil), "")
	m.done()
	if r.err != nil || r.body != nil {
		t.Errorf("an optional body left empty: err %v, body %+v", r.err, r.body)
	}
	r = newRequest("POST", "/upload")
	m = r.optionalMultipart()
	note := "n"
	m.file("file", nil, "", true)
	m.field("note", &note, "")
	m.done()
	if ErrorKind(r.err) != "invalid_request" || !strings.Contains(r.err.Error(), "part file is required") {
		t.Errorf("an optional body begun without its required part: %v", r.err)
	}
}

func response(status int, contentType, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}}, Body: io.NopCloser(strings.NewReader(body))}
}

func TestDecoding(t *testing.T) {
	value, ok, err := decodeJSON[map[string]json.Number](response(200, "application/json", `{"seq":9007199254740993,"extra":1}`))
	if err != nil || !ok || value["seq"].String() != "9007199254740993" {
		t.Errorf("decode %v %v %v", value, ok, err)
	}
	_, _, err = decodeJSON[map[string]any](response(200, "application/json", `{"truncated":`))
	if ErrorKind(err) != "decode" || string(err.(*DecodeError).Body) != `{"truncated":` {
		t.Errorf("malformed JSON: %v", err)
	}
	_, _, err = decodeJSON[map[string]any](response(200, "text/html", `<html>`))
	if ErrorKind(err) != "decode" {
		t.Errorf("wrong content: %v", err)
	}
	if _, ok, err := decodeJSON[map[string]any](response(204, "", "")); ok || err != nil {
		t.Errorf("204: %v %v", ok, err)
	}
	if v, err := decodeOptionalJSON[map[string]any](response(200, "", "")); v != nil || err != nil {
		t.Errorf("empty optional: %v %v", v, err)
	}
	if v, err := decodeOptionalJSON[map[string]any](response(200, "application/json", `{"a":1}`)); v == nil || err != nil {
		t.Errorf("optional: %v %v", v, err)
	}
	if s, err := decodeText(response(200, "text/plain", "metric 1\n")); s != "metric 1\n" || err != nil {
		t.Errorf("text %q %v", s, err)
	}
}

func TestHeaderAndCookieParameters(t *testing.T) {
	r := newRequest("GET", "/x")
	r.setHeader("X-List", []int64{1, 2})
	r.setHeader("X-Absent", (*string)(nil))
	r.addCookie("session", "abc")
	r.addCookie("theme", "dark")
	if r.header.Get("X-List") != "1,2" || r.header.Get("X-Absent") != "" || r.header.Get("Cookie") != "session=abc; theme=dark" {
		t.Errorf("headers %v", r.header)
	}
}

func TestTextBodyAndNullableValues(t *testing.T) {
	r := newRequest("POST", "/x")
	r.textBody("text/plain", "line\n")
	if string(r.body.data) != "line\n" || r.body.contentType != "text/plain" {
		t.Errorf("text body %q %q", r.body.data, r.body.contentType)
	}
	if valueOf(Value([]string{"a"}))[0] != "a" || valueOf(Null[[]string]()) != nil {
		t.Error("valueOf")
	}
}
