package job

import (
	"fmt"
	"io"
	"strings"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/output"
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
	}
	for _, f := range j.Follow {
		d.printf("follow: links in %q", f.CSS.Text)
		if len(f.Pass) > 0 {
			names := make([]string, len(f.Pass))
			for i, p := range f.Pass {
				names[i] = p.Name
			}
			d.printf(", passing %s to the pages they lead to", strings.Join(names, ", "))
		}
		d.printf("\n")
	}
	if j.Paginate != nil {
		d.printf("paginate: every page, %s\n", j.Paginate.describe())
	}
	d.printf("rules:\n")
	for i, r := range j.Rules {
		where := "every page"
		if r.Match != nil {
			where = fmt.Sprintf("pages matching %q", r.Match.String())
		}
		what := "the page is one item"
		if r.Select != nil {
			what = "one item per " + r.Select.Text()
		}
		d.printf("  %s: %s, %s\n", r.Label(i), where, what)
		if r.Paginate != nil {
			d.printf("    paginate: %s\n", r.Paginate.describe())
		}
		d.fields("    ", r.Fields)
		if r.Expect != nil {
			d.printf("    expect: %s\n", r.Expect.describe())
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

// fields describes fields, nested ones indented under their select.
func (d *describer) fields(indent string, fields []Field) {
	for _, f := range fields {
		if f.Nested() {
			d.printf("%s%s: a list, one object per %s:\n", indent, f.Name, f.Select.Text())
			d.fields(indent+"  ", f.Fields)
			continue
		}
		d.printf("%s%s: %s\n", indent, f.Name, f.describe())
	}
}

func (p *Paginate) describe() string {
	var how string
	if p.Next != nil {
		how = fmt.Sprintf("next link %q", p.Next.Text)
	} else {
		how = fmt.Sprintf("next URL from jq %q", p.JQ.Text)
		if p.Param != "" {
			how = fmt.Sprintf("cursor from jq %q into query parameter %s", p.JQ.Text, p.Param)
		}
	}
	return fmt.Sprintf("%s (or a Link: rel=next header), at most %d %s, not counted in max_depth", how, p.MaxPages, output.Agree(p.MaxPages, "page", "pages"))
}

func (e *Expect) describe() string {
	var parts []string
	if e.PerPage != nil {
		parts = append(parts, "per page "+e.PerPage.String())
	}
	if e.Total != nil {
		parts = append(parts, "in total "+e.Total.String())
	}
	for _, s := range e.Filled {
		parts = append(parts, fmt.Sprintf("%s filled in %s", s.Field, percent(s.Min)))
	}
	if len(e.Samples) > 0 {
		parts = append(parts, output.Count(len(e.Samples), "sample page"))
	}
	return strings.Join(parts, "; ")
}

// describe says in words how the field is extracted.
func (f Field) describe() string {
	var parts []string
	switch {
	case f.CSS != nil:
		parts = append(parts, fmt.Sprintf("css %q", f.CSS.Text))
	case f.XPath != nil:
		parts = append(parts, fmt.Sprintf("xpath %q", f.XPath.Text))
	case f.Meta != "":
		parts = append(parts, fmt.Sprintf("meta %q", f.Meta))
	case f.JSONLD != "":
		parts = append(parts, fmt.Sprintf("the JSON-LD %s object", f.JSONLD))
	}
	if f.JQ != nil {
		parts = append(parts, fmt.Sprintf("jq %q", f.JQ.Text))
	}
	switch {
	case f.Attr != "":
		parts = append(parts, "attribute "+f.Attr)
	case f.HTML:
		parts = append(parts, "inner HTML")
	case f.CSS != nil || f.XPath != nil:
		parts = append(parts, "text")
	}
	if f.URL {
		parts = append(parts, "as an absolute URL")
	}
	if f.Regex != nil {
		parts = append(parts, fmt.Sprintf("regex %q", f.Regex.String()))
	}
	if t := f.valueType(); t != "" {
		parts = append(parts, t)
	}
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
