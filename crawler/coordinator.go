package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/fetchall/fetchall/fetch"
)

// coordinate is the coordinator's loop: it takes input into the frontier,
// and workers' answers into records, links and lease endings, until every
// worker has exited and every answer is handled.
func (e *engine) coordinate(ctx context.Context, input <-chan Task, workersDone <-chan struct{}) {
	// Held records are looked at again now and then, not only when an
	// answer comes: a shared frontier's smallest open depth can change
	// through other processes' work.
	heldCheck := time.NewTicker(20 * time.Millisecond)
	defer heldCheck.Stop()
	for {
		var heldDue <-chan time.Time
		if len(e.held) > 0 {
			heldDue = heldCheck.C
		}
		select {
		case <-heldDue:
			e.relink(ctx)
			e.flushHeld()
		case t, ok := <-input:
			if !ok {
				input = nil
				e.inputOpen.Store(false)
				e.gate.kick()
				e.flushHeld()
				continue
			}
			e.admit(ctx, t)
		case a := <-e.results:
			e.handle(ctx, a)
		case <-e.w.due():
			e.flush(ctx)
		case <-workersDone:
			for {
				select {
				case a := <-e.results:
					e.handle(ctx, a)
				default:
					return
				}
			}
		}
	}
}

// add puts tasks in the frontier and says how many were new; a frontier
// that fails ends the run.
func (e *engine) add(ctx context.Context, tasks ...Task) int {
	if len(tasks) == 0 || e.runErr != nil {
		return 0
	}
	res, err := e.fr.Add(ctx, tasks)
	if err != nil {
		if ctx.Err() == nil {
			e.fail(fmt.Errorf("frontier: %w", err))
		}
		return 0
	}
	e.stats.Seen += res.New
	if res.OverHostCap > 0 {
		e.countTrap(TrapHostCap, res.OverHostCap)
	}
	for _, t := range res.Lowered {
		e.lower(ctx, t)
	}
	return res.New
}

// countTrap counts n URLs left out for reason.
func (e *engine) countTrap(reason string, n int) {
	if e.stats.Traps == nil {
		e.stats.Traps = map[string]int{}
	}
	e.stats.Traps[reason] += n
}

func (e *engine) fail(err error) {
	if e.runErr == nil {
		e.runErr = err
		e.cancel(err)
	}
}

// admit takes one input task: a seed is made canonical, widens the scope,
// and is queued; a bad line is a record. (Valid list lines are queued by
// the reader itself: addListed.)
func (e *engine) admit(ctx context.Context, t Task) {
	if t.Invalid != nil {
		e.emit(&Result{URL: t.URL, Line: t.Line, Err: &fetch.Error{Kind: badURLKind(t.Invalid), Err: t.Invalid}}, t)
		return
	}
	e.release() // a seed holds no place in the window once queued
	u, err := fetch.ParseURL(t.URL)
	var cu *url.URL
	if err == nil {
		cu, err = canonicalURL(u)
	}
	if err != nil {
		e.emit(&Result{URL: t.URL, Line: t.Line, Err: &fetch.Error{Kind: badURLKind(err), Err: err}}, Task{})
		return
	}
	if t.FromSitemap {
		// Listed by a sitemap, not given: scope applies as to any link.
		e.enqueue(ctx, cu, Task{Line: t.Line})
	} else {
		e.scope().AddSeed(cu)
		if e.cfg.SeedOrigins != nil {
			e.cfg.SeedOrigins.Add(cu)
		}
		t.URL, t.SeedChain = cu.String(), true
		if e.add(ctx, t) > 0 && e.cfg.MaxPagesPerHost > 0 {
			e.hostPages[t.Host()]++
		}
	}
	e.gate.kick()
}

func badURLKind(err error) fetch.Kind {
	if errors.Is(err, fetch.ErrUnsupportedScheme) {
		return fetch.KindUnsupportedScheme
	}
	return fetch.KindBadURL
}

