package orchestratorproto

import (
	"bytes"
	"encoding/json"
)

// jsonKind classifies a JSON value by its first byte, so that a union without a discriminator can
// pick the variant whose JSON kind matches before trying to decode it.
type jsonKind uint8

const (
	jsonKindInvalid jsonKind = iota
	jsonKindNull
	jsonKindBool
	jsonKindNumber
	jsonKindString
	jsonKindArray
	jsonKindObject
)

func kindOf(data []byte) jsonKind {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return jsonKindInvalid
	}
	switch data[0] {
	case 'n':
		return jsonKindNull
	case 't', 'f':
		return jsonKindBool
	case '"':
		return jsonKindString
	case '[':
		return jsonKindArray
	case '{':
		return jsonKindObject
	default:
		return jsonKindNumber
	}
}

// objectKeys decodes the top-level keys of a JSON object, or returns nil for any other value.
func objectKeys(data []byte) map[string]json.RawMessage {
	var fields map[string]json.RawMessage
	if kindOf(data) != jsonKindObject || json.Unmarshal(data, &fields) != nil {
		return nil
	}
	return fields
}

// hasKeys reports whether every one of keys is present in fields.
func hasKeys(fields map[string]json.RawMessage, keys ...string) bool {
	for _, key := range keys {
		if _, ok := fields[key]; !ok {
			return false
		}
	}
	return true
}

// discriminatorOf reads a union's string tag property from a JSON object; ok is false when the
// value is not an object or the tag is missing or not a string.
func discriminatorOf(data []byte, property string) (tag string, ok bool) {
	raw, present := objectKeys(data)[property]
	if !present || json.Unmarshal(raw, &tag) != nil {
		return "", false
	}
	return tag, true
}

// cloneRaw copies raw JSON so that a value kept as an unknown variant does not alias the decoder's
// buffer.
func cloneRaw(data []byte) json.RawMessage {
	return append(json.RawMessage(nil), bytes.TrimSpace(data)...)
}
