package orchestrator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth is the deepest nesting of arrays and objects a response may have.
const maxJSONDepth = 128

// unmarshalStrict decodes a JSON document into v after checking it against RFC 8259 and the
// I-JSON rules encoding/json lets through: invalid UTF-8, lone surrogate escapes, duplicate
// object keys at any depth, nesting deeper than maxJSONDepth and numbers too large for a double
// are errors, and so is a null where v cannot hold one.
func unmarshalStrict(data []byte, v any) error {
	if err := validateJSON(data); err != nil {
		return err
	}
	if isJSONNull(data) {
		if t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Pointer && !acceptsNull(t.Elem()) {
			return fmt.Errorf("json: null where %s is required", t.Elem())
		}
	}
	return unmarshalMode(data, v, true)
}

// modelDecoder is implemented by the generated models. In a response (response=true) read-only
// required properties must be present too; elsewhere (a value built from JSON to be sent) they may
// be absent, since a request body never carries them.
type modelDecoder interface {
	decodeJSON(data []byte, response bool) error
}

// unmarshalMode decodes data into the pointer into, decoding the models it holds (also inside
// pointers, slices and maps) as a response when response is true.
func unmarshalMode(data []byte, into any, response bool) error {
	if !response {
		return json.Unmarshal(data, into)
	}
	if dec, ok := into.(modelDecoder); ok {
		return dec.decodeJSON(data, true)
	}
	v := reflect.ValueOf(into)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return json.Unmarshal(data, into)
	}
	if !decodeWalks(v.Type().Elem()) {
		return unmarshalValue(data, into)
	}
	target := v.Elem()
	switch target.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		if isJSONNull(data) {
			target.SetZero()
			return nil
		}
	}
	switch target.Kind() {
	case reflect.Pointer:
		if target.IsNil() {
			target.Set(reflect.New(target.Type().Elem()))
		}
		return unmarshalMode(data, target.Interface(), true)
	case reflect.Slice:
		items, err := arrayItems(data)
		if err != nil {
			return err
		}
		out := reflect.MakeSlice(target.Type(), len(items), len(items))
		for i, item := range items {
			if isJSONNull(item) && !acceptsNull(target.Type().Elem()) {
				return fmt.Errorf("json: null in a list of %s", target.Type().Elem())
			}
			if err := unmarshalMode(item, out.Index(i).Addr().Interface(), true); err != nil {
				return err
			}
		}
		target.Set(out)
		return nil
	case reflect.Map:
		var items map[string]json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return err
		}
		out := reflect.MakeMapWithSize(target.Type(), len(items))
		for key, item := range items {
			if isJSONNull(item) && !acceptsNull(target.Type().Elem()) {
				return fmt.Errorf("json: null for the key %q in a map of %s", key, target.Type().Elem())
			}
			value := reflect.New(target.Type().Elem())
			if err := unmarshalMode(item, value.Interface(), true); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(key).Convert(target.Type().Key()), value.Elem())
		}
		target.Set(out)
		return nil
	}
	return unmarshalValue(data, into)
}

// arrayItems splits a JSON array into the text of its items. A response's JSON has been
// validated as a whole (unmarshalStrict) before any of it is decoded, so the array is split in
// place rather than by encoding/json, which would check it again; any other value is left to
// encoding/json for its error.
func arrayItems(data []byte) ([][]byte, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		var items []json.RawMessage
		err := json.Unmarshal(data, &items)
		return nil, err
	}
	items := make([][]byte, 0, 8)
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return items, nil
	}
	for i < len(data) {
		end := skipValue(data, i)
		if end == i {
			break
		}
		items = append(items, data[i:end])
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		if i < len(data) && data[i] == ']' {
			return items, nil
		}
		break
	}
	return nil, errors.New("json: malformed array")
}

