package orchestratorproto

import "bytes"

// Nullable is a field that may be absent, JSON null, or a value. The zero value is absent, so a
// struct literal that does not mention the field leaves it out of the request; fields of this type
// carry the `omitzero` JSON option.
//
// Use Value(v) to send a value and Null[T]() to send an explicit null, e.g. to clear a field in a
// JSON merge patch.
type Nullable[T any] struct {
	value T
	state nullableState
}

type nullableState uint8

const (
	nullableAbsent nullableState = iota
	nullableNull
	nullableValue
)

// Value returns a Nullable holding v.
func Value[T any](v T) Nullable[T] { return Nullable[T]{value: v, state: nullableValue} }

// Null returns a Nullable that is sent as JSON null.
func Null[T any]() Nullable[T] { return Nullable[T]{state: nullableNull} }

// Get returns the value and true when the field holds a value.
func (n Nullable[T]) Get() (T, bool) { return n.value, n.state == nullableValue }

// IsNull reports whether the field is an explicit JSON null.
func (n Nullable[T]) IsNull() bool { return n.state == nullableNull }

// IsZero reports whether the field is absent; encoding/json's omitzero option uses it.
func (n Nullable[T]) IsZero() bool { return n.state == nullableAbsent }

// MarshalJSON encodes null or the value. An absent field is omitted by omitzero before this runs.
func (n Nullable[T]) MarshalJSON() ([]byte, error) { return n.encodeJSON(false) }

// encodeJSON encodes null or the value, as a request body when request is true.
func (n Nullable[T]) encodeJSON(request bool) ([]byte, error) {
	if n.state != nullableValue {
		return []byte("null"), nil
	}
	return marshalJSON(n.value, request)
}

// UnmarshalJSON records null or decodes the value. It is not called for an absent field.
func (n *Nullable[T]) UnmarshalJSON(data []byte) error { return n.decodeJSON(data, false) }

// decodeJSON records null or decodes the value (as a response when response is true).
func (n *Nullable[T]) decodeJSON(data []byte, response bool) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		var zero T
		n.value, n.state = zero, nullableNull
		return nil
	}
	if err := unmarshalMode(data, &n.value, response); err != nil {
		return err
	}
	n.state = nullableValue
	return nil
}
