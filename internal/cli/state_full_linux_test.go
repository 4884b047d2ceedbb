package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fetchall/fetchall/internal/testsite"
)

// limitedRun runs the binary with every file it writes capped at kib KiB
// (RLIMIT_FSIZE through bash's ulimit, SIGXFSZ ignored so that a write
// past the cap fails with EFBIG as a full disk fails with ENOSPC).
func limitedRun(t *testing.T, bin string, kib int, args ...string) (code int, stderr string) {
	t.Helper()
	script := fmt.Sprintf(`trap "" XFSZ; ulimit -f %d; exec "$@"`, kib)
	cmd := exec.CommandContext(t.Context(), "bash", append([]string{"-c", script, "bash", bin}, args...)...)
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), errBuf.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, errBuf.String()
}

// Issue 12: a state that cannot be written is a clear error: exit 2 before
// any fetch when the store cannot be made, exit 1 when the disk fills in
// the middle of the run, and then the state is intact: the same command
// with room again finishes the run exactly once.
func TestFullDiskStopsTheRunAndTheStateResumes(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash for ulimit")
	}
	bin := buildBinary(t)
	site := testsite.New()
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()

	var list strings.Builder
	const lines = 3000
	for i := range lines {
		fmt.Fprintf(&list, "%s/page/%d?size=256\n", srv.URL, i)
	}
	listFile := writeFile(t, "urls.txt", list.String())
	// A wide tree: every page links to 50 new ones, so a crawl finds URLs
	// far faster than it writes records, and its found.log fills first.
	wide := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		for i := range 50 {
			fmt.Fprintf(w, "<a href=\"/p/%d\">page</a>\n", n*50+i+1)
		}
	}))
	defer wide.Close()
	const widePages = 1 + 50 + 50*50

	out := filepath.Join(dir, "none.jsonl")
	code, stderr := limitedRun(t, bin, 0, listFile, "-q", "--state", filepath.Join(dir, "none"), "-o", out)
	if code != 2 || !strings.Contains(stderr, "state") || !strings.Contains(stderr, "file too large") {
		t.Errorf("no room for the state at the start: exit %d, stderr %q; want exit 2 naming the state", code, stderr)
	}
	if n := len(site.URICounts()); n != 0 {
		t.Errorf("no room for the state at the start: %d URLs fetched, want none", n)
	}

	cases := []struct {
		name string
		args []string
		kib  int
		says string // which file filled
		out  string
	}{
		// The output fills first: a list's records are its biggest file.
		{"list", []string{listFile, "-c", "8"}, 150, "write output", "list.jsonl"},
		// The state fills first: a crawl's found.log outgrows its output.
		{"crawl", []string{"crawl", wide.URL + "/p/0", "--max-depth", "2", "-c", "8", "--per-host", "8"}, 100, "state: ", "crawl.jsonl"},
	}
	for _, c := range cases {
		out := filepath.Join(dir, c.out)
		state := filepath.Join(dir, c.name+".state")
		args := append(c.args, "-q", "--state", state, "-o", out)
		code, stderr := limitedRun(t, bin, c.kib, args...)
		if code != 1 || !strings.Contains(stderr, "file too large") || !strings.Contains(stderr, c.says) {
			t.Errorf("%s: disk full mid-run: exit %d, stderr %q; want exit 1 saying why", c.name, code, stderr)
			continue
		}
		if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: the error is said more than once: %q", c.name, stderr)
		}
		// The output may end in a half record here; the resume cuts it.
		if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
			t.Errorf("%s: nothing written before the disk filled: the test proves nothing", c.name)
		}
		res := runCLI(t, "", "state", state)
		if res.code != 0 || !strings.Contains(res.stdout, "stopped before the end") {
			t.Errorf("%s: state after the full disk: exit %d\n%s%s", c.name, res.code, res.stdout, res.stderr)
		}
		if o, err := exec.CommandContext(t.Context(), bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: resume with room again: %v\n%s", c.name, err, o)
		}
		seen := map[string]int{}
		for _, r := range readJSONL(t, out) {
			seen[r["url"].(string)]++
		}
		for u, n := range seen {
			if n != 1 {
				t.Errorf("%s: %s has %d records", c.name, u, n)
			}
		}
		if c.name == "list" && len(seen) != lines {
			t.Errorf("list: %d URLs recorded, want %d", len(seen), lines)
		}
		if c.name == "crawl" && len(seen) != widePages {
			t.Errorf("crawl: %d pages after the resume, want %d", len(seen), widePages)
		}
		if fi, err := os.Stat(out); err == nil && fi.Size() > 8<<20 {
			t.Errorf("%s: output of %d bytes", c.name, fi.Size())
		}
	}
}
