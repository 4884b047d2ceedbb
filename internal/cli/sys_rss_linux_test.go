package cli

import (
	"net/http/httptest"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"testing"

	"github.com/fetchall/fetchall/internal/testsite"
)

// The summary's peak memory is fetchall's own, even when the process that
// started it is much larger: getrusage would report the parent's peak.
func TestPeakMemoryIsTheProcesssOwn(t *testing.T) {
	bin := buildBinary(t)
	srv := httptest.NewServer(testsite.NewWith(testsite.Options{Pages: 20}))
	defer srv.Close()

	ballast := make([]byte, 400<<20) // this test process grows past 400 MiB...
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	out, err := exec.Command(bin, "crawl", srv.URL+"/", "-o", "/dev/null").CombinedOutput()
	runtime.KeepAlive(ballast)
	if err != nil {
		t.Fatalf("crawl: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`memory: peak ([0-9.]+) MiB`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no peak memory in the summary:\n%s", out)
	}
	if mib, _ := strconv.ParseFloat(string(m[1]), 64); mib > 200 { // ...the crawl itself uses ~25 MiB
		t.Errorf("peak %.1f MiB reported: the parent's, not fetchall's", mib)
	}
}
