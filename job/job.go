// Package job reads scraping job files: where to start, which links to
// follow, what to extract from which pages, and where to write it. Every
// mistake in a job file is found before anything is fetched and named by
// file, line and key.
package job

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"go.yaml.in/yaml/v3"

	"github.com/fetchall/fetchall/internal/config"
	"github.com/fetchall/fetchall/internal/samefile"
)

// Job is a checked job file.
type Job struct {
	File      string
	Start     []string // start URLs, when given inline, with {1..50} ranges expanded
	StartFile string   // or a file of them, relative to the working directory
	Follow    []Follow
	Paginate  *Paginate // for every page; a rule may have its own
	Rules     []Rule
	Output    Output
	// Settings holds every other key: crawl and fetch settings by their
	// flag names, applied with config.ApplyNode. Nil when there are none.
	Settings *yaml.Node
}

// Selector is a compiled CSS selector with its text.
type Selector struct {
	Text    string
	Matcher goquery.Matcher
}

// Follow is a follow rule: the links in or under the elements its CSS
// matches are followed, carrying the Pass fields (taken from the page
// that links) to the pages they lead to.
type Follow struct {
	CSS  Selector `yaml:"css"`
	Pass []Field  `yaml:"-"`
}

// Paginate follows a listing's "next" links (or a JSON API's next URL
// or cursor) without counting them against max_depth, up to MaxPages
// pages. A Link: rel=next header is a next link too.
type Paginate struct {
	Next     *Selector `yaml:"next"`      // the next link, or an element holding it
	JQ       *JQ       `yaml:"jq"`        // for JSON pages: the next URL, or the cursor
	Param    string    `yaml:"param"`     // with jq: the query parameter the cursor goes in
	MaxPages int       `yaml:"max_pages"` // pages in the chain, the first included
}

// DefaultMaxPages bounds a pagination chain whose job says no bound: a
// listing that always links to a next page must still end.
const DefaultMaxPages = 1000

// Rule extracts items from the pages whose URL it matches.
type Rule struct {
	Name     string    `yaml:"name"`   // "" when the job gives none
	Match    *Pattern  `yaml:"match"`  // nil: every page
	Select   *Select   `yaml:"select"` // nil: the page is one item
	Paginate *Paginate `yaml:"-"`      // next pages of the pages it matches
	Fields   []Field   `yaml:"-"`      // in the file's order
	Expect   *Expect   `yaml:"-"`      // its contract, or nil
}

// Label is the rule's name for summaries: its name, or its position.
func (r Rule) Label(i int) string {
	if r.Name != "" {
		return r.Name
	}
	return fmt.Sprintf("items[%d]", i)
}

// Field is one value of an item, from one source: css, xpath, meta,
// jsonld (optionally narrowed by jq) or jq; or, with select and fields,
// a list of nested objects.
type Field struct {
	Name     string    `yaml:"-"`
	CSS      *Selector `yaml:"css"`
	XPath    *XPath    `yaml:"xpath"`
	Meta     string    `yaml:"meta"`     // <meta property|name=...> content
	JSONLD   string    `yaml:"jsonld"`   // the first JSON-LD object of this @type
	JQ       *JQ       `yaml:"jq"`       // on a JSON item, or on the JSON-LD object
	Attr     string    `yaml:"attr"`     // take this attribute instead of the text
	HTML     bool      `yaml:"html"`     // take the inner HTML instead of the text
	URL      bool      `yaml:"url"`      // resolve the value against the page URL
	Regex    *Pattern  `yaml:"regex"`    // keep the first capture group, or the match
	Type     string    `yaml:"type"`     // string, int, float or bool; "" keeps a JSON value as it is
	All      bool      `yaml:"all"`      // a list of every match
	Required bool      `yaml:"required"` // an item (or nested object) without it is dropped
	Default  any       `yaml:"-"`        // for a missing optional field; nil is null
	// Select and Fields make a nested field: one object per match.
	Select *Select `yaml:"select"`
	Fields []Field `yaml:"-"`
}

// Nested says whether the field is a list of objects.
func (f Field) Nested() bool { return len(f.Fields) > 0 }

