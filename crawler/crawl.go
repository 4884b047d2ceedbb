package crawler

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/PuerkitoBio/goquery"

	"github.com/fetchall/fetchall/fetch"
)

// CrawlConfig sets how a crawl runs. Scope is required.
type CrawlConfig struct {
	Config // Workers, Accept, FailFast and Saver, as for a list

	// MaxDepth is how many links deep the crawl goes from a seed (depth 0).
	// Negative means no limit. Redirects do not add depth.
	MaxDepth int
	// MaxPages is how many pages are fetched at most, counting every
	// request that yields a record, redirects included. Zero means no limit.
	MaxPages int
	// MaxRedirects is the longest chain of redirects followed from one
	// link. Zero means 10.
	MaxRedirects int
	// FollowNofollow follows links marked rel=nofollow or under
	// <meta name=robots content=nofollow>.
	FollowNofollow bool
	// Scope decides which discovered URLs are fetched.
	Scope *Scope
	// Robots, when set, is asked before every fetch; nil ignores robots.txt.
	Robots *Robots
	// Follow, when not empty, follows only the links in elements matching
	// one of these selectors (a scraping job's "follow").
	Follow []goquery.Matcher
	// Extractor, when set, runs on every HTML page fetched; what it
	// returns travels in Result.Items to the sink.
	Extractor Extractor
}

// Extractor turns a parsed page into data. It runs on the workers, many
// at once, and must be safe for concurrent use.
type Extractor interface {
	Extract(doc *goquery.Document, page *url.URL) any
}

// CrawlStats counts what a crawl did beyond its records.
type CrawlStats struct {
	Pages         int // pages fetched: records written
	Seen          int // distinct URLs met, in scope or not
	OutOfScope    int // links not followed because of the scope
	RobotsBlocked int // URLs robots.txt disallowed (never fetched)
	SiteDeferred  int // URLs skipped because their robots.txt answered 5xx
}

