package bench

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
)

// Environment is where and how a report was made; a baseline made with
// other settings is not comparable.
type Environment struct {
	FetchallVersion string            `json:"fetchall_version"`
	GoVersion       string            `json:"go_version"`
	GOOS            string            `json:"goos"`
	GOARCH          string            `json:"goarch"`
	CPUs            int               `json:"cpus"`
	GOMAXPROCS      int               `json:"gomaxprocs"`
	Hosts           []string          `json:"hosts"` // the hosts of the list, sorted (at most 100)
	HostCount       int               `json:"host_count"`
	Settings        map[string]string `json:"settings"`   // what decides the figures: levels, runs, timeout...
	StartedAt       string            `json:"started_at"` // RFC 3339
}

// Alpha is the significance level of baseline comparisons, as benchstat's.
const Alpha = 0.05

// Comparison is one level measured against the baseline's same level.
type Comparison struct {
	Concurrency int
	Old, New    Stats   // wall seconds
	Change      float64 // (new mean - old mean) / old mean
	P           float64 // two-sided Mann-Whitney U p-value
	Significant bool    // P < Alpha
}

// Slower says the level got significantly slower.
func (c Comparison) Slower() bool { return c.Significant && c.Change > 0 }

// Comparable says why old cannot be a baseline for r, or nil when it
// can: both must come from the same list and settings.
func (r *Report) Comparable(old *Report) error {
	switch {
	case old.Environment == nil:
		return fmt.Errorf("the baseline records no settings (an export of an older fetchall): export it again")
	case r.Environment == nil:
		return fmt.Errorf("this report records no settings")
	case old.URLs != r.URLs:
		return fmt.Errorf("the baseline measured %d URLs, this run %d: not the same list", old.URLs, r.URLs)
	case !slices.Equal(old.Environment.Hosts, r.Environment.Hosts) || old.Environment.HostCount != r.Environment.HostCount:
		return fmt.Errorf("the baseline measured hosts %s, this run %s", strings.Join(old.Environment.Hosts, ","), strings.Join(r.Environment.Hosts, ","))
	}
	var diffs []string
	keys := slices.Sorted(maps.Keys(r.Environment.Settings))
	for k := range old.Environment.Settings {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if a, b := old.Environment.Settings[k], r.Environment.Settings[k]; a != b {
			diffs = append(diffs, fmt.Sprintf("%s %q, now %q", k, a, b))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the baseline was made with other settings: %s", strings.Join(diffs, "; "))
	}
	return nil
}

// CompareWith tests every level both reports measured.
func (r *Report) CompareWith(old *Report) []Comparison {
	var out []Comparison
	for _, lv := range r.Levels {
		for _, o := range old.Levels {
			if o.Concurrency != lv.Concurrency {
				continue
			}
			c := Comparison{Concurrency: lv.Concurrency, Old: o.Wall, New: lv.Wall}
			if o.Wall.Mean > 0 {
				c.Change = (lv.Wall.Mean - o.Wall.Mean) / o.Wall.Mean
			}
			c.P = MannWhitney(o.Wall.Values, lv.Wall.Values)
			c.Significant = c.P < Alpha
			out = append(out, c)
		}
	}
	return out
}

// WriteComparison writes the comparisons, one level a line.
func WriteComparison(w io.Writer, baseline string, cs []Comparison) {
	fmt.Fprintf(w, "against %s (Mann-Whitney U, two-sided, alpha %.2f):\n", baseline, Alpha)
	for _, c := range cs {
		fmt.Fprintf(w, "  %4d workers: wall %.3fs -> %.3fs (%+.1f%%), p=%.3f: ", c.Concurrency, c.Old.Mean, c.New.Mean, 100*c.Change, c.P)
		switch {
		case c.Slower():
			fmt.Fprintln(w, "SLOWER")
		case c.Significant:
			fmt.Fprintln(w, "faster")
		case len(c.Old.Values) < 4 || len(c.New.Values) < 4:
			fmt.Fprintf(w, "no significant difference (with %d and %d runs none can be: use --runs 4 or more)\n", len(c.Old.Values), len(c.New.Values))
		default:
			fmt.Fprintln(w, "no significant difference")
		}
	}
	if len(cs) == 0 {
		fmt.Fprintln(w, "  no level in common")
	}
}

// MannWhitney is the two-sided p-value of the Mann-Whitney U test that a
// and b come from the same distribution: exact for small samples without
// ties, from the normal approximation (ties and continuity corrected)
// otherwise. 1 when either sample is empty.
func MannWhitney(a, b []float64) float64 {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return 1
	}
	type obs struct {
		v     float64
		first bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range a {
		all = append(all, obs{v, true})
	}
	for _, v := range b {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	n := n1 + n2
	rankSum, tieTerm, ties := 0.0, 0.0, false
	for i := 0; i < n; {
		j := i
		for j < n && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // ranks i+1 .. j, averaged
		for k := i; k < j; k++ {
			if all[k].first {
				rankSum += rank
			}
		}
		if t := float64(j - i); t > 1 {
			ties = true
			tieTerm += t*t*t - t
		}
		i = j
	}
	u := rankSum - float64(n1*(n1+1))/2
	if !ties && n <= 50 {
		return exactP(n1, n2, u)
	}
	mu := float64(n1*n2) / 2
	sigma := math.Sqrt(float64(n1*n2) / 12 * (float64(n+1) - tieTerm/float64(n*(n-1))))
	if sigma == 0 {
		return 1
	}
	z := (math.Abs(u-mu) - 0.5) / sigma
	return min(1, math.Erfc(max(z, 0)/math.Sqrt2))
}

// exactP counts the arrangements of n1 and n2 observations whose U is as
// extreme as u, on both sides.
func exactP(n1, n2 int, u float64) float64 {
	// ways[i][j][k]: orderings of i and j observations with U = k.
	maxU := n1 * n2
	prev := make([][]float64, n2+1)
	for j := range prev {
		prev[j] = make([]float64, maxU+1)
		prev[j][0] = 1 // no first-sample observation: U is 0
	}
	for i := 1; i <= n1; i++ {
		cur := make([][]float64, n2+1)
		for j := range cur {
			cur[j] = make([]float64, maxU+1)
			for k := 0; k <= maxU; k++ {
				// The largest observation is from the first sample (it beats
				// all j of the second) or from the second.
				if k >= j {
					cur[j][k] += prev[j][k-j]
				}
				if j > 0 {
					cur[j][k] += cur[j-1][k]
				}
			}
		}
		prev = cur
	}
	dist := prev[n2]
	total := 0.0
	for _, w := range dist {
		total += w
	}
	lo, hi := 0.0, 0.0
	for k, w := range dist {
		if float64(k) <= u {
			lo += w
		}
		if float64(k) >= u {
			hi += w
		}
	}
	return min(1, 2*min(lo, hi)/total)
}
