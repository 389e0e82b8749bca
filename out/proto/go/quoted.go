package orchestratorproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
)

// quotedInt64 is the JSON codec of a field holding 64-bit integers that travel as JSON strings
// ("123"), as the proto3 JSON mapping writes int64: the Go field stays an int64 (or *int64,
// []int64, map[string]int64, Nullable[int64], ...), exact, and the generated encoder and decoder
// go through quote(&field). Decoding accepts a JSON string of an optional '-' and decimal digits
// (no '+', spaces or exponent) or a JSON integer number, within int64; anything else is an error.
type quotedInt64 struct {
	ptr any // a pointer to the field
}

// quote wraps a pointer to a field of quoted 64-bit integers for encoding and decoding.
func quote(ptr any) *quotedInt64 { return &quotedInt64{ptr: ptr} }

// MarshalJSON writes the integers as JSON strings.
func (q *quotedInt64) MarshalJSON() ([]byte, error) {
	return encodeQuoted(reflect.ValueOf(q.ptr).Elem())
}

// UnmarshalJSON reads JSON strings or integer numbers into the field.
func (q *quotedInt64) UnmarshalJSON(data []byte) error {
	return decodeQuoted(data, reflect.ValueOf(q.ptr).Elem())
}

var nullableInt64Type = reflect.TypeOf(Nullable[int64]{})

func encodeQuoted(v reflect.Value) ([]byte, error) {
	if v.Type() == nullableInt64Type {
		n, ok := v.Interface().(Nullable[int64]).Get()
		if !ok {
			return []byte("null"), nil
		}
		return strconv.AppendQuote(nil, strconv.FormatInt(n, 10)), nil
	}
	switch v.Kind() {
	case reflect.Int64:
		return strconv.AppendQuote(nil, strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return []byte("null"), nil
		}
		return encodeQuoted(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return []byte("null"), nil
		}
		out := []byte{'['}
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				out = append(out, ',')
			}
			item, err := encodeQuoted(v.Index(i))
			if err != nil {
				return nil, err
			}
			out = append(out, item...)
		}
		return append(out, ']'), nil
	case reflect.Map:
		if v.IsNil() {
			return []byte("null"), nil
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		out := []byte{'{'}
		for i, key := range keys {
			if i > 0 {
				out = append(out, ',')
			}
			name, _ := json.Marshal(key.String())
			item, err := encodeQuoted(v.MapIndex(key))
			if err != nil {
				return nil, err
			}
			out = append(append(append(out, name...), ':'), item...)
		}
		return append(out, '}'), nil
	}
	return nil, fmt.Errorf("json: %s does not hold 64-bit integers", v.Type())
}

func decodeQuoted(data []byte, v reflect.Value) error {
	null := isJSONNull(data)
	if v.Type() == nullableInt64Type {
		if null {
			v.Set(reflect.ValueOf(Null[int64]()))
			return nil
		}
		n, err := parseQuotedInt64(data)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(Value(n)))
		return nil
	}
	switch v.Kind() {
	case reflect.Int64:
		if null {
			return errors.New("json: null where a 64-bit integer is required")
		}
		n, err := parseQuotedInt64(data)
		if err != nil {
			return err
		}
		v.SetInt(n)
		return nil
	case reflect.Pointer:
		if null {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeQuoted(data, v.Elem())
	case reflect.Slice:
		if null {
			v.SetZero()
			return nil
		}
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return fmt.Errorf("json: expected a list of 64-bit integers: %w", err)
		}
		out := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			if err := decodeQuoted(item, out.Index(i)); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		v.Set(out)
		return nil
	case reflect.Map:
		if null {
			v.SetZero()
			return nil
		}
		if v.Type().Key().Kind() != reflect.String {
			break
		}
		var items map[string]json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return fmt.Errorf("json: expected a map of 64-bit integers: %w", err)
		}
		out := reflect.MakeMapWithSize(v.Type(), len(items))
		for key, item := range items {
			value := reflect.New(v.Type().Elem()).Elem()
			if err := decodeQuoted(item, value); err != nil {
				return fmt.Errorf("[%q]: %w", key, err)
			}
			out.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), value)
		}
		v.Set(out)
		return nil
	}
	return fmt.Errorf("json: %s does not hold 64-bit integers", v.Type())
}

// parseQuotedInt64 reads a 64-bit integer from a JSON string of an optional '-' and decimal
// digits, or from a JSON integer number.
func parseQuotedInt64(data []byte) (int64, error) {
	data = bytes.TrimSpace(data)
	text := string(data)
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &text); err != nil {
			return 0, fmt.Errorf("json: invalid string for a 64-bit integer: %w", err)
		}
	}
	digits := text
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if digits == "" {
		return 0, fmt.Errorf("json: %s is not a 64-bit integer", data)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, fmt.Errorf("json: %s is not a 64-bit integer", data)
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("json: %s is out of the range of a 64-bit integer", data)
	}
	return n, nil
}
