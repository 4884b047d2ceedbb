package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fetchall/fetchall/fetch"
)

// Source yields the tasks a run starts from: list lines, or seeds. Next
// returns io.EOF at the end, and other errors saying what could not be
// read. It is called from one goroutine at a time.
type Source interface {
	Next(ctx context.Context) (Task, error)
}

// Run is fetchall's one engine, for lists, crawls and jobs alike (a list
// is a crawl that discovers nothing). A reader goroutine feeds src into
// the frontier through a bounded window; cfg.Workers workers lease from
// the frontier only URLs whose host may go now, fetch and parse them; one
// coordinator (the caller's goroutine) owns the records, the scope, the
// seen pages' depths and the sink, adds discovered links, and completes
// or releases each lease. No worker waits for a host, and no page waits
// for a level of the crawl to finish: depth stays exact because a page's
// record is held back while a shorter path to it is still possible.
//
// Run returns when every goroutine it started has exited. A failed fetch
// is a Result, not an error. The error is nil after a full run;
// ErrFailFast when FailFast stopped it; ctx's error when ctx ended first
// (records finished by then are written); or what made the run impossible
// to continue (reading src, the frontier, writing the sink, saving a body).
// A nil frontier means a MemoryFrontier with cfg.Limits.
func Run(ctx context.Context, cfg CrawlConfig, f Fetcher, src Source, frontier Frontier, sink Sink) (CrawlStats, error) {
	cfg.Config = cfg.Config.withDefaults()
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = fetch.DefaultMaxRedirects
	}
	if frontier == nil {
		frontier = NewMemoryFrontier(cfg.Limits)
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	leaseCtx, stopLeasing := context.WithCancel(runCtx)
	defer stopLeasing()

	e := &engine{
		cfg: cfg, f: f, fr: frontier, cancel: cancel, stopLeasing: stopLeasing,
		w:         newWriter(sink, cancel),
		results:   make(chan answer, cfg.Workers),
		window:    newReadWindow(cfg.window()),
		held:      map[uint64]*heldPage{},
		improve:   map[uint64]Task{},
		hostPages: map[string]int{},
		pending:   map[int]pendingRecord{},
		gate:      newGate(),
	}
	e.depths, _ = frontier.(DepthReporter)
	e.delays, _ = frontier.(DelaySetter)
	e.relinks, _ = frontier.(Relinker)
	if c, ok := frontier.(HostPageCounter); ok && cfg.MaxPagesPerHost > 0 {
		if held := c.PagesByHost(); held != nil {
			e.hostPages = held
		}
	}
	e.keep = e.keepBody // once: a method value made per page is an allocation per page
	e.inputOpen.Store(true)

	input := make(chan Task)
	var feeder sync.WaitGroup
	var readErr error
	feeder.Go(func() {
		defer close(input)
		if readErr = feed(runCtx, src, input, e.window, e.addListed); readErr != nil {
			cancel(readErr)
		}
	})
	var workers sync.WaitGroup
	for range cfg.Workers {
		workers.Go(func() { e.work(runCtx, leaseCtx) })
	}
	workersDone := make(chan struct{})
	var waiter sync.WaitGroup
	waiter.Go(func() {
		workers.Wait()
		close(workersDone)
	})

	e.coordinate(runCtx, input, workersDone)
	stopLeasing()
	// The feeder may still be reading (fail-fast, MaxPages): the run is
	// over, so end its context and let it close the input.
	feedErr := context.Cause(runCtx)
	cancel(nil)
	for range input {
	}
	feeder.Wait()
	waiter.Wait()
	e.stats.Seen += e.listedSeen
	e.finish()
	if n, ok := frontier.(interface{ Len() int }); ok {
		e.stats.NotStarted = n.Len()
	}

	writeErr := e.w.close()
	if writeErr == nil {
		e.journal(context.WithoutCancel(ctx)) // the last records: an interrupt must not lose their place
	}
	switch cause := feedErr; {
	case writeErr != nil:
		return e.stats, writeErr
	case readErr != nil:
		return e.stats, readErr
	case ctx.Err() != nil:
		return e.stats, ctx.Err()
	case e.runErr != nil:
		return e.stats, e.runErr
	case cause != nil && !errors.Is(cause, context.Canceled):
		return e.stats, cause
	}
	return e.stats, nil
}

