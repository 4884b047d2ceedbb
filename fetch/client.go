// Package fetch does one HTTP request well: a shared transport sized for
// bulk work, a timeout around each whole attempt (body included), retries
// with backoff that honour Retry-After, every content coding decoded
// (gzip, deflate, br, zstd) under a cap on the decoded body, credentials
// kept on the origin they were given for, an optional cookie jar, and a
// failure kind a program can match on.
package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fetchall/fetchall/internal/ctxsleep"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxRetryWait = 60 * time.Second
	DefaultMaxBody      = 10 << 20
	DefaultMaxRedirects = 10
	defaultConnect      = 10 * time.Second
	defaultPool         = 10
)

// Config sets how a Client fetches. Zero fields take the documented default.
type Config struct {
	// Timeout bounds one attempt: connect, headers and the whole body.
	// Zero means DefaultTimeout (30s).
	Timeout time.Duration
	// ConnectTimeout bounds the TCP connect and TLS handshake. Zero means
	// the smaller of Timeout and 10s.
	ConnectTimeout time.Duration
	// Retries is how many times a failed attempt is tried again: network
	// errors and the statuses 429, 502, 503 and 504. Zero means one attempt.
	Retries int
	// MaxRetryWait caps any one wait between attempts, Retry-After included.
	// Zero means DefaultMaxRetryWait (60s).
	MaxRetryWait time.Duration
	// MaxBody is the most body bytes read (after decompression); the rest is
	// dropped and the Result marked Truncated. Zero means DefaultMaxBody (10 MiB).
	MaxBody int64
	// MaxRedirects is the most redirects followed. Zero means
	// DefaultMaxRedirects (10); a negative value means redirects are not
	// followed and the 3xx response is the result.
	MaxRedirects int
	// Header is sent with every request. A "Host" entry sets the Host
	// header. Its credentials (Authorization, Cookie, Proxy-Authorization),
	// like a URL's userinfo, go only to the origins they were given for:
	// see CredentialOrigins.
	Header http.Header
	// CredentialOrigins, when set, are the origins (scheme, host, port)
	// credentials may go to, such as a crawl's seeds. Nil means the origin
	// of the URL given to Get alone: never a redirect to another host, nor
	// from https to http.
	CredentialOrigins *Origins
	// Jar, when set, keeps the cookies servers set and sends them back
	// (a crawl's session). Nil means no cookies but the Header's.
	Jar http.CookieJar
	// Method is GET or HEAD (a link check). Empty means GET.
	Method string
	// UserAgent is sent as User-Agent unless Header sets one. Empty means Go's.
	UserAgent string
	// Insecure skips TLS certificate verification. Off unless the user asks.
	Insecure bool
	// Proxy, when set, carries every request; nil means the *_PROXY
	// environment variables decide.
	Proxy *url.URL
	// Concurrency is how many requests the caller keeps in flight; it sizes
	// the idle connection pool so that keep-alive works for all of them.
	// Zero means 10.
	Concurrency int
	// Backoff is the first wait before a retry; later waits double, with
	// jitter. Zero means 200ms.
	Backoff time.Duration
	// Archive, when set, is handed every request and response (a web
	// archive); Replay, when set, answers every request instead of the
	// network (a web archive played back).
	Archive Archive
	Replay  http.RoundTripper
	// Trace fills Result.Details: connection, phase timings (through
	// net/http/httptrace), redirects and a SHA-256 of the body. It costs a
	// little CPU per request, so it is off unless a record asks for it.
	Trace bool
	// KeepHeaders, when not nil, names the response headers Result.Header
	// must hold (canonical names); others may be left out. A bulk list
	// that reads one header needs no map of all of them: on the lean path
	// that map was the largest allocation of a request. nil keeps all.
	KeepHeaders []string
}

// Client fetches URLs. It is safe for concurrent use; all requests share one
// transport and its connection pool. Call CloseIdleConnections when done.
type Client struct {
	cfg       Config
	transport *http.Transport
	rt        http.RoundTripper // the transport, or what replays or archives around it
	http      *http.Client
	fast      *fastPath // the lean path for plain http, or nil (fast.go)
}

