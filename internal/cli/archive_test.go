//go:build linux || darwin || windows

package cli

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fetchall/fetchall/internal/testsite"
	"github.com/fetchall/fetchall/internal/warctest"
)

// Issue 15: a job run with --warc and run again with --replay gives the
// same items, with the site gone: the replay needs no network.
func TestJobReplayGivesTheLiveItems(t *testing.T) {
	for _, name := range []string{"structured", "api", "formats"} {
		site := testsite.New()
		srv := httptest.NewServer(site)
		job := exampleJob(t, name, srv.URL)
		archive := filepath.Join(t.TempDir(), name+".warc.gz")
		live := runCLI(t, "", "run", job, "--warc", archive, "--no-progress")
		srv.Close()
		if live.code != 0 || !strings.Contains(live.stderr, "warc: ") {
			t.Fatalf("%s live: exit %d\n%s", name, live.code, live.stderr)
		}
		replayed := runCLI(t, "", "run", job, "--replay", archive, "--no-progress")
		if replayed.code != 0 {
			t.Fatalf("%s replay: exit %d\n%s", name, replayed.code, replayed.stderr)
		}
		sorted := func(s string) []string { l := strings.Split(strings.TrimSpace(s), "\n"); slices.Sort(l); return l }
		if len(sorted(live.stdout)) < 20 || !slices.Equal(sorted(live.stdout), sorted(replayed.stdout)) {
			t.Errorf("%s: replay differs from the live run:\nlive:\n%s\nreplay:\n%s", name, live.stdout, replayed.stdout)
		}
	}
	res := runCLI(t, "", "run", "../../testdata/jobs/api.yaml", "--replay", filepath.Join(t.TempDir(), "none.warc.gz"))
	if res.code != exitUsage || !strings.Contains(res.stderr, "replay") {
		t.Errorf("a missing archive: exit %d %q", res.code, res.stderr)
	}
}

// An interrupted crawl leaves a valid archive, every response with its
// request, and robots.txt in it.
func TestInterruptedCrawlLeavesAValidArchive(t *testing.T) {
	bin := buildBinary(t)
	site := testsite.NewWith(testsite.Options{Latency: 20 * time.Millisecond})
	srv := httptest.NewServer(site)
	defer srv.Close()
	archive := filepath.Join(t.TempDir(), "crawl.warc.gz")
	cmd := exec.CommandContext(t.Context(), bin, "crawl", srv.URL+"/", "--max-depth", "-1", "-c", "4", "-q", "-o", os.DevNull, "--warc", archive)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	_ = cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d (%v), want %d: the crawl ended before the interrupt?", code, err, exitInterrupted)
	}
	recs := warctest.Read(t, archive)
	if len(recs) < 10 || recs[0].Header["WARC-Type"] != "warcinfo" {
		t.Fatalf("%d records, first %v", len(recs), recs[0].Header)
	}
	robots := false
	for i := 1; i < len(recs); i += 2 {
		resp, req := recs[i], recs[i+1]
		if resp.Header["WARC-Type"] != "response" || req.Header["WARC-Type"] != "request" || req.Header["WARC-Concurrent-To"] != resp.Header["WARC-Record-ID"] {
			t.Fatalf("records %d and %d are not a response and its request: %v %v", i, i+1, resp.Header, req.Header)
		}
		robots = robots || resp.Header["WARC-Target-URI"] == srv.URL+"/robots.txt"
	}
	if !robots {
		t.Error("robots.txt is not in the archive")
	}
}
