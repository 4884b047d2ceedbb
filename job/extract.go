package job

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/antchfx/htmlquery"
	"github.com/antchfx/xpath"
	"github.com/itchyny/gojq"
	"golang.org/x/net/html"

	"github.com/fetchall/fetchall/crawler"
)

// Item is one extracted object: the page it came from, its fields'
// values in the rule's order (nil for an absent optional field, []Object
// for a nested field), and what the pages that led here passed on.
type Item struct {
	Rule    int
	URL     string
	Values  []any
	Context map[string]any
}

// Object is one nested object: its fields' values in their order.
type Object struct {
	Fields []Field
	Values []any
}

// MarshalJSON writes the object's fields in the job's order.
func (o Object) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range o.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeJSON(&b, f.Name); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := writeJSON(&b, o.Values[i]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// PageItems is what the rules found on one page.
type PageItems struct {
	Items []Item
	// Matched lists the rules whose match accepted the page; Dropped
	// counts, by rule, items left out for a missing required field.
	Matched []int
	Dropped map[int]int
	// JQErrors counts the jq programs that failed on the page (an error,
	// or out of time): each gave no value. JQError is the first, said.
	JQErrors int
	JQError  string
	// TypeErrors counts the values found that their field's type could
	// not read ("£1,234" as a float): each gave no value. TypeError is the
	// first, said.
	TypeErrors int
	TypeError  string
}

// maxOutputs bounds the values one jq program may give on one page, and
// jqTimeout the time all of a page's jq programs may take: a program that
// never ends must not hold a worker.
const (
	maxOutputs = 10_000
	jqTimeout  = 10 * time.Second
)

// Extractor applies a job's rules to pages and finds their next pages.
// It holds no state, so it is safe for concurrent use by the workers.
type Extractor struct {
	job *Job
}

// NewExtractor returns the extractor of a checked job.
func NewExtractor(j *Job) Extractor { return Extractor{job: j} }

// FollowRules are the job's follow rules for the crawl, each passing its
// fields on; nil when the job follows every in-scope link.
func (j *Job) FollowRules() []crawler.FollowRule {
	var out []crawler.FollowRule
	for _, f := range j.Follow {
		rule := crawler.FollowRule{Within: f.CSS.Matcher}
		if len(f.Pass) > 0 {
			rule.Pass = func(p *crawler.Page) []byte { return passOn(p, f.Pass) }
		}
		out = append(out, rule)
	}
	return out
}

// passOn gives what a follow rule's links carry: the page's own context
// with the rule's fields, taken from the page, added.
func passOn(p *crawler.Page, fields []Field) []byte {
	v := newView(p)
	defer v.close()
	ctx := v.context()
	if ctx == nil {
		ctx = map[string]any{}
	}
	root := node{sel: v.doc.Selection}
	for _, f := range fields {
		if val, ok := f.extract(v, root); ok {
			ctx[f.Name] = val
		}
	}
	if len(ctx) == 0 {
		return nil
	}
	b, _ := json.Marshal(ctx)
	return b
}

// Extract applies every rule whose match accepts the page, and returns
// its items (PageItems) and the next pages its paginate blocks find.
func (e Extractor) Extract(p *crawler.Page) crawler.Extraction {
	v := newView(p)
	defer v.close()
	out := PageItems{Dropped: map[int]int{}}
	passed := v.context()
	paginate := []*Paginate{}
	if e.job.Paginate != nil {
		paginate = append(paginate, e.job.Paginate)
	}
	for i, r := range e.job.Rules {
		if r.Match != nil && !r.Match.MatchString(v.url) {
			continue
		}
		out.Matched = append(out.Matched, i)
		if r.Paginate != nil {
			paginate = append(paginate, r.Paginate)
		}
		for _, root := range v.roots(r.Select, v.top()) {
			values, ok := object(v, root, r.Fields)
			if !ok {
				out.Dropped[i]++
				continue
			}
			out.Items = append(out.Items, Item{Rule: i, URL: v.url, Values: values, Context: passed})
		}
	}
	links := v.nextPages(paginate)
	out.JQErrors, out.JQError = v.jqErrors, v.jqError
	out.TypeErrors, out.TypeError = v.typeErrors, v.typeError
	return crawler.Extraction{Items: out, Links: links}
}

// object takes the fields' values within root; false when a required
// field is missing.
func object(v *view, root node, fields []Field) ([]any, bool) {
	values := make([]any, len(fields))
	for k, f := range fields {
		val, ok := f.extract(v, root)
		switch {
		case ok:
			values[k] = val
		case f.Required:
			return nil, false
		case f.Nested() && f.Default == nil:
			values[k] = []Object{}
		default:
			values[k] = f.Default
		}
	}
	return values, true
}

// view is one page as the rules read it: its HTML tree or its JSON value,
// and what is parsed from it on first use.
type view struct {
	page   *crawler.Page
	url    string
	base   *url.URL // the page URL, or its <base href>
	doc    *goquery.Document
	json   any
	isJSON bool
	ld     []any // the JSON-LD objects, flattened; parsed on first use
	ldRead bool

	ctx    context.Context // bounds jq programs
	cancel context.CancelFunc
	// The jq programs that failed here, and the first one's error.
	jqErrors int
	jqError  string
	// The values found here that were not of their field's type, and the
	// first one, said.
	typeErrors int
	typeError  string
}

// node is where a field is read: an element (or the document), or a JSON
// value.
type node struct {
	sel  *goquery.Selection
	json any
}

func newView(p *crawler.Page) *view {
	v := &view{page: p, url: p.URL.String(), base: p.URL, doc: p.Doc}
	if v.doc != nil {
		if href, ok := v.doc.Find("base[href]").First().Attr("href"); ok {
			if b, err := p.URL.Parse(strings.TrimSpace(href)); err == nil {
				v.base = b
			}
		}
	} else {
		v.json, v.isJSON = decodeJSON(p.Body)
	}
	return v
}

// decodeJSON reads a JSON page. Its numbers stay as written
// (json.Number, which jq takes): a float64 made an id of 23 digits
// another number, and a page with 1e400 anywhere was no JSON at all, so
// gave no item. A byte order mark before it is skipped, as RFC 8259
// allows (.NET services send one).
func decodeJSON(body []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // more after the value: not one JSON document
	}
	return v, true
}

