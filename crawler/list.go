package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"

	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/urllist"
)

// task is one input entry on its way to a worker; seq orders the output.
type task struct {
	seq   int
	entry urllist.Entry
}

// done is a worker's answer for a task: a result, or nil when the run was
// cancelled before the task started (its slot must still be given back).
type done struct {
	seq    int
	result *Result
}

// FetchList fetches every URL of list with cfg.Workers workers and writes
// one Result per entry to sink. It returns when every goroutine it started
// has exited.
//
// A failed fetch is a Result, not an error. The error is nil after a full
// run; ErrFailFast when FailFast stopped it; ctx's error when ctx ended
// first (results finished by then are still written); or the error that made
// the run impossible to continue (reading the list, writing the sink, saving
// a body).
func FetchList(ctx context.Context, cfg Config, f Fetcher, list *urllist.Reader, sink Sink) error {
	cfg = cfg.withDefaults()
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	tasks := make(chan task, cfg.Workers)
	results := make(chan done, cfg.Workers)
	// A slot is taken before a task is queued and given back when its
	// result leaves the writer: memory stays flat for any list length.
	slots := make(chan struct{}, cfg.window())

	var wg sync.WaitGroup
	var readErr error
	wg.Go(func() {
		defer close(tasks)
		readErr = feed(runCtx, list, tasks, slots)
		if readErr != nil {
			cancel(readErr)
		}
	})
	var workers sync.WaitGroup
	for range cfg.Workers {
		workers.Go(func() {
			for t := range tasks {
				// The writer drains results until they are closed, so this
				// send cannot block forever even after cancellation.
				results <- done{seq: t.seq, result: process(runCtx, cancel, cfg, f, t)}
			}
		})
	}
	wg.Go(func() {
		workers.Wait()
		close(results)
	})

	writeErr := drain(cfg, cancel, results, slots, sink)
	wg.Wait()

	switch cause := context.Cause(runCtx); {
	case writeErr != nil:
		return writeErr
	case readErr != nil:
		return readErr
	case ctx.Err() != nil:
		return ctx.Err()
	case cause != nil && !errors.Is(cause, context.Canceled):
		return cause
	}
	return nil
}

// feed reads list into tasks until it ends or ctx does.
func feed(ctx context.Context, list *urllist.Reader, tasks chan<- task, slots chan struct{}) error {
	for seq := 0; ; seq++ {
		entry, err := list.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read URL list: %w", err)
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		select {
		case tasks <- task{seq: seq, entry: entry}:
		case <-ctx.Done():
			<-slots
			return nil
		}
	}
}

// drain is the single writer: it restores input order when asked,
// applies fail-fast, and keeps receiving until results is closed so that
// no worker is ever stuck on a send.
func drain(cfg Config, cancel context.CancelCauseFunc, results <-chan done, slots <-chan struct{}, sink Sink) error {
	w := newWriter(sink, cancel)
	pending := map[int]*Result{} // ordered mode only; at most window entries
	next, stopped := 0, false
	write := func(r *Result) {
		<-slots
		if r == nil {
			return
		}
		w.write(r)
		if cfg.FailFast && !r.OK && !stopped {
			stopped = true
			cancel(fmt.Errorf("%w: %s", ErrFailFast, describe(r)))
		}
	}
	for {
		var d done
		var ok bool
		select {
		case d, ok = <-results:
		case <-w.due():
			w.flush()
			continue
		}
		if !ok {
			break
		}
		if !cfg.Ordered {
			write(d.result)
			continue
		}
		pending[d.seq] = d.result
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			write(r)
		}
	}
	// After a cancellation some sequence numbers never arrive: write what
	// is left in input order.
	seqs := make([]int, 0, len(pending))
	for seq := range pending {
		seqs = append(seqs, seq)
	}
	sort.Ints(seqs)
	for _, seq := range seqs {
		write(pending[seq])
	}
	return w.close()
}

func describe(r *Result) string {
	if r.Line > 0 {
		return fmt.Sprintf("line %d %s: %s", r.Line, fetch.Redact(r.URL), r.Err)
	}
	return fmt.Sprintf("%s: %s", fetch.Redact(r.URL), r.Err)
}

// process turns one task into a Result, or nil when the run ended before
// the task could start.
func process(ctx context.Context, cancel context.CancelCauseFunc, cfg Config, f Fetcher, t task) *Result {
	if ctx.Err() != nil {
		return nil
	}
	e := t.entry
	if e.Err != nil {
		return &Result{URL: e.URL, Line: e.Line, Err: &fetch.Error{Kind: fetch.KindBadURL, Err: e.Err}}
	}
	keep := func(contentType string) bool { return cfg.Saver != nil || isHTML(contentType) }
	fr := f.Get(ctx, e.URL, keep)
	defer fr.Release()
	r := fromFetch(fr, cfg.Accept)
	r.Line = e.Line
	if fr.Body != nil && isHTML(fr.ContentType) {
		r.Title = extractTitle(fr.Body, fr.ContentType)
	}
	if r.OK {
		save(cfg, cancel, r, fr.Body)
	}
	return r
}

// save stores an ok body when a Saver is set. A failed save is a run
// failure (the user's folder is unwritable), so it cancels the run.
func save(cfg Config, cancel context.CancelCauseFunc, r *Result, body []byte) {
	if cfg.Saver == nil {
		return
	}
	path, err := cfg.Saver.Save(r.URL, r.ContentType, body)
	if err != nil {
		cancel(fmt.Errorf("save body of %s: %w", r.URL, err))
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
	}
	if r.Err == nil && !accept(r.Status) {
		r.Err = &fetch.Error{Kind: fetch.KindHTTPStatus, Err: fmt.Errorf("status %d %s", r.Status, http.StatusText(r.Status))}
	}
	r.OK = r.Err == nil
	return r
}
