package fetch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

// The lean path: plain http:// requests go through valyala/fasthttp when
// nothing needs net/http's hooks. On a bulk list it spends about two thirds of
// the CPU a request net/http does (one goroutine a request instead of
// three, pooled requests and responses, no per-request contexts), which
// on a small machine shared with the server is the rate. HTTPS (and so
// HTTP/2), proxies, cookies, --fields (httptrace), --warc and --replay
// keep net/http, as does a redirect chain from the hop that leaves plain
// http. Every behaviour of the records is the same on both paths, and
// the package's tests run on both (main_test.go).

// fastPath sends plain-http requests through fasthttp, closing every
// connection when a caller's context ends (fasthttp takes no context).
type fastPath struct {
	client  *fasthttp.Client
	grain   time.Duration // see deadlineGrain
	maxOpen int           // connections open at most before idle ones are closed: see closeLeastUsed
	used    atomic.Uint64 // requests written, to order connections by last use

	hostsMu  sync.RWMutex
	hosts    map[string]time.Time // the hosts the lean path serves, and when each was last asked for
	maxHosts int                  // maxLeanHosts, but for tests
	swept    time.Time            // when hosts was last rid of those unused

	mu       sync.Mutex
	conns    map[net.Conn]*trackedConn
	watching []*watch // the contexts whose end aborts; a run has one
}

// idleBudget is how many idle connections the lean path keeps open over
// those a run's concurrency uses. fasthttp keeps a host's idle ones for
// MaxIdleConnDuration: a list of many hosts left one open for each host
// met, and after 20,000 hosts every dial failed with "too many open
// files" (net/http's path caps its idle ones too: MaxIdleConns).
const idleBudget = 48

// watch is a context the lean path aborts on: its requests in flight,
// and what stops watching it.
type watch struct {
	ctx      context.Context
	stop     func() bool
	inflight int
	aborted  bool // its context ended with requests in flight
}

// maxWatched is how many idle contexts stay watched; beyond it, one with
// nothing in flight stops being watched (and is watched again if it
// comes back). Contexts with requests in flight are always watched.
const maxWatched = 8

// enter counts a request of ctx in flight, watching ctx (once: the
// callers of a client share one context) so that its end aborts the
// requests it has in flight. leave must follow.
func (fp *fastPath) enter(ctx context.Context) *watch {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	for _, w := range fp.watching {
		if w.ctx == ctx {
			w.inflight++
			return w
		}
	}
	w := &watch{ctx: ctx, inflight: 1}
	if ctx.Done() == nil {
		return w // never ends: nothing to watch
	}
	if len(fp.watching) >= maxWatched {
		for i, old := range fp.watching {
			if old.inflight == 0 {
				old.stop()
				fp.watching = append(fp.watching[:i], fp.watching[i+1:]...)
				break
			}
		}
	}
	w.stop = context.AfterFunc(ctx, func() { fp.abort(w) })
	fp.watching = append(fp.watching, w)
	return w
}

func (fp *fastPath) leave(w *watch) {
	fp.mu.Lock()
	w.inflight--
	fp.mu.Unlock()
}

// forceStandard makes every Client use net/http alone: FETCHALL_HTTP=std,
// or the tests of the standard path.
var forceStandard = os.Getenv("FETCHALL_HTTP") == "std"

// fastEligible says whether a configuration can use the lean path at all.
func fastEligible(cfg Config) bool {
	if forceStandard || cfg.Proxy != nil || cfg.Archive != nil || cfg.Replay != nil || cfg.Trace || cfg.Jar != nil {
		return false
	}
	for _, env := range []string{"HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		if os.Getenv(env) != "" {
			return false // net/http's proxy rules (NO_PROXY and all) decide
		}
	}
	return true
}

