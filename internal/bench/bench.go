// Package bench runs one URL list at several concurrency levels with the
// same engine as fetch, and reports what concurrency bought: wall time over
// repeated runs, throughput, latency percentiles, the speed-up against the
// sequential level, and how close each level came to the ideal.
package bench

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/output"
)

// SchemaVersion is the version of the JSON report; it changes only when a
// field changes meaning or goes away.
const SchemaVersion = 1

// Fetcher is a crawler.Fetcher whose idle connections can be closed, so a
// run can start with fresh connections.
type Fetcher interface {
	crawler.Fetcher
	CloseIdleConnections()
}

// Config sets what a benchmark runs. Levels must not be empty.
type Config struct {
	// Levels are the concurrency levels to compare. Level 1 is added when
	// missing: it is the baseline every speed-up is measured against.
	Levels []int
	// Runs is how many timed runs each level gets. Zero means 1.
	Runs int
	// Warmup is how many untimed runs each level gets first.
	Warmup int
	// KeepAliveAcrossRuns reuses one connection pool for every run; by
	// default each run starts with fresh connections, so that levels are
	// compared on equal terms.
	KeepAliveAcrossRuns bool
	// Engine holds the engine settings other than Workers (status policy...).
	Engine crawler.Config
	// NewFetcher returns a fetcher sized for up to workers requests at once.
	NewFetcher func(workers int) (Fetcher, error)
}

// Progress is told when each run starts; it may be nil.
type Progress func(level, run, runs int, warmup bool)

// Run benchmarks list (the bytes of a URL list) and returns the report.
// A URL that fails is counted in the report, not returned as an error; an
// error means the benchmark could not run, or ctx ended.
func Run(ctx context.Context, cfg Config, list []byte, progress Progress) (*Report, error) {
	levels := normalizeLevels(cfg.Levels)
	runs := max(cfg.Runs, 1)
	rep := &Report{SchemaVersion: SchemaVersion, Runs: runs, Warmup: cfg.Warmup, KeepAliveAcrossRuns: cfg.KeepAliveAcrossRuns}

	var shared Fetcher
	if cfg.KeepAliveAcrossRuns {
		f, err := cfg.NewFetcher(slices.Max(levels))
		if err != nil {
			return nil, err
		}
		defer f.CloseIdleConnections()
		shared = f
	}
	fetcher := func(workers int) (Fetcher, error) {
		if shared != nil {
			return shared, nil
		}
		return cfg.NewFetcher(workers)
	}

	var seqLatencies []time.Duration // per URL, input order, mean over the sequential runs
	for _, level := range levels {
		lv := Level{Concurrency: level, FailedByKind: map[string]int{}}
		var walls []float64
		var perURL [][]time.Duration
		var hist output.Histogram
		var summary output.Summary
		for i := range cfg.Warmup + runs {
			warm := i < cfg.Warmup
			if progress != nil {
				progress(level, i-cfg.Warmup+1, runs, warm)
			}
			f, err := fetcher(level)
			if err != nil {
				return nil, err
			}
			rec := &recorder{}
			var sink crawler.Sink = rec
			if !warm {
				sink = output.Tee{rec, &summary}
			}
			engine := cfg.Engine
			engine.Workers = level
			start := time.Now()
			err = crawler.FetchList(ctx, engine, f, crawler.ListSource(bytes.NewReader(list)), sink)
			wall := time.Since(start)
			if shared == nil {
				f.CloseIdleConnections()
			}
			if err != nil && ctx.Err() != nil && len(rep.Levels) > 0 {
				// Interrupted: the levels measured whole are still a report.
				rep.compare(seqLatencies)
				return rep, fmt.Errorf("level %d run %d: %w", level, i+1, err)
			}
			if err != nil {
				return nil, fmt.Errorf("level %d run %d: %w", level, i+1, err)
			}
			if warm {
				continue
			}
			walls = append(walls, wall.Seconds())
			perURL = append(perURL, rec.inOrder())
			for _, d := range rec.durations {
				hist.Add(d.duration)
			}
			rep.URLs = len(rec.durations)
		}
		lv.Wall = statsOf(walls)
		lv.Bytes = summary.Bytes / int64(runs)
		lv.OK = summary.OK / runs
		lv.Failed = summary.Failed() / runs
		for k, n := range summary.FailedCounts() {
			lv.FailedByKind[k] = n
		}
		if lv.Wall.Mean > 0 {
			lv.RequestsPerSecond = float64(rep.URLs) / lv.Wall.Mean
		}
		lv.Latency = latencyOf(&hist)
		lv.Histogram = displayBuckets(&hist)
		if level == 1 {
			seqLatencies = meanPerURL(perURL)
		}
		rep.Levels = append(rep.Levels, lv)
	}
	rep.compare(seqLatencies)
	return rep, nil
}

