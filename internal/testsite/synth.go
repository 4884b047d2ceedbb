package testsite

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The synthetic website: "/" and /site/0 .. /site/N-1, linked by a
// deterministic pseudo-random graph, with every kind of link and every
// trap a crawler meets. One function, links, defines the graph: the pages
// render it and Truth walks it, so a test compares a crawl against the
// site's own ground truth.

// link is one link as a page writes it and where it really leads.
type link struct {
	href     string // as written in the page (maybe relative, with a fragment)
	absolute bool   // href is a path the page writes as http://HOST + href
	target   string // the request URI it resolves to on this site; "" if external
	kind     string // a, area, link, iframe, frame, refresh, header
	nofollow bool
}

// redirects maps each redirecting URI of the site to its target.
func (s *Site) redirectTarget(uri string) (string, bool) {
	switch {
	case strings.HasPrefix(uri, "/site/r/"):
		return "/site/" + strings.TrimPrefix(uri, "/site/r/"), true
	case strings.HasPrefix(uri, "/site/") && strings.HasSuffix(uri, "?utm_source=feed"):
		return strings.TrimSuffix(uri, "?utm_source=feed"), true
	}
	return "", false
}

// disallowed says what robots.txt forbids every agent.
func disallowed(uri string) bool {
	return strings.HasPrefix(uri, "/site/private/") || strings.HasPrefix(uri, "/endpoints")
}

// homeLinks is about how many pages the home page links to; with 200
// pages, depth 3 reaches all of them, depth 2 not quite.
const homeLinks = 67

// mix is a small deterministic hash: the graph is the same on every run.
func mix(a, b int) int {
	x := uint32(a)*2654435761 ^ uint32(b)*40503 ^ 0x9e3779b9
	x ^= x >> 15
	x *= 2246822519
	x ^= x >> 13
	return int(x >> 1)
}

// links returns the links of the page at uri, in page order; nil for
// pages without links (leaves, redirects, unknown URIs).
func (s *Site) links(uri string) []link {
	n := s.opts.Pages
	if uri == "/" {
		// Entry points spread over the site, as a home page and its menus
		// give: the default crawl depth (3) covers the default 200 pages.
		out := []link{{href: "/endpoints", target: "/endpoints", kind: "a"}}
		for i := 0; i < n; i += max(n/homeLinks, 1) {
			out = append(out, link{href: fmt.Sprintf("/site/%d", i), target: fmt.Sprintf("/site/%d", i), kind: "a"})
		}
		return out
	}
	if uri == "/site/kinds/frameset" {
		return []link{{href: "/site/kinds/frame", target: "/site/kinds/frame", kind: "frame"}}
	}
	i, ok := pageNumber(uri)
	if !ok || i >= n {
		return nil
	}
	page := func(j int) string { return fmt.Sprintf("/site/%d", j) }
	var out []link
	base := i%7 == 0 // these pages set <base href="/site/x/">
	for k := range 4 {
		j := mix(i, k) % n
		var href string
		switch {
		case base:
			href = fmt.Sprintf("../%d#sec-%d", j, k) // only right if <base> is honoured
		case k == 0:
			out = append(out, link{href: page(j), absolute: true, target: page(j), kind: "a"})
			continue
		case k == 1:
			href = strconv.Itoa(j) // relative to /site/
		case k == 2:
			href = fmt.Sprintf("./%d#top", j)
		default:
			href = fmt.Sprintf("../site/%d", j)
		}
		out = append(out, link{href: href, target: page(j), kind: "a"})
	}
	// A duplicate, a self-link with a fragment (not under <base>, where
	// "#main" means the base URL), and the next page.
	out = append(out, out[0], link{href: page((i + 1) % n), target: page((i + 1) % n), kind: "a"})
	if !base {
		out = append(out, link{href: "#main", target: page(i), kind: "a"})
	}
	if i%10 == 0 {
		out = append(out, link{href: page(i) + "?utm_source=feed", target: page(i) + "?utm_source=feed", kind: "a"})
	}
	if i%11 == 0 {
		j := mix(i, 99) % n
		out = append(out, link{href: fmt.Sprintf("/site/r/%d", j), target: fmt.Sprintf("/site/r/%d", j), kind: "a"})
	}
	switch i {
	case 1:
		out = append(out,
			link{href: "/site/kinds/link", target: "/site/kinds/link", kind: "link"},
			link{href: "/site/kinds/area", target: "/site/kinds/area", kind: "area"},
			link{href: "/site/kinds/iframe", target: "/site/kinds/iframe", kind: "iframe"},
			link{href: "/site/kinds/refresh", target: "/site/kinds/refresh", kind: "refresh"})
	case 2:
		out = append(out, link{href: "/site/kinds/header", target: "/site/kinds/header", kind: "header"})
	case 3:
		out = append(out, link{href: "/site/r/hidden", target: "/site/r/hidden", kind: "a"})
	case 4:
		out = append(out, link{href: "/site/kinds/frameset", target: "/site/kinds/frameset", kind: "a"})
	case 5:
		out = append(out, link{href: "http://external.invalid/page", kind: "a"},
			link{href: "mailto:someone@external.invalid", kind: "a"},
			link{href: "javascript:void(0)", kind: "a"})
	case 6:
		out = append(out, link{href: "/site/private/secret", target: "/site/private/secret", kind: "a"})
	case 8:
		out = append(out, link{href: "/site/nofollow-only", target: "/site/nofollow-only", kind: "a", nofollow: true})
	case 9:
		// Hundreds of fragment links: one page each, however many anchors.
		for k := range 300 {
			out = append(out, link{href: fmt.Sprintf("#frag-%d", k), target: page(9), kind: "a"},
				link{href: fmt.Sprintf("%s#x%d", page(k%n), k), target: page(k % n), kind: "a"})
		}
	}
	return out
}

