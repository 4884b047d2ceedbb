//go:build !unix

package cli

import "errors"

// errNoOpenFileLimit says that this system has no open-file limit to read.
var errNoOpenFileLimit = errors.New("no open-file limit on this system")

// openFileLimit is unknown here: sockets are not counted as open files.
func openFileLimit() (uint64, error) { return 0, errNoOpenFileLimit }

func checkOpenFiles(int) error { return nil }

// peakRSS is unknown here; the summary then leaves the memory line out.
func peakRSS() int64 { return 0 }
