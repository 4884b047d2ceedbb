// Package config applies a YAML configuration file to a command's flags.
// Every key is a flag's long name (with '_' or '-'), so the file and the
// command line can never drift apart, and a value given on the command line
// always wins over the file.
package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Error is a problem with one key of a configuration file.
type Error struct {
	File string
	Line int
	Key  string
	Err  error
}

// SetLine is the line of a key or value given on the command line with
// --set rather than in the file: its errors name --set, not a line.
const SetLine = -1

func (e *Error) Error() string {
	if e.Line == SetLine {
		return fmt.Sprintf("--set %s: %v", e.Key, e.Err)
	}
	if e.Key == "" {
		return fmt.Sprintf("%s line %d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s line %d: key %q: %v", e.File, e.Line, e.Key, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrUnknownKey marks a key that names no setting.
var ErrUnknownKey = errors.New("unknown key")

// Apply reads the YAML mapping in r and sets, for each key, the flag of
// that name in fs, unless the flag was given on the command line. Flags for
// which allowed returns false cannot be set from a file. A list sets a
// repeatable flag once per item. file names the source in errors, which
// give its line and key.
func Apply(fs *pflag.FlagSet, file string, r io.Reader, allowed func(name string) bool) error {
	return ApplyShared(fs, file, r, allowed, nil)
}

// ApplyShared is Apply for a file that several commands share: a key for
// which shared returns true but that fs does not take (another command's
// setting, such as ordered for a crawl) is left alone instead of being an
// unknown key. shared may be nil.
func ApplyShared(fs *pflag.FlagSet, file string, r io.Reader, allowed, shared func(name string) bool) error {
	data, err := io.ReadAll(io.LimitReader(r, maxFile+1))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if len(data) > maxFile {
		return fmt.Errorf("%s: over %d MiB: not a settings file", file, maxFile>>20)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return SyntaxError(file, data, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return applyNode(fs, file, doc.Content[0], allowed, shared)
}

// ApplyNode is Apply for a mapping already parsed, such as the settings
// part of a job file.
func ApplyNode(fs *pflag.FlagSet, file string, root *yaml.Node, allowed func(name string) bool) error {
	return applyNode(fs, file, root, allowed, nil)
}

func applyNode(fs *pflag.FlagSet, file string, root *yaml.Node, allowed, shared func(name string) bool) error {
	if root.Kind != yaml.MappingNode {
		return &Error{File: file, Line: root.Line, Err: errors.New("want a mapping of key: value")}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		keyNode, val := root.Content[i], root.Content[i+1]
		key := keyNode.Value
		name := strings.ReplaceAll(key, "_", "-")
		fail := func(err error) error { return &Error{File: file, Line: keyNode.Line, Key: key, Err: err} }
		f := fs.Lookup(name)
		if (f == nil || (allowed != nil && !allowed(name))) && shared != nil && shared(name) {
			continue // another command's setting
		}
		if f == nil || (allowed != nil && !allowed(name)) {
			return fail(withSuggestion(ErrUnknownKey, name, fs, allowed))
		}
		if seen[name] {
			return fail(errors.New("set twice in the file"))
		}
		seen[name] = true
		if f.Changed {
			continue // the command line wins
		}
		values, err := scalars(val)
		if err != nil {
			return fail(err)
		}
		if len(values) > 1 && !isRepeatable(f) {
			return fail(errors.New("takes one value, not a list"))
		}
		for _, v := range values {
			if err := fs.Set(name, v); err != nil {
				if want := Want(f.Value.Type()); want != "" {
					return fail(fmt.Errorf("invalid value %q: want %s", v, want))
				}
				return fail(fmt.Errorf("invalid value %q: %w", v, unwrapPflag(err)))
			}
		}
	}
	return nil
}

// KeyLine finds the key of file that sets the flag name (spelled with _
// or -): its line and its spelling. ok is false when the file cannot be
// read or has no such key. It lets a value that parses but cannot work
// (concurrency: 0), found only once every setting is known, be named by
// its line like any other.
func KeyLine(file, name string) (line int, key string, ok bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, "", false
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return 0, "", false
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; strings.ReplaceAll(k.Value, "_", "-") == name {
			return k.Line, k.Value, true
		}
	}
	return 0, "", false
}

// scalars returns the value of a scalar node, or the items of a list of scalars.
func scalars(n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return nil, errors.New("want a list of plain values")
			}
			out = append(out, item.Value)
		}
		return out, nil
	}
	return nil, errors.New("want a value or a list of values, not a mapping")
}

func isRepeatable(f *pflag.Flag) bool {
	_, ok := f.Value.(pflag.SliceValue)
	return ok
}

// Want says in a user's words what a flag of the pflag type typ takes, in
// place of its parser's (`strconv.ParseInt: parsing "x": invalid
// syntax`); "" for a type whose own parser already says it.
func Want(typ string) string {
	switch typ {
	case "int", "int64":
		return "a whole number"
	case "uint", "uint64":
		return "a whole number >= 0"
	case "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "duration":
		return "a duration such as 500ms, 10s or 2m"
	}
	return ""
}

// unwrapPflag drops pflag's own "invalid argument ... for flag" framing:
// the config error already names the key and value.
func unwrapPflag(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// withSuggestion adds "did you mean ...?" when a known key is one or two
// edits away from the unknown one.
func withSuggestion(err error, name string, fs *pflag.FlagSet, allowed func(string) bool) error {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) {
		if allowed == nil || allowed(f.Name) {
			names = append(names, f.Name)
		}
	})
	if best := Suggest(name, names); best != "" {
		return fmt.Errorf("%w (did you mean %q?)", err, strings.ReplaceAll(best, "-", "_"))
	}
	return err
}

