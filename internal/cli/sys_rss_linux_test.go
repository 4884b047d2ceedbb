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

func TestStatusKiB(t *testing.T) {
	status := []byte("Name:\tfetchall\nVmPeak:\t  812340 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   20000 kB\n")
	if n, ok := statusKiB(status, "VmHWM:"); !ok || n != 23456 {
		t.Errorf("VmHWM = %d, %v; want 23456", n, ok)
	}
	if _, ok := statusKiB(status, "VmSwap:"); ok {
		t.Error("a missing line was read")
	}
	if _, ok := statusKiB([]byte("VmHWM:\t12 MB\n"), "VmHWM:"); ok {
		t.Error("a line in another unit was read")
	}
}
