package crawler

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Scope modes.
const (
	ScopeHost   = "host"   // the seeds' hosts (with port) only
	ScopeDomain = "domain" // the seeds' registered domains, by the Public Suffix List
	ScopeAny    = "any"    // anywhere
)

// Scope decides which discovered URLs a crawl may fetch. Seeds, and hosts a
// seed redirects to, are added with AddSeed. It is owned by the crawl's
// coordinator and not safe for concurrent use.
type Scope struct {
	mode    string
	allow   []string // host globs, from --allow-domain
	include []*regexp.Regexp
	exclude []*regexp.Regexp
	hosts   map[string]bool // host:port of seeds
	domains map[string]bool // registered domains of seeds
}

// NewScope checks and compiles the scope settings; errors name the setting.
func NewScope(mode string, allowDomains, include, exclude []string) (*Scope, error) {
	switch mode {
	case "":
		mode = ScopeHost
	case ScopeHost, ScopeDomain, ScopeAny:
	default:
		return nil, fmt.Errorf("scope %q: want host, domain or any", mode)
	}
	s := &Scope{mode: mode, hosts: map[string]bool{}, domains: map[string]bool{}}
	for _, g := range allowDomains {
		g = strings.ToLower(strings.TrimSpace(g))
		if _, err := path.Match(g, ""); err != nil || g == "" {
			return nil, fmt.Errorf("allow-domain %q: not a valid pattern", g)
		}
		s.allow = append(s.allow, g)
	}
	var err error
	if s.include, err = compileAll("include", include); err != nil {
		return nil, err
	}
	if s.exclude, err = compileAll("exclude", exclude); err != nil {
		return nil, err
	}
	return s, nil
}

func compileAll(what string, exprs []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(exprs))
	for _, e := range exprs {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", what, e, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// AddSeed puts u's site in scope.
func (s *Scope) AddSeed(u *url.URL) {
	s.hosts[u.Host] = true
	s.domains[registeredDomain(u.Hostname())] = true
}

// Allows reports whether u may be fetched: its host is in scope (by mode,
// or by an --allow-domain pattern), it matches an --include pattern if
// there are any, and no --exclude pattern.
func (s *Scope) Allows(u *url.URL) bool {
	if !s.hostAllowed(u) {
		return false
	}
	full := u.String()
	for _, re := range s.exclude {
		if re.MatchString(full) {
			return false
		}
	}
	if len(s.include) == 0 {
		return true
	}
	for _, re := range s.include {
		if re.MatchString(full) {
			return true
		}
	}
	return false
}

func (s *Scope) hostAllowed(u *url.URL) bool {
	switch {
	case s.mode == ScopeAny,
		s.mode == ScopeHost && s.hosts[u.Host],
		s.mode == ScopeDomain && s.domains[registeredDomain(u.Hostname())]:
		return true
	}
	host := u.Hostname()
	for _, g := range s.allow {
		if ok, _ := path.Match(g, host); ok {
			return true
		}
		// "*.example.org" also means example.org itself.
		if strings.HasPrefix(g, "*.") && host == g[2:] {
			return true
		}
	}
	return false
}

// registeredDomain is the eTLD+1 of host ("www.example.co.uk" ->
// "example.co.uk"); an IP address or a bare suffix stands for itself.
func registeredDomain(host string) string {
	if net.ParseIP(host) != nil {
		return host
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}
