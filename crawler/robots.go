package crawler

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/temoto/robotstxt"
)

// Robots fetches each site's robots.txt once, through the crawl's own
// fetcher and user agent, and answers whether a URL may be fetched. A 4xx
// (no robots.txt) allows everything; a 5xx defers the whole site, which is
// then skipped for this crawl; a network failure allows everything, so the
// page's own fetch reports the failure. Crawl-delay is applied through
// SetDelay, capped at MaxDelay. Robots is safe for concurrent use: the
// first worker to need a site fetches its file while the others wait.
type Robots struct {
	fetcher  Fetcher
	agent    string
	maxDelay time.Duration
	setDelay func(host string, d time.Duration)

	mu    sync.Mutex
	sites map[string]*robotsSite // by scheme://host
}

type robotsSite struct {
	ready       chan struct{} // closed once data is set
	data        *robotstxt.RobotsData
	asked       time.Duration // Crawl-delay asked for our agent
	unavailable bool          // robots.txt answered 5xx
}

// NewRobots returns a Robots that fetches with f as userAgent. setDelay,
// if not nil, is told each host's Crawl-delay (capped at maxDelay).
func NewRobots(f Fetcher, userAgent string, maxDelay time.Duration, setDelay func(host string, d time.Duration)) *Robots {
	return &Robots{fetcher: f, agent: userAgent, maxDelay: maxDelay, setDelay: setDelay, sites: map[string]*robotsSite{}}
}

// Verdict is why a URL may or may not be fetched.
type Verdict int

// The verdicts of Allowed.
const (
	Allowed         Verdict = iota
	Disallowed              // a Disallow rule matches
	SiteUnavailable         // robots.txt answered 5xx: the site is deferred
)

// Allowed fetches u's robots.txt if needed and says whether u may be
// fetched. It returns ctx's error if ctx ends while it waits.
func (r *Robots) Allowed(ctx context.Context, u *url.URL) (Verdict, error) {
	site, err := r.site(ctx, u)
	if err != nil {
		return Allowed, err
	}
	if site.unavailable {
		return SiteUnavailable, nil
	}
	target := u.EscapedPath()
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	if !site.data.TestAgent(target, r.agent) {
		return Disallowed, nil
	}
	return Allowed, nil
}

// Sitemaps returns the Sitemap: lines of u's site's robots.txt.
func (r *Robots) Sitemaps(ctx context.Context, u *url.URL) ([]string, error) {
	site, err := r.site(ctx, u)
	if err != nil {
		return nil, err
	}
	return site.data.Sitemaps, nil
}

func (r *Robots) site(ctx context.Context, u *url.URL) (*robotsSite, error) {
	key := u.Scheme + "://" + u.Host
	r.mu.Lock()
	site, ok := r.sites[key]
	if !ok {
		site = &robotsSite{ready: make(chan struct{})}
		r.sites[key] = site
	}
	r.mu.Unlock()
	if !ok {
		r.load(ctx, key, u.Host, site)
	}
	select {
	case <-site.ready:
		return site, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// load fetches and parses one robots.txt, then releases the waiters.
func (r *Robots) load(ctx context.Context, key, host string, site *robotsSite) {
	defer close(site.ready)
	res := r.fetcher.Get(ctx, key+"/robots.txt", func(string) bool { return true })
	defer res.Release()
	var data *robotstxt.RobotsData
	switch {
	case res.Err != nil || res.Status < 200 || res.Status >= 600:
		data, _ = robotstxt.FromStatusAndBytes(404, nil) // unreachable: the pages will say why
	default:
		var err error
		data, err = robotstxt.FromStatusAndBytes(res.Status, res.Body)
		if err != nil { // unparseable: treat as absent
			data, _ = robotstxt.FromStatusAndBytes(404, nil)
		}
		site.unavailable = res.Status >= 500
	}
	site.data = data
	site.asked = data.FindGroup(r.agent).CrawlDelay
	if site.asked > 0 && r.setDelay != nil {
		r.setDelay(host, min(site.asked, r.maxDelay))
	}
}

// Notes describes what robots.txt changed in the crawl, for the summary:
// capped Crawl-delays and deferred sites, one line each, sorted.
func (r *Robots) Notes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for key, site := range r.sites {
		select {
		case <-site.ready:
		default:
			continue
		}
		switch {
		case site.unavailable:
			out = append(out, fmt.Sprintf("%s: robots.txt answered 5xx, site deferred (not crawled)", key))
		case site.asked > r.maxDelay:
			out = append(out, fmt.Sprintf("%s: Crawl-delay %s capped at %s", key, site.asked, r.maxDelay))
		case site.asked > 0:
			out = append(out, fmt.Sprintf("%s: Crawl-delay %s honoured", key, site.asked))
		}
	}
	sort.Strings(out)
	return out
}
