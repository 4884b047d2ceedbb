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
