package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/fetchall/fetchall/archive"
	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/crawler/state"
	"github.com/fetchall/fetchall/internal/config"
	"github.com/fetchall/fetchall/job"
	"github.com/fetchall/fetchall/output"
)

type runOptions struct {
	state        stateOptions  // over the job's own state key
	shared       sharedOptions // over the job's own frontier keys
	sets         []string
	dryRun       bool
	check        bool
	test         bool
	pageURLs     []string
	fields       []string
	headerFields []string
	archive      archiveOptions
	replay       []string
	output       string
	configFile   string
	quiet        bool
	noProgress   bool

	streams *Streams
}

func newRunCmd(s *Streams) *cobra.Command {
	opts := &runOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "run JOB.yaml | run --check JOB.yaml PAGE... | run --test JOB.yaml",
		Short: "Run a scraping job: crawl, extract fields, write items",
		Long: `Run the scraping job a YAML file describes: where to start, which links to
follow, what to extract from which pages, and where to write the items
(see the README and testdata/jobs/). Any crawl or fetch setting may appear
in the job under its flag's name (max_depth, per_host, timeout...).

The job file is checked whole before anything is fetched; a mistake is
named by file, line and key. --set overrides one key by its dotted path.
--dry-run checks the job and prints what it would do, fetching nothing.
--check applies the extraction rules to saved pages and prints the items.
--test runs the job, writes no items, and checks its rules' contracts
(expect: blocks): it prints each contract's verdict and exits 1 when one
is broken. With --check it checks the saved pages instead, fetching
nothing. A normal run checks the contracts too, and exits 1 when one is
broken.
--warc FILE.warc.gz archives every request and response of the run;
--replay FILE.warc.gz runs the job against such an archive instead of the
network: the same items, offline.`,
		Example: `  fetchall run testdata/jobs/catalogue.yaml
  fetchall run job.yaml --set output.format=csv --set max_pages=50 -o items.csv
  fetchall run job.yaml --dry-run
  fetchall run job.yaml --frontier redis://10.0.0.5:6379/0 --crawl-id shop -o items-2.jsonl
  fetchall run --check job.yaml saved-page.html --url https://shop.example/catalogue/x/index.html
  fetchall run --test job.yaml
  fetchall run job.yaml --warc shop.warc.gz && fetchall run job.yaml --replay shop.warc.gz
  fetchall run --test --check job.yaml a.html b.html --url https://shop.example/a --url https://shop.example/b`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.check {
				if len(args) < 2 {
					return usageError(errors.New("--check takes the job file and saved pages: run --check JOB.yaml PAGE.html [PAGE.html ...]"))
				}
				if len(opts.pageURLs) > 0 && len(opts.pageURLs) != len(args)-1 {
					return usageError(fmt.Errorf("--url given %s for %s: give it once per page, in the same order, or not at all", output.Count(len(opts.pageURLs), "time"), output.Count(len(args)-1, "page")))
				}
				return runCheck(opts, args[0], args[1:])
			}
			if len(opts.pageURLs) > 0 {
				return usageError(errors.New("--url goes with --check (the saved page's address)"))
			}
			if len(args) != 1 {
				return usageError(errors.New("give one job file: fetchall run JOB.yaml (see --help)"))
			}
			return runJob(cmd.Context(), opts, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&opts.sets, "set", nil, "override a job key by its dotted path, e.g. output.format=csv (repeatable)")
	fs.BoolVar(&opts.dryRun, "dry-run", false, "check the job and print what it would do, fetching nothing")
	fs.BoolVar(&opts.check, "check", false, "apply the job's rules to saved pages (the arguments after the job) and print the items")
	fs.BoolVar(&opts.test, "test", false, "check the job's contracts (expect:), writing no items; exit 1 when one is broken")
	fs.StringArrayVar(&opts.pageURLs, "url", nil, "with --check: each page's URL, in order, for match rules, samples and relative links (default: file://PAGE)")
	fs.StringVarP(&opts.output, "output", "o", "", "write items here instead of the job's output.path")
	fs.StringArrayVar(&opts.fields, "fields", nil, "add fields to the error records (output.errors): all, or a comma list (see the README's schema)")
	fs.StringArrayVar(&opts.headerFields, "header-field", nil, "add a response header to the error records as header_NAME (repeatable)")
	opts.archive.bind(fs)
	fs.StringArrayVar(&opts.replay, "replay", nil, "run against these WARC files (from --warc) instead of the network: no request leaves the machine (repeatable)")
	fs.StringVar(&opts.configFile, "config", "", "YAML settings for keys the job does not set (see config.example.yaml)")
	opts.state.bind(fs)
	opts.shared.bind(fs)
	fs.BoolVarP(&opts.quiet, "quiet", "q", false, "no progress, summary or notices on standard error: only errors and warnings")
	fs.BoolVar(&opts.noProgress, "no-progress", false, "no progress line (it is only drawn on a terminal anyway)")
	return cmd
}