func newFastPath(cfg Config) *fastPath {
	fp := &fastPath{conns: map[net.Conn]*trackedConn{}, grain: deadlineGrain(cfg.Timeout), maxOpen: max(cfg.Concurrency, 1) + idleBudget,
		hosts: map[string]time.Time{}, maxHosts: maxLeanHosts}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	fp.client = &fasthttp.Client{
		MaxConnsPerHost:          max(cfg.Concurrency, 1) * 2,
		MaxConnWaitTimeout:       cfg.Timeout,
		MaxIdleConnDuration:      leanIdle,
		ReadBufferSize:           32 << 10, // the whole header must fit: larger ones go through net/http
		WriteBufferSize:          4 << 10,
		NoDefaultUserAgentHeader: true,
		DisablePathNormalizing:   true, // the URL is sent as written, as net/http does
		StreamResponseBody:       true,
		// Retries are the engine's, counted in the record (attemptFast
		// sends a request again only on a connection found closed).
		MaxIdemponentCallAttempts: 1,
		ConfigureClient: func(hc *fasthttp.HostClient) error {
			// Each host's dial, so that its connections know their pool.
			hc.Dial = func(addr string) (net.Conn, error) {
				conn, err := dialer.Dial("tcp", addr)
				if err != nil {
					return nil, err
				}
				tc, err := fp.track(conn, hc)
				if err == nil {
					fp.closeLeastUsed(hc)
				}
				return tc, err
			}
			return nil
		},
	}
	return fp
}

// closeLeastUsed closes idle connections, of the hosts whose connections
// were used least recently first, while more than maxOpen are open; a
// dial of host's does not close host's own. Closing a host's idle ones
// leaves those in use alone.
func (fp *fastPath) closeLeastUsed(host *fasthttp.HostClient) {
	fp.mu.Lock()
	if len(fp.conns) <= fp.maxOpen {
		fp.mu.Unlock()
		return
	}
	open := make([]*trackedConn, 0, len(fp.conns))
	for _, tc := range fp.conns {
		open = append(open, tc)
	}
	fp.mu.Unlock()
	slices.SortFunc(open, func(a, b *trackedConn) int { return cmp.Compare(a.lastUse.Load(), b.lastUse.Load()) })
	// Down to half the budget's idle ones, so that a list of new hosts
	// does not close connections at every dial.
	target := fp.maxOpen - idleBudget/2
	closed := map[*fasthttp.HostClient]bool{host: true}
	for _, tc := range open {
		if tc.host == nil || closed[tc.host] {
			continue // nil: a connection made outside a host's pool (the tests')
		}
		closed[tc.host] = true
		tc.host.CloseIdleConnections() // each closes through trackedConn.Close, which takes fp.mu
		fp.mu.Lock()
		n := len(fp.conns)
		fp.mu.Unlock()
		if n <= target {
			return
		}
	}
}

// trackedConn leaves the set of open connections when closed, and sets a
// deadline on its connection only when it moves by a deadlineGrain.
type trackedConn struct {
	net.Conn
	fp      *fastPath
	host    *fasthttp.HostClient // the pool it returns to
	lastUse atomic.Uint64        // fp.used when its last request was written
	once    sync.Once
	// The deadlines last set on Conn. fasthttp sets both on every request
	// from the one goroutine that holds the connection; each set is a
	// runtime timer update, about 1.5% of a request's CPU on a bulk list.
	read, write time.Time
	paired      *pairedIO   // nil where the platform has no raw socket I/O
	local       *connAddr   // LocalAddr, made once
	answered    atomic.Bool // some bytes were read: a later request reuses it
	// statusNext says that a request was written and its answer's first
	// bytes are not read yet: fasthttp takes a status of 000 for 200.
	statusNext bool
}

func (c *trackedConn) LocalAddr() net.Addr { return c.local }

func (c *trackedConn) Write(p []byte) (int, error) {
	if !c.statusNext { // a request's first write
		c.lastUse.Store(c.fp.used.Add(1))
	}
	c.statusNext = true
	if c.paired == nil {
		return c.Conn.Write(p)
	}
	return c.paired.write(c.Conn, p)
}

func (c *trackedConn) Read(p []byte) (n int, err error) {
	if c.paired == nil {
		n, err = c.Conn.Read(p)
	} else {
		n, err = c.paired.read(c.Conn, p)
	}
	if n > 0 && !c.answered.Load() {
		c.answered.Store(true)
	}
	if c.statusNext && n > 0 {
		c.statusNext = false
		spoilLowStatus(p[:n])
	}
	return n, err
}

// spoilLowStatus makes a status below 100 at the start of an answer
// unreadable to fasthttp, which takes 000 for 200: it then hands the
// request to net/http, as for any status line it cannot parse, and that
// path says what is wrong (notAStatus).
func spoilLowStatus(answer []byte) {
	// "HTTP/1.1 " is 9 bytes; a status of 0xx has a 0 as its first digit.
	if len(answer) > 9 && answer[9] == '0' && string(answer[:7]) == "HTTP/1." {
		answer[9] = '-'
	}
}