func (v *view) close() {
	if v.cancel != nil {
		v.cancel()
	}
}

// context is what the link to this page carried, or nil.
func (v *view) context() map[string]any {
	var ctx map[string]any
	if len(v.page.Data) > 0 && json.Unmarshal(v.page.Data, &ctx) != nil {
		return nil
	}
	return ctx
}

// top is the whole page: the document, or the JSON value.
func (v *view) top() node {
	if v.doc != nil {
		return node{sel: v.doc.Selection}
	}
	if v.isJSON {
		return node{json: v.json}
	}
	return node{}
}

// roots are the elements or values a select picks within n; n itself
// when there is no select.
func (v *view) roots(s *Select, n node) []node {
	if s == nil {
		if n.sel == nil && n.json == nil {
			return nil
		}
		return []node{n}
	}
	var out []node
	switch {
	case s.CSS != nil && n.sel != nil:
		n.sel.FindMatcher(s.CSS.Matcher).Each(func(_ int, sel *goquery.Selection) { out = append(out, node{sel: sel}) })
	case s.XPath != nil && n.sel != nil:
		v.xpath(s.XPath, n.sel, func(nav *htmlquery.NodeNavigator) bool {
			if nav.NodeType() == xpath.ElementNode {
				out = append(out, node{sel: v.selection(nav.Current())})
			}
			return true
		})
	case s.JQ != nil && n.json != nil:
		v.jq(s.JQ, n.json, func(x any) bool {
			out = append(out, node{json: x})
			return true
		})
	}
	return out
}

// selection wraps an element of the page's tree for goquery: CSS inside
// it finds its descendants, as in the page.
func (v *view) selection(n *html.Node) *goquery.Selection {
	return goquery.NewDocumentFromNode(n).Selection
}

// xpath runs an XPath expression from each node of sel, giving every
// node it selects to fn (a scalar result is given as a text node) until
// fn says stop.
func (v *view) xpath(x *XPath, sel *goquery.Selection, fn func(*htmlquery.NodeNavigator) bool) {
	expr := x.pool.Get().(*xpath.Expr)
	defer x.pool.Put(expr)
	for _, n := range sel.Nodes {
		switch res := expr.Evaluate(htmlquery.CreateXPathNavigator(n)).(type) {
		case *xpath.NodeIterator:
			for res.MoveNext() {
				nav, ok := res.Current().(*htmlquery.NodeNavigator)
				if ok && !fn(nav) {
					return
				}
			}
		default:
			text := &html.Node{Type: html.TextNode, Data: cell(res)}
			if !fn(htmlquery.CreateXPathNavigator(text)) {
				return
			}
		}
	}
}

