package crawler

import (
	"context"
	"sync"
)

// readWindow bounds how far the reader reads ahead of what has been
// written: size tasks at most. A full window lets the reader go on only
// once an eighth of it is free again, so that on a bulk list the reader
// reads lines in runs rather than one each time a record is written: as a
// semaphore of one slot a task, it woke (and slept) once a URL.
type readWindow struct {
	mu     sync.Mutex
	used   int
	size   int
	resume chan struct{} // made by a reader waiting on a full window; closed when it may go on
}

func newReadWindow(size int) *readWindow {
	return &readWindow{size: max(size, 1)}
}

// acquire takes a place in the window, waiting while it is full; false
// when ctx ended first.
func (w *readWindow) acquire(ctx context.Context) bool {
	for {
		w.mu.Lock()
		if w.used < w.size && w.resume == nil {
			w.used++
			w.mu.Unlock()
			return true
		}
		if w.resume == nil {
			w.resume = make(chan struct{})
		}
		resume := w.resume
		w.mu.Unlock()
		select {
		case <-resume:
		case <-ctx.Done():
			return false
		}
	}
}

// release gives a place back, if one is taken, and lets a waiting reader
// go on once an eighth of the window is free.
func (w *readWindow) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.used > 0 {
		w.used--
	}
	if w.resume != nil && w.used <= w.size-max(w.size/8, 1) {
		close(w.resume)
		w.resume = nil
	}
}
