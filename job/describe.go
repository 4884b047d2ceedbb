package job

import (
	"fmt"
	"io"
	"strings"

	"github.com/fetchall/fetchall/crawler"
)

// Describe writes what the job would do with the crawl settings s, in
// words, fetching nothing: the start, the crawl's bounds, what it follows,
// each rule and field, and where the items go. It returns the first write
// error.
func (j *Job) Describe(w io.Writer, s crawler.Settings) error {
	d := &describer{w: w}
	d.printf("job %s is valid; nothing was fetched (--dry-run).\n\n", j.File)
	d.printf("start:\n")
	for _, u := range j.Start {
		d.printf("  %s\n", u)
	}
	if j.StartFile != "" {
		d.printf("  the URLs of %s\n", j.StartFile)
	}
	robots := "obeyed"
	if s.IgnoreRobots {
		robots = "IGNORED"
	}
	scope := s.Scope.Mode
	if scope == "" {
		scope = crawler.ScopeHost
	}
	d.printf("crawl: scope %s, max depth %d, max pages %d (0: no limit), concurrency %d, per host %d, robots.txt %s\n",
		scope, s.MaxDepth, s.MaxPages, s.Workers, s.Limits.PerHost, robots)
	if len(s.Scope.Include)+len(s.Scope.Exclude) > 0 {
		d.printf("  include %q, exclude %q\n", s.Scope.Include, s.Scope.Exclude)
	}
	if len(j.Follow) == 0 {
		d.printf("follow: every in-scope link\n")
	} else {
		texts := make([]string, len(j.Follow))
		for i, f := range j.Follow {
			texts[i] = f.Text
		}
		d.printf("follow: links in %s\n", strings.Join(texts, " | "))
	}
	d.printf("rules:\n")
	for i, r := range j.Rules {
		where := "every page"
		if r.Match != nil {
			where = fmt.Sprintf("pages matching %q", r.Match.String())
		}
		what := "the page is one item"
		if r.Select != nil {
			what = fmt.Sprintf("one item per %q", r.Select.Text)
		}
		d.printf("  %s: %s, %s\n", r.Label(i), where, what)
		for _, f := range r.Fields {
			d.printf("    %s: %s\n", f.Name, f.describe())
		}
	}
	dest := j.Output.Path
	if dest == "" {
		dest = "standard output"
	}
	d.printf("output: %s to %s", j.Output.Format, dest)
	if j.Output.UniqueBy != "" {
		d.printf(", unique by %s", j.Output.UniqueBy)
	}
	if j.Output.Errors != "" {
		d.printf("; failed pages to %s", j.Output.Errors)
	}
	d.printf("\n")
	return d.err
}

// describer writes until the first error and keeps it.
type describer struct {
	w   io.Writer
	err error
}

func (d *describer) printf(format string, args ...any) {
	if d.err == nil {
		_, d.err = fmt.Fprintf(d.w, format, args...)
	}
}

// describe says in words how the field is extracted.
func (f Field) describe() string {
	parts := []string{fmt.Sprintf("css %q", f.CSS.Text)}
	switch {
	case f.Attr != "":
		parts = append(parts, "attribute "+f.Attr)
	case f.HTML:
		parts = append(parts, "inner HTML")
	default:
		parts = append(parts, "text")
	}
	if f.URL {
		parts = append(parts, "as an absolute URL")
	}
	if f.Regex != nil {
		parts = append(parts, fmt.Sprintf("regex %q", f.Regex.String()))
	}
	parts = append(parts, f.Type)
	if f.All {
		parts = append(parts, "every match")
	}
	if f.Required {
		parts = append(parts, "required")
	} else if f.Default != nil {
		parts = append(parts, fmt.Sprintf("default %v", f.Default))
	}
	return strings.Join(parts, ", ")
}
