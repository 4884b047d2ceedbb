package crawler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/limiter"
)

// fakeSite is a web of pages in memory: each answers after its latency
// with its links, and it records when every request started and ended and
// the most requests in flight at once, overall and per host. Inside a
// synctest bubble its times are exact.
type fakeSite struct {
	latency func(url string) time.Duration
	links   map[string][]string
	files   map[string]string // bodies served as they are (robots.txt)
	status  func(url string, attempt int) (int, http.Header)

	mu       sync.Mutex
	attempts map[string]int
	starts   map[string][]time.Time
	inFlight map[string]int
	peakHost map[string]int
	busy     int
	peakBusy int
}

func newFakeSite(latency func(string) time.Duration) *fakeSite {
	return &fakeSite{latency: latency, links: map[string][]string{}, attempts: map[string]int{},
		starts: map[string][]time.Time{}, inFlight: map[string]int{}, peakHost: map[string]int{}}
}

func (s *fakeSite) Get(ctx context.Context, rawURL string, _ fetch.KeepBody) *fetch.Result {
	host := hostOf(rawURL)
	s.mu.Lock()
	s.attempts[rawURL]++
	attempt := s.attempts[rawURL]
	s.starts[host] = append(s.starts[host], time.Now())
	s.inFlight[host]++
	s.peakHost[host] = max(s.peakHost[host], s.inFlight[host])
	s.busy++
	s.peakBusy = max(s.peakBusy, s.busy)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight[host]--
		s.busy--
		s.mu.Unlock()
	}()

	res := &fetch.Result{URL: rawURL, FinalURL: rawURL, Attempts: 1, Header: http.Header{}}
	select {
	case <-time.After(s.latency(rawURL)):
	case <-ctx.Done():
		res.Err = &fetch.Error{Kind: fetch.KindCanceled, Err: ctx.Err()}
		return res
	}
	res.Status = 200
	if s.status != nil {
		res.Status, res.Header = s.status(rawURL, attempt)
		if ra := res.Header.Get("Retry-After"); ra != "" {
			var secs int
			fmt.Sscan(ra, &secs)
			res.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	if res.Status != 200 {
		return res
	}
	if body, ok := s.files[rawURL]; ok {
		res.ContentType, res.Body, res.Bytes = "text/plain", []byte(body), int64(len(body))
		return res
	}
	if strings.HasSuffix(rawURL, "/robots.txt") {
		res.Status = 404
		return res
	}
	res.ContentType = "text/html"
	var b strings.Builder
	b.WriteString("<title>" + rawURL + "</title>")
	for _, l := range s.links[rawURL] {
		b.WriteString(`<a href="` + l + `">x</a>`)
	}
	res.Body = []byte(b.String())
	res.Bytes = int64(len(res.Body))
	return res
}

func (s *fakeSite) startsOf(host string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.starts[host]...)
}

// runList runs the engine on a list inside the bubble and returns the
// records and how long the run took.
func runList(t *testing.T, cfg Config, f Fetcher, lines []string) ([]*Result, time.Duration) {
	t.Helper()
	var sink collect
	start := time.Now()
	if err := FetchList(t.Context(), cfg, f, listOf(lines...), &sink); err != nil {
		t.Fatalf("FetchList error = %v", err)
	}
	return sink.results, time.Since(start)
}

// A list sorted by host, 5 hosts of 40 URLs at 50ms, 10 workers and one
// request per host: the other hosts' URLs are leased while the first host
// is busy, so the run takes its per-host ideal, 40 x 50ms, to the tick.
func TestSortedListRunsAtThePerHostIdeal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 50 * time.Millisecond })
		var lines []string
		for h := 1; h <= 5; h++ {
			for i := range 40 {
				lines = append(lines, fmt.Sprintf("http://10.0.0.%d/%d", h, i))
			}
		}
		results, took := runList(t, Config{Workers: 10, Limits: limiter.Config{PerHost: 1}}, site, lines)
		if len(results) != 200 {
			t.Fatalf("%d records, want 200", len(results))
		}
		if want := 40 * 50 * time.Millisecond; took != want {
			t.Errorf("sorted list took %s, want the per-host ideal %s", took, want)
		}
		// Issue 11, item 9: time queued for the host is not latency.
		for _, r := range results {
			if r.Duration != 50*time.Millisecond {
				t.Errorf("%s: duration %s, want the request's own 50ms", r.URL, r.Duration)
				break
			}
		}
		for h, peak := range site.peakHost {
			if peak != 1 {
				t.Errorf("host %s had %d requests in flight at once, want 1 (--per-host 1)", h, peak)
			}
		}
		if site.peakBusy != 5 {
			t.Errorf("peak requests in flight = %d, want 5 (one per host)", site.peakBusy)
		}
	})
}

