package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/limiter"
)

// DefaultMaxCrawlDelay caps a robots.txt Crawl-delay when
// Settings.MaxCrawlDelay is zero.
const DefaultMaxCrawlDelay = 10 * time.Second

// Settings is a whole run as plain data: what New needs to build the HTTP
// client, the frontier, robots.txt and the scope. The zero value fetches a
// list with 10 workers, no limits and no retries; a crawl also needs a
// Scope mode ("" is ScopeHost).
type Settings struct {
	// Fetch is how each request is made. Its Retries are the engine's:
	// a retry waits in its host's queue, never in a worker. Its
	// MaxRedirects bounds a list line's redirects and a crawl's chains.
	Fetch fetch.Config
	// Limits are the per-host and overall limits, shared by every request
	// of the run.
	Limits limiter.Config
	// Workers is how many fetches run at once. Zero means 10.
	Workers int
	// Ordered writes a list's records in input order.
	Ordered bool
	// FailFast stops the run at the first record that is not ok.
	FailFast bool
	// Accept says which statuses are ok. Nil means status < 400.
	Accept func(status int) bool
	// Saver, when set, stores the body of every ok page.
	Saver Saver

	// Crawl only.

	// MaxDepth is how many links deep a crawl goes; negative: no limit.
	MaxDepth int
	// MaxPages stops a crawl after that many pages; zero: no limit.
	MaxPages int
	// Scope decides which links a crawl follows.
	Scope ScopeSettings
	// IgnoreRobots neither fetches nor obeys robots.txt.
	IgnoreRobots bool
	// RobotsStore, when set, shares robots.txt files with the other
	// processes of a shared crawl, so that each is fetched once.
	RobotsStore RobotsStore
	// MaxCrawlDelay caps a robots.txt Crawl-delay. Zero means
	// DefaultMaxCrawlDelay; negative means Crawl-delay is not applied.
	MaxCrawlDelay time.Duration
	// Sitemaps also starts from the pages the seeds' sitemaps list.
	Sitemaps bool
	// Jar keeps a crawl's cookies; nil means a fresh, empty jar. A list
	// keeps cookies only in a Jar given (--cookies, --cookie-jar): nil,
	// it sends none but its -H Cookie.
	Jar *fetch.Jar
	// KeepParams keeps tracking and session parameters in links.
	KeepParams bool
	// MaxPagesPerHost caps the pages of one host. Zero means
	// DefaultMaxPagesPerHost; negative means no cap.
	MaxPagesPerHost int
	// FollowNofollow follows rel=nofollow links too.
	FollowNofollow bool
	// Follow, when not empty, follows only the links its rules pick.
	Follow []FollowRule
	// Extractor, when set, runs on every HTML or JSON page; its items ride in
	// Result.Items.
	Extractor Extractor
	// Journal, when set, is told which records each flush of the sink
	// holds (a resumable run's state).
	Journal Journal
}

// ScopeSettings are the scope's rules as data; see NewScope.
type ScopeSettings struct {
	Mode         string   // ScopeHost (default), ScopeDomain or ScopeAny
	AllowDomains []string // host globs also allowed, e.g. "*.example.org"
	Include      []string // regular expressions a URL must match (any)
	Exclude      []string // regular expressions a URL must not match
}

// Crawler is a run assembled from Settings: one HTTP transport and
// connection pool for every request of the run (pages, robots.txt,
// sitemaps), the frontier with its limits, robots.txt and the scope. Use
// it for one run, then Close it.
type Crawler struct {
	settings Settings
	client   *fetch.Client // follows redirects; for list lines
	pages    *fetch.Client // does not: the crawl follows them itself, to dedupe targets
	files    *fetch.Client // robots.txt and sitemaps: redirects and retries
	robots   *Robots
	scope    *Scope
	origins  *fetch.Origins // where a crawl's credentials may go: its seeds
	sitemaps *SitemapSource
}

// New checks s and assembles a run. Its errors name the setting at fault
// in the words of this package's fields.
func New(s Settings) (*Crawler, error) {
	if err := s.Limits.Validate(); err != nil {
		return nil, err
	}
	switch {
	case s.Workers < 0:
		return nil, fmt.Errorf("workers must be 1 or more, got %d", s.Workers)
	case s.MaxPages < 0:
		return nil, fmt.Errorf("max pages must be 0 (no limit) or more, got %d", s.MaxPages)
	case s.Fetch.Retries < 0:
		return nil, fmt.Errorf("retries must be 0 or more, got %d", s.Fetch.Retries)
	}
	if s.Workers == 0 {
		s.Workers = 10
	}
	if s.MaxCrawlDelay == 0 {
		s.MaxCrawlDelay = DefaultMaxCrawlDelay
	}
	scope, err := NewScope(s.Scope.Mode, s.Scope.AllowDomains, s.Scope.Include, s.Scope.Exclude)
	if err != nil {
		return nil, err
	}
	fc := s.Fetch
	fc.Concurrency = max(fc.Concurrency, s.Workers)
	retries := fc.Retries
	fc.Retries = 0
	client, err := fetch.New(fc)
	if err != nil {
		return nil, err
	}
	// A crawl's credentials go to its seeds' origins only (lists keep
	// each line's own), robots.txt and redirects included. A crawl keeps
	// the cookies its sites set, as a browser would; a list does not.
	origins := &fetch.Origins{}
	jar := s.Jar
	if jar == nil {
		jar = fetch.NewJar()
	}
	c := &Crawler{settings: s, client: client, scope: scope, origins: origins,
		pages: client.WithPolicy(-1, 0, origins, jar), files: client.WithPolicy(max(fc.MaxRedirects, 0), retries, origins, jar)}
	c.settings.Fetch.Retries = retries
	if !s.IgnoreRobots {
		c.robots = NewRobots(c.files, fc.UserAgent, s.MaxCrawlDelay)
		c.robots.Store = s.RobotsStore
	}
	return c, nil
}

