// Package samefile says whether two paths name one file, for the checks
// that refuse a run writing where it reads or writing one file twice.
package samefile

import (
	"os"
	"path/filepath"
)

// Same says whether a and b name one file: spelled alike once made
// absolute (neither need exist yet), or one existing file by device and
// inode, through any link. A device is never the same file: /dev/null
// takes any number of writers, and a terminal is read and written at once.
func Same(a, b string) bool {
	if isDevice(a) || isDevice(b) {
		return false
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	infoA, errA := os.Stat(a)
	infoB, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(infoA, infoB)
}

func isDevice(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode()&os.ModeDevice != 0
}