// Every eligible URL has a worker: 3 workers, 3 hosts, per-host 1, and
// the first host's URLs three times slower. No worker idles while another
// host's URL waits.
func TestNoWorkerIdlesWhileAnEligibleURLWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(u string) time.Duration {
			if strings.Contains(u, "//slow/") {
				return 300 * time.Millisecond
			}
			return 100 * time.Millisecond
		})
		var lines []string
		for i := range 4 {
			lines = append(lines, fmt.Sprintf("http://slow/%d", i))
		}
		for i := range 12 {
			lines = append(lines, fmt.Sprintf("http://fast%d/%d", i%2, i))
		}
		results, took := runList(t, Config{Workers: 3, Limits: limiter.Config{PerHost: 1}}, site, lines)
		if len(results) != len(lines) {
			t.Errorf("%d records for %d lines: workers left with work queued", len(results), len(lines))
		}
		// slow: 4 x 300ms; each fast host: 6 x 100ms alongside.
		if want := 1200 * time.Millisecond; took != want {
			t.Errorf("took %s, want %s: a worker waited for a busy host", took, want)
		}
	})
}

func TestPerHostSpacingHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 10 * time.Millisecond })
		var lines []string
		for i := range 5 {
			lines = append(lines, fmt.Sprintf("http://a/%d", i), fmt.Sprintf("http://b/%d", i))
		}
		_, took := runList(t, Config{Workers: 4, Limits: limiter.Config{Delay: 200 * time.Millisecond}}, site, lines)
		for _, host := range []string{"a", "b"} {
			starts := site.startsOf(host)
			for i := 1; i < len(starts); i++ {
				if gap := starts[i].Sub(starts[i-1]); gap != 200*time.Millisecond {
					t.Errorf("host %s: request %d started %s after the one before, want 200ms", host, i+1, gap)
				}
			}
		}
		if want := 4*200*time.Millisecond + 10*time.Millisecond; took != want {
			t.Errorf("took %s, want %s (both hosts spaced side by side)", took, want)
		}
	})
}

// A 429 with Retry-After holds its host back and no other; the retry
// waits in the host's queue, not in a worker, so with one worker the other
// host's URLs go meanwhile.
func TestCoolDownHoldsOneHostAndTheRetryWaitsInTheQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 100 * time.Millisecond })
		site.status = func(u string, attempt int) (int, http.Header) {
			if u == "http://busy/0" && attempt == 1 {
				return 429, http.Header{"Retry-After": {"2"}}
			}
			return 200, http.Header{}
		}
		lines := []string{"http://busy/0", "http://busy/1"}
		for i := range 5 {
			lines = append(lines, fmt.Sprintf("http://calm/%d", i))
		}
		start := time.Now()
		results, took := runList(t, Config{Workers: 1, Retries: 1}, site, lines)
		if len(results) != 7 {
			t.Fatalf("%d records, want 7", len(results))
		}
		calm := site.startsOf("calm")
		if last := calm[len(calm)-1].Sub(start); last > 600*time.Millisecond {
			t.Errorf("the calm host's last request started at %s, want by 600ms: the cool-down or the retry held it back", last)
		}
		busy := site.startsOf("busy")
		if len(busy) != 3 || busy[1].Sub(busy[0]) < 2*time.Second {
			t.Errorf("busy host starts %v, want the second request 2s (Retry-After) after the 429", busy)
		}
		for _, r := range results {
			if r.URL == "http://busy/0" && (!r.OK || r.Attempts != 2 || r.Duration < 2*time.Second) {
				t.Errorf("retried record %+v, want ok after 2 attempts, its duration counting the wait", r)
			}
		}
		// The retry and busy/1 go one after the other once the cool-down ends.
		if want := 2100*time.Millisecond + 2*100*time.Millisecond; took != want {
			t.Errorf("took %s, want %s", took, want)
		}
	})
}