// jq runs a program on a JSON value, giving each output to fn until fn
// says stop; an error is no value, and is counted.
func (v *view) jq(q *JQ, in any, fn func(any) bool) {
	if v.ctx == nil {
		v.ctx, v.cancel = context.WithTimeout(context.Background(), jqTimeout)
	}
	iter := q.Code.RunWithContext(v.ctx, in)
	for range maxOutputs {
		x, ok := iter.Next()
		if !ok {
			return
		}
		if err, isErr := x.(error); isErr {
			if _, halt := x.(*gojq.HaltError); halt {
				return
			}
			if v.jqErrors++; v.jqError == "" {
				v.jqError = fmt.Sprintf("jq %q: %v", q.Text, err)
			}
			continue
		}
		if !fn(x) {
			return
		}
	}
}

// jsonLD returns the page's JSON-LD objects: every object of every
// <script type="application/ld+json">, with arrays and @graph flattened.
func (v *view) jsonLD() []any {
	if v.ldRead || v.doc == nil {
		return v.ld
	}
	v.ldRead = true
	v.doc.Find(`script[type="application/ld+json" i]`).Each(func(_ int, s *goquery.Selection) {
		if x, ok := decodeJSON([]byte(s.Text())); ok { // numbers as written, as a JSON page's
			v.ld = flattenLD(v.ld, x)
		}
	})
	return v.ld
}

func flattenLD(out []any, x any) []any {
	switch t := x.(type) {
	case []any:
		for _, e := range t {
			out = flattenLD(out, e)
		}
	case map[string]any:
		out = append(out, t)
		if g, ok := t["@graph"]; ok {
			out = flattenLD(out, g)
		}
	}
	return out
}

// hasType says whether a JSON-LD object is of the type: "Product",
// ["Product", "Book"], or "http://schema.org/Product".
func hasType(obj any, typ string) bool {
	m, ok := obj.(map[string]any)
	if !ok {
		return false
	}
	match := func(t any) bool {
		s, _ := t.(string)
		return s == typ || strings.HasSuffix(s, "/"+typ)
	}
	switch t := m["@type"].(type) {
	case []any:
		return slices.ContainsFunc(t, match)
	default:
		return match(t)
	}
}

