package bench

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	stdpng "image/png"
	"io"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/testsite"
)

var update = flag.Bool("update", false, "rewrite golden files")

// measure benchmarks pages of the test site, each with the given latency.
func measure(t *testing.T, pages int, latency time.Duration, levels []int, runs int) *Report {
	t.Helper()
	srv := httptest.NewServer(testsite.New())
	defer srv.Close()
	var list bytes.Buffer
	for i := range pages {
		fmt.Fprintf(&list, "%s/page/%d?latency=%s\n", srv.URL, i, latency)
	}
	cfg := Config{Levels: levels, Runs: runs, NewFetcher: func(workers int) (Fetcher, error) {
		return fetch.New(fetch.Config{Concurrency: workers})
	}}
	rep, err := Run(t.Context(), cfg, list.Bytes(), nil)
	if err != nil {
		t.Fatalf("Run error = %v", err)
	}
	return rep
}

// sleeper is a Fetcher whose every request takes latency, to the tick
// inside a synctest bubble.
type sleeper struct{ latency time.Duration }

func (f sleeper) Get(ctx context.Context, u string, _ fetch.KeepBody) *fetch.Result {
	time.Sleep(f.latency)
	return &fetch.Result{URL: u, FinalURL: u, Status: 200, Attempts: 1, Duration: f.latency}
}

func (sleeper) CloseIdleConnections() {}

// In virtual time the figures are exact: 20 URLs of 100ms take 2s one at
// a time and 200ms ten at a time, a speed-up of 10, all of the ideal.
func TestSpeedUpAgainstSequential(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var list bytes.Buffer
		for i := range 20 {
			fmt.Fprintf(&list, "http://site.test/page/%d\n", i)
		}
		cfg := Config{Levels: []int{10}, Runs: 1, NewFetcher: func(int) (Fetcher, error) {
			return sleeper{latency: 100 * time.Millisecond}, nil
		}}
		rep, err := Run(t.Context(), cfg, list.Bytes(), nil)
		if err != nil {
			t.Fatalf("Run error = %v", err)
		}
		if len(rep.Levels) != 2 || rep.Levels[0].Concurrency != 1 || rep.Levels[1].Concurrency != 10 {
			t.Fatalf("levels = %+v, want 1 (added as the baseline) and 10", rep.Levels)
		}
		seq, conc := rep.Levels[0], rep.Levels[1]
		if conc.IdealSpeedUp != 10 || conc.SpeedUp != 10 || conc.Efficiency != 1 {
			t.Errorf("10 workers: speed-up %.3f (ideal %.3f), efficiency %.3f; want 10, 10, 1", conc.SpeedUp, conc.IdealSpeedUp, conc.Efficiency)
		}
		if seq.SpeedUp != 1 || seq.OK != 20 || conc.OK != 20 || rep.URLs != 20 {
			t.Errorf("sequential speed-up %.2f, ok %d/%d of %d URLs; want 1, 20/20 of 20", seq.SpeedUp, seq.OK, conc.OK, rep.URLs)
		}
		// Percentiles come from the summary's log-scale histogram: within
		// one bucket (2%) of the true value.
		if p50 := conc.Latency.P50; math.Abs(p50-100) > 2 {
			t.Errorf("p50 latency = %.1f ms, want 100", p50)
		}
	})
}

func TestIdealWall(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		lat     []time.Duration
		workers int
		want    time.Duration
	}{
		{ms(100, 200, 300), 1, 600 * time.Millisecond},
		{ms(100, 200, 300), 3, 300 * time.Millisecond},
		{ms(100, 200, 300), 10, 300 * time.Millisecond},
		{ms(100, 100, 100, 100), 2, 200 * time.Millisecond},
		// In input order: 300 goes to worker 1, then 100, 100, 100 to worker 2.
		{ms(300, 100, 100, 100), 2, 300 * time.Millisecond},
		{nil, 4, 0},
	}
	for _, tt := range tests {
		if got := IdealWall(tt.lat, tt.workers); got != tt.want {
			t.Errorf("IdealWall(%v, %d) = %s, want %s", tt.lat, tt.workers, got, tt.want)
		}
	}
}