// deadlineGrain is how late a lean request's timeout may fire, at most: a
// deadline is rounded up to a grain, so the requests of one connection
// within a grain share one. It is a sixteenth of --timeout, and no more
// than 16 ms (a timer fires a little late in any case).
func deadlineGrain(timeout time.Duration) time.Duration {
	return min(timeout/16, 16*time.Millisecond)
}

// roundDeadline rounds t up to the next grain; no deadline stays none.
// It counts in Unix nanoseconds: time.Time.Truncate divides 128-bit
// numbers for a grain that does not divide a second evenly (16 ms), 2% of
// a bulk list's CPU at two calls a request.
func roundDeadline(t time.Time, grain time.Duration) time.Time {
	if t.IsZero() || grain <= 0 || t.Unix() >= math.MaxInt64/int64(time.Second)-1 {
		return t // none, or past what Unix nanoseconds can hold (year 2262)
	}
	ns, g := t.UnixNano(), int64(grain)
	r := ns - ns%g // ns%g <= 0 before 1970, where r is already >= ns
	if r < ns {
		r += g
	}
	return time.Unix(0, r)
}

func (c *trackedConn) SetReadDeadline(t time.Time) error {
	return c.setDeadline(t, &c.read, c.Conn.SetReadDeadline)
}

func (c *trackedConn) SetWriteDeadline(t time.Time) error {
	return c.setDeadline(t, &c.write, c.Conn.SetWriteDeadline)
}

// setDeadline sets t, rounded, with set, unless last already holds it.
func (c *trackedConn) setDeadline(t time.Time, last *time.Time, set func(time.Time) error) error {
	t = roundDeadline(t, c.fp.grain)
	if t.Equal(*last) {
		return nil
	}
	if err := set(t); err != nil {
		return err
	}
	*last = t
	return nil
}

func (c *trackedConn) SetDeadline(t time.Time) error {
	t = roundDeadline(t, c.fp.grain)
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.read, c.write = t, t
	return nil
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.fp.mu.Lock()
		delete(c.fp.conns, c.Conn)
		c.fp.mu.Unlock()
	})
	return c.Conn.Close()
}

// errAborted is a dial's answer once the run it would serve has ended.
var errAborted = errors.New("the run ended before the connection was made")

// track adds conn to the open connections, unless a run was aborted with
// requests in flight: a request that had passed its context check just
// before the abort would otherwise dial after it and wait out its whole
// timeout (the callers of a Client share their run's context, so the
// dial is that run's).
func (fp *fastPath) track(conn net.Conn, host *fasthttp.HostClient) (net.Conn, error) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	for _, w := range fp.watching {
		if w.aborted && w.inflight > 0 {
			conn.Close()
			return nil, errAborted
		}
	}
	tc := &trackedConn{Conn: conn, fp: fp, host: host, paired: newPairedIO(conn)}
	fp.conns[conn] = tc
	tc.local = &connAddr{Addr: conn.LocalAddr(), conn: tc}
	return tc, nil
}

// connAddr is a lean connection's local address, which fasthttp keeps in
// the Response of each request (even one that failed): through it a
// failed request finds the connection it failed on.
type connAddr struct {
	net.Addr
	conn *trackedConn
}

// failedOnReusedConn says whether resp's request failed on a connection
// that had answered before: kept alive, then closed by the server.
func failedOnReusedConn(resp *fasthttp.Response) bool {
	a, ok := resp.LocalAddr().(*connAddr)
	return ok && a.conn.answered.Load()
}

