package bench

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/fetchall/fetchall/output"
)

// WriteText writes the report for a terminal: the table of levels, the
// speed-ups against sequential, the knee, and the latency histogram of the
// knee level.
func (r *Report) WriteText(w io.Writer) {
	conns := "fresh connections every run"
	if r.KeepAliveAcrossRuns {
		conns = "connections kept alive across runs"
	}
	fmt.Fprintf(w, "%s, %s per level after %d warmup, %s\n\n", output.Count(r.URLs, "URL"), output.Count(r.Runs, "timed run"), r.Warmup, conns)
	fmt.Fprintf(w, "%8s  %-22s  %-21s  %9s  %9s  %9s  %9s  %s\n", "workers", "wall (mean ± σ)", "min … max", "req/s", "p50", "p90", "p99", "errors")
	for _, lv := range r.Levels {
		wall, spread := fmtSeconds(lv.Wall.Mean), "(one run)"
		if r.Runs > 1 {
			wall += " ± " + fmtSeconds(lv.Wall.Stddev)
			spread = fmtSeconds(lv.Wall.Min) + " … " + fmtSeconds(lv.Wall.Max)
		}
		fmt.Fprintf(w, "%8d  %-22s  %-21s  %9.1f  %9s  %9s  %9s  %s\n", lv.Concurrency, wall, spread,
			lv.RequestsPerSecond, fmtMS(lv.Latency.P50), fmtMS(lv.Latency.P90), fmtMS(lv.Latency.P99), errorsText(lv))
	}
	if len(r.Levels) > 1 {
		fmt.Fprintf(w, "\nAgainst sequential (1 worker); the ideal replays the sequential latencies through N workers:\n")
		for _, lv := range r.Levels[1:] {
			fmt.Fprintf(w, "%8d workers: %s faster than sequential (ideal %.1fx, efficiency %.0f%%)\n",
				lv.Concurrency, r.speedUpText(lv), lv.IdealSpeedUp, 100*lv.Efficiency)
		}
		switch {
		case r.KneeReached():
			fmt.Fprintf(w, "Knee: %s %s %.0f%% of the best throughput; more workers buy little.\n", workers(r.Knee), output.Agree(r.Knee, "reaches", "reach"), 100*kneeShare)
		case r.Knee >= r.URLs:
			fmt.Fprintf(w, "Knee: not reached; %s already %s all %d URLs at once.\n", workers(r.Knee), output.Agree(r.Knee, "fetches", "fetch"), r.URLs)
		default:
			fmt.Fprintf(w, "Knee: not reached; throughput still grows at %s, so more may help.\n", workers(r.Knee))
		}
	}
	for _, lv := range r.Levels {
		if lv.Concurrency == r.Knee {
			fmt.Fprintf(w, "\nLatency, %s (every timed request):\n", workers(lv.Concurrency))
			writeHistogram(w, lv.Histogram)
		}
	}
}

func (r *Report) speedUpText(lv Level) string {
	if r.Runs < 2 {
		return fmt.Sprintf("%.2fx", lv.SpeedUp)
	}
	return fmt.Sprintf("%.2f ± %.2fx", lv.SpeedUp, lv.SpeedUpStddev)
}

// WriteMarkdown writes the report as a Markdown table, ready for a README
// or an issue.
func (r *Report) WriteMarkdown(w io.Writer) {
	conns := "fresh connections every run"
	if r.KeepAliveAcrossRuns {
		conns = "connections kept alive across runs"
	}
	fmt.Fprintf(w, "%s, %s per level after %d warmup, %s; %s.\n\n", output.Count(r.URLs, "URL"), output.Count(r.Runs, "timed run"), r.Warmup, conns, r.kneeText())
	fmt.Fprintln(w, "| workers | wall (s) | ± σ (s) | req/s | p50 (ms) | p90 (ms) | p99 (ms) | speed-up | ideal | efficiency | errors |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, lv := range r.Levels {
		fmt.Fprintf(w, "| %d | %.3f | %.3f | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.0f%% | %s |\n",
			lv.Concurrency, lv.Wall.Mean, lv.Wall.Stddev, lv.RequestsPerSecond, lv.Latency.P50, lv.Latency.P90,
			lv.Latency.P99, lv.SpeedUp, lv.IdealSpeedUp, 100*lv.Efficiency, errorsText(lv))
	}
}

func errorsText(lv Level) string {
	if lv.Failed == 0 {
		return "0"
	}
	kinds := make([]string, 0, len(lv.FailedByKind))
	for k := range lv.FailedByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s %d", k, lv.FailedByKind[k])
	}
	return fmt.Sprintf("%d per run (%s)", lv.Failed, strings.Join(parts, ", "))
}

// writeHistogram draws one bar per bucket, scaled to the largest.
func writeHistogram(w io.Writer, buckets []Bucket) {
	const width = 40
	most := 0
	for _, b := range buckets {
		most = max(most, b.Count)
	}
	for _, b := range buckets {
		bar := 0
		if most > 0 {
			bar = (b.Count*width + most - 1) / most
		}
		fmt.Fprintf(w, "  %9s … %9s  %-*s %d\n", fmtMS(b.LoMS), fmtMS(b.HiMS), width, strings.Repeat("█", bar), b.Count)
	}
}

func fmtSeconds(s float64) string {
	switch {
	case s == 0:
		return "0 s"
	case s < 1:
		return fmt.Sprintf("%.1f ms", s*1000)
	case s < 100:
		return fmt.Sprintf("%.3f s", s)
	}
	return fmt.Sprintf("%.1f s", s)
}

func fmtMS(v float64) string {
	switch {
	case v < 1:
		return fmt.Sprintf("%.0f µs", v*1000)
	case v < 1000:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f s", v/1000)
}

// workers is "1 worker" or "N workers".
func workers(n int) string { return output.Count(n, "worker") }
