package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"github.com/fetchall/fetchall/output"
)

// Report is everything a benchmark measured. Its JSON form is documented
// by schema.json beside this file; times are in seconds unless the field
// name says _ms.
type Report struct {
	SchemaVersion       int     `json:"schema_version"`
	URLs                int     `json:"urls"`
	Runs                int     `json:"runs"`
	Warmup              int     `json:"warmup"`
	KeepAliveAcrossRuns bool    `json:"keep_alive_across_runs"`
	Knee                int     `json:"knee"`
	Levels              []Level `json:"levels"`
	// Environment is set by the caller (the command knows the version
	// and the settings); nil in exports older than it.
	Environment *Environment `json:"environment,omitempty"`
}

// Level is the outcome of one concurrency level over its timed runs.
type Level struct {
	Concurrency       int            `json:"concurrency"`
	Wall              Stats          `json:"wall_seconds"`
	RequestsPerSecond float64        `json:"requests_per_second"`
	Latency           Latency        `json:"latency_ms"`
	Bytes             int64          `json:"bytes_per_run"`
	OK                int            `json:"ok_per_run"`
	Failed            int            `json:"failed_per_run"`
	FailedByKind      map[string]int `json:"failed_by_kind"`
	SpeedUp           float64        `json:"speedup"`
	SpeedUpStddev     float64        `json:"speedup_stddev"`
	IdealSeconds      float64        `json:"ideal_seconds"`
	IdealSpeedUp      float64        `json:"ideal_speedup"`
	Efficiency        float64        `json:"efficiency"`
	Histogram         []Bucket       `json:"histogram"`
}

// Stats summarises repeated measurements.
type Stats struct {
	Mean   float64   `json:"mean"`
	Stddev float64   `json:"stddev"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Values []float64 `json:"values"`
}

// Latency holds request latency percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Bucket is one bar of the latency histogram: requests that took from
// LoMS up to HiMS milliseconds.
type Bucket struct {
	LoMS  float64 `json:"lo_ms"`
	HiMS  float64 `json:"hi_ms"`
	Count int     `json:"count"`
}

func statsOf(xs []float64) Stats {
	if len(xs) == 0 {
		return Stats{Values: []float64{}}
	}
	s := Stats{Min: slices.Min(xs), Max: slices.Max(xs), Values: xs}
	for _, x := range xs {
		s.Mean += x
	}
	s.Mean /= float64(len(xs))
	if len(xs) > 1 {
		var ss float64
		for _, x := range xs {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.Stddev = math.Sqrt(ss / float64(len(xs)-1))
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func latencyOf(h *output.Histogram) Latency {
	return Latency{P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P99: ms(h.Quantile(0.99)), Max: ms(h.Max())}
}

// barsPerDoubling sets the terminal histogram's resolution: bounds grow
// by a factor of 2^(1/4), about 19%, per bar.
const barsPerDoubling = 4

// displayBuckets regroups the fine histogram into bars on a log scale,
// few enough to read in a terminal; everything under 1 ms is one bar.
func displayBuckets(h *output.Histogram) []Bucket {
	var out []Bucket
	h.Buckets(func(lo, hi time.Duration, count int) {
		mid := ms(lo+hi) / 2
		bLo, bHi := 0.0, 1.0
		if mid >= 1 {
			b := math.Floor(math.Log2(mid) * barsPerDoubling)
			bLo, bHi = math.Exp2(b/barsPerDoubling), math.Exp2((b+1)/barsPerDoubling)
		}
		if n := len(out); n > 0 && out[n-1].LoMS == bLo {
			out[n-1].Count += count
			return
		}
		out = append(out, Bucket{LoMS: bLo, HiMS: bHi, Count: count})
	})
	if out == nil {
		out = []Bucket{}
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a bench JSON export: %w", path, err)
	}
	if r.SchemaVersion != SchemaVersion || len(r.Levels) == 0 {
		return nil, fmt.Errorf("%s: not a bench JSON export of this version (schema_version %d, %d levels)", path, r.SchemaVersion, len(r.Levels))
	}
	return &r, nil
}
