package crawler

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/PuerkitoBio/goquery"

	"github.com/fetchall/fetchall/fetch"
)

// CrawlConfig sets how a crawl runs. Scope is required.
type CrawlConfig struct {
	Config // Workers, Accept, FailFast and Saver, as for a list

	// MaxDepth is how many links deep the crawl goes from a seed (depth 0).
	// Negative means no limit. Redirects do not add depth.
	MaxDepth int
	// MaxPages is how many pages are fetched at most, counting every
	// request that yields a record, redirects included. Zero means no limit.
	MaxPages int
	// MaxRedirects is the longest chain of redirects followed from one
	// link. Zero means 10.
	MaxRedirects int
	// FollowNofollow follows links marked rel=nofollow or under
	// <meta name=robots content=nofollow>.
	FollowNofollow bool
	// Scope decides which discovered URLs are fetched.
	Scope *Scope
	// Robots, when set, is asked before every fetch; nil ignores robots.txt.
	Robots *Robots
	// Follow, when not empty, follows only the links its rules pick (a
	// scraping job's "follow").
	Follow []FollowRule
	// Extractor, when set, runs on every HTML or JSON page fetched; the
	// items it returns travel in Result.Items to the sink, and the links
	// it returns are followed before the page's own.
	Extractor Extractor
	// KeepParams keeps tracking and session parameters (utm_*, fbclid,
	// ;jsessionid=...; see TrackingParams), which a crawl otherwise drops
	// from links before the seen check.
	KeepParams bool
	// MaxPagesPerHost caps the pages a crawl takes from one host; zero
	// means no cap.
	MaxPagesPerHost int
	// Journal, when set, is told after every flush of the sink which
	// tasks' records it holds: a persistent store commits them with the
	// output's length, so that a resumed run writes each record once.
	Journal Journal
	// SeedOrigins, when set, is told the origin of every seed given by
	// the user (not those a sitemap lists): the fetcher sends credentials
	// there and nowhere else.
	SeedOrigins *fetch.Origins
}

// Journal makes a run resumable: after every successful flush of the sink
// the engine passes it the tasks whose records the sink now holds, in the
// order written. It is called from the coordinator alone; an error ends
// the run.
type Journal interface {
	Flushed(ctx context.Context, done []Written) error
}

// Written is a task whose record reached the sink, with how it ended.
type Written struct {
	Task Task
	// Kind is the record's error kind, or "" when it is ok.
	Kind fetch.Kind
	// Status is the record's HTTP status, 0 when no response came.
	Status int
}

// Retryable says whether the record failed in a way worth trying again
// later: a timeout, a reset, a refused connection, a 5xx or a 429.
func (w Written) Retryable() bool {
	switch w.Kind {
	case fetch.KindTimeout, fetch.KindReset, fetch.KindRefused, fetch.KindIncompleteBody, fetch.KindNetwork, fetch.KindProtocol:
		return true
	case fetch.KindHTTPStatus:
		return w.Status >= 500 || w.Status == http.StatusTooManyRequests
	}
	return false
}

// Extractor turns a fetched page into data, and may name links to follow
// that the page's HTML does not show (a JSON API's next page). It runs on
// the workers, many at once, and must be safe for concurrent use.
type Extractor interface {
	Extract(p *Page) Extraction
}

// Page is a fetched page as an Extractor and a FollowRule see it.
type Page struct {
	URL         *url.URL
	Doc         *goquery.Document // the parsed HTML; nil for a JSON body
	Body        []byte            // the body as received, decoded from its Content-Encoding
	ContentType string
	Header      http.Header
	Data        []byte // what the link that led here carried (Link.Data)
	Chain       int    // pages of "next" links walked to get here: 0 for the first
}

// Extraction is what an Extractor found on a page.
type Extraction struct {
	Items any    // travels in Result.Items to the sink
	Links []Link // followed before the links the crawl finds itself
}

// Link is a link to follow with what it carries.
type Link struct {
	URL  *url.URL // absolute
	Data []byte   // handed to the linked page as Page.Data (and kept in Task.Data)
	// Next marks the next page of a paginated listing: it keeps the depth
	// of the page that links to it, so --max-depth does not cut a long
	// listing short, and its Chain is one more.
	Next bool
}

// FollowRule picks the links to follow: the a[href] and area[href]
// elements matching Within or inside an element that matches it.
type FollowRule struct {
	Within goquery.Matcher
	// Pass, when set, gives the data the rule's links carry to the pages
	// they lead to (a job's context: the listing's category on each
	// product). It is called once per page, with Page.Doc set.
	Pass func(p *Page) []byte
}

// CrawlStats counts what a crawl did beyond its records.
type CrawlStats struct {
	Pages      int // pages fetched: records written
	Seen       int // distinct URLs met, in scope or not
	OutOfScope int // links not followed because of the scope
	// Traps counts links skipped by the trap guards, by reason (TrapLongURL,
	// TrapRepeatedSegment, TrapHostCap).
	Traps         map[string]int
	RobotsBlocked int // URLs robots.txt disallowed (never fetched)
	SiteDeferred  int // URLs skipped because their robots.txt could not be read
	// NotStarted counts the URLs read or found but never fetched because
	// the run stopped first (fail-fast, an interrupt, MaxPages, a failed
	// save), when the frontier can tell.
	NotStarted int
	// LeasesLost counts pages fetched whose lease had expired when they
	// were done (a shared frontier, a stalled process): their records are
	// left to the process that fetches them again.
	LeasesLost int
}

// Crawl fetches seeds and every in-scope page they lead to, and writes one
// Result per page to sink: Run with the seeds as its source.
func Crawl(ctx context.Context, cfg CrawlConfig, f Fetcher, seeds []Task, frontier Frontier, sink Sink) (CrawlStats, error) {
	// Seeds first, so that their sites are in scope before any sitemap
	// entry is checked.
	seeds = slices.Clone(seeds)
	slices.SortStableFunc(seeds, func(a, b Task) int { return cmpBool(a.FromSitemap, b.FromSitemap) })
	return Run(ctx, cfg, f, Tasks(seeds...), frontier, sink)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