// notJobSettings are crawl flags a job sets its own way (start, output)
// or not at all.
var notJobSettings = map[string]bool{"config": true, "help": true, "version": true, "seeds": true,
	"output": true, "format": true, "quiet": true, "no-progress": true, "status": true, "reset": true}

// loadJob reads and checks the job file and turns its settings into crawl
// options: job file first, then --config for what the job leaves unset.
func loadJob(path string, opts *runOptions) (*job.Job, *crawlOptions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("job: %w", err)
	}
	j, err := job.Parse(path, data, opts.sets)
	var oerr *job.OverrideError
	if errors.As(err, &oerr) {
		return nil, nil, fmt.Errorf("--set %q: %w", oerr.Set, oerr.Err)
	}
	if err != nil {
		return nil, nil, err
	}
	co := &crawlOptions{streams: opts.streams}
	fs := pflag.NewFlagSet("job", pflag.ContinueOnError)
	co.bind(fs)
	allowed := func(name string) bool { return !notJobSettings[name] }
	if j.Settings != nil {
		if err := config.ApplyNode(fs, path, j.Settings, allowed); err != nil {
			// A near miss of a job key ("ouput") is likelier than of a setting.
			var cerr *config.Error
			if errors.As(err, &cerr) && errors.Is(err, config.ErrUnknownKey) {
				if s := config.Suggest(cerr.Key, job.Keys); s != "" {
					cerr.Err = fmt.Errorf("%w (did you mean %q?)", config.ErrUnknownKey, s)
				}
			}
			return nil, nil, err
		}
	}
	if opts.configFile != "" {
		f, err := os.Open(opts.configFile)
		if err != nil {
			return nil, nil, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := config.ApplyShared(fs, opts.configFile, f, allowed, sharedSetting); err != nil {
			return nil, nil, err
		}
	}
	co.seeds = j.Start
	co.seedsFile = j.StartFile
	if opts.archive.path != "" {
		co.archive.path = opts.archive.path
	}
	if opts.archive.maxSize != 0 {
		co.archive.maxSize = opts.archive.maxSize
	}
	if err := co.archive.check(); err != nil {
		return nil, nil, err
	}
	co.fields = append(co.fields, opts.fields...)
	co.headerFields = append(co.headerFields, opts.headerFields...)
	if co.fieldSet, err = output.ParseFields(co.fields, co.headerFields); err != nil {
		return nil, nil, fieldsError(err)
	}
	co.quiet, co.noProgress = opts.quiet, opts.noProgress
	// A value that parses but cannot work (concurrency: -5) is named by
	// the file, line and key that set it, like every other job error.
	if _, err := co.crawlSettings(); err != nil {
		var ferr *FlagError
		if errors.As(err, &ferr) {
			if k := settingKey(j.Settings, ferr.Flag); k != nil {
				return nil, nil, &config.Error{File: path, Line: k.Line, Key: k.Value, Err: ferr.Err}
			}
		}
		return nil, nil, err
	}
	return j, co, nil
}

// settingKey finds the key node of a flag in a job's settings (written
// with _ or -), or nil.
func settingKey(settings *yaml.Node, flag string) *yaml.Node {
	if settings == nil {
		return nil
	}
	for i := 0; i+1 < len(settings.Content); i += 2 {
		if k := settings.Content[i]; strings.ReplaceAll(k.Value, "_", "-") == flag {
			return k
		}
	}
	return nil
}

