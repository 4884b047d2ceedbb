package fetch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fetchall/fetchall/internal/testsite"
	"github.com/valyala/fasthttp"
)

// Which path a client takes: plain http goes the lean way unless
// something needs net/http.
func TestLeanPathIsTakenOnlyWhereItMay(t *testing.T) {
	if forceStandard {
		t.Skip("net/http alone in this pass")
	}
	plain, _ := New(Config{})
	if plain.fast == nil {
		t.Fatal("a plain configuration has no lean path")
	}
	for name, cfg := range map[string]Config{
		"trace": {Trace: true}, "jar": {Jar: NewJar()}, "replay": {Replay: http.DefaultTransport},
	} {
		if c, _ := New(cfg); c.fast != nil {
			t.Errorf("%s: the lean path is on", name)
		}
	}
	if plain.WithPolicy(0, 0, nil, NewJar()).fast != nil {
		t.Error("a policy with cookies keeps the lean path")
	}
	for raw, want := range map[string]bool{
		"http://a.test/": true, "https://a.test/": false, "http://u:p@a.test/": false,
		// net/http dials an internationalised name as punycode; fasthttp
		// would look "bücher.test" up as it is, and fail.
		"http://bücher.test/": false, "http://b%C3%BCcher.test/": false, "http://xn--bcher-kva.test/": true,
	} {
		u, _ := ParseURL(raw)
		if got := plain.usesFast(u, time.Now()); got != want {
			t.Errorf("usesFast(%s) = %v, want %v", raw, got, want)
		}
	}
}

// A chain that leaves plain http for https is finished by net/http,
// counting the hops already made; credentials stay behind at another
// origin.
func TestRedirectChainAcrossPaths(t *testing.T) {
	var sawAuth []string
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth = append(sawAuth, r.Header.Get("Authorization"))
		if r.URL.Path == "/hop" {
			http.Redirect(w, r, "/end", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<title>end</title>"))
	}))
	defer secure.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, secure.URL+"/hop", http.StatusMovedPermanently)
	}))
	defer plain.Close()
	c, _ := New(Config{Insecure: true, MaxRedirects: 2, Header: http.Header{"Authorization": {"Bearer x"}}})
	res := c.Get(context.Background(), plain.URL+"/start", func(string) bool { return true })
	if res.Err != nil || res.Status != 200 || res.FinalURL != secure.URL+"/end" || string(res.Body) != "<title>end</title>" {
		t.Fatalf("http -> https -> https: %d %s %v %q", res.Status, res.FinalURL, res.Err, res.Body)
	}
	if strings.Join(sawAuth, ",") != "," {
		t.Errorf("credentials reached another origin: %q", sawAuth)
	}
	c1, _ := New(Config{Insecure: true, MaxRedirects: 1})
	if res := c1.Get(context.Background(), plain.URL+"/start", nil); res.Err == nil || res.Err.Kind != KindTooManyRedirects {
		t.Errorf("two redirects with at most one: %+v", res.Err)
	}
}

// An interrupt ends a request in flight at once on either path.
func TestCancelEndsARequestInFlight(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	c, _ := New(Config{Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	res := c.Get(ctx, srv.URL+"/", nil)
	if res.Err == nil || res.Err.Kind != KindCanceled || time.Since(start) > 5*time.Second {
		t.Errorf("after %s: %+v", time.Since(start), res.Err)
	}
}

// A header too large for the lean path's buffer is still read.
func TestHugeHeaderIsRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("b", 48<<10))
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	c, _ := New(Config{})
	res := c.Get(context.Background(), srv.URL+"/", func(string) bool { return true })
	if res.Err != nil || res.Status != 200 || len(res.Header.Get("X-Big")) != 48<<10 || string(res.Body) != "ok" {
		t.Errorf("huge header: %d %v %q", res.Status, res.Err, res.Body)
	}
}

// Headers come back as net/http gives them: no Content-Type invented,
// repeated headers kept.
func TestResponseHeadersAsReceived(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // none at all
		w.Header().Add("Link", `</a>; rel="next"`)
		w.Header().Add("Link", `</b>; rel="prev"`)
		_, _ = w.Write([]byte("x"))
	}))
	defer srv.Close()
	c, _ := New(Config{})
	res := c.Get(context.Background(), srv.URL+"/", nil)
	if res.ContentType != "" || len(res.Header.Values("Link")) != 2 {
		t.Errorf("content type %q, links %q", res.ContentType, res.Header.Values("Link"))
	}
}

