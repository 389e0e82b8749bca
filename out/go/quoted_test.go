package orchestrator

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

// quotedModel is a model whose 64-bit integers travel as JSON strings, coded as the generated
// models code them.
type quotedModel struct {
	ID       int64               `json:"id,string"`
	Optional *int64              `json:"optional,string,omitempty"`
	List     []int64             `json:"list,omitzero"`
	Counts   map[string]int64    `json:"counts,omitzero"`
	Wrapped  Nullable[int64]     `json:"wrapped,omitzero"`
	Nested   map[string][]*int64 `json:"nested,omitzero"`
	Plain    *int64              `json:"plain,omitempty"`
	extra    jsonExtra
}

func (m quotedModel) MarshalJSON() ([]byte, error) { return m.encodeJSON(false) }

func (m quotedModel) encodeJSON(request bool) ([]byte, error) {
	o := newObjectWriter(request)
	o.field("id", quote(&m.ID))
	if m.Optional != nil {
		o.field("optional", quote(&m.Optional))
	}
	if m.List != nil {
		o.field("list", quote(&m.List))
	}
	if m.Counts != nil {
		o.field("counts", quote(&m.Counts))
	}
	if !m.Wrapped.IsZero() {
		o.field("wrapped", quote(&m.Wrapped))
	}
	if m.Nested != nil {
		o.field("nested", quote(&m.Nested))
	}
	if m.Plain != nil {
		o.field("plain", m.Plain)
	}
	return o.done(m.extra)
}

func (m *quotedModel) UnmarshalJSON(data []byte) error { return m.decodeJSON(data, false) }

func (m *quotedModel) decodeJSON(data []byte, response bool) error {
	d, err := decodeObject(data, "quotedModel", response)
	if err != nil {
		return err
	}
	*m = quotedModel{}
	d.required("id", quote(&m.ID))
	d.optional("optional", quote(&m.Optional))
	d.optional("list", quote(&m.List))
	d.optional("counts", quote(&m.Counts))
	d.optional("wrapped", quote(&m.Wrapped))
	d.optional("nested", quote(&m.Nested))
	d.optional("plain", &m.Plain)
	return d.finish(&m.extra)
}

func TestQuotedInt64RoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{`{"id":"123"}`, `{"id":"123"}`},
		{`{"id":123}`, `{"id":"123"}`},
		{`{"id":"-9223372036854775808","optional":"9223372036854775807"}`, `{"id":"-9223372036854775808","optional":"9223372036854775807"}`},
		{`{"id":9223372036854775807,"optional":-9223372036854775808}`, `{"id":"9223372036854775807","optional":"-9223372036854775808"}`},
		{`{"id":"007","optional":"-0"}`, `{"id":"7","optional":"0"}`},
		{`{"id":"\u0031"}`, `{"id":"1"}`},
		{`{"id":"1","list":["1",2,"-3"],"counts":{"b":"2","a":1}}`, `{"id":"1","list":["1","2","-3"],"counts":{"a":"1","b":"2"}}`},
		{`{"id":"1","list":[],"counts":{}}`, `{"id":"1","list":[],"counts":{}}`},
		{`{"id":"1","wrapped":null}`, `{"id":"1","wrapped":null}`},
		{`{"id":"1","wrapped":"5"}`, `{"id":"1","wrapped":"5"}`},
		{`{"id":"1","nested":{"k":["1",null,2]}}`, `{"id":"1","nested":{"k":["1",null,"2"]}}`},
		{`{"id":"1","optional":null}`, `{"id":"1"}`},
		{`{"id":"1","plain":42,"other":"kept"}`, `{"id":"1","plain":42,"other":"kept"}`},
	} {
		var m quotedModel
		if err := unmarshalStrict([]byte(tc.in), &m); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		for _, request := range []bool{false, true} {
			out, err := marshalJSON(m, request)
			if err != nil || string(out) != tc.out {
				t.Errorf("%s (request %v): %s %v, want %s", tc.in, request, out, err, tc.out)
			}
		}
	}
	var m quotedModel
	if err := json.Unmarshal([]byte(`{"id":"9007199254740993"}`), &m); err != nil || m.ID != 9007199254740993 {
		t.Errorf("not exact past 2^53: %d %v", m.ID, err)
	}
}

func TestQuotedInt64Refuses(t *testing.T) {
	for _, in := range []string{
		`{"id":"+1"}`,
		`{"id":" 1"}`,
		`{"id":"1 "}`,
		`{"id":"1e3"}`,
		`{"id":1e3}`,
		`{"id":1.0}`,
		`{"id":1.5}`,
		`{"id":"1.0"}`,
		`{"id":""}`,
		`{"id":"-"}`,
		`{"id":"0x10"}`,
		`{"id":"1_000"}`,
		`{"id":"9223372036854775808"}`,
		`{"id":-9223372036854775809}`,
		`{"id":true}`,
		`{"id":null}`,
		`{"id":{}}`,
		`{"id":["1"]}`,
		`{}`,
		`{"id":"1","list":["1",null]}`,
		`{"id":"1","list":"1"}`,
		`{"id":"1","counts":{"a":"x"}}`,
		`{"id":"1","counts":[]}`,
		`{"id":"1","wrapped":"1.5"}`,
	} {
		var m quotedModel
		if err := unmarshalStrict([]byte(in), &m); err == nil {
			t.Errorf("%s decoded as %+v", in, m)
		}
	}
}

func TestParseQuotedInt64(t *testing.T) {
	for _, n := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1 << 53, 1<<53 + 1} {
		text := strconv.FormatInt(n, 10)
		for _, in := range []string{text, strconv.Quote(text)} {
			got, err := parseQuotedInt64([]byte(in))
			if err != nil || got != n {
				t.Errorf("%s: %d %v", in, got, err)
			}
		}
	}
}