// pageNumber reads /site/{i} for i within the site.
func pageNumber(uri string) (int, bool) {
	rest, ok := strings.CutPrefix(uri, "/site/")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil && i >= 0 && i < 1<<30
}

// origin is the site's scheme and host as the client named it, for
// absolute links.
func origin(r *http.Request) string { return "http://" + r.Host }

// sitePage answers a page of the synthetic website after the site's
// latency. The latency counts from the request's arrival to the answer's
// first byte, building the page included, so that a 10 ms site answers in
// 10 ms however long its pages take to write.
func (s *Site) sitePage(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	latency := s.opts.Latency
	if s.opts.SlowPage != "" && r.URL.RequestURI() == s.opts.SlowPage {
		latency = s.opts.SlowLatency
	}
	held := &heldResponse{w: w}
	s.writeSitePage(held, r)
	if !sleep(r.Context(), latency-time.Since(arrived)) {
		return
	}
	held.send()
}

// heldResponse keeps a handler's answer until it is due.
type heldResponse struct {
	w      http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header { return h.w.Header() }

func (h *heldResponse) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

func (h *heldResponse) Write(p []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(p)
}

func (h *heldResponse) send() {
	h.WriteHeader(http.StatusOK)
	h.w.Header().Set("Content-Length", strconv.Itoa(h.body.Len()))
	h.w.WriteHeader(h.status)
	_, _ = h.w.Write(h.body.Bytes())
}

func (s *Site) writeSitePage(w http.ResponseWriter, r *http.Request) {
	uri := r.URL.RequestURI()
	if to, ok := s.redirectTarget(uri); ok {
		http.Redirect(w, r, to, http.StatusMovedPermanently)
		return
	}
	i, isPage := pageNumber(uri)
	known := isPage && i < s.opts.Pages || uri == "/" ||
		map[string]bool{"/site/hidden": true, "/site/orphan": true, "/site/nofollow-only": true, "/site/private/secret": true}[uri] ||
		strings.HasPrefix(uri, "/site/kinds/")
	if !known {
		http.NotFound(w, r)
		return
	}
	var head, body strings.Builder
	title := "Site " + strings.TrimPrefix(uri, "/site/")
	if uri == "/" {
		title = "fetchall test site"
		body.WriteString(`<p>A synthetic site for crawling; the fault endpoints are listed at <a href="/endpoints">/endpoints</a>.</p>`)
	}
	if isPage && i%7 == 0 {
		head.WriteString(`<base href="/site/x/">`)
	}
	links := s.links(uri)
	if uri == "/site/kinds/frameset" {
		fmt.Fprintf(w, `<!doctype html><html><head><title>%s</title></head><frameset><frame src="/site/kinds/frame"></frameset></html>`, title)
		return
	}
	for _, l := range links {
		href := html.EscapeString(l.href)
		if l.absolute {
			href = html.EscapeString(origin(r) + l.href)
		}
		switch l.kind {
		case "a":
			rel := ""
			if l.nofollow {
				rel = ` rel="nofollow"`
			}
			fmt.Fprintf(&body, `<a href="%s"%s>%s</a> `, href, rel, href)
		case "area":
			fmt.Fprintf(&body, `<map name="m"><area shape="rect" coords="0,0,1,1" href="%s"></map>`, href)
		case "iframe":
			fmt.Fprintf(&body, `<iframe src="%s"></iframe>`, href)
		case "link":
			fmt.Fprintf(&head, `<link rel="next" href="%s">`, href)
		case "refresh":
			fmt.Fprintf(&head, `<meta http-equiv="refresh" content="30; url=%s">`, href)
		case "header":
			w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="next"`, l.href))
		}
	}
	// Decoys that are not pages: a stylesheet and an icon.
	head.WriteString(`<link rel="stylesheet" href="/site/style.css"><link rel="icon" href="/favicon.ico">`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>%s</title>%s</head><body><h1>%s</h1>%s</body></html>`,
		html.EscapeString(title), head.String(), html.EscapeString(title), body.String())
}

func (s *Site) robots(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "# fetchall test site\nUser-agent: *\nDisallow: /site/private/\nDisallow: /endpoints\n\n")
	fmt.Fprintf(w, "User-agent: slowbot\nCrawl-delay: %g\nDisallow: /site/private/\nDisallow: /endpoints\n\n", s.opts.SlowbotDelay.Seconds())
	fmt.Fprintf(w, "Sitemap: %s/sitemap.xml\n", origin(r))
}

// sitemapIndex points at a gzipped urlset, as large sites do.
func (s *Site) sitemapIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`+
		`<sitemap><loc>%s/sitemap-pages.xml.gz</loc></sitemap></sitemapindex>`, origin(r))
}

func (s *Site) sitemapPages(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/gzip")
	zw := gzip.NewWriter(w)
	defer zw.Close()
	_, _ = io.WriteString(zw, `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
	for _, u := range s.sitemapURIs() {
		fmt.Fprintf(zw, "<url><loc>%s%s</loc></url>", origin(r), u)
	}
	_, _ = io.WriteString(zw, `<url><loc>http://external.invalid/in-sitemap</loc></url></urlset>`)
}

