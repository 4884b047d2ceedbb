package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/bench"
	"github.com/fetchall/fetchall/internal/urllist"
	"github.com/fetchall/fetchall/output"
)

// maxBenchList caps the list bench holds in memory to replay it.
const maxBenchList = 64 << 20

// politeLimit is how many requests bench sends to hosts beyond loopback
// before it wants --yes.
const politeLimit = 1000

type benchOptions struct {
	requestOptions
	input          string
	levels         string
	runs           int
	warmup         int
	plot           string
	exportJSON     string
	exportMarkdown string
	keepAlive      bool
	yes            bool
	quiet          bool
	noProgress     bool
	output         string
	thresholds     []string
	baseline       string
	failOnSlower   bool
	cookies        cookieOptions

	streams *Streams
}

func newBenchCmd(s *Streams) *cobra.Command {
	opts := &benchOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "bench FILE|-",
		Short: "Compare sequential and concurrent fetching of a list, measured and drawn",
		Long: `Fetch the same list at several concurrency levels with the engine of
fetch, and report for each: wall time (mean ± σ, min … max over --runs),
requests/s, latency percentiles and errors; the speed-up against sequential
(level 1 is always included as the baseline); the efficiency against the
ideal, which replays the sequential run's latencies through N workers; and
the knee, the lowest level reaching 90% of the best throughput.

Every run starts with fresh connections unless --keep-alive-across-runs.
bench writes a report, not records: -o takes the report, and
--export-json and --export-markdown give it in other forms (there is no -f).
More than 1000 requests to hosts other than loopback need --yes.

--threshold EXPR (repeatable) makes bench a gate, as k6's thresholds: a
metric (p50, p90, p99, max, wall, rps, speedup, efficiency, errors), an
optional level (@16, or @all; default the highest), < <= > >=, and a value
(300ms, 1.5s, 8, 0.9, 90%, 1%). Exit 1 when one is missed.
--baseline OLD.json compares each level's wall times with a saved
--export-json by a Mann-Whitney U test (as benchstat), refusing a
baseline made with another list or settings; --fail-on-regression turns a
significant slow-down into exit 1.`,
		Example: `  fetchall bench urls.txt --concurrency 1,5,20,50 --plot bench.svg
  fetchall bench urls.txt --runs 5 --warmup 1 --export-json bench.json --export-markdown bench.md
  fetchall bench urls.txt -c 1,32 --threshold 'p99<300ms' --threshold 'speedup>8' --threshold 'errors<1%'
  fetchall bench urls.txt -c 1,32 --runs 5 --baseline bench.json --fail-on-regression`,
		Args: oneListArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.input = args[0]
			if err := opts.requestOptions.loadConfig(cmd); err != nil {
				return usageError(err)
			}
			return runBench(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.levels, "concurrency", "c", "1,10", "concurrency levels to compare, comma-separated")
	opts.requestOptions.bind(fs)
	fs.IntVar(&opts.runs, "runs", 3, "timed runs per level")
	fs.IntVar(&opts.warmup, "warmup", 0, "untimed runs per level before the timed ones")
	fs.StringVar(&opts.plot, "plot", "", "write an SVG chart (throughput and latency against concurrency) to this file")
	fs.StringVar(&opts.exportJSON, "export-json", "", "write every figure as JSON to this file")
	fs.StringVar(&opts.exportMarkdown, "export-markdown", "", "write a Markdown table to this file")
	fs.BoolVar(&opts.keepAlive, "keep-alive-across-runs", false, "reuse connections across runs instead of starting each run fresh")
	fs.BoolVar(&opts.yes, "yes", false, "allow more than 1000 requests to hosts that are not loopback")
	fs.BoolVarP(&opts.quiet, "quiet", "q", false, "nothing on standard error (bench prints no summary there: the report is its output)")
	fs.BoolVar(&opts.noProgress, "no-progress", false, "no progress lines on standard error")
	fs.StringVarP(&opts.output, "output", "o", "", "write the report to this file instead of standard output")
	fs.StringArrayVar(&opts.thresholds, "threshold", nil, "fail (exit 1) unless this holds, e.g. p99<300ms, speedup>8, efficiency@16>0.9, errors<1% (repeatable)")
	fs.StringVar(&opts.baseline, "baseline", "", "compare with this --export-json of an earlier run (same list and settings)")
	fs.BoolVar(&opts.failOnSlower, "fail-on-regression", false, "with --baseline: exit 1 when a level is significantly slower")
	opts.cookies.bindLoad(fs)

	return cmd
}

