package fetch

import (
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// acceptEncoding is what a Client asks for unless the user's headers say
// otherwise; every body is decoded whatever was asked.
const acceptEncoding = "gzip, br, zstd"

// zstdMaxWindow is the largest zstd window a body may use (RFC 9659).
const zstdMaxWindow = 8 << 20

// decodeBody wraps body in the decoders its Content-Encoding names, last
// applied first ("gzip, br" was gzipped, then brotli'd). It returns the
// decoded stream and a function closing the decoders; an unknown coding
// is an error, so that the bytes are never taken for the page. So is a
// text body (by contentType) still compressed once decoded.
func decodeBody(body io.Reader, contentEncoding, contentType string) (io.Reader, func(), error) {
	if contentEncoding == "" {
		return body, noClose, nil // the common case, with nothing to set up
	}
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	codings := strings.Split(contentEncoding, ",")
	r := body
	for i := len(codings) - 1; i >= 0; i-- {
		switch coding := strings.ToLower(strings.TrimSpace(codings[i])); coding {
		case "", "identity":
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(r)
			if err != nil {
				closeAll()
				return nil, nil, decodingError("gzip", err)
			}
			closers = append(closers, func() { zr.Close() })
			r = zr
		case "deflate":
			// Servers send zlib-wrapped deflate, as the RFC says, or raw
			// deflate, as some do: tell them apart by the zlib header.
			zr, err := newDeflateReader(r)
			if err != nil {
				closeAll()
				return nil, nil, decodingError("deflate", err)
			}
			closers = append(closers, func() { zr.Close() })
			r = zr
		case "br":
			r = brotli.NewReader(r)
		case "zstd":
			// RFC 9659 caps the zstd content coding's window at 8 MiB;
			// the library's default, 512 MiB, let a frame that declares a
			// large window hold that much per response (3.7 GB for 32).
			zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(zstdMaxWindow))
			if err != nil {
				closeAll()
				return nil, nil, decodingError("zstd", err)
			}
			closers = append(closers, zr.Close)
			r = zr
		default:
			closeAll()
			return nil, nil, fmt.Errorf("%w: %q", ErrUnknownEncoding, coding)
		}
	}
	if r == body {
		return r, closeAll, nil
	}
	return &decodedReader{r: r, codings: strings.TrimSpace(contentEncoding), textual: textual(contentType)}, closeAll, nil
}

// bodyError marks an error of the raw body (a reset, a timeout), so that it
// is not mistaken for one of the decoder's.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// rawBody marks the errors of the body as it came off the wire.
type rawBody struct{ r io.Reader }

func (b rawBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}

// decodedReader reports a decoder's own failures as ErrDecoding, naming
// the body's codings, and the wire's as they are.
type decodedReader struct {
	r       io.Reader
	codings string // the Content-Encoding
	textual bool   // the Content-Type is text, HTML, JSON or XML
	checked bool   // the first bytes were looked at
}

func (d *decodedReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if !d.checked && n > 0 {
		d.checked = true
		// A page compressed twice and labelled once (a second
		// Content-Encoding line, which the lean path cannot see, or a
		// .gz file served as HTML with gzip on top) decodes to bytes
		// that no text starts with: the page was not read, and the
		// record must not say it was.
		if name := compressedAs(p[:n]); d.textual && name != "" {
			return 0, fmt.Errorf("%w: %s: the body is still %s-compressed once decoded (compressed twice but labelled once)", ErrDecoding, d.codings, name)
		}
	}
	var be *bodyError
	switch {
	case err == nil || err == io.EOF:
	case errors.As(err, &be):
		err = be.err
	case errors.Is(err, zstd.ErrWindowSizeExceeded):
		err = fmt.Errorf("%w: zstd: its window is over the %d MiB that HTTP allows (RFC 9659)", ErrDecoding, zstdMaxWindow>>20)
	default:
		err = decodingError(d.codings, err)
	}
	return n, err
}

func decodingError(what string, err error) error {
	var be *bodyError
	if errors.As(err, &be) {
		return be.err
	}
	return fmt.Errorf("%w: %s: %v", ErrDecoding, what, err)
}

// newDeflateReader reads zlib-wrapped or raw deflate.
func newDeflateReader(r io.Reader) (io.ReadCloser, error) {
	br := &peekReader{r: r}
	head, err := br.peek(2)
	if err == nil && len(head) == 2 && head[0]&0x0f == 8 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0 {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// peekReader lets the first bytes be looked at and still read.
type peekReader struct {
	r    io.Reader
	head []byte
}

func (p *peekReader) peek(n int) ([]byte, error) {
	for len(p.head) < n {
		buf := make([]byte, n-len(p.head))
		m, err := p.r.Read(buf)
		p.head = append(p.head, buf[:m]...)
		if err != nil {
			return p.head, err
		}
	}
	return p.head, nil
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	return p.r.Read(b)
}

func noClose() {}

// compressedAs names the compression whose magic number b starts with:
// gzip or zstd (brotli has none); "" for other bytes.
func compressedAs(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8:
		return "gzip"
	case len(b) >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd:
		return "zstd"
	}
	return ""
}

// textual says whether a Content-Type is text that a compressed stream
// cannot be: text/*, HTML, JSON, XML, JavaScript.
func textual(contentType string) bool {
	t := strings.ToLower(contentType)
	return strings.HasPrefix(t, "text/") || strings.Contains(t, "html") || strings.Contains(t, "json") ||
		strings.Contains(t, "xml") || strings.Contains(t, "javascript")
}
