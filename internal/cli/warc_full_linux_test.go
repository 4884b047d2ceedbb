package cli

import (
	"fmt"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fetchall/fetchall/internal/testsite"
	"github.com/fetchall/fetchall/internal/warctest"
)

// A WARC file that fills its disk mid-run ends after its last whole
// exchange: every gzip member reads, every response has its request, and
// the summary's count of records is the file's.
func TestFullDiskLeavesAWholeWARC(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash for ulimit")
	}
	bin := buildBinary(t)
	srv := httptest.NewServer(testsite.New())
	defer srv.Close()
	var list strings.Builder
	for i := range 300 {
		fmt.Fprintf(&list, "%s/page/%d?size=4096\n", srv.URL, i)
	}
	listFile := writeFile(t, "urls.txt", list.String())
	warcFile := filepath.Join(t.TempDir(), "run.warc.gz")

	code, stderr := limitedRun(t, bin, 64, listFile, "-c", "4", "--warc", warcFile, "-o", "/dev/null")
	if code != 1 || !strings.Contains(stderr, "file too large") || !strings.Contains(stderr, "web archive") {
		t.Fatalf("disk full under the WARC: exit %d, stderr %q; want exit 1 saying the archive stopped the run", code, stderr)
	}
	m := regexp.MustCompile(`warc: (\d+) records in `).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no count of WARC records in the summary: %q", stderr)
	}
	said, _ := strconv.Atoi(m[1])
	records := warctest.Read(t, warcFile) // fails on a torn gzip member
	types := map[string]int{}
	for _, r := range records {
		types[r.Header["WARC-Type"]]++
	}
	if types["response"] == 0 || types["response"] != types["request"] {
		t.Errorf("records by type %v: want as many requests as responses, some", types)
	}
	if got := types["response"] + types["request"]; got != said {
		t.Errorf("the summary says %d records, the file has %d exchanges' records (%v)", said, got, types)
	}
}
