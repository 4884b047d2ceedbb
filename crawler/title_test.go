package crawler

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fetchall/fetchall/fetch"
)

var titlePages = []string{
	`<!doctype html><html><head><meta charset="utf-8"><title>Hello  &amp; welcome</title></head></html>`,
	`<TITLE>Upper</TITLE>`,
	`<!DOCTYPE html><title>doc</title>`,
	`<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x"><title>doc</title>`,
	`<!ELEMENT x><title>decl</title>`,
	`<title lang=en>Attr</title >`,
	`<title>a<b>c</title>`,
	`<title>no end`,
	`<!-- <title>old</title> --><title>new</title>`,
	`<script>var s = "<title>x</title>";</script><title>real</title>`,
	`<svg><title>icon</title></svg><title>page</title>`,
	`<meta content="a>b"><title>after quote</title>`,
	`<a href='<title>'>x</a><title>t</title>`,
	`<p>1 < 2</p><title>lt</title>`,
	`<title></title>`,
	`<title>&lt;&#65;&gt; &nbsp;x</title>`,
	`<title>one</title><title>two</title>`,
	`no html at all`,
	`<titles>not</titles><title>yes</title>`,
	"<title>\x00nul</title>",
	`<title>x</titlex></title>`,
	"<title>a\x1b[31mRED\x1b]0;pwn\x07 \u009b1m end</title>",
}

// A title's control characters (a terminal's escape sequences) go; its
// white space folds as ever.
func TestTitleDropsControlCharacters(t *testing.T) {
	page := "<title>a\x1b[31mRED\x1b]0;pwn\x07 \u009b1m\tend\x7f</title>"
	if got, want := extractTitle([]byte(page), "text/html; charset=utf-8"), "a[31mRED]0;pwn 1m end"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
}

func TestQuickTitleAgreesWithTokenizer(t *testing.T) {
	answered := 0
	for _, page := range titlePages {
		want := tokenizeTitle([]byte(page), "text/html; charset=utf-8")
		got, ok := quickTitle([]byte(page))
		if ok {
			answered++
			if got != want {
				t.Errorf("quickTitle(%q) = %q, tokenizer says %q", page, got, want)
			}
		}
		if full := extractTitle([]byte(page), "text/html; charset=utf-8"); full != want {
			t.Errorf("extractTitle(%q) = %q, want %q", page, full, want)
		}
	}
	if answered < len(titlePages)/2 {
		t.Errorf("quickTitle answered %d of %d plain pages; the fast path is not being used", answered, len(titlePages))
	}
}

func FuzzQuickTitle(f *testing.F) {
	for _, page := range titlePages {
		f.Add(page)
	}
	f.Fuzz(func(t *testing.T, page string) {
		got, ok := quickTitle([]byte(page))
		if !ok {
			return
		}
		if want := tokenizeTitle([]byte(page), "text/html; charset=utf-8"); got != want {
			t.Fatalf("quickTitle(%q) = %q, tokenizer says %q", page, got, want)
		}
	})
}

// A list's title (quick scan, else tokenizer) is the tree's, as a crawl
// and a job read it.
func FuzzExtractTitleAgreesWithTheTree(f *testing.F) {
	for _, page := range titlePages {
		f.Add(page)
	}
	f.Add(`<svg><title>icon</title></svg><title>page</title>`)
	f.Fuzz(func(t *testing.T, page string) {
		got := extractTitle([]byte(page), "text/html; charset=utf-8")
		if want := treeTitle([]byte(page), "text/html; charset=utf-8"); got != want {
			t.Fatalf("extractTitle(%q) = %q, the tree says %q", page, got, want)
		}
	})
}

// BenchmarkExtractTitle reads the title of a bulk list's 2 KB page, as
// every record of a list does.
func BenchmarkExtractTitle(b *testing.B) {
	body := []byte(`<!doctype html><html><head><meta charset="utf-8"><title>Page 1</title></head><body><h1>Page 1</h1><p>` +
		strings.Repeat("lorem ipsum dolor sit amet ", 74) + `</p></body></html>`)
	b.ReportAllocs()
	for b.Loop() {
		if extractTitle(body, "text/html; charset=utf-8") != "Page 1" {
			b.Fatal("wrong title")
		}
	}
}

