// Package job reads scraping job files: where to start, which links to
// follow, what to extract from which pages, and where to write it. Every
// mistake in a job file is found before anything is fetched and named by
// file, line and key.
package job

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"go.yaml.in/yaml/v3"

	"github.com/fetchall/fetchall/internal/config"
)

// Job is a checked job file.
type Job struct {
	File      string
	Start     []string // start URLs, when given inline
	StartFile string   // or a file of them, relative to the working directory
	Follow    []Selector
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

// Rule extracts items from the pages whose URL it matches.
type Rule struct {
	Name   string         // "" when the job gives none
	Match  *regexp.Regexp // nil: every page
	Select *Selector      // nil: the page is one item
	Fields []Field
}

// Label is the rule's name for summaries: its name, or its position.
func (r Rule) Label(i int) string {
	if r.Name != "" {
		return r.Name
	}
	return fmt.Sprintf("items[%d]", i)
}

// Field is one value of an item.
type Field struct {
	Name     string
	CSS      Selector
	Attr     string         // take this attribute instead of the text
	HTML     bool           // take the inner HTML instead of the text
	URL      bool           // resolve the value against the page URL
	Regex    *regexp.Regexp // keep the first capture group, or the match
	Type     string         // string, int, float or bool
	All      bool           // a list of every match
	Required bool           // an item without this field is dropped
	Default  any            // for a missing optional field; nil is null
}

// Output says where items go.
type Output struct {
	Path     string // "" is standard output
	Format   string // jsonl or csv
	UniqueBy string // drop later items with the same value of this field
	Errors   string // a JSONL file of one record per failed page, or ""
}

// Keys are the keys a job file adds to the settings keys.
var Keys = []string{"start", "start_file", "follow", "items", "output"}

var (
	ruleKeys   = []string{"name", "match", "select", "fields"}
	fieldKeys  = []string{"css", "attr", "html", "url", "regex", "type", "all", "required", "default"}
	outputKeys = []string{"path", "format", "unique_by", "errors"}
	types      = []string{"string", "int", "float", "bool"}
)

// errorAt makes the error for a key at a node: file, line and dotted key.
func errorAt(file string, n *yaml.Node, key string, err error) error {
	return &config.Error{File: file, Line: n.Line, Key: key, Err: err}
}

// Parse reads a job file's bytes. sets are "dotted.key=value" overrides,
// applied to the file before it is checked, as --set gives them.
func Parse(file string, data []byte, sets []string) (*Job, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: the job file is empty", file)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errorAt(file, root, "", errors.New("want a mapping of key: value"))
	}
	for _, s := range sets {
		if err := applySet(root, s); err != nil {
			return nil, err
		}
	}
	j := &Job{File: file, Output: Output{Format: "jsonl"}}
	settings := &yaml.Node{Kind: yaml.MappingNode}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if seen[k.Value] {
			return nil, errorAt(file, k, k.Value, errors.New("set twice in the file"))
		}
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "start":
			j.Start, err = stringList(v)
		case "start_file":
			j.StartFile, err = scalar(v)
		case "follow":
			j.Follow, err = j.parseFollow(v)
		case "items":
			j.Rules, err = j.parseRules(v)
		case "output":
			err = j.parseOutput(v)
		default:
			settings.Content = append(settings.Content, k, v)
			continue
		}
		if err != nil {
			var cerr *config.Error
			if errors.As(err, &cerr) {
				return nil, err
			}
			return nil, errorAt(file, v, k.Value, err)
		}
	}
	if len(settings.Content) > 0 {
		j.Settings = settings
	}
	return j, j.check(root)
}

// check enforces what spans keys.
func (j *Job) check(root *yaml.Node) error {
	switch {
	case len(j.Start) == 0 && j.StartFile == "":
		return errorAt(j.File, root, "start", errors.New("the job needs start (a list of URLs) or start_file"))
	case len(j.Start) > 0 && j.StartFile != "":
		return errorAt(j.File, root, "start", errors.New("give start or start_file, not both"))
	case len(j.Rules) == 0:
		return errorAt(j.File, root, "items", errors.New("the job needs at least one rule under items"))
	}
	if j.Output.UniqueBy != "" {
		found := false
		for _, r := range j.Rules {
			found = found || slices.ContainsFunc(r.Fields, func(f Field) bool { return f.Name == j.Output.UniqueBy })
		}
		if !found {
			return errorAt(j.File, root, "output.unique_by", fmt.Errorf("%q is not a field of any rule", j.Output.UniqueBy))
		}
	}
	return nil
}

