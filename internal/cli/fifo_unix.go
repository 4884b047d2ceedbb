//go:build unix

package cli

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"
)

// openNamedPipe opens a named pipe for reading, or for writing. The open
// waits until the other end is opened too; if ctx ends first (the user
// pressed Ctrl-C), this process opens that other end itself, which ends
// the wait, closes both, and says the run was interrupted.
func openNamedPipe(ctx context.Context, name string, write bool) (*os.File, error) {
	flag, other, partner := os.O_RDONLY, os.O_WRONLY, "writer"
	if write {
		flag, other, partner = os.O_WRONLY, os.O_RDONLY, "reader"
	}
	interrupted := fmt.Errorf("%w while %s, a named pipe, waited for a %s", errInterrupted, name, partner)
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(name, flag, 0)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-ctx.Done():
	}
	// A non-blocking open of the other end ends the wait once the
	// goroutine's open is under way (a write end fails with ENXIO until
	// then), so it is tried again, briefly: that open starts within
	// microseconds.
	for range 200 {
		if f, err := os.OpenFile(name, other|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		select {
		case o := <-done:
			if o.f != nil {
				o.f.Close()
			}
			return nil, interrupted
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil, interrupted // the open never started: nothing left to wait for
}
