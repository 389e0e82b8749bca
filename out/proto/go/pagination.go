package orchestratorproto

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// pages walks a list operation page by page, lazily: the next page is requested only when the
// caller asks for it, and breaking out of the loop stops. next returns nil after the last page.
func pages[P any](
	ctx context.Context,
	c *core,
	first *request,
	opts []Option,
	decode func(*http.Response) (*P, error),
	next func(page *P, resp *http.Response, r *request) *request,
) iter.Seq2[*P, error] {
	return func(yield func(*P, error) bool) {
		r := first
		for r != nil {
			resp, err := c.send(ctx, r, opts)
			if err != nil {
				yield(nil, err)
				return
			}
			page, err := decode(resp)
			if err != nil {
				yield(nil, err)
				return
			}
			if page == nil {
				return
			}
			if !yield(page, nil) {
				return
			}
			r = next(page, resp, r)
		}
	}
}

// decodePage decodes one JSON page; an empty body ends the walk.
func decodePage[P any](resp *http.Response) (*P, error) {
	value, ok, err := decodeJSON[P](resp)
	if err != nil || !ok {
		return nil, err
	}
	return &value, nil
}

// all flattens pages into their items.
func all[P, T any](pageSeq iter.Seq2[*P, error], itemsOf func(*P) []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for page, err := range pageSeq {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range itemsOf(page) {
				if !yield(item, nil) {
					return
				}
			}
		}
	}
}

func cloneRequest(r *request) *request {
	copied := *r
	copied.query = r.query.clone()
	copied.header = r.header.Clone()
	return &copied
}

// nextCursor is the request for the page after a cursor page, or nil when the cursor is absent
// or empty or hasMore is false.
func nextCursor(r *request, param string, cursor any, hasMore any) *request {
	if more, ok := deref(hasMore); ok && more.Kind() == reflect.Bool && !more.Bool() {
		return nil
	}
	v, ok := deref(cursor)
	if !ok {
		return nil
	}
	value := text(v)
	if value == "" || value == r.query.get(param) {
		return nil
	}
	next := cloneRequest(r)
	next.query.set(param, value)
	return next
}

var linkPattern = regexp.MustCompile(`<([^>]*)>\s*((?:;\s*[^;,]*)*)`)
var relNext = regexp.MustCompile(`(?i);\s*rel\s*=\s*"?([^";]*)"?`)

// nextLinkURL finds the rel="next" target of a Link header (RFC 8288).
func nextLinkURL(header http.Header) string {
	for _, value := range header.Values("Link") {
		for _, match := range linkPattern.FindAllStringSubmatch(value, -1) {
			for _, rel := range relNext.FindAllStringSubmatch(match[2], -1) {
				for _, name := range strings.Fields(rel[1]) {
					if strings.EqualFold(name, "next") {
						return match[1]
					}
				}
			}
		}
	}
	return ""
}

// nextLink is the request for the page the Link header's `next` relation names, or nil. Only a
// link to the same scheme and host as the current page is followed, so credentials never leave
// the API's origin.
func nextLink(r *request, resp *http.Response) *request {
	target := nextLinkURL(resp.Header)
	if target == "" || resp.Request == nil || resp.Request.URL == nil {
		return nil
	}
	resolved, err := resp.Request.URL.Parse(target)
	if err != nil || resolved.Scheme != resp.Request.URL.Scheme || resolved.Host != resp.Request.URL.Host {
		return nil
	}
	if resolved.String() == resp.Request.URL.String() {
		return nil
	}
	next := cloneRequest(r)
	next.rawURL = resolved.String()
	if parsed, err := url.Parse(next.rawURL); err == nil {
		next.path = parsed.Path
	}
	return next
}

// nextOffset is the request for the page after an offset page of `received` items, or nil when
// the page was empty or short, or the total is reached.
func nextOffset(r *request, param string, received int, limitParam string, total any) *request {
	if received == 0 {
		return nil
	}
	current, _ := strconv.ParseInt(r.query.get(param), 10, 64)
	offset := current + int64(received)
	if limitParam != "" {
		if limit, err := strconv.ParseInt(r.query.get(limitParam), 10, 64); err == nil && int64(received) < limit {
			return nil
		}
	}
	if t, ok := deref(total); ok {
		if n, err := strconv.ParseInt(text(t), 10, 64); err == nil && offset >= n {
			return nil
		}
	}
	next := cloneRequest(r)
	next.query.set(param, strconv.FormatInt(offset, 10))
	return next
}

// valueOf is the value of a Nullable, or the zero value when it is absent or null.
func valueOf[T any](n Nullable[T]) T {
	value, _ := n.Get()
	return value
}
