//go:build linux || darwin || windows

package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/fetchall/fetchall/fetch"
	warc "github.com/internetarchive/gowarc"
)

// ErrNotArchived is a replayed request the archives do not answer.
var ErrNotArchived = fetch.ErrNotArchived

// Replay answers requests from WARC files instead of the network: an
// http.RoundTripper. It keeps an index of response records in memory
// (a URL and an offset each) and reads a record when it is asked for.
type Replay struct {
	files []string
	index map[string]location // by WARC-Target-URI; the last response wins
	// Damaged says, for each archive that ends in a damaged record (cut
	// short by a crash or a full disk), where; what came before it is
	// replayed.
	Damaged []string
}

type location struct {
	file   int
	offset int64
	h2     bool // WARC-Protocol: h2, the message written as HTTP/1.1
}

// OpenReplay indexes the response records of the archives.
func OpenReplay(paths ...string) (*Replay, error) {
	r := &Replay{files: paths, index: map[string]location{}}
	for i, path := range paths {
		if err := r.indexFile(i, path); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *Replay) indexFile(i int, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	rd, err := warc.NewReader(f)
	if err != nil {
		return fmt.Errorf("replay %s: %w", path, err)
	}
	defer rd.Close()
	for n := 0; ; n++ {
		readingRecord.Lock()
		rec, err := rd.ReadRecord(warc.ReadOptsNoContentOutput)
		readingRecord.Unlock()
		if errors.Is(err, io.EOF) && n == 0 {
			return fmt.Errorf("replay %s: no WARC record in it", path)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && n == 0 {
			return fmt.Errorf("replay %s: not a WARC file, or a damaged one: %w", path, err)
		}
		if err != nil {
			first, those := fmt.Sprintf("its first %d records", n), "those are"
			if n == 1 {
				first, those = "its first record", "it is"
			}
			r.Damaged = append(r.Damaged, fmt.Sprintf("%s is damaged after %s (%v): %s replayed", path, first, err, those))
			return nil
		}
		if rec.Header.Get("WARC-Type") == "response" {
			r.index[rec.Header.Get("WARC-Target-URI")] = location{file: i, offset: rec.Offset, h2: rec.Header.Get("WARC-Protocol") == "h2"}
		}
		if rec.Content != nil {
			rec.Content.Close()
		}
	}
}

// Len is how many URLs the archives answer.
func (r *Replay) Len() int { return len(r.index) }

// RoundTrip answers req with the archived response for its URL.
func (r *Replay) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	loc, ok := r.index[req.URL.String()]
	if !ok {
		return nil, ErrNotArchived // the record names the URL
	}
	block, err := r.read(loc)
	if err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(block)), req)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", req.URL.Redacted(), err)
	}
	if loc.h2 {
		resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/2.0", 2, 0 // as it came
	}
	// The archived body may have been cut short (WARC-Truncated): keep
	// what there is.
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("replay %s: %w", req.URL.Redacted(), err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// readingRecord serialises gowarc's ReadRecord across readers: in
// v0.8.101 it parses a record's header in a buffer it has already put
// back in a package-wide sync.Pool, so two replayed fetches at once could
// read each other's headers (the race detector caught it). The record's
// content is read outside the lock.
var readingRecord sync.Mutex

// read returns the block (the HTTP message) of the record at loc.
func (r *Replay) read(loc location) ([]byte, error) {
	f, err := os.Open(r.files[loc.file])
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(loc.offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	rd, err := warc.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer rd.Close()
	readingRecord.Lock()
	rec, err := rd.ReadRecord()
	readingRecord.Unlock()
	if err != nil {
		return nil, fmt.Errorf("replay %s at %d: %w", r.files[loc.file], loc.offset, err)
	}
	defer rec.Content.Close()
	return io.ReadAll(rec.Content)
}