// A client outlives a run: after one caller's context ends (its
// connections closed), the next caller's requests go through.
func TestClientOutlivesAnEndedContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	c, _ := New(Config{})
	first, cancel := context.WithCancel(context.Background())
	if res := c.Get(first, srv.URL+"/a", nil); res.Err != nil {
		t.Fatal(res.Err)
	}
	cancel()
	time.Sleep(10 * time.Millisecond) // the abort runs in its own goroutine
	for i := range 3 {
		if res := c.Get(context.Background(), srv.URL+"/b", nil); res.Err != nil || res.Status != 200 {
			t.Errorf("request %d after the first context ended: %d %v", i, res.Status, res.Err)
		}
	}
}

// A URL written with a space or a fragment is sent as net/http sends it.
func TestURLIsSentEscaped(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.RequestURI)
		if r.URL.Path == "/r" {
			w.Header().Set("Location", "/t?q=a b") // as some servers do
			w.WriteHeader(http.StatusFound)
		}
	}))
	defer srv.Close()
	c, _ := New(Config{})
	if res := c.Get(context.Background(), srv.URL+"/r", nil); res.Err != nil || res.FinalURL != srv.URL+"/t?q=a%20b" {
		t.Errorf("redirect: %v, final %s", res.Err, res.FinalURL)
	}
	for _, p := range []string{"/page/a b", "/x?q=1#frag", "/caf\u00e9", "/a%20b",
		"/s?q=a b&x=\u00e4\"<>'", "/v?a=%20&b=c/d?e{|}"} {
		if res := c.Get(context.Background(), srv.URL+p, nil); res.Err != nil || res.Status != 200 || res.FinalURL != srv.URL+p {
			t.Errorf("%s: %d %v final %s", p, res.Status, res.Err, res.FinalURL)
		}
	}
	// A query is escaped as a browser does (a raw space breaks the request
	// line); one that needs nothing goes as written.
	if want := "/r|/t?q=a%20b|/page/a%20b|/x?q=1|/caf%C3%A9|/a%20b|/s?q=a%20b&x=%C3%A4%22%3C%3E%27|/v?a=%20&b=c/d?e{|}"; strings.Join(got, "|") != want {
		t.Errorf("sent %q, want %q", strings.Join(got, "|"), want)
	}
}

// HEAD, a Host header of the user's, and the configured headers reach
// the server the same way on both paths.
func TestHeadAndHostOverride(t *testing.T) {
	var method, host, custom string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, host, custom = r.Method, r.Host, r.Header.Get("X-Custom")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<title>t</title>"))
	}))
	defer srv.Close()
	c, _ := New(Config{Method: "HEAD", Header: http.Header{"Host": {"example.test"}, "X-Custom": {"1"}}})
	res := c.Get(context.Background(), srv.URL+"/", func(string) bool { return true })
	if res.Err != nil || res.Status != 200 || method != "HEAD" || host != "example.test" || custom != "1" || len(res.Body) != 0 {
		t.Errorf("HEAD with Host: %d %v method %s host %s custom %q body %q", res.Status, res.Err, method, host, custom, res.Body)
	}
}

// A request that passed its context check just before its run was aborted
// and dials only after the abort gets no connection: it would otherwise
// wait out its whole timeout. Once the run's requests have left, dials
// work again (for a client that outlives the run).
func TestDialAfterAnAbortIsRefused(t *testing.T) {
	fp := newFastPath(Config{})
	ctx, cancel := context.WithCancel(t.Context())
	w := fp.enter(ctx) // a request in flight
	cancel()
	fp.abort(w) // what the context's end runs
	ours, theirs := net.Pipe()
	defer theirs.Close()
	if conn, err := fp.track(ours, nil); !errors.Is(err, errAborted) || conn != nil {
		t.Fatalf("a dial after the abort: %v, %v; want errAborted", conn, err)
	}
	if _, err := ours.Write([]byte("x")); err == nil {
		t.Error("the refused connection was left open")
	}
	fp.leave(w)
	other, end := net.Pipe()
	defer end.Close()
	conn, err := fp.track(other, nil)
	if err != nil {
		t.Fatalf("a dial once the aborted run's requests left: %v", err)
	}
	conn.Close()
}