// runCrawl crawls site from seed inside the bubble.
func runCrawl(t *testing.T, site *fakeSite, workers, maxDepth int, seed string) ([]*Result, time.Duration) {
	t.Helper()
	scope, _ := NewScope(ScopeAny, nil, nil, nil)
	cfg := CrawlConfig{Config: Config{Workers: workers}, MaxDepth: maxDepth, Scope: scope}
	var sink collect
	start := time.Now()
	if _, err := Crawl(t.Context(), cfg, site, []Task{{URL: seed}}, nil, &sink); err != nil {
		t.Fatalf("Crawl error = %v", err)
	}
	return sink.results, time.Since(start)
}

// bfs is the true shortest depth of every page within maxDepth.
func bfs(links map[string][]string, seed string, maxDepth int) map[string]int {
	depth := map[string]int{seed: 0}
	queue := []string{seed}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if maxDepth >= 0 && depth[u] >= maxDepth {
			continue
		}
		for _, l := range links[u] {
			if _, ok := depth[l]; !ok {
				depth[l] = depth[u] + 1
				queue = append(queue, l)
			}
		}
	}
	return depth
}

// A slow page on the short path: E is first met through the fast chain
// B-C-D at depth 4 while A, which links to it at depth 2, is still in
// flight. E's record must say depth 2 and parent A, and --max-depth 3 must
// still reach F below E.
func TestDepthIsExactWhenTheShortPathIsSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(u string) time.Duration {
			if u == "http://x/a" {
				return time.Second
			}
			return 10 * time.Millisecond
		})
		site.links = map[string][]string{
			"http://x/":  {"http://x/a", "http://x/b"},
			"http://x/a": {"http://x/e"},
			"http://x/b": {"http://x/c"},
			"http://x/c": {"http://x/d"},
			"http://x/d": {"http://x/e"},
			"http://x/e": {"http://x/f"},
			"http://x/f": {"http://x/g"},
		}
		results, _ := runCrawl(t, site, 4, 3, "http://x/")
		got := map[string]*Result{}
		for _, r := range results {
			got[r.URL] = r
		}
		want := bfs(site.links, "http://x/", 3)
		if len(got) != len(want) {
			t.Errorf("fetched %d pages, want %d (%v)", len(got), len(want), want)
		}
		for u, d := range want {
			if r, ok := got[u]; !ok || r.Depth != d {
				t.Errorf("%s: record %+v, want depth %d", u, r, d)
			}
		}
		if r := got["http://x/e"]; r == nil || r.Parent != "http://x/a" {
			t.Errorf("e's record %+v, want parent a (the shorter path)", r)
		}
	})
}

// Random sites with random latencies, some very slow: every page within
// --max-depth is fetched once, at its true depth, and nothing deeper.
func TestDepthIsExactUnderAdversarialOrders(t *testing.T) {
	for seed := range uint64(30) {
		synctest.Test(t, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			const n = 120
			page := func(i int) string { return fmt.Sprintf("http://h%d/p%d", i%3, i) }
			slow := map[string]time.Duration{}
			site := newFakeSite(func(u string) time.Duration { return slow[u] })
			for i := range n {
				slow[page(i)] = time.Duration(1+rng.IntN(20)) * time.Millisecond
				if rng.IntN(10) == 0 {
					slow[page(i)] = time.Duration(200+rng.IntN(800)) * time.Millisecond
				}
				for range rng.IntN(5) {
					site.links[page(i)] = append(site.links[page(i)], page(rng.IntN(n)))
				}
			}
			maxDepth := 1 + rng.IntN(4)
			results, _ := runCrawl(t, site, 1+rng.IntN(8), maxDepth, page(0))
			want := bfs(site.links, page(0), maxDepth)
			got := map[string]int{}
			for _, r := range results {
				if _, dup := got[r.URL]; dup {
					t.Errorf("seed %d: %s has two records", seed, r.URL)
				}
				got[r.URL] = r.Depth
			}
			if len(got) != len(want) {
				t.Errorf("seed %d, max-depth %d: %d pages fetched, want %d", seed, maxDepth, len(got), len(want))
			}
			for u, d := range want {
				if g, ok := got[u]; !ok || g != d {
					t.Errorf("seed %d: %s at depth %d (fetched %v), want %d", seed, u, g, ok, d)
				}
			}
		})
	}
}