func runBench(ctx context.Context, opts *benchOptions) error {
	s := opts.streams
	if opts.output == "-" {
		opts.output = "" // standard output
	}
	levels, err := parseLevels(opts.levels)
	if err != nil {
		return usageError(err)
	}
	if opts.runs < 1 || opts.warmup < 0 {
		return usageError(fmt.Errorf("--runs must be 1 or more and --warmup 0 or more, got %d and %d", opts.runs, opts.warmup))
	}
	opts.concurrency = slices.Max(levels)
	settings, err := opts.settings()
	if err != nil {
		return usageError(err)
	}
	waits, err := fetch.New(settings.Fetch) // only for its retry waits
	if err != nil {
		return usageError(err)
	}
	if _, err := opts.cookies.jar(); err != nil {
		return usageError(err) // before measuring; each fetcher loads its own
	}
	list, err := readWholeList(ctx, opts.input, s.In)
	if err != nil {
		return usageError(err)
	}
	urls, remote := scanList(list)
	if urls == 0 {
		return usageError(fmt.Errorf("URL list %s has no URLs", opts.input))
	}
	total := urls * len(levels) * (opts.runs + opts.warmup)
	if len(remote) > 0 && total > politeLimit && !opts.yes {
		return usageError(fmt.Errorf("bench would send %d requests, some to hosts beyond loopback (%s); pass --yes if they agree to it",
			total, strings.Join(remote[:min(len(remote), 3)], ", ")))
	}

	var thresholds []bench.Threshold
	for _, text := range opts.thresholds {
		th, err := bench.ParseThreshold(text)
		if err != nil {
			return usageError(fmt.Errorf("--%w", err)) // "--threshold \"p99<<1\": want ..."
		}
		// Level 1 is always measured, as the baseline; another must be
		// asked for, or the whole benchmark would run for a gate that
		// cannot pass.
		if th.Level > 1 && !slices.Contains(levels, th.Level) {
			return usageError(fmt.Errorf("--threshold %q: level %d is not measured (--concurrency %s); add it, or use @all", text, th.Level, opts.levels))
		}
		thresholds = append(thresholds, th)
	}
	if opts.failOnSlower && opts.baseline == "" {
		return usageError(errors.New("--fail-on-regression needs --baseline OLD.json"))
	}
	if err := benchFilesWritable(opts); err != nil {
		return usageError(err)
	}
	env := benchEnvironment(opts, levels, list)
	var baseline *bench.Report
	if opts.baseline != "" {
		if baseline, err = bench.ReadJSON(opts.baseline); err != nil {
			return usageError(fmt.Errorf("--baseline: %w", err))
		}
		if err := (&bench.Report{URLs: urls, Environment: env}).Comparable(baseline); err != nil {
			return usageError(fmt.Errorf("--baseline %s: %w", opts.baseline, err))
		}
	}

	cfg := bench.Config{
		Levels:              levels,
		Runs:                opts.runs,
		Warmup:              opts.warmup,
		KeepAliveAcrossRuns: opts.keepAlive,
		Engine: crawler.Config{Accept: settings.Accept, Limits: settings.Limits, Retries: settings.Fetch.Retries,
			RetryWait: waits.RetryWait},
		NewFetcher: func(workers int) (bench.Fetcher, error) {
			o := opts.requestOptions
			o.concurrency = workers
			cc, err := o.clientConfig()
			if err != nil {
				return nil, err
			}
			client, err := fetch.New(cc)
			if err != nil || opts.cookies.load == "" {
				return client, err
			}
			// Each fetcher (a timed run's, or the whole bench's with
			// --keep-alive-across-runs) starts from the file's cookies, and
			// keeps those its answers set (through net/http: the lean path
			// keeps none).
			jar, err := opts.cookies.jar()
			if err != nil {
				return nil, err
			}
			return client.WithJar(jar), nil
		},
	}
	var progress bench.Progress
	if !opts.quiet && !opts.noProgress {
		progress = func(level, run, runs int, warm bool) {
			if warm {
				fmt.Fprintf(s.Err, "level %d: warmup\n", level)
				return
			}
			fmt.Fprintf(s.Err, "level %d: run %d/%d\n", level, run, runs)
		}
	}
	rep, err := bench.Run(ctx, cfg, list, progress)
	if err != nil && rep == nil {
		if ctx.Err() != nil {
			return &exitError{code: exitInterrupted, err: errInterrupted}
		}
		return runFailure(err)
	}
	rep.Environment = env
	// Interrupted after some levels: report and export those.
	// Without ctx's end: an interrupted bench still reports what it measured.
	dest, closeDest, err := openOutput(context.WithoutCancel(ctx), opts.output, s.Out)
	if err != nil {
		return runFailure(err)
	}
	out := &errWriter{w: dest}
	rep.WriteText(out)
	gate := benchGate(out, rep, thresholds, baseline, opts)
	if err := closeDest(); err != nil && out.err == nil {
		out.err = err
	}
	if out.err != nil {
		return runFailure(fmt.Errorf("write report: %w", out.err))
	}
	if err := writeBenchFiles(rep, opts, out); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return &exitError{code: exitInterrupted, err: fmt.Errorf("%w: %s measured", errInterrupted, output.CountNouns(len(rep.Levels), "level", "levels"))}
	}
	if gate != nil {
		return runFailure(gate)
	}
	return nil
}