// A malformed response is a protocol error that says what was wrong,
// without fasthttp's dump of the bytes it read.
func TestMalformedResponseIsSaidPlainly(t *testing.T) {
	_, base := newSite(t)
	res := newClient(t, Config{}).Get(t.Context(), base+"/fault/raw/negative-length", nil)
	if res.Err == nil || res.Err.Kind != KindProtocol {
		t.Fatalf("err %v, want kind %s", res.Err, KindProtocol)
	}
	if msg := res.Err.Error(); strings.Contains(msg, "buffer size") || strings.Contains(msg, "HTTP/1.1 200 OK") || !strings.Contains(strings.ToLower(msg), "content-length") {
		t.Errorf("error %q: want the reason (the Content-Length), not the bytes read", msg)
	}
}

// BenchmarkHeaderOf copies the header of a typical small response, as the
// lean path does for every one.
func BenchmarkHeaderOf(b *testing.B) {
	var resp fasthttp.Response
	raw := "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 2048\r\nDate: Mon, 23 Nov 2026 20:00:00 GMT\r\n\r\n"
	if err := resp.Header.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if h := headerOf(&resp.Header); len(h) != 3 {
			b.Fatalf("%d headers, want 3", len(h))
		}
	}
}

// A client keeping only some response headers gives the same results
// otherwise: type (or none), decoding, Retry-After; and its headers are
// the named ones, every value kept.
func TestKeepingHeadersChangesNothingElse(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("<title>zipped</title>"))
	zw.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<title>plain</title>"))
	})
	mux.HandleFunc("/none", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // no header at all, not a sniffed one
		w.Write([]byte("bytes"))
	})
	mux.HandleFunc("/gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "text/html")
		w.Write(gz.Bytes())
	})
	mux.HandleFunc("/retry", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/mark", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cf-Mitigated", "challenge")
		w.Header().Add("Link", "</a>; rel=next")
		w.Header().Add("Link", "</b>; rel=prev")
		w.Write([]byte("x"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	full := newClient(t, Config{})
	kept := full.KeepingHeaders("Cf-Mitigated", "Link")
	all := func(string) bool { return true }
	for _, path := range []string{"/plain", "/none", "/gz", "/retry", "/mark"} {
		a, b := full.Get(t.Context(), srv.URL+path, all), kept.Get(t.Context(), srv.URL+path, all)
		if a.Status != b.Status || a.ContentType != b.ContentType || !bytes.Equal(a.Body, b.Body) || a.RetryAfter != b.RetryAfter || (a.Err == nil) != (b.Err == nil) {
			t.Errorf("%s: all headers %d %q %q %s %v; kept %d %q %q %s %v", path, a.Status, a.ContentType, a.Body, a.RetryAfter, a.Err, b.Status, b.ContentType, b.Body, b.RetryAfter, b.Err)
		}
		if got, want := b.Header.Values("Link"), a.Header.Values("Link"); !slices.Equal(got, want) || b.Header.Get("Cf-Mitigated") != a.Header.Get("Cf-Mitigated") {
			t.Errorf("%s: kept Link %q Cf-Mitigated %q; want %q %q", path, got, b.Header.Get("Cf-Mitigated"), want, a.Header.Get("Cf-Mitigated"))
		}
		if !forceStandard && (b.Header.Get("Date") != "" || b.Header.Get("Content-Type") != "") {
			t.Errorf("%s: the lean path kept headers it was not asked for: %v", path, b.Header)
		}
	}
}

// deadlineCounter counts the deadlines set on it.
type deadlineCounter struct {
	net.Conn
	reads, writes int
}

func (c *deadlineCounter) SetReadDeadline(time.Time) error  { c.reads++; return nil }
func (c *deadlineCounter) SetWriteDeadline(time.Time) error { c.writes++; return nil }

// A connection's deadline is set again only when it moves by a grain, and
// never earlier than asked nor later than a grain past it.
func TestDeadlinesWithinAGrainAreSetOnce(t *testing.T) {
	grain := deadlineGrain(10 * time.Second)
	if grain != 16*time.Millisecond {
		t.Fatalf("grain for a 10s timeout = %v, want 16ms", grain)
	}
	if g := deadlineGrain(80 * time.Millisecond); g != 5*time.Millisecond {
		t.Fatalf("grain for an 80ms timeout = %v, want 5ms", g)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, off := range []time.Duration{0, time.Nanosecond, 7 * time.Millisecond, grain - time.Nanosecond, grain} {
		want := base.Add(off)
		got := roundDeadline(want, grain)
		if got.Before(want) || got.Sub(want) >= grain {
			t.Errorf("roundDeadline(+%v) = +%v: not within [asked, asked+grain)", off, got.Sub(base))
		}
	}
	if !roundDeadline(time.Time{}, grain).IsZero() {
		t.Error("no deadline became one")
	}

	inner := &deadlineCounter{}
	c := &trackedConn{Conn: inner, fp: &fastPath{grain: grain}}
	for _, off := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 15 * time.Millisecond} {
		_ = c.SetReadDeadline(base.Add(off))
		_ = c.SetWriteDeadline(base.Add(off))
	}
	if inner.reads != 1 || inner.writes != 1 {
		t.Fatalf("three deadlines within one grain set %d read and %d write deadlines, want 1 each", inner.reads, inner.writes)
	}
	_ = c.SetReadDeadline(base.Add(17 * time.Millisecond))
	_ = c.SetReadDeadline(time.Time{})
	if inner.reads != 3 {
		t.Fatalf("a deadline in the next grain, then none, set %d read deadlines in all, want 3", inner.reads)
	}
	if n := testing.AllocsPerRun(100, func() { _ = c.SetWriteDeadline(base.Add(40 * time.Millisecond)) }); n != 0 {
		t.Errorf("a deadline costs %v allocations, want none: it is set twice a request", n)
	}
}

// A request that hangs on a connection kept alive from a quick one still
// times out, within its timeout and a grain.
func TestHangOnAReusedConnectionTimesOut(t *testing.T) {
	if forceStandard {
		t.Skip("the lean path's connections")
	}
	hang := make(chan struct{})
	defer close(hang)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	timeout := 200 * time.Millisecond
	c := newClient(t, Config{Timeout: timeout})
	if res := c.Get(t.Context(), srv.URL+"/quick", nil); res.Err != nil {
		t.Fatalf("quick: %v", res.Err)
	}
	start := time.Now()
	res := c.Get(t.Context(), srv.URL+"/hang", nil)
	took := time.Since(start)
	if res.Err == nil || res.Err.Kind != KindTimeout {
		t.Fatalf("hang: err = %v, want kind %s", res.Err, KindTimeout)
	}
	if took < timeout || took > timeout+deadlineGrain(timeout)+2*time.Second {
		t.Fatalf("hang timed out after %v, want %v to %v and a little", took, timeout, timeout+deadlineGrain(timeout))
	}
}

// Header lines ending in a bare LF are read, as net/http and curl read
// them: the lean path hands such a response to net/http (it failed with
// "malformed response header: EOF", three times).
func TestBareLFHeadersAreRead(t *testing.T) {
	_, base := newSite(t)
	for _, name := range []string{"bare-lf", "http10-until-close"} {
		res := newClient(t, Config{}).Get(t.Context(), base+"/fault/raw/"+name, func(string) bool { return true })
		if res.Err != nil || res.Status != 200 || res.ContentType != "text/plain" || string(res.Body) != "hello" || res.Attempts != 1 {
			t.Errorf("%s: err %v, status %d, type %q, body %q, %d attempts; want 200 text/plain hello at once",
				name, res.Err, res.Status, res.ContentType, res.Body, res.Attempts)
		}
	}
}

// Of two Content-Types the last counts, on both paths, as in browsers:
// the lean path said text/html and net/http's text/plain.
func TestTheLastContentTypeCounts(t *testing.T) {
	_, base := newSite(t)
	res := newClient(t, Config{}).Get(t.Context(), base+"/fault/raw/two-content-types", nil)
	if res.Err != nil || res.ContentType != "text/html" {
		t.Errorf("err %v, type %q; want text/html", res.Err, res.ContentType)
	}
}

// A Location that does not parse is named in the error, in the same
// words on both paths.
func TestBadLocationIsNamed(t *testing.T) {
	_, base := newSite(t)
	res := newClient(t, Config{}).Get(t.Context(), base+"/fault/raw/bad-location", nil)
	if res.Err == nil || !strings.Contains(res.Err.Error(), `failed to parse Location header "http://[::1"`) {
		t.Fatalf("err %v, want the Location named", res.Err)
	}
	// Named with its password masked, as a URL in a record is.
	res = newClient(t, Config{}).Get(t.Context(), base+"/fault/raw/bad-location-password", nil)
	if res.Err == nil || strings.Contains(res.Err.Error(), "s3cret") || !strings.Contains(res.Err.Error(), `"http://admin:xxxxx@[::1"`) {
		t.Fatalf("err %v, want the Location named without its password", res.Err)
	}
}

func TestRedactText(t *testing.T) {
	for in, want := range map[string]string{
		"no url here":                             "no url here",
		"mail me@example.org":                     "mail me@example.org",
		`bad "http://a:b@h/x" and "ftp://u:p@[h"`: `bad "http://a:xxxxx@h/x" and "ftp://u:xxxxx@[h"`,
		"http://user@h/ has no password":          "http://user@h/ has no password",
		"http://h/p@q is a path":                  "http://h/p@q is a path",
	} {
		if got := RedactText(in); got != want {
			t.Errorf("RedactText(%q) = %q, want %q", in, got, want)
		}
	}
}

// An answer that breaks HTTP, in its status line, a header, a chunk or a
// Location, is error kind protocol on both paths.
func TestAnswersThatBreakHTTPAreProtocolErrors(t *testing.T) {
	_, base := newSite(t)
	for _, name := range []string{
		"bad-status", "no-colon", "two-content-lengths", "bad-content-length", "negative-length", "bad-encoding",
		"bad-chunk-size", "chunk-without-crlf", "huge-chunk", "not-http", "bad-location", "h2-settings",
	} {
		res := newClient(t, Config{}).Get(t.Context(), base+"/fault/raw/"+name, func(string) bool { return true })
		if res.Err == nil || res.Err.Kind != KindProtocol {
			t.Errorf("%s: err %v; want kind %s", name, res.Err, KindProtocol)
		} else if strings.Contains(res.Err.Error(), "net/http") || strings.Contains(res.Err.Error(), "fasthttp") {
			t.Errorf("%s: err %v; want it in a user's words, without the HTTP library's name", name, res.Err)
		} else if strings.Contains(testsite.RawAnswers[name], "chunked") && !strings.Contains(res.Err.Error(), "chunk") {
			t.Errorf("%s: err %v; want it to say the chunks were wrong", name, res.Err)
		}
	}
	// A status below 100 is none, on both paths (cookies go through
	// net/http): it was an ok record of status 200 on the lean path, and
	// of status 0 on net/http's.
	for _, cfg := range []Config{{}, {Jar: NewJar()}} {
		for _, name := range []string{"status-000", "status-099"} {
			res := newClient(t, cfg).Get(t.Context(), base+"/fault/raw/"+name, nil)
			if res.Err == nil || res.Err.Kind != KindProtocol || res.Status != 0 || !strings.Contains(res.Err.Error(), "is not an HTTP status") {
				t.Errorf("%s (jar %v): status %d, err %v; want kind %s saying it is no status", name, cfg.Jar != nil, res.Status, res.Err, KindProtocol)
			}
		}
	}
	// A header past 10 MB is not read: the answer breaks HTTP as this
	// client reads it (it said network).
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Huge", strings.Repeat("a", 11<<20))
	}))
	defer huge.Close()
	if res := newClient(t, Config{}).Get(t.Context(), huge.URL, nil); res.Err == nil || res.Err.Kind != KindProtocol {
		t.Errorf("an 11 MB header: err %v; want kind %s", res.Err, KindProtocol)
	}
	// A body cut short stays what it was.
	res := newClient(t, Config{}).Get(t.Context(), base+"/fault/raw/cut-chunk", func(string) bool { return true })
	if res.Err == nil || res.Err.Kind != KindIncompleteBody {
		t.Errorf("a chunk cut short: err %v, want kind %s", res.Err, KindIncompleteBody)
	}
}