// robots.txt's Crawl-delay spaces the host's pages, counted from the
// first page, which started before the file was read.
func TestCrawlDelaySpacesTheHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 10 * time.Millisecond })
		site.files = map[string]string{"http://x/robots.txt": "User-agent: *\nCrawl-delay: 0.3\n"}
		site.links["http://x/"] = []string{"http://x/1", "http://x/2", "http://x/3"}
		scope, _ := NewScope(ScopeAny, nil, nil, nil)
		robots := NewRobots(site, "fetchall/test", 10*time.Second)
		cfg := CrawlConfig{Config: Config{Workers: 8}, MaxDepth: -1, Scope: scope, Robots: robots}
		var sink collect
		if _, err := Crawl(t.Context(), cfg, site, []Task{{URL: "http://x/"}}, nil, &sink); err != nil {
			t.Fatal(err)
		}
		starts := site.startsOf("x")[1:] // robots.txt first
		if len(starts) != 4 {
			t.Fatalf("%d page requests, want 4", len(starts))
		}
		for i := 1; i < len(starts); i++ {
			if gap := starts[i].Sub(starts[i-1]); gap != 300*time.Millisecond {
				t.Errorf("page %d started %s after the one before, want 300ms (Crawl-delay)", i+1, gap)
			}
		}
	})
}

// With several pages of a host ready at once, its first request goes
// alone, so that a Crawl-delay learnt with it spaces all the others.
func TestCrawlDelayHoldsFromTheFirstPage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 10 * time.Millisecond })
		site.files = map[string]string{"http://x/robots.txt": "User-agent: *\nCrawl-delay: 0.3\n"}
		scope, _ := NewScope(ScopeAny, nil, nil, nil)
		robots := NewRobots(site, "fetchall/test", 10*time.Second)
		cfg := CrawlConfig{Config: Config{Workers: 8}, MaxDepth: 0, Scope: scope, Robots: robots}
		var sink collect
		seeds := []Task{{URL: "http://x/1"}, {URL: "http://x/2"}, {URL: "http://x/3"}}
		if _, err := Run(t.Context(), cfg, site, Tasks(seeds...), NewMemoryFrontier(limiter.Config{PerHost: 4, ProbeFirst: true}), &sink); err != nil {
			t.Fatal(err)
		}
		starts := site.startsOf("x")[1:] // robots.txt first
		for i := 1; i < len(starts); i++ {
			if gap := starts[i].Sub(starts[i-1]); gap < 300*time.Millisecond {
				t.Errorf("page %d started %s after the one before, want 300ms (Crawl-delay)", i+1, gap)
			}
		}
	})
}

// A slow page does not hold back the pages that do not depend on it: the
// crawl takes as long as the slow page, not the slow page plus the rest.
func TestSlowPageHoldsNothingBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(u string) time.Duration {
			if u == "http://x/slow" {
				return 3 * time.Second
			}
			return 10 * time.Millisecond
		})
		site.links["http://x/"] = []string{"http://x/slow", "http://x/0"}
		for i := range 300 { // a chain, so every level waits for the last
			site.links[fmt.Sprintf("http://x/%d", i)] = []string{fmt.Sprintf("http://x/%d", i+1)}
		}
		results, took := runCrawl(t, site, 4, -1, "http://x/")
		if len(results) != 303 {
			t.Errorf("%d records, want 303", len(results))
		}
		// The chain takes 301 x 10ms beside the slow page's 3s.
		if want := 10*time.Millisecond + 3010*time.Millisecond; took != want {
			t.Errorf("crawl took %s, want %s (the slow page alone)", took, want)
		}
	})
}

// The crawl ends the moment the last page is done: no idle timeout.
func TestCrawlEndsExactlyWhenDrained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 50 * time.Millisecond })
		site.links["http://x/"] = []string{"http://x/1", "http://x/2"}
		site.links["http://x/1"] = []string{"http://x/3"}
		results, took := runCrawl(t, site, 2, -1, "http://x/")
		if len(results) != 4 || took != 150*time.Millisecond {
			t.Errorf("%d records in %s, want 4 in 150ms", len(results), took)
		}
	})
}

