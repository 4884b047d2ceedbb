package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/testsite"
)

type crawlSetup struct {
	site *testsite.Site
	base string
	cfg  CrawlConfig
	f    *fetch.Client
}

func newCrawl(t *testing.T, opts testsite.Options, workers int) *crawlSetup {
	t.Helper()
	site := testsite.NewWith(opts)
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	pages, err := fetch.New(fetch.Config{MaxRedirects: -1, Concurrency: workers, UserAgent: "fetchall/test"})
	if err != nil {
		t.Fatal(err)
	}
	follow, _ := fetch.New(fetch.Config{UserAgent: "fetchall/test"})
	t.Cleanup(pages.CloseIdleConnections)
	t.Cleanup(follow.CloseIdleConnections)
	scope, _ := NewScope(ScopeHost, nil, nil, nil)
	cfg := CrawlConfig{Config: Config{Workers: workers}, MaxDepth: -1, Scope: scope,
		Robots: NewRobots(follow, "fetchall/test", 10*time.Second)}
	return &crawlSetup{site: site, base: srv.URL, cfg: cfg, f: pages}
}

func (s *crawlSetup) run(t *testing.T, seeds ...string) (CrawlStats, []*Result) {
	t.Helper()
	var tasks []Task
	for _, seed := range seeds {
		tasks = append(tasks, Task{URL: s.base + seed})
	}
	var sink collect
	stats, err := Crawl(t.Context(), s.cfg, s.f, tasks, nil, &sink)
	if err != nil {
		t.Fatalf("Crawl error = %v", err)
	}
	return stats, sink.results
}

// served is what the site answered, robots.txt and sitemaps excepted.
func served(site *testsite.Site) map[string]int {
	out := site.URICounts()
	for _, meta := range []string{"/robots.txt", "/sitemap.xml", "/sitemap-pages.xml.gz"} {
		delete(out, meta)
	}
	return out
}

func compareWithTruth(t *testing.T, s *crawlSetup, results []*Result, truth map[string]int) {
	t.Helper()
	got := served(s.site)
	for uri, n := range got {
		if n != 1 {
			t.Errorf("%s fetched %d times, want once", uri, n)
		}
		if _, ok := truth[uri]; !ok {
			t.Errorf("%s fetched, but it is not in the site's ground truth (disallowed, external or too deep)", uri)
		}
	}
	for uri := range truth {
		if got[uri] == 0 {
			t.Errorf("%s not fetched, but it is reachable and allowed", uri)
		}
	}
	if len(results) != len(truth) {
		t.Errorf("%d records, want one per page: %d", len(results), len(truth))
	}
	for _, r := range results {
		u, _ := url.Parse(r.URL)
		if want, ok := truth[u.RequestURI()]; ok && r.Depth != want {
			t.Errorf("%s at depth %d, want %d", u.RequestURI(), r.Depth, want)
		}
	}
}

func TestCrawlFetchesTheWholeSiteExactlyOnce(t *testing.T) {
	for _, workers := range []int{1, 64} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			s := newCrawl(t, testsite.Options{Pages: 150}, workers)
			stats, results := s.run(t, "/")
			truth := s.site.Truth(-1, false, false)
			compareWithTruth(t, s, results, truth)
			if stats.RobotsBlocked == 0 || stats.OutOfScope == 0 {
				t.Errorf("stats %+v: want robots-blocked and out-of-scope links counted", stats)
			}
			// The feed variant of a page: its tracking parameter is dropped
			// before the seen check, so it is never asked for.
			for _, never := range []string{"/site/private/secret", "/endpoints", "/site/nofollow-only", "/site/style.css", "/site/0?utm_source=feed"} {
				if n := s.site.URICounts()[never]; n != 0 {
					t.Errorf("%s fetched %d times, want never", never, n)
				}
			}
			for _, must := range []string{"/site/hidden", "/site/kinds/link", "/site/kinds/area", "/site/kinds/iframe",
				"/site/kinds/refresh", "/site/kinds/header", "/site/kinds/frame"} {
				if _, ok := truth[must]; !ok {
					t.Errorf("ground truth lacks %s: the site no longer tests that link kind", must)
				}
			}
		})
	}
}