// staleConnection says whether a request failed on a connection that
// was closed before any byte of an answer came: a kept-alive one the
// server had dropped when idle (part of an answer is a broken answer:
// see unparsedHeader).
func staleConnection(err error) bool {
	if strings.HasPrefix(err.Error(), headerReadError) {
		return false
	}
	return errors.Is(err, fasthttp.ErrConnectionClosed) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// abort ends the requests w's context has in flight, when its context
// ends with some (an interrupt, --fail-fast), by closing every connection
// (fasthttp does not say which request has which). The callers of a
// Client share one context, so no other caller's request is cut short;
// a context that ends with none in flight (a run that finished) closes
// nothing.
func (fp *fastPath) abort(w *watch) {
	fp.mu.Lock()
	busy := w.inflight > 0
	w.aborted = busy
	fp.mu.Unlock()
	if !busy {
		return
	}
	fp.client.CloseIdleConnections() // out of the pool, so no later request takes one
	fp.mu.Lock()
	defer fp.mu.Unlock()
	for conn := range fp.conns {
		conn.Close()
	}
}

func (fp *fastPath) closeIdle() { fp.client.CloseIdleConnections() }

// usesFast says whether a request to u, made at now, goes the lean way.
// An internationalised host name goes through net/http, which dials and
// names it in its ASCII (punycode) form; fasthttp would look the UTF-8
// name up as it is and fail. So does a host beyond the lean path's hosts
// (see admit).
func (c *Client) usesFast(u *url.URL, now time.Time) bool {
	return c.fast != nil && u.Scheme == "http" && u.User == nil && u.Host != "" && isASCII(u.Host) && c.fast.admit(u.Host, now)
}

// maxLeanHosts is how many hosts the lean path serves at once; requests
// to others go through net/http, whose records are the same. fasthttp
// keeps a goroutine and a pool for each host it meets, until its
// connections have been idle for MaxIdleConnDuration: a list of 50,000
// hosts held 221 MiB (net/http's path, 42 MiB).
const maxLeanHosts = 256

// leanHostKeep is how long a host unused keeps its place among the lean
// path's. A list sorted by host, of many hosts, moves from host to host, and
// each new one takes the place of one left; fasthttp's goroutine for a
// host left ends within leanIdle, so at most about maxLeanHosts x (1 +
// leanIdle/leanHostKeep) are alive.
const leanHostKeep = 5 * time.Second

// leanIdle is how long the lean path keeps a connection idle (net/http's
// path keeps one 90 s: it has no goroutine per host to keep).
const leanIdle = 10 * time.Second

// admit says whether host may go the lean way at now: a host already
// among the lean path's, or a new one while there are fewer than
// maxHosts (those unused for leanHostKeep are forgotten first).
func (fp *fastPath) admit(host string, now time.Time) bool {
	fp.hostsMu.RLock()
	last, ok := fp.hosts[host]
	fp.hostsMu.RUnlock()
	if ok && now.Sub(last) < time.Second {
		return true // the common case: a bulk list's host, seen just now
	}
	fp.hostsMu.Lock()
	defer fp.hostsMu.Unlock()
	if _, ok := fp.hosts[host]; !ok && len(fp.hosts) >= fp.maxHosts {
		if now.Sub(fp.swept) < leanHostKeep/50 {
			return false // swept just now: a list of one URL a host would sweep at every URL
		}
		fp.swept = now
		for h, t := range fp.hosts {
			if now.Sub(t) > leanHostKeep {
				delete(fp.hosts, h)
			}
		}
		if len(fp.hosts) >= fp.maxHosts {
			return false
		}
	}
	fp.hosts[host] = now
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// attemptFast is attempt on the lean path: one request, and its redirects
// while they stay on plain http.
func (c *Client) attemptFast(ctx context.Context, rawURL string, first *url.URL, keep KeepBody, res *Result, now time.Time) (time.Duration, error) {
	deadline := now.Add(c.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	w := c.fast.enter(ctx)
	defer c.fast.leave(w)
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	defer func() { _ = resp.CloseBodyStream() }() // hands the connection back (or closes it, mid-body)
	// No Content-Type means none (the body is sniffed), not text/plain.
	resp.Header.SetNoDefaultContentType(true)
	current, currentText := first, requestTarget(rawURL, first)
	credit := c.mayCredit(first, first)
	for hops := 0; ; hops++ {
		c.fastRequest(req, currentText, credit)
		err := c.fast.client.DoDeadline(req, resp, deadline)
		// A request that found its connection closed goes again, as
		// net/http sends it: always once (a server may close a fresh
		// connection at once under load), and then for as long as the
		// connection it failed on had answered before, up to the pool's
		// size: a server that closes each connection after an answer,
		// without saying so, leaves every idle one closed.
		for retries := 0; err != nil && staleConnection(err) && ctx.Err() == nil; retries++ {
			if retries > 0 && (!failedOnReusedConn(resp) || retries > c.fast.client.MaxConnsPerHost) {
				break
			}
			err = c.fast.client.DoDeadline(req, resp, deadline)
		}
		if err != nil && (isSmallBuffer(err) || unparsedHeader(err)) {
			// A header larger than the lean path's buffer, or one
			// fasthttp cannot parse (lines ending in a bare LF, which
			// net/http and curl take): net/http reads such a response,
			// or says in its own words what is wrong with it (the
			// request is sent again).
			return c.attemptStd(ctx, currentText, keep, res, first, hops, credit)
		}
		if err != nil {
			return 0, fastError(ctx, err)
		}
		if !isRedirectStatus(resp.StatusCode()) || c.cfg.MaxRedirects < 0 {
			break
		}
		loc := string(resp.Header.Peek("Location")) // looked up only here: fasthttp copies a name to look it up
		if loc == "" {
			break
		}
		next, err := current.Parse(loc)
		if err != nil {
			return 0, fmt.Errorf("failed to parse Location header %q: %v", loc, err) // as net/http says it; %v, for cleanMessage would drop this context with the url.Error
		}
		next.RawQuery, _ = EscapeQuery(next.RawQuery)
		_ = resp.CloseBodyStream() // a redirect's body is not read
		var stop error
		switch {
		case next.Scheme != "http" && next.Scheme != "https":
			stop = fmt.Errorf("redirect to %s: %w", next.Redacted(), ErrUnsupportedScheme)
		case hops+1 > c.cfg.MaxRedirects:
			stop = StoppedAfterRedirects(c.cfg.MaxRedirects)
		}
		if stop != nil {
			res.Status, res.FinalURL = resp.StatusCode(), current.String() // where the chain stopped, as on net/http's path
			return 0, stop
		}
		credit = credit && c.mayCredit(next, first)
		if !c.usesFast(next, time.Now()) {
			// The chain leaves plain http, or the lean path's hosts:
			// net/http takes it from here, counting the hops already made.
			return c.attemptStd(ctx, next.String(), keep, res, first, hops+1, credit)
		}
		current, currentText = next, requestTarget(next.String(), next)
	}

	res.Status = resp.StatusCode()
	var encoding string
	if c.cfg.KeepHeaders == nil {
		res.Header = headerOf(&resp.Header)
		res.ContentType, encoding = res.Header.Get("Content-Type"), res.Header.Get("Content-Encoding")
	} else {
		res.Header = headerSubset(&resp.Header, c.cfg.KeepHeaders)
		res.ContentType, encoding = string(resp.Header.Peek("Content-Type")), string(resp.Header.Peek("Content-Encoding"))
	}
	res.FinalURL = rawURL // as net/http gives it: the URL as asked
	if current != first {
		res.FinalURL = current.String()
	}
	var retryAfter time.Duration
	if v := resp.Header.Peek("Retry-After"); len(v) > 0 {
		retryAfter = parseRetryAfter(string(v), time.Now())
	}
	body := resp.BodyStream()
	if body == nil {
		body = strings.NewReader("") // HEAD, 204, 304
	}
	err := c.readBody(body, encoding, int64(resp.Header.ContentLength()), keep, res, nil)
	if err != nil {
		return retryAfter, fastError(ctx, err)
	}
	return retryAfter, nil
}

// requestTarget is the URL to send for u, whose text is raw: raw itself
// when it needs no escaping (nearly always), else what net/http would
// send (a space as %20, no fragment).
func requestTarget(raw string, u *url.URL) string {
	for i := 0; i < len(raw); i++ {
		if needsEscape[raw[i]] {
			return "http://" + u.Host + u.RequestURI()
		}
	}
	return raw
}

// needsEscape holds the bytes a URL cannot be sent with as written. A table,
// for this runs over every byte of every URL.
var needsEscape = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}#", byte(c)) >= 0
	}
	return t
}()