func runJob(ctx context.Context, opts *runOptions, path string) error {
	s := opts.streams
	j, co, err := loadJob(path, opts)
	if err != nil {
		return usageError(err)
	}
	if err := testable(j, opts); err != nil {
		return err
	}
	switch opts.output {
	case "":
	case "-": // standard output, as everywhere else
		j.Output.Path = ""
	default:
		j.Output.SetOutputPath(opts.output)
	}
	if opts.test {
		if opts.state.dir != "" || opts.shared.url != "" || opts.output != "" {
			return usageError(errors.New("--test writes nothing: it takes no --state, --frontier or -o"))
		}
		j.Output.Path, j.Output.Errors = os.DevNull, ""
	}
	itemsFlag := "output.path"
	if opts.output != "" {
		itemsFlag = "-o"
	}
	// output.errors is checked against output.path in the job; -o comes
	// after, and the two files named alike were refused as "being written
	// by another process".
	files := []flagFile{{"--warc", co.archive.path}, {itemsFlag, j.Output.Path}, {"output.errors", j.Output.Errors}}
	for _, r := range opts.replay {
		files = append(files, flagFile{"--replay", r})
	}
	if err := distinctFiles(files...); err != nil {
		return usageError(err)
	}
	outputs := []flagFile{{itemsFlag, j.Output.Path}, {"output.errors", j.Output.Errors}, {"--warc", co.archive.path}}
	if err := notAnInput(outputs, flagFile{"start_file", j.StartFile}, flagFile{"the job", path}, flagFile{"--config", co.configFile}); err != nil {
		return usageError(err)
	}
	if opts.test {
		co.state, co.shared = stateOptions{}, sharedOptions{}
	}
	if j.StartFile != "" && j.StartFile != "-" {
		if _, err := os.Stat(j.StartFile); err != nil {
			// Read from the working directory, not the job's folder: say
			// which, as a job run from cron or CI starts elsewhere.
			wd, _ := os.Getwd()
			return usageError(fmt.Errorf("%s: start_file %s: %w (a relative path is read from the working directory, %s)", j.File, j.StartFile, errors.Unwrap(err), wd))
		}
	}
	cs, err := co.setup(ctx, s.In)
	if err != nil {
		return usageError(err)
	}
	defer cs.close()
	if opts.dryRun {
		return j.Describe(s.Out, cs.settings)
	}
	cs.settings.Follow = j.FollowRules()
	cs.settings.Extractor = job.NewExtractor(j)
	if opts.state.dir != "" {
		co.state = opts.state
	} else {
		// The flags act on the job's own state, if it names one; with
		// none, state.check refuses them (they did nothing, silently).
		co.state.reset = co.state.reset || opts.state.reset
		co.state.retryFailed = co.state.retryFailed || opts.state.retryFailed
	}
	if opts.shared.url != "" {
		co.shared = opts.shared
	}
	if opts.test {
		co.state, co.shared = stateOptions{}, sharedOptions{}
	}
	if err := co.state.check(); err != nil {
		return usageError(err)
	}
	if err := co.shared.check(co.state.dir); err != nil {
		return usageError(err)
	}
	if done, err := co.shared.action(ctx, s.Out); done {
		return usageErrorOrNil(err)
	}
	// What can still refuse the run is tried before the items file is
	// opened, and emptied: an errors file in a missing folder, or a
	// replay that cannot be read, cost it its items.
	if err := co.archive.preflight(); err != nil {
		return usageError(err)
	}
	for _, f := range []flagFile{{itemsFlag, j.Output.Path}, {"output.errors", j.Output.Errors}} {
		if err := canWrite(f); err != nil {
			return usageError(err)
		}
	}
	if len(opts.replay) > 0 {
		rp, err := archive.OpenReplay(opts.replay...)
		if err != nil {
			return usageError(err)
		}
		for _, damage := range rp.Damaged {
			fmt.Fprintf(s.Err, "fetchall: replay: %s\n", damage)
		}
		// Nothing reaches a server: no politeness to keep.
		cs.settings.Fetch.Replay = rp
		cs.settings.Limits.Delay, cs.settings.Limits.Rate, cs.settings.Limits.HostRate = 0, 0, 0
	}
	var st *state.State
	var frontier crawler.Frontier
	var items, errs io.Writer
	var closeItems func() error
	closeErrs := func() error { return nil }
	appending := false
	if co.state.dir != "" {
		if j.Output.Path == "" {
			return usageError(errors.New("--state needs the items in a file (output.path, or -o FILE): standard output cannot be taken back after a crash"))
		}
		if err := regularJobOutputs("--state", j); err != nil {
			return usageError(err)
		}
		if j.StartFile != "" {
			co.state.hasNewWork = func(st *state.State) (bool, error) { return seedsHaveNew(ctx, st, j.StartFile) }
		}
		st, err = co.state.open(jobFingerprint(path, opts.sets, co.fieldSet), cs.settings.CrawlLimits())
		if errors.Is(err, errFinished) {
			return finishedRun(notices(s.Err, opts.quiet), err, "job", co.state.dir, jobOutputPaths(j)...)
		}
		if err != nil {
			return usageError(err)
		}
		if co.state.reopened {
			fmt.Fprintf(notices(s.Err, opts.quiet), "fetchall: the job in %s was finished; its start_file names start URLs it has not met, which it runs now\n", co.state.dir)
		}
		defer st.Close()
		left, reached := pagesLeft(st, co.maxPages)
		if reached {
			return limitReached(notices(s.Err, opts.quiet), "job", co.state.dir, fmt.Sprintf("max_pages %d", co.maxPages), "--state-reset starts over")
		}
		cs.settings.MaxPages = left
		if err := retryFailedPages(st, &co.state, j.Output.Errors); err != nil {
			return usageError(err)
		}
		files, err := co.state.openOutputs(st, jobOutputPaths(j)...)
		if err != nil {
			return usageError(err)
		}
		items, errs, closeItems, closeErrs, appending = reopenedJobFiles(files)
		cs.settings.Journal, frontier, cs.seeds = st, st, st.SkipDone(cs.seeds)
	} else if co.shared.url != "" && j.Output.Path != "" {
		fr, err := co.shared.open(ctx, jobFingerprint(path, opts.sets, co.fieldSet), cs.settings, co.maxPages)
		if err != nil {
			return usageError(err)
		}
		defer fr.Close()
		frontier = fr
		cs.settings.RobotsStore, cs.settings.Journal = fr, fr
		if err := regularJobOutputs("--frontier", j); err != nil {
			return usageError(err)
		}
		files, err := co.shared.openOutputs(ctx, fr, jobOutputPaths(j)...)
		if err != nil {
			return usageError(err)
		}
		items, errs, closeItems, closeErrs, appending = reopenedJobFiles(files)
	} else {
		if co.shared.url != "" {
			return usageError(errors.New("--frontier needs the items in a file (output.path, or -o FILE)"))
		}
		if items, closeItems, err = openOutput(ctx, j.Output.Path, s.Out); err != nil {
			return usageError(err)
		}
		if j.Output.Errors != "" {
			if errs, closeErrs, err = openOutput(ctx, j.Output.Errors, nil); err != nil {
				closeItems()
				return usageError(err)
			}
		}
	}
	runCtx, finishArchive, reportArchive, err := co.archive.start(ctx, &cs.settings)
	if err != nil {
		closeItems()
		closeErrs()
		return usageError(err)
	}
	run, err := crawler.New(cs.settings)
	if err != nil {
		closeItems()
		closeErrs()
		return usageError(finishArchive(err))
	}
	defer run.Close()
	w, err := job.NewWriter(j, items, errs, appending, co.fieldSet)
	if err == nil {
		w.Discarding = opts.test
	}
	if err == nil && appending {
		err = resumeItems(w, j.Output.Path)
	}
	if err != nil {
		closeItems()
		closeErrs()
		return runFailure(err)
	}
	summary := &output.Summary{}
	sink := output.Tee{w, summary}
	var progress *output.Progress
	if s.ErrIsTerminal && !opts.quiet && !opts.noProgress {
		progress = output.NewProgress(s.Err, -1)
		sink = append(sink, progress)
		showRobotsWaits(run, progress)
	}
	start := time.Now()
	stats, runErr := run.Crawl(runCtx, cs.seeds, frontier, sink)
	runErr = finishArchive(runErr)
	if err := co.cookies.saveJar(cs.settings.Jar); err != nil && runErr == nil {
		runErr = err
	}
	elapsed := time.Since(start)
	if progress != nil {
		progress.Finish()
	}
	for _, closeFn := range []func() error{closeItems, closeErrs} {
		if err := closeFn(); err != nil && runErr == nil {
			runErr = fmt.Errorf("write output: %w", err)
		}
	}
	if !opts.quiet {
		summary.Report(s.Err, elapsed)
		w.Report(s.Err)
		reportArchive(s.Err)
	}
	results := w.Contracts.Results(true)
	if opts.test {
		printContracts(s.Out, j.File, results)
	} else if !opts.quiet {
		reportBroken(s.Err, results)
	}
	if st != nil {
		runErr = finishState(st, runErr, ctx.Err() == nil && !stoppedAtLimit(co.maxPages, stats), !opts.quiet, s.Err, co.state)
	}
	if !opts.quiet {
		reportCrawl(ctx, s.Err, stats, run, cs.rssStart, co.shared, st != nil && st.Resumed)
	}
	if broken := countBroken(results); broken > 0 && runErr == nil && ctx.Err() == nil {
		return runFailure(fmt.Errorf("%s of %s broken (see above)", output.Count(broken, "contract"), j.File))
	}
	return crawlOutcome(ctx, runErr, summary, stats, output.CountNouns(w.Stats.ItemsWritten(), "item", "items"))
}

