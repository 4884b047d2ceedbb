// Package redisfrontier is a crawler.Frontier kept in Redis, so that many
// fetchall processes on any number of machines work on one crawl: one seen
// set, one queue per host, and one politeness schedule for all of them.
//
// Each step (add if unseen, lease a task of a host that is due, complete,
// give back) is one Lua script, atomic and one round trip. A lease expires
// unless the process that holds it renews it, so the URLs of a process
// killed with -9 go back to the queue after the lease TTL. Times come from
// the Redis server's clock, so hosts are spaced right whatever the
// machines' clocks say. The crawl is over, for every process, when nothing
// is queued, leased or waiting for a retry anywhere.
//
// The data model (see frontier.lua) keeps a URL in Redis as a seen-set
// field and, while queued, a sorted-set member: about 200 bytes a URL.
package redisfrontier

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/limiter"
)

//go:embed frontier.lua
var script string

var steps = redis.NewScript(script)

// quiet is go-redis's logger for us: library code does not print, and
// every error reaches the caller anyway.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var silence sync.Once

// DefaultLeaseTTL is how long a lease lasts unless renewed: how long the
// URLs of a killed process wait before another process takes them.
const DefaultLeaseTTL = 30 * time.Second

// pollEvery bounds how long a Lease waits before asking Redis again: other
// processes' work (new links, completed leases) is seen at least this often.
const pollEvery = 20 * time.Millisecond

// Options configure a Frontier.
type Options struct {
	// Limits are the crawl's politeness, held across all processes.
	Limits limiter.Config
	// MaxPages is the most pages the whole crawl fetches (0: no limit).
	MaxPages int
	// MaxPagesPerHost is the most URLs the whole crawl takes from one
	// host (0: no cap), counted over every process: the trap guard of
	// crawler.Config.MaxPagesPerHost, which one process alone can only
	// hold for the URLs it queued itself.
	MaxPagesPerHost int
	// LeaseTTL is how long a lease lasts unless renewed (DefaultLeaseTTL
	// when zero); leases are renewed at a third of it.
	LeaseTTL time.Duration
	// Fingerprint names the crawl's command; a process whose fingerprint
	// differs from the first one's is refused (ErrMismatch).
	Fingerprint string
}

// ErrMismatch is returned by Open when the crawl id names a crawl of
// another command.
var ErrMismatch = errors.New("the crawl id names another crawl")

// ErrUnreachable wraps the error of a Redis that cannot be reached at Open.
var ErrUnreachable = errors.New("redis unreachable")

// pingWithin is how long a Redis has to answer its first PING.
const pingWithin = 5 * time.Second

// unreachable says why the Redis at rawURL did not answer, in a user's
// words for a silent one ("context deadline exceeded" named no wait).
func unreachable(rawURL string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %s: no answer to PING within %s (is a Redis server listening there?)", ErrUnreachable, fetch.Redact(rawURL), pingWithin)
	}
	return fmt.Errorf("%w: %s: %v", ErrUnreachable, fetch.Redact(rawURL), err)
}

// slowAnswer says, for a command Redis did not answer in time, which Redis
// and what may be wrong with it: go-redis says "i/o timeout" alone, and a
// stopped or overloaded Redis stops every process of the crawl.
type slowAnswer struct {
	where  string
	within time.Duration
}

func (h slowAnswer) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h slowAnswer) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		var netErr net.Error
		if err != nil && ctx.Err() == nil && errors.As(err, &netErr) && netErr.Timeout() {
			err = fmt.Errorf("the Redis at %s gave no answer within %s (is it stopped, or overloaded?): %w", h.where, h.within, err)
			cmd.SetErr(err)
		}
		return err
	}
}