// fastRequest sets req up for u, with the configured headers (credentials
// only when credit says so).
func (c *Client) fastRequest(req *fasthttp.Request, rawURL string, credit bool) {
	req.Reset()
	req.Header.SetMethod(c.cfg.Method)
	req.SetRequestURI(rawURL)
	// The user's own Accept-Encoding or User-Agent (not empty) stands.
	// Seen here rather than looked up after: fasthttp normalizes the
	// name of every header it is asked for.
	userEncoding, userAgent := false, false
	for k, vs := range c.cfg.Header {
		if !credit && IsCredential(k) {
			continue
		}
		if strings.EqualFold(k, "Host") {
			if len(vs) > 0 {
				req.Header.SetHost(vs[0])
				req.UseHostHeader = true // dial the URL's host, send this one
			}
			continue
		}
		for _, v := range vs {
			req.Header.Add(k, v)
			if v != "" {
				userEncoding = userEncoding || strings.EqualFold(k, "Accept-Encoding")
				userAgent = userAgent || strings.EqualFold(k, "User-Agent")
			}
		}
	}
	if !userEncoding {
		req.Header.SetCanonical(acceptEncodingName, acceptEncodingValue)
	}
	if c.cfg.UserAgent != "" && !userAgent {
		req.Header.SetUserAgent(c.cfg.UserAgent)
	}
}

