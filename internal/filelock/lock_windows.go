//go:build windows

package filelock

import (
	"errors"

	"golang.org/x/sys/windows"
)

// lockedElsewhere takes fd's lock and says whether another holds it.
func lockedElsewhere(fd uintptr) bool {
	err := windows.LockFileEx(windows.Handle(fd), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY,
		0, 1, 0, new(windows.Overlapped))
	return errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}