// unmarshalValue is json.Unmarshal(data, into), into a non-nil pointer, with the same results and
// errors, minus the decoder json.Unmarshal allocates for each call on the commonest properties
// of a response: a plain string (no escape, valid UTF-8), a null, and a type with its own
// UnmarshalJSON (a timestamp), which json.Unmarshal calls with the value once it has checked the
// syntax.
func unmarshalValue(data []byte, into any) error {
	switch v := into.(type) {
	case *string:
		if s, ok := plainString(data); ok {
			*v = s
			return nil
		}
	case *int64:
		if n, ok := plainInt(data, 64); ok {
			*v = n
			return nil
		}
	case *int32:
		if n, ok := plainInt(data, 32); ok {
			*v = int32(n)
			return nil
		}
	case *int:
		if n, ok := plainInt(data, strconv.IntSize); ok {
			*v = int(n)
			return nil
		}
	case *float64:
		if f, ok := plainFloat(data, 64); ok {
			*v = f
			return nil
		}
	case *bool:
		if b, ok := plainBool(data); ok {
			*v = b
			return nil
		}
	case json.Unmarshaler:
		// A plain string (a timestamp) is valid JSON as it is; anything else is checked first, as
		// json.Unmarshal would before calling the method.
		if isPlainString(data) || json.Valid(data) {
			return v.UnmarshalJSON(bytes.Trim(data, " \t\r\n"))
		}
	default:
		// Without methods (no UnmarshalJSON or UnmarshalText), json.Unmarshal sets a null
		// pointer, map, slice or interface to nil and a string kind (an enum) to the text.
		if reflect.TypeOf(into).NumMethod() != 0 {
			break
		}
		target := reflect.ValueOf(into).Elem()
		switch target.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			if string(data) == "null" {
				target.SetZero()
				return nil
			}
		case reflect.String:
			if s, ok := plainString(data); ok {
				target.SetString(s)
				return nil
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if n, ok := plainInt(data, target.Type().Bits()); ok {
				target.SetInt(n)
				return nil
			}
		case reflect.Float32, reflect.Float64:
			if f, ok := plainFloat(data, target.Type().Bits()); ok {
				target.SetFloat(f)
				return nil
			}
		case reflect.Bool:
			if b, ok := plainBool(data); ok {
				target.SetBool(b)
				return nil
			}
		}
	}
	return json.Unmarshal(data, into)
}

// plainInt returns the integer data holds when it is a JSON integer literal (an optional minus,
// then digits without a leading zero) that fits bits: what json.Unmarshal decodes into an integer,
// exactly. Anything else (null, a fraction, an exponent, an overflow, bad syntax) is left to
// json.Unmarshal, for its result or its error.
func plainInt(data []byte, bits int) (int64, bool) {
	digits := data
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 19 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(data), 10, bits)
	return n, err == nil
}

// plainFloat returns the number data holds when it is a JSON number that strconv.ParseFloat reads
// within bits, as json.Unmarshal does; anything else is left to json.Unmarshal.
func plainFloat(data []byte, bits int) (float64, bool) {
	if !isJSONNumber(data) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(data), bits)
	return f, err == nil
}

