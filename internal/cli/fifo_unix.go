//go:build unix

package cli

import (
	"context"
	"os"
	"syscall"
	"time"
)

// openNamedPipe opens a named pipe for reading. The open waits until a
// writer opens the pipe too; if ctx ends first (the user pressed Ctrl-C),
// this process opens the write end itself, which ends that wait, and
// closes both.
func openNamedPipe(ctx context.Context, name string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(name)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-ctx.Done():
	}
	// The write end opens without waiting once a reader is there; until
	// the goroutine's open is under way it fails (ENXIO), so try again,
	// briefly: the open starts within microseconds.
	for range 200 {
		if w, err := os.OpenFile(name, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		select {
		case o := <-done:
			if o.f != nil {
				o.f.Close()
			}
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil, ctx.Err() // the open never started: nothing left to wait for
}