// A title of megabytes is cut to maxTitle bytes in a record, at a
// character's start, ending in "…": whole, it made a JSON line past what
// line readers take. Shorter ones are whole.
func TestRecordTitleIsCutAtMaxTitle(t *testing.T) {
	for _, tt := range []struct {
		title string
		whole bool
	}{
		{"short", true},
		{strings.Repeat("a", maxTitle), true},
		{strings.Repeat("a", maxTitle+1), false},
		{strings.Repeat("é", 3<<20), false},
		{strings.Repeat("€", maxTitle), false},
	} {
		got := recordTitle(tt.title)
		switch {
		case tt.whole && got != tt.title:
			t.Errorf("a title of %d bytes was cut to %d", len(tt.title), len(got))
		case !tt.whole && (len(got) > maxTitle || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || !strings.HasPrefix(tt.title, strings.TrimSuffix(got, "…"))):
			t.Errorf("a title of %d bytes: %d bytes, valid %v, %q at the end; want at most %d, valid, a prefix and …", len(tt.title), len(got), utf8.ValidString(got), got[max(0, len(got)-8):], maxTitle)
		}
	}
}

// A crawl's record holds a page's title cut to maxTitle, and no canonical
// longer than a URL a crawl follows: a page's junk made records of
// megabytes.
func TestCrawlRecordHoldsNoMegabytes(t *testing.T) {
	long := strings.Repeat("x", 3<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<html><head><title>`+long+`</title><link rel="canonical" href="/`+long+`"></head><body>x</body></html>`)
	}))
	defer srv.Close()
	client, _ := fetch.New(fetch.Config{})
	defer client.CloseIdleConnections()
	scope, _ := NewScope(ScopeHost, nil, nil, nil)
	var sink collect
	if _, err := Crawl(t.Context(), CrawlConfig{MaxDepth: 0, Scope: scope}, client, []Task{{URL: srv.URL + "/"}}, nil, &sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.results) != 1 {
		t.Fatalf("%d records, want 1", len(sink.results))
	}
	if r := sink.results[0]; len(r.Title) > maxTitle || r.Canonical != "" || !r.OK {
		t.Errorf("record: ok %v, title of %d bytes, canonical of %d; want ok, at most %d and none", r.OK, len(r.Title), len(r.Canonical), maxTitle)
	}
}

// A <title> of inline SVG or MathML is not the page's, on every path
// (a list's quick scan and tokenizer, a crawl's scan, a job's tree): a
// browser shows none, or the HTML <title> that comes later.
func TestForeignTitlesAreNotThePages(t *testing.T) {
	base, _ := url.Parse("http://site.test/")
	for page, want := range map[string]string{
		`<html><body><svg><title>icon</title></svg></body></html>`:                                        "",
		`<svg><title>icon</title></svg><p>text<title>page</title>`:                                        "page",
		`<math><title>m</title></math><title>page</title>`:                                                "page",
		`<svg><foreignObject><title>html inside</title></foreignObject></svg>`:                            "html inside",
		`<title>page</title><svg><title>icon</title></svg>`:                                               "page",
		`<svg/><title>after a closed svg</title>`:                                                         "after a closed svg",
		`<svg><foreignObject><div></svg></div></foreignObject><title>svg's</title></svg><title>p</title>`: "p",
	} {
		for name, got := range map[string]string{
			"extractTitle":  extractTitle([]byte(page), "text/html; charset=utf-8"),
			"tokenizeTitle": tokenizeTitle([]byte(page), "text/html; charset=utf-8"),
			"scanPage":      scanPage([]byte(page), "text/html; charset=utf-8", base, nil, false).title,
			"parsePage":     parsePage([]byte(page), "text/html; charset=utf-8", base, nil, linkRules{}).title,
		} {
			if got != want {
				t.Errorf("%s(%q) = %q, want %q", name, page, got, want)
			}
		}
	}
}
