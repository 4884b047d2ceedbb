package crawler

import (
	"net/http/httptest"
	"testing"

	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/testsite"
)

// TestTitlesAndBadHTMLFromTheSite: legacy charsets become correct UTF-8
// titles, and broken HTML gives a sensible record instead of a crash.
func TestTitlesAndBadHTMLFromTheSite(t *testing.T) {
	srv := httptest.NewServer(testsite.New())
	defer srv.Close()
	client, _ := fetch.New(fetch.Config{})
	defer client.CloseIdleConnections()
	want := map[string]string{
		"/fault/charset/latin1-header": "Café été",
		"/fault/charset/latin1-meta":   "Café été",
		"/fault/charset/sjis":          "日本語のページ",
		"/fault/malformed":             "Broken <b>page",
		"/fault/empty":                 "",
		"/fault/binary":                "",
	}
	var lines []string
	for p := range want {
		lines = append(lines, srv.URL+p)
	}
	var sink collect
	if err := FetchList(t.Context(), Config{}, client, listOf(lines...), &sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.results) != len(want) {
		t.Errorf("%d records for %d URLs, want one each", len(sink.results), len(want))
	}
	for _, r := range sink.results {
		p := r.URL[len(srv.URL):]
		if !r.OK || r.Title != want[p] {
			t.Errorf("%s: ok %v title %q, want ok and %q", p, r.OK, r.Title, want[p])
		}
	}
	// The crawler parses the same pages for links without trouble.
	scope, _ := NewScope(ScopeAny, nil, nil, nil)
	for p := range want {
		sink = collect{}
		if _, err := Crawl(t.Context(), CrawlConfig{MaxDepth: 1, Scope: scope}, client, []Task{{URL: srv.URL + p}}, nil, &sink); err != nil {
			t.Fatalf("crawl %s: %v", p, err)
		}
		if len(sink.results) == 0 || sink.results[0].URL != srv.URL+p || !sink.results[0].OK {
			t.Errorf("crawl of %s: first record %+v, want the page, ok", p, sink.results)
		}
	}
}