// Suggest returns the candidate one or two edits away from name (the
// closest), or "" when none is that close.
func Suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// maxFile is the largest settings file read.
const maxFile = 1 << 20

// yamlLine is the position yaml.v3 puts in some syntax errors, which for
// some of them counts lines from 0 and for line 0 is left out.
var yamlLine = regexp.MustCompile(`^yaml: (line \d+: )?`)

// SyntaxError says what is wrong with a YAML file (data) that err, from
// yaml.Unmarshal, refused: on which line, found as the first line whose
// prefix of the file fails the same way, and what usually causes it. An
// error that is not a syntax error is said as it is.
func SyntaxError(file string, data []byte, err error) error {
	var terr *yaml.TypeError
	if errors.As(err, &terr) {
		return fmt.Errorf("%s: %w", file, err)
	}
	msg := yamlLine.ReplaceAllString(err.Error(), "")
	lines := strings.SplitAfter(string(data), "\n")
	failsSo := func(n int) bool { // the first n lines fail as the file does
		var node yaml.Node
		perr := yaml.Unmarshal([]byte(strings.Join(lines[:n], "")), &node)
		return perr != nil && yamlLine.ReplaceAllString(perr.Error(), "") == msg
	}
	// Line by line in a short file; in a long one, by halves: parsing
	// every prefix of a 20,000-line file took four minutes. (A prefix that
	// fails so is followed by longer ones that do too, nearly always.)
	n := 0
	if len(lines) <= 200 {
		for i := range lines {
			if failsSo(i + 1) {
				n = i + 1
				break
			}
		}
	} else if failsSo(len(lines)) {
		n = sort.Search(len(lines), func(i int) bool { return failsSo(i + 1) }) + 1
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", file, err)
	}
	l := lines[n-1]
	hint := "a value holding ?, #, :, [ or { may need quotes"
	if indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]; strings.Contains(indent, "\t") {
		hint = "YAML indents with spaces, not tabs"
	}
	return fmt.Errorf("%s line %d: %s (%s)", file, n, msg, hint)
}