// feed reads src until it ends or ctx does, taking a place in the window for each
// task so that reading stays ahead of the workers by a bounded number of
// tasks. A valid list line goes straight to addListed; the rest (seeds,
// sitemap entries, bad lines) go to the coordinator through input.
func feed(ctx context.Context, src Source, input chan<- Task, window *readWindow, addListed func(context.Context, Task) error) error {
	for seq := 0; ; seq++ {
		t, err := src.Next(ctx)
		if errors.Is(err, io.EOF) || (err != nil && ctx.Err() != nil) {
			return nil
		}
		if err != nil {
			return err
		}
		t.seq = seq
		if !window.acquire(ctx) {
			return nil
		}
		if t.Listed && t.Invalid == nil {
			if err := addListed(ctx, t); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			continue
		}
		select {
		case input <- t:
		case <-ctx.Done():
			return nil // the run is over: its window no longer matters
		}
	}
}

// addListed queues a list line as the reader reads it: a line needs none
// of the coordinator's state, and on a bulk list the hop through the
// coordinator was a fifth of the engine's own cost per URL.
func (e *engine) addListed(ctx context.Context, t Task) error {
	e.readerTask[0] = t // one slice for every line, not one allocated each
	res, err := e.fr.Add(ctx, e.readerTask[:])
	e.readerTask[0] = Task{}
	if err != nil {
		return fmt.Errorf("frontier: %w", err)
	}
	e.listedSeen += res.New
	e.gate.kick()
	return nil
}

// engine is one run's shared state. Fields below the line are the
// coordinator's alone.
type engine struct {
	cfg         CrawlConfig
	f           Fetcher
	fr          Frontier
	depths      DepthReporter // nil when the frontier cannot tell
	delays      DelaySetter   // nil when the frontier cannot widen spacing
	relinks     Relinker      // nil unless the frontier is shared
	keep        fetch.KeepBody
	cancel      context.CancelCauseFunc
	stopLeasing context.CancelFunc
	results     chan answer
	window      *readWindow // how far the reader may read ahead
	gate        *gate       // kicked when input arrives or ends
	inputOpen   atomic.Bool
	started     atomic.Int64 // pages started, for MaxPages
	listedSeen  int          // list lines queued by the reader (the reader's; read after it ends)
	readerTask  [1]Task      // the reader's, for addListed
	stopped     atomic.Bool  // fail-fast fired

	w           *writer
	stats       CrawlStats
	runErr      error
	held        map[uint64]*heldPage  // records waiting for their depth to be final
	heldAt      [][]*heldPage         // the same, by depth (stale entries skipped)
	improve     map[uint64]Task       // in-flight pages since met by a shorter path
	hostPages   map[string]int        // pages queued per host, for MaxPagesPerHost
	pending     map[int]pendingRecord // ordered mode: finished, waiting for their turn
	unjournaled []Written             // written since the journal was last told
	nextSeq     int
}

// answer is a worker's report on one lease.
type answer struct {
	lease     Lease
	task      Task       // the lease's task as the worker last saw it
	result    *Result    // nil when not fetched (robots, or the run ended first)
	verdict   Verdict    // why result is nil, when robots.txt said so
	unstarted bool       // the run ended (or MaxPages was reached) before it started
	retried   bool       // released for a retry: nothing to write
	outcome   Outcome    // for the host's schedule
	links     []*url.URL // followable links, canonical
	rich      []Link     // links that carry data or lead to a next page, canonical
	redirect  *url.URL   // the canonical Location of a 3xx
}

