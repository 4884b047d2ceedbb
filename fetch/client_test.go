package fetch

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fetchall/fetchall/internal/testsite"
	"github.com/klauspost/compress/zstd"
)

func newSite(t *testing.T) (*testsite.Site, string) {
	t.Helper()
	site := testsite.New()
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	return site, srv.URL
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) error = %v", cfg, err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func keepAll(string) bool { return true }

func TestGetPage(t *testing.T) {
	_, base := newSite(t)
	c := newClient(t, Config{})
	res := c.Get(t.Context(), base+"/page/7?size=3000", keepAll)
	if res.Err != nil {
		t.Fatalf("Get error = %v", res.Err)
	}
	if res.Status != 200 || res.Bytes != 3000 || len(res.Body) != 3000 || res.Attempts != 1 || res.Truncated {
		t.Errorf("Get = status %d bytes %d body %d attempts %d truncated %v, want 200 3000 3000 1 false",
			res.Status, res.Bytes, len(res.Body), res.Attempts, res.Truncated)
	}
	if !strings.HasPrefix(res.ContentType, "text/html") {
		t.Errorf("ContentType = %q, want text/html", res.ContentType)
	}
}

func TestGetBodyNotKeptIsStillCounted(t *testing.T) {
	_, base := newSite(t)
	res := newClient(t, Config{}).Get(t.Context(), base+"/page/1?size=5000", nil)
	if res.Body != nil || res.Bytes != 5000 {
		t.Errorf("Get without keep: body %d bytes, Bytes %d; want no body, 5000", len(res.Body), res.Bytes)
	}
}

func TestGetTruncatesAtMaxBody(t *testing.T) {
	_, base := newSite(t)
	res := newClient(t, Config{MaxBody: 1000}).Get(t.Context(), base+"/page/1?size=50000", keepAll)
	if res.Err != nil || !res.Truncated || res.Bytes != 1000 || len(res.Body) != 1000 {
		t.Errorf("Get = err %v truncated %v bytes %d body %d, want nil true 1000 1000", res.Err, res.Truncated, res.Bytes, len(res.Body))
	}
}

func TestGetStatusIsNotAnError(t *testing.T) {
	_, base := newSite(t)
	res := newClient(t, Config{}).Get(t.Context(), base+"/status/404", nil)
	if res.Err != nil || res.Status != 404 || res.Attempts != 1 {
		t.Errorf("Get(/status/404) = err %v status %d attempts %d, want nil 404 1", res.Err, res.Status, res.Attempts)
	}
}

func TestGetFollowsRedirects(t *testing.T) {
	_, base := newSite(t)
	res := newClient(t, Config{}).Get(t.Context(), base+"/redirect/3", nil)
	if res.Err != nil || res.Status != 200 || res.FinalURL != base+"/page/0" {
		t.Errorf("Get(/redirect/3) = err %v status %d final %q, want 200 at /page/0", res.Err, res.Status, res.FinalURL)
	}
}

func TestGetTooManyRedirects(t *testing.T) {
	_, base := newSite(t)
	for limit, want := range map[int]string{5: "stopped after 5 redirects: too many redirects", 1: "stopped after 1 redirect: too many redirects"} {
		res := newClient(t, Config{MaxRedirects: limit}).Get(t.Context(), base+"/redirect/30", nil)
		if res.Err == nil || res.Err.Kind != KindTooManyRedirects || !strings.Contains(res.Err.Error(), want) {
			t.Errorf("Get(/redirect/30) with %d redirects at most: err = %v, want kind %s saying %q", limit, res.Err, KindTooManyRedirects, want)
		}
		// Where the chain stopped: the redirect not followed (the record
		// said status 0, no URL, though answers came).
		if stopped := fmt.Sprintf("%s/redirect/%d", base, 30-limit); res.Status != http.StatusFound || res.FinalURL != stopped {
			t.Errorf("with %d redirects at most: status %d, final URL %q; want 302 and %s", limit, res.Status, res.FinalURL, stopped)
		}
	}
}

