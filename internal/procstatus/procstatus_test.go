package procstatus

import (
	"os"
	"path/filepath"
	"testing"
)

func TestKiB(t *testing.T) {
	status := []byte("Name:\tfetchall\nVmPeak:\t  812340 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   20000 kB\n")
	if n, ok := KiB(status, "VmHWM:"); !ok || n != 23456 {
		t.Errorf("VmHWM = %d, %v; want 23456", n, ok)
	}
	if _, ok := KiB(status, "VmSwap:"); ok {
		t.Error("a missing line was read")
	}
	if _, ok := KiB([]byte("VmHWM:\t12 MB\n"), "VmHWM:"); ok {
		t.Error("a line in another unit was read")
	}
}

func TestPeakKiB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	if err := os.WriteFile(path, []byte("VmHWM:\t  77 kB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, ok := PeakKiB(path); !ok || n != 77 {
		t.Errorf("PeakKiB = %d, %v; want 77", n, ok)
	}
	if _, ok := PeakKiB(filepath.Join(t.TempDir(), "none")); ok {
		t.Error("a missing file was read")
	}
}
