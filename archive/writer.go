//go:build linux || darwin || windows

package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	warc "github.com/internetarchive/gowarc"

	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/filelock"
)

// Writer writes exchanges to a WARC file, starting a new file when one
// reaches its maximum size. It is safe for concurrent use. Each record
// is written whole before the next begins, so a run that stops leaves a
// valid archive.
type Writer struct {
	path    string // as asked: out.warc.gz
	maxSize int64  // 0: one file
	info    map[string]string
	onError func(error)

	mu      sync.Mutex
	file    *os.File
	counted *countingWriter
	w       *warc.Writer
	serial  int
	files   []string
	records int
	err     error
}

// ErrNotWarcGz is Create's answer to a file name that does not end in
// .warc.gz: the archive is written gzip-compressed, a member a record.
var ErrNotWarcGz = errors.New("the archive is written gzip-compressed, one member a record, as WARC readers expect: name it FILE.warc.gz")

// Create starts an archive at path (which should end in .warc.gz), or
// adds to it: an archive already there is never overwritten (a resumed
// run, or the same command run again, appends its records after a new
// warcinfo record). maxSize > 0 rotates: path's name gets a serial,
// out-00000.warc.gz, out-00001.warc.gz..., a run starts after the last
// file already there, and a file is closed once it passes maxSize. info
// is the warcinfo record each file starts with. onError, when set, hears
// the first write error; the archive writes nothing after it.
func Create(path string, maxSize int64, info map[string]string, onError func(error)) (*Writer, error) {
	if err := checkName(path); err != nil {
		return nil, err
	}
	w := &Writer{path: path, maxSize: maxSize, info: info, onError: onError}
	w.skipExisting()
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

// Check says, writing nothing, whether Create(path, maxSize, ...) can
// succeed: the name, a folder the file can be made in, and no other
// process writing it. A run checks before it opens its outputs, which it
// empties: an archive refused after that had cost the output its records.
// A file made for the probe is removed.
func Check(path string, maxSize int64) error {
	if err := checkName(path); err != nil {
		return err
	}
	w := &Writer{path: path, maxSize: maxSize}
	w.skipExisting()
	name := w.fileName()
	fi, statErr := os.Stat(name)
	if statErr == nil && !fi.Mode().IsRegular() {
		return nil // a device: nothing to make or lock
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("warc: %w", err)
	}
	lockErr := filelock.Lock(f)
	f.Close()
	if errors.Is(statErr, fs.ErrNotExist) {
		_ = os.Remove(name)
	}
	if lockErr != nil {
		return fmt.Errorf("warc %s: %w (a fetchall still running with the same --warc?)", name, lockErr)
	}
	return nil
}

// checkName refuses a file name that does not end in .warc.gz. Every
// record is a gzip member: a file named .warc (or anything else) held
// gzip that tools taking the name at its word could not read. A device
// (/dev/null) is no name to go by.
func checkName(path string) error {
	if fi, err := os.Stat(path); (err == nil && fi.Mode().IsRegular()) || errors.Is(err, fs.ErrNotExist) {
		if !strings.HasSuffix(strings.ToLower(path), ".warc.gz") {
			return fmt.Errorf("warc %s: %w", path, ErrNotWarcGz)
		}
	}
	return nil
}

// skipExisting moves a rotating archive past the files already there.
func (w *Writer) skipExisting() {
	if w.maxSize <= 0 {
		return
	}
	for {
		if _, err := os.Stat(w.fileName()); err != nil {
			return
		}
		w.serial++
	}
}

// fileName is the name of file number serial.
func (w *Writer) fileName() string {
	if w.maxSize <= 0 {
		return w.path
	}
	stem, ext := w.path, ""
	for _, e := range []string{".warc.gz", ".warc"} {
		if s, ok := strings.CutSuffix(w.path, e); ok {
			stem, ext = s, e
			break
		}
	}
	return fmt.Sprintf("%s-%05d%s", stem, w.serial, ext)
}

// open starts the next file with its warcinfo record.
func (w *Writer) open() error {
	name := w.fileName()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("warc: %w", err)
	}
	if err := filelock.Lock(f); err != nil {
		f.Close()
		return fmt.Errorf("warc %s: %w (a fetchall still running with the same --warc?)", name, err)
	}
	w.file, w.counted = f, &countingWriter{w: f}
	if info, err := f.Stat(); err == nil {
		w.counted.n = info.Size()
	}
	if w.w, err = warc.NewWriter(w.counted, filepath.Base(name), warc.SHA1, warc.CompressionGzip, true, nil); err != nil {
		f.Close()
		return fmt.Errorf("warc: %w", err)
	}
	w.files = append(w.files, name)
	if _, err := w.w.WriteInfoRecord(w.info); err != nil {
		f.Close()
		return fmt.Errorf("warc %s: %w", name, err)
	}
	w.w.Reset(w.counted)
	return nil
}

// write writes one record as its own gzip member. gowarc closes the
// compressor after a record; Reset starts the next member afresh (a write
// after Close is not something every gzip writer allows).
func (w *Writer) write(r *warc.Record) (string, error) {
	id, err := w.w.WriteRecord(r)
	w.w.Reset(w.counted)
	if err != nil {
		return "", fmt.Errorf("warc %s: %w", w.files[len(w.files)-1], err)
	}
	return id, nil
}

