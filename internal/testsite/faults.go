package testsite

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// The fault endpoints: what broken servers do, one each.
//
//	/fault/reset               headers, part of the body, then a TCP reset
//	/fault/short-body          a Content-Length larger than the body sent
//	/fault/big?mb=100          a body of that many MiB
//	/fault/gzip-bomb           a gzip body that inflates to 1 GiB
//	/fault/redirect-loop       a redirect to itself
//	/fault/redirect-to?url=U   a redirect to U, any scheme
//	/fault/charset/{name}      a page whose title is "Café été" in that
//	                           charset: latin1-header, latin1-meta, sjis
//	/fault/malformed, /fault/empty, /fault/binary   bad HTML served as text/html
//	/fault/encoding/{coding}   a page titled "Encoded <coding>" linking to
//	                           /fault/encoding/gzip, sent in that coding
//	                           (gzip, deflate, deflate-raw, br, zstd, bogus)
//	                           whatever the client accepts
//	/fault/no-content-type     an HTML page without a Content-Type header
//	/trap/relative/...         every path links to ./a/ below itself, forever
//	/trap/calendar?month=N     links to month N+1, forever
//	/trap/session/             links to itself with a fresh ;jsessionid= and
//	                           ?PHPSESSID= each time
//	/cookie/set?v=V            sets the cookie session=V and links to /cookie/check
//	/cookie/check              a page titled "cookie: V" with the session it got,
//	                           naming /cookie/canonical as its canonical URL
//	/fault/challenge?status=N  a bot challenge page ("Just a moment..."),
//	                           with cf-mitigated: challenge unless status is 200
//	/fault/raw/{name}          bytes as a broken server sends them (RawAnswers:
//	                           bare-lf, bad-status, bad-chunk-size, ...)
//	/fault/body-after-head     a kept-alive connection whose every answer is
//	                           preceded by the last one's 5-byte body

