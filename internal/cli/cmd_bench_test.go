package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestBenchWritesReportChartAndExports(t *testing.T) {
	_, base := startSite(t)
	var list strings.Builder
	for i := range 10 {
		fmt.Fprintf(&list, "%s/page/%d?latency=20ms\n", base, i)
	}
	dir := t.TempDir()
	svg, js, md := filepath.Join(dir, "b.svg"), filepath.Join(dir, "b.json"), filepath.Join(dir, "b.md")
	res := runCLI(t, list.String(), "bench", "-", "-c", "5,10", "--runs", "2", "--warmup", "1",
		"--plot", svg, "--export-json", js, "--export-markdown", md)
	if res.code != 0 {
		t.Fatalf("bench exit %d; stderr:\n%s", res.code, res.stderr)
	}
	for _, want := range []string{"10 URLs, 2 timed runs per level after 1 warmup", "10 workers:", "faster than sequential", "chart written to"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("bench output lacks %q:\n%s", want, res.stdout)
		}
	}
	if !strings.Contains(res.stderr, "level 5: run 2/2") {
		t.Errorf("no progress lines on stderr: %q", res.stderr)
	}
	var rep struct {
		Levels []struct {
			Concurrency int `json:"concurrency"`
		} `json:"levels"`
	}
	data, err := os.ReadFile(js)
	if err != nil || json.Unmarshal(data, &rep) != nil || len(rep.Levels) != 3 {
		t.Errorf("JSON export: err %v, levels %+v; want levels 1, 5, 10", err, rep.Levels)
	}
	for _, f := range []string{svg, md} {
		if info, err := os.Stat(f); err != nil || info.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestBenchWantsYesBeforeManyRemoteRequests(t *testing.T) {
	site, base := startSite(t)
	var list strings.Builder
	for i := range 200 {
		fmt.Fprintf(&list, "%s/page/%d\nhttp://far-away.invalid/%d\n", base, i, i)
	}
	res := runCLI(t, list.String(), "bench", "-", "-c", "1,10", "--runs", "3")
	if res.code != exitUsage || !strings.Contains(res.stderr, "bench would send 2400 requests") ||
		!strings.Contains(res.stderr, "far-away.invalid") || !strings.Contains(res.stderr, "--yes") {
		t.Errorf("exit %d stderr %q; want exit 2 asking for --yes and naming the host", res.code, res.stderr)
	}
	if site.Total() != 0 {
		t.Errorf("the refused bench sent %d requests", site.Total())
	}
}

// The files a bench writes at its end are checked at its start: a
// missing folder, a chart named .png (it is SVG), one file under two
// flags failed only after the measurements.
func TestBenchChecksItsFilesBeforeMeasuring(t *testing.T) {
	site, base := startSite(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--plot", filepath.Join(dir, "no", "b.svg")}, "there is no folder"},
		{[]string{"--plot", filepath.Join(dir, "b.png")}, "the chart is SVG; name the file .svg"},
		{[]string{"--plot", filepath.Join(dir, "x.svg"), "--export-markdown", filepath.Join(dir, "x.svg")}, "--plot and --export-markdown both name"},
		{[]string{"--export-json", dir}, "is a folder, want a file name"},
	} {
		res := runCLI(t, base+"/page/1\n", append([]string{"bench", "-", "-c", "1,2", "--runs", "1"}, tt.args...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("bench %q: exit %d stderr %q; want 2 and %q", tt.args, res.code, res.stderr, tt.want)
		}
	}
	if site.Total() != 0 {
		t.Errorf("the refused benches sent %d requests", site.Total())
	}
}

func TestBenchBadLevels(t *testing.T) {
	for _, levels := range []string{"0", "1,x", "", "-5"} {
		res := runCLI(t, "http://127.0.0.1:1/\n", "bench", "-", "-c", levels)
		if res.code != exitUsage || !strings.Contains(res.stderr, "--concurrency") {
			t.Errorf("bench -c %q: exit %d stderr %q, want a usage error naming --concurrency", levels, res.code, res.stderr)
		}
	}
}

// Issue 15: thresholds and a baseline decide bench's exit code.
func TestBenchThresholdsAndBaselineDecideTheExit(t *testing.T) {
	_, base := startSite(t)
	list := func(latency string) string {
		var b strings.Builder
		for i := range 8 {
			fmt.Fprintf(&b, "%s/page/%d?latency=%s\n", base, i, latency)
		}
		return b.String()
	}
	fast := writeFile(t, "fast.txt", list("2ms"))
	res := runCLI(t, "", "bench", fast, "-c", "4", "--runs", "1", "--no-progress",
		"--threshold", "p99<2s", "--threshold", "errors@all<1%", "--threshold", "speedup>0.5")
	if res.code != 0 || !strings.Contains(res.stdout, "p99<2s at 4 workers:") || strings.Contains(res.stdout, "FAILED") {
		t.Errorf("thresholds that hold: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, "", "bench", fast, "-c", "4", "--runs", "1", "--no-progress", "--threshold", "p99<1us", "--threshold", "rps>1")
	if res.code != exitFailures || !strings.Contains(res.stdout, "p99<1us at 4 workers:") || !strings.Contains(res.stdout, "FAILED") ||
		!strings.Contains(res.stderr, "1 threshold missed") {
		t.Errorf("a missed threshold: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, "", "bench", fast, "--threshold", "p99<<3ms")
	if res.code != exitUsage || !strings.Contains(res.stderr, "threshold") {
		t.Errorf("a bad threshold: exit %d %q", res.code, res.stderr)
	}
	// A level not measured is refused before the benchmark: it ran whole
	// and then failed the gate, exit 1.
	res = runCLI(t, "", "bench", fast, "-c", "4", "--threshold", "speedup@7>2")
	if res.code != exitUsage || res.stdout != "" || !strings.Contains(res.stderr, `--threshold "speedup@7>2": level 7 is not measured (--concurrency 4)`) {
		t.Errorf("a threshold on a level not measured: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	// The baseline is the same list, made fast; the same list made slow
	// (the site answers later) is significantly slower: exit 1 with
	// --fail-on-regression, a report without.
	dir := t.TempDir()
	baseline := filepath.Join(dir, "old.json")
	path := writeFile(t, "list.txt", list("1ms"))
	if res = runCLI(t, "", "bench", path, "-c", "4", "--runs", "4", "--no-progress", "--export-json", baseline); res.code != 0 {
		t.Fatalf("baseline run: exit %d %s", res.code, res.stderr)
	}
	same := runCLI(t, "", "bench", path, "-c", "4", "--runs", "4", "--no-progress", "--baseline", baseline, "--fail-on-regression")
	if same.code != 0 && !strings.Contains(same.stdout, "SLOWER") {
		t.Errorf("the same list against its baseline: exit %d\n%s%s", same.code, same.stdout, same.stderr)
	}
	if err := os.WriteFile(path, []byte(list("60ms")), 0o644); err != nil {
		t.Fatal(err)
	}
	// The URLs changed text but not count or hosts: the baseline stands.
	res = runCLI(t, "", "bench", path, "-c", "4", "--runs", "4", "--no-progress", "--baseline", baseline)
	if res.code != 0 || !strings.Contains(res.stdout, "4 workers: wall") || !strings.Contains(res.stdout, "SLOWER") {
		t.Errorf("slower without --fail-on-regression: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, "", "bench", path, "-c", "4", "--runs", "4", "--no-progress", "--baseline", baseline, "--fail-on-regression")
	if res.code != exitFailures || !strings.Contains(res.stderr, "significantly slower") {
		t.Errorf("slower with --fail-on-regression: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// Other settings: refused before anything is fetched.
	res = runCLI(t, "", "bench", path, "-c", "4", "--runs", "5", "--no-progress", "--baseline", baseline)
	if res.code != exitUsage || !strings.Contains(res.stderr, `runs "4", now "5"`) || res.stdout != "" {
		t.Errorf("other settings: exit %d %q %q", res.code, res.stdout, res.stderr)
	}
	var rep map[string]any
	data, _ := os.ReadFile(baseline)
	if json.Unmarshal(data, &rep) != nil || rep["environment"] == nil {
		t.Fatalf("export without environment: %s", data)
	}
	env := rep["environment"].(map[string]any)
	for _, k := range []string{"fetchall_version", "go_version", "goos", "goarch", "cpus", "gomaxprocs", "hosts", "settings", "started_at"} {
		if env[k] == nil {
			t.Errorf("environment lacks %s: %v", k, env)
		}
	}
}

// bench --cookies sends the file's cookies with every request, as fetch
// does: a site behind a login can be measured. Each timed run starts
// from them; a bad file is refused before anything is measured.
func TestBenchSendsTheCookiesFile(t *testing.T) {
	var withCookie, without atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("session"); err == nil && c.Value == "loaded" {
			withCookie.Add(1)
			return
		}
		without.Add(1)
		w.WriteHeader(http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	cookies := writeFile(t, "cookies.txt", "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tloaded\n")
	list := strings.Repeat(srv.URL+"/\n", 4)
	res := runCLI(t, list, "bench", "-", "-c", "2", "--runs", "2", "--cookies", cookies, "-q")
	if res.code != 0 || without.Load() != 0 || withCookie.Load() != 16 {
		t.Fatalf("exit %d: %d requests with the cookie, %d without; want 16 and 0; stderr %q", res.code, withCookie.Load(), without.Load(), res.stderr)
	}
	res = runCLI(t, list, "bench", "-", "-c", "2", "--cookies", writeFile(t, "bad.txt", "# Netscape HTTP Cookie File\nnot a cookie line\n"))
	if res.code != 2 || withCookie.Load()+without.Load() != 16 || !strings.Contains(res.stderr, "bad.txt") {
		t.Errorf("a bad --cookies file: exit %d, %d requests, stderr %q; want it refused before measuring", res.code, withCookie.Load()+without.Load()-16, res.stderr)
	}
}
