package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/crawler/state"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/filelock"
	"github.com/fetchall/fetchall/internal/samefile"
	"github.com/fetchall/fetchall/internal/urllist"
	"github.com/fetchall/fetchall/output"
)

// fetchOptions are the fetch command's flags and argument.
type fetchOptions struct {
	requestOptions
	outputOptions
	input   string   // a list file, or - for standard input
	urls    []string // or the URLs themselves, given as arguments
	ordered bool
	state   stateOptions
	cookies cookieOptions

	streams *Streams
}

func newFetchCmd(s *Streams, runF func(context.Context, *fetchOptions) error) *cobra.Command {
	opts := &fetchOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "fetch FILE|-|URL...",
		Short: "Fetch every URL of a list concurrently",
		Long: `Fetch every URL of a list, one per line (blank lines and # comments are
skipped), or the URLs given as arguments, with --concurrency workers. Each URL yields exactly one record,
success or failure, written as soon as it completes (--ordered: in input
order). Records go to standard output, or --output; progress and the summary
go to standard error.

Exit status: 0 every record ok, 1 some not ok, 2 bad usage, config or input
file (nothing fetched), 130 interrupted.`,
		Example: `  fetchall urls.txt --concurrency 5
  cat urls.txt | fetchall - -o out.jsonl
  fetchall https://example.org/ https://example.org/about -X HEAD
  fetchall fetch urls.txt -f csv --ok-status 200-399,404 -H 'Accept: text/html'`,
		Args: listOrURLs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if allURLs(args) {
				opts.urls = trimmed(args)
			} else {
				opts.input = args[0]
			}
			if err := opts.requestOptions.loadConfig(cmd); err != nil {
				return usageError(err)
			}
			if err := opts.outputOptions.validate(); err != nil {
				return usageError(err)
			}
			if err := opts.state.check(); err != nil {
				return usageError(err)
			}
			if strings.EqualFold(opts.method, http.MethodHead) && opts.saveDir != "" {
				// It saved an empty file for every URL.
				return usageError(errors.New("--save-dir saves bodies, and -X HEAD fetches none"))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runFetch(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.IntVarP(&opts.concurrency, "concurrency", "c", 10, "requests in flight at once")
	opts.requestOptions.bind(fs)
	opts.outputOptions.bind(fs)
	fs.BoolVar(&opts.ordered, "ordered", false, "write records in input order instead of completion order")
	fs.StringVarP(&opts.method, "method", "X", "GET", "request method: GET, or HEAD to check links without fetching bodies (a server that refuses HEAD, 405 or 501, is asked again by GET)")
	opts.state.bind(fs)
	opts.cookies.bind(fs, "run")
	return cmd
}

// runFetch fetches the list and writes records; it maps the outcome to an
// exit error.
func runFetch(ctx context.Context, opts *fetchOptions) error {
	s := opts.streams
	settings, err := opts.settings()
	if err != nil {
		return usageError(err)
	}
	settings.Fetch.Trace = !opts.fieldSet.Empty()
	if err := checkOpenFiles(opts.concurrency); err != nil {
		return usageError(err)
	}
	jar := opts.cookies.jarFile()
	if err := notAnInput([]flagFile{{"-o", opts.output}, {"--warc", opts.archive.path}, jar}, flagFile{"the URL list", opts.input}, flagFile{"--config", opts.configFile}); err != nil {
		return usageError(err)
	}
	if err := distinctFiles(flagFile{"-o", opts.output}, flagFile{"--warc", opts.archive.path}, flagFile{"--save-dir", opts.saveDir}, jar); err != nil {
		return usageError(err)
	}
	if err := canReplace(jar); err != nil {
		return usageError(err)
	}
	if opts.cookies.given() {
		// Cookies the list's answers set go with its next requests to
		// their site, as with curl -b and -c (through net/http: the lean
		// path keeps none).
		if settings.Jar, err = opts.cookies.jar(); err != nil {
			return usageError(err)
		}
	}
	var list io.Reader = strings.NewReader(strings.Join(opts.urls, "\n"))
	total := len(opts.urls)
	if opts.urls == nil {
		l, closeList, err := openList(ctx, opts.input, s.In)
		if err != nil {
			return usageError(err)
		}
		defer closeList()
		list, total = l, -1
		if s.ErrIsTerminal {
			total = countURLs(opts.input)
		}
	}
	if err := opts.outputOptions.preflight(); err != nil {
		return usageError(err) // before -o is opened, and emptied
	}
	src := crawler.ListSource(list)
	var frontier crawler.Frontier
	var st *state.State
	if opts.state.dir != "" {
		input := absPath(opts.input)
		if opts.urls != nil {
			input = strings.Join(opts.urls, " ")
		}
		opts.state.keyOf = func(rec map[string]string) (uint64, bool) {
			line, err := strconv.Atoi(rec["line"])
			return crawler.Task{Listed: true, Line: line}.Key(), err == nil
		}
		if opts.urls == nil {
			opts.state.hasNewWork = func(st *state.State) (bool, error) { return listHasNewLines(ctx, st, opts.input) }
		}
		st, err = opts.state.openState(fingerprint("fetch", input, "-f", opts.format, "--fields", opts.recordShape()), settings.Limits, &opts.outputOptions)
		if errors.Is(err, errFinished) {
			return finishedRun(notices(s.Err, opts.quiet), err, "run", opts.state.dir, opts.output)
		}
		if errors.Is(err, state.ErrListChanged) {
			return runFailure(err) // as when a resume meets the change
		}
		if err != nil {
			return usageError(err)
		}
		if opts.state.reopened {
			what := "its list has lines it has not fetched, which it fetches now"
			if !isRegularFile(opts.input) {
				what = "it reads its list again and fetches the lines it has not fetched"
			}
			fmt.Fprintf(notices(s.Err, opts.quiet), "fetchall: the run in %s was finished; %s\n", opts.state.dir, what)
		}
		defer st.Close()
		settings.Journal, frontier, src = st, st, st.SkipDone(src)
	}
	out, err := opts.outputOptions.openRecords(ctx, s, total, false)
	if err != nil {
		return usageError(err)
	}
	settings.Ordered, settings.FailFast, settings.Saver = opts.ordered, opts.failFast, out.engineSaver()
	runCtx, finishArchive, reportArchive, err := opts.archive.start(ctx, &settings)
	if err != nil {
		out.close()
		return usageError(err)
	}
	run, err := crawler.New(settings)
	if err != nil {
		out.close()
		return usageError(finishArchive(err))
	}
	defer run.Close()
	start := time.Now()
	stats, runErr := run.FetchList(runCtx, src, frontier, out.sink)
	elapsed := time.Since(start)
	runErr = finishArchive(runErr)
	if err := opts.cookies.saveJar(settings.Jar); err != nil && runErr == nil {
		runErr = err
	}
	runErr = out.finish(ctx, runErr, !opts.quiet, s.Err, elapsed, stats, opts.output)
	if !opts.quiet {
		reportArchive(s.Err)
	}
	if st != nil {
		runErr = finishState(st, runErr, ctx.Err() == nil, !opts.quiet, s.Err, opts.state)
	}
	if !opts.quiet && out.summary.Total == 0 && runErr == nil && ctx.Err() == nil && (st == nil || !st.Resumed) {
		fmt.Fprintf(s.Err, "fetchall: %s has no URLs (blank lines and # comments are skipped)\n", listName(opts.input))
	}
	return fetchOutcome(ctx, runErr, out.summary, output.CountNouns(out.records.Written(), "record", "records"))
}

func listName(input string) string {
	if input == "-" {
		return "standard input"
	}
	return input
}

// fetchOutcome turns the run's error and tallies into the exit error;
// written says what reached the output ("12 records"), for an interrupt.
func fetchOutcome(ctx context.Context, runErr error, summary *output.Summary, written string) error {
	switch {
	case ctx.Err() != nil:
		return &exitError{code: exitInterrupted, err: fmt.Errorf("%w: %s written", errInterrupted, written)}
	case runErr != nil: // crawler.ErrFailFast included: its message says what failed
		return runFailure(runErr)
	case summary.Failed() > 0:
		return silentFailure(errSomeFailed)
	}
	return nil
}

// listHasNewLines says whether the list name holds a line that the
// finished run of st has no record of: lines appended since. Standard
// input and pipes can be read only once, so for them it says yes, and the
// run reads them, leaving out what is done.
func listHasNewLines(ctx context.Context, st *state.State, name string) (bool, error) {
	if !isRegularFile(name) {
		return true, nil // the run itself says what is wrong with it
	}
	f, err := os.Open(name)
	if err != nil {
		return true, nil
	}
	defer f.Close()
	text, err := listText(name, f)
	if err != nil {
		return true, nil
	}
	_, err = st.SkipDone(crawler.ListSource(text)).Next(ctx)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	return err == nil, err
}

// seedsHaveNew says whether a finished crawl's seeds file now names a
// seed the crawl never met (lines appended since): the crawl goes on from
// those, as a finished list run goes on with its appended lines.
func seedsHaveNew(ctx context.Context, st *state.State, name string) (bool, error) {
	if !isRegularFile(name) {
		return true, nil // read again by the run: what it knows it skips
	}
	f, err := os.Open(name)
	if err != nil {
		return true, nil // the run says what is wrong with it
	}
	defer f.Close()
	text, err := listText(name, f)
	if err != nil {
		return true, nil
	}
	seeds := crawler.SeedList(listName(name), text)
	for {
		t, err := seeds.Next(ctx)
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if t.Invalid != nil {
			continue // a record of the first run already
		}
		canonical, err := crawler.Canonical(t.URL)
		if err == nil && !st.Seen(crawler.Task{URL: canonical}.Key()) {
			return true, nil
		}
	}
}

// isRegularFile says whether the list name is a file that can be read
// twice: not standard input, a pipe or a device.
func isRegularFile(name string) bool {
	info, err := os.Stat(name)
	return name != "-" && err == nil && info.Mode().IsRegular()
}

// openList opens the URL list: a file, or standard input for "-". A
// named pipe's open waits for its writer until ctx ends.
func openList(ctx context.Context, name string, stdin io.Reader) (io.Reader, func(), error) {
	if name == "-" {
		return stdin, func() {}, nil
	}
	info, err := os.Stat(name)
	if err != nil {
		// A host with a port or a path, or a www. name, is more likely a
		// URL without its scheme than a file ("urls.txt" is a file).
		authority, path, hasPath := strings.Cut(name, "/")
		hostLike := strings.Contains(authority, ":") || strings.HasPrefix(name, "www.") || (hasPath && path != "" && strings.Contains(authority, ".") && !strings.HasPrefix(name, "."))
		if errors.Is(err, fs.ErrNotExist) && hostLike {
			if _, perr := fetch.ParseURL("http://" + name); perr == nil {
				return nil, nil, fmt.Errorf("URL list %s: %w (if it is a URL, give its scheme: http://%s)", name, unwrapPathError(err), name)
			}
		}
		return nil, nil, fmt.Errorf("URL list %s: %w", name, unwrapPathError(err))
	}
	if info.IsDir() {
		return nil, nil, fmt.Errorf("URL list %s: is a directory, want a file with one URL per line", name)
	}
	var f *os.File
	if info.Mode()&os.ModeNamedPipe != 0 {
		f, err = openNamedPipe(ctx, name, false)
	} else {
		f, err = os.Open(name)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("URL list: %w", err)
	}
	if !info.Mode().IsRegular() {
		// A pipe (<(command), a named pipe) or a device: what is in it
		// comes when it comes, so it is looked at when the run reads it,
		// where an interrupt reaches the read.
		return &sniffedList{name: name, f: f}, func() { f.Close() }, nil
	}
	text, err := listText(name, f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return text, func() { f.Close() }, nil
}

// listText is the text of the list file f: UTF-16 with its byte-order
// mark (what Windows PowerShell's > writes) is read as the UTF-8 it
// stands for. A NUL byte near the start otherwise means a binary file
// given by mistake: said once, rather than a bad_url record for every
// "line" of it.
func listText(name string, f io.Reader) (io.Reader, error) {
	head := make([]byte, 8192)
	n, _ := io.ReadFull(f, head)
	return sniff("URL list "+name, head[:n], f)
}

// sniff is the text of a list (what, in errors) that starts with head and
// goes on in rest.
func sniff(what string, head []byte, rest io.Reader) (io.Reader, error) {
	// Not Seek: the "file" may be a pipe, as with <(command).
	all := io.MultiReader(bytes.NewReader(head), rest)
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return transform.NewReader(all, unicode.BOMOverride(unicode.UTF8.NewDecoder())), nil
	case bytes.IndexByte(head, 0) >= 0:
		return nil, fmt.Errorf("%s looks like a binary file (it has NUL bytes), not one URL per line", what)
	case looksLikeJob(head):
		// Each of its lines was a bad_url record, exit 1: the user meant
		// to run it.
		return nil, fmt.Errorf("%s looks like a scraping job (it has an items: or start: key), not one URL per line: fetchall run FILE runs a job", what)
	}
	return all, nil
}

// looksLikeJob says whether a list's first bytes hold a job file's
// top-level items:, start: or start_file: key. No URL line starts so: it
// would be a URL of the scheme "start" or "items".
func looksLikeJob(head []byte) bool {
	for line := range bytes.Lines(head) {
		for _, key := range []string{"items:", "start:", "start_file:"} {
			if bytes.HasPrefix(line, []byte(key)) {
				return true
			}
		}
	}
	return false
}

// sniffedList is listText for a list that is not a regular file: its
// first read takes what has come (at least two bytes, for a byte-order
// mark), not 8 KiB, so that the first URLs of a slow pipe go at once.
type sniffedList struct {
	name string
	f    io.Reader
	text io.Reader // after the first read
}

func (l *sniffedList) Read(p []byte) (int, error) {
	if l.text == nil {
		head := make([]byte, 8192)
		n, err := io.ReadAtLeast(l.f, head, 2)
		if n == 0 && err != nil {
			return 0, err
		}
		if l.text, err = sniff(l.name, head[:n], l.f); err != nil { // read errors say "URL list" already
			return 0, err
		}
	}
	return l.text.Read(p)
}

// notAnInput refuses an output file that is one of the run's inputs (the
// same file by device and inode, through any link): the list would have
// its own records read back as URLs, and a settings file, a job or a seed
// list would be written over (-o and --warc took --config's or --seeds'
// file, and bench's exports the list, silently).
func notAnInput(outputs []flagFile, inputs ...flagFile) error {
	for _, out := range outputs {
		for _, in := range inputs {
			if out.path == "" || in.path == "" || out.path == "-" || in.path == "-" {
				continue
			}
			if samefile.Same(out.path, in.path) {
				return fmt.Errorf("%s %s is the input %s (%s): it would be written over while it is read; write it elsewhere", out.flag, out.path, in.path, in.flag)
			}
		}
	}
	return nil
}

// flagFile is a file or folder a flag names.
type flagFile struct{ flag, path string }

// distinctFiles refuses one file given to a run under two flags (-o and
// --warc, --replay and --warc...): each would write over, or into, the
// other; the second one opened was blamed on another process.
func distinctFiles(files ...flagFile) error {
	for i, a := range files {
		for _, b := range files[i+1:] {
			if a.path != "" && b.path != "" && a.path != "-" && b.path != "-" && samefile.Same(a.path, b.path) {
				return fmt.Errorf("%s and %s both name %s: give each its own", a.flag, b.flag, b.path)
			}
		}
	}
	return nil
}

// openOutput opens the records' destination: a file, or stdout when name
// is empty. The close function reports a failed final write.
func openOutput(ctx context.Context, name string, stdout io.Writer) (io.Writer, func() error, error) {
	if name == "" {
		return stdout, func() error { return nil }, nil
	}
	if info, err := os.Stat(name); err == nil && !info.Mode().IsRegular() {
		// A device (/dev/null) or a pipe: written to, never emptied or
		// locked. A named pipe's open waits for its reader, until ctx ends;
		// opened read-write, as a file is, the pipe was its own reader and
		// the records were lost when the run ended with none.
		var f *os.File
		if info.Mode()&os.ModeNamedPipe != 0 {
			f, err = openNamedPipe(ctx, name, true)
		} else {
			f, err = os.OpenFile(name, os.O_WRONLY, 0)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("output: %w", err)
		}
		return f, f.Close, nil
	}
	f, err := createOutput(name)
	if err != nil {
		return nil, nil, fmt.Errorf("output: %w", err)
	}
	return f, f.Close, nil
}

// createOutput is os.Create for a file that records go to, but the file
// is locked before it is emptied: a second fetchall given the same file
// is refused, and the first one's records stay whole.
func createOutput(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	if err := lockOutput(f, path); err != nil {
		f.Close()
		return nil, err
	}
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// lockOutput takes the lock of f, an output at path.
func lockOutput(f *os.File, path string) error {
	if err := filelock.Lock(f); err != nil {
		return fmt.Errorf("%s: %w (a fetchall still running with the same file?): give each run its own", path, err)
	}
	return nil
}

// countURLs counts the entries of a list file for the progress total; -1
// for anything but a regular file, which it would read up.
func countURLs(name string) int {
	if info, err := os.Stat(name); err != nil || !info.Mode().IsRegular() {
		return -1 // standard input, a pipe: counting would read it up
	}
	f, err := os.Open(name)
	if err != nil {
		return -1
	}
	defer f.Close()
	text, err := listText(name, f)
	if err != nil {
		return -1
	}
	r := urllist.NewReader(text)
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			return n
		}
		n++
	}
}