// fixedReport is a hand-made report: rendering it must not depend on any
// measurement.
func fixedReport() *Report {
	r := &Report{SchemaVersion: SchemaVersion, URLs: 200, Runs: 3, Warmup: 1, Levels: []Level{
		{Concurrency: 1, Wall: statsOf([]float64{10.1, 10.2, 10.3}), Latency: Latency{P50: 50.5, P90: 51, P99: 52, Max: 60},
			OK: 200, FailedByKind: map[string]int{}, Histogram: []Bucket{{LoMS: 45.25, HiMS: 53.82, Count: 600}}},
		{Concurrency: 20, Wall: statsOf([]float64{0.51, 0.52, 0.53}), Latency: Latency{P50: 51, P90: 53, P99: 56, Max: 70},
			OK: 199, Failed: 1, FailedByKind: map[string]int{"timeout": 3}, Histogram: []Bucket{{LoMS: 45.25, HiMS: 53.82, Count: 597}}},
		{Concurrency: 50, Wall: statsOf([]float64{0.25, 0.26, 0.27}), Latency: Latency{P50: 52, P90: 60, P99: 80, Max: 90},
			OK: 200, FailedByKind: map[string]int{}, Histogram: []Bucket{{LoMS: 45.25, HiMS: 53.82, Count: 500}, {LoMS: 53.82, HiMS: 64, Count: 100}}},
	}}
	for i := range r.Levels {
		r.Levels[i].RequestsPerSecond = float64(r.URLs) / r.Levels[i].Wall.Mean
	}
	seq := make([]time.Duration, 200)
	for i := range seq {
		seq[i] = 51 * time.Millisecond
	}
	r.compare(seq)
	r.Environment = &Environment{FetchallVersion: "test", GoVersion: "go1.26", GOOS: "linux", GOARCH: "amd64", CPUs: 2, GOMAXPROCS: 2,
		HostCount: 3, Hosts: []string{"a.test", "b.test", "c.test"}, Settings: map[string]string{"runs": "3"}, StartedAt: "2026-11-23T16:00:00Z"}
	return r
}

func TestMarkdownGolden(t *testing.T) {
	var buf bytes.Buffer
	fixedReport().WriteMarkdown(&buf)
	golden := filepath.Join("testdata", "report.md")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (go test ./bench -update creates it): %v", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Markdown differs from %s:\ngot:\n%s\nwant:\n%s", golden, buf.Bytes(), want)
	}
}

func TestCompareSpeedUpAndKnee(t *testing.T) {
	r := fixedReport()
	l20 := r.Levels[1]
	if math.Abs(l20.SpeedUp-10.2/0.52) > 1e-9 {
		t.Errorf("speed-up = %g, want %g", l20.SpeedUp, 10.2/0.52)
	}
	wantSD := l20.SpeedUp * math.Hypot(0.1/10.2, 0.01/0.52)
	if math.Abs(l20.SpeedUpStddev-wantSD) > 1e-9 {
		t.Errorf("speed-up stddev = %g, want %g", l20.SpeedUpStddev, wantSD)
	}
	if r.Knee != 50 || r.KneeReached() {
		t.Errorf("knee = %d reached %v; want 50, not reached (throughput still doubling)", r.Knee, r.KneeReached())
	}
	r.Levels[2].RequestsPerSecond = 1.05 * r.Levels[1].RequestsPerSecond
	r.Knee = 0
	r.compare(nil)
	if r.Knee != 20 || !r.KneeReached() {
		t.Errorf("with 50 workers only 5%% faster than 20: knee = %d, want 20", r.Knee)
	}
}

func TestJSONExportMatchesSchema(t *testing.T) {
	schemaFile, err := os.Open("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer schemaFile.Close()
	doc, err := jsonschema.UnmarshalJSON(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("compile schema.json: %v", err)
	}
	for name, rep := range map[string]*Report{"fixed": fixedReport(), "measured": measure(t, 5, 0, []int{2}, 2)} {
		var buf bytes.Buffer
		if err := rep.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("%s report does not match schema.json: %v", name, err)
		}
	}
	// The schema must be strict enough to catch a renamed field.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"schema_version":1,"urls":1,"runs":1,"warmup":0,"keep_alive_across_runs":false,"knee":1,"levels":[],"extra":1}`))
	if schema.Validate(bad) == nil {
		t.Error("schema accepted an unknown field and an empty level list")
	}
}

