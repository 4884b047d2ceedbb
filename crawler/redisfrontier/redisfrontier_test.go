package redisfrontier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/internal/redistest"
	"github.com/fetchall/fetchall/limiter"
	"github.com/redis/go-redis/v9"
)

func open(t *testing.T, srv *redistest.Server, id string, opts Options) *Frontier {
	t.Helper()
	f, err := Open(t.Context(), srv.URL(), id, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func lease(t *testing.T, f *Frontier, within time.Duration) (crawler.Lease, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	return f.Lease(ctx)
}

// recorded completes l and says its record was written.
func recorded(ctx context.Context, f *Frontier, l crawler.Lease) error {
	if err := f.Complete(ctx, l, crawler.Outcome{Status: 200}); err != nil {
		return err
	}
	return f.Flushed(ctx, []crawler.Written{{Task: l.Task, Status: 200}})
}

// Two processes share one seen set and one queue: a URL added by both is
// queued once, each lease goes to one of them, and both see the end.
func TestTwoProcessesShareOneCrawl(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "c1", Options{})
	b := open(t, srv, "c1", Options{})
	ctx := t.Context()
	tasks := []crawler.Task{{URL: "http://h1/"}, {URL: "http://h2/", Depth: 1}}
	if res, err := a.Add(ctx, tasks); err != nil || res.New != 2 {
		t.Fatalf("a.Add = %+v, %v; want 2 new", res, err)
	}
	if res, err := b.Add(ctx, tasks); err != nil || res.New != 0 {
		t.Fatalf("b.Add of the same = %+v, %v; want 0 new", res, err)
	}
	la, err := lease(t, a, time.Second)
	if err != nil || la.Task.URL != "http://h1/" {
		t.Fatalf("a leased %+v, %v; want the shallowest, http://h1/", la.Task, err)
	}
	lb, err := lease(t, b, time.Second)
	if err != nil || lb.Task.URL != "http://h2/" || lb.Task.Depth != 1 {
		t.Fatalf("b leased %+v, %v; want http://h2/ at depth 1", lb.Task, err)
	}
	if d := b.MinOpenDepth(); d != 0 {
		t.Errorf("MinOpenDepth = %d with depth 0 leased, want 0", d)
	}
	if err := recorded(ctx, a, la); err != nil {
		t.Fatal(err)
	}
	if _, err := lease(t, a, 100*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a's lease while b holds the last URL: %v, want a wait", err)
	}
	if err := recorded(ctx, b, lb); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*Frontier{"a": a, "b": b} {
		if _, err := lease(t, f, time.Second); !errors.Is(err, crawler.ErrDrained) {
			t.Errorf("%s at the end: %v, want ErrDrained", name, err)
		}
	}
}

// --per-host and the spacing hold across processes: with one slot per
// host, a second process gets nothing of that host until the first is
// done, and then only after the delay.
func TestPolitenessIsGlobal(t *testing.T) {
	srv := redistest.Start(t)
	opts := Options{Limits: limiter.Config{PerHost: 1, Delay: 300 * time.Millisecond}}
	a := open(t, srv, "c2", opts)
	b := open(t, srv, "c2", opts)
	ctx := t.Context()
	if _, err := a.Add(ctx, []crawler.Task{{URL: "http://h/1"}, {URL: "http://h/2"}, {URL: "http://other/1"}}); err != nil {
		t.Fatal(err)
	}
	first, err := lease(t, a, time.Second)
	if err != nil || first.Task.Host() != "h" {
		t.Fatalf("first lease %+v, %v", first.Task, err)
	}
	other, err := lease(t, b, time.Second)
	if err != nil || other.Task.Host() != "other" {
		t.Fatalf("b leased %+v, %v; want the other host while h is busy", other.Task, err)
	}
	if _, err := lease(t, b, 150*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b took a second URL of h while a holds one: %v", err)
	}
	done := time.Now()
	if err := recorded(ctx, a, first); err != nil {
		t.Fatal(err)
	}
	second, err := lease(t, b, 2*time.Second)
	if err != nil || second.Task.URL != "http://h/2" {
		t.Fatalf("b's lease after a completed: %+v, %v", second.Task, err)
	}
	// The delay counts from the first lease's start, before done.
	if gap := time.Since(done); gap < 100*time.Millisecond {
		t.Errorf("h's second URL went %s after the first ended; want the 300ms delay from its start kept", gap)
	}
}

// A process killed while holding a lease loses nothing: once its lease
// expires, another process gets the URL.
func TestExpiredLeaseGoesBack(t *testing.T) {
	srv := redistest.Start(t)
	opts := Options{LeaseTTL: 300 * time.Millisecond}
	dead, err := Open(t.Context(), srv.URL(), "c3", opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dead.Add(t.Context(), []crawler.Task{{URL: "http://h/x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lease(t, dead, time.Second); err != nil {
		t.Fatal(err)
	}
	dead.Close() // no Complete, no renewal: as after kill -9
	alive := open(t, srv, "c3", opts)
	l, err := lease(t, alive, 3*time.Second)
	if err != nil || l.Task.URL != "http://h/x" {
		t.Fatalf("after the lease expired: %+v, %v; want http://h/x", l.Task, err)
	}
	if err := recorded(t.Context(), alive, l); err != nil {
		t.Fatal(err)
	}
	if _, err := lease(t, alive, time.Second); !errors.Is(err, crawler.ErrDrained) {
		t.Errorf("at the end: %v, want ErrDrained", err)
	}
}

// A process that stalls past its lease (no renewal reaches Redis) finds,
// when it is done, that the page went to another process: Complete and
// Release say the lease was lost, and the page is counted done once.
func TestStalledLeaseIsLost(t *testing.T) {
	srv := redistest.Start(t)
	opts := Options{LeaseTTL: 300 * time.Millisecond}
	stalled := open(t, srv, "c9", opts)
	if _, err := stalled.Add(t.Context(), []crawler.Task{{URL: "http://h/x"}, {URL: "http://h/y"}}); err != nil {
		t.Fatal(err)
	}
	x, err := lease(t, stalled, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	y, err := lease(t, stalled, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	stalled.mu.Lock()
	clear(stalled.held) // a stall: its renewals stop reaching Redis
	stalled.mu.Unlock()

	other := open(t, srv, "c9", opts)
	for range 2 {
		l, err := lease(t, other, 3*time.Second)
		if err != nil {
			t.Fatalf("after the stalled leases expired: %v", err)
		}
		if err := recorded(t.Context(), other, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := stalled.Complete(t.Context(), x, crawler.Outcome{Status: 200}); !errors.Is(err, crawler.ErrLeaseLost) {
		t.Errorf("Complete on an expired lease: %v, want ErrLeaseLost", err)
	}
	if err := stalled.Release(t.Context(), y, crawler.Outcome{}, time.Time{}); !errors.Is(err, crawler.ErrLeaseLost) {
		t.Errorf("Release of an expired lease: %v, want ErrLeaseLost", err)
	}
	if _, err := lease(t, other, time.Second); !errors.Is(err, crawler.ErrDrained) {
		t.Errorf("at the end: %v, want ErrDrained (the lost release queued nothing)", err)
	}
	if r, err := Status(t.Context(), srv.URL(), "c9"); err != nil || r.Done != 2 {
		t.Errorf("status %+v, %v; want 2 done", r, err)
	}
}

// A live process keeps its leases past the TTL by renewing them.
func TestHeldLeaseIsRenewed(t *testing.T) {
	srv := redistest.Start(t)
	opts := Options{LeaseTTL: 300 * time.Millisecond}
	a := open(t, srv, "c4", opts)
	b := open(t, srv, "c4", opts)
	if _, err := a.Add(t.Context(), []crawler.Task{{URL: "http://h/x"}}); err != nil {
		t.Fatal(err)
	}
	l, err := lease(t, a, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := lease(t, b, time.Second); err == nil {
		t.Fatalf("b got %s, held and renewed by a", got.Task.URL)
	}
	if err := recorded(t.Context(), a, l); err != nil {
		t.Fatal(err)
	}
}

// A retry waits for its time in Redis, not in a worker, and keeps its
// attempts.
func TestRetryWaitsInRedis(t *testing.T) {
	srv := redistest.Start(t)
	f := open(t, srv, "c5", Options{})
	ctx := t.Context()
	if _, err := f.Add(ctx, []crawler.Task{{URL: "http://h/0"}}); err != nil {
		t.Fatal(err)
	}
	l, err := lease(t, f, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	l.Task.Attempts = 1
	released := time.Now()
	if err := f.Release(ctx, l, crawler.Outcome{Status: 503}, released.Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	again, err := lease(t, f, 2*time.Second)
	if err != nil || again.Task.URL != "http://h/0" || again.Task.Attempts != 1 {
		t.Fatalf("the retry: %+v, %v", again.Task, err)
	}
	if waited := time.Since(released); waited < 250*time.Millisecond {
		t.Errorf("the retry came back after %s, want 300ms", waited)
	}
}

// --max-pages counts the whole crawl, and another command's crawl id is
// refused.
func TestMaxPagesAndMismatch(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "c6", Options{MaxPages: 3, Fingerprint: "crawl http://h/"})
	b := open(t, srv, "c6", Options{MaxPages: 3, Fingerprint: "crawl http://h/"})
	ctx := t.Context()
	var tasks []crawler.Task
	for i := range 10 {
		tasks = append(tasks, crawler.Task{URL: fmt.Sprintf("http://h/%d", i)})
	}
	if _, err := a.Add(ctx, tasks); err != nil {
		t.Fatal(err)
	}
	leased := 0
	for _, f := range []*Frontier{a, b, a, b, a} {
		l, err := lease(t, f, 2*time.Second)
		if errors.Is(err, crawler.ErrDrained) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		leased++
		if err := recorded(ctx, f, l); err != nil {
			t.Fatal(err)
		}
	}
	if leased != 3 {
		t.Errorf("%d pages leased by two processes with max pages 3", leased)
	}
	if r, err := Status(ctx, srv.URL(), "c6"); err != nil || !r.Capped() || r.Finished() || r.MaxPages != 3 || r.Queued != 7 {
		t.Errorf("status after the cap: %+v, %v; want capped at 3, not finished, 7 queued", r, err)
	}
	// A process started with a larger cap goes on, and the status says
	// its cap (it kept saying the first process's); one with none clears
	// it.
	c := open(t, srv, "c6", Options{MaxPages: 5, Fingerprint: "crawl http://h/"})
	if r, err := Status(ctx, srv.URL(), "c6"); err != nil || r.Capped() || r.MaxPages != 5 {
		t.Errorf("status with a process of a larger cap: %+v, %v; want not capped, at 5", r, err)
	}
	for range 2 {
		l, err := lease(t, c, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := recorded(ctx, c, l); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := Status(ctx, srv.URL(), "c6"); err != nil || !r.Capped() || r.MaxPages != 5 || r.Queued != 5 {
		t.Errorf("status after the larger cap: %+v, %v; want capped at 5, 5 queued", r, err)
	}
	open(t, srv, "c6", Options{Fingerprint: "crawl http://h/"})
	if r, err := Status(ctx, srv.URL(), "c6"); err != nil || r.Capped() || r.MaxPages != 0 {
		t.Errorf("status with a process of no cap: %+v, %v; want no cap", r, err)
	}
	_, err := Open(ctx, srv.URL(), "c6", Options{Fingerprint: "crawl http://u:TOPSECRET@other/"})
	if !errors.Is(err, ErrMismatch) || strings.Contains(err.Error(), "TOPSECRET") || !strings.Contains(err.Error(), "u:xxxxx@other") {
		t.Errorf("another command on the crawl id: %v, want ErrMismatch, its password masked", err)
	}
}

// A page robots.txt disallowed was never fetched: it does not count
// against the crawl's MaxPages.
func TestMaxPagesCountsFetchesOnly(t *testing.T) {
	srv := redistest.Start(t)
	f := open(t, srv, "c10", Options{MaxPages: 2})
	ctx := t.Context()
	if _, err := f.Add(ctx, []crawler.Task{{URL: "http://h/private"}, {URL: "http://h/1"}, {URL: "http://h/2"}, {URL: "http://h/3"}}); err != nil {
		t.Fatal(err)
	}
	l, err := lease(t, f, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Complete(ctx, l, crawler.Outcome{NoRecord: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		l, err := lease(t, f, time.Second)
		if err != nil {
			t.Fatalf("lease %d after a disallowed page, with max pages 2: %v", i+1, err)
		}
		if err := recorded(ctx, f, l); err != nil {
			t.Fatal(err)
		}
	}
	if l, err := lease(t, f, 300*time.Millisecond); err == nil {
		t.Errorf("a third page fetched (%s) with max pages 2", l.Task.URL)
	}
}

// A Redis that does not answer is said at once.
func TestUnreachable(t *testing.T) {
	_, err := Open(t.Context(), "redis://127.0.0.1:1/0", "c", Options{})
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("Open of a closed port: %v, want ErrUnreachable", err)
	}
}

// A page completed by a process that dies before its record reaches the
// output is fetched again: the lease ends only once the record is written.
func TestCompletedButUnrecordedGoesBack(t *testing.T) {
	srv := redistest.Start(t)
	opts := Options{LeaseTTL: 300 * time.Millisecond}
	dead, err := Open(t.Context(), srv.URL(), "c7", opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := dead.Add(ctx, []crawler.Task{{URL: "http://h/x"}, {URL: "http://h/y"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		l, err := lease(t, dead, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if l.Task.URL == "http://h/x" {
			err = dead.Complete(ctx, l, crawler.Outcome{Status: 200}) // its record never written
		} else {
			err = recorded(ctx, dead, l)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	dead.Close()
	alive := open(t, srv, "c7", opts)
	l, err := lease(t, alive, 3*time.Second)
	if err != nil || l.Task.URL != "http://h/x" {
		t.Fatalf("after the dead process's lease expired: %+v, %v; want http://h/x again", l.Task, err)
	}
	if err := alive.Complete(ctx, l, crawler.Outcome{Status: 200, NoRecord: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := lease(t, alive, time.Second); !errors.Is(err, crawler.ErrDrained) {
		t.Errorf("at the end: %v, want ErrDrained", err)
	}
	r, err := Status(ctx, srv.URL(), "c7")
	if err != nil || r.Done != 2 || r.Expired != 1 || !r.Finished() {
		t.Errorf("status %+v, %v; want 2 done, 1 expired, finished", r, err)
	}
}

// A leased page met by a shorter path, in any process, is relinked: it is
// listed with its new depth and parent, and counts as open at that depth
// until Relinked (so no deeper record is final meanwhile). A page that
// ends with no record has no links to relink: its relink ends with it.
func TestLoweredLeaseIsRelinked(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "rl", Options{})
	b := open(t, srv, "rl", Options{})
	ctx := t.Context()
	minOpen := func(f *Frontier) int {
		time.Sleep(pollEvery + 5*time.Millisecond) // past its cached reading
		return f.MinOpenDepth()
	}
	deep := []crawler.Task{{URL: "http://h/x", Depth: 3, Parent: "http://h/b"}, {URL: "http://h/z", Depth: 3, Parent: "http://h/b"}}
	if _, err := a.Add(ctx, deep); err != nil {
		t.Fatal(err)
	}
	var leases []crawler.Lease
	for range 2 {
		l, err := lease(t, a, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		leases = append(leases, l)
	}
	if err := a.Complete(ctx, leases[0], crawler.Outcome{Status: 200}); err != nil { // its record is held, not written
		t.Fatal(err)
	}
	shorter := []crawler.Task{{URL: "http://h/x", Depth: 2, Parent: "http://h/s"}, {URL: "http://h/z", Depth: 1, Parent: "http://h/"}}
	res, err := b.Add(ctx, shorter)
	if err != nil || res.New != 0 || len(res.Lowered) != 0 {
		t.Fatalf("b.Add = %+v, %v; want nothing new and nothing Lowered (relinked instead)", res, err)
	}
	relinks, err := a.Relinks(ctx)
	if err != nil || len(relinks) != 2 {
		t.Fatalf("Relinks = %+v, %v; want both pages", relinks, err)
	}
	byURL := map[string]crawler.Task{}
	for _, r := range relinks {
		byURL[r.URL] = r
	}
	if x := byURL["http://h/x"]; x.Depth != 2 || x.Parent != "http://h/s" {
		t.Errorf("relinked x = %+v, want depth 2 from http://h/s", x)
	}
	if d := minOpen(a); d != 1 {
		t.Errorf("MinOpenDepth = %d with relinks at 1 and 2, want 1", d)
	}
	// z ends with no record (robots.txt): its relink goes with it.
	if err := a.Complete(ctx, leases[1], crawler.Outcome{NoRecord: true}); err != nil {
		t.Fatal(err)
	}
	if d := minOpen(a); d != 2 {
		t.Errorf("MinOpenDepth = %d after z ended with no record, want 2 (x's relink)", d)
	}
	// A Relinked at a depth that is no longer the relink's changes nothing.
	if err := a.Relinked(ctx, crawler.Task{URL: "http://h/x", Depth: 3}); err != nil {
		t.Fatal(err)
	}
	if d := minOpen(a); d != 2 {
		t.Errorf("MinOpenDepth = %d after a stale Relinked, want 2", d)
	}
	if err := a.Relinked(ctx, byURL["http://h/x"]); err != nil {
		t.Fatal(err)
	}
	if relinks, err := b.Relinks(ctx); err != nil || len(relinks) != 0 {
		t.Errorf("Relinks after Relinked = %+v, %v; want none", relinks, err)
	}
	if d := minOpen(a); d != -1 {
		t.Errorf("MinOpenDepth = %d with nothing open, want -1", d)
	}
}

// A lease that sent nothing (robots.txt kept its URL back) gives its
// host's spacing back: the host's next URL goes at once, not a delay
// later. One that was sent keeps it.
func TestUnsentLeaseGivesTheSpacingBack(t *testing.T) {
	srv := redistest.Start(t)
	f := open(t, srv, "unsent", Options{Limits: limiter.Config{PerHost: 1, Delay: 2 * time.Second}})
	ctx := t.Context()
	if _, err := f.Add(ctx, []crawler.Task{{URL: "http://h/private"}, {URL: "http://h/1"}, {URL: "http://h/2"}}); err != nil {
		t.Fatal(err)
	}
	kept, err := lease(t, f, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Complete(ctx, kept, crawler.Outcome{NoRecord: true, Unsent: true}); err != nil {
		t.Fatal(err)
	}
	sent, err := lease(t, f, 500*time.Millisecond)
	if err != nil {
		t.Fatalf("the host's next URL after an unsent one: %v, want it at once", err)
	}
	if err := recorded(ctx, f, sent); err != nil {
		t.Fatal(err)
	}
	if l, err := lease(t, f, 500*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a URL of the host went %+v right after one that was sent; want the 2s delay", l.Task)
	}
}

// A Crawl-delay learnt with a host's first request (its robots.txt is read
// after that request's lease) holds the second request back from the
// first, as in memory: the shared frontier let the second go at once.
func TestCrawlDelayLearntSpacesTheSecondRequest(t *testing.T) {
	srv := redistest.Start(t)
	f := open(t, srv, "learnt", Options{Limits: limiter.Config{PerHost: 2}})
	ctx := t.Context()
	if _, err := f.Add(ctx, []crawler.Task{{URL: "http://h/1"}, {URL: "http://h/2"}}); err != nil {
		t.Fatal(err)
	}
	first, err := lease(t, f, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	f.SetDelay("h", 600*time.Millisecond)
	f.SetDelay("h", 600*time.Millisecond) // learnt again by the next page: no later
	learnt := time.Now()
	if err := recorded(ctx, f, first); err != nil {
		t.Fatal(err)
	}
	if _, err := lease(t, f, 300*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the second URL went before the Crawl-delay: %v", err)
	}
	if _, err := lease(t, f, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if gap := time.Since(learnt); gap < 550*time.Millisecond || gap > 1500*time.Millisecond {
		t.Errorf("the second URL went %s after the delay was learnt, want about 600ms", gap)
	}
}

// A Redis URL that does not parse, or names no Redis, is quoted without
// its password: the error showed "redis://:s3cret@..." whole, and a
// password with an '@' from that '@' on; url.Parse's own error quoted it
// whole, and a bad escape in it.
func TestBadURLErrorMasksThePassword(t *testing.T) {
	for _, raw := range []string{
		"redis://:PWsecret@127.0.0.1:6379/abc", "http://user:PWsecret@127.0.0.1:6379/0",
		"redis://:PW@secret@127.0.0.1:1/0", "redis://u:PW secret@127.0.0.1:1/0", "redis://u:PW%zzsecret@127.0.0.1:1/0",
	} {
		_, err := Open(t.Context(), raw, "x", Options{})
		_, statusErr := Status(t.Context(), raw, "x")
		for _, e := range []error{err, statusErr} {
			if e == nil || strings.Contains(e.Error(), "PW") || strings.Contains(e.Error(), "secret") ||
				strings.Contains(e.Error(), "%zz") || !strings.Contains(e.Error(), ":xxxxx@127.0.0.1") {
				t.Errorf("%s: %v, want an error with the password masked", raw, e)
			}
		}
	}
}

// A reset while a process holds live leases is refused: deleted under a
// running process, the crawl went on as a new one and fetched its pages
// again. With nothing leased, the crawl is deleted.
func TestResetOfACrawlInUseIsRefused(t *testing.T) {
	srv := redistest.Start(t)
	f := open(t, srv, "c11", Options{Fingerprint: "crawl http://h/"})
	ctx := t.Context()
	if _, err := f.Add(ctx, []crawler.Task{{URL: "http://h/1"}, {URL: "http://h/2"}}); err != nil {
		t.Fatal(err)
	}
	l, err := lease(t, f, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Reset(ctx, srv.URL(), "c11"); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "1 process running, 1 URL leased") {
		t.Fatalf("reset with a live lease: %v, want ErrInUse", err)
	}
	if r, err := Status(ctx, srv.URL(), "c11"); err != nil || r.Command == "" || r.Leased != 1 || r.Running != 1 {
		t.Fatalf("the crawl after the refused reset: %+v, %v; want it whole, one process running", r, err)
	}
	if err := recorded(ctx, f, l); err != nil {
		t.Fatal(err)
	}
	// A process holding no lease at the moment (waiting out a delay) is
	// working on the crawl all the same: the reset deleted it under it.
	if _, err := Reset(ctx, srv.URL(), "c11"); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "1 process running, 0 URLs leased") {
		t.Fatalf("reset while a process holds no lease: %v, want ErrInUse", err)
	}
	f.Close()
	if r, err := Status(ctx, srv.URL(), "c11"); err != nil || r.Running != 0 {
		t.Fatalf("after the process closed: %+v, %v; want no process running", r, err)
	}
	if n, err := Reset(ctx, srv.URL(), "c11"); err != nil || n == 0 {
		t.Fatalf("reset with no process left: %d keys, %v", n, err)
	}
	if r, err := Status(ctx, srv.URL(), "c11"); err != nil || r.Command != "" {
		t.Errorf("after the reset: %+v, %v; want no such crawl", r, err)
	}
}

// The per-host cap (the trap guard) holds over every process: two
// processes sharing a crawl took the cap's worth each from one host.
// Seeds count toward it but are never refused; other hosts are apart.
func TestHostCapIsGlobal(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "cap", Options{MaxPagesPerHost: 3})
	b := open(t, srv, "cap", Options{MaxPagesPerHost: 3})
	ctx := t.Context()
	links := func(from, to int) []crawler.Task {
		var out []crawler.Task
		for i := from; i < to; i++ {
			out = append(out, crawler.Task{URL: fmt.Sprintf("http://trap/%d", i), Depth: 1})
		}
		return out
	}
	if res, err := a.Add(ctx, append([]crawler.Task{{URL: "http://trap/", SeedChain: true}}, links(0, 1)...)); err != nil || res.New != 2 || res.OverHostCap != 0 {
		t.Fatalf("a.Add of a seed and a link = %+v, %v; want 2 new", res, err)
	}
	if res, err := b.Add(ctx, links(0, 5)); err != nil || res.New != 1 || res.OverHostCap != 3 {
		t.Fatalf("b.Add of 5 links, one seen = %+v, %v; want 1 new (the cap of 3 reached) and 3 refused", res, err)
	}
	if res, err := a.Add(ctx, []crawler.Task{{URL: "http://trap/again", SeedChain: true}, {URL: "http://other/", Depth: 2}}); err != nil || res.New != 2 || res.OverHostCap != 0 {
		t.Fatalf("a.Add of a seed of the capped host and a link elsewhere = %+v, %v; want both new", res, err)
	}
	// A listing's next page keeps its depth (0) but is no seed: capped.
	if res, err := b.Add(ctx, []crawler.Task{{URL: "http://trap/page-2", Chain: 1}}); err != nil || res.New != 0 || res.OverHostCap != 1 {
		t.Fatalf("b.Add of a next page at depth 0 = %+v, %v; want it refused by the cap", res, err)
	}
	// Without a cap, nothing is refused.
	c := open(t, srv, "nocap", Options{})
	if res, err := c.Add(ctx, links(0, 10)); err != nil || res.New != 10 || res.OverHostCap != 0 {
		t.Fatalf("no cap: %+v, %v; want 10 new", res, err)
	}
}

// A process killed with -9 says nothing at its end: it is taken for gone
// once its lease ttl has passed without word from it.
func TestKilledProcessIsForgottenAfterItsTTL(t *testing.T) {
	srv := redistest.Start(t)
	f := open(t, srv, "c12", Options{Fingerprint: "crawl http://h/", LeaseTTL: 300 * time.Millisecond})
	ctx := t.Context()
	if _, err := Reset(ctx, srv.URL(), "c12"); !errors.Is(err, ErrInUse) {
		t.Fatalf("reset while the process lives: %v, want ErrInUse", err)
	}
	f.stop() // as a kill: no renewal, no goodbye
	f.renewer.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := Reset(ctx, srv.URL(), "c12")
		if err == nil {
			break
		}
		if !errors.Is(err, ErrInUse) || time.Now().After(deadline) {
			t.Fatalf("reset after the killed process's ttl: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The crawl's command stays in Redis, which others may read, for as long
// as the crawl: its passwords are masked there. A process with another
// password on the same command joins the crawl.
func TestCommandInRedisHasNoPassword(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	open(t, srv, "c13", Options{Fingerprint: "crawl http://u:TOPSECRET@h/"})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	cmd, err := rdb.HGet(ctx, Prefix("c13")+"config", "command").Result()
	if err != nil || strings.Contains(cmd, "TOPSECRET") || cmd != "crawl http://u:xxxxx@h/" {
		t.Errorf("command in Redis %q, %v; want the password masked", cmd, err)
	}
	if _, err := Open(ctx, srv.URL(), "c13", Options{Fingerprint: "crawl http://u:other@h/"}); err != nil {
		t.Errorf("the same command with another password: %v, want it to join", err)
	}
}