func TestGetNoRedirectsFollowed(t *testing.T) {
	_, base := newSite(t)
	res := newClient(t, Config{MaxRedirects: -1}).Get(t.Context(), base+"/redirect/1", nil)
	if res.Err != nil || res.Status != http.StatusFound {
		t.Errorf("Get with redirects off = err %v status %d, want the 302 itself", res.Err, res.Status)
	}
}

func TestGetRedirectToOtherSchemeIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	}))
	defer srv.Close()
	res := newClient(t, Config{}).Get(t.Context(), srv.URL, nil)
	if res.Err == nil || res.Err.Kind != KindUnsupportedScheme {
		t.Fatalf("Get(redirect to file:) err = %v, want kind %s", res.Err, KindUnsupportedScheme)
	}
	if res.Status != http.StatusFound || res.FinalURL != srv.URL {
		t.Errorf("redirect to file: status %d, final URL %q; want the redirect's 302 and %s", res.Status, res.FinalURL, srv.URL)
	}
}

func TestGetRetriesHonourRetryAfter(t *testing.T) {
	site, base := newSite(t)
	c := newClient(t, Config{Retries: 2, Backoff: time.Millisecond})
	start := time.Now()
	res := c.Get(t.Context(), base+"/retry/a?fail=1&code=429&after=1", nil)
	if res.Err != nil || res.Status != 200 || res.Attempts != 2 {
		t.Fatalf("Get = err %v status %d attempts %d, want 200 after 2 attempts", res.Err, res.Status, res.Attempts)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("retried after %s, want Retry-After's 1s honoured", waited)
	}
	if n := site.Count("/retry/a"); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
}

func TestGetRetryWaitIsCapped(t *testing.T) {
	_, base := newSite(t)
	c := newClient(t, Config{Retries: 1, MaxRetryWait: 10 * time.Millisecond})
	start := time.Now()
	res := c.Get(t.Context(), base+"/retry/b?fail=1&code=503&after=3600", nil)
	if res.Status != 200 || res.Attempts != 2 {
		t.Fatalf("Get = status %d attempts %d, want 200 after 2", res.Status, res.Attempts)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("waited %s, want the 10ms cap instead of Retry-After's hour", waited)
	}
}

func TestGetGivesUpAfterRetries(t *testing.T) {
	site, base := newSite(t)
	c := newClient(t, Config{Retries: 2, Backoff: time.Millisecond})
	res := c.Get(t.Context(), base+"/retry/c?fail=99&code=502", nil)
	if res.Err != nil || res.Status != 502 || res.Attempts != 3 {
		t.Errorf("Get = err %v status %d attempts %d, want the 502 after 3 attempts", res.Err, res.Status, res.Attempts)
	}
	if n := site.Count("/retry/c"); n != 3 {
		t.Errorf("server saw %d requests, want 3", n)
	}
}

func TestGetTimeoutOnSlowBody(t *testing.T) {
	_, base := newSite(t)
	c := newClient(t, Config{Timeout: 300 * time.Millisecond})
	start := time.Now()
	res := c.Get(t.Context(), base+"/slow-body?bytes=100&interval=100ms", nil)
	if res.Err == nil || res.Err.Kind != KindTimeout {
		t.Fatalf("Get(slow body) err = %v, want kind %s", res.Err, KindTimeout)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("slow body took %s, want about the 300ms timeout", took)
	}
	// The same words on both paths, naming the timeout.
	if want := "timeout: no complete answer within the 300ms timeout"; res.Err.Error() != want {
		t.Errorf("error %q, want %q", res.Err, want)
	}
}

func TestGetTimeoutOnSilentServer(t *testing.T) {
	_, base := newSite(t)
	res := newClient(t, Config{Timeout: 200 * time.Millisecond}).Get(t.Context(), base+"/hang", nil)
	if res.Err == nil || res.Err.Kind != KindTimeout {
		t.Fatalf("Get(/hang) err = %v, want kind %s", res.Err, KindTimeout)
	}
	if want := "timeout: no complete answer within the 200ms timeout"; res.Err.Error() != want {
		t.Errorf("error %q, want %q", res.Err, want)
	}
}

func TestGetRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res := newClient(t, Config{Retries: 1, Backoff: time.Millisecond}).Get(t.Context(), "http://"+addr+"/", nil)
	if res.Err == nil || res.Err.Kind != KindRefused || res.Attempts != 2 {
		t.Fatalf("Get(closed port) = err %v attempts %d, want kind %s after 2 attempts", res.Err, res.Attempts, KindRefused)
	}
}

func TestGetCanceled(t *testing.T) {
	_, base := newSite(t)
	// The lean path, and net/http (a URL with credentials).
	for _, u := range []string{base + "/hang", strings.Replace(base, "://", "://user:pw@", 1) + "/hang"} {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		res := newClient(t, Config{Retries: 3}).Get(ctx, u, nil)
		if res.Err == nil || res.Err.Kind != KindCanceled || res.Attempts != 1 {
			t.Fatalf("Get(%s) after cancel = err %v attempts %d, want kind %s, no retry", u, res.Err, res.Attempts, KindCanceled)
		}
		// In words: the lean path said what its closed connection did
		// ("the server closed connection before returning the first
		// response byte. make sure the server returns 'connection: close'...").
		if want := "canceled: stopped before the answer came: the run was interrupted or ended"; res.Err.Error() != want {
			t.Errorf("Get(%s): message %q, want %q", u, res.Err.Error(), want)
		}
	}
}

func TestGetBadURLs(t *testing.T) {
	c := newClient(t, Config{})
	tests := []struct {
		in   string
		want Kind
	}{
		{"not a url", KindBadURL},
		{"/relative/path", KindBadURL},
		{"http://", KindBadURL},
		{"http://[::1", KindBadURL},
		{"http://127.0.0.1:99999/", KindBadURL}, // not a network error at the dial
		{"http://127.0.0.1:0/", KindBadURL},
		{"ftp://127.0.0.1/x", KindUnsupportedScheme},
		{"file:///etc/passwd", KindUnsupportedScheme},
		{"javascript:alert(1)", KindUnsupportedScheme},
		{"mailto:a@b.test", KindUnsupportedScheme},
		// A host without its scheme: said so ("localhost:8080" read as
		// the scheme "localhost", "127.0.0.1:8080" as a colon in a path).
		{"localhost:8080", KindBadURL},
		{"127.0.0.1:8080/page/1", KindBadURL},
		{"example.org/page", KindBadURL},
	}
	for _, tt := range tests {
		res := c.Get(t.Context(), tt.in, nil)
		if res.Err == nil || res.Err.Kind != tt.want || res.Attempts != 0 {
			t.Errorf("Get(%q) = err %v attempts %d, want kind %s and no attempt", tt.in, res.Err, res.Attempts, tt.want)
		}
	}
	for _, host := range []string{"localhost:8080", "127.0.0.1:8080/page/1", "example.org/page"} {
		if res := c.Get(t.Context(), host, nil); !strings.Contains(res.Err.Error(), "no scheme (want http:// or https:// before the host)") {
			t.Errorf("Get(%q) = err %v, want it to say the scheme is missing", host, res.Err)
		}
	}
}

