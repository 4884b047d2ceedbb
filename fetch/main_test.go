package fetch

import (
	"fmt"
	"os"
	"testing"

	"github.com/fetchall/fetchall/internal/leaktest"
	"go.uber.org/goleak"
)

// TestMain runs every test twice: plain http through the lean path
// (fast.go), then through net/http alone, so that the records are the
// same either way. Then no goroutine of ours may be left.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		forceStandard = true
		fmt.Println("fetch: the same tests again, through net/http alone")
		code = m.Run()
	}
	if code == 0 {
		if err := goleak.Find(leaktest.LeanPathCleaners...); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