// New returns a Client for cfg, with defaults filled in.
func New(cfg Config) (*Client, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = min(cfg.Timeout, defaultConnect)
	}
	if cfg.MaxRetryWait == 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = defaultPool
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 200 * time.Millisecond
	}
	switch cfg.Method = strings.ToUpper(cfg.Method); cfg.Method {
	case "":
		cfg.Method = http.MethodGet
	case http.MethodGet, http.MethodHead:
	default:
		return nil, fmt.Errorf("method %q: want GET or HEAD", cfg.Method)
	}
	switch {
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("timeout must be positive, got %s", cfg.Timeout)
	case cfg.ConnectTimeout < 0:
		return nil, fmt.Errorf("connect-timeout must be positive, got %s", cfg.ConnectTimeout)
	case cfg.Retries < 0:
		return nil, fmt.Errorf("retries must be 0 or more, got %d", cfg.Retries)
	case cfg.MaxBody < 0:
		return nil, fmt.Errorf("max-body must be positive, got %d", cfg.MaxBody)
	case cfg.MaxRetryWait < 0:
		return nil, fmt.Errorf("max-retry-wait must be positive, got %s", cfg.MaxRetryWait)
	}
	if cfg.Proxy != nil && cfg.Proxy.Scheme != "http" && cfg.Proxy.Scheme != "https" && cfg.Proxy.Scheme != "socks5" {
		return nil, fmt.Errorf("proxy %q: scheme must be http, https or socks5", cfg.Proxy.Redacted())
	}

	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	proxy := http.ProxyFromEnvironment
	if cfg.Proxy != nil {
		proxy = http.ProxyURL(cfg.Proxy)
	}
	tr := &http.Transport{
		Proxy:       proxy,
		DialContext: dialer.DialContext,
		// A custom DialContext and TLS config turn HTTP/2 off unless asked for.
		ForceAttemptHTTP2: true,
		// Go keeps only 2 idle connections per host by default: with more
		// workers than that, every request past the second would dial anew.
		MaxIdleConns:          cfg.Concurrency * 2,
		MaxIdleConnsPerHost:   cfg.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: cfg.Insecure}, //nolint:gosec // only on the user's -k
		// Bodies are decoded here, every coding whatever the user's
		// Accept-Encoding (Go's own gzip handling stops at a user header).
		DisableCompression: true,
	}
	var rt http.RoundTripper = tr
	if cfg.Replay != nil {
		rt = cfg.Replay
	}
	if cfg.Archive != nil {
		rt = &archiving{next: rt, to: cfg.Archive}
	}
	c := &Client{cfg: cfg, transport: tr, rt: rt}
	c.http = &http.Client{Transport: rt, CheckRedirect: c.checkRedirect, Jar: cfg.Jar}
	if fastEligible(cfg) {
		c.fast = newFastPath(cfg)
	}
	return c, nil
}

// WithPolicy returns a Client that shares c's transport and connection
// pool but follows at most maxRedirects redirects (negative: none, the 3xx
// is the result), retries failures retries times, sends credentials only
// to origins (nil: the origin of the URL given to Get) and keeps cookies in
// jar (nil: none). One run keeps
// one pool however many policies it needs (pages, robots.txt, sitemaps).
func (c *Client) WithPolicy(maxRedirects, retries int, origins *Origins, jar http.CookieJar) *Client {
	cfg := c.cfg
	if maxRedirects == 0 {
		maxRedirects = DefaultMaxRedirects
	}
	cfg.MaxRedirects, cfg.Retries, cfg.CredentialOrigins, cfg.Jar = maxRedirects, max(retries, 0), origins, jar
	return c.derive(cfg)
}

// derive returns a client for cfg on c's pool.
func (c *Client) derive(cfg Config) *Client {
	d := &Client{cfg: cfg, transport: c.transport, rt: c.rt, fast: c.fast}
	d.http = &http.Client{Transport: c.rt, CheckRedirect: d.checkRedirect, Jar: cfg.Jar}
	if cfg.Jar != nil {
		d.fast = nil // cookies are net/http's
	}
	return d
}

// WithJar returns a client like c, on the same pool, that keeps cookies
// in jar: sends them, and stores those its answers set.
func (c *Client) WithJar(jar http.CookieJar) *Client {
	cfg := c.cfg
	cfg.Jar = jar
	return c.derive(cfg)
}

