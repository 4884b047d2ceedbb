package crawler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fetchall/fetchall/fetch"
)

// robotsOf answers Allowed for one robots.txt body, in a bubble.
func robotsVerdict(t *testing.T, body, agent, path string) Verdict {
	t.Helper()
	var v Verdict
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 0 })
		site.files = map[string]string{"http://x/robots.txt": body}
		u, err := url.Parse("http://x" + path)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err = NewRobots(site, agent, time.Second).Allowed(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
	})
	return v
}

// Conformance with RFC 9309: its rules (2.2.2, 2.2.3, 2.3) and examples
// (5.1, 5.2), and the two mismatches found before (issue 11, item 5).
func TestRobotsFollowsRFC9309(t *testing.T) {
	const ua = "fetchall/1.0"
	big := "User-agent: *\n" + strings.Repeat("# padding to push the rule past 500 KiB\n", 14000) + "Disallow: /late\n"
	for _, tt := range []struct {
		name, body, path string
		want             Verdict
	}{
		{"$ anchors the end only", "User-agent: *\nDisallow: /x$\n", "/a/x", Allowed},
		{"$ matches the end", "User-agent: *\nDisallow: /x$\n", "/x", Disallowed},
		{"$ does not match longer", "User-agent: *\nDisallow: /x$\n", "/xy", Allowed},
		{"Allow of equal length after Disallow wins the tie", "User-agent: *\nDisallow: /folder\nAllow: /folder\n", "/folder/page", Allowed},
		{"longest match wins", "User-agent: *\nAllow: /p\nDisallow: /\n", "/page", Allowed},
		{"longest match wins the other way", "User-agent: *\nAllow: /\nDisallow: /cgi-bin\n", "/cgi-bin/x", Disallowed},
		{"* matches any sequence", "User-agent: *\nDisallow: /*.gif$\n", "/img/a.gif", Disallowed},
		{"* then $ with a query", "User-agent: *\nDisallow: /*.gif$\n", "/img/a.gif?x=1", Allowed},
		{"Allow / with $ and Disallow /", "User-agent: *\nDisallow: /\nAllow: /$\n", "/", Allowed},
		{"Allow /$ does not open the rest", "User-agent: *\nDisallow: /\nAllow: /$\n", "/page", Disallowed},
		{"percent-encoded rule matches the raw character", "User-agent: *\nDisallow: /%7Ejoe\n", "/~joe/index.html", Disallowed},
		{"UTF-8 rule matches its percent-encoding", "User-agent: *\nDisallow: /foo/bár\n", "/foo/b%C3%A1r", Disallowed},
		{"our group, not *", "User-agent: *\nDisallow: /\n\nUser-agent: fetchall\nDisallow: /private\n", "/public", Allowed},
		{"our group's rule", "User-agent: *\nDisallow: /\n\nUser-agent: fetchall\nDisallow: /private\n", "/private/x", Disallowed},
		{"groups of one agent are merged", "User-agent: fetchall\nDisallow: /a\n\nUser-agent: other\nDisallow: /\n\nUser-agent: fetchall\nDisallow: /b\n", "/b/1", Disallowed},
		{"agent match ignores case", "User-agent: FetchAll\nDisallow: /\n", "/x", Disallowed},
		{"another agent's group does not apply", "User-agent: googlebot\nDisallow: /\n", "/x", Allowed},
		{"empty Disallow allows", "User-agent: *\nDisallow:\n", "/x", Allowed},
		{"a rule past 500 KiB is not read", big, "/late", Allowed},
		{"the query is part of the path", "User-agent: *\nDisallow: /search?q=\n", "/search?q=go", Disallowed},
	} {
		if got := robotsVerdict(t, tt.body, ua, tt.path); got != tt.want {
			t.Errorf("%s: %s for %s = %v, want %v", tt.name, strings.ReplaceAll(tt.body[:min(len(tt.body), 80)], "\n", `\n`), tt.path, got, tt.want)
		}
	}
}