func TestCrawlMaxDepthIsExact(t *testing.T) {
	// A record describes its page whatever its depth: a page at the
	// last depth, whose links are not followed, still counts them and
	// gives its canonical link, as it does when the crawl goes deeper.
	type described struct {
		links     int
		canonical string
	}
	whole := map[string]described{}
	_, all := newCrawl(t, testsite.Options{Pages: 150}, 16).run(t, "/")
	for _, r := range all {
		whole[pathOf(r.URL)] = described{r.Links, r.Canonical}
	}
	for _, depth := range []int{0, 1, 2, 3} {
		t.Run(fmt.Sprintf("depth=%d", depth), func(t *testing.T) {
			s := newCrawl(t, testsite.Options{Pages: 150}, 16)
			s.cfg.MaxDepth = depth
			_, results := s.run(t, "/")
			compareWithTruth(t, s, results, s.site.Truth(depth, false, false))
			for _, r := range results {
				got, want := described{r.Links, r.Canonical}, whole[pathOf(r.URL)]
				if got != want {
					t.Errorf("%s at depth %d: links %d, canonical %q; the whole crawl says %d, %q", r.URL, r.Depth, got.links, got.canonical, want.links, want.canonical)
				}
			}
		})
	}
}

// pathOf is a URL's path and query: the test sites' ports differ.
func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.RequestURI()
}

func TestCrawlMaxPagesIsExact(t *testing.T) {
	for _, n := range []int{1, 7, 50} {
		s := newCrawl(t, testsite.Options{Pages: 150}, 16)
		s.cfg.MaxPages = n
		stats, results := s.run(t, "/")
		if len(results) != n || stats.Pages != n {
			t.Errorf("MaxPages %d: %d records, stats.Pages %d", n, len(results), stats.Pages)
		}
		total := 0
		for _, c := range served(s.site) {
			total += c
		}
		if total != n {
			t.Errorf("MaxPages %d: the server answered %d page requests", n, total)
		}
	}
}

func TestCrawlFollowSitemaps(t *testing.T) {
	s := newCrawl(t, testsite.Options{Pages: 40}, 8)
	follow, _ := fetch.New(fetch.Config{UserAgent: "fetchall/test"})
	defer follow.CloseIdleConnections()
	src := NewSitemapSource(Tasks(Task{URL: s.base + "/"}), follow, s.cfg.Robots)
	var sink collect
	if _, err := Run(t.Context(), s.cfg, s.f, src, nil, &sink); err != nil {
		t.Fatal(err)
	}
	if notes := src.Notes(); len(notes) != 0 {
		t.Errorf("sitemap notes: %q", notes)
	}
	compareWithTruth(t, s, sink.results, s.site.Truth(-1, false, true))
	if s.site.URICounts()["/site/orphan"] != 1 {
		t.Error("/site/orphan, listed only in the gzipped sitemap, was not fetched")
	}
}

// readSitemap decodes a whole sitemap into its children and pages.
func readSitemap(body string) (children, pages []string, err error) {
	r, err := newSitemapReader("http://a/sitemap.xml", &fetch.Result{Body: []byte(body)})
	if err != nil {
		return nil, nil, err
	}
	defer r.close()
	for {
		loc, child, err := r.next()
		switch {
		case errors.Is(err, io.EOF):
			return children, pages, nil
		case err != nil:
			return nil, nil, err
		case child:
			children = append(children, loc)
		default:
			pages = append(pages, loc)
		}
	}
}

func TestReadSitemap(t *testing.T) {
	children, pages, err := readSitemap(`<?xml version="1.0"?><sitemapindex><sitemap><loc> http://a/s1.xml </loc></sitemap></sitemapindex>`)
	if err != nil || !slices.Equal(children, []string{"http://a/s1.xml"}) || len(pages) != 0 {
		t.Errorf("index: %q %q %v", children, pages, err)
	}
	_, pages, err = readSitemap(`<urlset><url><loc>http://a/1</loc><lastmod>2024</lastmod></url><url><loc>http://a/2</loc></url></urlset>`)
	if err != nil || !slices.Equal(pages, []string{"http://a/1", "http://a/2"}) {
		t.Errorf("urlset: %q %v", pages, err)
	}
	// Issue 11, item 8: other namespaces' <loc> are not pages.
	_, pages, err = readSitemap(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">` +
		`<url><loc>http://a/page</loc><image:image><image:loc>http://a/photo.jpg</image:loc></image:image></url></urlset>`)
	if err != nil || !slices.Equal(pages, []string{"http://a/page"}) {
		t.Errorf("urlset with images: %q %v, want the page alone", pages, err)
	}
	if _, _, err := readSitemap(`<urlset><url><loc>`); err == nil {
		t.Error("truncated sitemap parsed without error")
	}
}

