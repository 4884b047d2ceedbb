package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	for _, want := range []string{"10 URLs, 2 timed run(s) per level after 1 warmup", "10 workers:", "faster than sequential", "chart written to"} {
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

func TestBenchBadLevels(t *testing.T) {
	for _, levels := range []string{"0", "1,x", "", "-5"} {
		res := runCLI(t, "http://127.0.0.1:1/\n", "bench", "-", "-c", levels)
		if res.code != exitUsage || !strings.Contains(res.stderr, "--concurrency") {
			t.Errorf("bench -c %q: exit %d stderr %q, want a usage error naming --concurrency", levels, res.code, res.stderr)
		}
	}
}
