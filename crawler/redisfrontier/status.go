package redisfrontier

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	summary "github.com/fetchall/fetchall/output"
	"github.com/redis/go-redis/v9"
)

// Report is where a shared crawl stands, for --status.
type Report struct {
	Command  string         // the command of the first process
	Seen     int64          // URLs found
	Queued   int64          // waiting for a lease
	Leased   int64          // in flight in some process
	Delayed  int64          // waiting for a retry
	Done     int64          // pages done
	Started  int64          // pages fetched or in flight (not given back, not disallowed): what MaxPages counts
	MaxPages int64          // the crawl's cap on pages (0: none)
	Expired  int64          // leases that expired and went back (a process died)
	Running  int64          // processes alive: heard from within their lease ttl
	ByHost   map[string]int // pages done by host
	ByStatus map[string]int // pages done by HTTP status ("0": no answer)
	Bytes    int64          // the crawl's memory in Redis, as MEMORY USAGE says
}

// Finished says whether the crawl has ended: something was done, and
// nothing is queued, leased or delayed.
func (r *Report) Finished() bool {
	return r.Done > 0 && r.Queued == 0 && r.Leased == 0 && r.Delayed == 0
}

// Capped says whether the crawl stopped at its MaxPages: every page it may
// fetch was, and nothing is in flight; what is still queued never will be.
func (r *Report) Capped() bool {
	return r.MaxPages > 0 && r.Started >= r.MaxPages && r.Leased == 0
}

// connect opens a client and checks that the server answers.
func connect(ctx context.Context, rawURL string) (*redis.Client, error) {
	ropts, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	silence.Do(func() { redis.SetLogger(quiet{}) })
	rdb := redis.NewClient(ropts)
	ctx, cancel := context.WithTimeout(ctx, pingWithin)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, unreachable(rawURL, err)
	}
	return rdb, nil
}

// Status reads where the crawl crawlID stands, without changing it, in
// full: by host, by status, and the crawl's memory in Redis (a walk over
// all its keys, one per host).
func Status(ctx context.Context, rawURL, crawlID string) (*Report, error) {
	return read(ctx, rawURL, crawlID, true)
}

// Counts is Status without the detail (ByHost, ByStatus, Bytes): a few
// fixed reads, however large the crawl, for a process's summary at its end.
func Counts(ctx context.Context, rawURL, crawlID string) (*Report, error) {
	return read(ctx, rawURL, crawlID, false)
}

func read(ctx context.Context, rawURL, crawlID string, detail bool) (*Report, error) {
	rdb, err := connect(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	p := Prefix(crawlID)
	r := &Report{ByHost: map[string]int{}, ByStatus: map[string]int{}}
	now, err := rdb.Time(ctx).Result() // the clock the processes' times are on
	if err != nil {
		return nil, fmt.Errorf("status of crawl %q: %w", crawlID, err)
	}
	pipe := rdb.Pipeline()
	command := pipe.HGet(ctx, p+"config", "command")
	maxPages := pipe.HGet(ctx, p+"config", "max_pages")
	seen := pipe.HLen(ctx, p+"seen")
	stats := pipe.HGetAll(ctx, p+"stats")
	leased := pipe.ZCard(ctx, p+"leases")
	delayed := pipe.ZCard(ctx, p+"delayed")
	running := pipe.ZCount(ctx, p+"procs", "("+strconv.FormatInt(now.UnixMilli(), 10), "+inf")
	var byHost, byStatus *redis.MapStringStringCmd
	if detail {
		byHost = pipe.HGetAll(ctx, p+"byhost")
		byStatus = pipe.HGetAll(ctx, p+"statuses")
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("status of crawl %q: %w", crawlID, err)
	}
	r.Command = command.Val()
	r.MaxPages = atoi(maxPages.Val())
	r.Seen, r.Leased, r.Delayed, r.Running = seen.Val(), leased.Val(), delayed.Val(), running.Val()
	st := stats.Val()
	r.Queued = atoi(st["queued"])
	r.Done = atoi(st["done"])
	r.Started = atoi(st["pages"])
	r.Expired = atoi(st["expired"])
	if !detail {
		return r, nil
	}
	for h, n := range byHost.Val() {
		r.ByHost[h] = int(atoi(n))
	}
	for s, n := range byStatus.Val() {
		r.ByStatus[s] = int(atoi(n))
	}
	keys, err := crawlKeys(ctx, rdb, crawlID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		n, err := rdb.MemoryUsage(ctx, k).Result()
		if err == nil {
			r.Bytes += n
		}
	}
	return r, nil
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// crawlKeys lists the crawl's keys.
func crawlKeys(ctx context.Context, rdb *redis.Client, crawlID string) ([]string, error) {
	var keys []string
	iter := rdb.Scan(ctx, 0, Prefix(crawlID)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("list the keys of crawl %q: %w", crawlID, err)
	}
	return keys, nil
}

// ErrInUse is a Reset of a crawl that running processes hold leases of.
var ErrInUse = errors.New("processes are working on it")

// Reset deletes the crawl crawlID from Redis and returns how many keys it
// had. A crawl whose leases are live (running processes renew them) is
// ErrInUse: deleted under them, it went on as a new crawl that fetched
// again the pages done before (5,689 records for a site of 5,433 pages),
// while its status said "no such crawl".
func Reset(ctx context.Context, rawURL, crawlID string) (int, error) {
	rdb, err := connect(ctx, rawURL)
	if err != nil {
		return 0, err
	}
	defer rdb.Close()
	now, err := rdb.Time(ctx).Result()
	if err != nil {
		return 0, fmt.Errorf("reset crawl %q: %w", crawlID, err)
	}
	after := "(" + strconv.FormatInt(now.UnixMilli(), 10)
	live, err := rdb.ZCount(ctx, Prefix(crawlID)+"leases", after, "+inf").Result()
	if err != nil {
		return 0, fmt.Errorf("reset crawl %q: %w", crawlID, err)
	}
	// A process holding no lease at this moment (waiting out a delay,
	// or for others' pages) is in use of the crawl all the same.
	running, err := rdb.ZCount(ctx, Prefix(crawlID)+"procs", after, "+inf").Result()
	if err != nil {
		return 0, fmt.Errorf("reset crawl %q: %w", crawlID, err)
	}
	if live > 0 || running > 0 {
		return 0, fmt.Errorf("crawl %q: %w: %s running, %s leased; stop them first (a process killed is forgotten after its --lease-ttl)",
			crawlID, ErrInUse, summary.CountNouns(int(running), "process", "processes"), summary.Count(int(live), "URL"))
	}
	keys, err := crawlKeys(ctx, rdb, crawlID)
	if err != nil {
		return 0, err
	}
	n := len(keys)
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 500)]
		keys = keys[len(batch):]
		if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
			return 0, fmt.Errorf("reset crawl %q: %w", crawlID, err)
		}
	}
	return n, nil
}
