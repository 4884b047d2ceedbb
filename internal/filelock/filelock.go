// Package filelock keeps two processes from writing one file at once: an
// advisory lock, taken without waiting and held until the file is closed.
// Two fetchall runs given the same -o each truncated and wrote the file,
// and the records of one overwrote the other's.
package filelock

import (
	"errors"
	"os"
)

// ErrLocked says that another process holds the file's lock.
var ErrLocked = errors.New("the file is being written by another process")

// Lock takes f's exclusive lock without waiting, or returns ErrLocked.
// A file that is not a regular one (a terminal, /dev/null, a pipe) is not
// locked, nor is one on a file system without locks: the lock guards
// against a mistake, it is no reason to refuse a run.
func Lock(f *os.File) error {
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return nil
	}
	raw, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	var held bool
	if err := raw.Control(func(fd uintptr) { held = lockedElsewhere(fd) }); err != nil || !held {
		return nil
	}
	return ErrLocked
}
