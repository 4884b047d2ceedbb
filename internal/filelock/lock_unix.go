//go:build unix

package filelock

import (
	"errors"

	"golang.org/x/sys/unix"
)

// lockedElsewhere takes fd's lock and says whether another holds it.
func lockedElsewhere(fd uintptr) bool {
	return errors.Is(unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB), unix.EWOULDBLOCK)
}
