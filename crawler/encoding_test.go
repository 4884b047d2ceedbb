package crawler

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/testsite"
)

// Issue 11, items 6 and 10: every content coding is decoded, whatever the
// user's Accept-Encoding; bytes count the decoded body; a page without a
// Content-Type is sniffed for its title.
func TestEveryEncodingIsDecoded(t *testing.T) {
	srv := httptest.NewServer(testsite.New())
	defer srv.Close()
	for _, header := range []http.Header{nil, {"Accept-Encoding": {"gzip"}}, {"Accept-Encoding": {"identity"}}} {
		client, _ := fetch.New(fetch.Config{Header: header})
		codings := []string{"gzip", "deflate", "deflate-raw", "br", "zstd"}
		var lines []string
		for _, c := range codings {
			lines = append(lines, srv.URL+"/fault/encoding/"+c)
		}
		lines = append(lines, srv.URL+"/fault/encoding/bogus", srv.URL+"/fault/no-content-type")
		var sink collect
		if err := FetchList(t.Context(), Config{}, client, listOf(lines...), &sink); err != nil {
			t.Fatal(err)
		}
		client.CloseIdleConnections()
		if len(sink.results) != len(lines) {
			t.Fatalf("%d records for %d lines", len(sink.results), len(lines))
		}
		for _, r := range sink.results {
			switch p := r.URL[len(srv.URL):]; p {
			case "/fault/encoding/bogus":
				if r.OK || r.Err == nil || r.Err.Kind != fetch.KindDecoding {
					t.Errorf("Accept-Encoding %q, %s: %+v, want error kind decoding", header.Get("Accept-Encoding"), p, r)
				}
			case "/fault/no-content-type":
				if !r.OK || r.Title != "No type" {
					t.Errorf("%s: ok %v title %q, want the title sniffed", p, r.OK, r.Title)
				}
			default:
				c := p[len("/fault/encoding/"):]
				if !r.OK || r.Title != "Encoded "+c || r.Bytes != int64(len(testsite.EncodedPage(c))) {
					t.Errorf("Accept-Encoding %q, %s: ok %v title %q bytes %d; want ok, %q, %d decoded bytes",
						header.Get("Accept-Encoding"), p, r.OK, r.Title, r.Bytes, "Encoded "+c, len(testsite.EncodedPage(c)))
				}
			}
		}
	}
}

// A crawl follows the links of encoded pages, even when the user asked
// for gzip alone.
func TestCrawlReadsEncodedPages(t *testing.T) {
	srv := httptest.NewServer(testsite.New())
	defer srv.Close()
	client, _ := fetch.New(fetch.Config{MaxRedirects: -1, Header: http.Header{"Accept-Encoding": {"gzip"}}})
	defer client.CloseIdleConnections()
	scope, _ := NewScope(ScopeHost, nil, nil, nil)
	var sink collect
	if _, err := Crawl(t.Context(), CrawlConfig{MaxDepth: 2, Scope: scope}, client, []Task{{URL: srv.URL + "/fault/encoding/br"}}, nil, &sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.results) != 2 {
		t.Errorf("crawl from a brotli page: %d records, want 2 (it links to the gzip one)", len(sink.results))
	}
}

// Issue 11, item 21: a bot challenge is the error kind challenge, whatever
// its status, and is never retried.
func TestChallengePagesAreNotPages(t *testing.T) {
	site := testsite.New()
	srv := httptest.NewServer(site)
	defer srv.Close()
	client, _ := fetch.New(fetch.Config{})
	defer client.CloseIdleConnections()
	var sink collect
	list := listOf(srv.URL+"/fault/challenge?status=200", srv.URL+"/fault/challenge?status=503", srv.URL+"/fault/challenge")
	if err := FetchList(t.Context(), Config{Retries: 2}, client, list, &sink); err != nil {
		t.Fatal(err)
	}
	for _, r := range sink.results {
		if r.OK || r.Err == nil || r.Err.Kind != fetch.KindChallenge || r.Attempts != 1 {
			t.Errorf("%s: ok %v err %v attempts %d; want kind challenge after one attempt", r.URL, r.OK, r.Err, r.Attempts)
		}
	}
	if n := site.Count("/fault/challenge"); n != 3 {
		t.Errorf("the server saw %d requests, want 3 (no retries)", n)
	}
}

// What marks a challenge page, and what does not: Cloudflare's ordinary
// pages carry challenge-platform scripts and stay pages.
func TestChallengeMarks(t *testing.T) {
	page := func(head, body string) string {
		return "<!doctype html><html><head>" + head + "</head><body>" + strings.Repeat("lorem ipsum cf- _cf ", 50) + body + "</body></html>"
	}
	for _, c := range []struct {
		name, header, body string
		want               bool
	}{
		{"header only", "challenge", page("<title>Shop</title>", ""), true},
		{"options object", "", page("<title>x</title>", "<script>window._cf_chl_opt={cType:'managed'};</script>"), true},
		{"old verification form", "", page("", `<form id="challenge-form" class="cf-browser-verification">`), true},
		{"its title", "", page("<title>Just a moment...</title>", ""), true},
		{"its title in capitals", "", page("<TITLE>Just a moment...</title>", ""), true},
		{"an ordinary page behind Cloudflare", "", page("<title>Shop</title>", `<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script>`), false},
		{"the words in the text", "", page("<title>Waiting</title>", "<p>Just a moment...</title>, browser-verification"), false},
		{"a plain page", "", page("<title>Shop</title>", "<p>hello</p>"), false},
	} {
		fr := &fetch.Result{Header: http.Header{}, Body: []byte(c.body)}
		if c.header != "" {
			fr.Header.Set("Cf-Mitigated", c.header)
		}
		if got := isChallenge(fr, "text/html"); got != c.want {
			t.Errorf("%s: isChallenge = %v, want %v", c.name, got, c.want)
		}
	}
	if isChallenge(&fetch.Result{Header: http.Header{}, Body: []byte("_cf_chl_opt")}, "application/json") {
		t.Error("a JSON body with the mark is a challenge; only HTML can be")
	}
}
