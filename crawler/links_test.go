package crawler

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/andybalholm/cascadia"
)

func linksOf(t *testing.T, html string, header http.Header, followNofollow bool) (string, []string) {
	t.Helper()
	base, _ := url.Parse("http://site.test/dir/page.html")
	p := parsePage([]byte(html), "text/html; charset=utf-8", base, header, linkRules{followNofollow: followNofollow})
	out := make([]string, len(p.links))
	for i, l := range p.links {
		out[i] = l.String()
	}
	return p.title, out
}

// TestParsePageEveryLinkKind covers each kind of link the crawler follows
// and each it must not.
func TestParsePageEveryLinkKind(t *testing.T) {
	html := `<html><head><title> Links
	page </title>
	<link rel="next" href="/next">
	<link rel="alternate" hreflang="fr" href="/fr/">
	<link rel="stylesheet" href="/style.css">
	<link rel="icon" href="/favicon.ico">
	<meta http-equiv="refresh" content="5; URL='/refreshed'">
	</head><body>
	<a href="relative">rel</a>
	<a href="../up">up</a>
	<a href="/abs">abs</a>
	<a href="http://other.test/x">other host</a>
	<a href="/abs#frag">dup with fragment</a>
	<a href="/abs">dup</a>
	<a href="  /spaced  ">spaced</a>
	<a href="/nofollowed" rel="external nofollow">nofollow</a>
	<a href="mailto:a@b.test">mail</a>
	<a href="javascript:void(0)">js</a>
	<a href="data:text/html,hi">data</a>
	<a href="ftp://site.test/f">ftp</a>
	<a>no href</a>
	<map><area href="/area" shape="rect"></map>
	<iframe src="/iframe"></iframe>
	</body></html>`
	header := http.Header{"Link": {`</from-header>; rel="next", </preload.js>; rel=preload`}}
	title, got := linksOf(t, html, header, false)
	want := []string{
		"http://site.test/next", "http://site.test/fr/", "http://site.test/refreshed",
		"http://site.test/dir/relative", "http://site.test/up", "http://site.test/abs",
		"http://other.test/x", "http://site.test/spaced", "http://site.test/area",
		"http://site.test/iframe", "http://site.test/from-header",
	}
	if title != "Links page" {
		t.Errorf("title = %q, want %q", title, "Links page")
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("links:\n got %q\nwant %q", got, want)
	}
	_, withNofollow := linksOf(t, html, header, true)
	if !slices.Contains(withNofollow, "http://site.test/nofollowed") {
		t.Errorf("followNofollow: %q lacks the nofollow link", withNofollow)
	}
}

func TestParsePageFrameset(t *testing.T) {
	_, got := linksOf(t, `<html><head><title>f</title></head><frameset><frame src="/left"><frame src="right"></frameset></html>`, nil, false)
	if want := []string{"http://site.test/left", "http://site.test/dir/right"}; !slices.Equal(got, want) {
		t.Errorf("frameset links %q, want %q", got, want)
	}
}

func TestParsePageBaseHref(t *testing.T) {
	_, got := linksOf(t, `<base href="http://cdn.test/root/"><a href="x">x</a><a href="/y">y</a>`,
		http.Header{"Link": {`<z>; rel=next`}}, false)
	want := []string{"http://cdn.test/root/x", "http://cdn.test/y", "http://site.test/dir/z"}
	if !slices.Equal(got, want) {
		t.Errorf("with <base href>: %q, want %q (Link headers resolve against the page)", got, want)
	}
}

func TestParsePageMetaRobotsNofollow(t *testing.T) {
	html := `<meta name="ROBOTS" content="noindex, nofollow"><a href="/a">a</a>`
	if _, got := linksOf(t, html, nil, false); len(got) != 0 {
		t.Errorf("meta robots nofollow: links %q, want none", got)
	}
	if _, got := linksOf(t, html, nil, true); len(got) != 1 {
		t.Errorf("meta robots nofollow with followNofollow: links %q, want /a", got)
	}
}

// X-Robots-Tag: nofollow (or none) in the response header is meta robots
// said by the server: no link of the page is followed, on both parsers.
// A value for one agent is not ours.
func TestXRobotsTagNofollow(t *testing.T) {
	base, _ := url.Parse("http://site.test/")
	html := []byte(`<a href="/a">a</a>`)
	for value, want := range map[string]int{
		"noindex, nofollow":       0,
		"NONE":                    0,
		"noindex":                 1,
		"googlebot: nofollow":     1,
		"unavailable_after: 2030": 1,
	} {
		header := http.Header{"X-Robots-Tag": {value}}
		for name, p := range map[string]page{
			"parsePage": parsePage(html, "text/html", base, header, linkRules{}),
			"scanPage":  scanPage(html, "text/html", base, header, false),
		} {
			if len(p.links) != want {
				t.Errorf("%s, X-Robots-Tag %q: %d links, want %d", name, value, len(p.links), want)
			}
		}
	}
	header := http.Header{"X-Robots-Tag": {"nofollow"}}
	if p := scanPage(html, "text/html", base, header, true); len(p.links) != 1 {
		t.Errorf("--follow-nofollow: %d links, want the page's one", len(p.links))
	}
}

