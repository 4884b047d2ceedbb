package crawler

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Task is one URL waiting to be fetched.
type Task struct {
	URL    string // canonical for crawled pages; as written for list lines
	Depth  int    // links followed from a seed; redirects do not count
	Parent string // the page that linked or redirected here; "" for seeds
	Line   int    // the line of the list or seeds file, or 0
	Hops   int    // redirects followed to get here
	// SeedChain is true for a seed and the targets of its redirects, whose
	// hosts join the scope (a seed redirecting to www. keeps its site).
	SeedChain bool
	// FromSitemap marks a seed listed by a sitemap: unlike a seed given by
	// the user, it does not widen the scope.
	FromSitemap bool
	// Listed marks a line of a URL list: it is fetched as written, once per
	// line, duplicates included, and its redirects are followed by the
	// HTTP client rather than by the crawl.
	Listed bool
	// Attempts is how many times the URL was tried already (retries).
	Attempts int
	// ByGet says that the server refused the URL's HEAD: it is fetched
	// with Config.GetFallback.
	ByGet bool
	// FirstTry is when the first attempt started; zero before it.
	FirstTry time.Time
	// Data is what the link that led here carried (Link.Data): opaque to
	// the crawl, kept with the task wherever it is stored.
	Data []byte
	// Chain counts the "next" links walked to get here (Link.Next).
	Chain int
	// Invalid, when set, is why the input line is not a URL to fetch; the
	// engine writes it as a record and queues nothing.
	Invalid error

	seq int // input order, for Config.Ordered
}

// Key is the task's identity in a frontier's seen set: a 64-bit FNV-1a
// hash of its canonical URL, or of its line number for a list line (every
// list line is fetched, duplicates included). It is the same in every
// process and every run, so a persisted or shared frontier can rely on it.
func (t Task) Key() uint64 {
	if t.Listed {
		var buf [32]byte // "line:" and the number, on the stack
		return fnv64a(strconv.AppendInt(append(buf[:0], "line:"...), int64(t.Line), 10))
	}
	return fnv64a(t.URL)
}

// StableHash is the hash Task keys are made with: the same in every
// process and every run, for what a state or a shared frontier keeps.
func StableHash(s string) uint64 { return fnv64a(s) }

// fnv64a is hash/fnv's 64-bit FNV-1a, by hand: through hash.Hash64 the
// bytes escaped, an allocation for every key made (TestKeyIsFNV1a holds
// the two to one answer, as persisted and shared keys need).
func fnv64a[T string | []byte](data T) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(data); i++ {
		h ^= uint64(data[i])
		h *= prime
	}
	return h
}

// givenSeed says whether the task is a crawl seed as the user gave it (not
// a redirect's target, nor a sitemap's entry).
func (t Task) givenSeed() bool {
	return t.SeedChain && t.Hops == 0 && t.Depth == 0 && !t.FromSitemap && !t.Listed
}

// Host is the task's scheduling key: the URL's host and port, lower-case,
// without credentials. Politeness is per Host.
func (t Task) Host() string { return hostOf(t.URL) }

func hostOf(rawURL string) string {
	rest := rawURL
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return strings.ToLower(rest)
}

// Lease is a task handed out by a Frontier: it stays the frontier's until
// it is given back with Complete or Release.
type Lease struct {
	Task Task
	ID   uint64 // the frontier's handle for this lease
}

// Outcome is what a fetch told about its host, for scheduling.
type Outcome struct {
	Status int // the HTTP status, 0 when no response came
	// CoolDown, when positive, holds the host back for that long (a 429 or
	// 503, with or without Retry-After).
	CoolDown time.Duration
	// NoRecord says, to Complete, that the task yields no record (robots.txt
	// disallowed it, its site is unavailable): a frontier that waits for
	// records to reach the output (a Journal) need not wait for this one,
	// and one that caps the pages fetched does not count it.
	NoRecord bool
	// Unsent says that no request went out (robots.txt kept the URL back,
	// or the run ended first): the host's spacing is given back, so that
	// a disallowed URL does not hold the next page a Crawl-delay longer.
	Unsent bool
}

