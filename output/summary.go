package output

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/fetchall/fetchall/crawler"
)

// Summary tallies results for the end-of-run report: counts, failures by
// kind, bytes and a latency histogram. It is a crawler.Sink, fed by the
// engine's single writer, and uses fixed memory. The zero value is ready.
type Summary struct {
	Total int
	OK    int
	Sent  int // results that sent a request (not a bad line, nor a seed robots.txt kept back)
	// Requests are the requests sent: retries, and a GET after a HEAD
	// the server refused, count.
	Requests int
	Saved    int // bodies saved (--save-dir)
	Bytes    int64
	Latency  Histogram
	// The phases of traced fetches (--fields): connect and TLS of new
	// connections, time to first byte of every response.
	Connect, TLS, TTFB Histogram
	failed             map[string]int
}

// Write counts one result.
func (s *Summary) Write(r *crawler.Result) error {
	s.Total++
	if r.Attempts > 0 {
		s.Sent++
		s.Requests += r.Attempts
	}
	s.Bytes += r.Bytes
	if r.SavedPath != "" {
		s.Saved++
	}
	if r.Status > 0 || r.OK {
		s.Latency.Add(r.Duration)
	}
	if d := r.Details; d != nil && r.Status > 0 {
		if !d.ConnReused {
			s.Connect.Add(d.Connect)
			if d.TLSVersion != "" {
				s.TLS.Add(d.TLS)
			}
		}
		s.TTFB.Add(d.TTFB)
	}
	if r.OK {
		s.OK++
		return nil
	}
	if s.failed == nil {
		s.failed = map[string]int{}
	}
	s.failed[string(r.Err.Kind)]++
	return nil
}

// Flush does nothing: a Summary is read at the end.
func (s *Summary) Flush() error { return nil }

// Failed is how many results were not OK.
func (s *Summary) Failed() int { return s.Total - s.OK }

// FailedCounts returns a copy of the failure counts by kind.
func (s *Summary) FailedCounts() map[string]int {
	out := make(map[string]int, len(s.failed))
	for k, n := range s.failed {
		out[k] = n
	}
	return out
}

// FailedByKind returns the failure counts, most frequent first, as
// "kind count" pairs ready to print.
func (s *Summary) FailedByKind() []string {
	kinds := make([]string, 0, len(s.failed))
	for k := range s.failed {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if s.failed[kinds[i]] != s.failed[kinds[j]] {
			return s.failed[kinds[i]] > s.failed[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = fmt.Sprintf("%s %d", k, s.failed[k])
	}
	return out
}

// Count is n with noun, in the plural unless n is one: "1 URL", "2 URLs".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// CountNouns is Count for a noun whose plural is not NOUN+s.
func CountNouns(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, Agree(n, one, many))
}

// Agree is one when n is one, else many: the word that agrees with a
// count ("1 record is", "2 records are").
func Agree(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Report writes the human summary of a run that took elapsed.
func (s *Summary) Report(w io.Writer, elapsed time.Duration) {
	failed := ""
	if s.Failed() > 0 {
		// A bad line or a seed robots.txt keeps back is a failed record
		// that was never fetched: the count says so, not "fetched".
		unsent := ""
		if n := s.Total - s.Sent; n > 0 {
			unsent = fmt.Sprintf("; %d of them sent no request", n)
		}
		failed = fmt.Sprintf(" (%s%s)", strings.Join(s.FailedByKind(), ", "), unsent)
	}
	fmt.Fprintf(w, "fetched %s in %s: %d ok, %d failed%s\n",
		Count(s.Total, "URL"), elapsed.Round(time.Millisecond), s.OK, s.Failed(), failed)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.Requests) / elapsed.Seconds() // retries count; a bad line is no request
	}
	fmt.Fprintf(w, "%.1f requests/s, %s read", rate, HumanBytes(s.Bytes))
	if s.Latency.Count() > 0 {
		fmt.Fprintf(w, "; latency p50 %s p90 %s p99 %s max %s",
			roundDur(s.Latency.Quantile(0.5)), roundDur(s.Latency.Quantile(0.9)),
			roundDur(s.Latency.Quantile(0.99)), roundDur(s.Latency.Max()))
	}
	fmt.Fprintln(w)
	if s.TTFB.Count() == 0 {
		return
	}
	// Each phase counts from the start of its request, as curl's -w does.
	fmt.Fprintf(w, "phases (p50/p99 from the request's start): ")
	if s.Connect.Count() > 0 {
		fmt.Fprintf(w, "connect %s/%s over %s, ", roundDur(s.Connect.Quantile(0.5)), roundDur(s.Connect.Quantile(0.99)), Count(s.Connect.Count(), "new connection"))
	}
	if s.TLS.Count() > 0 {
		fmt.Fprintf(w, "TLS %s/%s, ", roundDur(s.TLS.Quantile(0.5)), roundDur(s.TLS.Quantile(0.99)))
	}
	fmt.Fprintf(w, "first byte %s/%s\n", roundDur(s.TTFB.Quantile(0.5)), roundDur(s.TTFB.Quantile(0.99)))
}

// roundDur keeps three significant figures or so: 101ms, 1.23s, 850µs.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// HumanBytes formats n with binary units: 512 B, 1.5 KiB, 10.0 MiB. It
// is the one formatter of sizes, and ParseBytes reads what it writes.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// ParseBytes reads a size in bytes with an optional unit: 512, 64k,
// 10MiB, 1.5 MB, 2G, "10.0 MiB". Decimal and binary prefixes both mean
// powers of 1024, as users of download tools expect. It is the one parser
// of sizes, for flags and files alike.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number with an optional unit (k, MiB, GB...)", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
		"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("size %q: unknown unit %q (want k, MiB, GB...)", s, unit)
	}
	return int64(f * mult), nil
}
