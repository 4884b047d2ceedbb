package filelock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A second open of a locked file cannot lock it until the first is
// closed; a file that is not regular is never refused.
func TestLockIsExclusiveUntilClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	first, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := Lock(first); err != nil {
		t.Fatalf("first lock: %v", err)
	}
	if err := Lock(second); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock while the first is held: %v, want ErrLocked", err)
	}
	first.Close()
	if err := Lock(second); err != nil {
		t.Errorf("second lock once the first is closed: %v", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	other, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if Lock(null) != nil || Lock(other) != nil {
		t.Error("a device was locked")
	}
}
