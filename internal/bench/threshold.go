package bench

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Threshold is a pass/fail criterion on a report, as k6 has them:
// p99<300ms, speedup>8, efficiency>0.9, errors<1%. It applies to the
// highest concurrency level, or to the level after @ (p99@16<300ms), or
// to every level with @all.
type Threshold struct {
	Text   string
	Metric string
	Level  int // 0: the highest level; -1: every level
	Op     string
	Value  float64 // in the metric's unit: ms, seconds, requests/s, a share, a ratio
}

// Metrics are what a threshold may test, with their unit.
var Metrics = map[string]string{
	"p50": "ms", "p90": "ms", "p99": "ms", "max": "ms",
	"wall": "s", "rps": "requests/s", "speedup": "x", "efficiency": "share", "errors": "share",
}

var thresholdPattern = regexp.MustCompile(`^\s*([a-z0-9]+)(?:@(all|\d+))?\s*(<=|>=|<|>)\s*([0-9.]+)\s*(ms|s|us|µs|%)?\s*$`)

// ParseThreshold reads one --threshold expression.
func ParseThreshold(text string) (Threshold, error) {
	m := thresholdPattern.FindStringSubmatch(text)
	if m == nil {
		return Threshold{}, fmt.Errorf("threshold %q: want METRIC[@LEVEL]<VALUE or >VALUE, e.g. p99<300ms, speedup>8, efficiency@16>0.9, errors<1%%", text)
	}
	t := Threshold{Text: strings.TrimSpace(text), Metric: m[1], Op: m[3]}
	unit, ok := Metrics[t.Metric]
	if !ok {
		return Threshold{}, fmt.Errorf("threshold %q: unknown metric %q (want p50, p90, p99, max, wall, rps, speedup, efficiency or errors)", text, t.Metric)
	}
	switch m[2] {
	case "":
	case "all":
		t.Level = -1
	default:
		t.Level, _ = strconv.Atoi(m[2])
		if t.Level < 1 {
			return Threshold{}, fmt.Errorf("threshold %q: level %s: want a concurrency level of 1 or more", text, m[2])
		}
	}
	v, err := strconv.ParseFloat(m[4], 64)
	if err != nil {
		return Threshold{}, fmt.Errorf("threshold %q: %q is not a number", text, m[4])
	}
	switch suffix := m[5]; {
	case suffix == "%" && unit == "share":
		v /= 100
	case suffix == "%":
		return Threshold{}, fmt.Errorf("threshold %q: %s is not a share; %% fits efficiency and errors", text, t.Metric)
	case suffix != "" && unit != "ms" && unit != "s":
		return Threshold{}, fmt.Errorf("threshold %q: %s takes no time unit", text, t.Metric)
	case suffix == "s" && unit == "ms":
		v *= 1000
	case (suffix == "us" || suffix == "µs") && unit == "ms":
		v /= 1000
	case suffix == "ms" && unit == "s":
		v /= 1000
	case (suffix == "us" || suffix == "µs") && unit == "s":
		v /= 1e6
	}
	t.Value = v
	return t, nil
}

// Verdict is a threshold's outcome at one level.
type Verdict struct {
	Threshold Threshold
	Level     int
	Got       float64
	Passed    bool
	Missing   bool // the level was not measured
}

// Check tests the thresholds against the report.
func (r *Report) Check(ts []Threshold) []Verdict {
	var out []Verdict
	for _, t := range ts {
		var levels []Level
		switch {
		case len(r.Levels) == 0:
		case t.Level == 0:
			levels = r.Levels[len(r.Levels)-1:]
		case t.Level < 0:
			levels = r.Levels
		default:
			for _, lv := range r.Levels {
				if lv.Concurrency == t.Level {
					levels = append(levels, lv)
				}
			}
		}
		if len(levels) == 0 {
			out = append(out, Verdict{Threshold: t, Level: t.Level, Missing: true})
			continue
		}
		for _, lv := range levels {
			got := metric(lv, t.Metric, r.URLs)
			out = append(out, Verdict{Threshold: t, Level: lv.Concurrency, Got: got, Passed: compare(got, t.Op, t.Value)})
		}
	}
	return out
}

func metric(lv Level, name string, urls int) float64 {
	switch name {
	case "p50":
		return lv.Latency.P50
	case "p90":
		return lv.Latency.P90
	case "p99":
		return lv.Latency.P99
	case "max":
		return lv.Latency.Max
	case "wall":
		return lv.Wall.Mean
	case "rps":
		return lv.RequestsPerSecond
	case "speedup":
		return lv.SpeedUp
	case "efficiency":
		return lv.Efficiency
	case "errors":
		if urls == 0 {
			return 0
		}
		return float64(lv.Failed) / float64(urls)
	}
	return 0
}

func compare(got float64, op string, want float64) bool {
	switch op {
	case "<":
		return got < want
	case "<=":
		return got <= want
	case ">":
		return got > want
	}
	return got >= want
}

// String says the verdict in words: "p99<300ms at 32 workers: 12.3ms, passed".
func (v Verdict) String() string {
	where := "at " + workers(v.Level)
	if v.Missing {
		return fmt.Sprintf("%s: FAILED, level %d was not measured", v.Threshold.Text, v.Level)
	}
	verdict := "passed"
	if !v.Passed {
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s %s: %s, %s", v.Threshold.Text, where, formatMetric(v.Threshold.Metric, v.Got), verdict)
}

func formatMetric(name string, v float64) string {
	switch Metrics[name] {
	case "ms":
		return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
	case "s":
		return strconv.FormatFloat(v, 'f', 3, 64) + "s"
	case "share":
		return strconv.FormatFloat(v*100, 'f', 2, 64) + "%"
	case "x":
		return strconv.FormatFloat(v, 'f', 2, 64) + "x"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
