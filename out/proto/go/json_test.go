package orchestratorproto

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// testAgent is written the way the generator writes a model: id is required and read-only, seen
// is required, nullable and read-only, input is an optional free-form property.
type testAgent struct {
	ID    string
	Name  string
	Input any
	Seen  *time.Time
	Tags  []string

	extra jsonExtra
}

func (m testAgent) MarshalJSON() ([]byte, error) { return m.encodeJSON(false) }

func (m testAgent) encodeJSON(request bool) ([]byte, error) {
	o := newObjectWriter(request)
	if !request {
		o.field("id", m.ID)
	}
	o.field("name", m.Name)
	if m.Input != nil {
		o.field("input", m.Input)
	} else if m.extra.isNull("input") {
		o.null("input")
	}
	if !request {
		o.field("seen", m.Seen)
	}
	if m.Tags != nil {
		o.field("tags", m.Tags)
	}
	return o.done(m.extra)
}

func (m *testAgent) UnmarshalJSON(data []byte) error { return m.decodeJSON(data, false) }

func (m *testAgent) decodeJSON(data []byte, response bool) error {
	d, err := decodeObject(data, "testAgent", response)
	if err != nil {
		return err
	}
	*m = testAgent{}
	d.readOnly("id", &m.ID, false)
	d.required("name", &m.Name)
	d.optional("input", &m.Input)
	d.readOnly("seen", &m.Seen, true)
	d.optional("tags", &m.Tags)
	return d.finish(&m.extra)
}

// testLabels is a model with additional properties.
type testLabels struct {
	Team                 string
	AdditionalProperties map[string]int

	extra jsonExtra
}

func (m testLabels) MarshalJSON() ([]byte, error) { return m.encodeJSON(false) }

func (m testLabels) encodeJSON(request bool) ([]byte, error) {
	o := newObjectWriter(request)
	o.field("team", m.Team)
	writeAdditional(o, m.AdditionalProperties)
	return o.done(m.extra)
}

func (m *testLabels) UnmarshalJSON(data []byte) error { return m.decodeJSON(data, false) }

func (m *testLabels) decodeJSON(data []byte, response bool) error {
	d, err := decodeObject(data, "testLabels", response)
	if err != nil {
		return err
	}
	*m = testLabels{}
	d.required("team", &m.Team)
	if err := additional(d, &m.AdditionalProperties); err != nil {
		return err
	}
	return d.finish(&m.extra)
}

func TestValidateJSONAcceptsRFC8259(t *testing.T) {
	deep := strings.Repeat("[", 128) + strings.Repeat("]", 128)
	for _, doc := range []string{
		" \t\r\n{ \"a\" :\n[ 1 , 2 ]\t} \r\n",
		`"\" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \u0000"`,
		`[1E+2, -0.5e-3, -0, 0, 1e-400, 12.5E2]`,
		`{"": 1, "a": {"": 2}}`,
		`{"a": 1, "\u0062": 2}`,
		"\"\uFFFF \U0010FFFF é\"",
		deep,
		`null`, `true`, `false`,
	} {
		if err := validateJSON([]byte(doc)); err != nil {
			t.Errorf("validateJSON(%q) = %v, want nil", doc, err)
		}
	}
}

