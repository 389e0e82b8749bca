package orchestratorproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// File is a file part of a multipart request.
type File struct {
	// Filename is sent as the part's filename (default: the part name).
	Filename string
	// ContentType is the part's media type (default: the contract's, else application/octet-stream).
	ContentType string
	// Content is read once when the request is built.
	Content io.Reader
}

// deref follows pointers; ok is false for nil pointers, nil slices and nil maps (absent values).
func deref(value any) (reflect.Value, bool) {
	v := reflect.ValueOf(value)
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return v, false
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return v, false
	}
	if (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.IsNil() {
		return v, false
	}
	if v.Kind() == reflect.Struct {
		// A Nullable: absent and null are both left out; a value is used as itself.
		if get := v.MethodByName("Get"); get.IsValid() && get.Type().NumIn() == 0 && get.Type().NumOut() == 2 &&
			get.Type().Out(1).Kind() == reflect.Bool && v.MethodByName("IsNull").IsValid() {
			out := get.Call(nil)
			if !out[1].Bool() {
				return v, false
			}
			return deref(out[0].Interface())
		}
	}
	return v, true
}

// parameterValue is the value a path, query, header or cookie parameter is encoded from: a
// struct that writes its own JSON (a union, whose variant may be a scalar such as the "now" of
// Stripe's `anyOf: [integer, enum]`) is encoded as the JSON value it holds, not as a struct.
// Numbers stay exact (json.Number).
func parameterValue(v reflect.Value) reflect.Value {
	if v.Kind() != reflect.Struct {
		return v
	}
	if _, isTime := v.Interface().(time.Time); isTime {
		return v
	}
	if _, marshals := v.Interface().(json.Marshaler); !marshals {
		return v
	}
	data, err := json.Marshal(v.Interface())
	if err != nil {
		return v
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	var plain any
	if decoder.Decode(&plain) != nil || plain == nil {
		return v
	}
	return reflect.ValueOf(plain)
}

// scalarText formats a scalar as text (strings, numbers, booleans, times); ok is false for
// anything else.
func scalarText(v reflect.Value) (string, bool) {
	if t, isTime := v.Interface().(time.Time); isTime {
		return t.Format(time.RFC3339Nano), true
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), true
	case reflect.Float32:
		return strconv.FormatFloat(v.Float(), 'g', -1, 32), true
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64), true
	}
	return "", false
}

// text formats any value as text: scalars directly, anything else as JSON.
func text(v reflect.Value) string {
	if s, ok := scalarText(v); ok {
		return s
	}
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
		data, _ := json.Marshal(v.Interface()) // base64, as in JSON
		var s string
		_ = json.Unmarshal(data, &s)
		return s
	}
	data, err := json.Marshal(v.Interface())
	if err != nil {
		return fmt.Sprint(v.Interface())
	}
	return string(data)
}

// pairs turns an object (map or struct, via its JSON form) into sorted key/value pairs.
func pairs(v reflect.Value) ([][2]string, bool) {
	var fields map[string]any
	data, err := json.Marshal(v.Interface())
	if err != nil || json.Unmarshal(data, &fields) != nil {
		return nil, false
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, 0, len(keys))
	for _, k := range keys {
		if fields[k] == nil {
			continue
		}
		out = append(out, [2]string{k, text(reflect.ValueOf(fields[k]))})
	}
	return out, true
}

func items(v reflect.Value) ([]string, bool) {
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return nil, false
	}
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	out := make([]string, v.Len())
	for i := range out {
		item, _ := deref(v.Index(i).Interface())
		if !item.IsValid() {
			continue
		}
		out[i] = text(parameterValue(item))
	}
	return out, true
}

func isObject(v reflect.Value) bool {
	if _, isTime := v.Interface().(time.Time); isTime {
		return false
	}
	return v.Kind() == reflect.Map || v.Kind() == reflect.Struct
}

