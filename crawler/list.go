package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/fetchall/fetchall/fetch"
)

// FetchList fetches every URL of list with cfg.Workers workers and writes
// one Result per line to sink: Run with the list as its source, discovering
// nothing. Its error follows Run's rules.
func FetchList(ctx context.Context, cfg Config, f Fetcher, list Source, sink Sink) error {
	_, err := Run(ctx, CrawlConfig{Config: cfg, MaxDepth: 0}, f, list, nil, sink)
	return err
}

// ctxReader reads from r in a helper goroutine so that a Read can return
// when ctx ends even if r blocks (a pipe nobody writes to). The helper then
// finishes when r's read does; for an idle standard input, that is when
// the process exits. Reads that do not block cost one goroutine per
// buffer-full, nothing per line.
type ctxReader struct {
	r   io.Reader
	ctx context.Context
}

type readResult struct {
	n   int
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if c.ctx == nil {
		return c.r.Read(p)
	}
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	buf := make([]byte, len(p)) // the helper may outlive this call
	done := make(chan readResult, 1)
	go func() {
		n, err := c.r.Read(buf)
		done <- readResult{n, err}
	}()
	select {
	case res := <-done:
		return copy(p, buf[:res.n]), res.err
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}

// save stores an ok body when a Saver is set. A failed save is a run
// failure (the user's folder is unwritable), so it cancels the run.
func save(cfg Config, cancel context.CancelCauseFunc, r *Result, body []byte) {
	if cfg.Saver == nil {
		return
	}
	path, err := cfg.Saver.Save(r.URL, r.ContentType, body)
	if err != nil {
		// The record says the body was not saved; the run stops, for the
		// next bodies would not be saved either.
		r.OK = false
		r.Err = &fetch.Error{Kind: fetch.KindSave, Err: fmt.Errorf("body not saved: %w", err)}
		cancel(fmt.Errorf("save body of %s: %w", fetch.Redact(r.URL), err))
		return
	}
	r.SavedPath = path
}

// fromFetch copies a fetch result into a Result, applying the status policy.
func fromFetch(fr *fetch.Result, accept func(int) bool) *Result {
	r := &Result{
		URL:         fr.URL,
		FinalURL:    fr.FinalURL,
		Status:      fr.Status,
		ContentType: fr.ContentType,
		Bytes:       fr.Bytes,
		Truncated:   fr.Truncated,
		Duration:    fr.Duration,
		Attempts:    fr.Attempts,
		Err:         fr.Err,
		Details:     fr.Details,
	}
	if fr.Details != nil {
		// Only a traced fetch's record has header fields; others let the
		// header go now (a crawl may hold records for a while).
		r.Header = fr.Header
	}
	if r.Err == nil && !accept(r.Status) {
		r.Err = &fetch.Error{Kind: fetch.KindHTTPStatus, Err: errors.New(strings.TrimSpace(fmt.Sprintf("status %d %s", r.Status, http.StatusText(r.Status))))} // a status Go has no name for: no space after it
	}
	r.OK = r.Err == nil
	return r
}