func TestCrawlDelayComesFromOurGroupElseStar(t *testing.T) {
	for _, tt := range []struct {
		body string
		want time.Duration
	}{
		{"User-agent: *\nCrawl-delay: 2\n", 2 * time.Second},
		{"User-agent: *\nCrawl-delay: 2\n\nUser-agent: fetchall\nCrawl-delay: 0.5\n", 500 * time.Millisecond},
		{"User-agent: *\nCrawl-delay: 2\n\nUser-agent: fetchall\nDisallow: /x\n", 0},
		{"User-agent: other\nUser-agent: fetchall\nCrawl-delay: 1\n", time.Second},
	} {
		synctest.Test(t, func(t *testing.T) {
			site := newFakeSite(func(string) time.Duration { return 0 })
			site.files = map[string]string{"http://x/robots.txt": tt.body}
			r := NewRobots(site, "fetchall/1.0", time.Hour)
			u, _ := url.Parse("http://x/")
			if _, _, err := r.Allowed(t.Context(), u); err != nil {
				t.Fatal(err)
			}
			if got := r.Delay(u); got != tt.want {
				t.Errorf("%q: Crawl-delay %s, want %s", tt.body, got, tt.want)
			}
		})
	}
}

// An unreachable robots.txt holds the whole site back and is tried again
// later in the crawl; once read, the site is crawled and the summary says
// on which try.
func TestUnreachableRobotsIsTriedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 10 * time.Millisecond })
		site.files = map[string]string{"http://x/robots.txt": "User-agent: *\nDisallow: /private\n"}
		site.status = func(u string, attempt int) (int, http.Header) {
			if strings.HasSuffix(u, "/robots.txt") && attempt == 1 {
				return 503, http.Header{}
			}
			return 200, http.Header{}
		}
		site.links["http://x/"] = []string{"http://x/a", "http://x/private/b"}
		scope, _ := NewScope(ScopeAny, nil, nil, nil)
		robots := NewRobots(site, "fetchall/test", time.Second)
		robots.RetryWaits = []time.Duration{10 * time.Second}
		start := time.Now()
		var waits []string // OnWait's calls, with the retry's time from the start
		robots.OnWait = func(site, why string, retryAt time.Time) {
			var at time.Duration
			if !retryAt.IsZero() {
				at = retryAt.Sub(start)
			}
			waits = append(waits, fmt.Sprintf("%s %q %s", site, why, at))
		}
		cfg := CrawlConfig{Config: Config{Workers: 4}, MaxDepth: -1, Scope: scope, Robots: robots}
		var sink collect
		stats, err := Crawl(t.Context(), cfg, site, []Task{{URL: "http://x/"}}, nil, &sink)
		if err != nil {
			t.Fatal(err)
		}
		if len(sink.results) != 2 || stats.RobotsBlocked != 1 {
			t.Errorf("%d records, %d blocked; want / and /a, and /private/b blocked", len(sink.results), stats.RobotsBlocked)
		}
		if first := site.startsOf("x")[1]; first.Sub(start) < 10*time.Second {
			t.Errorf("the first page was fetched %s after the start, before robots.txt could be read", first.Sub(start))
		}
		if notes := robots.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "read on try 2") {
			t.Errorf("notes %q, want the second try reported", notes)
		}
		// The progress line hears of the wait, and of its end.
		if want := []string{`http://x "status 503" 10.01s`, `http://x "" 0s`}; !slices.Equal(waits, want) {
			t.Errorf("OnWait told %q, want %q", waits, want)
		}
	})
}

// A seed robots.txt disallows is not fetched, and has a record saying so
// (a crawl of it was otherwise silent: no record, exit 0); a disallowed
// link is only counted, as the user did not ask for it.
func TestDisallowedSeedHasARecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 10 * time.Millisecond })
		site.files = map[string]string{"http://x/robots.txt": "User-agent: *\nDisallow: /private\n"}
		site.links["http://x/"] = []string{"http://x/private/b"}
		scope, _ := NewScope(ScopeAny, nil, nil, nil)
		robots := NewRobots(site, "fetchall/test", time.Second)
		cfg := CrawlConfig{Config: Config{Workers: 2}, MaxDepth: -1, Scope: scope, Robots: robots}
		var sink collect
		seeds := []Task{{URL: "http://x/", Line: 1}, {URL: "http://x/private/a", Line: 2}}
		stats, err := Crawl(t.Context(), cfg, site, seeds, nil, &sink)
		if err != nil {
			t.Fatal(err)
		}
		if stats.RobotsBlocked != 2 || stats.Pages != 1 || len(sink.results) != 2 {
			t.Fatalf("%d records, %d pages, %d blocked; want / fetched, the seed /private/a recorded, both /private URLs blocked", len(sink.results), stats.Pages, stats.RobotsBlocked)
		}
		var blocked *Result
		for _, r := range sink.results {
			if r.URL == "http://x/private/a" {
				blocked = r
			}
		}
		if blocked == nil || blocked.OK || blocked.Line != 2 || blocked.Attempts != 0 || blocked.Err == nil || blocked.Err.Kind != fetch.KindRobots {
			t.Errorf("the disallowed seed's record is %+v, want a robots error on line 2 and no request", blocked)
		}
		if got := site.startsOf("x"); len(got) != 2 { // robots.txt and /
			t.Errorf("%d requests, want robots.txt and / only", len(got))
		}
	})
}