// benchGate writes the thresholds' verdicts and the comparison with the
// baseline, and returns why the run fails the gate, or nil.
func benchGate(out io.Writer, rep *bench.Report, thresholds []bench.Threshold, baseline *bench.Report, opts *benchOptions) error {
	var fails []string
	if len(thresholds) > 0 {
		fmt.Fprintln(out, "thresholds:")
		missed := 0
		for _, v := range rep.Check(thresholds) {
			fmt.Fprintf(out, "  %s\n", v)
			if !v.Passed {
				missed++
			}
		}
		if missed > 0 {
			fails = append(fails, output.Count(missed, "threshold")+" missed")
		}
	}
	if baseline != nil {
		cs := rep.CompareWith(baseline)
		bench.WriteComparison(out, opts.baseline, cs)
		slower := 0
		for _, c := range cs {
			if c.Slower() {
				slower++
			}
		}
		if slower > 0 && opts.failOnSlower {
			fails = append(fails, fmt.Sprintf("%s significantly slower than %s", output.Count(slower, "level"), opts.baseline))
		}
	}
	if len(fails) == 0 {
		return nil
	}
	return errors.New(strings.Join(fails, "; "))
}

// benchEnvironment records what a bench ran on and with: the machine, the
// list's hosts and every setting that decides the figures (header
// values are left out: they may be secrets).
func benchEnvironment(opts *benchOptions, levels []int, list []byte) *bench.Environment {
	hosts := listHosts(list)
	env := &bench.Environment{
		FetchallVersion: fetchallVersion(), GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Hosts: hosts[:min(len(hosts), 100)], HostCount: len(hosts),
		StartedAt: time.Now().UTC().Format(time.RFC3339),
	}
	var names []string
	for _, h := range opts.headers {
		name, _, _ := strings.Cut(h, ":")
		names = append(names, strings.TrimSpace(name))
	}
	sort.Strings(names)
	levelText := make([]string, 0, len(levels)+1)
	for _, l := range normalizedLevels(levels) {
		levelText = append(levelText, strconv.Itoa(l))
	}
	env.Settings = map[string]string{
		"levels": strings.Join(levelText, ","), "runs": strconv.Itoa(opts.runs), "warmup": strconv.Itoa(opts.warmup),
		"keep_alive_across_runs": strconv.FormatBool(opts.keepAlive), "timeout": opts.timeout.String(),
		"connect_timeout": opts.connectTimeout.String(), "retries": strconv.Itoa(opts.retries),
		"max_retry_wait": opts.maxRetryWait.String(), "max_body": strconv.FormatInt(int64(opts.maxBody), 10),
		"per_host": strconv.Itoa(opts.perHost), "rate": strconv.FormatFloat(opts.rate, 'g', -1, 64),
		"host_rate": strconv.FormatFloat(opts.hostRate, 'g', -1, 64), "method": opts.method,
		"max_redirects": strconv.Itoa(opts.maxRedirects), "ok_status": opts.okStatus.String(),
		"user_agent": opts.userAgent, "insecure": strconv.FormatBool(opts.insecure), "proxy": fetch.Redact(opts.proxy),
		"headers": strings.Join(names, ","),
	}
	return env
}

// normalizedLevels are the levels bench measures: sorted, once each, 1
// included.
func normalizedLevels(levels []int) []int {
	out := append([]int{1}, levels...)
	slices.Sort(out)
	return slices.Compact(out)
}