// A server that sends a body after HEAD leaves it on the kept-alive
// connection, where the next answer reads as broken: the retry, on a
// fresh connection, gets the page.
func TestBodyAfterHeadIsOvercomeByTheRetry(t *testing.T) {
	_, base := newSite(t)
	c := newClient(t, Config{Method: http.MethodHead, Retries: 2, Backoff: time.Millisecond})
	for i := range 8 {
		res := c.Get(t.Context(), fmt.Sprintf("%s/fault/body-after-head?n=%d", base, i), nil)
		if res.Err != nil || res.Status != 200 {
			t.Errorf("HEAD %d: err %v, status %d; want 200", i, res.Err, res.Status)
		}
	}
}

// A URL that does not parse is said to be bad without its password: not
// in the words of url.Parse, which quote the URL whole, nor as the bad
// escape, which may be part of the password.
func TestBadURLMessageKeepsThePasswordOut(t *testing.T) {
	for raw, want := range map[string]string{
		"http://u:PW%zzsecret@h/": "invalid URL escape: a '%' not followed by two hex digits",
		"http://u:PW secret@h/":   "invalid userinfo",         // without the library's name
		"http://h/a%zz":           `invalid URL escape "%zz"`, // no password: the escape helps
	} {
		_, err := ParseURL(raw)
		if err == nil || !errors.Is(err, ErrBadURL) || !strings.HasSuffix(err.Error(), ": "+want) {
			t.Errorf("ParseURL(%q) = %v, want ErrBadURL saying %q", raw, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), "PW") || strings.Contains(err.Error(), "secret")) {
			t.Errorf("ParseURL(%q): the message %q shows the password", raw, err)
		}
	}
}

