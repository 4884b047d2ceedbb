//go:build linux && !race

package fetch

import (
	"syscall"
	"unsafe"
)

const rawIOSupported = true

func rawWrite(fd uintptr, p []byte) (int, error) { return rawCall(syscall.SYS_WRITE, fd, p) }
func rawRead(fd uintptr, p []byte) (int, error)  { return rawCall(syscall.SYS_READ, fd, p) }

// rawCall is one read or write on the socket, which Go made non-blocking:
// it returns at once, with EAGAIN when the socket is full or empty. So it
// is made raw, without telling the scheduler a call may block: that telling
// (and the scheduler's monitor taking the processor from a loopback write
// that runs long) was about a tenth of a bulk list's CPU. A signal breaking
// in is retried, as internal/poll does. p is never empty.
func rawCall(trap, fd uintptr, p []byte) (int, error) {
	for {
		n, _, errno := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if errno == 0 {
			return int(n), nil
		}
		if errno != syscall.EINTR {
			return 0, errno
		}
	}
}