func (s *Site) faults() {
	s.mux.HandleFunc("GET /fault/reset", faultReset)
	s.mux.HandleFunc("GET /fault/short-body", faultShortBody)
	s.mux.HandleFunc("GET /fault/big", faultBig)
	s.mux.HandleFunc("GET /fault/gzip-bomb", faultGzipBomb)
	s.mux.HandleFunc("GET /fault/redirect-loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/fault/redirect-loop", http.StatusFound)
	})
	s.mux.HandleFunc("GET /fault/redirect-to", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", r.URL.Query().Get("url"))
		w.WriteHeader(http.StatusFound)
	})
	s.mux.HandleFunc("GET /fault/charset/{name}", faultCharset)
	s.mux.HandleFunc("GET /fault/encoding/{coding}", faultEncoding)
	s.mux.HandleFunc("GET /fault/raw/{name}", faultRaw)
	s.mux.HandleFunc("/fault/body-after-head", faultBodyAfterHead)
	s.mux.HandleFunc("GET /cookie/set", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: r.URL.Query().Get("v"), Path: "/", Expires: time.Now().Add(time.Hour)})
		_, _ = io.WriteString(w, `<html><body><a href="/cookie/check">check</a></body></html>`)
	})
	s.mux.HandleFunc("GET /cookie/check", func(w http.ResponseWriter, r *http.Request) {
		v := ""
		if c, err := r.Cookie("session"); err == nil {
			v = c.Value
		}
		fmt.Fprintf(w, `<html><head><title>cookie: %s</title><link rel="canonical" href="/cookie/canonical"></head></html>`, html.EscapeString(v))
	})
	s.mux.HandleFunc("GET /trap/relative/", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `<html><body><a href="./a/">deeper</a></body></html>`)
	})
	s.mux.HandleFunc("GET /trap/calendar", func(w http.ResponseWriter, r *http.Request) {
		month, _ := strconv.Atoi(r.URL.Query().Get("month"))
		fmt.Fprintf(w, `<html><body><a href="/trap/calendar?month=%d">next month</a></body></html>`, month+1)
	})
	var sessions atomic.Int64
	s.mux.HandleFunc("GET /trap/session/", func(w http.ResponseWriter, _ *http.Request) {
		n := sessions.Add(1)
		fmt.Fprintf(w, `<html><body><a href="/trap/session/;jsessionid=%d">a</a><a href="/trap/session/?PHPSESSID=%d&amp;utm_source=x">b</a></body></html>`, n, n)
	})
	s.mux.HandleFunc("GET /fault/challenge", func(w http.ResponseWriter, r *http.Request) {
		status, err := strconv.Atoi(r.URL.Query().Get("status"))
		if err != nil {
			status = http.StatusForbidden
		}
		if status != http.StatusOK {
			w.Header().Set("Cf-Mitigated", "challenge")
		}
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>`+
			`<script>window._cf_chl_opt={cType:'managed'};</script><a href="/page/1">x</a></body></html>`)
	})
	s.mux.HandleFunc("GET /fault/no-content-type", func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = nil // no sniffing by net/http either
		_, _ = io.WriteString(w, "<!DOCTYPE html><html><head><title>No type</title></head><body>x</body></html>")
	})
	s.mux.HandleFunc("GET /fault/malformed", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, `<html><head><title>Broken <b>page</title><body><div><p>unclosed<a href="/site/1"<table></td>`)
	})
	s.mux.HandleFunc("GET /fault/empty", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
	})
	s.mux.HandleFunc("GET /fault/binary", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		b := make([]byte, 4096)
		for i := range b {
			b[i] = byte(i*7 + i/13)
		}
		_, _ = w.Write(b)
	})
}

// faultReset sends headers and half the promised body, then resets the
// connection (SO_LINGER 0 makes close send RST).
func faultReset(w http.ResponseWriter, _ *http.Request) {
	conn, buf, ok := hijack(w)
	if !ok {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10000\r\n\r\n")
	_, _ = buf.Write(bytes.Repeat([]byte("x"), 5000))
	_ = buf.Flush()
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// faultShortBody promises 1000 bytes, sends 10, and closes cleanly.
func faultShortBody(w http.ResponseWriter, _ *http.Request) {
	conn, buf, ok := hijack(w)
	if !ok {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n0123456789")
	_ = buf.Flush()
	_ = conn.Close()
}

// hijack takes the raw connection, to misbehave below HTTP.
func hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter, bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return nil, nil, false
	}
	conn, buf, err := hj.Hijack()
	return conn, buf, err == nil
}

// faultBig streams mb MiB (default 100) without holding them in memory.
func faultBig(w http.ResponseWriter, r *http.Request) {
	mb, err := strconv.Atoi(r.URL.Query().Get("mb"))
	if err != nil || mb <= 0 {
		mb = 100
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(mb<<20))
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	for range mb * 16 {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

var (
	bombOnce   sync.Once
	bombMember []byte // one gzip member of 1 MiB of zeros
)

// faultGzipBomb sends 1024 gzip members of 1 MiB of zeros each (about
// 1 MiB on the wire): a valid multi-member gzip stream of 1 GiB.
func faultGzipBomb(w http.ResponseWriter, _ *http.Request) {
	bombOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(make([]byte, 1<<20))
		_ = zw.Close()
		bombMember = b.Bytes()
	})
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Encoding", "gzip")
	for range 1024 {
		if _, err := w.Write(bombMember); err != nil {
			return
		}
	}
}

// faultCharset serves a page titled "Café été" in a legacy charset,
// declared by the Content-Type header or by <meta charset>.
func faultCharset(w http.ResponseWriter, r *http.Request) {
	const latin1Title = "Caf\xe9 \xe9t\xe9" // "Café été" in ISO-8859-1
	switch r.PathValue("name") {
	case "latin1-header":
		w.Header().Set("Content-Type", "text/html; charset=ISO-8859-1")
		fmt.Fprintf(w, "<html><head><title>%s</title></head></html>", latin1Title)
	case "latin1-meta":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<html><head><meta charset="iso-8859-1"><title>%s</title></head></html>`, latin1Title)
	case "sjis":
		w.Header().Set("Content-Type", "text/html; charset=Shift_JIS")
		// "日本語のページ" in Shift_JIS.
		fmt.Fprint(w, "<html><head><title>\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x79\x81\x5b\x83\x57</title></head></html>")
	default:
		http.NotFound(w, r)
	}
}

// EncodedPage is the page /fault/encoding/{coding} sends, before encoding.
func EncodedPage(coding string) string {
	return "<html><head><title>Encoded " + coding + `</title></head><body><a href="/fault/encoding/gzip">next</a></body></html>`
}

func faultEncoding(w http.ResponseWriter, r *http.Request) {
	coding := r.PathValue("coding")
	page := []byte(EncodedPage(coding))
	var b bytes.Buffer
	header := coding
	switch coding {
	case "gzip":
		zw := gzip.NewWriter(&b)
		zw.Write(page)
		zw.Close()
	case "deflate":
		zw := zlib.NewWriter(&b)
		zw.Write(page)
		zw.Close()
	case "deflate-raw": // what some servers send as "deflate"
		header = "deflate"
		zw, _ := flate.NewWriter(&b, flate.DefaultCompression)
		zw.Write(page)
		zw.Close()
	case "br":
		zw := brotli.NewWriter(&b)
		zw.Write(page)
		zw.Close()
	case "zstd":
		zw, _ := zstd.NewWriter(&b)
		zw.Write(page)
		zw.Close()
	default:
		b.Write(page)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Encoding", header)
	w.Write(b.Bytes())
}