// A server that closes each connection after its answer, without saying
// so, leaves every idle connection closed: each request finds its own out
// and goes again on another, unseen (the lean path lost one in forty to
// "reset" with --retries 0; a server that closes without any answer is
// said to, in the same words on both paths).
func TestServerThatClosesAfterEachAnswer(t *testing.T) {
	_, base := newSite(t)
	c := newClient(t, Config{Concurrency: 8, Retries: 0, Timeout: 10 * time.Second})
	var wg sync.WaitGroup
	results := make([]*Result, 96)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(results); i += 8 {
				results[i] = c.Get(t.Context(), base+"/fault/raw/close-after-answer", nil)
			}
		})
	}
	wg.Wait()
	for i, res := range results {
		if res.Err != nil || res.Status != 200 || res.Attempts != 1 {
			t.Fatalf("request %d: status %d, attempts %d, err %v; want 200 at the first attempt", i, res.Status, res.Attempts, res.Err)
		}
	}
	res := c.Get(t.Context(), base+"/fault/raw/close-unanswered", nil)
	if res.Err == nil || res.Err.Kind != KindReset || res.Err.Err.Error() != "the server closed the connection before answering: EOF" {
		t.Errorf("no answer: %v (kind %v); want kind reset, said plainly", res.Err, res.Err.Kind)
	}
}

