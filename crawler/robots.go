package crawler

import (
	"container/list"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fetchall/fetchall/fetch"
	"github.com/jimsmart/grobotstxt"
)

// MaxRobotsBytes is how much of a robots.txt is parsed: RFC 9309 asks
// crawlers to parse at least 500 KiB.
const MaxRobotsBytes = 500 << 10

// Robots fetches each site's robots.txt, through the crawl's own fetcher
// and user agent, and answers whether a URL may be fetched, by RFC 9309
// (matching is github.com/jimsmart/grobotstxt, a port of Google's
// reference parser: longest match wins, Allow wins ties, * and $ as the
// RFC says, percent-encoding normalised, groups of the same agent merged).
//
// A 2xx file is obeyed; a 4xx (no file) allows everything. An unreachable
// file (network error, timeout, 5xx, or 429 after the fetcher's retries)
// disallows the whole site until it can be read: it is fetched again after
// each of RetryWaits, and once they are spent the site is given up. A
// host that does not resolve, refuses the connection or fails TLS is
// tried again sooner, after each of QuickRetryWaits: such a failure is
// seldom mended in minutes, and a crawl of a mistyped host or port should
// not wait a minute to say so (curl and wget do not retry a refused
// connection at all). Delay
// tells a site's Crawl-delay, capped at the maximum. Robots is safe for
// concurrent use: the first worker to need a site fetches its file while
// the others wait.
type Robots struct {
	fetcher  Fetcher
	agent    string // the product token of the user agent
	maxDelay time.Duration
	// RetryWaits are the waits before each new try of an unreachable
	// robots.txt; when they are spent the site is not crawled. NewRobots
	// sets 10s and 1m.
	RetryWaits []time.Duration
	// QuickRetryWaits replace RetryWaits after a failure minutes will
	// seldom mend: no such host, nothing listening, TLS refused. NewRobots
	// sets 1s and 5s.
	QuickRetryWaits []time.Duration
	// Store, when set, shares the files with other processes: a file
	// another process read is not fetched again.
	Store RobotsStore
	// OnWait, when set, is told when a site's file could not be read and
	// will be tried again at retryAt (why says what went wrong), and told
	// again with a zero retryAt once that wait is over: the file read, or
	// the site given up. A crawl that only waits shows nothing otherwise.
	// It is called from a worker and must not block.
	OnWait func(site, why string, retryAt time.Time)
	// MaxAge is how long a file read is used before it is read again:
	// RFC 9309 2.4 asks for no more than 24 hours, which NewRobots sets.
	// A file that cannot be read again keeps the one read before.
	MaxAge time.Duration
	// MaxSites is how many sites' answers are kept: past it, the least
	// recently used answer is forgotten, and read again should its site
	// come back. A wide crawl meets a site per few pages. NewRobots sets
	// 10,000; 0 keeps every one.
	MaxSites int

	mu    sync.Mutex
	sites map[string]*robotsSite // by scheme://host
	used  list.List              // of keys, the most recently used first
}

type robotsSite struct {
	ready    chan struct{} // closed once the fields below are set
	body     string        // the file, at most MaxRobotsBytes
	allowAll bool          // 4xx: no rules
	absent   string        // why a file that was not a 4xx was taken as one
	asked    time.Duration // Crawl-delay asked of our agent
	sitemaps []string
	// Unreachable: why, how many tries so far, and when to try again (zero
	// once the tries are spent).
	unreachable string
	tries       int
	retryAt     time.Time
	// readAt is when the answer was had (a file, or none), for MaxAge;
	// previous is the answer a reading after MaxAge replaces, kept should
	// the file not be readable this time.
	readAt   time.Time
	previous *robotsSite
	used     *list.Element // its place in Robots.used
}

// NewRobots returns a Robots that fetches with f as userAgent and caps
// Crawl-delay at maxDelay (negative: Crawl-delay is not applied).
func NewRobots(f Fetcher, userAgent string, maxDelay time.Duration) *Robots {
	return &Robots{fetcher: f, agent: productToken(userAgent), maxDelay: maxDelay,
		RetryWaits: []time.Duration{10 * time.Second, time.Minute}, QuickRetryWaits: []time.Duration{time.Second, 5 * time.Second},
		MaxAge: 24 * time.Hour, MaxSites: 10000, sites: map[string]*robotsSite{}}
}

// productToken is the part of a user agent robots.txt groups match:
// "fetchall" of "fetchall/1.2 (+https://x)".
func productToken(ua string) string {
	end := strings.IndexFunc(ua, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_')
	})
	if end >= 0 {
		ua = ua[:end]
	}
	return ua
}

// Verdict is why a URL may or may not be fetched.
type Verdict int

// The verdicts of Allowed.
const (
	Allowed         Verdict = iota
	Disallowed              // a Disallow rule matches
	SiteUnavailable         // robots.txt could not be read: nothing of the site may be fetched yet
)