// A list of many hosts keeps no host once it is idle.
func TestIdleHostsAreForgotten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := NewMemoryFrontier(limiter.Config{PerHost: 1})
		var tasks []Task
		for i := range 5000 {
			tasks = append(tasks, Task{URL: fmt.Sprintf("http://h%d/", i), Line: i + 1, Listed: true})
		}
		ctx := t.Context()
		if _, err := f.Add(ctx, tasks); err != nil {
			t.Fatal(err)
		}
		for range tasks {
			l, err := f.Lease(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Complete(ctx, l, Outcome{Status: 200}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.Lease(ctx); err != ErrDrained {
			t.Errorf("Lease after the last Complete = %v, want ErrDrained", err)
		}
		if h := f.Hosts(); h != 0 {
			t.Errorf("%d hosts kept after all went idle, want 0", h)
		}
	})
}

// Add dedupes on the canonical URL and lowers a queued task's depth.
func TestMemoryFrontierDedupesAndLowersDepth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := NewMemoryFrontier(limiter.Config{})
		ctx := t.Context()
		res, _ := f.Add(ctx, []Task{{URL: "http://x/a", Depth: 3}, {URL: "http://x/a", Depth: 5}, {URL: "http://x/b", Depth: 2}})
		if res.New != 2 {
			t.Errorf("Add new = %d, want 2 (a dedupes)", res.New)
		}
		if res, _ = f.Add(ctx, []Task{{URL: "http://x/a", Depth: 1}}); res.New != 0 || len(res.Lowered) != 0 {
			t.Errorf("Add of a queued URL at a smaller depth = %+v, want lowered in place", res)
		}
		if d := f.MinOpenDepth(); d != 1 {
			t.Errorf("MinOpenDepth = %d, want 1", d)
		}
		l, _ := f.Lease(ctx)
		if l.Task.URL != "http://x/a" || l.Task.Depth != 1 {
			t.Errorf("first lease %+v, want a at depth 1 (shallowest first)", l.Task)
		}
		if res, _ = f.Add(ctx, []Task{{URL: "http://x/a", Depth: 0}}); len(res.Lowered) != 1 {
			t.Errorf("Add of a leased URL at a smaller depth = %+v, want it reported lowered", res)
		}
		_ = f.Complete(ctx, l, Outcome{})
		l, _ = f.Lease(ctx)
		_ = f.Complete(ctx, l, Outcome{})
		if f.Len() != 0 || f.MinOpenDepth() != -1 {
			t.Errorf("after two leases: Len %d MinOpenDepth %d, want empty (the deeper copy of a is gone)", f.Len(), f.MinOpenDepth())
		}
	})
}

// memSpill is a Spill in memory, shallowest first, for tests.
type memSpill struct {
	tasks []Task
	puts  int
}

func (s *memSpill) Put(tasks []Task) error {
	s.puts += len(tasks)
	s.tasks = append(s.tasks, tasks...)
	slices.SortStableFunc(s.tasks, func(a, b Task) int { return a.Depth - b.Depth })
	return nil
}

func (s *memSpill) Take(n int) ([]Task, error) {
	n = min(n, len(s.tasks))
	out := slices.Clone(s.tasks[:n])
	s.tasks = s.tasks[n:]
	return out, nil
}

// A frontier that keeps only a few tasks in memory and spills the rest
// crawls exactly what one with everything in memory does: every page
// within max-depth once, at its true depth.
func TestSpillingFrontierCrawlsTheSame(t *testing.T) {
	for seed := range uint64(10) {
		synctest.Test(t, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			const n = 150
			page := func(i int) string { return fmt.Sprintf("http://h%d/p%d", i%3, i) }
			slow := map[string]time.Duration{}
			site := newFakeSite(func(u string) time.Duration { return slow[u] })
			for i := range n {
				slow[page(i)] = time.Duration(1+rng.IntN(20)) * time.Millisecond
				for range 1 + rng.IntN(6) {
					site.links[page(i)] = append(site.links[page(i)], page(rng.IntN(n)))
				}
			}
			maxDepth := 2 + rng.IntN(4)
			spill := &memSpill{}
			fr := NewMemoryFrontier(limiter.Config{PerHost: 2})
			fr.SetSpill(spill, 4)
			scope, _ := NewScope(ScopeAny, nil, nil, nil)
			var sink collect
			cfg := CrawlConfig{Config: Config{Workers: 1 + rng.IntN(6)}, MaxDepth: maxDepth, Scope: scope}
			if _, err := Run(t.Context(), cfg, site, Tasks(Task{URL: page(0)}), fr, &sink); err != nil {
				t.Fatal(err)
			}
			want := bfs(site.links, page(0), maxDepth)
			got := map[string]int{}
			for _, r := range sink.results {
				if _, dup := got[r.URL]; dup {
					t.Errorf("seed %d: %s has two records", seed, r.URL)
				}
				got[r.URL] = r.Depth
			}
			if len(got) != len(want) || spill.puts == 0 {
				t.Errorf("seed %d: %d pages (want %d), %d spilled (want some)", seed, len(got), len(want), spill.puts)
			}
			for u, d := range want {
				if g, ok := got[u]; !ok || g != d {
					t.Errorf("seed %d: %s at depth %d (fetched %v), want %d", seed, u, g, ok, d)
				}
			}
		})
	}
}