func (j *Job) parseFollow(v *yaml.Node) ([]Selector, error) {
	texts, err := stringList(v)
	if err != nil {
		return nil, err
	}
	out := make([]Selector, len(texts))
	for i, t := range texts {
		sel, err := compileSelector(t)
		if err != nil {
			return nil, errorAt(j.File, v.Content[i], fmt.Sprintf("follow[%d]", i), err)
		}
		out[i] = sel
	}
	return out, nil
}

func (j *Job) parseRules(v *yaml.Node) ([]Rule, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, errors.New("want a list of rules")
	}
	var rules []Rule
	for i, rn := range v.Content {
		path := fmt.Sprintf("items[%d]", i)
		if err := j.checkKeys(rn, path, ruleKeys); err != nil {
			return nil, err
		}
		var r Rule
		for k := 0; k+1 < len(rn.Content); k += 2 {
			key, val := rn.Content[k], rn.Content[k+1]
			at := path + "." + key.Value
			var err error
			switch key.Value {
			case "name":
				r.Name, err = scalar(val)
			case "match":
				var text string
				if text, err = scalar(val); err == nil {
					r.Match, err = regexp.Compile(text)
				}
			case "select":
				var text string
				if text, err = scalar(val); err == nil {
					var sel Selector
					if sel, err = compileSelector(text); err == nil {
						r.Select = &sel
					}
				}
			case "fields":
				r.Fields, err = j.parseFields(val, at)
			}
			if err != nil {
				var cerr *config.Error
				if errors.As(err, &cerr) {
					return nil, err
				}
				return nil, errorAt(j.File, val, at, err)
			}
		}
		if len(r.Fields) == 0 {
			return nil, errorAt(j.File, rn, path+".fields", errors.New("a rule needs at least one field"))
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func (j *Job) parseFields(v *yaml.Node, path string) ([]Field, error) {
	if v.Kind != yaml.MappingNode {
		return nil, errors.New("want a mapping of field name: {css: ...}")
	}
	var fields []Field
	for i := 0; i+1 < len(v.Content); i += 2 {
		name, fn := v.Content[i], v.Content[i+1]
		at := path + "." + name.Value
		switch {
		case name.Value == "url":
			return nil, errorAt(j.File, name, at, errors.New(`"url" is every item's first column; name the field otherwise`))
		case name.Value == "":
			return nil, errorAt(j.File, name, at, errors.New("a field needs a name"))
		case slices.ContainsFunc(fields, func(f Field) bool { return f.Name == name.Value }):
			return nil, errorAt(j.File, name, at, errors.New("field named twice"))
		}
		f, err := j.parseField(name.Value, fn, at)
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	return fields, nil
}

func (j *Job) parseField(name string, fn *yaml.Node, path string) (Field, error) {
	f := Field{Name: name, Type: "string"}
	if err := j.checkKeys(fn, path, fieldKeys); err != nil {
		return f, err
	}
	var defaultNode *yaml.Node
	for k := 0; k+1 < len(fn.Content); k += 2 {
		key, val := fn.Content[k], fn.Content[k+1]
		at := path + "." + key.Value
		var err error
		switch key.Value {
		case "css":
			var text string
			if text, err = scalar(val); err == nil {
				f.CSS, err = compileSelector(text)
			}
		case "attr":
			f.Attr, err = scalar(val)
		case "regex":
			var text string
			if text, err = scalar(val); err == nil {
				f.Regex, err = regexp.Compile(text)
			}
		case "type":
			if f.Type, err = scalar(val); err == nil && !slices.Contains(types, f.Type) {
				err = fmt.Errorf("type %q: want string, int, float or bool", f.Type)
			}
		case "html":
			f.HTML, err = boolean(val)
		case "url":
			f.URL, err = boolean(val)
		case "all":
			f.All, err = boolean(val)
		case "required":
			f.Required, err = boolean(val)
		case "default":
			defaultNode = val
		}
		if err != nil {
			return f, errorAt(j.File, val, at, err)
		}
	}
	if f.CSS.Matcher == nil {
		return f, errorAt(j.File, fn, path+".css", errors.New("every field needs a css selector"))
	}
	if f.HTML && f.Attr != "" {
		return f, errorAt(j.File, fn, path, errors.New("take html or attr, not both"))
	}
	if defaultNode != nil {
		raw, err := scalar(defaultNode)
		if err == nil {
			f.Default, err = convert(raw, f.Type)
		}
		if err != nil {
			return f, errorAt(j.File, defaultNode, path+".default", err)
		}
	}
	return f, nil
}

func (j *Job) parseOutput(v *yaml.Node) error {
	if err := j.checkKeys(v, "output", outputKeys); err != nil {
		return err
	}
	for k := 0; k+1 < len(v.Content); k += 2 {
		key, val := v.Content[k], v.Content[k+1]
		text, err := scalar(val)
		if err == nil {
			switch key.Value {
			case "path":
				j.Output.Path = text
			case "format":
				j.Output.Format = text
				if text != "jsonl" && text != "csv" {
					err = fmt.Errorf("format %q: want jsonl or csv", text)
				}
			case "unique_by":
				j.Output.UniqueBy = text
			case "errors":
				j.Output.Errors = text
			}
		}
		if err != nil {
			return errorAt(j.File, val, "output."+key.Value, err)
		}
	}
	return nil
}

// checkKeys wants n to be a mapping whose keys are all in allowed.
func (j *Job) checkKeys(n *yaml.Node, path string, allowed []string) error {
	if n.Kind != yaml.MappingNode {
		return errorAt(j.File, n, path, errors.New("want a mapping of key: value"))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			msg := fmt.Sprintf("unknown key (want one of %s)", strings.Join(allowed, ", "))
			if s := config.Suggest(k.Value, allowed); s != "" {
				msg = fmt.Sprintf("unknown key (did you mean %q?)", s)
			}
			return errorAt(j.File, k, path+"."+k.Value, errors.New(msg))
		}
	}
	return nil
}

func compileSelector(text string) (Selector, error) {
	sel, err := cascadia.Compile(text)
	if err != nil {
		return Selector{}, fmt.Errorf("bad CSS selector %q: %w", text, err)
	}
	return Selector{Text: text, Matcher: sel}, nil
}

func scalar(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", errors.New("want a single value")
	}
	return n.Value, nil
}

func boolean(n *yaml.Node) (bool, error) {
	s, err := scalar(n)
	if err != nil {
		return false, err
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%q: want true or false", s)
	}
	return b, nil
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
		n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(text), ",", ""), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an int", text)
		}
		return n, nil
	case "float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(text), ",", ""), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a float", text)
		}
		return f, nil
	case "bool":
		b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(text)))
		if err != nil {
			return nil, fmt.Errorf("%q is not a bool", text)
		}
		return b, nil
	}
	return text, nil
}

// applySet applies one "dotted.key=value" override to the document root.
func applySet(root *yaml.Node, set string) error {
	path, value, ok := strings.Cut(set, "=")
	if !ok || path == "" {
		return fmt.Errorf("--set %q: want key=value, e.g. output.format=csv", set)
	}
	var val yaml.Node
	if err := yaml.Unmarshal([]byte(value), &val); err != nil || len(val.Content) == 0 {
		val = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}}}
	}
	n := root
	keys := strings.Split(path, ".")
	for i, key := range keys {
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("--set %s: %s is not a mapping", path, strings.Join(keys[:i], "."))
		}
		var next *yaml.Node
		for k := 0; k+1 < len(n.Content); k += 2 {
			if n.Content[k].Value == key {
				next = n.Content[k+1]
				if i == len(keys)-1 {
					n.Content[k+1] = val.Content[0]
					return nil
				}
			}
		}
		if next == nil {
			next = &yaml.Node{Kind: yaml.MappingNode}
			if i == len(keys)-1 {
				next = val.Content[0]
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, next)
		}
		n = next
	}
	return nil
}