// Allowed fetches u's robots.txt if needed and says whether u may be
// fetched. For SiteUnavailable, retryAt says when the file will be tried
// again; zero means never (the site is given up). It returns ctx's error
// if ctx ends while it waits.
func (r *Robots) Allowed(ctx context.Context, u *url.URL) (v Verdict, retryAt time.Time, err error) {
	site, err := r.site(ctx, u)
	if err != nil {
		return Allowed, time.Time{}, err
	}
	switch {
	case site.unreachable != "":
		return SiteUnavailable, site.retryAt, nil
	case site.allowAll:
		return Allowed, time.Time{}, nil
	}
	target := decodeUnreserved(u.EscapedPath())
	if target == "" {
		target = "/"
	}
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	if !grobotstxt.AgentAllowed(site.body, r.agent, target) {
		return Disallowed, time.Time{}, nil
	}
	return Allowed, time.Time{}, nil
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

// Unreadable says why u's site's robots.txt could not be read ("status
// 503", "timeout"), or "" when it was read or is not known yet.
func (r *Robots) Unreadable(u *url.URL) string {
	r.mu.Lock()
	site, ok := r.sites[u.Scheme+"://"+u.Host]
	r.mu.Unlock()
	if !ok {
		return ""
	}
	select {
	case <-site.ready:
		return site.unreachable
	default:
		return ""
	}
}

// Sitemaps returns the Sitemap: lines of u's site's robots.txt.
func (r *Robots) Sitemaps(ctx context.Context, u *url.URL) ([]string, error) {
	site, err := r.site(ctx, u)
	if err != nil {
		return nil, err
	}
	return site.sitemaps, nil
}

// site returns u's site, reading its robots.txt when it is first needed
// and again when an unreachable one is due for another try.
func (r *Robots) site(ctx context.Context, u *url.URL) (*robotsSite, error) {
	key := u.Scheme + "://" + u.Host
	r.mu.Lock()
	site, ok := r.sites[key]
	load := false
	switch {
	case !ok:
		site, load = &robotsSite{ready: make(chan struct{})}, true
	case dueAgain(site):
		site, load = &robotsSite{ready: make(chan struct{}), tries: site.tries}, true
	case r.tooOld(site):
		site, load = &robotsSite{ready: make(chan struct{}), previous: site}, true
	}
	if load {
		if old, ok := r.sites[key]; ok {
			site.used = old.used // the same site, read again
		}
		r.sites[key] = site
	}
	r.touch(key, site)
	r.mu.Unlock()
	if load {
		r.load(ctx, key, site)
	}
	select {
	case <-site.ready:
		return site, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// touch puts site first among the recently used, and forgets the least
// recently used answers past MaxSites; r.mu must be held. It looks at a
// few of the least recently used only, so that a touch costs little
// whatever the number of sites. An answer being read, or a file waiting
// for its next try, is kept: forgetting it would read it at once, past
// its wait. A site given up is kept for good (it is not tried again, and
// Notes says so), out of the list.
func (r *Robots) touch(key string, site *robotsSite) {
	if site.used != nil {
		r.used.MoveToFront(site.used)
	} else {
		site.used = r.used.PushFront(key)
	}
	e := r.used.Back()
	for looked := 0; e != nil && r.MaxSites > 0 && len(r.sites) > r.MaxSites && looked < 8; looked++ {
		prev := e.Prev()
		old := r.sites[e.Value.(string)]
		select {
		case <-old.ready:
			switch {
			case old == site:
			case old.unreachable == "":
				r.used.Remove(e)
				delete(r.sites, e.Value.(string))
			case old.retryAt.IsZero():
				r.used.Remove(e)
				old.used = nil
			}
		default:
		}
		e = prev
	}
}

// tooOld says whether site's answer was had MaxAge ago or more.
func (r *Robots) tooOld(site *robotsSite) bool {
	select {
	case <-site.ready:
	default:
		return false // being read now
	}
	return r.MaxAge > 0 && !site.readAt.IsZero() && time.Since(site.readAt) >= r.MaxAge
}

// dueAgain says whether an unreachable file's next try has come.
func dueAgain(site *robotsSite) bool {
	select {
	case <-site.ready:
	default:
		return false // being read now
	}
	return site.unreachable != "" && !site.retryAt.IsZero() && !time.Now().Before(site.retryAt)
}

// RobotsStore keeps the robots.txt files of a crawl shared by several
// processes. Only definite answers are stored: a file (2xx) or none (4xx).
type RobotsStore interface {
	// LoadRobots returns the stored answer for site (scheme://host), ok
	// false when there is none.
	LoadRobots(ctx context.Context, site string) (status int, body []byte, ok bool, err error)
	// StoreRobots keeps site's answer.
	StoreRobots(ctx context.Context, site string, status int, body []byte) error
}

// load fetches and parses one robots.txt, then releases the waiters.
func (r *Robots) load(ctx context.Context, key string, site *robotsSite) {
	defer close(site.ready)
	var status int
	var body []byte
	stored := false
	if r.Store != nil && site.previous == nil { // a file too old is fetched, not the store's copy of it
		var err error
		status, body, stored, err = r.Store.LoadRobots(ctx, key)
		stored = stored && err == nil
	}
	var res *fetch.Result
	if !stored {
		res = r.fetcher.Get(ctx, key+"/robots.txt", func(string) bool { return true })
		defer res.Release()
		status, body = res.Status, res.Body
		if len(body) > MaxRobotsBytes {
			body = body[:MaxRobotsBytes]
		}
		if r.Store != nil && res.Err == nil && status >= 200 && status < 500 && status != http.StatusTooManyRequests {
			_ = r.Store.StoreRobots(ctx, key, status, body) // another process may fetch it again; no harm
		}
	}
	site.tries++
	defer r.tellWait(key, site)
	switch {
	case res != nil && res.Err != nil && ctx.Err() != nil:
		site.unreachable, site.retryAt = "canceled", time.Now() // tried again if the run goes on
		site.tries--
	case res != nil && res.Err != nil && (res.Err.Kind == fetch.KindTooManyRedirects || res.Err.Kind == fetch.KindUnsupportedScheme):
		// Redirects that lead nowhere fetchable: RFC 9309 2.3.1.2 lets
		// the file be taken as unavailable, which allows everything, as
		// Google does after five hops. Said in the summary.
		site.allowAll, site.absent = true, string(res.Err.Kind)
	case res != nil && res.Err != nil:
		r.unreachable(site, string(res.Err.Kind), lasting(res.Err.Kind))
	case status >= 500 || status == http.StatusTooManyRequests:
		r.unreachable(site, fmt.Sprintf("status %d", status), false)
	case status >= 400 || status < 200 || status >= 300:
		site.allowAll = true // no file: every path is allowed (RFC 9309 2.3.1.3)
	default:
		h := &groupDelay{agent: r.agent}
		grobotstxt.Parse(decodeUnreserved(string(body)), h)
		site.asked, site.sitemaps = h.delay(), h.sitemaps
		// Only the rules of the group that applies to us are kept, as one
		// group: matching a URL parses them again, and a 500 KiB file for
		// every page would cost more than the page.
		site.body = h.rules()
	}
	switch prev := site.previous; {
	case site.unreachable == "":
		site.readAt, site.previous = time.Now(), nil
	case prev != nil:
		// Read again after MaxAge, the file could not be had: the one
		// read before holds, as RFC 9309 2.4 allows, until the next
		// MaxAge (the site's pages do not wait for the file's retries).
		// The answer's fields only: its place in the list is touch's, under
		// the lock.
		site.body, site.allowAll, site.absent, site.asked, site.sitemaps = prev.body, prev.allowAll, prev.absent, prev.asked, prev.sitemaps
		site.unreachable, site.tries, site.retryAt = "", 0, time.Time{}
		site.readAt, site.previous = time.Now(), nil
	}
}

// decodeUnreserved turns percent-escapes of unreserved characters
// (A-Z a-z 0-9 - . _ ~) back into the characters, as RFC 9309 2.2.2 asks
// of both rules and paths before they are compared: "/%7Ejoe" and
// "/~joe" are one path. Other escapes are kept.
func decodeUnreserved(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil && isUnreserved(byte(v)) {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// tellWait tells OnWait that site's file is waited for, or no longer.
func (r *Robots) tellWait(key string, site *robotsSite) {
	switch {
	case r.OnWait == nil || site.unreachable == "canceled":
	case site.unreachable != "" && !site.retryAt.IsZero():
		r.OnWait(key, site.unreachable, site.retryAt)
	case site.tries > 1:
		r.OnWait(key, "", time.Time{})
	}
}

// unreachable marks site unreadable for now, and says when to try again
// (never once the waits are spent); a lasting failure is tried again
// sooner.
func (r *Robots) unreachable(site *robotsSite, why string, lasting bool) {
	site.unreachable = why
	site.retryAt = time.Time{}
	waits := r.RetryWaits
	if lasting {
		waits = r.QuickRetryWaits
	}
	if site.tries <= len(waits) {
		site.retryAt = time.Now().Add(waits[site.tries-1])
	}
}

// lasting says whether a failure to fetch robots.txt is one that minutes
// will seldom mend: no such host, nothing listening, a certificate
// refused. (A name lookup that timed out is a KindTimeout.)
func lasting(k fetch.Kind) bool {
	switch k {
	case fetch.KindDNS, fetch.KindRefused, fetch.KindTLS:
		return true
	}
	return false
}

// Notes describes what robots.txt changed in the crawl, for the summary:
// unreachable files, capped Crawl-delays, one line each, sorted.
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
		case site.unreachable != "" && site.retryAt.IsZero() && site.tries == 1:
			out = append(out, fmt.Sprintf("%s: robots.txt unreachable (%s): site not crawled", key, site.unreachable))
		case site.unreachable != "" && site.retryAt.IsZero():
			out = append(out, fmt.Sprintf("%s: robots.txt unreachable (%s) after %d tries: site not crawled", key, site.unreachable, site.tries))
		case site.unreachable != "":
			out = append(out, fmt.Sprintf("%s: robots.txt unreachable (%s): site not crawled yet", key, site.unreachable))
		case site.tries > 1:
			out = append(out, fmt.Sprintf("%s: robots.txt read on try %d; nothing was fetched before", key, site.tries))
		}
		if site.absent != "" {
			out = append(out, fmt.Sprintf("%s: robots.txt redirects lead nowhere (%s): taken as absent, everything allowed (RFC 9309)", key, site.absent))
		}
		switch {
		case site.asked > 0 && r.maxDelay < 0:
			out = append(out, fmt.Sprintf("%s: Crawl-delay %s not applied", key, askedDelay(site.asked)))
		case site.asked > r.maxDelay:
			out = append(out, fmt.Sprintf("%s: Crawl-delay %s capped at %s", key, askedDelay(site.asked), r.maxDelay))
		case site.asked > 0:
			out = append(out, fmt.Sprintf("%s: Crawl-delay %s honoured", key, askedDelay(site.asked)))
		}
	}
	sort.Strings(out)
	return out
}

// groupDelay reads what grobotstxt leaves to its caller: the Crawl-delay
// of the group that applies to agent (its own group, else *), and the
// Sitemap lines. Consecutive User-agent lines open one group.
type groupDelay struct {
	agent           string
	inMine, inStar  bool
	afterAgent      bool
	mine, star      time.Duration
	haveMine        bool
	mineSet, starSt bool
	sitemaps        []string
	mineRules       []string // Allow/Disallow lines of our group, in order
	starRules       []string // and of the * group
}

func (g *groupDelay) HandleRobotsStart() {}
func (g *groupDelay) HandleRobotsEnd()   {}

func (g *groupDelay) HandleUserAgent(_ int, value string) {
	if !g.afterAgent {
		g.inMine, g.inStar = false, false
	}
	g.afterAgent = true
	switch token := productToken(strings.TrimSpace(value)); {
	case strings.HasPrefix(strings.TrimSpace(value), "*"):
		g.inStar = true
	case token != "" && strings.EqualFold(token, g.agent):
		g.inMine, g.haveMine = true, true
	}
}

func (g *groupDelay) HandleAllow(_ int, value string)    { g.rule("Allow", value) }
func (g *groupDelay) HandleDisallow(_ int, value string) { g.rule("Disallow", value) }

func (g *groupDelay) rule(kind, value string) {
	g.afterAgent = false
	line := kind + ": " + value + "\n"
	if g.inMine {
		g.mineRules = append(g.mineRules, line)
	}
	if g.inStar {
		g.starRules = append(g.starRules, line)
	}
}

// rules is a robots.txt of the rules that apply to us, in one group for
// every agent: our own group's if there is one, else *'s.
func (g *groupDelay) rules() string {
	rules := g.starRules
	if g.haveMine {
		rules = g.mineRules
	}
	return "User-agent: *\n" + strings.Join(rules, "")
}

func (g *groupDelay) HandleSitemap(_ int, value string) {
	g.afterAgent = false
	g.sitemaps = append(g.sitemaps, value)
}

func (g *groupDelay) HandleUnknownAction(_ int, action, value string) {
	g.afterAgent = false
	if !strings.EqualFold(action, "crawl-delay") {
		return
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil || secs < 0 {
		return
	}
	d := time.Duration(min(secs, maxAskedDelay.Seconds()) * float64(time.Second))
	if g.inMine && !g.mineSet {
		g.mine, g.mineSet = d, true
	}
	if g.inStar && !g.starSt {
		g.star, g.starSt = d, true
	}
}

// askedDelay says a Crawl-delay as the file gave it: one past a day is
// read as a day (maxAskedDelay), and said so.
func askedDelay(d time.Duration) string {
	if d >= maxAskedDelay {
		return "of a day or more"
	}
	return d.String()
}

// maxAskedDelay bounds a Crawl-delay read from a file, so that no value
// overflows a time.Duration.
const maxAskedDelay = 24 * time.Hour

// delay is the Crawl-delay that applies: our group's if we have one.
func (g *groupDelay) delay() time.Duration {
	if g.haveMine {
		return g.mine
	}
	return g.star
}
