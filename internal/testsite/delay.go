package testsite

import (
	"context"
	"time"
)

// sleepTimer waits d on a Go timer, or until ctx ends; it reports whether d
// passed. Go's timers wake through the poller's millisecond timeout, so
// under load they come up to a millisecond late.
func sleepTimer(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