// scope is the crawl's scope; a run without one (a list) allows all.
func (e *engine) scope() *Scope {
	if e.cfg.Scope == nil {
		e.cfg.Scope, _ = NewScope(ScopeAny, nil, nil, nil)
	}
	return e.cfg.Scope
}

// enqueue queues a discovered URL if it is in scope, within MaxDepth, and
// no trap, without its tracking parameters.
func (e *engine) enqueue(ctx context.Context, u *url.URL, t Task) {
	if e.cfg.MaxDepth >= 0 && t.Depth > e.cfg.MaxDepth {
		return
	}
	if !e.cfg.KeepParams {
		u = stripTracking(u)
	}
	if !e.scope().Allows(u) {
		e.stats.OutOfScope++
		return
	}
	t.URL = u.String()
	host := t.Host()
	reason := trap(u, t.URL)
	if reason == "" && e.cfg.MaxPagesPerHost > 0 && e.hostPages[host] >= e.cfg.MaxPagesPerHost {
		reason = TrapHostCap
	}
	if reason != "" {
		e.countTrap(reason, 1)
		return
	}
	if e.add(ctx, t) > 0 && e.cfg.MaxPagesPerHost > 0 {
		e.hostPages[host]++
	}
}

// handle takes a worker's answer: the lease is ended, and the record is
// written (or held until its depth is final) after the links it found are
// queued, so that the frontier is never seen drained with links pending.
func (e *engine) handle(ctx context.Context, a answer) {
	t := a.task
	if len(e.improve) > 0 && !t.Listed {
		if better, ok := e.improve[t.Key()]; ok {
			delete(e.improve, t.Key())
			if better.Depth < t.Depth {
				t.Depth, t.Parent, t.Hops, t.SeedChain = better.Depth, better.Parent, better.Hops, better.SeedChain
			}
		}
	}
	// A resumable run writes no record for a page the interrupt cut short:
	// it stays queued, and the resume fetches it.
	interrupted := e.cfg.Journal != nil && a.result != nil && a.result.Err != nil && a.result.Err.Kind == fetch.KindCanceled
	switch {
	case a.unstarted || interrupted:
		// Back to the frontier: a resumed or shared crawl still has it.
		e.endLease(ctx, a.lease, a.outcome, &time.Time{})
		if t.Listed {
			e.release() // it yields no record
		}
		return
	case a.retried:
		return
	}
	switch a.verdict {
	case Disallowed:
		e.stats.RobotsBlocked++
	case SiteUnavailable:
		e.stats.SiteDeferred++
	}
	if a.result == nil {
		o := a.outcome
		o.NoRecord = true
		e.endLease(ctx, a.lease, o, nil)
		return
	}
	r := a.result
	if !t.Listed {
		r.Depth, r.Parent = t.Depth, t.Parent
		e.follow(ctx, t, r, a.rich, a.links, a.redirect)
	}
	if e.endLease(ctx, a.lease, a.outcome, nil) {
		// Fetched again, or being, elsewhere: that fetch's record is the
		// page's one.
		if t.Listed {
			e.release()
		}
		return
	}
	if a.verdict == Allowed {
		e.stats.Pages++ // not a seed robots.txt kept from being fetched
	}
	if e.cfg.FailFast && !r.OK && !e.stopped.Load() {
		e.stopped.Store(true)
		e.cancel(fmt.Errorf("%w: %s", ErrFailFast, describe(r)))
	}
	if t.Listed || e.final(t.Depth) {
		e.emit(r, t)
		e.flushHeld()
		return
	}
	p := &heldPage{key: t.Key(), task: t, rec: r, links: compactLinks(a.links), rich: a.rich, redirect: a.redirect}
	e.held[p.key] = p
	e.heldAt = growTo(e.heldAt, t.Depth)
	e.heldAt[t.Depth] = append(e.heldAt[t.Depth], p)
	e.flushHeld()
}

