//go:build linux && race

package fetch

import "syscall"

const rawIOSupported = true

// Under the race detector the same system calls go through package
// syscall, which tells the detector that a read follows the write it
// reads (as net's own reads and writes do): raw calls would leave a test's
// server and client unordered, and every such test racy.
func rawWrite(fd uintptr, p []byte) (int, error) { return retryInterrupted(syscall.Write, fd, p) }
func rawRead(fd uintptr, p []byte) (int, error)  { return retryInterrupted(syscall.Read, fd, p) }

func retryInterrupted(call func(int, []byte) (int, error), fd uintptr, p []byte) (int, error) {
	for {
		n, err := call(int(fd), p)
		if err != syscall.EINTR {
			return max(n, 0), err
		}
	}
}
