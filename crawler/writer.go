package crawler

import (
	"context"
	"fmt"
	"time"
)

// flushEvery is the longest a written record waits in the sink's buffer.
const flushEvery = 20 * time.Millisecond

// writer is the engine's single owner of the Sink. It flushes on a timer
// rather than after every record, which keeps output prompt (a record waits
// at most flushEvery) at a handful of writes a second. After the first
// write error it drops everything and cancels the run.
type writer struct {
	sink   Sink
	cancel context.CancelCauseFunc
	timer  *time.Timer
	armed  bool
	err    error
}

func newWriter(sink Sink, cancel context.CancelCauseFunc) *writer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &writer{sink: sink, cancel: cancel, timer: t}
}

// write hands r to the sink and arms the flush timer.
func (w *writer) write(r *Result) {
	if w.err != nil {
		return
	}
	if err := w.sink.Write(r); err != nil {
		w.fail(err)
		return
	}
	if !w.armed {
		w.timer.Reset(flushEvery)
		w.armed = true
	}
}

// due is the channel on which the flush timer fires; select on it and
// call flush.
func (w *writer) due() <-chan time.Time { return w.timer.C }

func (w *writer) flush() {
	w.armed = false
	if w.err != nil {
		return
	}
	if err := w.sink.Flush(); err != nil {
		w.fail(err)
	}
}

// close flushes what is left and stops the timer.
func (w *writer) close() error {
	w.timer.Stop()
	w.flush()
	return w.err
}

func (w *writer) fail(err error) {
	w.err = fmt.Errorf("write output: %w", err)
	w.cancel(w.err)
}
