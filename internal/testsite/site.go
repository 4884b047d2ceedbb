// Package testsite is fetchall's local web site for tests, the demo and the
// benchmarks: pages with a chosen latency, size and status, redirects,
// retry-worthy failures, slow and silent servers, and a /stats endpoint that
// counts requests per path, so a test can check what the server really saw.
//
// Endpoints (durations like 100ms, sizes in bytes):
//
//	/                          the home of a synthetic website (see synth.go):
//	                           /site/{n} pages, redirects, robots.txt, sitemaps
//	/endpoints                 an index of the endpoints below
//	/shop/catalogue/page-1.html  a small book shop to scrape (see shop.go)
//	/shop/categories.html        its categories, each a paginated listing
//	/api/items?page=1            its JSON API (also ?cursor=...)
//	/page/{n}?latency=&size=   an HTML page titled "Page {n}"
//	/status/{code}?latency=    an HTML page with that status
//	/redirect/{n}              a chain of n redirects ending at /page/0
//	/retry/{key}?fail=&code=&after=
//	                           answers code (default 503) with Retry-After:
//	                           after for the first fail requests, then a page
//	/slow-body?bytes=&interval=
//	                           sends headers, then one byte per interval
//	/hang                      accepts the request and never answers
//	/stats                     JSON: requests per path so far
package testsite

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options shape the synthetic website. The zero value means the defaults.
type Options struct {
	// Pages is the number of /site/{n} pages. Zero means 200.
	Pages int
	// Latency delays every answer of the synthetic website, redirects
	// included. Zero means none.
	Latency time.Duration
	// SlowPage, when set, is the request URI of one page that answers
	// after SlowLatency instead of Latency: the straggler a crawl must not
	// wait for.
	SlowPage    string
	SlowLatency time.Duration
	// SlowbotDelay is the Crawl-delay robots.txt asks of the agent
	// "slowbot" (every other agent gets none). Zero means 1s.
	SlowbotDelay time.Duration
	// ShopRedesign changes the shop as sites change under scrapers: prices
	// in p.price instead of p.price_color, no JSON-LD, and the API's
	// "name" renamed "title". Job contracts should notice.
	ShopRedesign bool
}

// Site is the test site's handler. The zero value is not usable; call New.
// It is safe for concurrent use.
type Site struct {
	mux  *http.ServeMux
	opts Options

	mu     sync.Mutex
	counts map[string]int // by path
	uris   map[string]int // by path and query
}

// New returns a fresh site with the default options and all counts at zero.
func New() *Site { return NewWith(Options{}) }

// NewWith returns a fresh site shaped by opts.
func NewWith(opts Options) *Site {
	if opts.Pages <= 0 {
		opts.Pages = 200
	}
	if opts.SlowbotDelay <= 0 {
		opts.SlowbotDelay = time.Second
	}
	s := &Site{mux: http.NewServeMux(), opts: opts, counts: map[string]int{}, uris: map[string]int{}}
	s.mux.HandleFunc("GET /{$}", s.sitePage)
	s.mux.HandleFunc("GET /site/", s.sitePage)
	s.mux.HandleFunc("GET /robots.txt", s.robots)
	s.mux.HandleFunc("GET /sitemap.xml", s.sitemapIndex)
	s.mux.HandleFunc("GET /sitemap-pages.xml.gz", s.sitemapPages)
	s.mux.HandleFunc("GET /endpoints", s.index)
	s.mux.HandleFunc("GET /page/{n}", s.page)
	s.mux.HandleFunc("GET /status/{code}", s.status)
	s.mux.HandleFunc("GET /redirect/{n}", s.redirect)
	s.mux.HandleFunc("GET /retry/{key}", s.retry)
	s.mux.HandleFunc("GET /slow-body", s.slowBody)
	s.mux.HandleFunc("GET /hang", s.hang)
	s.mux.HandleFunc("GET /stats", s.stats)
	s.mux.HandleFunc("GET /shop/", s.shop)
	s.mux.HandleFunc("GET /api/items", s.api)
	s.faults()
	return s
}

// ServeHTTP counts the request by path, then serves it.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/stats" {
		s.mu.Lock()
		s.counts[r.URL.Path]++
		s.uris[r.URL.RequestURI()]++
		s.mu.Unlock()
	}
	s.mux.ServeHTTP(w, r)
}

// Count returns how many requests path has received.
func (s *Site) Count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[path]
}