// AddResult says what Add did.
type AddResult struct {
	// New is how many tasks were not seen before and are now queued.
	New int
	// Lowered are tasks already seen and already leased or done, now met
	// at a smaller depth than the one they were leased at: their records
	// must say the smaller depth, and their links go one level shallower.
	// Tasks still queued are lowered in place and not listed. A shared
	// frontier (a Relinker) lists none: the record may be in another
	// process, which learns of it through Relinks.
	Lowered []Task
	// OverHostCap counts the tasks not queued because their host has
	// reached the crawl's per-host cap (Config.MaxPagesPerHost) over every
	// process: a shared frontier holds that cap across all of them, which
	// each engine alone can only hold for what it queued itself.
	OverHostCap int
}

// ErrDrained is Lease's answer when nothing is queued and nothing is
// leased: the crawl is over.
var ErrDrained = errors.New("frontier drained")

// ErrLeaseLost is what Complete and Release return for a lease that had
// already ended: it expired (its process stalled longer than the lease
// lasts) and its task went back to the frontier, perhaps to another
// process. The caller writes no record for the task: whoever fetches it
// again does, so each page still has one record.
var ErrLeaseLost = errors.New("lease lost: it expired and the page went back to the frontier")

// Frontier holds a crawl's URLs: the seen set, the queue, and each host's
// scheduling state (requests in flight, next allowed start, cool-down), so
// that an implementation shared between processes can enforce politeness
// across all of them. Every call takes a context and can fail;
// implementations are safe for concurrent use.
type Frontier interface {
	// Add queues the tasks whose Key was never seen (atomic dedupe) and
	// lowers the depth of those seen at a greater one. It keeps no
	// reference to the slice: the caller may reuse it.
	Add(ctx context.Context, tasks []Task) (AddResult, error)
	// Lease waits until a task may be fetched now (its host has a free
	// slot and its next allowed start has come) and hands it out, the
	// shallowest first. It returns ErrDrained when nothing is queued and
	// nothing is leased, and ctx's error if ctx ends first.
	Lease(ctx context.Context) (Lease, error)
	// Complete ends a lease: the task is done, and o updates its host.
	// It returns ErrLeaseLost when the lease had already ended.
	Complete(ctx context.Context, l Lease, o Outcome) error
	// Release gives a leased task back, to be leased again not before
	// notBefore (a retry), with its Attempts and FirstTry as in l.Task; o
	// updates its host as for Complete. It returns ErrLeaseLost when the
	// lease had already ended.
	Release(ctx context.Context, l Lease, o Outcome, notBefore time.Time) error
}

// DepthReporter is implemented by a Frontier that can tell the smallest
// depth among its unfinished (queued or leased) tasks. The engine then
// writes a page's record only once no unfinished page could still reach
// it by a shorter path, which keeps depth exact without making a crawl
// wait level by level. Without it, records are written as pages complete.
type DepthReporter interface {
	// MinOpenDepth is the smallest depth queued or leased, or -1 when
	// nothing is.
	MinOpenDepth() int
}

// Relinker is implemented by a Frontier shared by many processes, where
// one process may meet a page by a shorter path while another holds its
// record. Such a page counts as open at its new depth until the process
// holding its record has queued the page's links again from there: no
// deeper record can be taken as final in between.
type Relinker interface {
	// Relinks returns the pages met by a shorter path whose links are
	// not yet queued again, each at its new depth, with its new parent.
	Relinks(ctx context.Context) ([]Task, error)
	// Relinked says that t's links are queued again from t.Depth.
	Relinked(ctx context.Context, t Task) error
}

// HostPageCounter is implemented by a Frontier that starts a run holding a
// crawl's URLs from earlier runs (a resumed state): the per-host cap
// (MaxPagesPerHost) counts them, or every resume could take the cap's
// worth again from each host, a trap's included.
type HostPageCounter interface {
	// PagesByHost is how many URLs of each host the frontier held when
	// the run began. It is called once, before the run.
	PagesByHost() map[string]int
}

// DelaySetter is implemented by a Frontier whose per-host spacing can be
// widened at run time, as robots.txt's Crawl-delay asks.
type DelaySetter interface {
	SetDelay(host string, d time.Duration)
}
