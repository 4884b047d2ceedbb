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
// page's own fetch reports the failure. Delay tells a site's Crawl-delay,
// capped at maxDelay; the engine spaces the host's requests by it. Robots is safe for concurrent use: the
// first worker to need a site fetches its file while the others wait.
type Robots struct {
	fetcher  Fetcher
	agent    string
	maxDelay time.Duration

	mu    sync.Mutex
	sites map[string]*robotsSite // by scheme://host
}

type robotsSite struct {
	ready       chan struct{} // closed once data is set
	data        *robotstxt.RobotsData
	asked       time.Duration // Crawl-delay asked for our agent
	unavailable bool          // robots.txt answered 5xx
}

// NewRobots returns a Robots that fetches with f as userAgent and caps
// Crawl-delay at maxDelay.
func NewRobots(f Fetcher, userAgent string, maxDelay time.Duration) *Robots {
	return &Robots{fetcher: f, agent: userAgent, maxDelay: maxDelay, sites: map[string]*robotsSite{}}
}

// Delay is the Crawl-delay of u's site for our agent, capped at the
// maximum, or 0. It is only known once Allowed has read the site's file.
func (r *Robots) Delay(u *url.URL) time.Duration {
	r.mu.Lock()
	site, ok := r.sites[u.Scheme+"://"+u.Host]
	r.mu.Unlock()
	if !ok {
		return 0
	}
	select {
	case <-site.ready:
		return min(site.asked, r.maxDelay)
	default:
		return 0
	}
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
		r.load(ctx, key, site)
	}
	select {
	case <-site.ready:
		return site, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// load fetches and parses one robots.txt, then releases the waiters.
func (r *Robots) load(ctx context.Context, key string, site *robotsSite) {
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
		case site.asked > 0 && r.maxDelay < 0:
			out = append(out, fmt.Sprintf("%s: Crawl-delay %s not applied", key, site.asked))
		case site.asked > r.maxDelay:
			out = append(out, fmt.Sprintf("%s: Crawl-delay %s capped at %s", key, site.asked, r.maxDelay))
		case site.asked > 0:
			out = append(out, fmt.Sprintf("%s: Crawl-delay %s honoured", key, site.asked))
		}
	}
	sort.Strings(out)
	return out
}
