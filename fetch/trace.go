package fetch

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"hash"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// Details is what a traced fetch (Config.Trace) learns beyond the default
// record: where and how it connected, how long each phase took, the
// redirects it followed and a digest of the body.
type Details struct {
	RemoteIP    string // the address the final response came from
	HTTPVersion string // "HTTP/1.1", "HTTP/2.0"
	TLSVersion  string // "TLS 1.3"; "" for plain HTTP
	ConnReused  bool   // the final request went over a kept-alive connection
	// The phases of the final request, each from its start to the end of
	// the phase, as curl's -w time_namelookup, time_connect,
	// time_appconnect and time_starttransfer: DNS <= Connect <= TLS <=
	// TTFB. DNS, Connect and TLS are zero on a reused connection, TLS on
	// plain HTTP, DNS for an IP address.
	DNS, Connect, TLS, TTFB time.Duration
	// Redirects is the chain followed before the final URL, each hop with
	// the status that sent it on; empty when there was none.
	Redirects []Hop
	SHA256    string    // hex SHA-256 of the body read (decoded, at most MaxBody)
	FetchedAt time.Time // when the final response's headers arrived
	// TLSNotAfter is when the server's certificate expires; zero for
	// plain HTTP.
	TLSNotAfter time.Time
}

// Hop is one redirect: the URL that answered and its status.
type Hop struct {
	URL    string `json:"url"`
	Status int    `json:"status"`
}

// tracer collects one attempt's phases from httptrace's callbacks, which
// may come from the dialing goroutines: everything is under mu.
type tracer struct {
	mu                                       sync.Mutex
	start                                    time.Time
	dnsDone, connectDone, tlsDone, firstByte time.Time
	reused                                   bool
	remote                                   string
	hops                                     []Hop
}

type tracerKey struct{}

// withTracer returns ctx traced by a new tracer.
func withTracer(ctx context.Context) (context.Context, *tracer) {
	t := &tracer{}
	trace := &httptrace.ClientTrace{
		// GetConn starts each request of a redirect chain: the phases are
		// the final request's.
		GetConn: func(string) {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.start = time.Now()
			t.dnsDone, t.connectDone, t.tlsDone, t.firstByte = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			t.reused, t.remote = false, ""
		},
		DNSDone: func(httptrace.DNSDoneInfo) { t.mark(&t.dnsDone) },
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				t.mark(&t.connectDone)
			}
		},
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err == nil {
				t.mark(&t.tlsDone)
			}
		},
		GotConn: func(info httptrace.GotConnInfo) {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.reused = info.Reused
			if addr := info.Conn.RemoteAddr(); addr != nil {
				host, _, err := net.SplitHostPort(addr.String())
				if err != nil {
					host = addr.String()
				}
				t.remote = host
			}
		},
		GotFirstResponseByte: func() { t.mark(&t.firstByte) },
	}
	return context.WithValue(httptrace.WithClientTrace(ctx, trace), tracerKey{}, t), t
}

func (t *tracer) mark(at *time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	*at = time.Now()
}

// redirected records a hop of the chain (from CheckRedirect).
func (t *tracer) redirected(resp *http.Response) {
	if resp == nil || resp.Request == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hops = append(t.hops, Hop{URL: Redact(resp.Request.URL.String()), Status: resp.StatusCode})
}

// details turns what was traced and the final response into Details.
func (t *tracer) details(resp *http.Response) *Details {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := &Details{RemoteIP: t.remote, HTTPVersion: resp.Proto, ConnReused: t.reused, Redirects: t.hops, FetchedAt: time.Now()}
	since := func(at time.Time) time.Duration {
		if at.IsZero() || t.start.IsZero() {
			return 0
		}
		return at.Sub(t.start)
	}
	d.DNS, d.Connect, d.TLS, d.TTFB = since(t.dnsDone), since(t.connectDone), since(t.tlsDone), since(t.firstByte)
	// A phase that did not happen takes the one before it, so that the
	// phases stay ordered: an IP address has no lookup, HTTP no TLS.
	if d.Connect == 0 && !t.reused {
		d.Connect = d.DNS
	}
	if resp.TLS != nil {
		d.TLSVersion = tls.VersionName(resp.TLS.Version)
		if certs := resp.TLS.PeerCertificates; len(certs) > 0 {
			d.TLSNotAfter = certs[0].NotAfter
		}
	} else {
		d.TLS = 0
	}
	return d
}

// tracerOf is the tracer of a request's context, or nil.
func tracerOf(ctx context.Context) *tracer {
	t, _ := ctx.Value(tracerKey{}).(*tracer)
	return t
}

// cappedHash hashes at most limit bytes of what is written to it.
type cappedHash struct {
	hash.Hash
	left int64
}

func newCappedHash(limit int64) *cappedHash { return &cappedHash{Hash: sha256.New(), left: limit} }

func (h *cappedHash) Write(p []byte) (int, error) {
	n := len(p)
	if int64(len(p)) > h.left {
		p = p[:h.left]
	}
	h.left -= int64(len(p))
	h.Hash.Write(p)
	return n, nil
}

func (h *cappedHash) hex() string { return hex.EncodeToString(h.Sum(nil)) }