// heldPage is a crawled page whose depth is not final yet: a page still
// open at a smaller depth might reach it by a shorter path.
type heldPage struct {
	key      uint64
	task     Task
	rec      *Result
	links    []string // canonical; see compactLinks
	rich     []Link
	redirect *url.URL
	written  bool
}

// work leases, fetches and reports until the frontier is drained and the
// input has ended, or leasing stops.
func (e *engine) work(runCtx, leaseCtx context.Context) {
	for leaseCtx.Err() == nil {
		// Both are read before asking the frontier: if the input was still
		// open then, a drained frontier may fill again, and the gate's
		// generation will have moved when it does (or when the input ends).
		// Read after, the input could have ended and filled the frontier in
		// between, and the worker would leave with work queued.
		gen := e.gate.generation()
		inputOpen := e.inputOpen.Load()
		l, err := e.fr.Lease(leaseCtx)
		if errors.Is(err, ErrDrained) {
			if !inputOpen {
				return
			}
			select {
			case <-e.gate.since(gen):
				continue
			case <-leaseCtx.Done():
				return
			}
		}
		if err != nil {
			if leaseCtx.Err() == nil {
				e.cancel(fmt.Errorf("frontier: %w", err))
			}
			return
		}
		// The coordinator receives until every worker has exited, so this
		// send always completes.
		e.results <- e.process(runCtx, l)
	}
}