func TestParsePageFollowSelectors(t *testing.T) {
	html := `<ul class="pager"><li class="next"><a href="/p2">next</a></li></ul>
	<article><h3><a href="/book-1">b1</a></h3><a href="/ignored">x</a></article>
	<a href="/other">other</a><link rel="next" href="/link-next">`
	base, _ := url.Parse("http://site.test/")
	rules := linkRules{follow: []FollowRule{{Within: cascadia.MustCompile("li.next > a")}, {Within: cascadia.MustCompile("article h3")}}}
	p := parsePage([]byte(html), "text/html", base, nil, rules)
	var got []string
	for _, l := range p.links {
		got = append(got, l.Path)
	}
	if want := []string{"/p2", "/book-1"}; !slices.Equal(got, want) {
		t.Errorf("links with follow selectors: %q, want %q", got, want)
	}
}

func TestRefreshURL(t *testing.T) {
	for in, want := range map[string]string{"0; url=/a": "/a", "5;URL='/b'": "/b", `3, url="/c"`: "/c", "10": "", "0; /d": ""} {
		got, ok := refreshURL(in)
		if got != want || ok != (want != "") {
			t.Errorf("refreshURL(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func FuzzParsePage(f *testing.F) {
	for _, seed := range []string{
		`<a href="/a">a</a><base href="http://b.test/x/"><a href="y#z">`,
		`<meta http-equiv=refresh content="0;url=/r"><link rel=next href=n><iframe src=//c.test/i>`,
		`<frameset><frame src="f"></frameset>`, `<a href="http://[::1]:99999/">`, "\x00<a href=\xff>",
	} {
		f.Add(seed, `</h>; rel="next"`)
	}
	base, _ := url.Parse("http://site.test/dir/page")
	f.Fuzz(func(t *testing.T, html, linkHeader string) {
		p := parsePage([]byte(html), "text/html", base, http.Header{"Link": {linkHeader}}, linkRules{})
		seen := map[string]bool{}
		for _, l := range p.links {
			s := l.String()
			if l.Scheme != "http" && l.Scheme != "https" || l.Host == "" || l.Fragment != "" {
				t.Fatalf("link %q is not an absolute http(s) URL without fragment", s)
			}
			if seen[s] {
				t.Fatalf("link %q listed twice", s)
			}
			seen[s] = true
			if c, err := Canonical(s); err != nil || c != s {
				t.Fatalf("link %q is not canonical: %q, %v", s, c, err)
			}
		}
	})
}

// scanPage and parsePage must agree: the crawl uses the first unless a job
// needs the tree.
func FuzzScanPageAgreesWithParsePage(f *testing.F) {
	for _, seed := range []string{
		`<html><head><title> A  <b>title</b> </title><link rel="canonical" href="/c"><base href="/x/"></head><body><a href="y">y</a><a rel="nofollow" href="n">n</a></body></html>`,
		`<meta name="robots" content="noindex, nofollow"><a href="/a">a</a><link rel=canonical href=/c>`,
		`<meta http-equiv=refresh content="0;url=/r"><link rel=next href=n><iframe src=//c.test/i></iframe><area href=/ar>`,
		`<frameset><frame src="f"></frameset>`, `<title>x</title><title>y</title>`, `<script><a href="/no"></script><a href="/yes">`,
		`<textarea><a href="/no"></textarea><style>a{}</style><a href=/ok>`, `<a href="/a" href="/b">`, "\x00<a href=\xff>",
		`<svg><title>icon</title></svg><title>page</title>`, `<svg><foreignObject><title>h</title></foreignObject></svg>`,
	} {
		f.Add(seed, false)
	}
	base, _ := url.Parse("http://site.test/dir/page")
	f.Fuzz(func(t *testing.T, doc string, followNofollow bool) {
		header := http.Header{"Link": {`</h>; rel="next"`}}
		want := parsePage([]byte(doc), "text/html; charset=utf-8", base, header, linkRules{followNofollow: followNofollow})
		got := scanPage([]byte(doc), "text/html; charset=utf-8", base, header, followNofollow)
		if got.title != want.title || got.canonical != want.canonical || !slices.EqualFunc(got.links, want.links, func(a, b *url.URL) bool { return a.String() == b.String() }) {
			t.Errorf("%q:\nscan  %q %q %v\nparse %q %q %v", doc, got.title, got.canonical, got.links, want.title, want.canonical, want.links)
		}
	})
}