func TestHeadersAndUserAgentAreSent(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer srv.Close()
	c := newClient(t, Config{UserAgent: "fetchall/test", Header: http.Header{"X-Token": {"abc"}}})
	if res := c.Get(t.Context(), srv.URL, nil); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got.Get("User-Agent") != "fetchall/test" || got.Get("X-Token") != "abc" || got.Get("Accept-Encoding") != acceptEncoding {
		t.Errorf("server saw User-Agent %q X-Token %q Accept-Encoding %q, want fetchall/test abc %q", got.Get("User-Agent"), got.Get("X-Token"), got.Get("Accept-Encoding"), acceptEncoding)
	}
	// The user's own stand; an empty one does not.
	for _, tt := range []struct {
		header          http.Header
		agent, encoding string
	}{
		{http.Header{"User-Agent": {"mine/1"}, "Accept-Encoding": {"identity"}}, "mine/1", "identity"},
		{http.Header{"Accept-Encoding": {""}}, "fetchall/test", acceptEncoding},
	} {
		c := newClient(t, Config{UserAgent: "fetchall/test", Header: tt.header})
		if res := c.Get(t.Context(), srv.URL, nil); res.Err != nil {
			t.Fatal(res.Err)
		}
		if got.Get("User-Agent") != tt.agent || got.Get("Accept-Encoding") != tt.encoding {
			t.Errorf("headers %v: server saw User-Agent %q Accept-Encoding %q, want %q %q", tt.header, got.Get("User-Agent"), got.Get("Accept-Encoding"), tt.agent, tt.encoding)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"5", 5 * time.Second},
		{" 2 ", 2 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"99999999999999", 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	c := newClient(t, Config{Backoff: 100 * time.Millisecond, MaxRetryWait: time.Second})
	for attempt, hi := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 10: time.Second} {
		for range 50 {
			if d := c.backoff(attempt); d < hi/2 || d > hi {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", attempt, d, hi/2, hi)
			}
		}
	}
}

func TestTLSVerificationAndInsecure(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	res := newClient(t, Config{}).Get(t.Context(), srv.URL, nil)
	if res.Err == nil || res.Err.Kind != KindTLS {
		t.Fatalf("Get(self-signed) err = %v, want kind %s", res.Err, KindTLS)
	}
	// Said in a user's words, with what to do: it was Go's "tls: failed
	// to verify certificate: x509: certificate signed by unknown authority".
	if want := "the server's certificate is not trusted: it is signed by an authority this system does not know (self-signed, or a private CA) (-k, --insecure, skips the check)"; res.Err.Err.Error() != want {
		t.Errorf("message %q, want %q", res.Err.Err.Error(), want)
	}
	cert := srv.Certificate()
	for err, want := range map[error]string{
		x509.HostnameError{Certificate: cert, Host: "other.test"}:                                  "certificate is valid for ",
		x509.CertificateInvalidError{Cert: cert, Reason: x509.Expired, Detail: "it ended in 2020"}: "it has expired, or is not valid yet: it ended in 2020",
		errors.New("tls: handshake failure"):                                                       "",
	} {
		if got := untrusted(err); !strings.HasPrefix(got, want) || (want == "" && got != "") {
			t.Errorf("untrusted(%v) = %q, want it to start %q", err, got, want)
		}
	}
	res = newClient(t, Config{Insecure: true}).Get(t.Context(), srv.URL, nil)
	if res.Err != nil || res.Status != 200 {
		t.Errorf("Get(self-signed, Insecure) = err %v status %d, want 200", res.Err, res.Status)
	}
}

func TestProxyCarriesRequests(t *testing.T) {
	var asked string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.URL.String() // a proxy is asked for the absolute URL
	}))
	defer proxy.Close()
	u, _ := url.Parse(proxy.URL)
	res := newClient(t, Config{Proxy: u}).Get(t.Context(), "http://fetchall.invalid/page", nil)
	if res.Err != nil || asked != "http://fetchall.invalid/page" {
		t.Errorf("through the proxy: err %v, proxy was asked for %q", res.Err, asked)
	}
}

// A proxy that cannot be reached is said so: net/http's "proxyconnect
// tcp: dial tcp ..." read as a word of ours.
func TestUnreachableProxyIsNamed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	u, _ := url.Parse("http://" + addr)
	res := newClient(t, Config{Proxy: u}).Get(t.Context(), "http://fetchall.invalid/page", nil)
	if res.Err == nil || res.Err.Kind != KindRefused || !strings.HasPrefix(res.Err.Err.Error(), "the proxy could not be reached: ") || !strings.Contains(res.Err.Err.Error(), addr) {
		t.Errorf("through an unreachable proxy: %v, want refused, saying the proxy at %s could not be reached", res.Err, addr)
	}
}

func TestIncompleteBodyIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte("only a little"))
	}))
	defer srv.Close()
	res := newClient(t, Config{Retries: 1, Backoff: time.Millisecond}).Get(t.Context(), srv.URL, keepAll)
	if res.Err == nil || res.Err.Kind != KindIncompleteBody || res.Attempts != 2 {
		t.Errorf("short body = err %v attempts %d, want kind %s after a retry", res.Err, res.Attempts, KindIncompleteBody)
	}
}