// WithMethod returns a client like c, on the same pool, that sends
// method (GET or HEAD) instead.
func (c *Client) WithMethod(method string) *Client {
	cfg := c.cfg
	cfg.Method = method
	return c.derive(cfg)
}

// Method is the request method c sends: GET or HEAD.
func (c *Client) Method() string { return c.cfg.Method }

// KeepingHeaders returns a client like c, on the same pool, whose
// results need hold only the named response headers (Config.KeepHeaders).
func (c *Client) KeepingHeaders(names ...string) *Client {
	cfg := c.cfg
	cfg.KeepHeaders = names
	return c.derive(cfg)
}

// CloseIdleConnections closes the pool's idle connections.
func (c *Client) CloseIdleConnections() {
	c.transport.CloseIdleConnections()
	if c.fast != nil {
		c.fast.closeIdle()
	}
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if c.cfg.MaxRedirects < 0 {
		return http.ErrUseLastResponse
	}
	if t := tracerOf(req.Context()); t != nil {
		t.redirected(req.Response)
	}
	first, hops := via[0].URL, len(via)
	if start, ok := req.Context().Value(redirectStartKey{}).(redirectStart); ok {
		first, hops = start.first, hops+start.hops
	}
	if !c.mayCredit(req.URL, first) {
		stripCredentials(req)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), ErrUnsupportedScheme)
	}
	if hops > c.cfg.MaxRedirects {
		return StoppedAfterRedirects(c.cfg.MaxRedirects)
	}
	req.URL.RawQuery, _ = EscapeQuery(req.URL.RawQuery)
	return nil
}

// Result is the outcome of one fetch, retries included. Err is nil whenever
// a response arrived, whatever its status, unless its body was cut short or
// its redirect was not followed (too many, or to another scheme): then
// Status and FinalURL are that response's.
type Result struct {
	URL      string      // as asked
	FinalURL string      // after redirects
	Status   int         // 0 when no response arrived
	Header   http.Header // of the final response
	// Details is set when the client traces (Config.Trace) and a
	// response arrived.
	Details     *Details
	ContentType string        // the Content-Type header
	Body        []byte        // only when the caller's keep said so; at most MaxBody bytes
	Bytes       int64         // body bytes read, decompressed
	Truncated   bool          // the body was longer than MaxBody
	Duration    time.Duration // from the first attempt to the end, waits included
	Attempts    int
	// RetryAfter is what the last response's Retry-After header asked for,
	// or 0.
	RetryAfter time.Duration
	Err        *Error

	buf *bytes.Buffer // Body's pooled storage, until Release
}

// bodyPool recycles body buffers: at thousands of pages a second, fresh
// buffers are most of what the garbage collector has to chase.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled is the largest buffer kept for reuse; rare huge bodies are
// left to the garbage collector instead of pinning memory.
const maxPooled = 1 << 20

// Release hands the body's memory back for reuse. Body must not be used
// afterwards. Calling it is optional (the memory is otherwise collected)
// and calling it twice is harmless.
func (r *Result) Release() {
	if r.buf != nil && r.buf.Cap() <= maxPooled {
		bodyPool.Put(r.buf)
	}
	r.buf, r.Body = nil, nil
}

// KeepBody decides from the Content-Type whether a body is kept in memory
// for the caller; a body not kept is still read, counted and discarded.
type KeepBody func(contentType string) bool

// Get fetches rawURL, retrying as configured. It never returns nil. If ctx
// ends, the Result has Kind canceled.
func (c *Client) Get(ctx context.Context, rawURL string, keep KeepBody) *Result {
	start := time.Now()
	res := &Result{URL: rawURL}
	u, err := ParseURL(rawURL)
	if err != nil {
		res.Err = &Error{Kind: kindOfParse(err), Err: err}
		return res
	}
	target := rawURL
	if q, escaped := EscapeQuery(u.RawQuery); escaped {
		u.RawQuery = q
		target = u.String()
	}
	for {
		res.Attempts++
		retryAfter, err := c.attempt(ctx, target, u, keep, res)
		if res.FinalURL == target {
			res.FinalURL = rawURL // the URL as asked, as for a path sent escaped
		}
		res.RetryAfter = retryAfter
		res.Err = nil // the result describes the last attempt alone
		res.Duration = time.Since(start)
		if err == nil && !retryStatus(res.Status) {
			res.Err = nil
			return res
		}
		if err != nil {
			res.Err = &Error{Kind: classify(err, ctx), Err: errors.New(c.message(err))}
			if !res.Err.Kind.retryable() {
				return res
			}
		}
		if res.Attempts > c.cfg.Retries {
			return res
		}
		wait := c.backoff(res.Attempts)
		if retryAfter > 0 {
			wait = min(retryAfter, c.cfg.MaxRetryWait)
		}
		if !ctxsleep.Sleep(ctx, wait) {
			res.Duration = time.Since(start)
			res.Err = &Error{Kind: KindCanceled, Err: errors.New("stopped while waiting to try again: the run was interrupted or ended")}
			return res
		}
	}
}