// A robots.txt whose host does not resolve, refuses the connection or
// fails TLS is tried again soon, after 1 s and 5 s, then the site is
// given up (a mistyped port took 71 s to say so). A reset or a timeout is
// tried again after 10 s and 1 min.
func TestLastingRobotsFailureIsRetriedSoon(t *testing.T) {
	for _, tt := range []struct {
		kind      fetch.Kind
		wantTries int
		wantTook  time.Duration
	}{
		{fetch.KindRefused, 3, 6 * time.Second},
		{fetch.KindDNS, 3, 6 * time.Second},
		{fetch.KindTLS, 3, 6 * time.Second},
		{fetch.KindReset, 3, 70 * time.Second},
		{fetch.KindTimeout, 3, 70 * time.Second},
	} {
		t.Run(string(tt.kind), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var robotsTries atomic.Int32
				f := fakeFetcher(func(_ context.Context, u string) *fetch.Result {
					res := &fetch.Result{URL: u, FinalURL: u, Attempts: 1, Header: http.Header{}}
					if strings.HasSuffix(u, "/robots.txt") {
						robotsTries.Add(1)
						res.Err = &fetch.Error{Kind: tt.kind, Err: errors.New(string(tt.kind))}
						return res
					}
					res.Status, res.ContentType, res.Body = 200, "text/html", []byte("<title>x</title>")
					return res
				})
				scope, _ := NewScope(ScopeAny, nil, nil, nil)
				robots := NewRobots(f, "fetchall/test", time.Second)
				cfg := CrawlConfig{Config: Config{Workers: 2}, MaxDepth: -1, Scope: scope, Robots: robots}
				var sink collect
				start := time.Now()
				stats, err := Crawl(t.Context(), cfg, f, []Task{{URL: "http://x/"}}, nil, &sink)
				if err != nil {
					t.Fatal(err)
				}
				took := time.Since(start)
				if got := int(robotsTries.Load()); got != tt.wantTries || took != tt.wantTook {
					t.Errorf("robots.txt fetched %d times, crawl took %s; want %d times in %s", got, took, tt.wantTries, tt.wantTook)
				}
				// The seed is not fetched, and its record says why.
				if len(sink.results) != 1 || stats.SiteDeferred != 1 || stats.Pages != 0 {
					t.Fatalf("%d records, %d deferred, %d pages; want the seed's record only, deferred", len(sink.results), stats.SiteDeferred, stats.Pages)
				}
				if r := sink.results[0]; r.OK || r.Attempts != 0 || r.Err == nil || r.Err.Kind != fetch.KindRobots || !strings.Contains(r.Err.Error(), "("+string(tt.kind)+")") {
					t.Errorf("seed record %+v (%v), want a robots error naming %s", r, r.Err, tt.kind)
				}
				if notes := robots.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "("+string(tt.kind)+")") || !strings.Contains(notes[0], "site not crawled") {
					t.Errorf("notes %q, want the site given up for %s", notes, tt.kind)
				}
			})
		})
	}
}

// A robots.txt is read again once it is MaxAge old (RFC 9309 2.4: no more
// than 24 hours), so a long crawl obeys a site's new rules; a file that
// cannot be read then keeps the rules read before. It was read once per
// run, however long.
func TestRobotsIsReadAgainWhenTooOld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fetches int
		rules := "User-agent: *\nDisallow: /old\n"
		unreachable := false
		f := fakeFetcher(func(_ context.Context, u string) *fetch.Result {
			fetches++
			if unreachable {
				return &fetch.Result{URL: u, Status: 503, Attempts: 1}
			}
			return &fetch.Result{URL: u, Status: 200, Attempts: 1, Body: []byte(rules), ContentType: "text/plain"}
		})
		robots := NewRobots(f, "fetchall/test", time.Second)
		robots.MaxAge = time.Hour
		verdict := func(path string) Verdict {
			u, _ := url.Parse("http://x" + path)
			v, _, err := robots.Allowed(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if verdict("/old") != Disallowed || verdict("/new") != Allowed || fetches != 1 {
			t.Fatalf("first reading: /old %v, /new %v, %d fetches", verdict("/old"), verdict("/new"), fetches)
		}
		rules = "User-agent: *\nDisallow: /new\n"
		time.Sleep(59 * time.Minute)
		if verdict("/new") != Allowed || fetches != 1 {
			t.Errorf("before MaxAge: /new %v after %d fetches; want the file read first, once", verdict("/new"), fetches)
		}
		time.Sleep(time.Minute)
		if verdict("/new") != Disallowed || verdict("/old") != Allowed || fetches != 2 {
			t.Errorf("at MaxAge: /new %v, /old %v after %d fetches; want the new rules, read again once", verdict("/new"), verdict("/old"), fetches)
		}
		unreachable = true
		time.Sleep(time.Hour)
		if v := verdict("/new"); v != Disallowed || verdict("/old") != Allowed || fetches != 3 {
			t.Errorf("unreadable at MaxAge: /new %v after %d fetches; want the rules read before, and one try", v, fetches)
		}
	})
}