// jobOutputPaths are the files a job writes: its items, and its errors
// when it has an errors file.
func jobOutputPaths(j *job.Job) []string {
	paths := []string{j.Output.Path}
	if j.Output.Errors != "" {
		paths = append(paths, j.Output.Errors)
	}
	return paths
}

// reopenedJobFiles takes the files reopenOutputs gave for jobOutputPaths:
// the items (appended to when they hold items already) and the errors.
func reopenedJobFiles(files []*os.File) (items, errs io.Writer, closeItems, closeErrs func() error, appending bool) {
	items, closeItems, closeErrs = files[0], files[0].Close, func() error { return nil }
	if len(files) > 1 {
		errs, closeErrs = files[1], files[1].Close
	}
	pos, _ := files[0].Seek(0, io.SeekCurrent)
	return items, errs, closeItems, closeErrs, pos > 0
}

// runCheck applies a job's rules to saved pages and prints the items, or
// with --test checks the contracts on them.
func runCheck(opts *runOptions, jobPath string, pagePaths []string) error {
	s := opts.streams
	j, _, err := loadJob(jobPath, opts)
	if err != nil {
		return usageError(err)
	}
	if err := testable(j, opts); err != nil {
		return err
	}
	items := s.Out
	if opts.test {
		items = io.Discard
	}
	w, err := job.NewWriter(j, items, nil, false, output.FieldSet{})
	if err != nil {
		return runFailure(err)
	}
	w.Contracts.SavedPages, w.Discarding = true, opts.test
	extractor := job.NewExtractor(j)
	for i, pagePath := range pagePaths {
		raw := ""
		if i < len(opts.pageURLs) {
			raw = opts.pageURLs[i]
		}
		page, err := savedPage(pagePath, raw)
		if err != nil {
			return usageError(err)
		}
		res := &crawler.Result{URL: page.URL.String(), OK: true, Items: extractor.Extract(page).Items}
		if err := w.Write(res); err != nil {
			return runFailure(err)
		}
	}
	if err := w.Flush(); err != nil {
		return runFailure(err)
	}
	if !opts.quiet {
		w.Report(s.Err)
	}
	results := w.Contracts.Results(false)
	if opts.test {
		printContracts(s.Out, j.File, results)
	} else if !opts.quiet {
		reportBroken(s.Err, results)
	}
	if broken := countBroken(results); broken > 0 {
		return silentFailure(fmt.Errorf("%s of %s broken", output.Count(broken, "contract"), j.File))
	}
	return nil
}

