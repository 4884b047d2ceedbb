//go:build !linux

package testsite

import (
	"context"
	"time"
)

// sleep waits d, or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool { return sleepTimer(ctx, d) }
