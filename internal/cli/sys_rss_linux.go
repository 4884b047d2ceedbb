package cli

import (
	"bytes"
	"os"
	"strconv"
)

// peakRSS is the process's peak resident memory in bytes, or 0 if unknown.
//
// It is VmHWM from /proc/self/status, not getrusage's ru_maxrss: Linux
// carries the parent's peak into a child's ru_maxrss through exec (the
// child starts on the parent's memory, as Go's and posix_spawn's vfork
// do), so a fetchall started by a 300 MiB process would report 300 MiB.
func peakRSS() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return rusagePeakRSS()
	}
	if kib, ok := statusKiB(status, "VmHWM:"); ok {
		return kib * 1024
	}
	return rusagePeakRSS()
}

// statusKiB reads a "Name:   123 kB" line of /proc/PID/status.
func statusKiB(status []byte, name string) (int64, bool) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte(name))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0, false
		}
		n, err := strconv.ParseInt(string(fields[0]), 10, 64)
		return n, err == nil
	}
	return 0, false
}
