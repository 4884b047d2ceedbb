package job

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fetchall/fetchall/crawler"
)

// MaxStartURLs bounds what the ranges of start may expand to, so that a
// typo ({1..10000000}) is an error, not a memory blow-up.
const MaxStartURLs = 100_000

// rangePattern is {FROM..TO} or {FROM..TO..STEP} in a start URL.
var rangePattern = regexp.MustCompile(`\{(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?\}`)

// start expands the ranges of the start URLs, naming the entry at fault.
func (d decoder) start(n *yaml.Node, urls []string) ([]string, error) {
	var out []string
	for i, u := range urls {
		at, key := n, "start"
		if n.Kind == yaml.SequenceNode {
			at, key = n.Content[i], fmt.Sprintf("start[%d]", i)
		}
		expanded, err := expandRanges(u, MaxStartURLs-len(out))
		if err != nil {
			return nil, d.at(at, key, err)
		}
		// A start URL is the job's own text, not a line of a list: a typo
		// there stops the job before anything is fetched, naming its line,
		// as a bad selector does.
		for _, e := range expanded {
			if strings.TrimSpace(e) == "" {
				return nil, d.at(at, key, errors.New("an empty start URL"))
			}
			if _, err := crawler.Canonical(strings.TrimSpace(e)); err != nil {
				return nil, d.at(at, key, fmt.Errorf("%q: %w", e, err))
			}
		}
		out = append(out, expanded...)
	}
	return out, nil
}

// expandRanges returns the URLs a template stands for: {1..3} gives 1, 2
// and 3; {0..20..5} steps by 5; {01..10} keeps the zero padding as
// written; several ranges multiply. At most limit URLs.
func expandRanges(template string, limit int) ([]string, error) {
	m := rangePattern.FindStringSubmatchIndex(template)
	if m == nil {
		return []string{template}, nil
	}
	from, _ := strconv.Atoi(template[m[2]:m[3]])
	to, _ := strconv.Atoi(template[m[4]:m[5]])
	step := 1
	if m[6] >= 0 {
		step, _ = strconv.Atoi(template[m[6]:m[7]])
		if step <= 0 {
			return nil, fmt.Errorf("range %s: the step must be at least 1", template[m[0]:m[1]])
		}
	}
	if to < from {
		return nil, fmt.Errorf("range %s: counts up only (write the smaller number first)", template[m[0]:m[1]])
	}
	width := 0
	for _, num := range []string{template[m[2]:m[3]], template[m[4]:m[5]]} {
		if len(num) > 1 && strings.HasPrefix(num, "0") {
			width = max(width, len(num))
		}
	}
	if (to-from)/step+1 > limit {
		return nil, fmt.Errorf("range %s: more than %d start URLs", template[m[0]:m[1]], MaxStartURLs)
	}
	var out []string
	for v := from; v <= to; v += step {
		rest, err := expandRanges(template[m[1]:], limit-len(out))
		if err != nil {
			return nil, err
		}
		num := fmt.Sprintf("%0*d", width, v)
		for _, r := range rest {
			out = append(out, template[:m[0]]+num+r)
		}
		if len(out) > limit {
			return nil, errors.New("the ranges give more than " + strconv.Itoa(MaxStartURLs) + " start URLs")
		}
	}
	return out, nil
}