// extract returns the field's value within n, and false when there is
// none: no source value survives the field's steps. A list field with no
// values is absent too.
func (f Field) extract(v *view, n node) (any, bool) {
	if f.Nested() {
		var objs []Object
		for _, root := range v.roots(f.Select, n) {
			if values, ok := object(v, root, f.Fields); ok {
				objs = append(objs, Object{Fields: f.Fields, Values: values})
			}
		}
		return objs, len(objs) > 0
	}
	var values []any
	f.sources(v, n, func(raw any) bool {
		if val, ok := f.finish(v, raw); ok {
			values = append(values, val)
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

// sources gives the field's raw values within n, in document order, to
// fn until fn says stop.
func (f Field) sources(v *view, n node, fn func(any) bool) {
	switch {
	case f.CSS != nil && n.sel != nil:
		n.sel.FindMatcher(f.CSS.Matcher).EachWithBreak(func(_ int, s *goquery.Selection) bool {
			text, ok := f.text(s)
			return !ok || fn(text)
		})
	case f.XPath != nil && n.sel != nil:
		v.xpath(f.XPath, n.sel, func(nav *htmlquery.NodeNavigator) bool {
			if nav.NodeType() != xpath.ElementNode {
				return fn(strings.TrimSpace(nav.Value())) // an attribute, text or a scalar result
			}
			text, ok := f.text(v.selection(nav.Current()))
			return !ok || fn(text)
		})
	case f.Meta != "" && v.doc != nil:
		v.doc.Find("meta[content]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
			for _, attr := range []string{"property", "name", "itemprop"} {
				if strings.EqualFold(s.AttrOr(attr, ""), f.Meta) {
					return fn(strings.TrimSpace(s.AttrOr("content", "")))
				}
			}
			return true
		})
	case f.JSONLD != "":
		for _, obj := range v.jsonLD() {
			if !hasType(obj, f.JSONLD) {
				continue
			}
			more := true
			if f.JQ == nil {
				more = fn(obj)
			} else {
				v.jq(f.JQ, obj, func(x any) bool { more = fn(x); return more })
			}
			if !more {
				return
			}
		}
	case f.JQ != nil && n.json != nil:
		v.jq(f.JQ, n.json, fn)
	}
}

// text is an element's text (whitespace collapsed), attribute or inner
// HTML, as the field asks; false when the attribute is missing.
func (f Field) text(s *goquery.Selection) (string, bool) {
	switch {
	case f.Attr != "":
		v, ok := s.Attr(f.Attr)
		return strings.TrimSpace(v), ok
	case f.HTML:
		h, err := s.Html()
		return strings.TrimSpace(h), err == nil
	}
	return strings.Join(strings.Fields(s.Text()), " "), true
}

// finish takes a raw value through the field's steps: URL resolution,
// regex and type. A JSON value with none of them is kept as it is.
func (f Field) finish(v *view, raw any) (any, bool) {
	if raw == nil {
		return nil, false
	}
	text, isText := raw.(string)
	if !isText {
		if !f.URL && f.Regex == nil && f.Type == "" {
			return raw, true
		}
		if _, composite := raw.(map[string]any); composite {
			return nil, false
		}
		if n, isNumber := raw.(json.Number); isNumber && !f.URL && f.Regex == nil {
			if val, ok := typedNumber(n, f.valueType()); ok {
				return val, true
			}
		}
		text = cell(raw)
	}
	if f.URL {
		u, err := v.base.Parse(text)
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
	val, err := convert(text, f.valueType())
	if err != nil {
		// Empty text is a value missing; other text that is not of the
		// type most likely needs a regex, and the summary says so.
		if strings.TrimSpace(text) != "" {
			if v.typeErrors++; v.typeError == "" {
				v.typeError = fmt.Sprintf("field %s: %v", f.Name, err)
			}
		}
		return nil, false
	}
	return val, true
}

// typedNumber is a JSON number as the type asks, when it holds one: an
// int of 12.0 is 12, as it was read from a float64. False sends the
// number through the text conversion, which says what is wrong.
func typedNumber(n json.Number, typ string) (any, bool) {
	switch typ {
	case "float":
		f, err := n.Float64()
		return f, err == nil
	case "int":
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f), true
		}
	}
	return nil, false
}

// nextPages finds the next page of each pagination block that applies,
// while its chain is shorter than its max_pages.
func (v *view) nextPages(blocks []*Paginate) []crawler.Link {
	var links []crawler.Link
	add := func(from *url.URL, ref string) {
		u, err := from.Parse(strings.TrimSpace(ref))
		if err != nil || ref == "" || u.String() == v.url {
			return
		}
		if !slices.ContainsFunc(links, func(l crawler.Link) bool { return l.URL.String() == u.String() }) {
			links = append(links, crawler.Link{URL: u, Next: true})
		}
	}
	for _, p := range blocks {
		if v.page.Chain+1 >= p.MaxPages {
			continue
		}
		switch {
		case p.Next != nil && v.doc != nil:
			if href, ok := nextHref(v.doc.FindMatcher(p.Next.Matcher).First()); ok {
				add(v.base, href)
			}
		case p.JQ != nil && v.isJSON:
			v.jq(p.JQ, v.json, func(x any) bool {
				if x == nil || x == false || cell(x) == "" {
					return false
				}
				if p.Param == "" {
					add(v.page.URL, cell(x))
					return false
				}
				u := *v.page.URL
				q := u.Query()
				q.Set(p.Param, cell(x))
				u.RawQuery = q.Encode()
				add(&u, u.String())
				return false
			})
		}
		for _, target := range relNext(v.page.Header.Values("Link")) {
			add(v.page.URL, target)
		}
	}
	return links
}

// nextHref is the link a "next" selector points at: the element's own
// href, or that of the first link inside it.
func nextHref(s *goquery.Selection) (string, bool) {
	if href, ok := s.Attr("href"); ok {
		return href, true
	}
	return s.Find("a[href]").First().Attr("href")
}

// relNext returns the targets of Link headers with rel=next:
// `<https://x/?page=2>; rel="next"`.
func relNext(headers []string) []string {
	var out []string
	for _, h := range headers {
		for _, part := range strings.Split(h, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, param := range strings.Split(params, ";") {
				name, value, _ := strings.Cut(strings.TrimSpace(param), "=")
				if strings.EqualFold(strings.TrimSpace(name), "rel") && slices.Contains(strings.Fields(strings.ToLower(strings.Trim(value, `"`))), "next") {
					out = append(out, target[1:len(target)-1])
				}
			}
		}
	}
	return out
}
