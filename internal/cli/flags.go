package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fetchall/fetchall/output"
)

// byteSize is a flag value in bytes that accepts human units (see
// output.ParseBytes): 512, 64k, 10MiB, 1.5MB, 2G.
type byteSize int64

func (b *byteSize) String() string { return output.HumanBytes(int64(*b)) }
func (b *byteSize) Type() string   { return "size" }

func (b *byteSize) Set(s string) error {
	n, err := output.ParseBytes(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
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
