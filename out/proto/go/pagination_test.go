package orchestratorproto

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
)

type testPage struct {
	Data       []string         `json:"data"`
	NextCursor Nullable[string] `json:"next_cursor,omitzero"`
	HasMore    *bool            `json:"has_more,omitempty"`
	Total      *int64           `json:"total,omitempty"`
}

func TestCursorPagination(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("cursor") {
		case "":
			ok(w, `{"data":["a","b"],"next_cursor":"c2","has_more":true}`)
		case "c2":
			ok(w, `{"data":["c"],"next_cursor":"c3","has_more":true}`)
		case "c3":
			ok(w, `{"data":["d"],"next_cursor":null,"has_more":false}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	c := testCore(rec.server.URL)
	first := func() *request {
		r := newRequest("GET", "")
		r.path = "/items"
		r.query.add("limit", "form", true, 2)
		return r
	}
	seq := pages(context.Background(), c, first(), nil, decodePage[testPage], func(p *testPage, _ *http.Response, r *request) *request {
		return nextCursor(r, "cursor", p.NextCursor, p.HasMore)
	})
	var got []string
	for item, err := range all(seq, func(p *testPage) []string { return p.Data }) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, item)
	}
	if fmt.Sprint(got) != "[a b c d]" || rec.count() != 3 {
		t.Fatalf("items %v after %d requests", got, rec.count())
	}
	if rec.request(1).URL.RawQuery != "limit=2&cursor=c2" {
		t.Errorf("second page query %q", rec.request(1).URL.RawQuery)
	}
	// Stopping early requests no further page.
	for item, err := range all(seq, func(p *testPage) []string { return p.Data }) {
		if err != nil || item != "a" {
			t.Fatalf("%v %v", item, err)
		}
		break
	}
	if rec.count() != 4 {
		t.Errorf("%d requests after an early stop, want 4", rec.count())
	}
}

func TestPaginationErrorEndsTheIteration(t *testing.T) {
	rec := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			ok(w, `{"data":["a"],"next_cursor":"x"}`)
			return
		}
		w.WriteHeader(http.StatusForbidden)
	})
	r := newRequest("GET", "")
	r.path = "/items"
	seq := pages(context.Background(), testCore(rec.server.URL), r, nil, decodePage[testPage], func(p *testPage, _ *http.Response, r *request) *request {
		return nextCursor(r, "cursor", p.NextCursor, p.HasMore)
	})
	var items []string
	var last error
	for item, err := range all(seq, func(p *testPage) []string { return p.Data }) {
		if err != nil {
			last = err
			continue
		}
		items = append(items, item)
	}
	if len(items) != 1 || !IsStatus(last, 403) {
		t.Errorf("items %v, error %v", items, last)
	}
}

func TestLinkPagination(t *testing.T) {
	var base string
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page_token") {
		case "":
			w.Header().Add("Link", fmt.Sprintf(`<%s/prefix/runs?page_token=p2&limit=2>; rel="next", <%s/prefix/runs>; rel="prev"`, base, base))
			ok(w, `["r1","r2"]`)
		case "p2":
			w.Header().Add("Link", `<https://elsewhere.example/runs?page_token=p3>; rel="next"`)
			ok(w, `["r3"]`)
		}
	})
	base = rec.server.URL
	r := newRequest("GET", "")
	r.path = "/runs"
	r.authenticated = true
	c := testCore(rec.server.URL+"/prefix", WithBearerToken("tok"))
	seq := pages(context.Background(), c, r, nil, decodePage[[]string], func(_ *[]string, resp *http.Response, r *request) *request {
		return nextLink(r, resp)
	})
	var got []string
	for item, err := range all(seq, func(p *[]string) []string { return *p }) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, item)
	}
	if fmt.Sprint(got) != "[r1 r2 r3]" || rec.count() != 2 {
		t.Fatalf("items %v after %d requests (a link to another origin must not be followed)", got, rec.count())
	}
	if second := rec.request(1); second.URL.Path != "/prefix/runs" || second.Header.Get("Authorization") != "Bearer tok" {
		t.Errorf("second page %s %v", second.URL, second.Header)
	}
}

func TestNextLinkURL(t *testing.T) {
	for header, want := range map[string]string{
		`<https://a/x?p=2>; rel="next"`:                      "https://a/x?p=2",
		`<https://a/p>; rel="prev", <https://a/n>; rel=next`: "https://a/n",
		`<https://a/n>; title="x"; rel="last next"`:          "https://a/n",
		`<https://a/p>; rel="prev"`:                          "",
	} {
		if got := nextLinkURL(http.Header{"Link": {header}}); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
}

func TestOffsetPagination(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		all := []string{"a", "b", "c", "d", "e"}
		end := min(offset+2, len(all))
		items := all[min(offset, len(all)):end]
		data, _ := json.Marshal(items)
		ok(w, fmt.Sprintf(`{"data":%s,"total":5}`, data))
	})
	r := newRequest("GET", "")
	r.path = "/artifacts"
	r.query.add("limit", "form", true, 2)
	seq := pages(context.Background(), testCore(rec.server.URL), r, nil, decodePage[testPage], func(p *testPage, _ *http.Response, r *request) *request {
		return nextOffset(r, "offset", len(p.Data), "limit", p.Total)
	})
	var got []string
	for item, err := range all(seq, func(p *testPage) []string { return p.Data }) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, item)
	}
	if fmt.Sprint(got) != "[a b c d e]" || rec.count() != 3 {
		t.Fatalf("items %v after %d requests", got, rec.count())
	}
	if q := rec.request(2).URL.Query().Get("offset"); q != "4" {
		t.Errorf("third offset %q", q)
	}
}
