//go:build linux && !race

package fetch

import (
	"syscall"
	"unsafe"
)

const rawIOSupported = true

// rawWrite and rawRead are one system call each on the socket, which Go
// made non-blocking: they return at once, with EAGAIN when the socket is
// full or empty. So they are made raw, without telling the scheduler a
// call may block: that telling (and the scheduler's monitor taking the
// processor from a loopback write that runs long) was about a tenth of a
// bulk list's CPU. A signal breaking in is retried, as internal/poll does.
func rawWrite(fd uintptr, p []byte) (int, error) {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if errno == 0 {
			return int(n), nil
		}
		if errno != syscall.EINTR {
			return 0, errno
		}
	}
}

func rawRead(fd uintptr, p []byte) (int, error) {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if errno == 0 {
			return int(n), nil
		}
		if errno != syscall.EINTR {
			return 0, errno
		}
	}
}
