package job

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/xpath"
	"github.com/itchyny/gojq"
	"go.yaml.in/yaml/v3"

	"github.com/fetchall/fetchall/internal/config"
)

// A job file is decoded into typed structs by their yaml tags: every key
// must name a field (a near miss is suggested), each value is decoded by
// yaml.v3 into its field's type, and the types that need checking (CSS
// selectors, regular expressions, single values) check themselves in
// UnmarshalYAML. What differs from plain yaml.Unmarshal is only the error:
// file, line and the dotted key from the top of the file.

// UnmarshalYAML compiles a CSS selector.
func (s *Selector) UnmarshalYAML(n *yaml.Node) error {
	text, err := scalar(n)
	if err != nil {
		return err
	}
	sel, err := cascadia.Compile(text)
	if err != nil {
		return fmt.Errorf("bad CSS selector %q: %w", text, err)
	}
	*s = Selector{Text: text, Matcher: sel}
	return nil
}

// Pattern is a compiled regular expression from a job file.
type Pattern struct {
	*regexp.Regexp
}

// UnmarshalYAML compiles a regular expression.
func (p *Pattern) UnmarshalYAML(n *yaml.Node) error {
	text, err := scalar(n)
	if err != nil {
		return err
	}
	re, err := regexp.Compile(text)
	if err != nil {
		return err
	}
	p.Regexp = re
	return nil
}

// text is a string that must be given as one value, not a list or mapping.
type text string

func (t *text) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n)
	*t = text(s)
	return err
}

// textList is one value or a list of them.
type textList []string

func (l *textList) UnmarshalYAML(n *yaml.Node) error {
	var err error
	*l, err = stringList(n)
	return err
}

// decoder decodes one job file, remembering its name for errors.
type decoder struct {
	file string
}

// at makes the error for the value at n under key: file, line, dotted key.
func (d decoder) at(n *yaml.Node, key string, err error) error {
	var cerr *config.Error
	if errors.As(err, &cerr) {
		return err // already placed
	}
	var terr *yaml.TypeError
	if errors.As(err, &terr) && len(terr.Errors) > 0 {
		// "line 4: cannot unmarshal !!str `x` into bool": the line is ours.
		msg := terr.Errors[0]
		if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
			msg = rest
		}
		err = errors.New(msg)
	}
	return &config.Error{File: d.file, Line: n.Line, Key: key, Err: err}
}

// mapping decodes the mapping n into the struct v points to, by its yaml
// tags. Keys in later are not decoded but returned, with every other
// value node by key, for the caller's own checks. When rest is not nil,
// keys that name no field are appended to it instead of being errors.
func (d decoder) mapping(n *yaml.Node, path string, v any, later []string, rest *yaml.Node) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.at(n, path, errors.New("want a mapping of key: value"))
	}
	fields := map[string]reflect.Value{}
	sv := reflect.ValueOf(v).Elem()
	for i := range sv.NumField() {
		name, _, _ := strings.Cut(sv.Type().Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = sv.Field(i)
		}
	}
	known := slices.Concat(slices.Collect(maps.Keys(fields)), later)
	slices.Sort(known)
	nodes := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		if path != "" {
			key = path + "." + k.Value
		}
		if _, dup := nodes[k.Value]; dup {
			return nil, d.at(k, key, errors.New("set twice in the file"))
		}
		nodes[k.Value] = val
		if slices.Contains(later, k.Value) {
			continue
		}
		f, ok := fields[k.Value]
		if !ok && rest != nil {
			rest.Content = append(rest.Content, k, val)
			continue
		}
		if !ok {
			msg := fmt.Sprintf("unknown key (want one of %s)", strings.Join(known, ", "))
			if s := config.Suggest(k.Value, known); s != "" {
				msg = fmt.Sprintf("unknown key (did you mean %q?)", s)
			}
			return nil, d.at(k, key, errors.New(msg))
		}
		if err := d.value(val, key, f); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