// process fetches one leased task and parses what it needs to.
func (e *engine) process(ctx context.Context, l Lease) answer {
	t := l.Task
	out := answer{lease: l, task: t, outcome: Outcome{Unsent: true}} // until a request goes out
	if ctx.Err() != nil || e.stopped.Load() {
		out.unstarted = true
		return out
	}
	var u *url.URL
	if !t.Listed {
		var err error
		if u, err = url.Parse(t.URL); err != nil { // cannot happen: tasks hold canonical URLs
			out.result = &Result{URL: t.URL, Err: &fetch.Error{Kind: fetch.KindBadURL, Err: err}}
			return out
		}
		if e.cfg.Robots != nil {
			verdict, retryAt, err := e.cfg.Robots.Allowed(ctx, u)
			if err != nil {
				out.unstarted = true
				return out
			}
			if verdict == SiteUnavailable && !retryAt.IsZero() {
				// robots.txt cannot be read yet: the page waits in its
				// host's queue until the file's next try.
				out.retried = true
				if err := e.fr.Release(ctx, l, out.outcome, retryAt); err != nil && !errors.Is(err, ErrLeaseLost) && ctx.Err() == nil {
					e.cancel(fmt.Errorf("frontier: %w", err))
				}
				return out
			}
			if verdict != Allowed {
				out.verdict = verdict
				if t.givenSeed() {
					// The user named this URL: say why it was not fetched,
					// in a record, not only in the summary's count.
					out.result = robotsRecord(t, verdict, e.cfg.Robots.Unreadable(u))
				}
				return out
			}
			if d := e.cfg.Robots.Delay(u); d > 0 && e.delays != nil {
				e.delays.SetDelay(t.Host(), d)
			}
		}
	}
	if t.Attempts == 0 && !t.ByGet && e.cfg.MaxPages > 0 && e.started.Add(1) > int64(e.cfg.MaxPages) {
		e.stopLeasing()
		out.unstarted = true
		return out
	}
	if t.FirstTry.IsZero() {
		t.FirstTry = time.Now()
	}
	out.outcome.Unsent = false
	f := e.f
	if t.ByGet && e.cfg.GetFallback != nil {
		f = e.cfg.GetFallback
	}
	fr := f.Get(ctx, t.URL, e.keep)
	defer fr.Release()
	contentType := fr.ContentType
	if contentType == "" && len(fr.Body) > 0 {
		contentType = http.DetectContentType(fr.Body)
	}
	attempt := t.Attempts + 1
	out.outcome.Status = fr.Status
	if fr.Status == http.StatusTooManyRequests || fr.Status == http.StatusServiceUnavailable {
		out.outcome.CoolDown = e.retryWait(attempt, fr)
	}
	if (fr.Status == http.StatusMethodNotAllowed || fr.Status == http.StatusNotImplemented) && e.cfg.GetFallback != nil && !t.ByGet && ctx.Err() == nil {
		// The server takes no HEAD: ask again by GET, after the host's
		// spacing, as a retry would (but not counted as one).
		t.ByGet = true
		l.Task = t
		out.retried = true
		if err := e.fr.Release(ctx, l, out.outcome, time.Now()); err != nil && !errors.Is(err, ErrLeaseLost) && ctx.Err() == nil {
			e.cancel(fmt.Errorf("frontier: %w", err))
		}
		return out
	}
	challenge := fr.Err == nil && isChallenge(fr, contentType)
	if fr.Retryable() && !challenge && attempt <= e.cfg.Retries && ctx.Err() == nil {
		// Back to the host's queue at once, so that its cool-down holds
		// before this worker (or any) leases again.
		t.Attempts = attempt
		l.Task = t
		out.retried = true
		if err := e.fr.Release(ctx, l, out.outcome, time.Now().Add(e.retryWait(attempt, fr))); err != nil && !errors.Is(err, ErrLeaseLost) && ctx.Err() == nil {
			e.cancel(fmt.Errorf("frontier: %w", err))
		}
		return out
	}

	r := fromFetch(fr, e.cfg.Accept)
	if challenge {
		// A bot check is not the page, whatever its status: never ok,
		// never retried, and no links are taken from it.
		r.OK = false
		r.Err = &fetch.Error{Kind: fetch.KindChallenge, Err: fmt.Errorf("status %d: a bot challenge page, not the page", fr.Status)}
	}
	r.Attempts = attempt + fr.Attempts - 1 // a fetcher may retry on its own too
	if t.ByGet {
		r.Attempts++ // the HEAD the server refused: attempts counts requests sent
	}
	r.Duration = time.Since(t.FirstTry)
	r.Line = t.Line
	out.result = r
	if t.Listed {
		if fr.Body != nil && isHTML(contentType) {
			r.Title = recordTitle(extractTitle(fr.Body, contentType))
		}
		if r.OK {
			save(e.cfg.Config, e.cancel, r, fr.Body)
		}
		return out
	}

	r.Depth, r.Parent, r.Crawled = t.Depth, t.Parent, true
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
	if fr.Body != nil && r.OK && out.redirect == nil {
		follow := e.mayFollow(t.Depth)
		var from *Page // what the job's rules see; a plain crawl needs none
		if e.cfg.Extractor != nil || len(e.cfg.Follow) > 0 {
			from = &Page{URL: u, Body: fr.Body, ContentType: contentType, Header: fr.Header, Data: t.Data, Chain: t.Chain}
		}
		switch {
		case isHTML(contentType):
			// Parsed even where its links are not followed (at
			// --max-depth): the record's links and canonical describe the
			// page, whatever its depth.
			var p page
			if e.cfg.Extractor == nil && len(e.cfg.Follow) == 0 {
				p = scanPage(fr.Body, contentType, u, fr.Header, e.cfg.FollowNofollow) // no tree needed
			} else {
				p = parsePage(fr.Body, contentType, u, fr.Header, linkRules{followNofollow: e.cfg.FollowNofollow, follow: e.cfg.Follow, from: from})
			}
			r.Title, r.Canonical = recordTitle(p.title), fetch.Redact(p.canonical)
			if len(p.canonical) > MaxURLLength {
				r.Canonical = "" // no URL a crawl would follow: a page's junk, not its name
			}
			if follow {
				out.links, out.rich = p.links, p.rich
			}
			if e.cfg.Extractor != nil && p.doc != nil {
				from.Doc = p.doc
				e.extract(from, r, &out, follow)
			}
			r.Links = len(p.links) + len(p.rich)
		case isJSON(contentType) && e.cfg.Extractor != nil:
			e.extract(from, r, &out, follow)
			r.Links = len(out.rich)
		}
	}
	if r.OK && !isRedirect(fr.Status) {
		save(e.cfg.Config, e.cancel, r, fr.Body)
	}
	return out
}

