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
// value is not an object or the tag is missing or not a string. Like a decode into a map, the last
// of duplicate keys wins. It scans the object's top level in place (data is valid JSON: a checked
// response, or what encoding/json validated before calling UnmarshalJSON): every event of a
// stream of union events goes through it, and a map of the members cost more than the variant's
// own decode.
func discriminatorOf(data []byte, property string) (tag string, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return "", false
	}
	var raw []byte
	i = skipSpace(data, i+1)
	for i < len(data) && data[i] == '"' {
		end := skipValue(data, i)
		key := data[i:end]
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return "", false
		}
		i = skipSpace(data, i+1)
		valueEnd := skipValue(data, i)
		if keyIs(key, property) {
			raw = data[i:valueEnd]
		}
		i = skipSpace(data, valueEnd)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	if raw == nil {
		return "", false
	}
	if tag, ok := plainString(raw); ok {
		return tag, true
	}
	if json.Unmarshal(raw, &tag) != nil {
		return "", false
	}
	return tag, true
}

// keyIs reports whether the JSON string key (quotes included) is name, decoding escapes only
// when the key has some.
func keyIs(key []byte, name string) bool {
	if len(key) < 2 {
		return false
	}
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key[1:len(key)-1]) == name
	}
	var decoded string
	return json.Unmarshal(key, &decoded) == nil && decoded == name
}

// cloneRaw copies raw JSON so that a value kept as an unknown variant does not alias the decoder's
// buffer.
func cloneRaw(data []byte) json.RawMessage {
	return append(json.RawMessage(nil), bytes.TrimSpace(data)...)
}
