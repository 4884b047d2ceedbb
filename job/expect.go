package job

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fetchall/fetchall/internal/config"
	"go.yaml.in/yaml/v3"
)

// Expect is a rule's contract: what its items must look like for the
// job to be working. A site that changes its pages breaks it, and the
// run says so (fetchall run --test checks nothing else).
type Expect struct {
	PerPage *Bounds  // items from each page the rule matches
	Total   *Bounds  // items the rule writes in the whole run
	Filled  []Share  // fields present and not empty in at least a share of items
	Samples []Sample // items a given page must give
}

// Bounds are an inclusive count range; a side not given is open.
type Bounds struct {
	Min, Max       int
	HasMin, HasMax bool
}

func (b Bounds) holds(n int) bool { return (!b.HasMin || n >= b.Min) && (!b.HasMax || n <= b.Max) }

func (b Bounds) String() string {
	switch {
	case b.HasMin && b.HasMax:
		return fmt.Sprintf("between %d and %d", b.Min, b.Max)
	case b.HasMin:
		return fmt.Sprintf("at least %d", b.Min)
	}
	return fmt.Sprintf("at most %d", b.Max)
}

// Share is a field that must be filled in at least Min (0 to 1) of items.
type Share struct {
	Field string
	Min   float64
}

// Sample is a page whose items must include one with these values.
type Sample struct {
	URL      string
	Includes []Want
}

// Want is a field's expected value in a sample.
type Want struct {
	Field string
	Value any
}

// contracts decodes every rule's expect block, once the fields (and the
// names follow rules pass) are known.
func (d decoder) contracts(j *Job, items *yaml.Node) error {
	if items == nil {
		return nil
	}
	for i, rn := range items.Content {
		en := valueOf(rn, "expect")
		if en == nil {
			continue
		}
		path := fmt.Sprintf("items[%d].expect", i)
		e, err := d.expect(en, path, fieldNames(j.Rules[i].Fields, j.ContextNames()))
		if err != nil {
			return err
		}
		j.Rules[i].Expect = e
	}
	return nil
}

// fieldNames are the names a contract may name: the rule's own fields and
// what follow rules pass.
func fieldNames(fields []Field, context []string) []string {
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
	}
	for _, c := range context {
		if !slices.Contains(names, c) {
			names = append(names, c)
		}
	}
	return names
}

// valueOf returns the value of key in the mapping n, or nil (n nil too).
func valueOf(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (d decoder) expect(n *yaml.Node, path string, names []string) (*Expect, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.at(n, path, errors.New("want a mapping of per_page, total, filled, samples"))
	}
	e := &Expect{}
	known := []string{"filled", "per_page", "samples", "total"}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		at := path + "." + k.Value
		var err error
		switch k.Value {
		case "per_page":
			e.PerPage, err = d.bounds(v, at)
		case "total":
			e.Total, err = d.bounds(v, at)
		case "filled":
			e.Filled, err = d.filled(v, at, names)
		case "samples":
			e.Samples, err = d.samples(v, at, names)
		default:
			return nil, d.at(k, at, unknownKey(k.Value, known))
		}
		if err != nil {
			return nil, err
		}
	}
	return e, nil
}

func unknownKey(key string, known []string) error {
	if s := config.Suggest(key, known); s != "" {
		return fmt.Errorf("unknown key (did you mean %q?)", s)
	}
	return fmt.Errorf("unknown key (want one of %s)", strings.Join(known, ", "))
}

func (d decoder) bounds(n *yaml.Node, path string) (*Bounds, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.at(n, path, errors.New("want {min: N, max: N} (either may be left out)"))
	}
	b := &Bounds{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		num, err := strconv.Atoi(v.Value)
		if v.Kind != yaml.ScalarNode || err != nil || num < 0 {
			return nil, d.at(v, path+"."+k.Value, errors.New("want a whole number, 0 or more"))
		}
		switch k.Value {
		case "min":
			b.Min, b.HasMin = num, true
		case "max":
			b.Max, b.HasMax = num, true
		default:
			return nil, d.at(k, path+"."+k.Value, unknownKey(k.Value, []string{"max", "min"}))
		}
	}
	switch {
	case !b.HasMin && !b.HasMax:
		return nil, d.at(n, path, errors.New("give min, max or both"))
	case b.HasMin && b.HasMax && b.Min > b.Max:
		return nil, d.at(n, path, fmt.Errorf("min %d is more than max %d", b.Min, b.Max))
	}
	return b, nil
}