var acceptEncodingName, acceptEncodingValue = []byte("Accept-Encoding"), []byte(acceptEncoding)

func isRedirectStatus(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// isSmallBuffer says whether err is fasthttp's "header too large for the
// buffer". Apart from the call, so that its target escapes only for a
// failed request, not every request.
func isSmallBuffer(err error) bool {
	var small *fasthttp.ErrSmallBuffer
	return errors.As(err, &small)
}

// unparsedHeader says whether fasthttp read a response header and could
// not parse it, as opposed to the connection failing under it.
func unparsedHeader(err error) bool {
	var opErr *net.OpError
	return strings.HasPrefix(err.Error(), headerReadError) && !errors.As(err, &opErr) && !errors.Is(err, fasthttp.ErrTimeout)
}

// headerReadError starts fasthttp's errors about a response header.
const headerReadError = "error when reading response headers: "

// fastError turns fasthttp's errors into the ones classify knows: its
// timeout, and a server that closed the connection before answering.
func fastError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err() // what fasthttp says is the closed connection's side of it
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout):
		return context.DeadlineExceeded // as net/http says it
	case errors.Is(err, fasthttp.ErrConnectionClosed):
		return fmt.Errorf("%w: %w", errClosedUnanswered, io.EOF)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return context.DeadlineExceeded
	}
	// fasthttp quotes the bytes it read after the reason (", buffer
	// size=41, contents: ..."): the reason is the user's news.
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr // the connection failed under the header: a reset, say
	}
	if msg := err.Error(); strings.Contains(msg, "hex number") || strings.Contains(msg, "chunk") {
		// fasthttp's chunk parser says "empty hex number": say what it read.
		return &reworded{msg: "malformed chunked encoding: " + msg, err: err}
	}
	if msg := err.Error(); strings.HasPrefix(msg, headerReadError) {
		msg = strings.TrimPrefix(msg, headerReadError)
		if i := strings.Index(msg, ": buffer size="); i >= 0 {
			msg = msg[:i]
		}
		return &reworded{msg: "malformed response header: " + strings.TrimPrefix(msg, "fasthttp: "), err: err}
	}
	return err
}

// reworded is an error said in other words, its cause kept for errors.Is.
type reworded struct {
	msg string
	err error
}

func (r *reworded) Error() string { return r.msg }
func (r *reworded) Unwrap() error { return r.err }

// headerOf copies a fasthttp response header into an http.Header with
// few allocations: the common names are constants, every value shares
// one string, and the value lists share one array.
func headerOf(h *fasthttp.ResponseHeader) http.Header {
	n, size := 0, 0
	for _, v := range h.All() {
		n, size = n+1, size+len(v)
	}
	var all strings.Builder
	all.Grow(size)
	for _, v := range h.All() {
		all.Write(v)
	}
	text := all.String()
	out := make(http.Header, n)
	values := make([]string, n)
	i, at := 0, 0
	for k, v := range h.All() {
		key := commonHeader(k)
		values[i] = text[at : at+len(v)]
		at += len(v)
		if prev, ok := out[key]; ok {
			out[key] = append(prev[:len(prev):len(prev)], values[i])
		} else {
			out[key] = values[i : i+1 : i+1]
		}
		i++
	}
	return out
}

// headerSubset copies only the named headers (canonical names) of a
// fasthttp response header; nil when it has none of them.
func headerSubset(h *fasthttp.ResponseHeader, names []string) http.Header {
	var out http.Header
	for _, name := range names {
		values := h.PeekAll(name)
		if len(values) == 0 {
			continue
		}
		if out == nil {
			out = make(http.Header, len(names))
		}
		for _, v := range values {
			out[name] = append(out[name], string(v))
		}
	}
	return out
}

// commonHeaders are response header names that need no allocation.
var commonHeaders = map[string]string{}

func init() {
	for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Date", "Server", "Connection",
		"Cache-Control", "Etag", "Last-Modified", "Location", "Link", "Retry-After", "Set-Cookie", "Vary", "Expires",
		"Transfer-Encoding", "Keep-Alive", "Accept-Ranges", "Age", "Cf-Mitigated", "Cf-Ray", "X-Cache"} {
		commonHeaders[k] = k
	}
}

func commonHeader(k []byte) string {
	if s, ok := commonHeaders[string(k)]; ok { // no allocation for the lookup
		return s
	}
	return string(k)
}