// plainBool returns the boolean data holds when it is exactly true or false.
func plainBool(data []byte) (bool, bool) {
	switch string(data) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// isJSONNumber reports whether data is exactly one number of RFC 8259's grammar (no whitespace).
func isJSONNumber(data []byte) bool {
	i := 0
	digits := func() int {
		start := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	if n := digits(); n == 0 || (n > 1 && data[i-n] == '0') {
		return false
	}
	if i < len(data) && data[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(data)
}

// isPlainString reports whether plainString would return the string, without building it.
func isPlainString(data []byte) bool {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return false
	}
	inner := data[1 : len(data)-1]
	for _, c := range inner {
		if c < ' ' || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(inner)
}

// plainString returns the JSON string data holds when it needs no unquoting: no escape, no
// control character, valid UTF-8 (encoding/json replaces invalid bytes, so those go through it).
func plainString(data []byte) (string, bool) {
	if !isPlainString(data) {
		return "", false
	}
	return string(data[1 : len(data)-1]), true
}

// acceptsNull reports whether null is a value of t: pointers, interfaces (free-form JSON) and raw
// JSON.
func acceptsNull(t reflect.Type) bool {
	if t == reflect.TypeOf(json.RawMessage(nil)) || t.Implements(nullableType) {
		return true
	}
	return t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface
}

// nullableType is implemented by Nullable, which holds a null.
var nullableType = reflect.TypeOf((*interface{ IsNull() bool })(nil)).Elem()

func isJSONNull(data []byte) bool {
	return bytes.Equal(bytes.TrimSpace(data), []byte("null"))
}

// nullFor is the error for a JSON null where a value of model is required.
func nullFor(model string) error {
	return fmt.Errorf("json: null where %s is required", model)
}

// jsonError is a syntax or I-JSON error found by validateJSON.
type jsonError struct {
	offset int
	msg    string
}

// Error describes the error and where it is.
func (e *jsonError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.offset, e.msg)
}

// validateJSON checks a whole document in one linear pass. It is written out rather than built on
// encoding/json's Decoder.Token, which can see keys and depth too but ran about 7 times slower
// (27 against 185 MB/s on an 11 MB list of agents, `go test -bench` on this machine): this runs
// on every response.
func validateJSON(data []byte) error {
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return &jsonError{0, "a byte order mark is not allowed"}
	}
	v := &jsonValidator{data: data}
	v.space()
	if err := v.value(0); err != nil {
		return err
	}
	v.space()
	if v.pos != len(data) {
		return v.fail("unexpected data after the value")
	}
	return nil
}

type jsonValidator struct {
	data []byte
	pos  int
}

func (v *jsonValidator) fail(msg string) error { return &jsonError{v.pos, msg} }

func (v *jsonValidator) space() {
	for v.pos < len(v.data) {
		switch v.data[v.pos] {
		case ' ', '\t', '\n', '\r':
			v.pos++
		default:
			return
		}
	}
}

func (v *jsonValidator) literal(word string) error {
	if !bytes.HasPrefix(v.data[v.pos:], []byte(word)) {
		return v.fail("invalid literal")
	}
	v.pos += len(word)
	return nil
}

func (v *jsonValidator) value(depth int) error {
	if v.pos >= len(v.data) {
		return v.fail("unexpected end of input")
	}
	switch c := v.data[v.pos]; {
	case c == '{':
		return v.object(depth + 1)
	case c == '[':
		return v.array(depth + 1)
	case c == '"':
		_, err := v.str()
		return err
	case c == 't':
		return v.literal("true")
	case c == 'f':
		return v.literal("false")
	case c == 'n':
		return v.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return v.number()
	}
	return v.fail("invalid character looking for a value")
}

func (v *jsonValidator) object(depth int) error {
	if depth > maxJSONDepth {
		return v.fail(fmt.Sprintf("nesting deeper than %d", maxJSONDepth))
	}
	v.pos++ // {
	v.space()
	if v.pos < len(v.data) && v.data[v.pos] == '}' {
		v.pos++
		return nil
	}
	// The keys seen so far: compared pairwise while an object has few (on the stack, so that the
	// objects of every response cost no allocation), in a map beyond.
	var smallKeys [8][]byte
	small := smallKeys[:0]
	var seen map[string]struct{}
	for {
		if v.pos >= len(v.data) || v.data[v.pos] != '"' {
			return v.fail("expected a string key")
		}
		start := v.pos
		key, err := v.str()
		if err != nil {
			return err
		}
		duplicate := false
		if seen != nil {
			_, duplicate = seen[string(key)]
			seen[string(key)] = struct{}{}
		} else {
			for _, k := range small {
				duplicate = duplicate || bytes.Equal(k, key)
			}
			if len(small) < len(smallKeys) {
				small = append(small, key)
			} else {
				seen = make(map[string]struct{}, 2*len(smallKeys))
				for _, k := range small {
					seen[string(k)] = struct{}{}
				}
				seen[string(key)] = struct{}{}
			}
		}
		if duplicate {
			v.pos = start
			return v.fail(fmt.Sprintf("duplicate object key %q", key))
		}
		v.space()
		if v.pos >= len(v.data) || v.data[v.pos] != ':' {
			return v.fail("expected ':' after an object key")
		}
		v.pos++
		v.space()
		if err := v.value(depth); err != nil {
			return err
		}
		v.space()
		if v.pos >= len(v.data) {
			return v.fail("unexpected end of input in an object")
		}
		switch v.data[v.pos] {
		case ',':
			v.pos++
			v.space()
		case '}':
			v.pos++
			return nil
		default:
			return v.fail("expected ',' or '}' in an object")
		}
	}
}

func (v *jsonValidator) array(depth int) error {
	if depth > maxJSONDepth {
		return v.fail(fmt.Sprintf("nesting deeper than %d", maxJSONDepth))
	}
	v.pos++ // [
	v.space()
	if v.pos < len(v.data) && v.data[v.pos] == ']' {
		v.pos++
		return nil
	}
	for {
		if err := v.value(depth); err != nil {
			return err
		}
		v.space()
		if v.pos >= len(v.data) {
			return v.fail("unexpected end of input in an array")
		}
		switch v.data[v.pos] {
		case ',':
			v.pos++
			v.space()
		case ']':
			v.pos++
			return nil
		default:
			return v.fail("expected ',' or ']' in an array")
		}
	}
}

func hexValue(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// str validates a string at v.pos and returns its decoded text (used for object keys).
// str checks a string and returns its decoded text: a slice of the data when it has no escape
// (most strings, at no cost), else a copy with the escapes decoded.
func (v *jsonValidator) str() ([]byte, error) {
	v.pos++ // "
	start := v.pos
	var out []byte // the decoded text, built only once an escape is seen
	escaped := false
	for v.pos < len(v.data) {
		c := v.data[v.pos]
		switch {
		case c == '"':
			text := v.data[start:v.pos]
			v.pos++
			if !escaped {
				return text, nil
			}
			return out, nil
		case c < 0x20:
			return nil, v.fail("control character in a string")
		case c == '\\':
			if !escaped {
				escaped = true
				out = append(out, v.data[start:v.pos]...)
			}
			if v.pos+1 >= len(v.data) {
				return nil, v.fail("unexpected end of input in a string")
			}
			e := v.data[v.pos+1]
			if simple := strings.IndexByte(`"\/bfnrt`, e); simple >= 0 {
				out = append(out, "\"\\/\b\f\n\r\t"[simple])
				v.pos += 2
				continue
			}
			if e != 'u' {
				return nil, v.fail("invalid escape in a string")
			}
			r, ok := v.unicodeEscape(v.pos)
			if !ok {
				return nil, v.fail("invalid \\u escape in a string")
			}
			v.pos += 6
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 {
					return nil, v.fail("lone low surrogate escape in a string")
				}
				low, ok := v.unicodeEscape(v.pos)
				if !ok || low < 0xDC00 || low > 0xDFFF {
					return nil, v.fail("lone high surrogate escape in a string")
				}
				v.pos += 6
				r = utf16.DecodeRune(r, low)
			}
			out = utf8.AppendRune(out, r)
		case c < utf8.RuneSelf:
			if escaped {
				out = append(out, c)
			}
			v.pos++
		default:
			r, size := utf8.DecodeRune(v.data[v.pos:])
			if r == utf8.RuneError && size <= 1 {
				return nil, v.fail("invalid UTF-8 in a string")
			}
			if escaped {
				out = append(out, v.data[v.pos:v.pos+size]...)
			}
			v.pos += size
		}
	}
	return nil, v.fail("unexpected end of input in a string")
}

// unicodeEscape reads a \uXXXX escape at i.
func (v *jsonValidator) unicodeEscape(i int) (rune, bool) {
	if i+6 > len(v.data) || v.data[i] != '\\' || v.data[i+1] != 'u' {
		return 0, false
	}
	return hexValue(v.data[i+2 : i+6])
}

func (v *jsonValidator) digits() int {
	n := 0
	for v.pos < len(v.data) && v.data[v.pos] >= '0' && v.data[v.pos] <= '9' {
		v.pos++
		n++
	}
	return n
}

func (v *jsonValidator) number() error {
	start := v.pos
	if v.data[v.pos] == '-' {
		v.pos++
	}
	if v.pos < len(v.data) && v.data[v.pos] == '0' {
		v.pos++
		if v.pos < len(v.data) && v.data[v.pos] >= '0' && v.data[v.pos] <= '9' {
			return v.fail("leading zero in a number")
		}
	} else if v.digits() == 0 {
		return v.fail("invalid number")
	}
	if v.pos < len(v.data) && v.data[v.pos] == '.' {
		v.pos++
		if v.digits() == 0 {
			return v.fail("invalid number: no digits after '.'")
		}
	}
	if v.pos < len(v.data) && (v.data[v.pos] == 'e' || v.data[v.pos] == 'E') {
		v.pos++
		if v.pos < len(v.data) && (v.data[v.pos] == '+' || v.data[v.pos] == '-') {
			v.pos++
		}
		if v.digits() == 0 {
			return v.fail("invalid number: no digits in the exponent")
		}
	}
	if f, err := strconv.ParseFloat(string(v.data[start:v.pos]), 64); err != nil && math.IsInf(f, 0) {
		v.pos = start
		return v.fail("number too large for a double")
	}
	return nil
}

// skipValue returns the end of the (valid) JSON value starting at i.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		for i++; i < len(data); i++ {
			switch data[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return i
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipValue(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(data) && strings.IndexByte(",:]} \t\r\n", data[i]) < 0 {
		i++
	}
	return i
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// jsonMember is one member of a JSON object: its decoded key, the raw value, and the raw text of
// the whole member (`"key":value`), kept to re-encode a property the model does not know. The key
// is a slice of the object's text unless it holds escapes: a string per member was most of the
// allocations of decoding a response.
type jsonMember struct {
	key   []byte
	value []byte
	text  []byte
	used  bool
}

// objectMembers splits a JSON object into its members, in order. The data must be valid JSON.
func objectMembers(data []byte) ([]jsonMember, error) {
	return appendMembers(nil, data)
}

// appendMembers is objectMembers appending to members.
func appendMembers(members []jsonMember, data []byte) ([]jsonMember, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errors.New("json: expected an object")
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return members, nil
	}
	for i < len(data) {
		start := i
		end := skipValue(data, i)
		if end-start < 2 || data[start] != '"' {
			return nil, errors.New("json: expected a string key")
		}
		key := data[start+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var decoded string
			if err := json.Unmarshal(data[start:end], &decoded); err != nil {
				return nil, fmt.Errorf("json: invalid object key: %w", err)
			}
			key = []byte(decoded)
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, errors.New("json: expected ':' after an object key")
		}
		i = skipSpace(data, i+1)
		valueStart := i
		i = skipValue(data, i)
		members = append(members, jsonMember{key: key, value: data[valueStart:i], text: data[start:i]})
		i = skipSpace(data, i)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		if i < len(data) && data[i] == '}' {
			return members, nil
		}
		break
	}
	return nil, errors.New("json: malformed object")
}

// jsonExtra keeps what a decoded object carried beyond its typed fields, so that encoding the model
// again gives the properties back: members the model does not know (raw text, comma-separated) and
// the names of free-form properties that were an explicit null.
type jsonExtra struct {
	unknown string
	nulls   string // "\x00name\x00name\x00"
}

// isNull reports whether the free-form property name was decoded as an explicit null.
func (x jsonExtra) isNull(name string) bool {
	return x.nulls != "" && strings.Contains(x.nulls, "\x00"+name+"\x00")
}

// objectDecoder decodes the members of a JSON object into a model's fields, reporting the first
// error: a missing required property, a null where the property cannot be null, or a value of the
// wrong type.
type objectDecoder struct {
	model    string
	response bool
	members  []jsonMember
	index    map[string]int
	err      error
	extra    jsonExtra
	pooled   *[]jsonMember // where members came from, returned by finish
}

// memberPool recycles the members of decoded objects: every model of every response splits one
// object, and a slice grown member by member would be allocated several times.
var memberPool = sync.Pool{New: func() any { return new([]jsonMember) }}

// release hands the members back to memberPool; the decoder is not used after it.
func (d *objectDecoder) release() {
	if d.pooled == nil {
		return
	}
	clear(d.members) // the pool must not keep the response's bytes alive
	*d.pooled = d.members[:0]
	memberPool.Put(d.pooled)
	d.pooled, d.members, d.index = nil, nil, nil
}

// decodeObject starts decoding data as the object of model; null or any other kind is an error.
func decodeObject(data []byte, model string, response bool) (*objectDecoder, error) {
	if isJSONNull(data) {
		return nil, nullFor(model)
	}
	pooled := memberPool.Get().(*[]jsonMember)
	members, err := appendMembers((*pooled)[:0], data)
	if err != nil { // the slice may hold parts of data: left to the garbage collector
		return nil, fmt.Errorf("json: cannot decode %s: %w", model, err)
	}
	d := &objectDecoder{model: model, response: response, members: members, pooled: pooled}
	if len(members) > 8 {
		d.index = make(map[string]int, len(members))
		for i, m := range members {
			d.index[string(m.key)] = i
		}
	}
	return d, nil
}

func (d *objectDecoder) member(name string) *jsonMember {
	if d.index != nil {
		if i, ok := d.index[name]; ok {
			return &d.members[i]
		}
		return nil
	}
	for i := range d.members {
		if string(d.members[i].key) == name {
			return &d.members[i]
		}
	}
	return nil
}

func (d *objectDecoder) decode(m *jsonMember, name string, into any) {
	m.used = true
	if err := unmarshalMode(m.value, into, d.response); err != nil {
		d.err = fmt.Errorf("%s.%s: %w", d.model, name, err)
	}
}

// required decodes a property that must be present and not null.
func (d *objectDecoder) required(name string, into any) {
	if d.err != nil {
		return
	}
	m := d.member(name)
	switch {
	case m == nil:
		d.err = fmt.Errorf("json: %s is missing the required property %q", d.model, name)
	case isJSONNull(m.value):
		d.err = fmt.Errorf("json: %s.%s is null but is required", d.model, name)
	default:
		d.decode(m, name, into)
	}
}

// requiredNullable decodes a property that must be present and may be null.
func (d *objectDecoder) requiredNullable(name string, into any) {
	if d.err != nil {
		return
	}
	if m := d.member(name); m != nil {
		d.decode(m, name, into)
	} else {
		d.err = fmt.Errorf("json: %s is missing the required property %q", d.model, name)
	}
}

// readOnly decodes a required read-only property: required in a response, optional elsewhere.
func (d *objectDecoder) readOnly(name string, into any, nullable bool) {
	switch {
	case !d.response:
		d.optional(name, into)
	case nullable:
		d.requiredNullable(name, into)
	default:
		d.required(name, into)
	}
}

// optional decodes a property that may be absent. An explicit null in a free-form property is
// remembered, so that it is encoded again as null.
func (d *objectDecoder) optional(name string, into any) {
	if d.err != nil {
		return
	}
	m := d.member(name)
	if m == nil {
		return
	}
	free := false
	switch into.(type) {
	case *any, *map[string]any:
		free = true
	}
	if free && isJSONNull(m.value) {
		m.used = true
		d.extra.nulls += "\x00" + name + "\x00"
		return
	}
	d.decode(m, name, into)
}

// finish keeps the members no field took in extra and returns the first error.
func (d *objectDecoder) finish(extra *jsonExtra) error {
	defer d.release()
	if d.err != nil {
		return d.err
	}
	var unknown []string
	for _, m := range d.members {
		if m.used {
			continue
		}
		var member bytes.Buffer // the member without the whitespace it was received with
		if json.Compact(&member, []byte("{"+string(m.text)+"}")) == nil {
			unknown = append(unknown, member.String()[1:member.Len()-1])
		} else {
			unknown = append(unknown, string(m.text))
		}
	}
	d.extra.unknown = strings.Join(unknown, ",")
	*extra = d.extra
	return nil
}

// additional decodes the members no field took as the model's additional properties.
func additional[T any](d *objectDecoder, into *map[string]T) error {
	if d.err != nil {
		return d.err
	}
	for i := range d.members {
		m := &d.members[i]
		if m.used {
			continue
		}
		var value T
		if err := unmarshalMode(m.value, &value, d.response); err != nil {
			return fmt.Errorf("%s[%q]: %w", d.model, m.key, err)
		}
		if *into == nil {
			*into = make(map[string]T)
		}
		(*into)[string(m.key)] = value
		m.used = true
	}
	return nil
}

// requestEncoder is implemented by the generated models: request=true leaves read-only properties
// out (a request body) and fills union discriminators.
type requestEncoder interface {
	encodeJSON(request bool) ([]byte, error)
}

var requestEncoderType = reflect.TypeOf((*requestEncoder)(nil)).Elem()

// marshalJSON encodes v; as a request body (request=true) read-only properties are left out at
// every depth.
func marshalJSON(v any, request bool) ([]byte, error) {
	if !request {
		return json.Marshal(v)
	}
	return marshalRequest(reflect.ValueOf(v))
}

func marshalRequest(v reflect.Value) ([]byte, error) {
	if !v.IsValid() {
		return []byte("null"), nil
	}
	if !holdsModels(v.Type()) {
		return json.Marshal(v.Interface())
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return []byte("null"), nil
		}
	}
	if enc, ok := v.Interface().(requestEncoder); ok {
		return enc.encodeJSON(true)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return marshalRequest(v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return []byte("null"), nil
		}
		buf := []byte{'['}
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				buf = append(buf, ',')
			}
			item, err := marshalRequest(v.Index(i))
			if err != nil {
				return nil, err
			}
			buf = append(buf, item...)
		}
		return append(buf, ']'), nil
	case reflect.Map:
		if v.IsNil() {
			return []byte("null"), nil
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		buf := []byte{'{'}
		for i, key := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			name, err := json.Marshal(key.String())
			if err != nil {
				return nil, err
			}
			item, err := marshalRequest(v.MapIndex(key))
			if err != nil {
				return nil, err
			}
			buf = append(append(append(buf, name...), ':'), item...)
		}
		return append(buf, '}'), nil
	}
	return json.Marshal(v.Interface())
}