func TestSVGIsWellFormedAndNamesItsAxes(t *testing.T) {
	var buf bytes.Buffer
	if err := fixedReport().WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
		}
	}
	for _, want := range []string{"speed-up (x)", "efficiency (%)", "latency (ms)", "workers (log scale)", "p99", "p50 to p99", "ideal", "measured",
		"fetchall bench: 200 URLs on 3 hosts", "a URL when sequential"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("SVG text lacks %q", want)
		}
	}
	// Tick labels without trailing zeros; one sans-serif face.
	if strings.Contains(text.String(), ".00") || strings.Contains(buf.String(), "Serif") {
		t.Errorf("SVG has a label with .00 or a serif face:\n%s", text.String())
	}
}

// The chart as a picture: rendered by rsvg-convert (as a browser would
// draw it), the legends sit in their own column, right of every panel's
// data, which keeps the legend column's pixels free of the data's
// colours but for the legend's samples.
func TestChartRendersToPNG(t *testing.T) {
	if _, err := exec.LookPath("rsvg-convert"); err != nil {
		if os.Getenv("FETCHALL_REQUIRE_RSVG") != "" {
			t.Fatal("rsvg-convert is not installed (apt-get install librsvg2-bin)")
		}
		t.Skip("rsvg-convert is not installed (apt-get install librsvg2-bin); .ci/run installs it")
	}
	rep := fixedReport()
	rep.Knee = 20
	dir := t.TempDir()
	svg, png := filepath.Join(dir, "chart.svg"), filepath.Join(dir, "chart.png")
	f, err := os.Create(svg)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteSVG(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, err := exec.Command("rsvg-convert", "-w", "900", svg, "-o", png).CombinedOutput(); err != nil {
		t.Fatalf("rsvg-convert: %v\n%s", err, out)
	}
	pf, err := os.Open(png)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	img, err := stdpng.Decode(pf)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != 900 || b.Dy() < 900 {
		t.Fatalf("picture %v", b)
	}
	// Count the data's blue (the measured lines) left and right of the
	// legend column's edge: almost all of it is left.
	legendX := int(float64(b.Dx()) * float64(chartWidth-legendWidth) / float64(chartWidth))
	left, right := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 60 && g>>8 > 100 && g>>8 < 140 && bl>>8 > 160 {
				if x < legendX {
					left++
				} else {
					right++
				}
			}
		}
	}
	if left < 500 || right > left/10 {
		t.Errorf("blue pixels: %d in the panels, %d in the legend column; want the data left of the legends", left, right)
	}
}

func TestTextReport(t *testing.T) {
	var buf bytes.Buffer
	fixedReport().WriteText(&buf)
	out := buf.String()
	for _, want := range []string{"200 URLs, 3 timed runs per level after 1 warmup, fresh connections every run",
		"20 workers: 19.62 ± 0.42x faster than sequential", "Knee: not reached", "Latency, 50 workers", "1 per run (timeout 3)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}

func TestNormalizeLevels(t *testing.T) {
	got := normalizeLevels([]int{50, 5, 20, 5})
	if fmt.Sprint(got) != "[1 5 20 50]" {
		t.Errorf("normalizeLevels = %v, want [1 5 20 50]", got)
	}
}

// Issue 11, item 13: an interrupted bench keeps the levels it measured.
func TestInterruptedBenchKeepsItsLevels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var list bytes.Buffer
		for i := range 10 {
			fmt.Fprintf(&list, "http://site.test/page/%d\n", i)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		cfg := Config{Levels: []int{2, 5}, Runs: 1, NewFetcher: func(int) (Fetcher, error) {
			return sleeper{latency: 100 * time.Millisecond}, nil
		}}
		progress := func(level, _, _ int, _ bool) {
			if level == 5 {
				cancel() // during the last level
			}
		}
		rep, err := Run(ctx, cfg, list.Bytes(), progress)
		if err == nil || rep == nil || len(rep.Levels) != 2 || rep.Levels[1].Concurrency != 2 {
			t.Fatalf("Run = %v, %v; want the levels 1 and 2 measured before the interrupt, and its error", rep, err)
		}
		if rep.Levels[1].SpeedUp != 2 {
			t.Errorf("speed-up at 2 workers = %.2f, want 2", rep.Levels[1].SpeedUp)
		}
	})
}