// Past MaxSites the least recently used answers are forgotten, and read
// again should their sites come back; one waiting for its next try is
// kept, so that the wait holds. A wide crawl kept every site's answer.
func TestRobotsKeepsMaxSitesAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fetches := map[string]int{}
		f := fakeFetcher(func(_ context.Context, u string) *fetch.Result {
			host := hostOf(u)
			fetches[host]++
			if host == "down" {
				return &fetch.Result{URL: u, Status: 503, Attempts: 1}
			}
			return &fetch.Result{URL: u, Status: 200, Attempts: 1, Body: []byte("User-agent: *\nDisallow: /no\n"), ContentType: "text/plain"}
		})
		robots := NewRobots(f, "fetchall/test", time.Second)
		robots.MaxSites = 3
		ask := func(host string) Verdict {
			u, _ := url.Parse("http://" + host + "/no")
			v, _, err := robots.Allowed(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		for _, host := range []string{"down", "a", "b", "a", "c", "d"} {
			ask(host)
		}
		// c's reading forgot b, the least recently used, and d's forgot
		// a; down waits for its next try, and is kept.
		robots.mu.Lock()
		kept := slices.Sorted(maps.Keys(robots.sites))
		robots.mu.Unlock()
		if want := []string{"http://c", "http://d", "http://down"}; !slices.Equal(kept, want) {
			t.Errorf("answers kept: %q, want %q", kept, want)
		}
		if v := ask("b"); v != Disallowed || fetches["b"] != 2 {
			t.Errorf("b after it was forgotten: %v, read %d times; want its rules, read again", v, fetches["b"])
		}
		if v := ask("down"); v != SiteUnavailable || fetches["down"] != 1 {
			t.Errorf("down, waiting for its next try: %v, read %d times; want it kept waiting, read once", v, fetches["down"])
		}
	})
}

// A file kept after an unreadable second reading is still one site among
// those kept: forgetting sites later goes on whole (it lost its place in
// the list, and a later forgetting met a site no longer kept).
func TestRobotsKeptAfterAFailedReadingIsForgottenWhole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := false
		f := fakeFetcher(func(_ context.Context, u string) *fetch.Result {
			if down && hostOf(u) == "x" {
				return &fetch.Result{URL: u, Status: 503, Attempts: 1}
			}
			return &fetch.Result{URL: u, Status: 200, Attempts: 1, Body: []byte("User-agent: *\nDisallow: /no\n"), ContentType: "text/plain"}
		})
		robots := NewRobots(f, "fetchall/test", time.Second)
		robots.MaxAge, robots.MaxSites = time.Hour, 1
		ask := func(host string) Verdict {
			u, _ := url.Parse("http://" + host + "/no")
			v, _, err := robots.Allowed(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		ask("x")
		down = true
		time.Sleep(time.Hour)
		if v := ask("x"); v != Disallowed {
			t.Fatalf("x, unreadable at MaxAge: %v, want the rules read before", v)
		}
		down = false // a forgotten x is read anew
		for _, host := range []string{"x", "y", "z", "x", "y"} {
			if v := ask(host); v != Disallowed {
				t.Fatalf("%s: %v, want its rules", host, v)
			}
		}
		robots.mu.Lock()
		defer robots.mu.Unlock()
		if len(robots.sites) != 1 || robots.used.Len() != 1 {
			t.Errorf("%d sites kept, %d in the list; want 1 and 1", len(robots.sites), robots.used.Len())
		}
	})
}