// follow queues a page's redirect target and links: those that carry
// data or lead to a next page first, so that a link met both ways keeps
// what it carries and the depth of a next page.
func (e *engine) follow(ctx context.Context, t Task, r *Result, rich []Link, links []*url.URL, redirect *url.URL) {
	if redirect != nil {
		if t.Hops >= e.cfg.MaxRedirects {
			r.OK = false
			r.Err = &fetch.Error{Kind: fetch.KindTooManyRedirects, Err: fetch.StoppedAfterRedirects(t.Hops)}
		} else {
			if t.SeedChain {
				e.scope().AddSeed(redirect) // a seed's site moved: follow it
			}
			e.enqueue(ctx, redirect, Task{Depth: t.Depth, Parent: t.URL, Hops: t.Hops + 1, SeedChain: t.SeedChain, Data: t.Data, Chain: t.Chain})
		}
	}
	for _, l := range rich {
		next := Task{Depth: t.Depth + 1, Parent: t.URL, Data: l.Data}
		if l.Next {
			next.Depth, next.Chain = t.Depth, t.Chain+1
			if next.Data == nil {
				next.Data = t.Data // a listing's next page keeps what its first page got
			}
		}
		e.enqueue(ctx, l.URL, next)
	}
	for _, l := range links {
		e.enqueue(ctx, l, Task{Depth: t.Depth + 1, Parent: t.URL})
	}
}

// endLease completes the lease, or releases it until *retryAt when
// retryAt is not nil. It says whether the lease had been lost.
func (e *engine) endLease(ctx context.Context, l Lease, o Outcome, retryAt *time.Time) (lost bool) {
	var err error
	if retryAt != nil {
		err = e.fr.Release(ctx, l, o, *retryAt)
	} else {
		err = e.fr.Complete(ctx, l, o)
	}
	if errors.Is(err, ErrLeaseLost) {
		e.stats.LeasesLost++
		return true
	}
	if err != nil && ctx.Err() == nil {
		e.fail(fmt.Errorf("frontier: %w", err))
	}
	return false
}

// lower handles a page met by a shorter path after it was leased: a held
// record takes the smaller depth and its links are queued one level
// shallower; a page still in flight is corrected when its answer comes.
func (e *engine) lower(ctx context.Context, t Task) {
	p, ok := e.held[t.Key()]
	if !ok {
		e.improve[t.Key()] = t
		return
	}
	if t.Depth >= p.rec.Depth {
		return
	}
	p.rec.Depth, p.rec.Parent = t.Depth, t.Parent
	p.task.Depth, p.task.Parent = t.Depth, t.Parent
	e.heldAt = growTo(e.heldAt, t.Depth)
	e.heldAt[t.Depth] = append(e.heldAt[t.Depth], p)
	self := Task{URL: p.rec.URL, Depth: t.Depth, Parent: t.Parent, Hops: t.Hops, SeedChain: t.SeedChain, Data: p.task.Data, Chain: p.task.Chain}
	e.follow(ctx, self, &Result{}, p.rich, expandLinks(p.links), p.redirect)
}

// relink takes the pages that another process (or this one) met by a
// shorter path while this one holds their records: each record gets the
// new depth and the page's links are queued again from there (lower);
// only then is the frontier told, so that no deeper record is final in
// between. A page whose record is elsewhere, or whose answer has not come
// yet, is left for later: its record is held until then.
func (e *engine) relink(ctx context.Context) {
	if e.relinks == nil || len(e.held) == 0 {
		return
	}
	tasks, err := e.relinks.Relinks(ctx)
	for i := 0; err == nil && i < len(tasks); i++ {
		if _, held := e.held[tasks[i].Key()]; held { // written records leave held
			e.lower(ctx, tasks[i])
			err = e.relinks.Relinked(ctx, tasks[i])
		}
	}
	if err != nil && ctx.Err() == nil {
		e.fail(fmt.Errorf("frontier: %w", err))
	}
}

