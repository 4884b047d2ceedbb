package job

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fetchall/fetchall/output"
)

// Checker follows a run's items against its rules' contracts.
type Checker struct {
	// SavedPages says the pages are saved ones (run --check): what follow
	// rules pass is unknown there, so contracts on it are not checked.
	SavedPages bool

	job     *Job
	badPage []pageFault   // by rule: pages whose item count broke per_page
	total   []int         // items written, by rule
	filled  [][]int       // by rule, by Share: items with the field filled
	samples [][]sampleRun // by rule, by Sample
}

type pageFault struct {
	pages int // pages out of bounds
	first string
	items int // items on the first of them
}

type sampleRun struct {
	met   bool   // the page was extracted
	found bool   // an item had every value
	near  string // what the closest item had, for the report
}

// Result is one contract's verdict.
type Result struct {
	Rule     string
	Contract string // as the job says it: "per_page between 1 and 50"
	Broken   bool
	Skipped  bool   // a sample whose page was not among those checked
	Detail   string // what broke it, or what was not checked
}

func newChecker(j *Job) *Checker {
	n := len(j.Rules)
	c := &Checker{job: j, badPage: make([]pageFault, n), total: make([]int, n), filled: make([][]int, n), samples: make([][]sampleRun, n)}
	for i, r := range j.Rules {
		if r.Expect != nil {
			c.filled[i] = make([]int, len(r.Expect.Filled))
			c.samples[i] = make([]sampleRun, len(r.Expect.Samples))
		}
	}
	return c
}

// page checks one page's items (before unique_by) against per_page and
// the samples for its URL.
func (c *Checker) page(pageURL string, found PageItems) {
	for _, i := range found.Matched {
		e := c.job.Rules[i].Expect
		if e == nil {
			continue
		}
		var items []Item
		for _, it := range found.Items {
			if it.Rule == i {
				items = append(items, it)
			}
		}
		if e.PerPage != nil && !e.PerPage.holds(len(items)) {
			f := &c.badPage[i]
			if f.pages == 0 {
				f.first, f.items = pageURL, len(items)
			}
			f.pages++
		}
		for k, s := range e.Samples {
			if sameURL(s.URL, pageURL) {
				c.samples[i][k] = c.sample(i, s, items)
			}
		}
	}
}

// sample checks a sample page's items: one must have every value.
func (c *Checker) sample(rule int, s Sample, items []Item) sampleRun {
	run := sampleRun{met: true, near: "no item"}
	best := -1
	for _, it := range items {
		hits, missed := 0, ""
		for _, w := range s.Includes {
			if c.SavedPages && c.passed(rule, w.Field) {
				hits++
				continue
			}
			v, _ := c.value(rule, it, w.Field)
			if sameValue(v, w.Value) {
				hits++
			} else if missed == "" {
				missed = fmt.Sprintf("%s was %s, want %s", w.Field, show(v), show(w.Value))
			}
		}
		if hits == len(s.Includes) {
			return sampleRun{met: true, found: true}
		}
		if hits > best {
			best, run.near = hits, "the closest item's "+missed
		}
	}
	return run
}

func show(v any) string {
	if v == nil {
		return "missing"
	}
	return strconv.Quote(cell(v))
}

// passed says whether a name is one follow rules pass, not a field of the
// rule.
func (c *Checker) passed(rule int, name string) bool {
	return !slices.ContainsFunc(c.job.Rules[rule].Fields, func(f Field) bool { return f.Name == name })
}

// value is an item's field, or what follow rules passed under that name.
func (c *Checker) value(rule int, it Item, name string) (any, bool) {
	for k, f := range c.job.Rules[rule].Fields {
		if f.Name == name {
			return it.Values[k], it.Values[k] != nil
		}
	}
	v, ok := it.Context[name]
	return v, ok
}

// written counts an item that goes to the output, for total and filled.
func (c *Checker) written(it Item) {
	c.total[it.Rule]++
	e := c.job.Rules[it.Rule].Expect
	if e == nil {
		return
	}
	for k, s := range e.Filled {
		if v, ok := c.value(it.Rule, it, s.Field); ok && !empty(v) {
			c.filled[it.Rule][k]++
		}
	}
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case []Object:
		return len(x) == 0
	}
	return false
}

// Results says how every contract fared. everyPage says the run had the
// chance to fetch every sample page (a crawl, not a few saved pages): a
// sample never met is then broken, not skipped.
func (c *Checker) Results(everyPage bool) []Result {
	var out []Result
	for i, r := range c.job.Rules {
		e := r.Expect
		if e == nil {
			continue
		}
		label := r.Label(i)
		if e.PerPage != nil {
			res := Result{Rule: label, Contract: "per_page " + e.PerPage.String()}
			if f := c.badPage[i]; f.pages > 0 {
				res.Broken = true
				res.Detail = fmt.Sprintf("%s out of bounds, first %s with %s", output.Count(f.pages, "page"), f.first, output.Count(f.items, "item"))
			}
			out = append(out, res)
		}
		if e.Total != nil {
			res := Result{Rule: label, Contract: "total " + e.Total.String()}
			if !e.Total.holds(c.total[i]) {
				res.Broken, res.Detail = true, output.Count(c.total[i], "item")+" written"
			}
			out = append(out, res)
		}
		for k, s := range e.Filled {
			res := Result{Rule: label, Contract: fmt.Sprintf("filled %s at least %s", s.Field, percent(s.Min))}
			if c.SavedPages && c.passed(i, s.Field) {
				res.Skipped, res.Detail = true, "passed on by a follow rule: unknown on a saved page"
				out = append(out, res)
				continue
			}
			share := 0.0
			if c.total[i] > 0 {
				share = float64(c.filled[i][k]) / float64(c.total[i])
			}
			if c.total[i] == 0 || share < s.Min {
				res.Broken = true
				res.Detail = fmt.Sprintf("%s of %s", percent(share), output.Count(c.total[i], "item"))
			}
			out = append(out, res)
		}
		for k, s := range e.Samples {
			res := Result{Rule: label, Contract: "sample " + s.URL}
			run := c.samples[i][k]
			switch {
			case !run.met && everyPage:
				res.Broken, res.Detail = true, "the page was not fetched (out of reach, or a limit stopped the run first)"
			case !run.met:
				res.Skipped, res.Detail = true, "not among the pages checked"
			case !run.found:
				res.Broken, res.Detail = true, "no item with every value: "+run.near
			}
			out = append(out, res)
		}
	}
	return out
}

func percent(f float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", f*100), "0"), ".") + "%"
}

// sameURL compares a sample's URL with a page's, as a crawl writes it:
// scheme and host in any case, no fragment, default port or not.
func sameURL(a, b string) bool {
	return normalURL(a) == normalURL(b)
}

func normalURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	u.Scheme, u.Host, u.Fragment = strings.ToLower(u.Scheme), strings.ToLower(u.Host), ""
	if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		u.Host = u.Hostname()
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}