func (d decoder) filled(n *yaml.Node, path string, names []string) ([]Share, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.at(n, path, errors.New("want a mapping of field: share, e.g. {title: 100%, price: 90%}"))
	}
	var out []Share
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		at := path + "." + k.Value
		if !slices.Contains(names, k.Value) {
			return nil, d.at(k, at, fmt.Errorf("%q is not a field of this rule", k.Value))
		}
		share, err := parseShare(v)
		if err != nil {
			return nil, d.at(v, at, err)
		}
		out = append(out, Share{Field: k.Value, Min: share})
	}
	return out, nil
}

// parseShare reads 90% or 0.9.
func parseShare(v *yaml.Node) (float64, error) {
	bad := errors.New("want a share such as 90% or 0.9")
	if v.Kind != yaml.ScalarNode {
		return 0, bad
	}
	text, percent := strings.CutSuffix(strings.TrimSpace(v.Value), "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil {
		return 0, bad
	}
	if percent {
		f /= 100
	}
	if f < 0 || f > 1 {
		return 0, errors.New("a share is between 0% and 100%")
	}
	return f, nil
}

func (d decoder) samples(n *yaml.Node, path string, names []string) ([]Sample, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, d.at(n, path, errors.New("want a list of {url: ..., includes: {field: value}}"))
	}
	var out []Sample
	for i, sn := range n.Content {
		at := fmt.Sprintf("%s[%d]", path, i)
		if sn.Kind != yaml.MappingNode {
			return nil, d.at(sn, at, errors.New("want {url: ..., includes: {field: value}}"))
		}
		var s Sample
		for k := 0; k+1 < len(sn.Content); k += 2 {
			key, v := sn.Content[k], sn.Content[k+1]
			switch key.Value {
			case "url":
				u, err := url.Parse(v.Value)
				if v.Kind != yaml.ScalarNode || err != nil || u.Host == "" {
					return nil, d.at(v, at+".url", errors.New("want an absolute URL"))
				}
				s.URL = v.Value
			case "includes":
				if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
					return nil, d.at(v, at+".includes", errors.New("want a mapping of field: expected value"))
				}
				for w := 0; w+1 < len(v.Content); w += 2 {
					fk, fv := v.Content[w], v.Content[w+1]
					if !slices.Contains(names, fk.Value) {
						return nil, d.at(fk, at+".includes."+fk.Value, fmt.Errorf("%q is not a field of this rule", fk.Value))
					}
					var val any
					if err := fv.Decode(&val); err != nil {
						return nil, d.at(fv, at+".includes."+fk.Value, err)
					}
					s.Includes = append(s.Includes, Want{Field: fk.Value, Value: val})
				}
			default:
				return nil, d.at(key, at+"."+key.Value, unknownKey(key.Value, []string{"includes", "url"}))
			}
		}
		if s.URL == "" || len(s.Includes) == 0 {
			return nil, d.at(sn, at, errors.New("a sample needs url and includes"))
		}
		out = append(out, s)
	}
	return out, nil
}

// sameValue says whether an extracted value is the one a sample expects:
// equal as JSON, or as text (a price written 51.77 in the job matches
// the float 51.77 and the string "51.77"). A list matches when it holds
// the expected value.
func sameValue(got, want any) bool {
	if list, ok := got.([]any); ok {
		if _, wantList := want.([]any); !wantList {
			return slices.ContainsFunc(list, func(g any) bool { return sameValue(g, want) })
		}
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) == string(wb) {
		return true
	}
	return strings.TrimSpace(cell(got)) == strings.TrimSpace(cell(want))
}