// final says whether a page at depth can no longer be reached by a shorter
// path: nothing shallower is queued or in flight, and no seed can come.
func (e *engine) final(depth int) bool {
	if depth == 0 || e.depths == nil {
		return true
	}
	if e.inputOpen.Load() {
		return false
	}
	open := e.depths.MinOpenDepth()
	return open < 0 || open >= depth
}

// flushHeld writes the held records whose depth became final, shallowest
// first.
func (e *engine) flushHeld() {
	if len(e.held) == 0 {
		return
	}
	for d := range e.heldAt {
		if !e.final(d) {
			return
		}
		for _, p := range e.heldAt[d] {
			if p.written || p.rec.Depth != d {
				continue // written, or moved to a smaller depth
			}
			p.written = true
			delete(e.held, p.key)
			e.emit(p.rec, p.task)
		}
		e.heldAt[d] = nil
	}
}

// emit writes r, in input order when asked (list lines only), and frees
// its place in the reading window.
func (e *engine) emit(r *Result, t Task) {
	if !t.Listed || !e.cfg.Ordered {
		e.write(r, t)
		if t.Listed || t.Invalid != nil {
			e.release()
		}
		return
	}
	e.pending[t.seq] = pendingRecord{r, t}
	for {
		p, ok := e.pending[e.nextSeq]
		if !ok {
			return
		}
		delete(e.pending, e.nextSeq)
		e.nextSeq++
		e.write(p.result, p.task)
		e.release()
	}
}

// pendingRecord is a finished record waiting for its turn (Ordered).
type pendingRecord struct {
	result *Result
	task   Task
}

// write hands r to the writer, and remembers t for the journal.
func (e *engine) write(r *Result, t Task) {
	e.w.write(r)
	if e.cfg.Journal != nil {
		w := Written{Task: t, Status: r.Status}
		if r.Err != nil {
			w.Kind = r.Err.Kind
		}
		e.unjournaled = append(e.unjournaled, w)
	}
}

// flush flushes the sink and then tells the journal which tasks' records
// it now holds; a journal that fails ends the run.
func (e *engine) flush(ctx context.Context) {
	e.w.flush()
	e.journal(ctx)
}

func (e *engine) journal(ctx context.Context) {
	if e.cfg.Journal == nil || e.w.err != nil || e.runErr != nil {
		return
	}
	if err := e.cfg.Journal.Flushed(ctx, e.unjournaled); err != nil {
		e.fail(err) // the journal names itself: a state, a shared frontier
	}
	e.unjournaled = e.unjournaled[:0]
}

// release frees one place in the reading window.
func (e *engine) release() { e.window.release() }

// finish writes what is still held when the run ends: records held for
// their depth, and ordered records whose predecessors never came (the run
// was cancelled before they started).
func (e *engine) finish() {
	for d := range e.heldAt {
		for _, p := range e.heldAt[d] {
			if !p.written && p.rec.Depth == d {
				p.written = true
				e.write(p.rec, p.task)
			}
		}
	}
	e.held, e.heldAt = nil, nil
	for _, seq := range sortedSeqs(e.pending) {
		e.write(e.pending[seq].result, e.pending[seq].task)
	}
	e.pending = nil
}

// compactLinks keeps a held page's links as strings: a held page may wait
// a while, and a parsed URL takes three times the memory of its text.
func compactLinks(links []*url.URL) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.String()
	}
	return out
}

// expandLinks parses compacted links again (they are canonical URLs).
func expandLinks(links []string) []*url.URL {
	out := make([]*url.URL, 0, len(links))
	for _, l := range links {
		if u, err := url.Parse(l); err == nil {
			out = append(out, u)
		}
	}
	return out
}

func growTo[T any](s [][]T, i int) [][]T {
	for len(s) <= i {
		s = append(s, nil)
	}
	return s
}