// A task added while a shallower one waits in the spill spills too, even
// when memory has room: otherwise the deeper task runs first and every
// record of its level is held until the spilled one is done.
func TestSpilledTaskIsNotOvertakenByADeeperOne(t *testing.T) {
	ctx := t.Context()
	fr := NewMemoryFrontier(limiter.Config{})
	fr.SetSpill(&memSpill{}, 4)
	add := func(depth int, names ...string) {
		t.Helper()
		var tasks []Task
		for _, n := range names {
			tasks = append(tasks, Task{URL: "http://h/" + n, Depth: depth})
		}
		if _, err := fr.Add(ctx, tasks); err != nil {
			t.Fatal(err)
		}
	}
	var order []string
	lease := func() {
		t.Helper()
		l, err := fr.Lease(ctx)
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, fmt.Sprintf("%s@%d", strings.TrimPrefix(l.Task.URL, "http://h/"), l.Task.Depth))
		if err := fr.Complete(ctx, l, Outcome{}); err != nil {
			t.Fatal(err)
		}
	}
	add(1, "a", "b", "c", "d") // memory full
	add(1, "x")                // spilled
	lease()
	lease()          // memory has room again
	add(2, "y", "z") // must wait behind x
	for range 5 {
		lease()
	}
	want := []string{"a@1", "b@1", "c@1", "d@1", "x@1", "y@2", "z@2"}
	if !slices.Equal(order, want) {
		t.Errorf("lease order %v, want %v", order, want)
	}
	if _, err := fr.Lease(ctx); !errors.Is(err, ErrDrained) {
		t.Errorf("after every task: %v, want ErrDrained", err)
	}
}

// losingFrontier is a memory frontier whose lease of one URL is found lost
// when the page is done, as a shared frontier's is after a stall.
type losingFrontier struct {
	*MemoryFrontier
	lose string
}

func (f losingFrontier) Complete(ctx context.Context, l Lease, o Outcome) error {
	if err := f.MemoryFrontier.Complete(ctx, l, o); err != nil {
		return err
	}
	if l.Task.URL == f.lose {
		return ErrLeaseLost
	}
	return nil
}

// A page whose lease was lost by the time it was done gets no record from
// this process (the one that fetches it again writes it), the run goes on,
// and the summary counts it.
func TestLostLeaseWritesNoRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 10 * time.Millisecond })
		site.links["http://x/"] = []string{"http://x/a", "http://x/b"}
		scope, _ := NewScope(ScopeAny, nil, nil, nil)
		cfg := CrawlConfig{Config: Config{Workers: 2}, MaxDepth: -1, Scope: scope}
		fr := losingFrontier{NewMemoryFrontier(limiter.Config{}), "http://x/a"}
		var sink collect
		stats, err := Run(t.Context(), cfg, site, Tasks(Task{URL: "http://x/"}), fr, &sink)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range sink.results {
			got = append(got, r.URL)
		}
		slices.Sort(got)
		if !slices.Equal(got, []string{"http://x/", "http://x/b"}) || stats.LeasesLost != 1 || stats.Pages != 2 {
			t.Errorf("records %v, %d lost, %d pages; want / and /b, 1 lost, 2 pages", got, stats.LeasesLost, stats.Pages)
		}
	})
}

