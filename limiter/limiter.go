// Package limiter is per-host politeness as data: how many requests may be
// in flight to one host, how far apart their starts must be (overall and
// per host), and how long a host rests after it answered 429 or 503.
//
// A Limiter never makes a caller wait. It answers "when may this host go
// next", and the scheduler that owns it keeps the host's URLs queued until
// then, so no worker is ever parked on a busy host. It is the Go form of
// asyncio's Semaphore plus a rate limiter, turned into decisions.
package limiter

import (
	"fmt"
	"time"
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

// Limiter tracks each host's requests in flight, next allowed start and
// cool-down. Hosts are set up on first use and forgotten by Forget once
// nothing about them constrains the future, so memory follows the hosts
// active now, not every host ever met. A Limiter is not safe for concurrent
// use: its owner (a frontier, under its own lock) serialises the calls.
// Times are passed in, so the owner's clock rules.
type Limiter struct {
	cfg        Config
	spacing    time.Duration // least time between starts to one host
	globalGap  time.Duration // least time between any two starts
	globalNext time.Time
	hosts      map[string]*host
	delays     map[string]time.Duration // robots.txt Crawl-delay, kept while hosts come and go
}

type host struct {
	inFlight int
	next     time.Time // earliest next start: spacing and cool-down
}

// New returns a Limiter enforcing cfg.
func New(cfg Config) *Limiter {
	l := &Limiter{cfg: cfg, hosts: map[string]*host{}, delays: map[string]time.Duration{}}
	if cfg.HostRate > 0 {
		l.spacing = time.Duration(float64(time.Second) / cfg.HostRate)
	}
	l.spacing = max(l.spacing, cfg.Delay)
	if cfg.Rate > 0 {
		l.globalGap = time.Duration(float64(time.Second) / cfg.Rate)
	}
	return l
}

// Next says when a request to name may start as far as the host is
// concerned: ok is false while it has no free slot (ask again after Done),
// otherwise at is its earliest start, which may be in the past. The global
// rate is GlobalNext's.
func (l *Limiter) Next(name string) (at time.Time, ok bool) {
	h := l.hosts[name]
	if h == nil {
		return time.Time{}, true
	}
	if l.cfg.PerHost > 0 && h.inFlight >= l.cfg.PerHost {
		return time.Time{}, false
	}
	return h.next, true
}

// GlobalNext is the earliest start of any request, by the overall Rate.
func (l *Limiter) GlobalNext() time.Time { return l.globalNext }

// Start records that a request to name starts now: it takes a slot and
// pushes the host's and the global next start back by their spacing.
func (l *Limiter) Start(name string, now time.Time) {
	h := l.hosts[name]
	if h == nil {
		h = &host{}
		l.hosts[name] = h
	}
	h.inFlight++
	if gap := max(l.spacing, l.delays[name]); gap > 0 {
		h.next = later(h.next, now.Add(gap))
	}
	if l.globalGap > 0 {
		l.globalNext = later(l.globalNext, now.Add(l.globalGap))
	}
}

// Done gives back the slot a Start took.
func (l *Limiter) Done(name string) {
	if h := l.hosts[name]; h != nil && h.inFlight > 0 {
		h.inFlight--
	}
}

// CoolDown holds name back until until, as a server asks with 429 or 503
// and Retry-After. A shorter cool-down never shortens a longer one.
func (l *Limiter) CoolDown(name string, until time.Time) {
	h := l.hosts[name]
	if h == nil {
		h = &host{}
		l.hosts[name] = h
	}
	h.next = later(h.next, until)
}

// SetDelay makes requests to name start at least d apart, as a robots.txt
// Crawl-delay asks, unless a stricter spacing is already set. The host's
// next start moves to d after now: a delay is learnt just before a request
// to the host starts (its robots.txt is read first).
func (l *Limiter) SetDelay(name string, d time.Duration, now time.Time) {
	if d <= l.delays[name] {
		return
	}
	l.delays[name] = d
	h := l.hosts[name]
	if h == nil {
		h = &host{}
		l.hosts[name] = h
	}
	h.next = later(h.next, now.Add(d))
}

// Forget drops the hosts with nothing in flight whose next start is not
// after now: they constrain nothing, and meet them again costs nothing.
func (l *Limiter) Forget(now time.Time) {
	for name, h := range l.hosts {
		if h.inFlight == 0 && !h.next.After(now) {
			delete(l.hosts, name)
		}
	}
}

// Hosts is how many hosts the Limiter remembers now.
func (l *Limiter) Hosts() int { return len(l.hosts) }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