func TestValidateJSONRefusesTheCorners(t *testing.T) {
	for name, doc := range map[string]string{
		"duplicate key":           `{"a": 1, "a": 2}`,
		"duplicate escaped key":   `{"a": 1, "\u0061": 2}`,
		"duplicate key nested":    `{"x": [{"b": 1, "c": 0, "b": 2}]}`,
		"duplicate in big obj":    `{"a":0,"b":0,"c":0,"d":0,"e":0,"f":0,"g":0,"h":0,"i":0,"j":0,"a":1}`,
		"byte order mark":         "\xef\xbb\xbf{}",
		"lone high surrogate":     `"\ud800"`,
		"lone low surrogate":      `"\udc00"`,
		"reversed surrogates":     `"\udc00\ud800"`,
		"too deep":                strings.Repeat("[", 129) + strings.Repeat("]", 129),
		"leading zero":            `[01]`,
		"plus sign":               `[+1]`,
		"NaN":                     `[NaN]`,
		"Infinity":                `[Infinity]`,
		"number overflow":         `[1e400]`,
		"trailing comma object":   `{"a": 1,}`,
		"trailing comma array":    `[1,]`,
		"comment":                 `{"a": 1 /* x */}`,
		"single quotes":           `{'a': 1}`,
		"control character":       "[\"a\tb\"]",
		"short unicode escape":    `"\u12"`,
		"unknown escape":          `"\x41"`,
		"non-JSON whitespace":     "\f[1]",
		"unquoted key":            `{a: 1}`,
		"empty document":          ``,
		"trailing data":           `{} x`,
		"invalid UTF-8":           "\"\xff\"",
		"overlong UTF-8":          "\"\xc0\xaf\"",
		"UTF-8 encoded surrogate": "\"\xed\xa0\x80\"",
		"truncated":               `{"a": [1, 2`,
	} {
		if err := validateJSON([]byte(doc)); err == nil {
			t.Errorf("%s: validateJSON(%q) = nil, want an error", name, doc)
		}
	}
}

func TestUnmarshalStrict(t *testing.T) {
	var agent testAgent
	if err := unmarshalStrict([]byte(`null`), &agent); err == nil {
		t.Error("null for an object: no error")
	}
	var list []string
	if err := unmarshalStrict([]byte(`null`), &list); err == nil {
		t.Error("null for an array: no error")
	}
	var free any = "x"
	if err := unmarshalStrict([]byte(`null`), &free); err != nil || free != nil {
		t.Errorf("null for any: %v, %v", free, err)
	}
	var ptr *testAgent
	if err := unmarshalStrict([]byte(`null`), &ptr); err != nil || ptr != nil {
		t.Errorf("null for a pointer: %v, %v", ptr, err)
	}
	var s string
	if err := unmarshalStrict([]byte("\"a\xffb\""), &s); err == nil {
		t.Error("invalid UTF-8: no error")
	}
	var n int64
	for _, doc := range []string{`9223372036854775808`, `1.5`, `"1"`, `true`} {
		if err := unmarshalStrict([]byte(doc), &n); err == nil {
			t.Errorf("%s into int64: no error", doc)
		}
	}
	var names []string
	if err := unmarshalStrict([]byte(`["a", null]`), &names); err == nil {
		t.Error("null in a list of strings: no error")
	}
	var counts map[string]int
	if err := unmarshalStrict([]byte(`{"a": null}`), &counts); err == nil {
		t.Error("null in a map of integers: no error")
	}
	var maybe map[string]*string
	if err := unmarshalStrict([]byte(`{"a": null, "b": "x"}`), &maybe); err != nil || maybe["a"] != nil || *maybe["b"] != "x" {
		t.Errorf("nullable map values: %v, %v", maybe, err)
	}
	var freeList []any
	if err := unmarshalStrict([]byte(`[1, null]`), &freeList); err != nil || len(freeList) != 2 || freeList[1] != nil {
		t.Errorf("free-form list: %v, %v", freeList, err)
	}
	var raw []byte
	if err := unmarshalStrict([]byte(`"AAE="`), &raw); err != nil || len(raw) != 2 {
		t.Errorf("bytes: %v, %v", raw, err)
	}
	var when time.Time
	if err := unmarshalStrict([]byte(`"yesterday"`), &when); err == nil {
		t.Error("invalid date-time: no error")
	}
}