// Issue 11, item 7: after a reset, then 503 twice, the result describes
// the last attempt: status 503 and no leftover error from the first.
func TestResultDescribesTheLastAttempt(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := newClient(t, Config{Retries: 2, Backoff: time.Millisecond})
	res := c.Get(t.Context(), srv.URL+"/", nil)
	if res.Attempts != 3 || res.Status != 503 || res.Err != nil {
		t.Errorf("Get = attempts %d status %d err %v; want 3 attempts ending in 503, no error", res.Attempts, res.Status, res.Err)
	}
}

// sameOrigin agrees with comparing Origin strings.
func TestSameOriginAgreesWithOrigin(t *testing.T) {
	urls := []string{"http://a.test/", "HTTP://A.test:80/x", "http://a.test:8080/", "https://a.test/", "https://a.test:443/y",
		"http://b.test/", "http://[::1]/", "http://[::1]:80/", "ftp://a.test/"}
	for _, x := range urls {
		for _, y := range urls {
			a, _ := url.Parse(x)
			b, _ := url.Parse(y)
			if got, want := sameOrigin(a, b), Origin(a) == Origin(b); got != want {
				t.Errorf("sameOrigin(%s, %s) = %v, want %v", x, y, got, want)
			}
		}
	}
}

// A zstd body may use a window of up to 8 MiB, as RFC 9659 says; a larger
// one is a decoding error, not memory held for it (512 MiB a response
// with the library's default).
func TestZstdWindowIsCappedAsHTTPSays(t *testing.T) {
	page := bytes.Repeat([]byte("<title>z</title><p>hello</p>"), 1000)
	bodies := map[string][]byte{}
	for name, window := range map[string]int{"/8m": 8 << 20, "/16m": 16 << 20} {
		var buf bytes.Buffer
		enc, err := zstd.NewWriter(&buf, zstd.WithWindowSize(window), zstd.WithSingleSegment(false))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = enc.Write(page)
		_ = enc.Flush() // a stream: the frame keeps the window asked for, not one fitted to the page
		_ = enc.Close()
		bodies[name] = buf.Bytes()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "zstd")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write(bodies[r.URL.Path])
	}))
	defer srv.Close()
	c := newClient(t, Config{})
	keep := func(string) bool { return true }
	if res := c.Get(t.Context(), srv.URL+"/8m", keep); res.Err != nil || !bytes.Equal(res.Body, page) {
		t.Errorf("8 MiB window: err %v, %d bytes; want the page", res.Err, len(res.Body))
	}
	res := c.Get(t.Context(), srv.URL+"/16m", keep)
	if res.Err == nil || res.Err.Kind != KindDecoding || !strings.Contains(res.Err.Error(), "RFC 9659") {
		t.Errorf("16 MiB window: err %v; want kind %s naming the limit", res.Err, KindDecoding)
	}
}

// Credentials are the standard headers and the names APIs give their keys
// and tokens; the headers every request sends are not.
func TestIsCredential(t *testing.T) {
	for _, name := range []string{"Authorization", "proxy-authorization", "Cookie", "X-Api-Key", "Api-Key", "apikey",
		"X-Auth-Token", "Private-Token", "X-Amz-Security-Token", "Ocp-Apim-Subscription-Key", "X-Client-Secret", "X-Session-Id",
		"X-Goog-Api-Key", "X-CSRF-Token", "X-Access-Token", "X-Password"} {
		if !IsCredential(name) {
			t.Errorf("%s: not a credential", name)
		}
	}
	for _, name := range []string{"Accept", "Accept-Language", "Accept-Encoding", "User-Agent", "Referer", "Range", "If-None-Match",
		"Cache-Control", "Keep-Alive", "X-Trace", "X-Request-Id", "Host", "Origin", "Content-Type"} {
		if IsCredential(name) {
			t.Errorf("%s: taken for a credential", name)
		}
	}
}