// attempt sends one request and reads its body into res. It returns the
// server's Retry-After, if any, and the transport or body error.
func (c *Client) attempt(ctx context.Context, rawURL string, u *url.URL, keep KeepBody, res *Result) (time.Duration, error) {
	res.Release() // a retry starts over
	res.Status, res.Header, res.ContentType, res.FinalURL, res.Details = 0, nil, "", "", nil
	res.Body, res.Bytes, res.Truncated = nil, 0, false
	if now := time.Now(); c.usesFast(u, now) {
		return c.attemptFast(ctx, rawURL, u, keep, res, now)
	}
	return c.attemptStd(ctx, rawURL, keep, res, nil, 0, true)
}

// redirectStart is where a redirect chain began when net/http takes it
// over from the lean path: its first URL and the hops made already.
type redirectStart struct {
	first *url.URL
	hops  int
}

type redirectStartKey struct{}

// attemptStd is attempt through net/http. from, when not nil, is the first
// URL of a chain the lean path began, hops the redirects it followed and
// credit whether credentials still go along.
func (c *Client) attemptStd(ctx context.Context, rawURL string, keep KeepBody, res *Result, from *url.URL, hops int, credit bool) (time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	if from != nil {
		actx = context.WithValue(actx, redirectStartKey{}, redirectStart{first: from, hops: hops})
	}
	req, err := http.NewRequestWithContext(actx, c.cfg.Method, rawURL, nil)
	if err != nil {
		return 0, err
	}
	credit = credit && c.mayCredit(req.URL, req.URL)
	for k, vs := range c.cfg.Header {
		if credit || !IsCredential(k) {
			req.Header[k] = vs
		}
	}
	if !credit {
		req.URL.User = nil
	}
	if h := c.cfg.Header.Get("Host"); h != "" {
		req.Host = h
	}
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	if c.cfg.UserAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}

	var trace *tracer
	if c.cfg.Trace {
		var tctx context.Context
		tctx, trace = withTracer(req.Context())
		req = req.WithContext(tctx)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if resp != nil {
			// A redirect not followed (too many, or to another scheme):
			// its answer says where the chain stopped, for a record that
			// said status 0 and no URL.
			res.Status, res.FinalURL = resp.StatusCode, resp.Request.URL.String()
		}
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 100 {
		res.FinalURL = resp.Request.URL.String()
		return 0, notAStatus(resp.StatusCode)
	}
	res.Status = resp.StatusCode
	res.Header = resp.Header
	// The last of several, as browsers take it (and fasthttp, on the lean
	// path, keeps only that one).
	if types := resp.Header.Values("Content-Type"); len(types) > 0 {
		res.ContentType = types[len(types)-1]
	}
	res.FinalURL = rawURL
	if resp.Request != req { // redirected
		res.FinalURL = resp.Request.URL.String()
	}
	var digest *cappedHash
	if trace != nil {
		res.Details = trace.details(resp)
		digest = newCappedHash(c.cfg.MaxBody)
		defer func() { res.Details.SHA256 = digest.hex() }()
	}
	retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	var hash io.Writer // a nil *cappedHash would be a non-nil io.Writer
	if digest != nil {
		hash = digest
	}
	// Every Content-Encoding line counts, in order, as one comma list
	// (RFC 9110 5.3): the first alone left the later codings on the body.
	encoding := resp.Header.Get("Content-Encoding")
	if codings := resp.Header.Values("Content-Encoding"); len(codings) > 1 {
		encoding = strings.Join(codings, ", ")
	}
	return retryAfter, c.readBody(rawBody{resp.Body}, encoding, resp.ContentLength, keep, res, hash)
}

