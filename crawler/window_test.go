package crawler

import (
	"context"
	"testing"
	"testing/synctest"
)

// A full window holds the reader back until an eighth of it is free, then
// lets it read a run; an ended context frees it at once.
func TestReadWindowResumesAtAnEighthFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newReadWindow(16)
		for range 16 {
			if !w.acquire(t.Context()) {
				t.Fatal("a place in a window that is not full was refused")
			}
		}
		got := make(chan bool, 1)
		go func() { got <- w.acquire(t.Context()) }()
		synctest.Wait()
		w.release()
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("the reader went on with one place of 16 free, want two (an eighth)")
		default:
		}
		w.release()
		synctest.Wait()
		if ok := <-got; !ok {
			t.Fatal("the reader was refused with an eighth of the window free")
		}
		if w.used != 15 {
			t.Errorf("%d places used, want 15", w.used)
		}

		for w.used < 16 {
			w.acquire(t.Context())
		}
		ctx, cancel := context.WithCancel(t.Context())
		go func() { got <- w.acquire(ctx) }()
		synctest.Wait()
		cancel()
		if ok := <-got; ok {
			t.Error("a reader whose context ended got a place in a full window")
		}
	})
}