// listHosts are the hosts (host:port) of a list, sorted.
func listHosts(list []byte) []string {
	r := urllist.NewReader(strings.NewReader(string(list)))
	seen := map[string]bool{}
	for {
		e, err := r.Next()
		if err != nil {
			break
		}
		if e.Err != nil {
			continue
		}
		if u, err := fetch.ParseURL(e.URL); err == nil {
			seen[u.Host] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// errWriter keeps the first error of its writer, for output written in
// many small prints.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// benchFilesWritable checks, before a benchmark that may take minutes,
// that the files it ends by writing can be: a missing folder, a folder
// given as a file, one file under two flags, or a chart named for another
// format (it is SVG) failed only at the end, the measurements spent.
func benchFilesWritable(opts *benchOptions) error {
	// --baseline may be --export-json: read first, it is replaced at the end.
	files := []flagFile{{"-o", opts.output}, {"--plot", opts.plot}, {"--export-json", opts.exportJSON}, {"--export-markdown", opts.exportMarkdown}}
	if err := distinctFiles(files...); err != nil {
		return err
	}
	if err := notAnInput(files, flagFile{"the URL list", opts.input}, flagFile{"--config", opts.configFile}); err != nil {
		return err
	}
	if opts.plot != "" && !strings.EqualFold(filepath.Ext(opts.plot), ".svg") {
		return fmt.Errorf("--plot %s: the chart is SVG; name the file .svg", opts.plot)
	}
	for _, f := range files {
		if err := canReplace(f); err != nil {
			return err
		}
	}
	return nil
}

// writeBenchFiles writes the chart and exports that were asked for.
func writeBenchFiles(rep *bench.Report, opts *benchOptions, out io.Writer) error {
	files := []struct {
		path  string
		what  string
		write func(io.Writer) error
	}{
		{opts.plot, "chart", rep.WriteSVG},
		{opts.exportJSON, "JSON", rep.WriteJSON},
		{opts.exportMarkdown, "Markdown", func(w io.Writer) error { rep.WriteMarkdown(w); return nil }},
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if err := writeFileWith(f.path, f.write); err != nil {
			return runFailure(fmt.Errorf("write %s %s: %w", f.what, f.path, err))
		}
		fmt.Fprintf(out, "%s written to %s\n", f.what, f.path)
	}
	return nil
}

// writeFileWith writes a file with write. Write-only, not os.Create's
// read-write: a named pipe opened read-write is its own reader, and what
// is written there is lost when no other reader has come.
func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseLevels reads "1,5,20,50".
func parseLevels(s string) ([]int, error) {
	var levels []int
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--concurrency %q: %q is not a whole number of 1 or more", s, part)
		}
		levels = append(levels, n)
	}
	return levels, nil
}

// readWholeList reads the list into memory: bench replays it many times,
// and standard input can be read only once.
func readWholeList(ctx context.Context, name string, stdin io.Reader) ([]byte, error) {
	r, closeList, err := openList(ctx, name, stdin)
	if err != nil {
		return nil, err
	}
	defer closeList()
	// Read aside, so that Ctrl-C ends a wait on an idle standard input or
	// pipe; the read then ends with the process, as the list reader's does.
	type read struct {
		data []byte
		err  error
	}
	done := make(chan read, 1)
	go func() {
		data, err := io.ReadAll(io.LimitReader(r, maxBenchList+1))
		done <- read{data, err}
	}()
	var data []byte
	select {
	case got := <-done:
		if got.err != nil {
			return nil, fmt.Errorf("URL list: %w", got.err)
		}
		data = got.data
	case <-ctx.Done():
		return nil, fmt.Errorf("%w while reading the URL list", errInterrupted)
	}
	if len(data) > maxBenchList {
		return nil, errors.New("URL list: bench holds the list in memory and takes at most 64 MiB")
	}
	return data, nil
}

// scanList counts the list's entries and names the hosts that are not
// loopback, sorted.
func scanList(list []byte) (urls int, remote []string) {
	r := urllist.NewReader(strings.NewReader(string(list)))
	hosts := map[string]bool{}
	for {
		e, err := r.Next()
		if err != nil {
			break
		}
		urls++
		if e.Err != nil {
			continue
		}
		u, err := fetch.ParseURL(e.URL)
		if err != nil {
			continue
		}
		h := u.Hostname()
		if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || strings.EqualFold(h, "localhost") {
			continue
		}
		hosts[h] = true
	}
	for h := range hosts {
		remote = append(remote, h)
	}
	sort.Strings(remote)
	return urls, remote
}