// readBody decodes a response body into res, at most MaxBody bytes: kept
// when keep says so, else counted and dropped; digest, when not nil, is
// fed what was read.
func (c *Client) readBody(body io.Reader, contentEncoding string, contentLength int64, keep KeepBody, res *Result, digest io.Writer) error {
	decoded, closeDecoders, err := decodeBody(body, contentEncoding, res.ContentType)
	if err != nil {
		return err
	}
	defer closeDecoders()
	// The cap applies after decoding: a small bomb cannot fill memory.
	limited := io.LimitReader(decoded, c.cfg.MaxBody+1)
	if digest != nil {
		limited = io.TeeReader(limited, digest)
	}
	if keep != nil && keep(res.ContentType) {
		buf := bodyPool.Get().(*bytes.Buffer)
		buf.Reset()
		if contentLength > 0 {
			// MinRead more, so the read that finds EOF does not regrow it.
			buf.Grow(int(min(contentLength, c.cfg.MaxBody+1)) + bytes.MinRead)
		}
		res.Bytes, err = buf.ReadFrom(limited)
		res.buf, res.Body = buf, buf.Bytes()
	} else {
		res.Bytes, err = io.Copy(io.Discard, limited)
	}
	if res.Bytes > c.cfg.MaxBody {
		res.Bytes, res.Truncated = c.cfg.MaxBody, true
		if res.Body != nil {
			res.Body = res.Body[:c.cfg.MaxBody]
		}
	}
	return err
}

// Retryable says whether trying r's URL again may give another outcome:
// a network failure or timeout, or the status 429, 502, 503 or 504.
func (r *Result) Retryable() bool {
	if r.Err != nil {
		return r.Err.Kind.retryable()
	}
	return retryStatus(r.Status)
}

// RetryWait is how long to wait before retry number attempt (1 for the
// first retry) after r: the server's Retry-After, or the client's backoff,
// capped by MaxRetryWait either way.
func (c *Client) RetryWait(attempt int, r *Result) time.Duration {
	if r.RetryAfter > 0 {
		return min(r.RetryAfter, c.cfg.MaxRetryWait)
	}
	return c.backoff(attempt)
}

func retryStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// ParseURL accepts an absolute http or https URL with a host. Its errors
// wrap ErrBadURL or ErrUnsupportedScheme.
func ParseURL(raw string) (*url.URL, error) {
	if schemeless(raw) {
		// "localhost:8080" parses as scheme "localhost", and
		// "127.0.0.1:8080" not at all: both are a host without a scheme.
		return nil, fmt.Errorf("%w: no scheme (want http:// or https:// before the host)", ErrBadURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadURL, URLProblem(raw, err))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, fmt.Errorf("%w: no scheme (want http:// or https://)", ErrBadURL)
	default:
		return nil, fmt.Errorf("scheme %q: %w", u.Scheme, ErrUnsupportedScheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: no host", ErrBadURL)
	}
	if p := u.Port(); p != "" {
		// url.Parse takes any digits; the dial would fail later, as a
		// network error.
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: port %s out of range (1-65535)", ErrBadURL, p)
		}
	}
	return u, nil
}

// schemeless says whether raw is a host, with a port and a path or not,
// given without its scheme: "example.org/a", "127.0.0.1:8080/", not
// "mailto:x".
func schemeless(raw string) bool {
	if strings.Contains(raw, "://") {
		return false
	}
	authority, _, _ := strings.Cut(raw, "/")
	host, port, hasPort := strings.Cut(authority, ":")
	if host == "" || (hasPort && (port == "" || strings.Trim(port, "0123456789") != "")) {
		return false
	}
	return strings.Trim(strings.ToLower(host), "abcdefghijklmnopqrstuvwxyz0123456789.-") == ""
}