// Close closes the run's idle connections.
func (c *Crawler) Close() { c.client.CloseIdleConnections() }

// Robots is the run's robots.txt, or nil when it is ignored.
func (c *Crawler) Robots() *Robots { return c.robots }

// config is the engine's configuration for this run.
func (c *Crawler) config() CrawlConfig {
	s := c.settings
	maxRedirects := s.Fetch.MaxRedirects
	if maxRedirects <= 0 {
		maxRedirects = fetch.DefaultMaxRedirects
	}
	return CrawlConfig{
		Config: Config{Workers: s.Workers, Ordered: s.Ordered, FailFast: s.FailFast, Accept: s.Accept,
			Saver: s.Saver, Limits: s.Limits, Retries: s.Fetch.Retries, RetryWait: c.client.RetryWait},
		MaxDepth:        s.MaxDepth,
		MaxPages:        s.MaxPages,
		MaxRedirects:    maxRedirects,
		FollowNofollow:  s.FollowNofollow,
		KeepParams:      s.KeepParams,
		MaxPagesPerHost: perHostCap(s.MaxPagesPerHost),
		Scope:           c.scope,
		Robots:          c.robots,
		SeedOrigins:     c.origins,
		Journal:         s.Journal,
		Follow:          s.Follow,
		Extractor:       s.Extractor,
	}
}

// FetchList fetches every line of list (see ListSource) and writes one
// Result per line to sink; its error follows Run's rules.
// frontier nil means one in memory with Settings.Limits.
func (c *Crawler) FetchList(ctx context.Context, list Source, frontier Frontier, sink Sink) (CrawlStats, error) {
	cfg := c.config()
	cfg.MaxDepth = 0
	if frontier == nil {
		frontier = NewMemoryFrontier(c.settings.Limits)
	}
	client := c.client
	if c.settings.Jar != nil {
		client = client.WithJar(c.settings.Jar)
	}
	if !c.settings.Fetch.Trace {
		// A list's record reads one response header (a traced one, for
		// --header-field, reads them all).
		client = client.KeepingHeaders(listHeaders...)
	}
	if client.Method() == http.MethodHead {
		cfg.GetFallback = client.WithMethod(http.MethodGet)
	}
	return Run(ctx, cfg, client, list, frontier, sink)
}

// listHeaders are the response headers a list's records are made from
// besides those the fetcher reads itself: the challenge mark.
var listHeaders = []string{"Cf-Mitigated"}

// CrawlLimits are the limits a crawl's frontier should enforce (a
// frontier made by the caller, such as a resumable state's): Limits, with
// a host's first request alone while robots.txt is obeyed, so that its
// Crawl-delay holds from the first page.
func (s Settings) CrawlLimits() limiter.Config {
	limits := s.Limits
	limits.ProbeFirst = !s.IgnoreRobots
	return limits
}

// Crawl crawls from seeds (and their sitemaps, when Settings.Sitemaps)
// into sink, on frontier (nil: in memory, with Settings.Limits).
func (c *Crawler) Crawl(ctx context.Context, seeds Source, frontier Frontier, sink Sink) (CrawlStats, error) {
	if c.sitemaps != nil {
		return CrawlStats{}, errors.New("a Crawler runs one crawl")
	}
	if c.settings.Sitemaps {
		c.sitemaps = NewSitemapSource(seeds, c.files, c.robots)
		seeds = c.sitemaps
	}
	if frontier == nil {
		frontier = NewMemoryFrontier(c.settings.CrawlLimits())
	}
	return Run(ctx, c.config(), c.pages, seeds, frontier, sink)
}

// Notes describes what robots.txt and the sitemaps changed in the crawl,
// for a summary: one line each.
func (c *Crawler) Notes() []string {
	var notes []string
	if c.robots != nil {
		notes = append(notes, c.robots.Notes()...)
	}
	if c.sitemaps != nil {
		notes = append(notes, c.sitemaps.Notes()...)
	}
	return notes
}

// HostCap is the crawl's per-host page cap as the engine applies it: the
// default for zero, 0 (none) for a negative MaxPagesPerHost.
func (s Settings) HostCap() int { return perHostCap(s.MaxPagesPerHost) }

func perHostCap(n int) int {
	switch {
	case n == 0:
		return DefaultMaxPagesPerHost
	case n < 0:
		return 0
	}
	return n
}
