// Package crawler is fetchall's engine: a reader feeds a Frontier through
// a bounded window, a fixed number of workers lease from it only URLs whose
// host may go now, fetch and parse them, and one coordinator queues what
// they found and hands finished results to a Sink. A URL list is a crawl
// that discovers nothing, so the fetch, crawl and run commands all go
// through Run.
package crawler

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/limiter"
)

// Result is the outcome of one input line or page. OK is decided by the
// engine's status policy; Err is nil exactly when OK is true.
type Result struct {
	URL         string
	Line        int // 1-based line of the input list; 0 for discovered pages
	OK          bool
	FinalURL    string
	Status      int
	ContentType string
	Bytes       int64
	Truncated   bool
	Duration    time.Duration
	Attempts    int
	Title       string
	SavedPath   string // where the body was saved, if it was
	Err         *fetch.Error
	// Header is the final response's header when the fetch was traced
	// (Details is set), else nil.
	Header http.Header
	// Details is what a traced fetch learned (fetch.Config.Trace), or nil.
	Details *fetch.Details

	// Crawl only: Crawled marks a crawl result, so that Depth 0 (a seed)
	// can be told from "not a crawl".
	Crawled bool
	Depth   int    // links followed from the seed
	Parent  string // the page that linked or redirected here
	Links   int    // followable links found (1 for a redirect)
	// Canonical is the page's <link rel=canonical>, absolute, when it
	// has one: mirrors of a page name the same canonical.
	Canonical string
	// Items is what CrawlConfig.Extractor found on the page, if any.
	Items any
}

// Fetcher fetches one URL; *fetch.Client implements it.
type Fetcher interface {
	Get(ctx context.Context, rawURL string, keep fetch.KeepBody) *fetch.Result
}

// Sink receives finished results, one at a time, from a single goroutine.
// Flush is called whenever no further result is ready, so a streaming sink
// can batch its writes yet show every result promptly.
type Sink interface {
	Write(*Result) error
	Flush() error
}

// Saver stores a fetched body and returns where it went. It is called from
// many workers at once and must be safe for concurrent use.
type Saver interface {
	Save(rawURL, contentType string, body []byte) (path string, err error)
}

// ErrFailFast is returned when Config.FailFast stopped the run at the first
// result that was not OK.
var ErrFailFast = errors.New("stopped at the first failure (fail-fast)")

// Config sets how the engine runs. The zero value runs 10 workers, writes in
// completion order, accepts statuses below 400 and saves nothing.
type Config struct {
	// Workers is how many fetches run at once. Zero means 10.
	Workers int
	// Ordered writes results in input order instead of completion order,
	// holding at most a window of finished results back.
	Ordered bool
	// FailFast cancels the run at the first result that is not OK, like
	// asyncio's TaskGroup; otherwise every failure is a result and the run
	// goes on, like gather(return_exceptions=True).
	FailFast bool
	// Accept says which statuses count as OK. Nil means status < 400.
	Accept func(status int) bool
	// Saver, when set, stores the body of every OK result.
	Saver Saver
	// Limits are the per-host and overall limits of the default frontier
	// (a Frontier given to Run brings its own). The zero value limits nothing.
	Limits limiter.Config
	// Retries is how many times a URL is tried again after a network
	// error or a 429, 502, 503 or 504. The retry waits in its host's queue,
	// not in a worker. Zero means one attempt.
	Retries int
	// RetryWait is the wait before retry number attempt after r. Nil means
	// r's Retry-After, or a backoff from 200ms doubling, capped at 60s;
	// (*fetch.Client).RetryWait gives the client's own settings.
	RetryWait func(attempt int, r *fetch.Result) time.Duration
	// GetFallback, when set, fetches a list line again, by GET, when the
	// server refused its HEAD (405 Method Not Allowed, 501 Not
	// Implemented), as link checkers do. The second request waits in its
	// host's queue like a retry, so the host's limits hold for it too.
	GetFallback Fetcher
}

func (c Config) withDefaults() Config {
	if c.Workers <= 0 {
		c.Workers = 10
	}
	if c.Accept == nil {
		c.Accept = func(status int) bool { return status < 400 }
	}
	return c
}

// window is how many list lines may be read but not yet written. It
// bounds memory (a queued line costs about 200 bytes) and is wide enough
// for the scheduler to find other hosts' work when the head of a list is
// one slow or polite host; in ordered mode it also bounds how far the
// workers run ahead of a slow head-of-line request.
func (c Config) window() int {
	return max(64*c.Workers, 10000)
}
