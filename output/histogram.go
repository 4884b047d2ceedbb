package output

import (
	"math"
	"time"
)

// bucketsPerE sets the histogram's resolution: 50 buckets per factor of e
// put any quantile within about 2% of the true value.
const bucketsPerE = 50

// Histogram records durations in logarithmic buckets, so quantiles cost
// fixed memory (a few KiB) however many durations are added. The zero value
// is empty and ready to use; it is not safe for concurrent use.
type Histogram struct {
	counts []uint32
	n      int
	max    time.Duration
}

// Add records one duration.
func (h *Histogram) Add(d time.Duration) {
	i := bucket(d)
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]uint32, i+1-len(h.counts))...)
	}
	h.counts[i]++
	h.n++
	h.max = max(h.max, d)
}

// Count is how many durations were added.
func (h *Histogram) Count() int { return h.n }

// Max is the longest duration added.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the duration below which a fraction q (0..1) of the
// added durations fall, to within the bucket width; 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	seen := 0
	for i, c := range h.counts {
		seen += int(c)
		if seen >= rank {
			return min(bucketValue(i), h.max)
		}
	}
	return h.max
}

// Buckets calls f for every non-empty bucket in order, with its bounds.
func (h *Histogram) Buckets(f func(lo, hi time.Duration, count int)) {
	for i, c := range h.counts {
		if c > 0 {
			f(bucketLow(i), bucketLow(i+1), int(c))
		}
	}
}

func bucket(d time.Duration) int {
	us := max(float64(d)/float64(time.Microsecond), 0)
	return int(math.Log1p(us) * bucketsPerE)
}

func bucketLow(i int) time.Duration {
	return time.Duration(math.Expm1(float64(i)/bucketsPerE) * float64(time.Microsecond))
}

// bucketValue is the middle of bucket i on the log scale.
func bucketValue(i int) time.Duration {
	return time.Duration(math.Expm1((float64(i)+0.5)/bucketsPerE) * float64(time.Microsecond))
}
