package fetch

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// Archive keeps every exchange the client has with servers, redirects
// and robots.txt included: a web archive (WARC). Record is called from
// many goroutines at once, when a response's body is closed.
type Archive interface {
	Record(x *Exchange)
}

// Exchange is one request and the response it got, as sent and received.
type Exchange struct {
	Request  *http.Request
	Response *http.Response // its Body already read: see Body
	// Body is the response body as received: still in its
	// Content-Encoding, without chunking. Complete is false when it was
	// not read to its end (a body longer than MaxBody, a redirect's body
	// the client left, a canceled read).
	Body     []byte
	Complete bool
	Started  time.Time // when the request was sent
	RemoteIP string    // the server's address, "" if unknown
}

// archiving is a RoundTripper that hands every exchange to an Archive
// once the caller has closed the response body.
type archiving struct {
	next http.RoundTripper
	to   Archive
}

func (a *archiving) RoundTrip(req *http.Request) (*http.Response, error) {
	x := &Exchange{Request: req, Started: time.Now()}
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if addr := info.Conn.RemoteAddr(); addr != nil {
			host, _, err := net.SplitHostPort(addr.String())
			if err == nil {
				mu.Lock()
				x.RemoteIP = host
				mu.Unlock()
			}
		}
	}}
	resp, err := a.next.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err != nil {
		return nil, err
	}
	mu.Lock()
	x.Response = resp
	mu.Unlock()
	resp.Body = &archivedBody{ReadCloser: resp.Body, x: x, to: a.to}
	return resp, nil
}

// archivedBody keeps what the caller reads and records the exchange when
// the caller closes it.
type archivedBody struct {
	io.ReadCloser
	x    *Exchange
	to   Archive
	buf  bytes.Buffer
	eof  bool
	once sync.Once
}

func (b *archivedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.buf.Write(p[:n])
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *archivedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() {
		b.x.Body, b.x.Complete = b.buf.Bytes(), b.eof
		b.to.Record(b.x)
	})
	return err
}
