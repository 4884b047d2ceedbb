// Package warctest reads WARC files for tests, independently of the
// library fetchall writes them with: written from the WARC 1.1 text, it
// checks what the format requires of every record.
package warctest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Record is a WARC record as Read sees it.
type Record struct {
	Header map[string]string
	Block  []byte
}

// Read reads a WARC file of gzip members, checking what the
// format requires: every member one record, the version line, a
// Content-Length that is the block's length, the two CRLFs that end it.
func Read(t testing.TB, path string) []Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var out []Record
	for range 10000 {
		if _, err := br.Peek(1); err == io.EOF {
			return out
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatalf("%s: record %d is not a gzip member: %v", path, len(out), err)
		}
		zr.Multistream(false)
		member, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: record %d: %v", path, len(out), err)
		}
		head, rest, ok := bytes.Cut(member, []byte("\r\n\r\n"))
		lines := strings.Split(string(head), "\r\n")
		if !ok || lines[0] != "WARC/1.1" {
			t.Fatalf("%s: record %d starts %q", path, len(out), lines[0])
		}
		rec := Record{Header: map[string]string{}}
		for _, l := range lines[1:] {
			k, v, ok := strings.Cut(l, ": ")
			if !ok {
				t.Fatalf("%s: record %d: header line %q", path, len(out), l)
			}
			rec.Header[k] = v
		}
		n, err := strconv.Atoi(rec.Header["Content-Length"])
		if err != nil || len(rest) != n+4 || !bytes.HasSuffix(rest, []byte("\r\n\r\n")) {
			t.Fatalf("%s: record %d: Content-Length %q for a block of %d bytes", path, len(out), rec.Header["Content-Length"], len(rest)-4)
		}
		for _, k := range []string{"WARC-Type", "WARC-Date", "WARC-Record-ID"} {
			if rec.Header[k] == "" {
				t.Fatalf("%s: record %d lacks %s: %v", path, len(out), k, rec.Header)
			}
		}
		rec.Block = rest[:n]
		out = append(out, rec)
	}
	t.Fatal("too many records")
	return nil
}
