package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/fetchall/fetchall/internal/config"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from `go install` is used.
var version = "dev"

func fetchallVersion() string {
	if version == "dev" {
		if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
			return info.Main.Version
		}
	}
	return version
}

// Streams are the only way commands reach the terminal, so tests can give
// them buffers instead.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// ErrIsTerminal says whether Err is a terminal: progress is drawn only there.
	ErrIsTerminal bool
}

// OSStreams are the process's standard streams.
func OSStreams() *Streams {
	return &Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd()))}
}

// newRootCmd builds the whole command tree. The root itself is the fetch
// command, so `fetchall urls.txt` and `fetchall fetch urls.txt` are one.
func newRootCmd(s *Streams) *cobra.Command {
	root := newFetchCmd(s, nil)
	root.Use = "fetchall [FILE|-|URL...]"
	root.Short = "Fetch and crawl the web concurrently"
	root.Long = `fetchall fetches a list of URLs concurrently: bounded workers, a timeout on
every request, retries with backoff, polite per-host limits, and one record
per URL streamed out as it completes.

Without a command, fetchall FILE is fetchall fetch FILE.
Try it offline against the built-in test site: fetchall demo`
	root.Version = fetchallVersion()
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SuggestionsMinimumDistance = 2 // cobra's own default, which SuggestionsFor does not apply
	root.CompletionOptions.HiddenDefaultCmd = false
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if c.Name() == "run" {
			if name := jobSettingFlag(err); name != "" {
				return usageError(fmt.Errorf("%w: a job's settings go in its file or in --set (--set %s=...)", err, strings.ReplaceAll(name, "-", "_")))
			}
		}
		if hint := unknownFlagHint(c, err); hint != "" {
			return usageError(fmt.Errorf("%w: %s (see '%s --help')", err, hint, c.CommandPath()))
		}
		return usageError(fmt.Errorf("%w (see '%s --help')", plainFlagError(err), c.CommandPath()))
	})
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return checkEnvironment() }
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.AddCommand(newFetchCmd(s, nil), newCrawlCmd(s), newRunCmd(s), newBenchCmd(s), newServeCmd(s, nil), newDemoCmd(s), newStateCmd(s))
	return root
}

// listOrURLs wants one URL list, or URLs themselves (every argument an
// absolute http or https URL, as curl takes them).
func listOrURLs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 && allURLs(args) {
		return nil
	}
	if err := mistypedCommand(cmd, args); err != nil {
		return err
	}
	if len(args) > 1 && slices.ContainsFunc(args, func(a string) bool { return allURLs([]string{a}) }) {
		// URLs with a typo among them, not two lists: name the odd one.
		for i, a := range args {
			if !allURLs([]string{a}) {
				return usageError(fmt.Errorf("argument %d, %q, is not an http:// or https:// URL: give URLs, or one URL list FILE (see '%s --help')", i+1, a, cmd.CommandPath()))
			}
		}
	}
	return oneListArg(cmd, args)
}

// mistypedCommand refuses a first argument of the root command that is no
// file but is spelt like a command ("crawll"): the user meant the command,
// and "stat crawll: no such file" would not tell them.
func mistypedCommand(cmd *cobra.Command, args []string) error {
	if cmd.HasParent() || len(args) == 0 || args[0] == "-" {
		return nil
	}
	if _, err := os.Stat(args[0]); err == nil {
		return nil
	}
	if args[0] == "version" {
		return usageError(fmt.Errorf(`"version" is neither a command nor a file: the version is %s --version`, cmd.CommandPath()))
	}
	if hints := cmd.SuggestionsFor(args[0]); len(hints) > 0 {
		return usageError(fmt.Errorf("%q is neither a command nor a file: did you mean %s? (see '%s --help')", args[0], strings.Join(hints, " or "), cmd.CommandPath()))
	}
	return nil
}

// allURLs says whether every argument is an absolute http(s) URL rather
// than a file name.
func allURLs(args []string) bool {
	for _, a := range args {
		lower := strings.ToLower(strings.TrimSpace(a))
		if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
			return false
		}
	}
	return true
}

// oneListArg wants exactly one argument, the URL list, and says so plainly.
func oneListArg(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return usageError(errors.New("missing the URL list: give a FILE, - for standard input, or URLs (see --help)"))
	case len(args) > 1:
		return usageError(fmt.Errorf("one URL list at a time, got %d arguments (see '%s --help')", len(args), cmd.CommandPath()))
	}
	return nil
}

// jobSettingFlag is the crawl setting an unknown flag of run names
// (--insecure, -k, --max-depth): run takes it in the job or --set, which
// "unknown flag" did not say. "" for any other flag.
func jobSettingFlag(err error) string {
	msg := err.Error()
	co := &crawlOptions{}
	fs := pflag.NewFlagSet("job", pflag.ContinueOnError)
	co.bind(fs)
	var f *pflag.Flag
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		f = fs.Lookup(name)
	} else if short, ok := strings.CutPrefix(msg, "unknown shorthand flag: '"); ok && len(short) > 0 {
		f = fs.ShorthandLookup(short[:1])
	}
	if f == nil || notJobSettings[f.Name] {
		return ""
	}
	return f.Name
}

// unknownFlagHint says which flag an unknown --name was likely meant to
// be: one of c's a typo or a word away (--concurency, --sitemaps for
// --follow-sitemaps), or the same flag of another command (--max-depth
// given to fetch). "" when there is none, or err is about something else.
func unknownFlagHint(c *cobra.Command, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok || name == "" {
		return ""
	}
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	if best := config.Suggest(name, names); best != "" {
		return "did you mean --" + best + "?"
	}
	if len(name) >= 4 {
		for _, n := range names {
			if strings.HasSuffix(n, "-"+name) || strings.HasPrefix(n, name+"-") {
				return "did you mean --" + n + "?"
			}
		}
	}
	var others []string
	for _, sub := range c.Root().Commands() {
		if sub != c && sub.Flags().Lookup(name) != nil {
			others = append(others, sub.CommandPath())
		}
	}
	if len(others) > 0 {
		return "it is a flag of " + strings.Join(others, " and ")
	}
	return ""
}

// plainFlagError says what a flag's value should have been, in place of
// the parser's words (`strconv.ParseInt: parsing "x": invalid syntax`).
func plainFlagError(err error) error {
	var invalid *pflag.InvalidValueError
	if !errors.As(err, &invalid) {
		return err
	}
	want := config.Want(invalid.GetFlag().Value.Type())
	if want == "" {
		// The flag's own parser already says what it wants; pflag's
		// framing ('invalid argument "0" for "--max-body" flag') repeats it.
		if cause := invalid.Unwrap(); cause != nil {
			return fmt.Errorf("--%s: %w", invalid.GetFlag().Name, cause)
		}
		return err
	}
	return fmt.Errorf("--%s %q: want %s", invalid.GetFlag().Name, invalid.GetValue(), want)
}

// trimmed is args without the spaces around each, as a list's lines are
// read: a URL pasted with a trailing space is the URL.
func trimmed(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.TrimSpace(a)
	}
	return out
}

// checkEnvironment refuses an environment variable of ours with a value
// it does not know: a misspelt FETCHALL_HTTP would silently do nothing.
func checkEnvironment() error {
	if v, ok := os.LookupEnv("FETCHALL_HTTP"); ok && v != "" && v != "std" {
		return usageError(fmt.Errorf("FETCHALL_HTTP=%q: want std (every request through net/http), or leave it unset", v))
	}
	return nil
}
