// Package samefile says whether two paths name one file, for the checks
// that refuse a run writing where it reads or writing one file twice.
package samefile

import (
	"os"
	"path/filepath"
)

// Same says whether a and b name one file: spelled alike once made
// absolute (neither need exist yet), or one existing file by device and
// inode, through any link.
func Same(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	infoA, errA := os.Stat(a)
	infoB, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(infoA, infoB)
}