// A page compressed twice is never an ok record with the compressed bytes
// as its page: with two Content-Encoding lines, net/http's path decodes
// both (it decoded the first only, a decoding error) and the lean path,
// which sees the last line alone, says the body is still compressed (it
// said ok, with a gzip stream for a page); labelled once, both say so.
func TestAPageCompressedTwiceIsNeverTakenForThePage(t *testing.T) {
	_, base := newSite(t)
	keep := func(string) bool { return true }
	res := newClient(t, Config{}).Get(t.Context(), base+"/fault/raw/two-content-encodings", keep)
	switch {
	case res.Err == nil:
		if !strings.Contains(string(res.Body), "<title>Twice</title>") {
			t.Errorf("two Content-Encoding lines: ok, with the body %q; want the page", res.Body)
		}
	case forceStandard:
		t.Errorf("two Content-Encoding lines through net/http: %v; want both decoded", res.Err)
	case res.Err.Kind != KindDecoding || !strings.Contains(res.Err.Error(), "still gzip-compressed once decoded"):
		t.Errorf("two Content-Encoding lines: %v; want a decoding error saying the body is still compressed", res.Err)
	}
	res = newClient(t, Config{}).Get(t.Context(), base+"/fault/raw/gzip-twice", keep)
	if res.Err == nil || res.Err.Kind != KindDecoding || !strings.Contains(res.Err.Error(), "gzip: the body is still gzip-compressed once decoded (compressed twice but labelled once)") {
		t.Errorf("a gzip of a gzip labelled once: err %v, body %q; want a decoding error", res.Err, res.Body)
	}
}

// The lean path's hosts are bounded, and a host left unused for
// leanHostKeep gives its place to a new one: a list sorted by host, over
// more hosts than the bound, goes on the lean way host after host.
func TestLeanHostsMakeRoomForNewOnes(t *testing.T) {
	fp := newFastPath(Config{})
	fp.maxHosts = 2
	start := time.Unix(1700000000, 0)
	if !fp.admit("a:80", start) || !fp.admit("b:80", start) || fp.admit("c:80", start) {
		t.Fatal("want a and b admitted, c refused while both are in use")
	}
	if !fp.admit("a:80", start.Add(leanHostKeep)) {
		t.Fatal("a host in the lean path's set was refused")
	}
	later := start.Add(leanHostKeep + time.Second)
	if !fp.admit("c:80", later) {
		t.Errorf("c refused though b was unused for %s", later.Sub(start))
	}
	if fp.admit("d:80", later.Add(leanHostKeep/50)) {
		t.Error("d admitted while a and c are in use")
	}
}