// URICounts returns a copy of the request counts by path and query.
func (s *Site) URICounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.uris))
	for k, v := range s.uris {
		out[k] = v
	}
	return out
}

// Total returns how many requests the site has received, /stats excluded.
func (s *Site) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

func (s *Site) stats(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	counts := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		counts[k] = v
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"total": sum(counts), "paths": counts, "uris": s.URICounts()})
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (s *Site) index(w http.ResponseWriter, _ *http.Request) {
	writePage(w, http.StatusOK, "fetchall test site endpoints", 0,
		`<ul><li><a rel="nofollow" href="/page/1?latency=100ms&amp;size=2048">/page/{n}?latency=&amp;size=</a></li>`+
			`<li><a rel="nofollow" href="/status/404">/status/{code}</a></li><li><a rel="nofollow" href="/redirect/3">/redirect/{n}</a></li>`+
			`<li><a rel="nofollow" href="/retry/a?fail=2&amp;code=429&amp;after=1">/retry/{key}?fail=&amp;code=&amp;after=</a></li>`+
			`<li><a rel="nofollow" href="/slow-body?bytes=10&amp;interval=1s">/slow-body</a></li><li><a rel="nofollow" href="/hang">/hang</a></li>`+
			`<li><a rel="nofollow" href="/stats">/stats</a></li></ul>`)
}

func (s *Site) page(w http.ResponseWriter, r *http.Request) {
	if !wait(r, r.URL.Query().Get("latency")) {
		return
	}
	size, _ := strconv.Atoi(r.URL.Query().Get("size"))
	writePage(w, http.StatusOK, "Page "+r.PathValue("n"), size, "")
}

func (s *Site) status(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 200 || code > 599 {
		http.Error(w, "status must be a number from 200 to 599", http.StatusBadRequest)
		return
	}
	if !wait(r, r.URL.Query().Get("latency")) {
		return
	}
	writePage(w, code, fmt.Sprintf("Status %d", code), 0, "")
}

func (s *Site) redirect(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 {
		http.Error(w, "n must be a whole number", http.StatusBadRequest)
		return
	}
	to := "/page/0"
	if n > 0 {
		to = fmt.Sprintf("/redirect/%d", n-1)
	}
	http.Redirect(w, r, to, http.StatusFound)
}

func (s *Site) retry(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail, _ := strconv.Atoi(q.Get("fail"))
	code, _ := strconv.Atoi(q.Get("code"))
	if code == 0 {
		code = http.StatusServiceUnavailable
	}
	if s.Count(r.URL.Path) <= fail {
		if after := q.Get("after"); after != "" {
			w.Header().Set("Retry-After", after)
		}
		writePage(w, code, "Try again", 0, "")
		return
	}
	writePage(w, http.StatusOK, "Retried "+r.PathValue("key"), 0, "")
}

func (s *Site) slowBody(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, _ := strconv.Atoi(q.Get("bytes"))
	if n <= 0 {
		n = 10
	}
	interval, err := time.ParseDuration(q.Get("interval"))
	if err != nil || interval <= 0 {
		interval = time.Second
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	t := time.NewTicker(interval)
	defer t.Stop()
	for range n {
		if _, err := w.Write([]byte("x")); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
	}
}

func (s *Site) hang(_ http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
}

// wait sleeps for the latency named by v (a Go duration, or milliseconds
// as a bare number) and reports false if the client left first.
func wait(r *http.Request, v string) bool {
	if v == "" {
		return true
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		ms, _ := strconv.Atoi(v)
		d = time.Duration(ms) * time.Millisecond
	}
	if d <= 0 {
		return true
	}
	return sleep(r.Context(), d)
}

// padding fills pages up to their asked size without allocating per request.
var padding = strings.Repeat("lorem ipsum dolor sit amet ", 2500)

// writePage writes a small HTML page, padded to size bytes when size is
// larger than the page itself.
func writePage(w http.ResponseWriter, code int, title string, size int, body string) {
	head := `<!doctype html><html><head><meta charset="utf-8"><title>` + title +
		`</title></head><body><h1>` + title + `</h1>` + body + `<p>`
	const tail = `</p></body></html>` + "\n"
	pad := max(size-len(head)-len(tail), 0)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(head)+pad+len(tail)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, head)
	for pad > 0 {
		n := min(pad, len(padding))
		if _, err := io.WriteString(w, padding[:n]); err != nil {
			return
		}
		pad -= n
	}
	_, _ = io.WriteString(w, tail)
}
