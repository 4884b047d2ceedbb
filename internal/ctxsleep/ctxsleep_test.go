package ctxsleep

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// The whole wait passes unless the context ends first; an ended context
// makes even a zero wait fail.
func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if !Sleep(t.Context(), 3*time.Second) || time.Since(start) != 3*time.Second {
			t.Errorf("a 3s sleep took %s or failed", time.Since(start))
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start = time.Now()
		if Sleep(ctx, time.Minute) || time.Since(start) != time.Second {
			t.Errorf("a sleep cut by a 1s deadline took %s or passed", time.Since(start))
		}
		if Sleep(ctx, 0) || !Sleep(t.Context(), 0) {
			t.Error("a zero sleep ignored the context's state")
		}
	})
}
