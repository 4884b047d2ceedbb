package fetch

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// leanPathCleaners are fasthttp's own housekeeping goroutines: one per
// client and per host, each ending by itself once its connections are
// closed and a sleep of at most ten seconds is over. Nothing of ours.
var leanPathCleaners = []goleak.Option{
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*Client).mCleaner"),
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
}

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
		if err := goleak.Find(leanPathCleaners...); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
