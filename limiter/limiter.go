// Package limiter decides when a request may go: it bounds concurrency per
// host, spaces requests overall and per host with token buckets, and holds a
// host back for a while after it answered 429 or 503.
//
// It is the Go form of asyncio's Semaphore plus a rate limiter, with every
// wait tied to a context so that cancellation is never blocked by a limit.
package limiter

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// Config sets the limits. The zero value imposes no limit at all.
type Config struct {
	// PerHost is the most requests in flight to one host at once.
	// Zero or less means no per-host cap.
	PerHost int
	// Rate is the most requests per second over all hosts. Zero means unlimited.
	Rate float64
	// HostRate is the most requests per second to one host. Zero means unlimited.
	HostRate float64
	// Delay is the least time between the starts of two requests to one host.
	// Zero means no spacing beyond HostRate.
	Delay time.Duration
}

// Limiter hands out permission to send a request to a host. Hosts are set up
// on first use and kept for the Limiter's life, so memory grows with the
// number of distinct hosts, not requests. A Limiter is safe for concurrent use.
type Limiter struct {
	cfg    Config
	global *rate.Limiter // nil when Rate is 0

	mu    sync.Mutex
	hosts map[string]*hostState
}

type hostState struct {
	sem   *semaphore.Weighted // nil when PerHost is 0
	rate  *rate.Limiter       // nil until HostRate, Delay or SetDelay asks; guarded by Limiter.mu
	until time.Time           // cool-down end; guarded by Limiter.mu
}

// New returns a Limiter enforcing cfg.
func New(cfg Config) *Limiter {
	l := &Limiter{cfg: cfg, hosts: make(map[string]*hostState)}
	if cfg.Rate > 0 {
		l.global = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	return l
}

// Validate reports a configuration that cannot work, naming the field.
func (c Config) Validate() error {
	switch {
	case c.PerHost < 0:
		return fmt.Errorf("per-host must be 0 (no cap) or more, got %d", c.PerHost)
	case c.Rate < 0:
		return fmt.Errorf("rate must be 0 (unlimited) or more, got %g", c.Rate)
	case c.HostRate < 0:
		return fmt.Errorf("host-rate must be 0 (unlimited) or more, got %g", c.HostRate)
	case c.Delay < 0:
		return fmt.Errorf("delay must be 0 or more, got %s", c.Delay)
	}
	return nil
}

func (l *Limiter) host(name string) *hostState {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.hosts[name]
	if ok {
		return h
	}
	h = &hostState{}
	if l.cfg.PerHost > 0 {
		h.sem = semaphore.NewWeighted(int64(l.cfg.PerHost))
	}
	limit := rate.Inf
	if l.cfg.HostRate > 0 {
		limit = rate.Limit(l.cfg.HostRate)
	}
	if l.cfg.Delay > 0 {
		if byDelay := rate.Every(l.cfg.Delay); byDelay < limit {
			limit = byDelay
		}
	}
	if limit != rate.Inf {
		h.rate = rate.NewLimiter(limit, 1)
	}
	l.hosts[name] = h
	return h
}

// Acquire waits until a request to host may start: a per-host slot is free,
// no cool-down is in force, and both rate limits grant a token. The caller
// must call release exactly once when the request (body included) is done.
// It returns ctx's error if ctx ends first, holding nothing.
func (l *Limiter) Acquire(ctx context.Context, host string) (release func(), err error) {
	h := l.host(host)
	if h.sem != nil {
		if err := h.sem.Acquire(ctx, 1); err != nil {
			return nil, err
		}
	}
	release = func() {}
	if h.sem != nil {
		release = func() { h.sem.Release(1) }
	}
	if err := l.waitCoolDown(ctx, host, h); err != nil {
		release()
		return nil, err
	}
	l.mu.Lock()
	hostRate := h.rate // SetDelay may install one later
	l.mu.Unlock()
	if hostRate != nil {
		if err := hostRate.Wait(ctx); err != nil {
			release()
			return nil, err
		}
	}
	if l.global != nil {
		if err := l.global.Wait(ctx); err != nil {
			release()
			return nil, err
		}
	}
	return release, nil
}

// waitCoolDown blocks while host is cooling down. The end may move later
// while we wait (another 429), so it is read again after every wake-up.
func (l *Limiter) waitCoolDown(ctx context.Context, host string, h *hostState) error {
	for {
		l.mu.Lock()
		wait := time.Until(h.until)
		l.mu.Unlock()
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// SetDelay makes requests to host start at least d apart, as a robots.txt
// Crawl-delay asks, unless a stricter spacing is already set.
func (l *Limiter) SetDelay(host string, d time.Duration) {
	if d <= 0 {
		return
	}
	h := l.host(host)
	limit := rate.Every(d)
	l.mu.Lock()
	defer l.mu.Unlock()
	if h.rate == nil {
		h.rate = rate.NewLimiter(limit, 1)
		return
	}
	if limit < h.rate.Limit() {
		h.rate.SetLimit(limit)
	}
}

// CoolDown holds every new request to host back for d from now, as a server
// asks with 429 or 503 and Retry-After. A shorter cool-down never shortens a
// longer one already in force.
func (l *Limiter) CoolDown(host string, d time.Duration) {
	if d <= 0 {
		return
	}
	h := l.host(host)
	until := time.Now().Add(d)
	l.mu.Lock()
	if until.After(h.until) {
		h.until = until
	}
	l.mu.Unlock()
}