// robotsRecord is the record of a seed robots.txt kept from being
// fetched: disallowed, or its site given up because the file could not be
// read (why says how).
func robotsRecord(t Task, v Verdict, why string) *Result {
	err := errors.New("robots.txt disallows it for this user agent (--ignore-robots fetches it anyway)")
	if v == SiteUnavailable {
		if why == "" {
			why = "unreadable"
		}
		err = fmt.Errorf("its site's robots.txt could not be read (%s), so nothing of the site was fetched", why)
	}
	return &Result{URL: t.URL, Line: t.Line, Crawled: true, Err: &fetch.Error{Kind: fetch.KindRobots, Err: err}}
}

// keepBody says which bodies a worker needs in memory. A body without a
// Content-Type is kept so that it can be sniffed.
func (e *engine) keepBody(contentType string) bool {
	return e.cfg.Saver != nil || contentType == "" || isHTML(contentType) || e.cfg.Extractor != nil && isJSON(contentType)
}

// extract runs the Extractor on a page: its items go in the record, its
// links before the page's own. At the last depth only "next" links are
// kept, as they do not go deeper.
func (e *engine) extract(p *Page, r *Result, out *answer, follow bool) {
	x := e.cfg.Extractor.Extract(p)
	r.Items = x.Items
	var links []Link
	for _, l := range x.Links {
		if !follow && !l.Next || l.URL == nil || l.URL.Scheme != "http" && l.URL.Scheme != "https" {
			continue
		}
		if c, err := canonicalURL(l.URL); err == nil {
			l.URL = c
			links = append(links, l)
		}
	}
	out.rich = append(links, out.rich...)
}

// mayFollow says whether a page at depth needs its links: below MaxDepth
// always; at MaxDepth only while a shorter path to it is still possible
// (its depth could drop, and its links come within reach).
func (e *engine) mayFollow(depth int) bool {
	max := e.cfg.MaxDepth
	switch {
	case max < 0 || depth < max:
		return true
	case depth > max || e.depths == nil:
		return false
	}
	return e.inputOpen.Load() || e.depths.MinOpenDepth() < depth
}

// retryWait is the wait before retry number attempt after r.
func (e *engine) retryWait(attempt int, r *fetch.Result) time.Duration {
	if e.cfg.RetryWait != nil {
		return e.cfg.RetryWait(attempt, r)
	}
	if r.RetryAfter > 0 {
		return min(r.RetryAfter, fetch.DefaultMaxRetryWait)
	}
	return min(200*time.Millisecond<<min(attempt-1, 10), fetch.DefaultMaxRetryWait)
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// gate lets workers that found the frontier drained wait for more input
// without missing a wake-up: read the generation before asking the
// frontier, and wait only if no kick came since. A kick with no one
// waiting (every input line of a busy list) makes no channel.
type gate struct {
	mu  sync.Mutex
	gen uint64
	ch  chan struct{} // made by the first waiter of a generation
}

func newGate() *gate { return &gate{} }

// generation is the number of kicks so far.
func (g *gate) generation() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gen
}

// since returns a channel closed by the first kick after generation gen;
// already closed when there was one.
func (g *gate) since(gen uint64) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gen != gen {
		return closedChan
	}
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}

func (g *gate) kick() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gen++
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func describe(r *Result) string {
	if r.Line > 0 {
		return fmt.Sprintf("line %d %s: %s", r.Line, fetch.Redact(r.URL), r.Err)
	}
	return fmt.Sprintf("%s: %s", fetch.Redact(r.URL), r.Err)
}

// sortedSeqs returns the keys of m in order.
func sortedSeqs(m map[int]pendingRecord) []int {
	seqs := make([]int, 0, len(m))
	for seq := range m {
		seqs = append(seqs, seq)
	}
	sort.Ints(seqs)
	return seqs
}
