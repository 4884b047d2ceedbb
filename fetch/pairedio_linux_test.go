package fetch

import (
	"net"
	"syscall"
	"testing"
)

// A request the socket cannot take at once (small buffers on both ends,
// a server that reads only after a while) is finished the usual way, under
// the write deadline, before its answer is read.
func TestPairedRequestTheSocketCannotTakeAtOnce(t *testing.T) {
	smallReceiveBuffer := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2<<10)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	if pio := pairedRequestArrivesWhole(t, smallReceiveBuffer, []int{maxPending}); !pio.blocked {
		t.Error("the whole request went at once: the case under test did not arise")
	}
}