func TestModelDecodingRequiresProperties(t *testing.T) {
	seen := `"seen": "2025-01-01T00:00:00Z"`
	for doc, wantErr := range map[string]bool{
		`{"id": "a", "name": "n", ` + seen + `}`:              false,
		`{"id": "a", ` + seen + `}`:                           true, // name missing
		`{"id": "a", "name": null, ` + seen + `}`:             true, // name null
		`{"id": "a", "name": 42, ` + seen + `}`:               true, // name of the wrong type
		`{"name": "n", ` + seen + `}`:                         true, // read-only id missing in a response
		`{"id": "a", "name": "n"}`:                            true, // required nullable seen missing
		`{"id": "a", "name": "n", "seen": null}`:              false,
		`["id"]`:                                              true,
		`{"id": "a", "name": "n", "seen": "x"}`:               true,
		`{"id": "a", "name": "n", ` + seen + `, "tags": [1]}`: true,
	} {
		var agent testAgent
		err := unmarshalStrict([]byte(doc), &agent)
		if (err != nil) != wantErr {
			t.Errorf("decoding %s: %v, want an error: %v", doc, err, wantErr)
		}
	}
	// Outside a response (a value built from JSON to be sent) read-only properties may be absent.
	var body testAgent
	if err := json.Unmarshal([]byte(`{"name": "n"}`), &body); err != nil || body.Name != "n" {
		t.Errorf("request value: %+v, %v", body, err)
	}
	// Models nested in slices, maps and pointers are decoded as a response too.
	var list []testAgent
	if err := unmarshalStrict([]byte(`[{"name": "n"}]`), &list); err == nil {
		t.Error("a nested model without its read-only id: no error")
	}
	var byName map[string]*testAgent
	if err := unmarshalStrict([]byte(`{"a": {"name": "n", "seen": null}}`), &byName); err == nil {
		t.Error("a model in a map without its read-only id: no error")
	}
	if err := unmarshalStrict([]byte(`{"a": null, "b": {"id": "i", "name": "n", "seen": null}}`), &byName); err != nil || byName["a"] != nil || byName["b"].ID != "i" {
		t.Errorf("map of models: %v, %v", byName, err)
	}
}

func TestUnknownPropertiesRoundTrip(t *testing.T) {
	var spaced testAgent
	if err := unmarshalStrict([]byte("{\"id\":\"a\",\"name\":\"n\",\"seen\":null,\n \"x\" : [ 1 ,\t2 ] }"), &spaced); err != nil {
		t.Fatal(err)
	}
	if data, _ := spaced.encodeJSON(true); string(data) != `{"name":"n","x":[1,2]}` {
		t.Errorf("unknown members re-encoded as %s", data)
	}
	doc := `{"id":"a","name":"n","seen":null,"region":"eu","future":{"nested":{"deep":true},"list":[1,null,"x"]},"gone":null,"":0}`
	var agent testAgent
	if err := unmarshalStrict([]byte(doc), &agent); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(agent)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, data, doc) {
		t.Errorf("re-encoded %s, want %s", data, doc)
	}
	// Nested in a slice: kept too.
	var list []testAgent
	if err := unmarshalStrict([]byte(`[`+doc+`]`), &list); err != nil {
		t.Fatal(err)
	}
	if data, _ := json.Marshal(list); !sameJSON(t, data, `[`+doc+`]`) {
		t.Errorf("re-encoded %s", data)
	}
	// Additional properties take the unknown members of a model that declares them.
	var labels testLabels
	if err := json.Unmarshal([]byte(`{"team":"t","b":2,"a":1}`), &labels); err != nil || labels.AdditionalProperties["a"] != 1 {
		t.Fatalf("labels %+v, %v", labels, err)
	}
	if data, _ := json.Marshal(labels); string(data) != `{"team":"t","a":1,"b":2}` {
		t.Errorf("labels re-encoded %s", data)
	}
}

func TestFreeFormNullSurvives(t *testing.T) {
	for _, doc := range []string{
		`{"id":"a","name":"n","seen":null,"input":null}`,
		`{"id":"a","name":"n","seen":null}`,
		`{"id":"a","name":"n","seen":null,"input":{"x":null}}`,
	} {
		var agent testAgent
		if err := unmarshalStrict([]byte(doc), &agent); err != nil {
			t.Fatal(err)
		}
		if data, _ := json.Marshal(agent); !sameJSON(t, data, doc) {
			t.Errorf("re-encoded %s, want %s", data, doc)
		}
	}
}

