// Package ctxsleep waits for a duration or for a context to end, which a
// retry's backoff and the test site's latency both need.
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx ends, and reports whether the whole of d
// passed. A d of zero or less passes at once unless ctx has ended.
func Sleep(ctx context.Context, d time.Duration) bool {
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