// normalizeLevels sorts and deduplicates the levels, adding 1.
func normalizeLevels(levels []int) []int {
	out := append([]int{1}, levels...)
	slices.Sort(out)
	return slices.Compact(out)
}

// recorder keeps every result's duration with its line, to replay the
// sequential latencies in input order.
type recorder struct {
	durations []lineDuration
}

type lineDuration struct {
	line     int
	duration time.Duration
}

func (r *recorder) Write(res *crawler.Result) error {
	r.durations = append(r.durations, lineDuration{res.Line, res.Duration})
	return nil
}

func (r *recorder) Flush() error { return nil }

func (r *recorder) inOrder() []time.Duration {
	sorted := slices.Clone(r.durations)
	slices.SortFunc(sorted, func(a, b lineDuration) int { return a.line - b.line })
	out := make([]time.Duration, len(sorted))
	for i, d := range sorted {
		out[i] = d.duration
	}
	return out
}

func meanPerURL(runs [][]time.Duration) []time.Duration {
	if len(runs) == 0 {
		return nil
	}
	out := make([]time.Duration, len(runs[0]))
	for i := range out {
		var sum time.Duration
		for _, r := range runs {
			if i < len(r) {
				sum += r[i]
			}
		}
		out[i] = sum / time.Duration(len(runs))
	}
	return out
}

// IdealWall is the wall time of perfect concurrency: the given latencies,
// in input order, handed each to the first free of workers, with no cost
// of their own. It is what the engine's queue would do if requests did not
// slow each other down.
func IdealWall(latencies []time.Duration, workers int) time.Duration {
	if len(latencies) == 0 || workers < 1 {
		return 0
	}
	free := make(freeTimes, min(workers, len(latencies)))
	heap.Init(&free)
	var end time.Duration
	for _, d := range latencies {
		t := heap.Pop(&free).(time.Duration) + d
		end = max(end, t)
		heap.Push(&free, t)
	}
	return end
}

// freeTimes is a min-heap of the times at which workers become free.
type freeTimes []time.Duration

func (f freeTimes) Len() int           { return len(f) }
func (f freeTimes) Less(i, j int) bool { return f[i] < f[j] }
func (f freeTimes) Swap(i, j int)      { f[i], f[j] = f[j], f[i] }
func (f *freeTimes) Push(x any)        { *f = append(*f, x.(time.Duration)) }
func (f *freeTimes) Pop() any {
	old := *f
	x := old[len(old)-1]
	*f = old[:len(old)-1]
	return x
}

// compare fills in the speed-ups, the ideal and the knee, from the level-1
// results and its per-URL latencies.
func (r *Report) compare(seq []time.Duration) {
	if len(r.Levels) == 0 {
		return
	}
	base := r.Levels[0] // level 1, by normalizeLevels
	best := 0.0
	for _, lv := range r.Levels {
		best = max(best, lv.RequestsPerSecond)
	}
	for i := range r.Levels {
		lv := &r.Levels[i]
		if lv.Wall.Mean > 0 && base.Wall.Mean > 0 {
			lv.SpeedUp = base.Wall.Mean / lv.Wall.Mean
			// Relative errors add in quadrature, as hyperfine reports them.
			lv.SpeedUpStddev = lv.SpeedUp * math.Hypot(base.Wall.Stddev/base.Wall.Mean, lv.Wall.Stddev/lv.Wall.Mean)
		}
		ideal := IdealWall(seq, lv.Concurrency)
		lv.IdealSeconds = ideal.Seconds()
		if ideal > 0 {
			lv.IdealSpeedUp = IdealWall(seq, 1).Seconds() / ideal.Seconds()
		}
		if lv.Wall.Mean > 0 {
			lv.Efficiency = lv.IdealSeconds / lv.Wall.Mean
		}
		if r.Knee == 0 && best > 0 && lv.RequestsPerSecond >= kneeShare*best {
			r.Knee = lv.Concurrency
		}
	}
}

// KneeReached reports whether throughput levelled off within the levels
// measured: a knee at the highest level only says more workers may help.
func (r *Report) KneeReached() bool {
	return len(r.Levels) > 1 && r.Knee != r.Levels[len(r.Levels)-1].Concurrency
}

func (r *Report) kneeText() string {
	if r.KneeReached() {
		return fmt.Sprintf("knee at %s", output.CountNouns(r.Knee, "worker", "workers"))
	}
	return "no knee yet"
}

// kneeShare: the knee is the lowest level that reaches this share of the
// best throughput; more workers than that buy less than the rest.
const kneeShare = 0.9