func TestReadOnlyPropertiesAreNotSent(t *testing.T) {
	when := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	agent := testAgent{ID: "a", Name: "n", Seen: &when}
	r := newRequest("POST", "/agents")
	r.jsonBody("application/json", agent)
	if r.err != nil || string(r.body.data) != `{"name":"n"}` {
		t.Errorf("body %s (%v)", r.body.data, r.err)
	}
	// At every depth: in slices, maps, pointers and Nullable values.
	for value, want := range map[any]string{
		&[]testAgent{agent}:                             `[{"name":"n"}]`,
		&map[string]testAgent{"k": agent}:               `{"k":{"name":"n"}}`,
		&[]*testAgent{&agent, nil}:                      `[{"name":"n"},null]`,
		&[]Nullable[testAgent]{Value(agent)}:            `[{"name":"n"}]`,
		&map[string][]testAgent{"k": {agent}, "e": nil}: `{"e":null,"k":[{"name":"n"}]}`,
	} {
		data, err := marshalJSON(value, true)
		if err != nil || string(data) != want {
			t.Errorf("nested body %s (%v), want %s", data, err, want)
		}
	}
	// A response value encodes them.
	if data, _ := json.Marshal(agent); !strings.Contains(string(data), `"id":"a"`) || !strings.Contains(string(data), `"seen":"2025-01-01T00:00:00Z"`) {
		t.Errorf("response encoding %s", data)
	}
}

func TestFormBodyOrderAndEscaping(t *testing.T) {
	if got := formEscape("a b*-._~!'()&=+/é"); got != "a+b*-._%7E%21%27%28%29%26%3D%2B%2F%C3%A9" {
		t.Errorf("formEscape = %s", got)
	}
	r := newRequest("POST", "/token")
	r.formBody("application/x-www-form-urlencoded", testAgent{ID: "secret", Name: "z y", Tags: []string{"b", "a"}})
	if want := "name=z+y&tags=b&tags=a"; r.err != nil || string(r.body.data) != want {
		t.Errorf("form %s (%v), want %s", r.body.data, r.err, want)
	}
}

// sameJSON compares two JSON documents by value.
func sameJSON(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatalf("invalid JSON %s: %v", want, err)
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// testEnum is an open enum, as the generator writes one.
type testEnum string

// testText decodes itself from text: json.Unmarshal calls UnmarshalText for a string.
type testText struct{ got string }

func (t *testText) UnmarshalText(b []byte) error { t.got = "text:" + string(b); return nil }

// testCount, testRatio and testFlag are named numbers and booleans without methods, as a
// contract's named integer, number and boolean schemas may be.
type (
	testCount int16
	testRatio float32
	testFlag  bool
)

// TestUnmarshalValueIsJSONUnmarshal checks the fast paths against encoding/json: the same value
// and the same error (or none) for every input, the fast ones and those left to encoding/json.
func TestUnmarshalValueIsJSONUnmarshal(t *testing.T) {
	inputs := []string{
		`"plain"`, `""`, `"é ü 日本"`, `"tab\tescaped"`, `"quote \" inside"`, `"\u00e9"`, "\"bad \xff utf8\"",
		`null`, ` null`, `"2025-01-01T00:00:00Z"`, `"2025-13-01T00:00:00Z"`, `" 2025-01-01T00:00:00Z"`,
		` "2025-01-01T00:00:00Z" `, `"x" trailing`, `5`, `true`, `{}`, `[]`, `"unterminated`,
		// Numbers and booleans: the integer, float and bool fast paths, and what they leave alone.
		`0`, `-0`, `01`, `-`, `-01`, `42`, `-42`, `1.5`, `-12.5E-3`, `1e3`, `1E+2`, `1.`, `.5`, `+1`, ` 7`, `7 `,
		`32767`, `32768`, `-32769`, `2147483647`, `2147483648`, `-2147483649`, `9007199254740993`,
		`9223372036854775807`, `9223372036854775808`, `-9223372036854775808`, `-9223372036854775809`,
		`12345678901234567890123`, `1e400`, `3.4e39`, `4.9e-324`, `1e-400`, `0x10`, `1_0`, `NaN`, `Infinity`,
		`false`, `tru`, `truex`, `True`,
	}
	targets := []func() any{
		func() any { return new(string) },
		func() any { s := "kept"; return &s },
		func() any { return new(testEnum) },
		func() any { return new(time.Time) },
		func() any { v := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC); p := &v; return &p },
		func() any { return new(*string) },
		func() any { return new([]string) },
		func() any { return new(map[string]int) },
		func() any { return new(any) },
		func() any { return new(testText) },
		func() any { return new(Nullable[string]) },
		func() any { return new(int64) },
		func() any { n := int64(7); return &n },
		func() any { return new(int32) },
		func() any { return new(int) },
		func() any { return new(testCount) },
		func() any { return new(float64) },
		func() any { return new(testRatio) },
		func() any { return new(bool) },
		func() any { return new(testFlag) },
		func() any { return new(*int64) },
	}
	for _, input := range inputs {
		for _, target := range targets {
			want, got := target(), target()
			wantErr := json.Unmarshal([]byte(input), want)
			gotErr := unmarshalValue([]byte(input), got)
			if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
				t.Errorf("%s into %T: error %v, want %v", input, got, gotErr, wantErr)
				continue
			}
			wantJSON, _ := json.Marshal(want)
			gotJSON, _ := json.Marshal(got)
			if string(wantJSON) != string(gotJSON) {
				t.Errorf("%s into %T: %s, want %s", input, got, gotJSON, wantJSON)
			}
		}
	}
}

