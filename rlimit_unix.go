//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// raiseOpenFileLimit lifts the soft limit on open files to the hard limit:
// every request in flight holds a socket, and the usual soft limit of 1024
// is too low for a high --concurrency. It returns the limit now in force.
func raiseOpenFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}

// checkOpenFiles says, before anything is fetched, when concurrency
// cannot fit in the open-file limit, instead of failing request by request.
func checkOpenFiles(concurrency int) error {
	limit, err := raiseOpenFileLimit()
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