var decodeWalksCache sync.Map // reflect.Type → bool

// decodeWalks reports whether unmarshalMode decodes a value of t itself rather than leaving it to
// encoding/json: when it holds models, or lists and maps whose items cannot be null (encoding/json
// would turn a null item into a zero value).
func decodeWalks(t reflect.Type) bool {
	if cached, ok := decodeWalksCache.Load(t); ok {
		return cached.(bool)
	}
	var walks bool
	switch t.Kind() {
	case reflect.Pointer:
		walks = decodeWalks(t.Elem())
	case reflect.Slice:
		walks = t.Elem().Kind() != reflect.Uint8 && (!acceptsNull(t.Elem()) || decodeWalks(t.Elem()))
	case reflect.Map:
		walks = t.Key().Kind() == reflect.String && (!acceptsNull(t.Elem()) || decodeWalks(t.Elem()))
	case reflect.Struct:
		walks = reflect.PointerTo(t).Implements(modelDecoderType)
	}
	decodeWalksCache.Store(t, walks)
	return walks
}

var modelDecoderType = reflect.TypeOf((*modelDecoder)(nil)).Elem()

var holdsModelsCache sync.Map // reflect.Type → bool

// holdsModels reports whether a value of t may contain a generated model (directly, or in
// pointers, slices and maps); free-form values (any) are encoded as they are.
func holdsModels(t reflect.Type) bool {
	if cached, ok := holdsModelsCache.Load(t); ok {
		return cached.(bool)
	}
	var holds bool
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		holds = holdsModels(t.Elem())
	case reflect.Map:
		holds = t.Key().Kind() == reflect.String && holdsModels(t.Elem())
	case reflect.Struct:
		holds = t.Implements(requestEncoderType) || reflect.PointerTo(t).Implements(requestEncoderType)
	}
	holdsModelsCache.Store(t, holds)
	return holds
}