// Output says where items go.
type Output struct {
	Path     string `yaml:"path"`      // "" is standard output
	Format   string `yaml:"format"`    // jsonl or csv
	UniqueBy string `yaml:"unique_by"` // drop later items with the same value of this field
	Errors   string `yaml:"errors"`    // a JSONL file of one record per failed page, or ""
	// FormatFrom says where Format came from: "" (the default, or the
	// path's extension), "file" or "--set". A -o on the command line
	// names its format by its extension over the file's, not --set's.
	FormatFrom string `yaml:"-"`
}

// FormatOfName is the item format a file name asks for by its extension
// (.csv, .jsonl, .ndjson), or "".
func FormatOfName(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return "csv"
	case ".jsonl", ".ndjson":
		return "jsonl"
	}
	return ""
}

// SetOutputPath sends the items to path ("" is standard output), in the
// format its extension asks for unless --set gave one: a user who names
// the file books.csv means CSV, as with fetch's -o.
func (o *Output) SetOutputPath(path string) {
	o.Path = path
	if f := FormatOfName(path); f != "" && o.FormatFrom != "--set" {
		o.Format = f
	}
}

// jobFile is the top of a job file as decoded; every other key is a setting.
type jobFile struct {
	Start     textList `yaml:"start"`
	StartFile text     `yaml:"start_file"`
	Output    Output   `yaml:"output"`
}

// Keys are the keys a job file adds to the settings keys.
var Keys = []string{"start", "start_file", "follow", "paginate", "items", "output"}

var types = []string{"string", "int", "float", "bool"}

// keyAt is the value node of the key path under n (its own line, or
// --set's), or n when the path is not there.
func keyAt(n *yaml.Node, path ...string) *yaml.Node {
	v := n
	for _, k := range path {
		if v = valueOf(v, k); v == nil {
			return n
		}
	}
	return v
}

// errorAt makes the error for a key at a node: file, line and dotted key.
func errorAt(file string, n *yaml.Node, key string, err error) error {
	return &config.Error{File: file, Line: n.Line, Key: key, Err: err}
}

// Parse reads a job file's bytes. sets are "dotted.key=value" overrides,
// applied to the file before it is checked, as --set gives them.
func Parse(file string, data []byte, sets []string) (*Job, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, config.SyntaxError(file, data, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: the job file is empty", file)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		why := "want a mapping of key: value"
		if root.Kind == yaml.ScalarNode && strings.Contains(root.Value, "://") {
			why += " (this looks like a list of URLs: fetchall FILE fetches them, fetchall crawl --seeds FILE crawls from them)"
		}
		return nil, errorAt(file, root, "", errors.New(why))
	}
	for _, s := range sets {
		if err := applySet(root, s); err != nil {
			return nil, err
		}
	}
	d := decoder{file: file}
	settings := &yaml.Node{Kind: yaml.MappingNode}
	top := jobFile{Output: Output{Format: "jsonl"}}
	nodes, err := d.mapping(root, "", &top, []string{"items", "follow", "paginate"}, settings)
	if err != nil {
		return nil, err
	}
	j := &Job{File: file, StartFile: string(top.StartFile), Output: top.Output}
	formatNode, pathNode := valueOf(nodes["output"], "format"), valueOf(nodes["output"], "path")
	switch {
	case formatNode != nil && formatNode.Line == config.SetLine:
		j.Output.FormatFrom = "--set"
	case formatNode != nil:
		j.Output.FormatFrom = "file"
	}
	// output.path: books.csv with no format given, or given with --set
	// over the file's format, asks for CSV as -o books.csv does.
	if pathNode != nil && (formatNode == nil || (pathNode.Line == config.SetLine && j.Output.FormatFrom == "file")) {
		j.Output.SetOutputPath(j.Output.Path)
	}
	if j.Output.Format != "jsonl" && j.Output.Format != "csv" {
		at := keyAt(nodes["output"], "format")
		return nil, d.at(at, "output.format", fmt.Errorf("format %q: want jsonl or csv", j.Output.Format))
	}
	if sn, ok := nodes["start"]; ok {
		if j.Start, err = d.start(sn, top.Start); err != nil {
			return nil, err
		}
	}
	if fn, ok := nodes["follow"]; ok {
		if j.Follow, err = d.follows(fn); err != nil {
			return nil, err
		}
	}
	if pn, ok := nodes["paginate"]; ok {
		if j.Paginate, err = d.paginate(pn, "paginate"); err != nil {
			return nil, err
		}
	}
	if items, ok := nodes["items"]; ok {
		if j.Rules, err = d.rules(items); err != nil {
			return nil, err
		}
	}
	if len(settings.Content) > 0 {
		j.Settings = settings
	}
	if err := j.check(root); err != nil {
		return nil, err
	}
	return j, d.contracts(j, nodes["items"])
}

