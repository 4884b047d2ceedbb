package cli

import "github.com/fetchall/fetchall/internal/procstatus"

// peakRSS is the process's peak resident memory in bytes, or 0 if unknown.
//
// It is VmHWM from /proc/self/status, not getrusage's ru_maxrss: Linux
// carries the parent's peak into a child's ru_maxrss through exec (the
// child starts on the parent's memory, as Go's and posix_spawn's vfork
// do), so a fetchall started by a 300 MiB process would report 300 MiB.
func peakRSS() int64 {
	if kib, ok := procstatus.PeakKiB("/proc/self/status"); ok {
		return kib * 1024
	}
	return rusagePeakRSS()
}
