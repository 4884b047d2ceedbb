package testsite

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
)

// RawAnswers are the answers of /fault/raw/{name}: bytes as a broken
// server sends them, below net/http's rules. Each is sent on a connection
// of its own, which is then closed.
var RawAnswers = map[string]string{
	// Read as net/http and curl read them.
	"bare-lf":            "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 5\n\nhello",
	"http10-until-close": "HTTP/1.0 200 OK\nContent-Type: text/plain\n\nhello",
	// Two types: the last one counts, as in browsers.
	"two-content-types": "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\nContent-Length: 16\r\n\r\n<title>T</title>",
	// Not HTTP: error kind protocol.
	"bad-status": "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
	// Three digits, but below 100: fasthttp took 000 for 200, net/http
	// for 0 (an ok record of status 0).
	"status-000":            "HTTP/1.1 000 Zero\r\nContent-Length: 2\r\n\r\nok",
	"status-099":            "HTTP/1.0 099 Low\r\nContent-Length: 2\r\n\r\nok",
	"no-colon":              "HTTP/1.1 200 OK\r\nBad header\r\nContent-Length: 2\r\n\r\nok",
	"two-content-lengths":   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
	"bad-content-length":    "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nok",
	"negative-length":       "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok",
	"bad-encoding":          "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo\r\n\r\nhello",
	"bad-chunk-size":        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
	"chunk-without-crlf":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
	"huge-chunk":            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n",
	"not-http":              "garbage",
	"bad-location":          "HTTP/1.1 302 Found\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n",
	"bad-location-password": "HTTP/1.1 302 Found\r\nLocation: http://admin:s3cret@[::1\r\nContent-Length: 0\r\n\r\n",
	// A chunk cut short: incomplete_body.
	"cut-chunk": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
	// A whole answer on a connection then closed, with no
	// "Connection: close": the client finds that out on its next request.
	"close-after-answer": "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok",
	// No answer at all: the connection is closed.
	"close-unanswered": "",
	// An HTTP/2 server's SETTINGS frame, to a client speaking HTTP/1.1.
	"h2-settings": "\x00\x00\x12\x04\x00\x00\x00\x00\x00",
	// Bytes after the body, which net/http reports on its idle connection.
	"extra-bytes": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
}

// RawNames are the names of RawAnswers, sorted.
func RawNames() []string {
	names := make([]string, 0, len(RawAnswers))
	for name := range RawAnswers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func faultRaw(w http.ResponseWriter, r *http.Request) {
	answer, ok := RawAnswers[r.PathValue("name")]
	if !ok {
		http.Error(w, "no such raw answer; there are: "+strings.Join(RawNames(), ", "), http.StatusNotFound)
		return
	}
	conn, buf, ok := hijack(w)
	if !ok {
		return
	}
	defer conn.Close()
	_, _ = buf.WriteString(answer)
	_ = buf.Flush()
	// A moment before closing, so that bytes after a body reach the
	// client's idle connection rather than a closed one.
	time.Sleep(50 * time.Millisecond)
}

// faultBodyAfterHead answers every request of a kept-alive connection
// with a header promising 5 bytes, which come only just before the next
// answer: the body of a HEAD sent late, as a broken server does.
func faultBodyAfterHead(w http.ResponseWriter, r *http.Request) {
	conn, buf, ok := hijack(w)
	if !ok {
		return
	}
	defer conn.Close()
	leftover := ""
	for range 100 {
		_, _ = buf.WriteString(leftover + "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n")
		if buf.Flush() != nil {
			return
		}
		leftover = "hello"
		if _, err := http.ReadRequest(buf.Reader); err != nil {
			return
		}
	}
}

// Pages compressed twice: labelled in two Content-Encoding lines (gzip,
// then br), or labelled once (a gzip of a gzip).
func init() {
	page := "<html><head><title>Twice</title></head><body>twice</body></html>"
	compress := func(b string, newWriter func(io.Writer) io.WriteCloser) string {
		var out bytes.Buffer
		zw := newWriter(&out)
		_, _ = zw.Write([]byte(b))
		_ = zw.Close()
		return out.String()
	}
	gz := func(b string) string {
		return compress(b, func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
	}
	br := func(b string) string {
		return compress(b, func(w io.Writer) io.WriteCloser { return brotli.NewWriter(w) })
	}
	answer := func(codings []string, body string) string {
		head := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
		for _, c := range codings {
			head += "Content-Encoding: " + c + "\r\n"
		}
		return head + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	RawAnswers["two-content-encodings"] = answer([]string{"gzip", "br"}, br(gz(page)))
	RawAnswers["gzip-twice"] = answer([]string{"gzip"}, gz(gz(page)))
}