// misspelt is the key among the job's settings whose spelling is close to
// one of keys; nil when none is (or keys is empty).
func (j *Job) misspelt(keys []string) *yaml.Node {
	if j.Settings == nil || len(keys) == 0 {
		return nil
	}
	for i := 0; i+1 < len(j.Settings.Content); i += 2 {
		if k := j.Settings.Content[i]; config.Suggest(k.Value, keys) != "" {
			return k
		}
	}
	return nil
}

// check enforces what spans keys.
func (j *Job) check(root *yaml.Node) error {
	// A missing key was most likely misspelt: "itemz" is a setting to the
	// decoder, and the user wants to hear about it, not that items is
	// missing.
	var missing []string
	if len(j.Start) == 0 && j.StartFile == "" {
		missing = append(missing, "start", "start_file")
	}
	if len(j.Rules) == 0 {
		missing = append(missing, "items")
	}
	if k := j.misspelt(missing); k != nil {
		return errorAt(j.File, k, k.Value, fmt.Errorf("unknown key (did you mean %q?)", config.Suggest(k.Value, missing)))
	}
	switch {
	case len(j.Start) == 0 && j.StartFile == "":
		return errorAt(j.File, root, "start", errors.New("the job needs start (a list of URLs) or start_file"))
	case len(j.Start) > 0 && j.StartFile != "":
		return errorAt(j.File, keyAt(root, "start_file"), "start_file", errors.New("give start or start_file, not both"))
	case len(j.Rules) == 0:
		return errorAt(j.File, root, "items", errors.New("the job needs at least one rule under items"))
	}
	if j.Output.Errors != "" && j.Output.Path != "" && samefile.Same(j.Output.Errors, j.Output.Path) {
		return errorAt(j.File, keyAt(root, "output", "errors"), "output.errors", fmt.Errorf("%q is output.path too: the failed pages would be written over the items; give another file", j.Output.Errors))
	}
	if j.Output.UniqueBy != "" {
		found := false
		for _, r := range j.Rules {
			found = found || slices.ContainsFunc(r.Fields, func(f Field) bool { return f.Name == j.Output.UniqueBy && !f.Nested() })
		}
		if !found {
			return errorAt(j.File, keyAt(root, "output", "unique_by"), "output.unique_by", fmt.Errorf("%q is not a field of any rule (a nested list cannot be one)", j.Output.UniqueBy))
		}
	}
	return nil
}

// ContextNames are the names of the fields follow rules pass on, in the
// job's order: every item may carry them after its own fields.
func (j *Job) ContextNames() []string {
	var names []string
	for _, f := range j.Follow {
		for _, p := range f.Pass {
			if !slices.Contains(names, p.Name) {
				names = append(names, p.Name)
			}
		}
	}
	return names
}

