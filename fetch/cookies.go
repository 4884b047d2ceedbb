package fetch

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/publicsuffix"
)

// Jar is a cookie jar for one run: net/http/cookiejar with the Public
// Suffix List (so a site cannot set a cookie for all of .co.uk), that can
// also load and save the Netscape cookies.txt format curl and wget read.
// It is safe for concurrent use.
type Jar struct {
	jar *cookiejar.Jar

	mu   sync.Mutex
	kept map[string]keptCookie // by domain, path and name: what Save writes
}

type keptCookie struct {
	domain     string // without a leading dot
	subdomains bool   // the cookie also goes to subdomains
	cookie     http.Cookie
}

// NewJar returns an empty jar.
func NewJar() *Jar {
	jar, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List}) // never fails
	return &Jar{jar: jar, kept: map[string]keptCookie{}}
}

// SetCookies implements http.CookieJar.
func (j *Jar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.jar.SetCookies(u, cookies)
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cookies {
		k := keptCookie{domain: strings.TrimPrefix(strings.ToLower(c.Domain), "."), subdomains: c.Domain != "", cookie: *c}
		if k.domain == "" {
			k.domain = u.Hostname()
		}
		if k.cookie.Path == "" {
			k.cookie.Path = "/"
		}
		key := k.domain + "\t" + k.cookie.Path + "\t" + c.Name
		if c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			delete(j.kept, key)
			continue
		}
		j.kept[key] = k
	}
}

// Cookies implements http.CookieJar.
func (j *Jar) Cookies(u *url.URL) []*http.Cookie { return j.jar.Cookies(u) }

// Load reads cookies in the Netscape cookies.txt format: one a line,
// domain, include-subdomains, path, secure, expiry (Unix seconds, 0 for a
// session cookie), name and value, tab-separated; # lines are comments,
// and a "#HttpOnly_" prefix marks an HTTP-only cookie. name says what r
// is, in errors, which give the line.
func (j *Jar) Load(name string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		httpOnly := strings.HasPrefix(text, "#HttpOnly_")
		if httpOnly {
			text = strings.TrimPrefix(text, "#HttpOnly_")
		}
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 7 {
			return fmt.Errorf("cookies %s line %d: want 7 tab-separated fields, got %d", name, line, len(f))
		}
		expiry, err := strconv.ParseInt(f[4], 10, 64)
		if err != nil {
			return fmt.Errorf("cookies %s line %d: expiry %q is not Unix seconds", name, line, f[4])
		}
		domain := strings.TrimPrefix(f[0], ".")
		c := &http.Cookie{Name: f[5], Value: f[6], Path: f[2], Secure: strings.EqualFold(f[3], "TRUE"), HttpOnly: httpOnly}
		if strings.EqualFold(f[1], "TRUE") {
			c.Domain = domain
		}
		if expiry > 0 {
			c.Expires = time.Unix(expiry, 0)
		}
		scheme := "http"
		if c.Secure {
			scheme = "https"
		}
		j.SetCookies(&url.URL{Scheme: scheme, Host: domain, Path: c.Path}, []*http.Cookie{c})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("cookies %s: %w", name, err)
	}
	return nil
}

// Save writes the jar's cookies in the Netscape cookies.txt format, sorted.
func (j *Jar) Save(w io.Writer) error {
	j.mu.Lock()
	keys := make([]string, 0, len(j.kept))
	for k := range j.kept {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Netscape HTTP Cookie File (written by fetchall)\n")
	now := time.Now()
	for _, key := range keys {
		k := j.kept[key]
		c := k.cookie
		if !c.Expires.IsZero() && c.Expires.Before(now) {
			continue
		}
		domain, prefix := k.domain, ""
		if k.subdomains {
			domain = "." + domain
		}
		if c.HttpOnly {
			prefix = "#HttpOnly_"
		}
		var expiry int64
		if !c.Expires.IsZero() {
			expiry = c.Expires.Unix()
		}
		fmt.Fprintf(&b, "%s%s\t%s\t%s\t%s\t%d\t%s\t%s\n", prefix, domain, upperBool(k.subdomains), c.Path, upperBool(c.Secure), expiry, c.Name, c.Value)
	}
	j.mu.Unlock()
	_, err := io.WriteString(w, b.String())
	return err
}

func upperBool(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}
