package testsite

import (
	"context"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// sleep waits d, or until ctx ends, and reports whether d passed.
//
// The site's latency is the yardstick of the crawl benchmarks, so it must be
// what it says: a Go timer of 10 ms fires after 10.3 ms on an idle machine
// and after up to 11 ms with a few dozen timers pending, because the runtime
// sleeps in epoll_wait with a timeout in whole milliseconds. A timerfd is an
// event the poller sees at its expiry, to a few microseconds.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 { // a zero timerfd is a disarmed one
		return ctx.Err() == nil
	}
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return sleepTimer(ctx, d)
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(fd, 0, &spec, nil); err != nil {
		_ = unix.Close(fd)
		return sleepTimer(ctx, d)
	}
	timer := os.NewFile(uintptr(fd), "latency timer")
	defer timer.Close()
	// A deadline in the past wakes the read below at once when the client leaves.
	stop := context.AfterFunc(ctx, func() { _ = timer.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var expirations [8]byte
	_, err = timer.Read(expirations[:])
	return err == nil
}