func TestCrawlFollowNofollow(t *testing.T) {
	s := newCrawl(t, testsite.Options{Pages: 50}, 8)
	s.cfg.FollowNofollow = true
	_, results := s.run(t, "/")
	compareWithTruth(t, s, results, s.site.Truth(-1, true, false))
}

func TestCrawlIgnoringRobotsFetchesDisallowed(t *testing.T) {
	s := newCrawl(t, testsite.Options{Pages: 20}, 4)
	s.cfg.Robots = nil
	s.run(t, "/")
	if n := s.site.URICounts()["/site/private/secret"]; n != 1 {
		t.Errorf("without robots, /site/private/secret fetched %d times, want 1", n)
	}
}

func TestCrawlDelayIsHonoured(t *testing.T) {
	s := newCrawl(t, testsite.Options{Pages: 3, SlowbotDelay: 300 * time.Millisecond}, 8)
	pages, _ := fetch.New(fetch.Config{MaxRedirects: -1, UserAgent: "slowbot/1.0"})
	follow, _ := fetch.New(fetch.Config{UserAgent: "slowbot/1.0"})
	defer pages.CloseIdleConnections()
	defer follow.CloseIdleConnections()
	s.f = pages
	s.cfg.Robots = NewRobots(follow, "slowbot/1.0", 10*time.Second)
	s.cfg.MaxPages = 4
	_, results := s.run(t, "/")
	if len(results) != 4 {
		t.Fatalf("got %d records, want 4", len(results))
	}
	// The spacing itself is TestCrawlDelaySpacesTheHost's, in virtual time.
	if notes := s.cfg.Robots.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "Crawl-delay 300ms honoured") {
		t.Errorf("robots notes = %q", notes)
	}
}

func TestCrawlDelayIsCapped(t *testing.T) {
	s := newCrawl(t, testsite.Options{Pages: 3, SlowbotDelay: time.Hour}, 2)
	follow, _ := fetch.New(fetch.Config{UserAgent: "slowbot/1.0"})
	defer follow.CloseIdleConnections()
	s.cfg.Robots = NewRobots(follow, "slowbot/1.0", 50*time.Millisecond)
	u, _ := url.Parse(s.base + "/")
	if v, _, err := s.cfg.Robots.Allowed(t.Context(), u); err != nil || v != Allowed {
		t.Fatalf("Allowed(/) = %v, %v", v, err)
	}
	if notes := s.cfg.Robots.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "Crawl-delay 1h0m0s capped at 50ms") {
		t.Errorf("robots notes = %q, want the cap reported", notes)
	}
}