// savedPage reads a saved page as the crawl would have fetched it from
// rawURL (file://PAGE when empty): JSON when it parses as JSON, else HTML.
func savedPage(path, rawURL string) (*crawler.Page, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("page: %w", err)
	}
	if rawURL == "" {
		abs, _ := filepath.Abs(path)
		rawURL = (&url.URL{Scheme: "file", Path: abs}).String()
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("--url %q: %w", rawURL, err)
	}
	page := &crawler.Page{URL: u, Body: body, ContentType: "application/json", Header: http.Header{}}
	if json.Valid(body) {
		return page, nil
	}
	page.ContentType = "text/html"
	if page.Doc, err = goquery.NewDocumentFromReader(bytes.NewReader(body)); err != nil {
		return nil, fmt.Errorf("page %s: %w", path, err)
	}
	return page, nil
}

// testable refuses --test for a job without contracts before anything
// runs: the whole job ran, writing nothing, to say it had none.
func testable(j *job.Job, opts *runOptions) error {
	if !opts.test || slices.ContainsFunc(j.Rules, func(r job.Rule) bool { return r.Expect != nil }) {
		return nil
	}
	return usageError(fmt.Errorf("%s has no contracts, so --test has nothing to check (add expect: to a rule; see the README)", j.File))
}

// printContracts writes --test's verdicts, one line each.
func printContracts(w io.Writer, file string, results []job.Result) {
	if len(results) == 0 {
		fmt.Fprintf(w, "%s has no contracts (add expect: to a rule; see the README)\n", file)
		return
	}
	broken, skipped := 0, 0
	for _, r := range results {
		verdict := "ok    "
		switch {
		case r.Broken:
			verdict, broken = "BROKEN", broken+1
		case r.Skipped:
			verdict, skipped = "skip  ", skipped+1
		}
		line := fmt.Sprintf("%s %s: %s", verdict, r.Rule, r.Contract)
		if r.Detail != "" {
			line += ": " + r.Detail
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "%s: %d held, %d broken, %d not checked\n", output.Count(len(results), "contract"), len(results)-broken-skipped, broken, skipped)
}

// reportBroken adds the broken contracts to a run's summary.
func reportBroken(w io.Writer, results []job.Result) {
	if n := countBroken(results); n > 0 {
		fmt.Fprintf(w, "contracts: %d of %d broken\n", n, len(results))
	} else if len(results) > 0 {
		fmt.Fprintf(w, "contracts: all %d held\n", len(results))
	}
	for _, r := range results {
		if r.Broken {
			fmt.Fprintf(w, "  broken: %s: %s: %s\n", r.Rule, r.Contract, r.Detail)
		}
	}
}

func countBroken(results []job.Result) int {
	n := 0
	for _, r := range results {
		if r.Broken {
			n++
		}
	}
	return n
}

// jobFingerprint names a job run for its state: the job file (by path and
// content), its overrides, and the fields its records carry.
func jobFingerprint(path string, sets []string, fields output.FieldSet) string {
	data, _ := os.ReadFile(path)
	sum := sha256.Sum256(data)
	return fingerprint("run", absPath(path), hex.EncodeToString(sum[:8]), strings.Join(sets, " "), "--fields", strings.Join(fields.Columns(), ","))
}

// resumeItems reads the items a stopped run wrote, for unique_by.
func resumeItems(w *job.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return w.Resume(f)
}

// retryFailedPages is --retry-failed for a job: a failed page has no
// items, only its record in the errors file, if there is one; that record
// goes, and the page is queued again.
func retryFailedPages(st *state.State, o *stateOptions, errorsPath string) error {
	if errorsPath != "" {
		if err := finishSwap(st, errorsPath); err != nil {
			return err
		}
	}
	if !o.retryFailed || !st.Resumed {
		return nil
	}
	if errorsPath != "" {
		n, err := retryFailed(st, errorsPath, "jsonl", func(rec map[string]string) (uint64, bool) {
			return crawler.Task{URL: rec["url"]}.Key(), rec["url"] != ""
		})
		o.retried = n
		return err
	}
	cands, err := st.RetryCandidates()
	if err != nil || len(cands) == 0 {
		return err
	}
	return st.Retry(cands, nil, nil)
}