// TestDecodedMembersGoBackToThePool checks that the members a decoder borrowed are cleared when
// handed back (the pool must not keep a response alive) and that decoding again still works.
func TestDecodedMembersGoBackToThePool(t *testing.T) {
	for range 3 {
		var a testAgent
		if err := unmarshalStrict([]byte(`{"id": "a", "name": "n", "seen": null, "extra": 1}`), &a); err != nil || a.ID != "a" || a.Name != "n" {
			t.Fatalf("decoded %+v: %v", a, err)
		}
	}
	d, err := decodeObject([]byte(`{"id": "a"}`), "testAgent", true)
	if err != nil {
		t.Fatal(err)
	}
	members := d.members[:1]
	if err := d.finish(&jsonExtra{}); err != nil {
		t.Fatal(err)
	}
	if members[0].key != nil || members[0].value != nil || d.members != nil {
		t.Errorf("members not cleared: %+v", members[0])
	}
}

// TestArrayItemsSplitsAsEncodingJSON checks the in-place split of a (valid) array against
// encoding/json's: the same items, and encoding/json's own error for anything but an array.
func TestArrayItemsSplitsAsEncodingJSON(t *testing.T) {
	for _, input := range []string{
		`[]`, ` [ ] `, `[1]`, `[1,2,3]`, ` [ "a" , {"b":[1,"]"]} , null , true , -1.5e3 , [[]] ] `,
		`["\"],[", "\\"]`, "[\n\t{}\r\n]",
	} {
		var want []json.RawMessage
		if err := json.Unmarshal([]byte(input), &want); err != nil {
			t.Fatal(err)
		}
		got, err := arrayItems([]byte(input))
		if err != nil || len(got) != len(want) {
			t.Errorf("arrayItems(%s) = %q, %v; want %q", input, got, err, want)
			continue
		}
		for i := range want {
			if string(got[i]) != string(want[i]) {
				t.Errorf("arrayItems(%s)[%d] = %s, want %s", input, i, got[i], want[i])
			}
		}
	}
	for _, input := range []string{`{"a":1}`, `"x"`, `5`} {
		var want []json.RawMessage
		wantErr := json.Unmarshal([]byte(input), &want)
		if _, err := arrayItems([]byte(input)); err == nil || wantErr == nil || err.Error() != wantErr.Error() {
			t.Errorf("arrayItems(%s): error %v, want %v", input, err, wantErr)
		}
	}
}

// BenchmarkDecodeList compares the strict, typed decode of a response (a list of models) with
// encoding/json's generic decode of the same bytes into an any, the yardstick of a hand-written
// call (`go test -run '^$' -bench DecodeList -benchmem`).
func BenchmarkDecodeList(b *testing.B) {
	item := `{"id":"agt_%d","name":"agent-%d","seen":"2025-02-02T17:05:12Z","tags":["gpu","eu"],"input":{"depth":%d}}`
	parts := make([]string, 20)
	for i := range parts {
		parts[i] = fmt.Sprintf(item, i, i, i)
	}
	data := []byte("[" + strings.Join(parts, ",") + "]")
	b.Run("strict-typed", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var agents []testAgent
			if err := unmarshalStrict(data, &agents); err != nil || len(agents) != len(parts) {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json-any", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
