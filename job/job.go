// Package job reads scraping job files: where to start, which links to
// follow, what to extract from which pages, and where to write it. Every
// mistake in a job file is found before anything is fetched and named by
// file, line and key.
package job

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
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
	Name   string    `yaml:"name"`   // "" when the job gives none
	Match  *Pattern  `yaml:"match"`  // nil: every page
	Select *Selector `yaml:"select"` // nil: the page is one item
	Fields []Field   `yaml:"-"`      // in the file's order
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
	Name     string   `yaml:"-"`
	CSS      Selector `yaml:"css"`
	Attr     string   `yaml:"attr"`     // take this attribute instead of the text
	HTML     bool     `yaml:"html"`     // take the inner HTML instead of the text
	URL      bool     `yaml:"url"`      // resolve the value against the page URL
	Regex    *Pattern `yaml:"regex"`    // keep the first capture group, or the match
	Type     string   `yaml:"type"`     // string, int, float or bool
	All      bool     `yaml:"all"`      // a list of every match
	Required bool     `yaml:"required"` // an item without this field is dropped
	Default  any      `yaml:"-"`        // for a missing optional field; nil is null
}

// Output says where items go.
type Output struct {
	Path     string `yaml:"path"`      // "" is standard output
	Format   string `yaml:"format"`    // jsonl or csv
	UniqueBy string `yaml:"unique_by"` // drop later items with the same value of this field
	Errors   string `yaml:"errors"`    // a JSONL file of one record per failed page, or ""
}

// jobFile is the top of a job file as decoded; every other key is a setting.
type jobFile struct {
	Start     textList   `yaml:"start"`
	StartFile text       `yaml:"start_file"`
	Follow    []Selector `yaml:"follow"`
	Output    Output     `yaml:"output"`
}

// Keys are the keys a job file adds to the settings keys.
var Keys = []string{"start", "start_file", "follow", "items", "output"}

var types = []string{"string", "int", "float", "bool"}

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
	d := decoder{file: file}
	settings := &yaml.Node{Kind: yaml.MappingNode}
	top := jobFile{Output: Output{Format: "jsonl"}}
	nodes, err := d.mapping(root, "", &top, []string{"items"}, settings)
	if err != nil {
		return nil, err
	}
	j := &Job{File: file, Start: top.Start, StartFile: string(top.StartFile), Follow: top.Follow, Output: top.Output}
	if j.Output.Format != "jsonl" && j.Output.Format != "csv" {
		return nil, d.at(nodes["output"], "output.format", fmt.Errorf("format %q: want jsonl or csv", j.Output.Format))
	}
	if items, ok := nodes["items"]; ok {
		if j.Rules, err = d.rules(items); err != nil {
			return nil, err
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

// rules decodes the items list: a rule per entry, its fields in order.
func (d decoder) rules(v *yaml.Node) ([]Rule, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, d.at(v, "items", errors.New("want a list of rules"))
	}
	var rules []Rule
	for i, rn := range v.Content {
		path := fmt.Sprintf("items[%d]", i)
		var r Rule
		nodes, err := d.mapping(rn, path, &r, []string{"fields"}, nil)
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
		rules = append(rules, r)
	}
	return rules, nil
}

// fields decodes a rule's fields, a mapping of name: field.
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
		case slices.ContainsFunc(fields, func(f Field) bool { return f.Name == name.Value }):
			return nil, d.at(name, at, errors.New("field named twice"))
		}
		f := Field{Name: name.Value, Type: "string"}
		nodes, err := d.mapping(fn, at, &f, []string{"default"}, nil)
		if err != nil {
			return nil, err
		}
		switch {
		case f.CSS.Matcher == nil:
			return nil, d.at(fn, at+".css", errors.New("every field needs a css selector"))
		case !slices.Contains(types, f.Type):
			return nil, d.at(nodes["type"], at+".type", fmt.Errorf("type %q: want string, int, float or bool", f.Type))
		case f.HTML && f.Attr != "":
			return nil, d.at(fn, at, errors.New("take html or attr, not both"))
		}
		if dn, ok := nodes["default"]; ok {
			raw, err := scalar(dn)
			if err == nil {
				f.Default, err = convert(raw, f.Type)
			}
			if err != nil {
				return nil, d.at(dn, at+".default", err)
			}
		}
		fields = append(fields, f)
	}
	return fields, nil
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

// OverrideError is an override given to Parse that cannot apply.
type OverrideError struct {
	Set string // as given: "dotted.key=value"
	Err error
}

func (e *OverrideError) Error() string { return fmt.Sprintf("override %q: %v", e.Set, e.Err) }
func (e *OverrideError) Unwrap() error { return e.Err }

// applySet applies one "dotted.key=value" override to the document root.
func applySet(root *yaml.Node, set string) error {
	path, value, ok := strings.Cut(set, "=")
	if !ok || path == "" {
		return &OverrideError{Set: set, Err: errors.New("want key=value, e.g. output.format=csv")}
	}
	var val yaml.Node
	if err := yaml.Unmarshal([]byte(value), &val); err != nil || len(val.Content) == 0 {
		val = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}}}
	}
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