// sitemapURIs are the site's pages the sitemap lists: the home page, the
// first page twice (dedupe), and /site/orphan, which no page links to.
func (s *Site) sitemapURIs() []string {
	return []string{"/", "/site/0", "/site/0", "/site/orphan"}
}

// Truth returns the pages a correct crawl from "/" fetches, each with its
// depth: every URI reachable through links (depth + 1) and redirects
// (same depth), within maxDepth links (negative: no limit), skipping what
// robots.txt disallows, links to other hosts and, unless followNofollow,
// nofollow links. With sitemaps, the sitemap's pages are seeds too.
func (s *Site) Truth(maxDepth int, followNofollow, sitemaps bool) map[string]int {
	depth := map[string]int{}
	level := []string{}
	visit := func(list *[]string, uri string, d int) {
		// A crawl drops tracking parameters before its seen check: the
		// feed variant of a page is the page.
		uri = strings.TrimSuffix(uri, "?utm_source=feed")
		if old, ok := depth[uri]; (ok && old <= d) || uri == "" || disallowed(uri) {
			return
		}
		// New, or met through a redirect at a smaller depth than a link of
		// the same level gave it: the copy queued deeper is skipped.
		depth[uri] = d
		*list = append(*list, uri)
	}
	visit(&level, "/", 0)
	if sitemaps {
		for _, u := range s.sitemapURIs() {
			visit(&level, u, 0)
		}
	}
	// Level by level; a redirect's target joins the level being walked.
	for d := 0; len(level) > 0; d++ {
		var next []string
		for i := 0; i < len(level); i++ {
			uri := level[i]
			if depth[uri] != d {
				continue // queued again at a smaller depth
			}
			if to, ok := s.redirectTarget(uri); ok {
				visit(&level, to, d)
				continue
			}
			if maxDepth >= 0 && d >= maxDepth {
				continue
			}
			for _, l := range s.links(uri) {
				if !l.nofollow || followNofollow {
					visit(&next, l.target, d+1)
				}
			}
		}
		level = next
	}
	return depth
}
