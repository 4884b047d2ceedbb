//go:build unix

package cli

import (
	"fmt"
	"syscall"
)

// openFileLimit is the soft limit on open files now in force. Go's runtime
// already lifts it to the hard limit at start-up (since Go 1.19), so there
// is nothing left to raise, only to read.
func openFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return uint64(lim.Cur), nil //nolint:unconvert // int64 on some systems
}

// checkOpenFiles says, before anything is fetched, when concurrency
// cannot fit in the open-file limit, instead of failing request by request.
func checkOpenFiles(concurrency int) error {
	limit, err := openFileLimit()
	if err != nil {
		return nil // cannot tell: let the requests speak
	}
	// One socket per request in flight, a few per host for robots.txt and
	// idle connections, and room for the files fetchall itself opens.
	need := uint64(concurrency) + 64
	if need > limit {
		return fmt.Errorf("--concurrency %d needs about %d open files, but the limit is %d (raise it with ulimit -n)", concurrency, need, limit)
	}
	return nil
}

// rusagePeakRSS is the peak resident memory getrusage reports, in bytes,
// or 0 if unknown.
func rusagePeakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Maxrss) * maxrssUnit //nolint:unconvert // int32 on some systems
}
