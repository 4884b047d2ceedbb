package cli

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/fetchall/fetchall/internal/leaktest"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// command must leave nothing running behind it.
func TestMain(m *testing.M) {
	cleanup := goleak.Cleanup(func(code int) {
		if binPath != "" {
			os.RemoveAll(filepath.Dir(binPath))
		}
		os.Exit(code)
	})
	goleak.VerifyTestMain(m, append([]goleak.Option{cleanup}, leaktest.LeanPathCleaners...)...)
}