// A URL robots.txt disallows sends nothing, so it takes nothing of its
// host's Crawl-delay: the next page goes one delay after the last
// request, not two (a crawl of / and /b, with /private/a between them in
// the host's queue, took 20 s at a 10 s Crawl-delay).
func TestDisallowedURLTakesNoCrawlDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 10 * time.Millisecond })
		site.files = map[string]string{"http://x/robots.txt": "User-agent: *\nDisallow: /private\nCrawl-delay: 0.3\n"}
		site.links["http://x/"] = []string{"http://x/private/a", "http://x/private/b", "http://x/c"}
		scope, _ := NewScope(ScopeAny, nil, nil, nil)
		robots := NewRobots(site, "fetchall/test", 10*time.Second)
		cfg := CrawlConfig{Config: Config{Workers: 4}, MaxDepth: -1, Scope: scope, Robots: robots}
		var sink collect
		stats, err := Run(t.Context(), cfg, site, Tasks(Task{URL: "http://x/"}), NewMemoryFrontier(limiter.Config{PerHost: 2, ProbeFirst: true}), &sink)
		if err != nil {
			t.Fatal(err)
		}
		starts := site.startsOf("x")[1:] // robots.txt first
		if len(starts) != 2 || stats.RobotsBlocked != 2 {
			t.Fatalf("%d page requests, %d blocked; want / and /c, and both /private URLs blocked", len(starts), stats.RobotsBlocked)
		}
		if gap := starts[1].Sub(starts[0]); gap != 300*time.Millisecond {
			t.Errorf("/c started %s after /, want the one 300ms Crawl-delay", gap)
		}
	})
}

// A server that refuses HEAD (405, 501) is asked again by GET, as link
// checkers do. The GET waits in the host's queue, so --delay holds between
// the two requests; it takes none of the retries, and the record's
// attempts counts both requests. A GET refused in turn is the record:
// there is no third request.
func TestRefusedHeadIsAskedAgainByGet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		latency := func(string) time.Duration { return 10 * time.Millisecond }
		head, get := newFakeSite(latency), newFakeSite(latency)
		head.status = func(url string, _ int) (int, http.Header) {
			switch {
			case strings.HasSuffix(url, "/refuses"), strings.HasSuffix(url, "/never"):
				return http.StatusMethodNotAllowed, http.Header{}
			case strings.HasSuffix(url, "/unknown"):
				return http.StatusNotImplemented, http.Header{}
			}
			return 200, http.Header{}
		}
		get.status = func(url string, _ int) (int, http.Header) {
			if strings.HasSuffix(url, "/never") {
				return http.StatusMethodNotAllowed, http.Header{}
			}
			return 200, http.Header{}
		}
		cfg := Config{Workers: 4, Retries: 2, GetFallback: get, Limits: limiter.Config{Delay: 200 * time.Millisecond}}
		records, took := runList(t, cfg, head, []string{"http://a/refuses", "http://b/unknown", "http://c/never", "http://d/fine"})
		status := map[string]int{}
		for _, r := range records {
			status[r.URL] = r.Status
			if want := map[bool]int{true: 1, false: 2}[r.URL == "http://d/fine"]; r.Attempts != want {
				t.Errorf("%s: attempts = %d, want %d (the requests sent)", r.URL, r.Attempts, want)
			}
		}
		want := map[string]int{"http://a/refuses": 200, "http://b/unknown": 200, "http://c/never": 405, "http://d/fine": 200}
		if !maps.Equal(status, want) {
			t.Errorf("statuses = %v, want %v", status, want)
		}
		for _, host := range []string{"a", "b", "c"} {
			heads, gets := head.startsOf(host), get.startsOf(host)
			if len(heads) != 1 || len(gets) != 1 {
				t.Fatalf("host %s: %d HEAD and %d GET requests, want one each", host, len(heads), len(gets))
			}
			if gap := gets[0].Sub(heads[0]); gap != 200*time.Millisecond {
				t.Errorf("host %s: the GET went %s after the HEAD, want the host's delay, 200ms", host, gap)
			}
		}
		if n := len(get.startsOf("d")); n != 0 {
			t.Errorf("host d answered HEAD, yet was asked %d times by GET", n)
		}
		if want := 200*time.Millisecond + 10*time.Millisecond; took != want {
			t.Errorf("took %s, want %s (the hosts side by side)", took, want)
		}
	})
}
