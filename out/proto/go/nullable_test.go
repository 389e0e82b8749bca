package orchestratorproto

import (
	"encoding/json"
	"testing"
)

type nullableHolder struct {
	Name Nullable[string] `json:"name,omitzero"`
}

func TestNullableRoundTrip(t *testing.T) {
	cases := []struct {
		in      string
		present bool
		null    bool
		value   string
	}{
		{in: `{}`},
		{in: `{"name":null}`, null: true},
		{in: `{"name":"a"}`, present: true, value: "a"},
	}
	for _, c := range cases {
		var h nullableHolder
		if err := json.Unmarshal([]byte(c.in), &h); err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		v, ok := h.Name.Get()
		if ok != c.present || h.Name.IsNull() != c.null || v != c.value {
			t.Fatalf("%s: got value=%q ok=%v null=%v", c.in, v, ok, h.Name.IsNull())
		}
		out, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != c.in {
			t.Fatalf("round trip of %s gave %s", c.in, out)
		}
	}
}

func TestNullableConstructors(t *testing.T) {
	out, _ := json.Marshal(nullableHolder{Name: Null[string]()})
	if string(out) != `{"name":null}` {
		t.Fatalf("Null: %s", out)
	}
	out, _ = json.Marshal(nullableHolder{Name: Value("x")})
	if string(out) != `{"name":"x"}` {
		t.Fatalf("Value: %s", out)
	}
}