// A Crawl-delay past a day is read as a day, and said so: the summary
// said "Crawl-delay 24h0m0s" of a file asking 100000 seconds.
func TestCrawlDelayPastADayIsSaidSo(t *testing.T) {
	s := newCrawl(t, testsite.Options{Pages: 3, SlowbotDelay: 48 * time.Hour}, 2)
	follow, _ := fetch.New(fetch.Config{UserAgent: "slowbot/1.0"})
	defer follow.CloseIdleConnections()
	s.cfg.Robots = NewRobots(follow, "slowbot/1.0", 50*time.Millisecond)
	u, _ := url.Parse(s.base + "/")
	if _, _, err := s.cfg.Robots.Allowed(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if notes := s.cfg.Robots.Notes(); len(notes) != 1 || !strings.HasSuffix(notes[0], ": Crawl-delay of a day or more capped at 50ms") {
		t.Errorf("robots notes = %q, want the delay said as a day or more", notes)
	}
}

func TestCrawlSeedThatRedirectsKeepsItsSite(t *testing.T) {
	site := testsite.NewWith(testsite.Options{Pages: 30})
	srv := httptest.NewServer(site)
	defer srv.Close()
	// The seed's host is "localhost"; it redirects to 127.0.0.1, as a bare
	// domain redirects to www.
	front := httptest.NewServer(redirectTo(srv.URL))
	defer front.Close()
	s := newCrawl(t, testsite.Options{Pages: 30}, 8)
	s.site, s.base = site, strings.Replace(front.URL, "127.0.0.1", "localhost", 1)
	_, results := s.run(t, "/")
	truth := site.Truth(-1, false, false)
	got := served(site)
	if len(got) != len(truth) {
		t.Errorf("after a redirecting seed, fetched %d pages of the site, want all %d", len(got), len(truth))
	}
	if len(results) != len(truth)+1 {
		t.Errorf("%d records, want the redirect plus %d pages", len(results), len(truth))
	}
}

func TestCrawlRedirectLoopEnds(t *testing.T) {
	s := newCrawl(t, testsite.Options{Pages: 5}, 4)
	s.cfg.Robots = nil
	// /redirect/30 is a chain of 30 distinct redirects: the limit stops it.
	s.cfg.MaxRedirects = 5
	_, results := s.run(t, "/redirect/30")
	if len(results) != 6 {
		t.Fatalf("got %d records, want 6 (5 redirects followed, then the limit)", len(results))
	}
	last := results[len(results)-1]
	if last.Err == nil || last.Err.Kind != fetch.KindTooManyRedirects {
		t.Errorf("last record %+v, want too_many_redirects", last)
	}
}

func TestCrawlStopsOnCancelWithoutLeaks(t *testing.T) {
	s := newCrawl(t, testsite.Options{Pages: 2000, Latency: 20 * time.Millisecond}, 8)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	var sink collect
	_, err := Crawl(ctx, s.cfg, s.f, []Task{{URL: s.base + "/"}}, nil, &sink)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Crawl error = %v, want DeadlineExceeded", err)
	}
	// Stopped early: the whole site takes seconds at 8 x 20 ms. (A bound
	// near what 300 ms allows failed on a loaded machine, where the
	// deadline's timer fires late.)
	if len(sink.results) == 0 || len(sink.results) >= 2000 {
		t.Errorf("%d records before the deadline, want some and not the whole site", len(sink.results))
	}
}

func TestScope(t *testing.T) {
	parse := func(s string) *url.URL { u, _ := url.Parse(s); return u }
	tests := []struct {
		mode    string
		allow   []string
		include []string
		exclude []string
		url     string
		want    bool
	}{
		{ScopeHost, nil, nil, nil, "http://example.org/x", true},
		{ScopeHost, nil, nil, nil, "http://www.example.org/x", false},
		{ScopeHost, nil, nil, nil, "http://example.org:8080/x", false},
		{ScopeDomain, nil, nil, nil, "http://www.example.org/x", true},
		{ScopeDomain, nil, nil, nil, "http://example.co.uk/", false},
		{ScopeAny, nil, nil, nil, "http://anything.test/", true},
		{ScopeHost, []string{"*.cdn.test"}, nil, nil, "http://img.cdn.test/a", true},
		{ScopeHost, []string{"*.cdn.test"}, nil, nil, "http://cdn.test/a", true},
		{ScopeHost, nil, []string{"/blog/"}, nil, "http://example.org/about", false},
		{ScopeHost, nil, []string{"/blog/"}, nil, "http://example.org/blog/1", true},
		{ScopeHost, nil, nil, []string{`\.pdf$`}, "http://example.org/a.pdf", false},
	}
	for _, tt := range tests {
		s, err := NewScope(tt.mode, tt.allow, tt.include, tt.exclude)
		if err != nil {
			t.Fatal(err)
		}
		s.AddSeed(parse("http://example.org/"))
		if got := s.Allows(parse(tt.url)); got != tt.want {
			t.Errorf("scope %s allow %v include %v exclude %v: Allows(%s) = %v, want %v",
				tt.mode, tt.allow, tt.include, tt.exclude, tt.url, got, tt.want)
		}
	}
	for _, bad := range [][]string{{"nope"}, {ScopeHost, "("}} {
		var err error
		if len(bad) == 1 {
			_, err = NewScope(bad[0], nil, nil, nil)
		} else {
			_, err = NewScope(bad[0], nil, []string{bad[1]}, nil)
		}
		if err == nil {
			t.Errorf("NewScope(%q) = nil error", bad)
		}
	}
}

