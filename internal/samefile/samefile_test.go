package samefile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSame(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{file, file, true},
		{file, filepath.Join(dir, ".", "a.txt"), true},
		{file, link, true},
		{filepath.Join(dir, "new"), filepath.Join(dir, "new"), true}, // neither exists yet
		{file, filepath.Join(dir, "other"), false},
		{filepath.Join(dir, "new"), filepath.Join(dir, "new2"), false},
	} {
		if got := Same(tt.a, tt.b); got != tt.want {
			t.Errorf("Same(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// A device takes any number of writers: -o /dev/null --warc /dev/null was
// refused as one file under two flags.
func TestADeviceIsNeverTheSameFile(t *testing.T) {
	if _, err := os.Stat(os.DevNull); err != nil {
		t.Skipf("no %s here", os.DevNull)
	}
	if Same(os.DevNull, os.DevNull) {
		t.Errorf("Same(%q, %q) = true, want false", os.DevNull, os.DevNull)
	}
}