func (h slowAnswer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// Frontier is the shared frontier of one crawl. Use Open; Close it.
type Frontier struct {
	rdb    *redis.Client
	prefix string
	opts   Options

	mu         sync.Mutex
	held       map[uint64]struct{} // lease IDs this process holds (renewed)
	unrecorded map[uint64]uint64   // task Key -> lease ID: completed, record not yet written
	wake       chan struct{}       // closed when this process changed the frontier
	depth      int                 // MinOpenDepth, as last read
	readAt     time.Time

	outputs []output // set before the run

	// id names this process in the crawl's set of live processes, which
	// it renews with its leases, for Reset and Status to see.
	id      string
	stop    context.CancelFunc
	renewer sync.WaitGroup
}

// Open connects to the Redis at rawURL (redis://HOST:PORT/DB) and joins
// the crawl named crawlID, creating it if it is new.
func Open(ctx context.Context, rawURL, crawlID string, opts Options) (*Frontier, error) {
	if crawlID == "" || strings.ContainsAny(crawlID, "{}\n") {
		return nil, fmt.Errorf("crawl id %q: want a name without braces or newlines", crawlID)
	}
	ropts, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	ropts.MaxRetries = 2
	silence.Do(func() { redis.SetLogger(quiet{}) })
	rdb := redis.NewClient(ropts)
	rdb.AddHook(slowAnswer{where: fetch.Redact(rawURL), within: rdb.Options().ReadTimeout})
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	f := &Frontier{rdb: rdb, prefix: Prefix(crawlID), opts: opts, held: map[uint64]struct{}{}, unrecorded: map[uint64]uint64{}, wake: make(chan struct{}), depth: -1}
	pingCtx, cancel := context.WithTimeout(ctx, pingWithin)
	defer cancel()
	if err := rdb.Ping(pingCtx).Err(); err != nil {
		rdb.Close()
		return nil, unreachable(rawURL, err)
	}
	if opts.Fingerprint != "" {
		// Kept with its passwords masked: the command stays in Redis, which
		// others may read, for as long as the crawl does, and a crawl with
		// another password is the same crawl.
		fingerprint := fetch.RedactText(opts.Fingerprint)
		key := f.prefix + "config"
		if err := rdb.HSetNX(pingCtx, key, "command", fingerprint).Err(); err != nil {
			rdb.Close()
			return nil, fmt.Errorf("frontier: %w", err)
		}
		first, err := rdb.HGet(pingCtx, key, "command").Result()
		if err != nil {
			rdb.Close()
			return nil, fmt.Errorf("frontier: %w", err)
		}
		if first != fingerprint {
			rdb.Close()
			return nil, fmt.Errorf("%w: crawl %q is `%s`, this is `%s` (another --crawl-id, or --reset it first)", ErrMismatch, crawlID, fetch.RedactText(first), fingerprint)
		}
	}
	// For --status: a crawl stopped by its cap is not "in progress". The
	// cap is the last process's: one started with a larger cap, or none,
	// goes on past the first one's, which the status kept saying.
	capErr := rdb.HDel(pingCtx, f.prefix+"config", "max_pages").Err()
	if opts.MaxPages > 0 {
		capErr = rdb.HSet(pingCtx, f.prefix+"config", "max_pages", opts.MaxPages).Err()
	}
	if capErr != nil {
		rdb.Close()
		return nil, fmt.Errorf("frontier: %w", capErr)
	}
	f.id = processID()
	if _, err := f.run(pingCtx, "renew", ms(opts.LeaseTTL), f.id); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("frontier: %w", err)
	}
	renewCtx, stop := context.WithCancel(context.Background())
	f.stop = stop
	f.renewer.Go(func() { f.renew(renewCtx) })
	return f, nil
}

// processID names a process among those of a crawl: its host, its PID and
// a random part (PIDs repeat across machines and restarts).
func processID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%08x", host, os.Getpid(), rand.Uint32())
}

// Prefix is the prefix of every Redis key of the crawl crawlID. The braces
// make it a hash tag, so that in a Redis Cluster the crawl's keys share a
// slot, as its scripts need.
func Prefix(crawlID string) string { return "fetchall:{" + crawlID + "}:" }

// parseURL reads a Redis URL. Its error names the URL with the password
// hidden: url.Parse's own quotes it whole.
func parseURL(rawURL string) (*redis.Options, error) {
	ropts, err := redis.ParseURL(rawURL)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = errors.New(fetch.URLProblem(rawURL, err))
		}
		return nil, fmt.Errorf("frontier %q: %w", fetch.Redact(rawURL), err)
	}
	return ropts, nil
}

