package orchestrator

import "testing"

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
