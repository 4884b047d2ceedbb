package bench

import (
	"math"
	"strings"
	"testing"
)

// Known values: R's wilcox.test(x, y, exact=TRUE) and
// scipy.stats.mannwhitneyu(x, y, method="exact").
func TestMannWhitneyKnownValues(t *testing.T) {
	tests := []struct {
		a, b []float64
		p    float64
	}{
		{[]float64{1, 2, 3, 4}, []float64{5, 6, 7, 8}, 2.0 / 70},                    // complete separation, 4 and 4
		{[]float64{1, 2, 3}, []float64{4, 5, 6}, 0.1},                               // 3 and 3: the smallest p there is
		{[]float64{1, 3, 5, 7}, []float64{2, 4, 6, 8}, 0.6857142857142857},          // interleaved
		{[]float64{1.1, 2.2, 3.3, 4.4, 5.5}, []float64{1.1, 2.2, 3.3, 4.4, 5.5}, 1}, // identical, with ties
	}
	for _, tt := range tests {
		if got := MannWhitney(tt.a, tt.b); math.Abs(got-tt.p) > 1e-3 {
			t.Errorf("MannWhitney(%v, %v) = %.4f, want %.4f", tt.a, tt.b, got, tt.p)
		}
	}
	// Large samples with a clear shift: the normal approximation.
	var a, b []float64
	for i := range 30 {
		a = append(a, float64(i))
		b = append(b, float64(i)+20.5)
	}
	if p := MannWhitney(a, b); p > 1e-5 {
		t.Errorf("shifted samples of 30: p %g", p)
	}
	if p := MannWhitney(nil, b); p != 1 {
		t.Errorf("empty sample: p %g", p)
	}
}

func TestThresholds(t *testing.T) {
	rep := &Report{URLs: 100, Levels: []Level{
		{Concurrency: 1, Latency: Latency{P99: 120}, SpeedUp: 1, Efficiency: 1, Failed: 0},
		{Concurrency: 16, Latency: Latency{P99: 250}, SpeedUp: 9.5, Efficiency: 0.92, Failed: 2, RequestsPerSecond: 800},
	}}
	cases := map[string]bool{
		"p99<300ms": true, "p99<0.2s": false, "p99@1<130ms": true, "p99@all<200ms": false,
		"speedup>8": true, "efficiency>0.9": true, "efficiency>95%": false, "errors<1%": false, "errors<=2%": true,
		"rps>=800": true, "p99@8<1s": false,
	}
	for expr, want := range cases {
		th, err := ParseThreshold(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		passed := true
		for _, v := range rep.Check([]Threshold{th}) {
			passed = passed && v.Passed
		}
		if passed != want {
			t.Errorf("%s: passed %v, want %v (%v)", expr, passed, want, rep.Check([]Threshold{th}))
		}
	}
	for _, bad := range []string{"p98<3ms", "speedup>8ms", "p99=3", "p99<", "latency<3ms", "speedup>8%", "p99@0<1s"} {
		if _, err := ParseThreshold(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestBaselineRefusesOtherSettings(t *testing.T) {
	env := func(runs string) *Environment {
		return &Environment{Hosts: []string{"127.0.0.1:8080"}, HostCount: 1, Settings: map[string]string{"runs": runs, "timeout": "30s"}}
	}
	a := &Report{URLs: 10, Environment: env("5")}
	if err := a.Comparable(&Report{URLs: 10, Environment: env("5")}); err != nil {
		t.Errorf("same settings: %v", err)
	}
	for _, old := range []*Report{{URLs: 10, Environment: env("3")}, {URLs: 11, Environment: env("5")}, {URLs: 10}} {
		if err := a.Comparable(old); err == nil {
			t.Errorf("baseline %+v accepted", old)
		}
	}
	a.Levels = []Level{{Concurrency: 4, Wall: Stats{Mean: 2, Values: []float64{2, 2.1, 1.9, 2.05, 1.95}}}}
	old := &Report{Levels: []Level{{Concurrency: 4, Wall: Stats{Mean: 1, Values: []float64{1, 1.1, 0.9, 1.05, 0.95}}}}}
	cs := a.CompareWith(old)
	if len(cs) != 1 || !cs[0].Slower() || math.Abs(cs[0].Change-1) > 1e-9 {
		t.Errorf("a doubled wall time: %+v", cs)
	}
}

// One worker is one worker in the report and the verdicts ("Latency, 1
// workers" and "at 1 workers" said otherwise).
func TestOneWorkerIsSingular(t *testing.T) {
	rep := &Report{URLs: 3, Levels: []Level{{Concurrency: 1, Latency: Latency{P99: 120}, SpeedUp: 1, Efficiency: 1}}, Knee: 1}
	var text strings.Builder
	rep.WriteText(&text)
	th, err := ParseThreshold("p99<1s")
	if err != nil {
		t.Fatal(err)
	}
	verdicts := rep.Check([]Threshold{th})
	if strings.Contains(text.String(), "1 workers") || len(verdicts) != 1 || !strings.Contains(verdicts[0].String(), "at 1 worker:") {
		t.Errorf("report:\n%s\nverdict %v; want 1 worker, singular", text.String(), verdicts)
	}
}