// follows decodes the follow list: each entry a CSS selector, or a
// mapping {css: ..., pass: {name: field...}}.
func (d decoder) follows(v *yaml.Node) ([]Follow, error) {
	if v.Kind == yaml.ScalarNode {
		v = &yaml.Node{Kind: yaml.SequenceNode, Line: v.Line, Content: []*yaml.Node{v}}
	}
	if v.Kind != yaml.SequenceNode {
		return nil, d.at(v, "follow", errors.New(`want a list of CSS selectors or {css: ..., pass: {...}}`))
	}
	var out []Follow
	for i, fn := range v.Content {
		path := fmt.Sprintf("follow[%d]", i)
		var f Follow
		if fn.Kind == yaml.ScalarNode {
			if err := fn.Decode(&f.CSS); err != nil {
				return nil, d.at(fn, path, err)
			}
			out = append(out, f)
			continue
		}
		nodes, err := d.mapping(fn, path, &f, []string{"pass"}, nil)
		if err != nil {
			return nil, err
		}
		if f.CSS.Matcher == nil {
			return nil, d.at(fn, path+".css", errors.New("a follow rule needs css: the elements whose links are followed"))
		}
		if pn, ok := nodes["pass"]; ok {
			if f.Pass, err = d.fields(pn, path+".pass"); err != nil {
				return nil, err
			}
			for k, p := range f.Pass {
				if p.Nested() {
					return nil, d.at(pn.Content[2*k], path+".pass."+p.Name, errors.New("a passed field is one value, not a nested list"))
				}
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// paginate decodes a pagination block.
func (d decoder) paginate(v *yaml.Node, path string) (*Paginate, error) {
	p := &Paginate{}
	nodes, err := d.mapping(v, path, p, nil, nil)
	if err != nil {
		return nil, err
	}
	switch {
	case p.Next == nil && p.JQ == nil:
		return nil, d.at(v, path, errors.New("paginate needs next (a CSS selector of the next link) or jq (the next URL or cursor of a JSON page)"))
	case p.Next != nil && p.JQ != nil:
		return nil, d.at(v, path, errors.New("give next or jq, not both"))
	case p.Param != "" && p.JQ == nil:
		return nil, d.at(nodes["param"], path+".param", errors.New("param names the query parameter a jq cursor goes in; it needs jq"))
	}
	if mn, ok := nodes["max_pages"]; ok && p.MaxPages < 1 {
		return nil, d.at(mn, path+".max_pages", fmt.Errorf("max_pages %d: want at least 1 (the first page counts)", p.MaxPages))
	}
	if p.MaxPages == 0 {
		p.MaxPages = DefaultMaxPages
	}
	return p, nil
}

// rules decodes the items list: a rule per entry, its fields in order.
func (d decoder) rules(v *yaml.Node) ([]Rule, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, d.at(v, "items", errors.New("want a list of rules"))
	}
	var rules []Rule
	for i, rn := range v.Content {
		path := fmt.Sprintf("items[%d]", i)
		var r Rule
		nodes, err := d.mapping(rn, path, &r, []string{"fields", "paginate", "expect"}, nil)
		if err != nil {
			return nil, err
		}
		if fn, ok := nodes["fields"]; ok {
			if r.Fields, err = d.fields(fn, path+".fields"); err != nil {
				return nil, err
			}
		}
		if len(r.Fields) == 0 {
			return nil, d.at(rn, path+".fields", errors.New("a rule needs at least one field"))
		}
		if pn, ok := nodes["paginate"]; ok {
			if r.Paginate, err = d.paginate(pn, path+".paginate"); err != nil {
				return nil, err
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// fields decodes a mapping of name: field.
func (d decoder) fields(v *yaml.Node, path string) ([]Field, error) {
	if v.Kind != yaml.MappingNode {
		return nil, d.at(v, path, errors.New("want a mapping of field name: {css: ...}"))
	}
	var fields []Field
	for i := 0; i+1 < len(v.Content); i += 2 {
		name, fn := v.Content[i], v.Content[i+1]
		at := path + "." + name.Value
		switch {
		case name.Value == "url":
			return nil, d.at(name, at, errors.New(`"url" is every item's first column; name the field otherwise`))
		case name.Value == "":
			return nil, d.at(name, at, errors.New("a field needs a name"))
		case strings.Contains(name.Value, "."):
			return nil, d.at(name, at, errors.New(`a field name cannot hold "." (CSV names nested columns parent.child)`))
		case slices.ContainsFunc(fields, func(f Field) bool { return f.Name == name.Value }):
			return nil, d.at(name, at, errors.New("field named twice"))
		}
		f, err := d.field(name.Value, fn, at)
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// field decodes one field and checks that its keys make sense together.
func (d decoder) field(name string, fn *yaml.Node, at string) (Field, error) {
	f := Field{Name: name}
	nodes, err := d.mapping(fn, at, &f, []string{"default", "fields"}, nil)
	if err != nil {
		return f, err
	}
	if sub, ok := nodes["fields"]; ok {
		if f.Select == nil {
			return f, d.at(fn, at+".select", errors.New("a nested field needs select: the elements (or jq values) each object comes from"))
		}
		if f.Fields, err = d.fields(sub, at+".fields"); err != nil {
			return f, err
		}
		if len(f.Fields) == 0 {
			return f, d.at(sub, at+".fields", errors.New("a nested field needs at least one field"))
		}
		for _, k := range []string{"css", "xpath", "meta", "jsonld", "jq", "attr", "html", "url", "regex", "type", "all", "default"} {
			if kn, ok := nodes[k]; ok {
				return f, d.at(kn, at+"."+k, fmt.Errorf("%s does not apply to a nested field (select + fields); put it on a field inside", k))
			}
		}
		return f, nil
	}
	if f.Select != nil {
		return f, d.at(nodes["select"], at+".select", errors.New("select makes a nested field: give it fields too"))
	}
	sources := 0
	for _, k := range []string{"css", "xpath", "meta", "jsonld", "jq"} {
		if _, ok := nodes[k]; ok {
			sources++
		}
	}
	if f.JSONLD != "" && f.JQ != nil {
		sources-- // jq narrows the JSON-LD object
	}
	switch {
	case sources == 0:
		return f, d.at(fn, at, errors.New("a field needs a source: css, xpath, meta, jsonld or jq (or select + fields for a nested list)"))
	case sources > 1:
		return f, d.at(fn, at, errors.New("give one source of css, xpath, meta, jsonld, jq (jsonld may take a jq path)"))
	case !slices.Contains(types, f.Type) && f.Type != "":
		return f, d.at(nodes["type"], at+".type", fmt.Errorf("type %q: want string, int, float or bool", f.Type))
	case f.HTML && f.Attr != "":
		return f, d.at(fn, at, errors.New("take html or attr, not both"))
	case (f.HTML || f.Attr != "") && f.CSS == nil && f.XPath == nil:
		return f, d.at(fn, at, errors.New("html and attr apply to css and xpath fields"))
	}
	if dn, ok := nodes["default"]; ok {
		raw, err := scalar(dn)
		if err == nil {
			f.Default, err = convert(raw, f.valueType())
		}
		if err != nil {
			return f, d.at(dn, at+".default", err)
		}
	}
	return f, nil
}

// valueType is the type a field's values take: its type, or string for
// text (a JSON value with no type is kept as it is).
func (f Field) valueType() string {
	if f.Type == "" && f.JQ == nil && f.JSONLD == "" {
		return "string"
	}
	return f.Type
}

func scalar(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", errors.New("want a single value")
	}
	return n.Value, nil
}

func stringList(n *yaml.Node) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errors.New("want a list of values")
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		s, err := scalar(item)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// convert turns text into a value of the field's type.
func convert(text, typ string) (any, error) {
	switch typ {
	case "int":
		num, ok := plainNumber(text)
		n, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("%q is not an int", text)
		}
		return n, nil
	case "float":
		num, ok := plainNumber(text)
		f, err := strconv.ParseFloat(num, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("%q is not a float", text)
		}
		return f, nil
	case "bool":
		// Pages say yes and no more often than true and false.
		switch t := strings.ToLower(strings.TrimSpace(text)); t {
		case "yes", "y", "on":
			return true, nil
		case "no", "n", "off":
			return false, nil
		}
		b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(text)))
		if err != nil {
			return nil, fmt.Errorf("%q is not a bool", text)
		}
		return b, nil
	}
	return text, nil
}

// plainNumber rewrites a number as pages write it ("1,234.50",
// "1.234,50", "1 234,50", "12,50", "-3") in Go's syntax ("1234.50",
// "12.50"); false when text is no such number. The decimal mark is the
// last of "." and "," when both appear; a lone "." is one, and so is a
// lone "," unless 3 digits follow it after 1-3 (nonzero-led) digits:
// "1,234" is a thousand, "12,50" twelve and a half, "1.234" one and a
// bit. Removing every comma, as before, read "12,50" as 1250. Inf, NaN,
// hex and exponents are not page numbers.
func plainNumber(text string) (string, bool) {
	t := strings.TrimSpace(text)
	sign := ""
	if t != "" && (t[0] == '-' || t[0] == '+') {
		sign, t = t[:1], strings.TrimSpace(t[1:])
	}
	// Spaces, no-break spaces and apostrophes group thousands too.
	t = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '\u2009', '\'', '\u2019':
			return -1
		}
		return r
	}, t)
	if t == "" || strings.Trim(t, "0123456789.,") != "" {
		return "", false
	}
	comma, dot := strings.LastIndexByte(t, ','), strings.LastIndexByte(t, '.')
	var mark, group byte
	switch {
	case comma >= 0 && dot >= 0:
		mark, group = '.', ','
		if comma > dot {
			mark, group = ',', '.'
		}
	case comma >= 0 || dot >= 0:
		sep := byte(',')
		if dot >= 0 {
			sep = '.'
		}
		whole, frac, _ := strings.Cut(t, string(sep))
		thousand := sep == ',' && len(frac) == 3 && len(whole) <= 3 && whole != "" && whole[0] != '0'
		if strings.Count(t, string(sep)) > 1 || thousand {
			group = sep
		} else {
			mark = sep
		}
	}
	whole, frac := t, ""
	if mark != 0 {
		i := strings.LastIndexByte(t, mark)
		whole, frac = t[:i], t[i+1:]
		if strings.ContainsAny(frac, ".,") {
			return "", false
		}
	}
	if group != 0 {
		parts := strings.Split(whole, string(group))
		for k, p := range parts {
			// Groups of three, or of two before the last three as in
			// India ("1,23,456"); not "1,2,3".
			last := k == len(parts)-1
			if p == "" || len(p) > 3 || (k > 0 && len(p) != 3 && (last || len(p) != 2)) {
				return "", false
			}
		}
		whole = strings.Join(parts, "")
	}
	if whole == "" && frac != "" {
		whole = "0" // ".5"
	}
	if whole == "" || strings.ContainsAny(whole, ".,") {
		return "", false
	}
	if frac != "" {
		return sign + whole + "." + frac, true
	}
	return sign + whole, true
}

// OverrideError is an override given to Parse that cannot apply.
type OverrideError struct {
	Set string // as given: "dotted.key=value"
	Err error
}

func (e *OverrideError) Error() string { return fmt.Sprintf("override %q: %v", e.Set, e.Err) }
func (e *OverrideError) Unwrap() error { return e.Err }

// applySet applies one "dotted.key=value" override to the document root.
func applySet(root *yaml.Node, set string) error {
	// Nodes from --set say so in errors (config.SetLine): their line in
	// the value's own text is no line of the file.
	path, value, ok := strings.Cut(set, "=")
	if !ok || path == "" {
		return &OverrideError{Set: set, Err: errors.New("want key=value, e.g. output.format=csv")}
	}
	var val yaml.Node
	if err := yaml.Unmarshal([]byte(value), &val); err != nil || len(val.Content) == 0 {
		val = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}}}
	}
	markSet(val.Content[0])
	n := root
	keys := strings.Split(path, ".")
	for i, key := range keys {
		if n.Kind != yaml.MappingNode {
			return &OverrideError{Set: set, Err: fmt.Errorf("%s is not a mapping", strings.Join(keys[:i], "."))}
		}
		var next *yaml.Node
		for k := 0; k+1 < len(n.Content); k += 2 {
			if n.Content[k].Value == key {
				next = n.Content[k+1]
				if i == len(keys)-1 {
					n.Content[k].Line = config.SetLine // the value is --set's now, not the file's
					n.Content[k+1] = val.Content[0]
					return nil
				}
			}
		}
		if next == nil {
			next = &yaml.Node{Kind: yaml.MappingNode, Line: config.SetLine}
			if i == len(keys)-1 {
				next = val.Content[0]
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key, Line: config.SetLine}, next)
		}
		n = next
	}
	return nil
}

// markSet marks n and everything under it as given by --set.
func markSet(n *yaml.Node) {
	n.Line = config.SetLine
	for _, c := range n.Content {
		markSet(c)
	}
}
