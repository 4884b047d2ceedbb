package testsite

import "github.com/fetchall/fetchall/internal/ctxsleep"

// sleepTimer waits d on a Go timer, or until ctx ends; it reports whether d
// passed. Go's timers wake through the poller's millisecond timeout, so
// under load they come up to a millisecond late.
var sleepTimer = ctxsleep.Sleep
