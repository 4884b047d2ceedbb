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
	"math"
	"time"

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
	// ProbeFirst sends a host's first request alone: until it is done, the
	// host takes no other. A crawl learns a host's robots.txt and
	// Crawl-delay with its first page, before the others may go.
	ProbeFirst bool
}

// Validate reports a configuration that cannot work, naming the field.
func (c Config) Validate() error {
	switch {
	case c.PerHost < 0:
		return fmt.Errorf("limiter: PerHost must be 0 (no cap) or more, got %d", c.PerHost)
	case c.Rate < 0:
		return fmt.Errorf("limiter: Rate must be 0 (unlimited) or more, got %g", c.Rate)
	case c.HostRate < 0:
		return fmt.Errorf("limiter: HostRate must be 0 (unlimited) or more, got %g", c.HostRate)
	case c.Delay < 0:
		return fmt.Errorf("limiter: Delay must be 0 or more, got %s", c.Delay)
	}
	return nil
}

// Limiter tracks each host's requests in flight, rate and cool-down.
// Spacing is a token bucket of one token (golang.org/x/time/rate), asked
// without waiting: TokensAt says how long until the next token. Hosts are
// set up on first use and forgotten by Forget once nothing about them
// constrains the future, so memory follows the hosts active now, not every
// host ever met. A Limiter is not safe for concurrent use: its owner (a
// frontier, under its own lock) serialises the calls. Times are passed in,
// so the owner's clock rules.
type Limiter struct {
	cfg    Config
	every  rate.Limit    // per-host limit from HostRate and Delay; rate.Inf: none
	global *rate.Limiter // nil when Rate is 0
	hosts  map[string]*host
	delays map[string]time.Duration // robots.txt Crawl-delay, kept while hosts come and go
	starts uint64                   // Starts so far, for Refund
}

type host struct {
	inFlight int
	probed   bool          // a request has been done (ProbeFirst)
	rate     *rate.Limiter // nil: no spacing
	until    time.Time     // cool-down, or a Crawl-delay just learnt
	starts   uint64        // Starts so far, for Refund
}

// Ticket is what a Start took, for Refund.
type Ticket struct {
	hostStarts, starts uint64
}

// New returns a Limiter enforcing cfg.
func New(cfg Config) *Limiter {
	l := &Limiter{cfg: cfg, every: rate.Inf, hosts: map[string]*host{}, delays: map[string]time.Duration{}}
	if cfg.HostRate > 0 {
		l.every = rate.Limit(cfg.HostRate)
	}
	if cfg.Delay > 0 {
		l.every = min(l.every, rate.Every(cfg.Delay))
	}
	if cfg.Rate > 0 {
		l.global = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	return l
}

func (l *Limiter) host(name string) *host {
	h := l.hosts[name]
	if h == nil {
		h = &host{}
		limit := l.every
		if d := l.delays[name]; d > 0 {
			limit = min(limit, rate.Every(d))
		}
		if limit != rate.Inf {
			h.rate = rate.NewLimiter(limit, 1)
		}
		l.hosts[name] = h
	}
	return h
}

// untilToken is when lim has a whole token, from now.
func untilToken(lim *rate.Limiter, now time.Time) time.Time {
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return now
	}
	wait := (1 - tokens) / float64(lim.Limit()) * float64(time.Second)
	// Whole microseconds: float noise must not make 100ms read 100.000001ms.
	return now.Add(time.Duration(math.Round(wait/1e3)) * time.Microsecond)
}

// Next says when a request to name may start as far as the host is
// concerned: ok is false while it has no free slot (ask again after Done),
// otherwise at is its earliest start, which may be now. The global rate
// is GlobalNext's.
func (l *Limiter) Next(name string, now time.Time) (at time.Time, ok bool) {
	h := l.hosts[name]
	if h == nil {
		return now, true
	}
	if l.cfg.PerHost > 0 && h.inFlight >= l.cfg.PerHost || l.cfg.ProbeFirst && !h.probed && h.inFlight > 0 {
		return time.Time{}, false
	}
	at = later(now, h.until)
	if h.rate != nil {
		at = later(at, untilToken(h.rate, now))
	}
	return at, true
}

// GlobalNext is the earliest start of any request, by the overall Rate.
func (l *Limiter) GlobalNext(now time.Time) time.Time {
	if l.global == nil {
		return now
	}
	return untilToken(l.global, now)
}

// Start records that a request to name starts now: it takes a slot and a
// token of the host's and the global rate (a start never waits here:
// Next said when).
func (l *Limiter) Start(name string, now time.Time) Ticket {
	h := l.host(name)
	h.inFlight++
	h.starts++
	l.starts++
	if h.rate != nil {
		h.rate.ReserveN(now, 1)
	}
	if l.global != nil {
		l.global.ReserveN(now, 1)
	}
	return Ticket{hostStarts: h.starts, starts: l.starts}
}

// Refund gives back the tokens a Start took for a request that was never
// sent (robots.txt kept it back): the host, and the run, may go again at
// once rather than a Crawl-delay later, unless another request started
// there since. Its slot is given back by Done, as for any start. (Every
// bucket holds one token, full before a Start: a full bucket anew is the
// state before it. rate's Reservation.Cancel cannot do this: it gives
// nothing back once the reserved time has come, which it had at once.)
func (l *Limiter) Refund(name string, t Ticket) {
	if h := l.hosts[name]; h != nil && h.rate != nil && h.starts == t.hostStarts {
		h.rate = rate.NewLimiter(h.rate.Limit(), 1)
	}
	if l.global != nil && l.starts == t.starts {
		l.global = rate.NewLimiter(l.global.Limit(), 1)
	}
}

// Done gives back the slot a Start took.
func (l *Limiter) Done(name string) {
	if h := l.hosts[name]; h != nil && h.inFlight > 0 {
		h.inFlight--
		h.probed = true
	}
}

// CoolDown holds name back until until, as a server asks with 429 or 503
// and Retry-After. A shorter cool-down never shortens a longer one.
func (l *Limiter) CoolDown(name string, until time.Time) {
	h := l.host(name)
	h.until = later(h.until, until)
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
	h := l.host(name)
	switch {
	case h.rate == nil:
		h.rate = rate.NewLimiter(rate.Every(d), 1)
	case rate.Every(d) < h.rate.Limit():
		h.rate.SetLimitAt(now, rate.Every(d))
	}
	h.until = later(h.until, now.Add(d))
}

// Forget drops the hosts that constrain nothing from now on: nothing in
// flight, no cool-down, a full bucket. Meeting them again costs nothing.
func (l *Limiter) Forget(now time.Time) {
	for name, h := range l.hosts {
		if h.inFlight == 0 && !h.until.After(now) && (h.rate == nil || h.rate.TokensAt(now) >= 1) {
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