// redirectTo answers every request with a 301 to the same path on target.
func redirectTo(target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusMovedPermanently)
	})
}

// RFC 9309: a 4xx robots.txt allows everything; an unreachable one
// (5xx, 429 after retries, a reset, a timeout) disallows the whole site,
// and the summary says so.
func TestRobotsStatusPolicy(t *testing.T) {
	for _, tt := range []struct {
		name     string
		answer   func(w http.ResponseWriter)
		wantPage bool
	}{
		{"404", func(w http.ResponseWriter) { w.WriteHeader(404) }, true},
		{"403", func(w http.ResponseWriter) { w.WriteHeader(403) }, true},
		{"503", func(w http.ResponseWriter) { w.WriteHeader(503) }, false},
		{"500", func(w http.ResponseWriter) { w.WriteHeader(500) }, false},
		{"429", func(w http.ResponseWriter) { w.WriteHeader(429) }, false},
		{"reset", func(w http.ResponseWriter) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}, false},
		{"timeout", func(w http.ResponseWriter) { time.Sleep(300 * time.Millisecond) }, false},
		// Redirects that lead nowhere: RFC 9309 2.3.1.2 takes the file as
		// unavailable, as a 4xx.
		{"redirect loop", func(w http.ResponseWriter) {
			w.Header().Set("Location", "/robots.txt")
			w.WriteHeader(http.StatusFound)
		}, true},
		{"redirect to ftp", func(w http.ResponseWriter) {
			w.Header().Set("Location", "ftp://127.0.0.1/robots.txt")
			w.WriteHeader(http.StatusMovedPermanently)
		}, true},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/robots.txt" {
				tt.answer(w)
				return
			}
			_, _ = w.Write([]byte("<title>page</title>"))
		}))
		follow, _ := fetch.New(fetch.Config{Timeout: 100 * time.Millisecond})
		scope, _ := NewScope(ScopeHost, nil, nil, nil)
		robots := NewRobots(follow, "fetchall/test", time.Second)
		robots.RetryWaits = nil // give up at once: the retries are TestUnreachableRobotsIsTriedAgain's
		cfg := CrawlConfig{Config: Config{Workers: 2}, MaxDepth: 0, Scope: scope, Robots: robots}
		var sink collect
		stats, err := Crawl(t.Context(), cfg, follow, []Task{{URL: srv.URL + "/"}}, nil, &sink)
		srv.Close()
		follow.CloseIdleConnections()
		if err != nil {
			t.Fatal(err)
		}
		if len(sink.results) != 1 {
			t.Fatalf("robots.txt %s: %d records, want the seed's one", tt.name, len(sink.results))
		}
		r := sink.results[0]
		if got := r.Status == http.StatusOK; got != tt.wantPage {
			t.Errorf("robots.txt %s: page fetched %v, want %v", tt.name, got, tt.wantPage)
		}
		if !tt.wantPage && (r.Err == nil || r.Err.Kind != fetch.KindRobots || r.Attempts != 0) {
			t.Errorf("robots.txt %s: seed record %+v, want a robots error and no request", tt.name, r)
		}
		if !tt.wantPage && (stats.SiteDeferred != 1 || len(robots.Notes()) != 1 || !strings.Contains(robots.Notes()[0], "unreachable")) {
			t.Errorf("robots.txt %s: stats %+v notes %q, want the site not crawled and said so", tt.name, stats, robots.Notes())
		}
		if strings.HasPrefix(tt.name, "redirect") && (len(robots.Notes()) != 1 || !strings.Contains(robots.Notes()[0], "taken as absent")) {
			t.Errorf("robots.txt %s: notes %q, want the file said to be taken as absent", tt.name, robots.Notes())
		}
	}
}
