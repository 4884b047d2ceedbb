package crawler

import (
	"net/url"
	"strings"
)

// Trap guards, on by default in every crawl: what endless sites (relative
// links that nest forever, calendars, session ids in every link) would
// otherwise turn into a crawl that only --max-pages ends.
const (
	// MaxURLLength is the longest URL a crawl follows, in bytes.
	MaxURLLength = 2048
	// MaxSegmentRepeats is how often one path segment may appear in a
	// path: /a/b/a/b/a/b/a/b is a loop of relative links, not a page.
	MaxSegmentRepeats = 3
	// DefaultMaxPagesPerHost caps the pages of one host in a crawl when
	// Settings.MaxPagesPerHost is zero.
	DefaultMaxPagesPerHost = 50000
)

// The reasons a link is skipped as a trap, as CrawlStats.Traps counts them.
const (
	TrapLongURL         = "url_over_2kib"
	TrapRepeatedSegment = "repeated_path_segment"
	TrapHostCap         = "host_page_cap"
)

// trackingParams are query parameters that only track or carry a session:
// a crawl drops them before the seen check, so that one page is one URL
// (unless KeepParams). Names are matched without case; a trailing * is a
// prefix.
var trackingParams = []string{
	"utm_*", "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid",
	"_ga", "_gl", "igshid", "ref_src", "phpsessid", "jsessionid", "sessionid", "aspsessionid*", "cfid", "cftoken",
}

// TrackingParams lists the query parameters a crawl drops, for the docs.
func TrackingParams() []string { return append([]string(nil), trackingParams...) }

func isTrackingParam(name string) bool {
	name = strings.ToLower(name)
	for _, p := range trackingParams {
		if strings.HasSuffix(p, "*") {
			if strings.HasPrefix(name, p[:len(p)-1]) {
				return true
			}
		} else if name == p {
			return true
		}
	}
	return false
}

// stripTracking returns u without tracking and session parameters, and
// without a ;jsessionid= (or any ;name=value a servlet container adds) in
// its path. u itself is not changed.
func stripTracking(u *url.URL) *url.URL {
	path := u.Path
	if i := strings.Index(strings.ToLower(path), ";jsessionid="); i >= 0 {
		path = path[:i]
	}
	query := u.RawQuery
	if query != "" {
		parts := strings.Split(query, "&")
		kept := parts[:0]
		for _, p := range parts {
			name, _, _ := strings.Cut(p, "=")
			if n, err := url.QueryUnescape(name); err == nil && isTrackingParam(n) {
				continue
			}
			kept = append(kept, p)
		}
		query = strings.Join(kept, "&")
	}
	if path == u.Path && query == u.RawQuery {
		return u
	}
	c := *u
	c.Path, c.RawPath, c.RawQuery = path, "", query
	return &c
}

// trap says why u is a crawl trap, or "".
func trap(u *url.URL, full string) string {
	if len(full) > MaxURLLength {
		return TrapLongURL
	}
	segments := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	if len(segments) > MaxSegmentRepeats {
		seen := map[string]int{}
		for _, s := range segments {
			if s == "" {
				continue
			}
			if seen[s]++; seen[s] > MaxSegmentRepeats {
				return TrapRepeatedSegment
			}
		}
	}
	return ""
}