// escapeQuery percent-encodes a query name or value (a space is %20, not +).
func escapeQuery(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// query is an ordered query string, encoded as the contract's style and explode say.
type query struct {
	parts []string // "name=value", already encoded
	names []string // the unencoded name of each part, for set
}

func (q *query) push(name, encoded string) {
	q.parts = append(q.parts, encoded)
	q.names = append(q.names, name)
}

// add encodes one parameter; absent values (nil pointers, slices and maps) are left out.
func (q *query) add(name, style string, explode bool, value any) {
	v, ok := deref(value)
	if !ok {
		return
	}
	v = parameterValue(v)
	key := escapeQuery(name)
	if list, isList := items(v); isList {
		separator := map[string]string{"spaceDelimited": "%20", "pipeDelimited": "%7C"}[style]
		if separator == "" {
			separator = ","
		}
		if explode && (style == "form" || style == "") {
			for _, item := range list {
				q.push(name, key+"="+escapeQuery(item))
			}
			return
		}
		encoded := make([]string, len(list))
		for i, item := range list {
			encoded[i] = escapeQuery(item)
		}
		q.push(name, key+"="+strings.Join(encoded, separator))
		return
	}
	if isObject(v) {
		fields, _ := pairs(v)
		switch {
		case style == "deepObject":
			for _, kv := range fields {
				q.push(name, key+"%5B"+escapeQuery(kv[0])+"%5D="+escapeQuery(kv[1]))
			}
		case explode:
			for _, kv := range fields {
				q.push(name, escapeQuery(kv[0])+"="+escapeQuery(kv[1]))
			}
		default:
			flat := make([]string, 0, 2*len(fields))
			for _, kv := range fields {
				flat = append(flat, escapeQuery(kv[0]), escapeQuery(kv[1]))
			}
			q.push(name, key+"="+strings.Join(flat, ","))
		}
		return
	}
	q.push(name, key+"="+escapeQuery(text(v)))
}

// set replaces every value of a parameter (used to move a cursor or an offset).
func (q *query) set(name, value string) {
	kept := &query{}
	for i, part := range q.parts {
		if q.names[i] != name {
			kept.push(q.names[i], part)
		}
	}
	kept.push(name, escapeQuery(name)+"="+escapeQuery(value))
	*q = *kept
}

func (q *query) get(name string) string {
	for i, part := range q.parts {
		if q.names[i] == name {
			value, _ := url.QueryUnescape(part[strings.IndexByte(part, '=')+1:])
			return value
		}
	}
	return ""
}

func (q *query) clone() *query {
	return &query{parts: append([]string(nil), q.parts...), names: append([]string(nil), q.names...)}
}

func (q *query) encode() string { return strings.Join(q.parts, "&") }

// pathSegment encodes a path parameter as exactly one segment: `/`, `?`, `#`, `%` and non-ASCII
// are escaped. An empty value fails the request, and so do `.` and `..`: URL normalisation (RFC
// 3986 §5.2.4, the WHATWG URL parser, proxies, servers) resolves them, even percent-encoded, so
// the request could reach another resource; all three SDKs refuse them alike.
func (r *request) pathSegment(name string, value any) string {
	v, ok := deref(value)
	if !ok {
		r.fail("the path parameter %s is required", name)
		return ""
	}
	v = parameterValue(v)
	s := text(v)
	if list, isList := items(v); isList {
		s = strings.Join(list, ",")
	}
	if s == "" {
		r.fail("the path parameter %s is required and must not be empty", name)
		return ""
	}
	if s == "." || s == ".." {
		r.fail("the path parameter %s is %q, which cannot be sent as a path segment", name, s)
		return ""
	}
	return url.PathEscape(s)
}

// setHeader sets a header parameter; absent values are left out.
func (r *request) setHeader(name string, value any) {
	v, ok := deref(value)
	if !ok {
		return
	}
	v = parameterValue(v)
	s := text(v)
	if list, isList := items(v); isList {
		s = strings.Join(list, ",")
	} else if isObject(v) {
		fields, _ := pairs(v)
		flat := make([]string, 0, 2*len(fields))
		for _, kv := range fields {
			flat = append(flat, kv[0], kv[1])
		}
		s = strings.Join(flat, ",")
	}
	if err := refuseControls(name, s, false); err != nil && r.err == nil {
		r.err = err
	}
	r.header.Set(name, s)
}

// addCookie adds a cookie parameter; absent values are left out.
func (r *request) addCookie(name string, value any) {
	v, ok := deref(value)
	if !ok {
		return
	}
	v = parameterValue(v)
	cookie := (&http.Cookie{Name: name, Value: text(v)}).String()
	if cookie == "" {
		r.fail("the cookie parameter %s cannot be sent", name)
		return
	}
	if existing := r.header.Get("Cookie"); existing != "" {
		cookie = existing + "; " + cookie
	}
	r.header.Set("Cookie", cookie)
}

// jsonBody sends value as JSON (models keep absent and null apart).
func (r *request) jsonBody(contentType string, value any) {
	data, err := marshalJSON(value, true)
	if err != nil {
		r.fail("cannot encode the body as JSON: %v", err)
		return
	}
	r.body = &body{contentType: contentType, data: data}
}

// textBody sends a text body.
func (r *request) textBody(contentType, value string) {
	r.body = &body{contentType: contentType, data: []byte(value)}
}

// readerBody streams a raw body; a retry can resend it only when it is an io.Seeker.
func (r *request) readerBody(contentType string, reader io.Reader, required bool) {
	if reader == nil {
		if required {
			r.fail("the request body is required")
		}
		return
	}
	r.body = &body{contentType: contentType, reader: reader}
}

// formBody sends an object as application/x-www-form-urlencoded: properties in the contract's
// order (additional ones after them), arrays repeat the key, objects use deepObject brackets, and
// names and values are escaped as URLSearchParams does.
func (r *request) formBody(contentType string, value any) {
	v, ok := deref(value)
	if !ok {
		return
	}
	data, err := marshalJSON(v.Interface(), true)
	if err != nil {
		r.fail("cannot encode the form body: %v", err)
		return
	}
	members, err := objectMembers(data)
	if err != nil {
		r.fail("the form body must be an object")
		return
	}
	var parts []string
	for _, m := range members {
		parts = formPairs(parts, string(m.key), m.value)
	}
	r.body = &body{contentType: contentType, data: []byte(strings.Join(parts, "&"))}
}

// formPairs appends the fields of one form value, as the Rust and TypeScript SDKs write them:
// scalars as they are, objects in deepObject brackets all the way down (`a[b][c]=v`, as
// Stripe-style contracts read them), arrays of scalars as repeated names and other arrays by index
// (`a[0][b]=v`); nulls are left out.
func formPairs(parts []string, name string, raw []byte) []string {
	switch kindOf(raw) {
	case jsonKindNull, jsonKindInvalid:
		return parts
	case jsonKindObject:
		fields, _ := objectMembers(raw)
		for _, f := range fields {
			parts = formPairs(parts, name+"["+string(f.key)+"]", f.value)
		}
		return parts
	case jsonKindArray:
		var list []json.RawMessage
		_ = json.Unmarshal(raw, &list)
		scalars := true
		for _, item := range list {
			switch kindOf(item) {
			case jsonKindNull, jsonKindArray, jsonKindObject, jsonKindInvalid:
				scalars = false
			}
		}
		for i, item := range list {
			if scalars {
				parts = formPairs(parts, name, item)
			} else {
				parts = formPairs(parts, name+"["+strconv.Itoa(i)+"]", item)
			}
		}
		return parts
	}
	if text, ok := formText(raw); ok {
		parts = append(parts, formEscape(name)+"="+formEscape(text))
	}
	return parts
}

// formText is the text of a scalar form value: strings unquoted, numbers and booleans as
// written; ok is false for null.
func formText(raw []byte) (string, bool) {
	switch kindOf(raw) {
	case jsonKindNull, jsonKindInvalid:
		return "", false
	case jsonKindString:
		var s string
		_ = json.Unmarshal(raw, &s)
		return s, true
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) != nil {
		return string(raw), true
	}
	return compact.String(), true
}

// formEscape escapes as the WHATWG application/x-www-form-urlencoded serializer: ASCII
// alphanumerics and *-._ stay, a space is +, every other byte of the UTF-8 text is %XX.
func formEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// multipartForm builds a multipart/form-data body in memory.
type multipartForm struct {
	buf    bytes.Buffer
	writer *multipart.Writer
	r      *request
	// optional: the contract does not require the body, so a call that sets none of its parts
	// sends no body at all (as the other SDKs do when it is left out); missing holds the
	// required parts not given, an error only once some part is.
	optional bool
	parts    int
	missing  []string
}

func (r *request) multipart() *multipartForm {
	m := &multipartForm{r: r}
	m.writer = multipart.NewWriter(&m.buf)
	return m
}

// optionalMultipart is multipart for a body the contract does not require.
func (r *request) optionalMultipart() *multipartForm {
	m := r.multipart()
	m.optional = true
	return m
}

func escapeQuotes(s string) string {
	return strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "").Replace(s)
}

