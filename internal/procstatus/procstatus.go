// Package procstatus reads Linux's /proc/PID/status, where a process's
// peak resident memory (VmHWM) is its own, unlike getrusage's after an
// exec.
package procstatus

import (
	"bytes"
	"os"
	"strconv"
)

// KiB reads a "Name:   123 kB" line of a status file's text; name ends
// in its colon ("VmHWM:").
func KiB(status []byte, name string) (int64, bool) {
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

// PeakKiB is the peak resident memory (VmHWM) of the process whose status
// file is at path ("/proc/self/status"), in KiB.
func PeakKiB(path string) (int64, bool) {
	status, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	return KiB(status, "VmHWM:")
}