// value decodes val into the field f; a list is decoded item by item, so
// that an error names its index (follow[2]).
func (d decoder) value(val *yaml.Node, key string, f reflect.Value) error {
	_, custom := f.Addr().Interface().(yaml.Unmarshaler)
	switch {
	case custom:
	case f.Kind() == reflect.Struct:
		_, err := d.mapping(val, key, f.Addr().Interface(), nil, nil)
		return err
	case f.Kind() == reflect.Slice && val.Kind == yaml.SequenceNode:
		items := reflect.MakeSlice(f.Type(), len(val.Content), len(val.Content))
		for i, item := range val.Content {
			if err := item.Decode(items.Index(i).Addr().Interface()); err != nil {
				return d.at(item, fmt.Sprintf("%s[%d]", key, i), plainly(err, items.Index(i)))
			}
		}
		f.Set(items)
		return nil
	}
	if err := val.Decode(f.Addr().Interface()); err != nil {
		return d.at(val, key, plainly(err, f))
	}
	return nil
}

// plainly says what a value of f's kind must look like, for yaml.v3's
// type errors ("cannot unmarshal !!str `x` into bool").
func plainly(err error, f reflect.Value) error {
	var terr *yaml.TypeError
	if !errors.As(err, &terr) {
		return err
	}
	switch f.Kind() {
	case reflect.Bool:
		return errors.New("want true or false")
	case reflect.String:
		return errors.New("want a single value")
	case reflect.Int, reflect.Int64:
		return errors.New("want a whole number")
	}
	return err
}

// Select picks the elements (or JSON values) items or nested objects come
// from: a CSS selector as plain text, or one of {css: ...}, {xpath: ...},
// {jq: ...}.
type Select struct {
	CSS   *Selector `yaml:"css"`
	XPath *XPath    `yaml:"xpath"`
	JQ    *JQ       `yaml:"jq"`
}

// UnmarshalYAML reads a selector as text (CSS) or a mapping of one kind.
func (s *Select) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s.CSS = new(Selector)
		return s.CSS.UnmarshalYAML(n)
	}
	if n.Kind != yaml.MappingNode {
		return errors.New("want a CSS selector, or one of {css: ...}, {xpath: ...}, {jq: ...}")
	}
	type plain Select
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	kinds := 0
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i].Value; k {
		case "css", "xpath", "jq":
			kinds++
		default:
			return fmt.Errorf("unknown key %q (want one of css, xpath, jq)", k)
		}
	}
	if kinds != 1 {
		return errors.New("give one of css, xpath, jq")
	}
	*s = Select(p)
	return nil
}

// Text is the selector as the job wrote it, with its kind.
func (s Select) Text() string {
	switch {
	case s.XPath != nil:
		return "xpath " + strconv.Quote(s.XPath.Text)
	case s.JQ != nil:
		return "jq " + strconv.Quote(s.JQ.Text)
	}
	return "css " + strconv.Quote(s.CSS.Text)
}

// XPath is a compiled XPath expression. A compiled expression keeps
// state while it runs, so each use takes one from a pool.
type XPath struct {
	Text string
	pool *sync.Pool
}

// UnmarshalYAML compiles an XPath expression.
func (x *XPath) UnmarshalYAML(n *yaml.Node) error {
	text, err := scalar(n)
	if err != nil {
		return err
	}
	if _, err := xpath.Compile(text); err != nil {
		return fmt.Errorf("bad XPath %q: %w", text, err)
	}
	x.Text = text
	x.pool = &sync.Pool{New: func() any { e, _ := xpath.Compile(text); return e }}
	return nil
}

// JQ is a compiled jq program (gojq), safe for concurrent use.
type JQ struct {
	Text string
	Code *gojq.Code
}

// UnmarshalYAML parses and compiles a jq program.
func (j *JQ) UnmarshalYAML(n *yaml.Node) error {
	text, err := scalar(n)
	if err != nil {
		return err
	}
	q, err := gojq.Parse(text)
	if err != nil {
		return fmt.Errorf("bad jq %q: %w", text, err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return fmt.Errorf("bad jq %q: %w", text, err)
	}
	*j = JQ{Text: text, Code: code}
	return nil
}