// file adds a file part; a nil file is absent.
func (m *multipartForm) file(name string, f *File, contentType string, required bool) {
	if f == nil || f.Content == nil {
		if required {
			m.missing = append(m.missing, name)
		}
		return
	}
	m.parts++
	filename := f.Filename
	if filename == "" {
		filename = name
	}
	if f.ContentType != "" {
		contentType = f.ContentType
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, escapeQuotes(name), escapeQuotes(filename)))
	h.Set("Content-Type", contentType)
	part, err := m.writer.CreatePart(h)
	if err == nil {
		_, err = io.Copy(part, f.Content)
	}
	if err != nil {
		m.r.fail("cannot read the multipart file %s: %v", name, err)
	}
}

// field adds a value part: scalars as text, objects and arrays as JSON (or as the contract's
// content type says); absent values are left out.
func (m *multipartForm) field(name string, value any, contentType string) {
	v, ok := deref(value)
	if !ok {
		return
	}
	m.parts++
	content, isScalar := scalarText(v)
	if !isScalar || strings.Contains(contentType, "json") {
		data, err := marshalJSON(v.Interface(), true)
		if err != nil {
			m.r.fail("cannot encode the multipart part %s: %v", name, err)
			return
		}
		content = string(data)
		if contentType == "" {
			contentType = "application/json"
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"`, escapeQuotes(name)))
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	part, err := m.writer.CreatePart(h)
	if err == nil {
		_, err = io.WriteString(part, content)
	}
	if err != nil {
		m.r.fail("cannot write the multipart part %s: %v", name, err)
	}
}

// done finishes the body and attaches it to the request: none for an optional body left empty.
func (m *multipartForm) done() {
	if m.optional && m.parts == 0 {
		return
	}
	if len(m.missing) > 0 {
		m.r.fail("the multipart part %s is required", m.missing[0])
		return
	}
	if err := m.writer.Close(); err != nil {
		m.r.fail("cannot finish the multipart body: %v", err)
	}
	m.r.body = &body{contentType: m.writer.FormDataContentType(), data: m.buf.Bytes()}
}

// decodeJSON decodes a buffered JSON response; an empty body gives ok=false.
func decodeJSON[T any](resp *http.Response) (value T, ok bool, err error) {
	data, readErr := readBody(resp.Body)
	_ = resp.Body.Close()
	if readErr != nil {
		return value, false, &ConnectionError{Message: "reading the response body: " + readErr.Error(), Err: readErr}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusResetContent {
			return value, false, nil
		}
		return value, false, &DecodeError{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: data, Err: io.ErrUnexpectedEOF}
	}
	if err := unmarshalStrict(data, &value); err != nil {
		return value, false, &DecodeError{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: data, Err: err}
	}
	return value, true, nil
}

// decodeOptionalJSON is decodeJSON for an operation that documents an empty success response:
// an empty body of any status is no value, not an error.
func decodeOptionalJSON[T any](resp *http.Response) (*T, error) {
	data, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if len(bytes.TrimSpace(data)) == 0 {
		_ = resp.Body.Close()
		return nil, nil
	}
	value, _, err := decodeJSON[T](resp)
	if err != nil {
		return nil, err
	}
	return &value, nil
}

// decodeText returns a buffered text response.
func decodeText(resp *http.Response) (string, error) {
	data, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return "", &ConnectionError{Message: "reading the response body: " + err.Error(), Err: err}
	}
	return string(data), nil
}

// discard drains and closes a response whose body the operation does not use.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
}
