package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

type settings struct {
	concurrency int
	timeout     time.Duration
	headers     []string
	insecure    bool
	cfg         string
}

func newFlags(s *settings) *pflag.FlagSet {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.IntVarP(&s.concurrency, "concurrency", "c", 10, "")
	fs.DurationVar(&s.timeout, "timeout", 30*time.Second, "")
	fs.StringArrayVarP(&s.headers, "header", "H", nil, "")
	fs.BoolVar(&s.insecure, "insecure", false, "")
	fs.StringVar(&s.cfg, "config", "", "")
	return fs
}

func notConfig(name string) bool { return name != "config" }

func TestApplySetsFlagsAndCommandLineWins(t *testing.T) {
	var s settings
	fs := newFlags(&s)
	if err := fs.Parse([]string{"--timeout", "5s"}); err != nil {
		t.Fatal(err)
	}
	yaml := "concurrency: 25\ntimeout: 1m\nheader:\n  - 'Accept: text/html'\n  - 'X-A: b'\ninsecure: true\n"
	if err := Apply(fs, "c.yaml", strings.NewReader(yaml), notConfig); err != nil {
		t.Fatalf("Apply error = %v", err)
	}
	if s.concurrency != 25 || s.timeout != 5*time.Second || !s.insecure || len(s.headers) != 2 {
		t.Errorf("after Apply: %+v; want concurrency 25 from the file, timeout 5s from the command line, 2 headers, insecure", s)
	}
}

func TestApplyAcceptsUnderscoreKeys(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	perHost := fs.Int("per-host", 0, "")
	if err := Apply(fs, "c.yaml", strings.NewReader("per_host: 3\n"), nil); err != nil {
		t.Fatal(err)
	}
	if *perHost != 3 {
		t.Errorf("per_host = %d, want 3", *perHost)
	}
}

func TestApplyErrorsNameFileLineAndKey(t *testing.T) {
	tests := []struct {
		yaml string
		want string
	}{
		{"concurrency: 5\nconcurency: 6\n", `c.yaml line 2: key "concurency": unknown key (did you mean "concurrency"?)`},
		{"timeout: soon\n", `c.yaml line 1: key "timeout": invalid value "soon": want a duration such as 500ms`},
		// In a user's words, not strconv's ("strconv.ParseInt: parsing ...").
		{"concurrency: 1.5\n", `c.yaml line 1: key "concurrency": invalid value "1.5": want a whole number`},
		{"\n\nconcurrency: [1, 2]\n", `c.yaml line 3: key "concurrency": takes one value, not a list`},
		{"config: other.yaml\n", `c.yaml line 1: key "config": unknown key`},
		{"concurrency: 1\nconcurrency: 2\n", `c.yaml line 2: key "concurrency": set twice`},
		{"header: {a: b}\n", `c.yaml line 1: key "header": want a value or a list`},
		{"- a\n- b\n", `c.yaml line 1: want a mapping`},
		{"concurrency: 5\n  bad indent: [\n", `c.yaml line 2: mapping values are not allowed in this context (a value holding`},
		{"a: 1\nb: [1, 2\n", `c.yaml line 2: did not find expected ',' or ']'`},
		{"concurrency: 5\n\tretries: 1\n", `c.yaml line 2: found a tab character that violates indentation (YAML indents with spaces, not tabs)`},
		{strings.Repeat("a", 1<<20+1), `c.yaml: over 1 MiB`},
	}
	for _, tt := range tests {
		var s settings
		err := Apply(newFlags(&s), "c.yaml", strings.NewReader(tt.yaml), notConfig)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Apply(%q) error = %v, want it to contain %q", tt.yaml, err, tt.want)
		}
	}
}

func TestApplyUnknownKeyIsErrUnknownKey(t *testing.T) {
	var s settings
	err := Apply(newFlags(&s), "c.yaml", strings.NewReader("nope: 1\n"), notConfig)
	var cerr *Error
	if !errors.Is(err, ErrUnknownKey) || !errors.As(err, &cerr) || cerr.Line != 1 || cerr.Key != "nope" {
		t.Errorf("Apply(unknown key) = %v, want an *Error at line 1 key nope wrapping ErrUnknownKey", err)
	}
}

func TestApplyEmptyFile(t *testing.T) {
	var s settings
	for _, in := range []string{"", "# only comments\n"} {
		if err := Apply(newFlags(&s), "c.yaml", strings.NewReader(in), nil); err != nil {
			t.Errorf("Apply(%q) = %v, want nil", in, err)
		}
	}
}

func FuzzApply(f *testing.F) {
	for _, seed := range []string{"concurrency: 5\n", "header: [a, b]\n", "timeout: x\n", "- 1\n", "a: {b: c}\n", "&a x: *a\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var s settings
		fs := newFlags(&s)
		if err := Apply(fs, "c.yaml", strings.NewReader(in), notConfig); err != nil {
			return
		}
		// Whatever a file set must read back through YAML as the same
		// value: Apply neither invents nor loses a setting.
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(in), &doc); err != nil {
			t.Fatalf("Apply accepted %q, which is not YAML: %v", in, err)
		}
		for key, v := range doc {
			name := strings.ReplaceAll(key, "_", "-")
			if fs.Lookup(name) == nil || name == "config" {
				t.Fatalf("Apply accepted %q with the unknown key %q", in, key)
			}
			if !fs.Changed(name) {
				t.Errorf("Apply(%q) left %s unset", in, name)
			}
			if n, ok := v.(int); ok && name == "concurrency" && s.concurrency != n {
				t.Errorf("Apply(%q): concurrency %d, want %d", in, s.concurrency, n)
			}
			if b, ok := v.(bool); ok && name == "insecure" && s.insecure != b {
				t.Errorf("Apply(%q): insecure %v, want %v", in, s.insecure, b)
			}
		}
	})
}

func TestKeyLineFindsEitherSpelling(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("# settings\nconcurrency: 4\nper_host: 0\nmax-depth: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		flag  string
		line  int
		key   string
		found bool
	}{{"concurrency", 2, "concurrency", true}, {"per-host", 3, "per_host", true}, {"max-depth", 4, "max-depth", true}, {"timeout", 0, "", false}} {
		line, key, ok := KeyLine(file, tt.flag)
		if line != tt.line || key != tt.key || ok != tt.found {
			t.Errorf("KeyLine(%q) = %d, %q, %v; want %d, %q, %v", tt.flag, line, key, ok, tt.line, tt.key, tt.found)
		}
	}
}

// A long file's syntax error is found on its line too, by halves: parsing
// every prefix of a 20,000-line file took four minutes.
func TestSyntaxErrorLineInALongFile(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "k%d: v\n", i)
	}
	b.WriteString("bad: [1, 2\n")
	var s settings
	err := Apply(newFlags(&s), "c.yaml", strings.NewReader(b.String()), notConfig)
	if err == nil || !strings.Contains(err.Error(), "c.yaml line 3001: did not find expected ',' or ']'") {
		t.Errorf("error %v, want line 3001", err)
	}
}
