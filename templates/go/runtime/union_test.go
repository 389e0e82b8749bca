package polysdk

import (
	"encoding/json"
	"testing"
)

func TestKindOf(t *testing.T) {
	cases := map[string]jsonKind{
		``: jsonKindInvalid, ` null`: jsonKindNull, `true`: jsonKindBool, `-1.5e3`: jsonKindNumber,
		`"x"`: jsonKindString, `[1]`: jsonKindArray, "\n{}": jsonKindObject,
	}
	for in, want := range cases {
		if got := kindOf([]byte(in)); got != want {
			t.Errorf("kindOf(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestDiscriminatorOf(t *testing.T) {
	cases := []struct {
		in   string
		tag  string
		ok   bool
		keys []string
	}{
		{in: `{"type":"a","x":1}`, tag: "a", ok: true, keys: []string{"type", "x"}},
		{in: `{"type":1}`, ok: false, keys: []string{"type"}},
		{in: `{"other":"a"}`, ok: false, keys: []string{"other"}},
		{in: `[1,2]`, ok: false},
		{in: `{bad json`, ok: false},
		{in: ` { "x" : {"type":"inner"} , "type" : "outer" } `, tag: "outer", ok: true},
		{in: `{"x":{"type":"inner"},"y":["type"]}`, ok: false},
		{in: `{"type":"first","type":"last"}`, tag: "last", ok: true},
		{in: `{"typ\u0065":"escaped key","z":"\"type\":\"no\""}`, tag: "escaped key", ok: true},
		{in: `{"type":"\u00e9t\u00e9"}`, tag: "été", ok: true},
	}
	for _, c := range cases {
		tag, ok := discriminatorOf([]byte(c.in), "type")
		if tag != c.tag || ok != c.ok {
			t.Errorf("discriminatorOf(%s) = %q, %v", c.in, tag, ok)
		}
		fields := objectKeys([]byte(c.in))
		if c.keys != nil && !hasKeys(fields, c.keys...) {
			t.Errorf("hasKeys(%s, %v) = false", c.in, c.keys)
		}
	}
	if hasKeys(objectKeys([]byte(`{"a":1}`)), "a", "b") {
		t.Error("hasKeys reported a missing key as present")
	}
	if string(cloneRaw([]byte(" {\"a\":1} "))) != `{"a":1}` {
		t.Error("cloneRaw did not trim")
	}
}

// testPush and testReminder are written the way the generator writes a discriminated union and its
// variant (the variant has the tag property, and a read-only id).
type testPush struct {
	Kind  string
	Title string
	ID    string

	extra jsonExtra
}

func (m testPush) MarshalJSON() ([]byte, error) { return m.encodeJSON(false) }

func (m testPush) encodeJSON(request bool) ([]byte, error) {
	o := newObjectWriter(request)
	o.field("kind", m.Kind)
	o.field("title", m.Title)
	if !request {
		o.field("id", m.ID)
	}
	return o.done(m.extra)
}

func (m *testPush) UnmarshalJSON(data []byte) error { return m.decodeJSON(data, false) }

func (m *testPush) decodeJSON(data []byte, response bool) error {
	d, err := decodeObject(data, "testPush", response)
	if err != nil {
		return err
	}
	*m = testPush{}
	d.required("kind", &m.Kind)
	d.required("title", &m.Title)
	d.readOnly("id", &m.ID, false)
	return d.finish(&m.extra)
}

type testReminder struct {
	Push    *testPush
	Unknown json.RawMessage
}

func (u testReminder) MarshalJSON() ([]byte, error) { return u.encodeJSON(false) }

func (u testReminder) encodeJSON(request bool) ([]byte, error) {
	switch {
	case u.Push != nil:
		return withTag(u.Push, request, "kind", "push")
	case u.Unknown != nil:
		return u.Unknown, nil
	}
	return []byte("null"), nil
}

func (u *testReminder) UnmarshalJSON(data []byte) error { return u.decodeJSON(data, false) }

func (u *testReminder) decodeJSON(data []byte, response bool) error {
	if isJSONNull(data) {
		return nullFor("testReminder")
	}
	*u = testReminder{}
	tag, _ := discriminatorOf(data, "kind")
	if tag == "push" {
		u.Push = new(testPush)
		return unmarshalMode(data, u.Push, response)
	}
	u.Unknown = cloneRaw(data)
	return nil
}

func TestDiscriminatedUnionCarriesItsTag(t *testing.T) {
	for _, push := range []testPush{{Title: "t", ID: "x"}, {Kind: "wrong", Title: "t"}, {Kind: "push", Title: "t"}} {
		r := newRequest("POST", "/reminders")
		r.jsonBody("application/json", []testReminder{{Push: &push}})
		if want := `[{"kind":"push","title":"t"}]`; r.err != nil || string(r.body.data) != want {
			t.Errorf("body %s (%v), want %s", r.body.data, r.err, want)
		}
	}
	// A response value keeps its read-only properties and its tag.
	data, err := json.Marshal(testReminder{Push: &testPush{Title: "t", ID: "x"}})
	if err != nil || string(data) != `{"kind":"push","title":"t","id":"x"}` {
		t.Errorf("encoded %s (%v)", data, err)
	}
	var back testReminder
	if err := unmarshalStrict(data, &back); err != nil || back.Push == nil || back.Push.ID != "x" {
		t.Errorf("decoded %+v (%v)", back, err)
	}
	if err := unmarshalStrict([]byte(`null`), &back); err == nil {
		t.Error("null for a union: no error")
	}
}

func TestWithTag(t *testing.T) {
	cases := []struct {
		value any
		tags  []string
		want  string
	}{
		{map[string]any{"a": 1}, []string{"x"}, `{"type":"x","a":1}`},
		{map[string]any{}, []string{"x"}, `{"type":"x"}`},
		{map[string]any{"a": 1, "type": "z"}, []string{"x", "y"}, `{"a":1,"type":"x"}`},
		{map[string]any{"a": 1, "type": "y"}, []string{"x", "y"}, `{"a":1,"type":"y"}`},
		{map[string]any{"type": 7}, []string{"x"}, `{"type":"x"}`},
		{"text", []string{"x"}, `"text"`},
	}
	for _, c := range cases {
		data, err := withTag(c.value, true, "type", c.tags...)
		if err != nil || string(data) != c.want {
			t.Errorf("withTag(%v, %v) = %s (%v), want %s", c.value, c.tags, data, err, c.want)
		}
	}
}