// cutBack ends the file at start, where an exchange that could not be
// written whole began, and returns err. A record cut short (a full disk)
// is a broken gzip member no reader gets past, and a response without
// its request is half an exchange.
func (w *Writer) cutBack(start int64, err error) error {
	if w.file.Truncate(start) == nil {
		w.counted.n = start
	}
	return err
}

// Record writes an exchange: its response record, then its request
// record pointing to it. Credentials in the request (Authorization,
// Cookie, a URL's password) and the cookies the response sets are
// masked: an archive is shared.
func (w *Writer) Record(x *fetch.Exchange) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	if err := w.record(x); err != nil {
		w.err = err
		if w.onError != nil {
			w.onError(err)
		}
	}
}

func (w *Writer) record(x *fetch.Exchange) error {
	if w.maxSize > 0 && w.counted.n >= w.maxSize {
		if err := w.closeFile(); err != nil {
			return err
		}
		w.serial++
		if err := w.open(); err != nil {
			return err
		}
	}
	start := w.counted.n
	target := fetch.Redact(x.Request.URL.String())
	date := x.Started.UTC().Format(time.RFC3339Nano)

	resp := warc.NewRecord("", false)
	resp.Header.Set("WARC-Type", "response")
	resp.Header.Set("WARC-Target-URI", target)
	resp.Header.Set("WARC-Date", date)
	resp.Header.Set("Content-Type", "application/http; msgtype=response")
	if x.RemoteIP != "" {
		resp.Header.Set("WARC-IP-Address", x.RemoteIP)
	}
	if !x.Complete {
		resp.Header.Set("WARC-Truncated", "length")
	}
	// HTTP/2 has no text form: its messages are written as HTTP/1.1, as
	// WARC readers expect, and the protocol is said in WARC-Protocol (the
	// IIPC proposal StormCrawler and Nutch write).
	h2 := x.Response.ProtoMajor == 2
	if h2 {
		resp.Header.Set("WARC-Protocol", "h2")
	}
	if digest, err := warc.GetDigest(bytes.NewReader(x.Body), warc.SHA1); err == nil {
		resp.Header.Set("WARC-Payload-Digest", digest)
	}
	if _, err := resp.Content.Write(responseHead(x.Response)); err != nil {
		return err
	}
	if _, err := resp.Content.Write(x.Body); err != nil {
		return err
	}
	id, err := w.write(resp)
	if err != nil {
		return w.cutBack(start, err)
	}

	req := warc.NewRecord("", false)
	req.Header.Set("WARC-Type", "request")
	req.Header.Set("WARC-Target-URI", target)
	req.Header.Set("WARC-Date", date)
	req.Header.Set("WARC-Concurrent-To", "<urn:uuid:"+id+">")
	req.Header.Set("Content-Type", "application/http; msgtype=request")
	if h2 {
		req.Header.Set("WARC-Protocol", "h2")
	}
	if _, err := req.Content.Write(requestHead(x.Request)); err != nil {
		return err
	}
	if _, err := w.write(req); err != nil {
		return w.cutBack(start, err)
	}
	w.records += 2
	return nil
}

// responseHead is the response's status line and header as received
// (in HTTP/1.1's form for HTTP/2; Go keeps Transfer-Encoding aside, and the body is stored unchunked),
// the values of the cookies it sets masked: they are what the requests
// then send as Cookie, which is masked too.
func responseHead(r *http.Response) []byte {
	var b bytes.Buffer
	proto := r.Proto
	if r.ProtoMajor >= 2 {
		proto = "HTTP/1.1" // see record
	}
	fmt.Fprintf(&b, "%s %s\r\n", proto, r.Status)
	h := r.Header
	if len(h["Set-Cookie"]) > 0 || len(h["Set-Cookie2"]) > 0 {
		h = h.Clone()
		for _, k := range []string{"Set-Cookie", "Set-Cookie2"} {
			for i, v := range h[k] {
				h[k][i] = maskCookieValue(v)
			}
		}
	}
	_ = h.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

// maskCookieValue masks the value of a Set-Cookie line and keeps its
// name and attributes: "sid=abc; Path=/" is "sid=xxxxx; Path=/".
func maskCookieValue(v string) string {
	pair, attrs, hasAttrs := strings.Cut(v, ";")
	name, _, hasValue := strings.Cut(pair, "=")
	if !hasValue {
		return "xxxxx"
	}
	if hasAttrs {
		return name + "=xxxxx;" + attrs
	}
	return name + "=xxxxx"
}

// requestHead is the request line and header as sent, credentials
// masked.
func requestHead(r *http.Request) []byte {
	var b bytes.Buffer
	u := *r.URL
	u.User = nil
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", r.Method, u.RequestURI())
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	fmt.Fprintf(&b, "Host: %s\r\n", host)
	h := r.Header.Clone()
	for k := range h {
		if fetch.IsCredential(k) {
			h[k] = []string{"xxxxx"}
		}
	}
	_ = h.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

func (w *Writer) closeFile() error {
	if w.file == nil {
		return nil
	}
	err := w.file.Close()
	w.file = nil
	if err != nil {
		return fmt.Errorf("warc: %w", err)
	}
	return nil
}

// Close ends the archive; it returns the first error the archive met.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.closeFile()
	return errors.Join(w.err, err)
}

// Files are the files written, in order.
func (w *Writer) Files() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.files...)
}

// Records is how many records were written, warcinfo records aside.
func (w *Writer) Records() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.records
}

// countingWriter counts what reaches the file, for rotation.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