// Close stops renewing leases, says this process has left the crawl, and
// closes the connection.
func (f *Frontier) Close() error {
	f.stop()
	f.renewer.Wait()
	// At worst (Redis gone) the process stays listed until its lease ttl.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	f.rdb.ZRem(ctx, f.prefix+"procs", f.id)
	cancel()
	return f.rdb.Close()
}

// run runs one step of the script.
func (f *Frontier) run(ctx context.Context, op string, args ...any) (any, error) {
	l := f.opts.Limits
	all := append([]any{f.prefix, l.PerHost, boolArg(l.ProbeFirst), op}, args...)
	return steps.Run(ctx, f.rdb, nil, all...).Result()
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// member is a task as the host queues hold it: its Key, then its JSON.
func member(t crawler.Task) string {
	return fmt.Sprintf("%016x", t.Key()) + string(crawler.MarshalTask(t))
}

// Add implements crawler.Frontier.
func (f *Frontier) Add(ctx context.Context, tasks []crawler.Task) (crawler.AddResult, error) {
	var res crawler.AddResult
	for len(tasks) > 0 {
		batch := tasks[:min(len(tasks), 500)]
		tasks = tasks[len(batch):]
		args := make([]any, 0, 1+5*len(batch))
		args = append(args, f.opts.MaxPagesPerHost)
		for _, t := range batch {
			// A seed the user gave is never refused by the cap, as the
			// engine queues it without asking; a listing's next pages,
			// at its depth, are.
			seed := t.SeedChain && t.Hops == 0
			args = append(args, fmt.Sprintf("%016x", t.Key()), t.Depth, t.Host(), member(t), boolArg(!seed))
		}
		out, err := f.run(ctx, "add", args...)
		if err != nil {
			return res, fmt.Errorf("add to the shared frontier: %w", err)
		}
		// A page met by a shorter path after its lease is not Lowered here
		// but relinked (Relinks): its record may be in another process.
		counts, _ := out.([]any)
		var added, over int64
		ok := len(counts) == 2
		if ok {
			added, ok = counts[0].(int64)
		}
		if ok {
			over, ok = counts[1].(int64)
		}
		if !ok {
			return res, fmt.Errorf("add to the shared frontier: unexpected answer %v", out)
		}
		res.New += int(added)
		res.OverHostCap += int(over)
	}
	if res.New > 0 {
		f.kick()
	}
	return res, nil
}

// Relinks implements crawler.Relinker: the pages met by a shorter path
// after they were leased, in any process, at their new depth and parent.
func (f *Frontier) Relinks(ctx context.Context) ([]crawler.Task, error) {
	out, err := f.run(ctx, "relinks")
	if err != nil {
		return nil, fmt.Errorf("read the shared frontier's relinks: %w", err)
	}
	values, _ := out.([]any)
	tasks := make([]crawler.Task, 0, len(values))
	for _, v := range values {
		s, _ := v.(string)
		_, m, ok := strings.Cut(s, "\n")
		if !ok || len(m) < 16 {
			return nil, fmt.Errorf("read the shared frontier's relinks: unexpected entry %q", s)
		}
		t, err := crawler.UnmarshalTask([]byte(m[16:]))
		if err != nil {
			return nil, fmt.Errorf("read the shared frontier's relinks: %w", err)
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// Relinked implements crawler.Relinker.
func (f *Frontier) Relinked(ctx context.Context, t crawler.Task) error {
	if _, err := f.run(ctx, "relinked", fmt.Sprintf("%016x", t.Key()), t.Depth); err != nil {
		return fmt.Errorf("relink %s in the shared frontier: %w", t.URL, err)
	}
	return nil
}

// kick wakes this process's waiting Leases.
func (f *Frontier) kick() {
	f.mu.Lock()
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
}

// ms turns a duration into whole milliseconds, at least 1 when positive.
func ms(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return max(1, d.Milliseconds())
}

// intervals are the least spacing of two starts on one host, and on all.
func (f *Frontier) intervals() (perHost, global int64) {
	l := f.opts.Limits
	perHost = ms(l.Delay)
	if l.HostRate > 0 {
		perHost = max(perHost, int64(math.Ceil(1000/l.HostRate)))
	}
	if l.Rate > 0 {
		global = int64(math.Ceil(1000 / l.Rate))
	}
	return perHost, global
}

// Lease implements crawler.Frontier.
func (f *Frontier) Lease(ctx context.Context) (crawler.Lease, error) {
	perHost, global := f.intervals()
	for {
		f.mu.Lock()
		wake := f.wake
		f.mu.Unlock()
		out, err := f.run(ctx, "lease", ms(f.opts.LeaseTTL), perHost, global, f.opts.MaxPages)
		if err != nil {
			if ctx.Err() != nil {
				return crawler.Lease{}, ctx.Err()
			}
			return crawler.Lease{}, fmt.Errorf("lease from the shared frontier: %w", err)
		}
		parts, _ := out.([]any)
		kind := ""
		if len(parts) > 0 {
			kind, _ = parts[0].(string)
		}
		switch {
		case kind == "lease" && len(parts) == 3:
			id, err := strconv.ParseUint(fmt.Sprint(parts[1]), 10, 64)
			m, _ := parts[2].(string)
			if err != nil || len(m) < 16 {
				return crawler.Lease{}, fmt.Errorf("lease from the shared frontier: unexpected answer %v", out)
			}
			t, err := crawler.UnmarshalTask([]byte(m[16:]))
			if err != nil {
				return crawler.Lease{}, fmt.Errorf("lease from the shared frontier: %w", err)
			}
			f.mu.Lock()
			f.held[id] = struct{}{}
			f.mu.Unlock()
			return crawler.Lease{Task: t, ID: id}, nil
		case kind == "drained":
			return crawler.Lease{}, crawler.ErrDrained
		case kind == "wait" && len(parts) == 2:
			// The server's time is not ours: wait at most pollEvery.
			timer := time.NewTimer(pollEvery)
			select {
			case <-ctx.Done():
				timer.Stop()
				return crawler.Lease{}, ctx.Err()
			case <-wake:
			case <-timer.C:
			}
			timer.Stop()
		default:
			return crawler.Lease{}, fmt.Errorf("lease from the shared frontier: unexpected answer %v", out)
		}
	}
}

// Complete implements crawler.Frontier.
func (f *Frontier) Complete(ctx context.Context, l crawler.Lease, o crawler.Outcome) error {
	if err := f.end(ctx, l, "complete", ms(o.CoolDown), o.Status, boolArg(o.NoRecord), boolArg(o.Unsent)); err != nil {
		return err
	}
	f.mu.Lock()
	if o.NoRecord {
		delete(f.held, l.ID)
	} else {
		f.unrecorded[l.Task.Key()] = l.ID // held and renewed until Flushed
	}
	f.mu.Unlock()
	return nil
}

// Flushed implements crawler.Journal: the leases of pages whose records
// reached this process's output end, and only then, in one step with the
// outputs' new lengths. A process killed between a page's completion and
// that step leaves the lease to expire, and the page is fetched again; the
// same command run again cuts its output back to the committed length
// (see AddOutput), so each page has one record.
func (f *Frontier) Flushed(ctx context.Context, done []crawler.Written) error {
	if len(done) == 0 {
		return nil
	}
	args := []any{len(f.outputs)}
	for _, o := range f.outputs {
		n, err := o.offset()
		if err != nil {
			return fmt.Errorf("sync %s: %w", o.name, err)
		}
		args = append(args, o.name, n)
	}
	f.mu.Lock()
	for _, w := range done {
		k := w.Task.Key()
		if id, ok := f.unrecorded[k]; ok {
			delete(f.unrecorded, k)
			delete(f.held, id)
			args = append(args, id)
		}
	}
	f.mu.Unlock()
	if _, err := f.run(context.WithoutCancel(ctx), "recorded", args...); err != nil {
		return fmt.Errorf("shared frontier: %w", err)
	}
	return nil
}

// output is a file this process writes records to.
type output struct {
	name   string
	offset func() (int64, error)
}

// AddOutput names an output this process writes (OutputName) and how to
// learn its length once synced to disk: every commit keeps it, and
// Committed tells it to the same command run again.
func (f *Frontier) AddOutput(name string, offset func() (int64, error)) {
	f.outputs = append(f.outputs, output{name, offset})
}

// Committed is the length of the output name at its last commit: what a
// process writing it again keeps (0 for an output never committed).
func (f *Frontier) Committed(ctx context.Context, name string) (int64, error) {
	n, err := f.rdb.HGet(ctx, f.prefix+"outputs", name).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("shared frontier: %w", err)
	}
	return n, nil
}

// Release implements crawler.Frontier.
func (f *Frontier) Release(ctx context.Context, l crawler.Lease, o crawler.Outcome, notBefore time.Time) error {
	var wait int64
	if !notBefore.IsZero() {
		wait = ms(time.Until(notBefore))
	}
	return f.end(ctx, l, "release", ms(o.CoolDown), wait, member(l.Task), boolArg(o.Unsent))
}

func (f *Frontier) end(ctx context.Context, l crawler.Lease, op string, args ...any) error {
	if op == "release" {
		f.mu.Lock()
		delete(f.held, l.ID)
		f.mu.Unlock()
	}
	// The step must reach Redis even when the run is being cancelled, or
	// the URL stays leased until its lease expires.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	out, err := f.run(ctx, op, append([]any{l.ID}, args...)...)
	if err != nil {
		return fmt.Errorf("%s in the shared frontier: %w", op, err)
	}
	f.kick()
	if n, ok := out.(int64); ok && n == 0 {
		f.mu.Lock()
		delete(f.held, l.ID) // not ours to renew any more
		f.mu.Unlock()
		return crawler.ErrLeaseLost
	}
	return nil
}

// renew keeps this process's leases alive until ctx ends.
func (f *Frontier) renew(ctx context.Context) {
	tick := time.NewTicker(f.opts.LeaseTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		f.mu.Lock()
		ids := make([]any, 0, len(f.held)+2)
		ids = append(ids, ms(f.opts.LeaseTTL), f.id)
		for id := range f.held {
			ids = append(ids, id)
		}
		f.mu.Unlock()
		// A renewal that fails is tried again at the next tick; a Redis that
		// stays down fails the run's next step.
		rctx, cancel := context.WithTimeout(ctx, f.opts.LeaseTTL/3)
		_, _ = f.run(rctx, "renew", ids...)
		cancel()
	}
}

// MinOpenDepth implements crawler.DepthReporter for the whole crawl. It is
// read from Redis at most every pollEvery; a stale answer only holds a
// record back longer.
func (f *Frontier) MinOpenDepth() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.readAt) < pollEvery {
		return f.depth
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	open, err := f.rdb.HGetAll(ctx, f.prefix+"open").Result()
	if err != nil {
		return f.depth // a failing Redis fails the next step instead
	}
	f.depth = -1
	for d, n := range open {
		depth, err1 := strconv.Atoi(d)
		count, err2 := strconv.Atoi(n)
		if err1 == nil && err2 == nil && count > 0 && (f.depth < 0 || depth < f.depth) {
			f.depth = depth
		}
	}
	f.readAt = time.Now()
	return f.depth
}

// SetDelay implements crawler.DelaySetter: a host's Crawl-delay holds for
// every process.
func (f *Frontier) SetDelay(host string, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = f.run(ctx, "delay", host, ms(d))
}

// LoadRobots implements crawler.RobotsStore: a robots.txt another process
// of the crawl read.
func (f *Frontier) LoadRobots(ctx context.Context, site string) (int, []byte, bool, error) {
	v, err := f.rdb.Get(ctx, f.prefix+"robots:"+site).Bytes()
	if errors.Is(err, redis.Nil) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, err
	}
	status, body, ok := bytes.Cut(v, []byte{'\n'})
	n, err := strconv.Atoi(string(status))
	if !ok || err != nil {
		return 0, nil, false, nil // damaged: fetched again
	}
	return n, body, true, nil
}

// StoreRobots implements crawler.RobotsStore.
func (f *Frontier) StoreRobots(ctx context.Context, site string, status int, body []byte) error {
	v := append([]byte(strconv.Itoa(status)+"\n"), body...)
	return f.rdb.SetNX(ctx, f.prefix+"robots:"+site, v, 0).Err()
}