// objectWriter encodes a model as a JSON object, its properties in the contract's order.
type objectWriter struct {
	request bool
	buf     []byte
	names   []string
	err     error
}

func newObjectWriter(request bool) *objectWriter {
	return &objectWriter{request: request, buf: append(make([]byte, 0, 256), '{')}
}

func (o *objectWriter) member(name string, data []byte) {
	if len(o.buf) > 1 {
		o.buf = append(o.buf, ',')
	}
	key, _ := json.Marshal(name)
	o.buf = append(append(append(o.buf, key...), ':'), data...)
	o.names = append(o.names, name)
}

// field writes a property.
func (o *objectWriter) field(name string, value any) {
	if o.err != nil {
		return
	}
	data, err := marshalJSON(value, o.request)
	if err != nil {
		o.err = fmt.Errorf("json: cannot encode %q: %w", name, err)
		return
	}
	o.member(name, data)
}

// null writes a property as null.
func (o *objectWriter) null(name string) {
	o.member(name, []byte("null"))
}

func (o *objectWriter) has(name string) bool {
	for _, n := range o.names {
		if n == name {
			return true
		}
	}
	return false
}

// done appends the properties kept from decoding and closes the object.
func (o *objectWriter) done(extra jsonExtra) ([]byte, error) {
	if o.err != nil {
		return nil, o.err
	}
	if extra.unknown != "" {
		if len(o.buf) > 1 {
			o.buf = append(o.buf, ',')
		}
		o.buf = append(o.buf, extra.unknown...)
	}
	return append(o.buf, '}'), nil
}