// message is what a record says of a failed attempt: the cause in a
// user's words.
func (c *Client) message(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		// Go's "context deadline exceeded" names no deadline.
		return fmt.Sprintf("no complete answer within the %s timeout", c.cfg.Timeout)
	case errors.Is(err, context.Canceled):
		// The lean path adds what the closed connection did, which is
		// the cancellation's effect, not news.
		return "stopped before the answer came: the run was interrupted or ended"
	}
	if why := untrusted(err); why != "" && !c.cfg.Insecure {
		// Go's "tls: failed to verify certificate: x509: ..." says what,
		// not what to do about it.
		return "the server's certificate is not trusted: " + why + " (-k, --insecure, skips the check)"
	}
	msg := cleanMessage(err)
	if rest, ok := strings.CutPrefix(msg, "proxyconnect "); ok {
		// net/http's word for it, which reads as a name of ours.
		return "the proxy could not be reached: " + RedactText(rest)
	}
	if msg == "EOF" {
		// net/http's bare word for it; the lean path's fastError says it so.
		return errClosedUnanswered.Error() + ": EOF"
	}
	return RedactText(msg)
}

// untrusted says why a certificate was not trusted, in a user's words; ""
// for an error that is no certificate's.
func untrusted(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		host     x509.HostnameError
		invalid  x509.CertificateInvalidError
		verified *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown):
		return "it is signed by an authority this system does not know (self-signed, or a private CA)"
	case errors.As(err, &host):
		return strings.TrimPrefix(host.Error(), "x509: ")
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return "it has expired, or is not valid yet: " + invalid.Detail
		}
		return strings.TrimPrefix(invalid.Error(), "x509: ")
	case errors.As(err, &verified):
		return strings.TrimPrefix(verified.Err.Error(), "x509: ")
	}
	return ""
}

// errClosedUnanswered is a connection the server closed before any byte
// of an answer, on either path.
var errClosedUnanswered = errors.New("the server closed the connection before answering")

// RedactText masks the passwords of the URLs a text quotes (a Location
// that does not parse, in net/http's words or ours; a command line): a
// record's message, or a state's command, says no more than its URLs do.
func RedactText(msg string) string {
	if !strings.Contains(msg, "@") {
		return msg // nearly every message
	}
	var b strings.Builder
	for rest := msg; ; {
		i := strings.Index(rest, "://")
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:i+3])
		// A quoted URL ends at its quote, or a space.
		rest = maskPassword(rest[i+3:], "/?#\"' ")
	}
}

// EscapeQuery percent-encodes in a raw query what a browser does (WHATWG's
// special-query percent-encode set: controls, space, '"', '\”, '<', '>'
// and every byte above 0x7e), and says whether it had to. Sent raw, a
// space breaks the request line (the server answers 400) and the others
// are read differently by different servers; "?q=a b" is what a user
// pasting a search URL means as "?q=a%20b", and wget and browsers send
// that.
func EscapeQuery(q string) (string, bool) {
	n := 0
	for i := 0; i < len(q); i++ {
		if escapedInQuery(q[i]) {
			n++
		}
	}
	if n == 0 {
		return q, false
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(q)+2*n)
	for i := 0; i < len(q); i++ {
		if c := q[i]; escapedInQuery(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b), true
}

func escapedInQuery(c byte) bool {
	return c <= ' ' || c > '~' || c == '"' || c == '\'' || c == '<' || c == '>'
}

func kindOfParse(err error) Kind {
	if errors.Is(err, ErrUnsupportedScheme) {
		return KindUnsupportedScheme
	}
	return KindBadURL
}

// Redact hides the password of a URL with credentials
// ("http://user:xxxxx@host/"), so that it never reaches a record, a log or
// a summary. A URL that does not parse is masked by its text alone
// (everything between the first ':' of its authority and its last '@');
// anything without credentials is returned as is.
func Redact(raw string) string {
	if !strings.Contains(raw, "@") {
		return raw
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	// Unparsable, or without a scheme ("user:pw@proxy:3128", which url
	// reads as scheme "user"): the password is what stands between the
	// first ':' and the last '@' of the authority.
	prefix, rest := "", raw
	if scheme, after, ok := strings.Cut(raw, "://"); ok {
		prefix, rest = scheme+"://", after
	}
	return prefix + maskPassword(rest, "/?#")
}

// maskPassword masks the password of the authority that starts rest and
// ends at the first of ends: what stands between its first ':' and its
// last '@'. rest is returned as it is when it has none.
func maskPassword(rest, ends string) string {
	authority := rest
	if i := strings.IndexAny(rest, ends); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return rest
	}
	user, _, hasPassword := strings.Cut(authority[:at], ":")
	if !hasPassword {
		return rest
	}
	return user + ":xxxxx" + rest[at:]
}
