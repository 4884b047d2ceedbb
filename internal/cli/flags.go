package cli

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// byteSize is a flag value in bytes that accepts human units: 512, 64k,
// 10MiB, 1.5MB, 2G. Decimal and binary prefixes both mean powers of 1024,
// as users of download tools expect.
type byteSize int64

func (b *byteSize) String() string { return formatSize(int64(*b)) }
func (b *byteSize) Type() string   { return "size" }

func (b *byteSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func parseSize(s string) (int64, error) {
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

func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return strconv.FormatInt(n, 10)
}

// statusSet is a flag value listing HTTP statuses and ranges, such as
// "200-399,404". Setting it replaces the default (below 400).
type statusSet struct {
	text   string
	ranges [][2]int
}

func (s *statusSet) String() string { return s.text }
func (s *statusSet) Type() string   { return "statuses" }

func (s *statusSet) Set(v string) error {
	var ranges [][2]int
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, errA := strconv.Atoi(strings.TrimSpace(lo))
		b, errB := a, error(nil)
		if isRange {
			b, errB = strconv.Atoi(strings.TrimSpace(hi))
		}
		if errA != nil || errB != nil || a < 100 || b > 599 || a > b {
			return fmt.Errorf("status list %q: %q is not a status (100-599) or range like 200-399", v, part)
		}
		ranges = append(ranges, [2]int{a, b})
	}
	s.text, s.ranges = v, ranges
	return nil
}

// accept reports whether status counts as ok; with no list, below 400 does.
func (s *statusSet) accept(status int) bool {
	if s.ranges == nil {
		return status < 400
	}
	for _, r := range s.ranges {
		if status >= r[0] && status <= r[1] {
			return true
		}
	}
	return false
}