// writeAdditional writes additional properties (sorted by name) that no field has written.
func writeAdditional[T any](o *objectWriter, values map[string]T) {
	keys := make([]string, 0, len(values))
	for key := range values {
		if !o.has(key) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		o.field(key, values[key])
	}
}

// withTag encodes a variant of a discriminated union with its tag: the discriminator property is
// set to the variant's tag whatever the value holds (a value among tags is kept), and added first
// when missing.
func withTag(value any, request bool, property string, tags ...string) ([]byte, error) {
	data, err := marshalJSON(value, request)
	if err != nil {
		return nil, err
	}
	members, err := objectMembers(data)
	if err != nil {
		return data, nil // not an object: nothing to tag
	}
	tag, _ := json.Marshal(tags[0])
	name, _ := json.Marshal(property)
	found := false
	buf := []byte{'{'}
	for i, m := range members {
		if i > 0 {
			buf = append(buf, ',')
		}
		if string(m.key) != property {
			buf = append(buf, m.text...)
			continue
		}
		found = true
		kept := tag
		var current string
		if json.Unmarshal(m.value, &current) == nil && slices.Contains(tags, current) {
			kept = m.value
		}
		buf = append(append(append(buf, name...), ':'), kept...)
	}
	buf = append(buf, '}')
	if found {
		return buf, nil
	}
	head := append(append(append([]byte{'{'}, name...), ':'), tag...)
	if len(members) > 0 {
		head = append(head, ',')
	}
	return append(head, buf[1:]...), nil
}
