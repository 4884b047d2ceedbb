package job

import (
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
)

// Item is one extracted object: the page it came from and its fields'
// values in the rule's order (nil for an absent optional field).
type Item struct {
	Rule   int
	URL    string
	Values []any
}

// PageItems is what the rules found on one page.
type PageItems struct {
	Items []Item
	// Matched lists the rules whose match accepted the page; Dropped
	// counts, by rule, items left out for a missing required field.
	Matched []int
	Dropped map[int]int
}

// Extractor applies a job's rules to pages. It holds no state, so it is
// safe for concurrent use by the crawl's workers.
type Extractor struct {
	Rules []Rule
}

// Extract applies every rule whose match accepts pageURL to doc.
func (e Extractor) Extract(doc *goquery.Document, pageURL *url.URL) any {
	out := PageItems{Dropped: map[int]int{}}
	base := pageURL
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if b, err := pageURL.Parse(strings.TrimSpace(href)); err == nil {
			base = b
		}
	}
	page := pageURL.String()
	for i, r := range e.Rules {
		if r.Match != nil && !r.Match.MatchString(page) {
			continue
		}
		out.Matched = append(out.Matched, i)
		roots := doc.Selection
		if r.Select != nil {
			roots = doc.FindMatcher(r.Select.Matcher)
		}
		roots.Each(func(_ int, root *goquery.Selection) {
			item := Item{Rule: i, URL: page, Values: make([]any, len(r.Fields))}
			for k, f := range r.Fields {
				v, ok := f.extract(root, base)
				switch {
				case ok:
					item.Values[k] = v
				case f.Required:
					out.Dropped[i]++
					return
				default:
					item.Values[k] = f.Default
				}
			}
			out.Items = append(out.Items, item)
		})
	}
	return out
}

// extract returns the field's value within root, and false when there is
// none: no element matches, or no match survives the attribute, regex and
// type steps. A list field with no values is absent too.
func (f Field) extract(root *goquery.Selection, base *url.URL) (any, bool) {
	var values []any
	root.FindMatcher(f.CSS.Matcher).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if v, ok := f.value(s, base); ok {
			values = append(values, v)
		}
		return f.All || len(values) == 0
	})
	switch {
	case len(values) == 0:
		return nil, false
	case f.All:
		return values, true
	}
	return values[0], true
}

// value takes one element's value through the field's steps.
func (f Field) value(s *goquery.Selection, base *url.URL) (any, bool) {
	var text string
	switch {
	case f.Attr != "":
		v, ok := s.Attr(f.Attr)
		if !ok {
			return nil, false
		}
		text = strings.TrimSpace(v)
	case f.HTML:
		h, err := s.Html()
		if err != nil {
			return nil, false
		}
		text = strings.TrimSpace(h)
	default:
		text = strings.Join(strings.Fields(s.Text()), " ")
	}
	if f.URL {
		u, err := base.Parse(text)
		if err != nil {
			return nil, false
		}
		text = u.String()
	}
	if f.Regex != nil {
		m := f.Regex.FindStringSubmatch(text)
		if m == nil {
			return nil, false
		}
		text = m[0]
		if len(m) > 1 {
			text = m[1]
		}
	}
	v, err := convert(text, f.Type)
	if err != nil {
		return nil, false
	}
	return v, true
}
