package fetch

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// IsCredential says whether a request header carries a credential, which
// goes only to the origin it was given for and is masked in archives: the
// standard ones (Authorization, Proxy-Authorization, Cookie) and the names
// APIs give their keys and tokens (X-Api-Key, X-Auth-Token,
// Private-Token, X-Amz-Security-Token, Ocp-Apim-Subscription-Key...).
// curl keeps the standard ones alone from another host; a key in a header
// of its own is as secret.
func IsCredential(name string) bool {
	n := strings.ToLower(name)
	if n == "cookie" || strings.HasSuffix(n, "-key") || strings.HasSuffix(n, "_key") {
		return true
	}
	for _, word := range credentialWords {
		if strings.Contains(n, word) {
			return true
		}
	}
	return false
}

// credentialWords mark a header name as a credential's (see IsCredential).
var credentialWords = []string{"auth", "token", "secret", "passw", "apikey", "api-key", "api_key", "session", "credential"}

// Origin is a URL's scheme, host and port ("https://example.org:443"),
// the unit credentials are given for: a different scheme (https -> http),
// host or port is another origin.
func Origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// Origins is a set of origins credentials may go to, safe for concurrent
// use. The zero value is empty.
type Origins struct {
	mu  sync.RWMutex
	set map[string]bool
}

// Add lets credentials go to u's origin.
func (o *Origins) Add(u *url.URL) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.set == nil {
		o.set = map[string]bool{}
	}
	o.set[Origin(u)] = true
}

// Has says whether credentials may go to u's origin.
func (o *Origins) Has(u *url.URL) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.set[Origin(u)]
}

// mayCredit says whether a request to target may carry the configured
// credentials: target's origin is one of CredentialOrigins, or, when
// there are none, the origin of first (the URL Get was given).
func (c *Client) mayCredit(target, first *url.URL) bool {
	if c.cfg.CredentialOrigins != nil {
		return c.cfg.CredentialOrigins.Has(target)
	}
	return sameOrigin(target, first)
}

// sameOrigin is Origin(a) == Origin(b) without building either: it runs
// for every request.
func sameOrigin(a, b *url.URL) bool {
	if a == b {
		return true
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && effectivePort(a) == effectivePort(b)
}

// effectivePort is the URL's port, or its scheme's default.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// stripCredentials removes every credential from a request that may not
// carry them: the configured headers, cookies, and a URL's userinfo.
func stripCredentials(req *http.Request) {
	for h := range req.Header {
		if IsCredential(h) {
			delete(req.Header, h)
		}
	}
	req.URL.User = nil
}
