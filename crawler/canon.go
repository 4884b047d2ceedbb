package crawler

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"

	"github.com/fetchall/fetchall/fetch"
)

// Canonical returns the one spelling of an absolute http(s) URL that the
// crawler uses everywhere, so that two spellings of a page are seen once:
// scheme and host in lower case, the host in IDNA ASCII form without a
// trailing dot, the default port dropped, the path's dot segments resolved
// and its percent-encoding normalised (unreserved characters decoded, hex
// in upper case), an empty path made "/", and the fragment dropped. The
// query is kept as it is: its order can matter to the server.
func Canonical(raw string) (string, error) {
	u, err := fetch.ParseURL(raw)
	if err != nil {
		return "", err
	}
	c, err := canonicalURL(u)
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

// errBadHost marks a host that IDNA cannot turn into ASCII.
var errBadHost = errors.New("host is not a valid domain name")

// errBadPort marks a port outside 1-65535.
var errBadPort = errors.New("port out of range (1-65535)")

// canonicalURL canonicalises an absolute http(s) URL; see Canonical.
func canonicalURL(u *url.URL) (*url.URL, error) {
	c := *u
	c.Scheme = strings.ToLower(c.Scheme)
	c.Fragment, c.RawFragment = "", ""
	c.ForceQuery = false
	c.Opaque = ""

	host, port := c.Hostname(), c.Port()
	host = strings.TrimRight(strings.ToLower(host), ".")
	if net.ParseIP(host) == nil {
		ascii, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return nil, errors.Join(errBadHost, err)
		}
		host = strings.TrimRight(ascii, ".")
	}
	if host == "" {
		return nil, errBadHost
	}
	if (c.Scheme == "http" && port == "80") || (c.Scheme == "https" && port == "443") {
		port = ""
	}
	if n, err := strconv.Atoi(port); port != "" && (err != nil || n < 1 || n > 65535) {
		return nil, errBadPort // fetch.ParseURL refuses it too
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	c.Host = host

	p := removeDotSegments(normalizeEscapes(c.EscapedPath()))
	if p == "" {
		p = "/"
	}
	unescaped, err := url.PathUnescape(p)
	if err != nil {
		return nil, err
	}
	c.Path, c.RawPath = unescaped, p
	if c.EscapedPath() != p {
		// Go would spell the path differently: keep ours as the raw form.
		c.RawPath = p
	}
	// The query as it is sent: "?q=a b" and "?q=a%20b" are one page.
	q, _ := fetch.EscapeQuery(c.RawQuery)
	c.RawQuery = normalizeEscapes(q)
	return &c, nil
}

// normalizeEscapes upper-cases percent-escapes and decodes those of
// unreserved characters (RFC 3986 section 6.2.2).
func normalizeEscapes(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(c) {
				b.WriteByte(c)
			} else {
				b.WriteByte('%')
				b.WriteString(strings.ToUpper(s[i+1 : i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDotSegments resolves "." and ".." in an absolute path as RFC 3986
// section 5.2.4 does; ".." above the root stays at the root.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	r := strings.Join(out, "/")
	if !strings.HasPrefix(r, "/") {
		r = "/" + r
	}
	return r
}
