package cli

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// command must leave nothing running behind it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// fasthttp's housekeeping goroutines end by themselves once idle
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*Client).mCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
		goleak.Cleanup(func(code int) {
			if binPath != "" {
				os.RemoveAll(filepath.Dir(binPath))
			}
			os.Exit(code)
		}))
}
