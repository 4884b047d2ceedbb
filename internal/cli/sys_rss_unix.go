//go:build unix && !linux

package cli

// peakRSS is the process's peak resident memory in bytes, or 0 if unknown.
func peakRSS() int64 { return rusagePeakRSS() }