// Crawl fetches seeds and every in-scope page they lead to, breadth-first,
// and writes one Result per page to sink. One goroutine, the caller's,
// coordinates: it alone touches the frontier, the seen set and the count of
// pages in flight, and the crawl ends exactly when nothing is queued and
// nothing is in flight (or MaxPages pages were fetched). Workers only fetch
// and parse. Crawl returns when every goroutine it started has exited; its
// error follows the rules of FetchList.
func Crawl(ctx context.Context, cfg CrawlConfig, f Fetcher, seeds []Task, frontier Frontier, sink Sink) (CrawlStats, error) {
	cfg.Config = cfg.Config.withDefaults()
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = fetch.DefaultMaxRedirects
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	c := &coordinator{cfg: cfg, frontier: frontier, seen: map[uint64]struct{}{}, seed: maphash.MakeSeed(),
		w: newWriter(sink, cancel), cancel: cancel, inFlightAt: map[int]int{}, queued: map[uint64]int{}}
	// Seeds first, so that their sites are in scope before any sitemap
	// entry is checked.
	seeds = slices.Clone(seeds)
	slices.SortStableFunc(seeds, func(a, b Task) int { return cmpBool(a.FromSitemap, b.FromSitemap) })
	for _, s := range seeds {
		c.addSeed(s)
	}

	tasks := make(chan Task)
	results := make(chan crawled, cfg.Workers)
	var workers sync.WaitGroup
	for range cfg.Workers {
		workers.Go(func() {
			for t := range tasks {
				// The coordinator receives until every dispatched task is
				// answered, so this send always completes.
				results <- crawlOne(runCtx, cancel, cfg, f, t)
			}
		})
	}
	c.run(runCtx, tasks, results)
	close(tasks)
	workers.Wait()

	writeErr := c.w.close()
	switch cause := context.Cause(runCtx); {
	case writeErr != nil:
		return c.stats, writeErr
	case ctx.Err() != nil:
		return c.stats, ctx.Err()
	case cause != nil && !errors.Is(cause, context.Canceled):
		return c.stats, cause
	}
	return c.stats, nil
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// crawled is a worker's answer for one task.
type crawled struct {
	task     Task
	result   *Result    // nil when robots.txt kept the page from being fetched
	verdict  Verdict    // why result is nil
	links    []*url.URL // followable links, canonical
	redirect *url.URL   // the canonical Location of a 3xx
}

type coordinator struct {
	cfg        CrawlConfig
	frontier   Frontier
	seen       map[uint64]struct{} // 8-byte hashes of canonical URLs: compact
	seed       maphash.Seed
	w          *writer
	cancel     context.CancelCauseFunc
	stats      CrawlStats
	dispatched int // pages sent to workers, robots refusals excepted
	inFlight   int
	stopped    bool           // fail-fast fired
	pending    *Task          // popped, not yet taken by a worker
	inFlightAt map[int]int    // tasks in flight by depth
	queued     map[uint64]int // URL hash -> depth, for tasks not yet dispatched
}

// addSeed queues a seed; a bad seed is a record, as a bad list line is.
func (c *coordinator) addSeed(t Task) {
	u, err := fetch.ParseURL(t.URL)
	var cu *url.URL
	if err == nil {
		cu, err = canonicalURL(u)
	}
	if err != nil {
		kind := fetch.KindBadURL
		if errors.Is(err, fetch.ErrUnsupportedScheme) {
			kind = fetch.KindUnsupportedScheme
		}
		c.w.write(&Result{URL: t.URL, Line: t.Line, Err: &fetch.Error{Kind: kind, Err: err}})
		return
	}
	if t.FromSitemap {
		// Listed, not given: scope and dedupe apply as to any link.
		c.enqueue(cu, Task{Line: t.Line})
		return
	}
	c.cfg.Scope.AddSeed(cu)
	t.URL, t.SeedChain = cu.String(), true
	if c.markSeen(t.URL) {
		c.push(t)
	}
}

// markSeen records url and reports whether it was new.
func (c *coordinator) markSeen(u string) bool {
	h := c.hash(u)
	if _, ok := c.seen[h]; ok {
		return false
	}
	c.seen[h] = struct{}{}
	c.stats.Seen++
	return true
}

func (c *coordinator) hash(u string) uint64 { return maphash.String(c.seed, u) }

// push queues t and notes the depth it is queued at.
func (c *coordinator) push(t Task) {
	c.queued[c.hash(t.URL)] = t.Depth
	c.frontier.Push(t)
}

// nextTask returns the task to offer a worker now, if any: it stays in
// c.pending until a worker takes it, so losing a select loses nothing.
func (c *coordinator) nextTask(ctx context.Context) (Task, bool) {
	if ctx.Err() != nil || c.stopped || c.inFlight >= c.cfg.Workers ||
		(c.cfg.MaxPages > 0 && c.dispatched >= c.cfg.MaxPages) {
		return Task{}, false
	}
	for c.pending == nil {
		t, ok := c.frontier.Pop()
		if !ok {
			return Task{}, false
		}
		if d, ok := c.queued[c.hash(t.URL)]; ok && d == t.Depth {
			c.pending = &t
		} // else: stale, the URL was queued again at a smaller depth
	}
	// Level by level: a page is fetched only once every shallower page is
	// done, so it is first found at its true depth, and --max-depth cuts
	// exactly where a breadth-first walk would.
	for d, n := range c.inFlightAt {
		if n > 0 && d < c.pending.Depth {
			return Task{}, false
		}
	}
	return *c.pending, true
}

// run is the coordination loop. It never blocks on a full queue: it offers
// a task only while a worker may take it, and otherwise waits for a
// result, the flush timer, or the end of ctx.
func (c *coordinator) run(ctx context.Context, tasks chan<- Task, results <-chan crawled) {
	for {
		var send chan<- Task
		next, ok := c.nextTask(ctx)
		if ok {
			send = tasks
		}
		if !ok && c.inFlight == 0 {
			return
		}
		done := ctx.Done()
		if ctx.Err() != nil {
			done = nil // already noted; just drain
		}
		select {
		case send <- next:
			c.pending = nil
			delete(c.queued, c.hash(next.URL))
			c.inFlight++
			c.inFlightAt[next.Depth]++
			c.dispatched++
		case d := <-results:
			c.inFlight--
			c.inFlightAt[d.task.Depth]--
			c.handle(d)
		case <-c.w.due():
			c.w.flush()
		case <-done:
		}
	}
}

// handle takes a worker's answer: it writes the record and queues the
// unseen, in-scope links and redirect target.
func (c *coordinator) handle(d crawled) {
	t := d.task
	if d.result == nil {
		c.dispatched-- // not fetched: it does not count against MaxPages
		switch d.verdict {
		case Disallowed:
			c.stats.RobotsBlocked++
		case SiteUnavailable:
			c.stats.SiteDeferred++
		}
		return
	}
	r := d.result
	if d.redirect != nil {
		if t.Hops >= c.cfg.MaxRedirects {
			r.OK = false
			r.Err = &fetch.Error{Kind: fetch.KindTooManyRedirects, Err: fmt.Errorf("stopped after %d redirects: %w", t.Hops, fetch.ErrTooManyRedirects)}
		} else {
			if t.SeedChain {
				c.cfg.Scope.AddSeed(d.redirect) // a seed's site moved: follow it
			}
			c.enqueue(d.redirect, Task{Depth: t.Depth, Parent: t.URL, Hops: t.Hops + 1, SeedChain: t.SeedChain})
		}
	}
	for _, l := range d.links {
		c.enqueue(l, Task{Depth: t.Depth + 1, Parent: t.URL})
	}
	c.stats.Pages++
	c.w.write(r)
	if c.cfg.FailFast && !r.OK && !c.stopped {
		c.stopped = true
		c.cancel(fmt.Errorf("%w: %s", ErrFailFast, describe(r)))
	}
}

func (c *coordinator) enqueue(u *url.URL, t Task) {
	t.URL = u.String()
	if !c.markSeen(t.URL) {
		// Met again: if it still waits at a greater depth (found first
		// through a redirect's slower sibling), queue it at this one; the
		// deeper copy is skipped when popped.
		if d, queued := c.queued[c.hash(t.URL)]; !queued || t.Depth >= d {
			return
		}
	} else if !c.cfg.Scope.Allows(u) {
		c.stats.OutOfScope++
		return
	}
	if c.pending != nil && t.Depth < c.pending.Depth {
		// A redirect added a shallower task: it must go first.
		c.frontier.Push(*c.pending)
		c.pending = nil
	}
	c.push(t)
}

// crawlOne fetches one task and parses what it needs to.
func crawlOne(ctx context.Context, cancel context.CancelCauseFunc, cfg CrawlConfig, f Fetcher, t Task) crawled {
	out := crawled{task: t}
	u, err := url.Parse(t.URL)
	if err != nil { // cannot happen: tasks hold canonical URLs
		out.result = &Result{URL: t.URL, Err: &fetch.Error{Kind: fetch.KindBadURL, Err: err}}
		return out
	}
	if cfg.Robots != nil {
		verdict, err := cfg.Robots.Allowed(ctx, u)
		if err != nil {
			out.result = canceledResult(t, err)
			return out
		}
		if verdict != Allowed {
			out.verdict = verdict
			return out
		}
	}
	keep := func(contentType string) bool { return cfg.Saver != nil || isHTML(contentType) }
	fr := f.Get(ctx, t.URL, keep)
	defer fr.Release()
	r := fromFetch(fr, cfg.Accept)
	r.Line, r.Depth, r.Parent = t.Line, t.Depth, t.Parent
	r.Crawled = true
	out.result = r

	if isRedirect(fr.Status) {
		if loc := fr.Header.Get("Location"); loc != "" {
			if target, err := u.Parse(loc); err == nil && (target.Scheme == "http" || target.Scheme == "https") {
				if c, err := canonicalURL(target); err == nil {
					out.redirect = c
					r.Links = 1
					r.FinalURL = c.String()
				}
			} else if err == nil {
				r.OK = false
				r.Err = &fetch.Error{Kind: fetch.KindUnsupportedScheme, Err: fmt.Errorf("redirect to %s: %w", target.Redacted(), fetch.ErrUnsupportedScheme)}
			}
		}
	}
	// A redirect's own body (Go writes a link to the target) is not a page.
	if fr.Body != nil && isHTML(fr.ContentType) && r.OK && out.redirect == nil {
		follow := cfg.MaxDepth < 0 || t.Depth < cfg.MaxDepth
		if follow || cfg.Extractor != nil {
			p := parsePage(fr.Body, fr.ContentType, u, fr.Header, linkRules{followNofollow: cfg.FollowNofollow, follow: cfg.Follow})
			r.Title = p.title
			if follow {
				out.links = p.links
				r.Links = len(p.links)
			}
			if cfg.Extractor != nil && p.doc != nil {
				r.Items = cfg.Extractor.Extract(p.doc, u)
			}
		} else {
			r.Title = extractTitle(fr.Body, fr.ContentType)
		}
	}
	if r.OK && !isRedirect(fr.Status) {
		save(cfg.Config, cancel, r, fr.Body)
	}
	return out
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func canceledResult(t Task, err error) *Result {
	return &Result{URL: t.URL, Line: t.Line, Depth: t.Depth, Parent: t.Parent, Crawled: true,
		Err: &fetch.Error{Kind: fetch.KindCanceled, Err: err}}
}
