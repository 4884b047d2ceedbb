package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strings"
	"syscall"
)

// Kind is a short, stable name for why a fetch failed. Records and summaries
// show it; scripts may match on it, so the set only ever grows.
type Kind string

// The kinds of failure. A response with any status is not a failure here;
// the caller's status policy turns statuses into KindHTTPStatus.
const (
	KindTimeout           Kind = "timeout"            // the attempt outlived its timeout
	KindDNS               Kind = "dns"                // the host name did not resolve
	KindRefused           Kind = "refused"            // nothing listens at the address
	KindReset             Kind = "reset"              // the connection was reset or closed early
	KindIncompleteBody    Kind = "incomplete_body"    // the body ended before its Content-Length
	KindTLS               Kind = "tls"                // handshake or certificate failure
	KindTooManyRedirects  Kind = "too_many_redirects" // redirect limit reached, or a loop
	KindUnsupportedScheme Kind = "unsupported_scheme" // not http or https, in the input or a redirect
	KindBadURL            Kind = "bad_url"            // not an absolute http(s) URL
	KindHTTPStatus        Kind = "http_status"        // a status the caller does not accept
	KindCanceled          Kind = "canceled"           // the run was interrupted or failed fast
	KindNetwork           Kind = "network"            // any other network failure
	KindProtocol          Kind = "protocol"           // the answer broke HTTP (status line, header, chunk, Location)
	KindNotArchived       Kind = "not_archived"       // a replay's archives have no answer for the URL: not retried
	KindDecoding          Kind = "decoding"           // the body's Content-Encoding could not be decoded
	KindChallenge         Kind = "challenge"          // a bot challenge ("Just a moment..."), not the page
	KindSave              Kind = "save"               // fetched, but the body could not be saved (--save-dir)
	KindRobots            Kind = "robots"             // a crawl's seed that robots.txt disallows, or whose robots.txt could not be read: not fetched
)

// Error is why one fetch failed: a Kind for programs and the underlying
// error for people.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return string(e.Kind) + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrTooManyRedirects is returned when a chain of redirects passes the limit.
var ErrTooManyRedirects = errors.New("too many redirects")

// StoppedAfterRedirects is ErrTooManyRedirects for a chain stopped after n
// redirects were followed.
func StoppedAfterRedirects(n int) error {
	if n == 1 {
		return fmt.Errorf("stopped after 1 redirect: %w", ErrTooManyRedirects)
	}
	return fmt.Errorf("stopped after %d redirects: %w", n, ErrTooManyRedirects)
}

// ErrUnsupportedScheme is returned for a URL or redirect target whose scheme
// is not http or https.
var ErrUnsupportedScheme = errors.New("only http and https URLs are fetched")

// ErrNotArchived is a replayed request (Config.Replay) that the archives
// do not answer: the same request would get the same answer.
var ErrNotArchived = errors.New("not in the archive (a replay fetches nothing from the network)")

// ErrDecoding is returned for a body that its Content-Encoding does not
// describe: a corrupt gzip, brotli or zstd stream, or an unknown coding.
var ErrDecoding = errors.New("cannot decode the body")

// ErrUnknownEncoding is an ErrDecoding for a Content-Encoding no decoder
// knows.
var ErrUnknownEncoding = fmt.Errorf("%w: unknown content coding", ErrDecoding)

// ErrBadURL is returned for text that is not an absolute http(s) URL.
var ErrBadURL = errors.New("not an absolute http or https URL")

// classify names the kind of a transport or body-read error. attemptCtx is
// the context of the attempt, parent that of the whole fetch: telling them
// apart separates our own timeout from a cancellation by the caller.
func classify(err error, parent context.Context) Kind {
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
		unkAuth x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invErr  x509.CertificateInvalidError
		netErr  net.Error
	)
	switch {
	case parent.Err() != nil:
		return KindCanceled
	case errors.Is(err, ErrTooManyRedirects):
		return KindTooManyRedirects
	case errors.Is(err, ErrUnsupportedScheme):
		return KindUnsupportedScheme
	case errors.Is(err, ErrDecoding):
		return KindDecoding
	case errors.Is(err, ErrNotArchived):
		return KindNotArchived
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case errors.As(err, &dnsErr):
		if dnsErr.IsTimeout {
			return KindTimeout
		}
		return KindDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF):
		return KindReset
	case errors.Is(err, io.ErrUnexpectedEOF):
		return KindIncompleteBody
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alert),
		errors.As(err, &unkAuth), errors.As(err, &hostErr), errors.As(err, &invErr):
		return KindTLS
	case errors.As(err, &netErr) && netErr.Timeout():
		return KindTimeout
	case brokeHTTP(err):
		return KindProtocol
	}
	return KindNetwork
}

// brokeHTTP says whether err is a server's answer that is not HTTP, in the
// words of net/http (whose errors are mostly unexported) or of fasthttp
// (its chunk parser). The tests hold these words to both libraries'
// answers.
func brokeHTTP(err error) bool {
	var textErr textproto.ProtocolError
	if errors.As(err, &textErr) {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, words := range []string{
		"malformed http", "malformed mime header", "malformed chunked", "bad content-length", "multiple content-length",
		"transfer encoding", "chunk length", "chunk size", "end of chunk", "hex number", "location header",
		"response headers exceeded", // a header past net/http's 10 MB, which it will not read
		"1xx informational",         // endless 103 Early Hints
	} {
		if strings.Contains(msg, words) {
			return true
		}
	}
	return false
}

// notAStatus is the error for an answer whose status is below 100, which
// HTTP has none of: it is no page, whatever follows.
func notAStatus(status int) error {
	return textproto.ProtocolError(fmt.Sprintf("status %03d is not an HTTP status (100 to 599)", status))
}

// retryable reports whether a failure of this kind may pass if tried again.
func (k Kind) retryable() bool {
	switch k {
	case KindTimeout, KindRefused, KindReset, KindIncompleteBody, KindNetwork, KindProtocol:
		// A broken answer may be the last one's leftovers on a kept-alive
		// connection (a body sent after HEAD): a retry takes a fresh one.
		return true
	}
	return false
}

// cleanMessage strips Go's `Get "URL": ` prefix: the record already names
// the URL, and a user reads the cause more easily without it.
func cleanMessage(err error) string {
	msg := err.Error()
	var uerr *url.Error
	if errors.As(err, &uerr) {
		msg = uerr.Err.Error()
	}
	// The library's name is no news to a user: "net/http: HTTP/1.x
	// transport connection broken", "fasthttp: too many 1xx ...",
	// "net/url: invalid control character in URL".
	for _, lib := range []string{"net/http: ", "fasthttp: ", "net/url: "} {
		msg = strings.TrimPrefix(msg, lib)
	}
	return msg
}

// URLProblem says what url.Parse found wrong with raw, in err's words
// without raw itself (url.Parse's errors quote it whole, password and all),
// and without the bad escape when raw has a password it may stand in.
func URLProblem(raw string, err error) string {
	var escape url.EscapeError
	if errors.As(err, &escape) && Redact(raw) != raw {
		return "invalid URL escape: a '%' not followed by two hex digits"
	}
	return cleanMessage(err)
}
