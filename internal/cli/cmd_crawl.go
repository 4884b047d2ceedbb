package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/crawler/redisfrontier"
	"github.com/fetchall/fetchall/crawler/state"
	"github.com/fetchall/fetchall/output"
)

type crawlOptions struct {
	requestOptions
	outputOptions
	seeds          []string
	seedsFile      string
	maxDepth       int
	maxPages       int
	scope          string
	allowDomains   []string
	include        []string
	exclude        []string
	ignoreRobots   bool
	maxCrawlDelay  time.Duration
	followSitemaps bool
	followNofollow bool
	keepParams     bool
	maxPerHost     int
	cookies        cookieOptions
	state          stateOptions
	shared         sharedOptions

	streams *Streams
}

func newCrawlCmd(s *Streams) *cobra.Command {
	opts := &crawlOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "crawl URL... [--seeds FILE]",
		Short: "Crawl sites from seed URLs, politely and exactly",
		Long: `Crawl from the seed URLs: fetch each page once, follow its links
breadth-first within the scope and --max-depth, and write one record per
page tried (with depth, parent and the number of links found).

Every URL is canonicalised before the seen check (case, IDNA, default port,
dot segments, fragment), so a page is fetched once however it is spelled;
redirects are followed by the crawler, so their targets are deduplicated
too, and a seed that redirects (to https, to www.) keeps its site in scope.
robots.txt is honoured by default (Crawl-delay included, capped by
--max-crawl-delay); --ignore-robots turns that off and the summary says so.
A site whose robots.txt cannot be read (5xx, 429, a timeout) waits for it,
tried again after 10s and 1m, then is left alone (exit status 1); one whose
host does not resolve or refuses the connection is tried after 1s and 5s.
Per host, at most --per-host requests run at once (default 2), spaced by
--delay; a 429 or 503 cools the host down. The crawl ends exactly when
nothing is queued and nothing is in flight, or after --max-pages pages.

With --frontier redis://... and --crawl-id NAME, any number of processes on
any machines share one crawl: one seen set, one queue per host, --per-host,
the delays, --max-pages and --max-pages-per-host held across all of them;
each writes its own -o file, a killed one's URLs go back after --lease-ttl,
and all stop by themselves when nothing is queued or leased anywhere.`,
		Example: `  fetchall crawl https://example.org/ --max-depth 2 --max-pages 500 -o pages.jsonl
  fetchall crawl https://example.org/ --scope domain --exclude '\.pdf$' --delay 500ms
  fetchall crawl --seeds seeds.txt --follow-sitemaps -f csv
  fetchall crawl https://example.org/ --frontier redis://10.0.0.5:6379/0 --crawl-id site -o part-1.jsonl
  fetchall crawl --frontier redis://10.0.0.5:6379/0 --crawl-id site --status`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.seeds = trimmed(args)
			if err := opts.requestOptions.loadConfig(cmd); err != nil {
				return usageError(err)
			}
			if err := opts.outputOptions.validate(); err != nil {
				return usageError(err)
			}
			if err := opts.state.check(); err != nil {
				return usageError(err)
			}
			if err := opts.shared.check(opts.state.dir); err != nil {
				return usageError(err)
			}
			if done, err := opts.shared.action(cmd.Context(), opts.streams.Out); done {
				return usageErrorOrNil(err)
			}
			if len(opts.seeds) == 0 && opts.seedsFile == "" {
				return usageError(errors.New("give at least one seed URL, or --seeds FILE (see --help)"))
			}
			return runCrawl(cmd.Context(), opts)
		},
	}
	opts.bind(cmd.Flags())
	return cmd
}

// bind binds every crawl flag: the request flags (with --per-host 2), the
// output flags and the crawl's own.
func (o *crawlOptions) bind(fs *pflag.FlagSet) {
	fs.IntVarP(&o.concurrency, "concurrency", "c", 10, "pages in flight at once, over all hosts")
	o.requestOptions.bind(fs)
	o.perHost = 2
	fs.Lookup("per-host").DefValue = "2"
	fs.Lookup("per-host").Usage = "requests in flight at once to one host (0: no cap); 2 by default for crawls, as a politeness choice (fetch's default is no cap)"
	o.outputOptions.bind(fs)
	fs.StringVar(&o.seedsFile, "seeds", "", "file of seed URLs, one per line (- for standard input)")
	fs.IntVar(&o.maxDepth, "max-depth", 3, "links to follow from a seed (seeds are depth 0; -1: no limit)")
	fs.IntVar(&o.maxPages, "max-pages", 0, "stop after this many pages (0: no limit)")
	fs.StringVar(&o.scope, "scope", crawler.ScopeHost, "which links to follow: host (the seeds' hosts), domain (their registered domains), any")
	fs.StringArrayVar(&o.allowDomains, "allow-domain", nil, "also follow links to hosts matching this glob, e.g. '*.example.org' (repeatable)")
	fs.StringArrayVar(&o.include, "include", nil, "only follow URLs matching this regular expression (repeatable)")
	fs.StringArrayVar(&o.exclude, "exclude", nil, "never follow URLs matching this regular expression (repeatable)")
	fs.BoolVar(&o.ignoreRobots, "ignore-robots", false, "do not fetch or obey robots.txt")
	fs.DurationVar(&o.maxCrawlDelay, "max-crawl-delay", 10*time.Second, "cap on a robots.txt Crawl-delay")
	fs.BoolVar(&o.followSitemaps, "follow-sitemaps", false, "also start from the pages the seeds' sitemaps list")
	fs.BoolVar(&o.followNofollow, "follow-nofollow", false, "follow rel=nofollow links too, and the links of pages whose meta robots or X-Robots-Tag says nofollow")
	fs.BoolVar(&o.keepParams, "keep-params", false, "keep tracking and session parameters (utm_*, fbclid, ;jsessionid=...) in links")
	o.cookies.bind(fs, "crawl")
	fs.IntVar(&o.maxPerHost, "max-pages-per-host", crawler.DefaultMaxPagesPerHost, "trap guard: pages taken from one host at most (0: no cap)")
	o.state.bind(fs)
	o.shared.bind(fs)
}

// fingerprint names what a crawl works on, for its state: another crawl
// cannot resume it.
func (o *crawlOptions) fingerprint(command string) string {
	return fingerprint(command, strings.Join(o.seeds, " "), "--seeds", absPath(o.seedsFile), "--scope", o.scope,
		"--max-depth", strconv.Itoa(o.maxDepth), "--include", strings.Join(o.include, ","), "--exclude", strings.Join(o.exclude, ","),
		"--allow-domain", strings.Join(o.allowDomains, ","), "-f", o.format, "--fields", o.recordShape())
}

func runCrawl(ctx context.Context, opts *crawlOptions) error {
	s := opts.streams
	cs, err := opts.setup(ctx, s.In)
	if err != nil {
		return usageError(err)
	}
	defer cs.close()
	if err := opts.outputOptions.preflight(); err != nil {
		return usageError(err) // before -o is opened, and emptied
	}
	var frontier crawler.Frontier
	var st *state.State
	if opts.state.dir != "" {
		opts.state.keyOf = func(rec map[string]string) (uint64, bool) {
			return crawler.Task{URL: rec["url"]}.Key(), rec["url"] != ""
		}
		if opts.seedsFile != "" {
			opts.state.hasNewWork = func(st *state.State) (bool, error) { return seedsHaveNew(ctx, st, opts.seedsFile) }
		}
		st, err = opts.state.openState(opts.fingerprint("crawl"), cs.settings.CrawlLimits(), &opts.outputOptions)
		if errors.Is(err, errFinished) {
			return finishedRun(notices(s.Err, opts.quiet), err, "crawl", opts.state.dir, opts.output)
		}
		if err != nil {
			return usageError(err)
		}
		if opts.state.reopened {
			fmt.Fprintf(notices(s.Err, opts.quiet), "fetchall: the crawl in %s was finished; its --seeds file names seeds it has not met, which it crawls now\n", opts.state.dir)
		}
		defer st.Close()
		left, reached := pagesLeft(st, opts.maxPages)
		if reached {
			opts.resumed.Close() // opened by openState, cut back to its commit: nothing more to write
			return limitReached(notices(s.Err, opts.quiet), "crawl", opts.state.dir, fmt.Sprintf("--max-pages %d", opts.maxPages), "a larger --max-pages goes on, --state-reset starts over")
		}
		cs.settings.MaxPages = left
		cs.settings.Journal, frontier, cs.seeds = st, st, st.SkipDone(cs.seeds)
	}
	if opts.shared.url != "" {
		fr, err := opts.shared.open(ctx, opts.fingerprint("crawl"), cs.settings, opts.maxPages)
		if err != nil {
			return usageError(err)
		}
		defer fr.Close()
		frontier = fr
		cs.settings.RobotsStore, cs.settings.Journal = fr, fr
		// A file is cut back to its last commit when a process starts
		// again; standard output, a device or a pipe is only written to.
		if opts.output != "" && opts.output != "-" && !notRegular(opts.output) {
			files, err := opts.shared.openOutputs(ctx, fr, opts.output)
			if err != nil {
				return usageError(err)
			}
			opts.outputOptions.resumed = files[0]
		}
	}
	out, err := opts.outputOptions.openRecords(ctx, s, opts.maxPages-boolInt(opts.maxPages == 0), true)
	if err != nil {
		return usageError(err)
	}
	cs.settings.Saver = out.engineSaver()
	runCtx, finishArchive, reportArchive, err := opts.archive.start(ctx, &cs.settings)
	if err != nil {
		out.close()
		return usageError(err)
	}
	run, err := crawler.New(cs.settings)
	if err != nil {
		out.close()
		return usageError(finishArchive(err))
	}
	defer run.Close()
	showRobotsWaits(run, out.progress)
	start := time.Now()
	stats, runErr := run.Crawl(runCtx, cs.seeds, frontier, out.sink)
	elapsed := time.Since(start)
	runErr = finishArchive(runErr)
	if err := opts.cookies.saveJar(cs.settings.Jar); err != nil && runErr == nil {
		runErr = err
	}
	runErr = out.finish(ctx, runErr, !opts.quiet, s.Err, elapsed, stats, opts.output)
	if !opts.quiet {
		reportArchive(s.Err)
	}
	if st != nil {
		runErr = finishState(st, runErr, ctx.Err() == nil && !stoppedAtLimit(opts.maxPages, stats), !opts.quiet, s.Err, opts.state)
	}
	if !opts.quiet {
		reportCrawl(ctx, s.Err, stats, run, cs.rssStart, opts.shared, st != nil && st.Resumed)
	}
	return crawlOutcome(ctx, runErr, out.summary, stats, output.CountNouns(out.records.Written(), "record", "records"))
}

// showRobotsWaits puts a wait for an unreadable robots.txt on the
// progress line, if there is one: a crawl that only waits for it would
// otherwise show nothing for a minute.
func showRobotsWaits(run *crawler.Crawler, progress *output.Progress) {
	if progress != nil && run.Robots() != nil {
		run.Robots().OnWait = progress.RobotsWait
	}
}

// crawlSetup is a crawl ready to assemble: its settings and its seeds,
// streamed from the arguments and --seeds.
type crawlSetup struct {
	settings   crawler.Settings
	seeds      crawler.Source
	closeSeeds func()
	rssStart   int64
}

// setup checks the crawl options; its errors are the user's (exit 2).
func (o *crawlOptions) setup(ctx context.Context, stdin io.Reader) (*crawlSetup, error) {
	settings, err := o.crawlSettings()
	if err != nil {
		return nil, o.traced(err)
	}
	if err := checkOpenFiles(o.concurrency); err != nil {
		return nil, err
	}
	// A crawl keeps the cookies sites set, as a browser does.
	if settings.Jar, err = o.cookies.jar(); err != nil {
		return nil, err
	}
	cs := &crawlSetup{settings: settings, closeSeeds: func() {}, rssStart: peakRSS()}
	var given []crawler.Task
	for _, seed := range o.seeds {
		given = append(given, crawler.Task{URL: seed})
	}
	cs.seeds = crawler.Tasks(given...)
	jar := o.cookies.jarFile()
	if err := notAnInput([]flagFile{{"-o", o.output}, {"--warc", o.archive.path}, jar}, flagFile{"--seeds", o.seedsFile}, flagFile{"--config", o.configFile}); err != nil {
		return nil, err
	}
	if err := distinctFiles(flagFile{"-o", o.output}, flagFile{"--warc", o.archive.path}, flagFile{"--save-dir", o.saveDir}, jar); err != nil {
		return nil, err
	}
	if err := canReplace(jar); err != nil {
		return nil, err
	}
	if o.seedsFile != "" {
		r, closeList, err := openList(ctx, o.seedsFile, stdin)
		if err != nil {
			return nil, fmt.Errorf("seeds: %w", err)
		}
		cs.closeSeeds = closeList
		cs.seeds = crawler.Chain(cs.seeds, crawler.SeedList(listName(o.seedsFile), r))
	}
	return cs, nil
}

func (cs *crawlSetup) close() { cs.closeSeeds() }

// crawlSettings checks the crawl options and turns them into a run's
// settings; an error names the flag at fault (a *FlagError).
func (o *crawlOptions) crawlSettings() (crawler.Settings, error) {
	settings, err := o.settings()
	if err != nil {
		return settings, err
	}
	settings.Fetch.Trace = !o.fieldSet.Empty()
	if o.maxPages < 0 {
		return settings, flagErrorf("max-pages", "must be 0 (no limit) or more, got %d", o.maxPages)
	}
	if o.maxDepth < -1 {
		return settings, flagErrorf("max-depth", "must be -1 (no limit) or more, got %d", o.maxDepth)
	}
	if o.maxCrawlDelay < 0 {
		return settings, flagErrorf("max-crawl-delay", "must be 0 or more, got %s", o.maxCrawlDelay)
	}
	if o.maxPerHost < 0 {
		return settings, flagErrorf("max-pages-per-host", "must be 0 (no cap) or more, got %d", o.maxPerHost)
	}
	for _, check := range []struct {
		flag string
		try  func() error
	}{
		{"scope", func() error { _, err := crawler.NewScope(o.scope, nil, nil, nil); return err }},
		{"allow-domain", func() error { _, err := crawler.NewScope("", o.allowDomains, nil, nil); return err }},
		{"include", func() error { _, err := crawler.NewScope("", nil, o.include, nil); return err }},
		{"exclude", func() error { _, err := crawler.NewScope("", nil, nil, o.exclude); return err }},
	} {
		if err := check.try(); err != nil {
			return settings, &FlagError{Flag: check.flag, Err: err}
		}
	}
	settings.FailFast = o.failFast
	settings.MaxDepth, settings.MaxPages = o.maxDepth, o.maxPages
	settings.Scope = crawler.ScopeSettings{Mode: o.scope, AllowDomains: o.allowDomains, Include: o.include, Exclude: o.exclude}
	settings.IgnoreRobots, settings.MaxCrawlDelay = o.ignoreRobots, o.maxCrawlDelay
	settings.Sitemaps, settings.FollowNofollow = o.followSitemaps, o.followNofollow
	settings.KeepParams, settings.MaxPagesPerHost = o.keepParams, o.maxPerHost
	if o.maxPerHost == 0 {
		settings.MaxPagesPerHost = -1 // the flag's 0 means no cap
	}
	if settings.MaxCrawlDelay == 0 {
		settings.MaxCrawlDelay = -1 // the flag's 0 means no Crawl-delay at all
	}
	return settings, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// reportCrawl adds the crawl's own lines to the summary: what was not
// fetched and why, robots.txt's effects, and memory. A shared crawl's
// counts are this process's, and a line says where the whole crawl stands.
// continued says the run went on with URLs known before it (a resumed
// state): then, as in a shared crawl, the URLs it saw are the new ones
// ("0 URLs seen" read as if it had seen none).
func reportCrawl(ctx context.Context, w io.Writer, stats crawler.CrawlStats, run *crawler.Crawler, rssStart int64, shared sharedOptions, continued bool) {
	robots := run.Robots()
	robotsNote := fmt.Sprintf("%d blocked by robots.txt", stats.RobotsBlocked)
	if robots == nil {
		robotsNote = "robots.txt IGNORED (--ignore-robots)"
	}
	label := "crawl"
	if shared.url != "" {
		label = "crawl (this process)"
	}
	seen := output.Count(stats.Seen, "URL")
	if continued || shared.url != "" {
		seen = output.Count(stats.Seen, "new URL")
	}
	fmt.Fprintf(w, "%s: %s, %s seen, %s out of scope, %s", label, output.Count(stats.Pages, "page"), seen, output.Count(stats.OutOfScope, "link"), robotsNote)
	if stats.SiteDeferred > 0 {
		fmt.Fprintf(w, ", %d on sites whose robots.txt could not be read", stats.SiteDeferred)
	}
	if stats.LeasesLost > 0 {
		fmt.Fprintf(w, ", %d fetched after their lease expired (another process records them)", stats.LeasesLost)
	}
	fmt.Fprintln(w)
	if len(stats.Traps) > 0 {
		reasons := slices.Sorted(maps.Keys(stats.Traps))
		parts := make([]string, len(reasons))
		for i, r := range reasons {
			parts[i] = fmt.Sprintf("%s %d", r, stats.Traps[r])
		}
		fmt.Fprintf(w, "  links skipped as crawl traps: %s\n", strings.Join(parts, ", "))
	}
	for _, n := range run.Notes() {
		fmt.Fprintf(w, "  %s\n", n)
	}
	if peak := peakRSS(); peak > 0 {
		perURL := ""
		if stats.Seen >= 10000 && peak > rssStart { // meaningless for small crawls
			perURL = fmt.Sprintf(", %d bytes per seen URL above the start", (peak-rssStart)/int64(stats.Seen))
		}
		fmt.Fprintf(w, "memory: peak %s%s\n", output.HumanBytes(peak), perURL)
	}
	if shared.url != "" {
		reportShared(ctx, w, shared)
	}
}

// reportShared says where a shared crawl stands in Redis, all processes
// together, after this process's part; the summary's other counts are
// this process's alone.
func reportShared(ctx context.Context, w io.Writer, o sharedOptions) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	r, err := redisfrontier.Counts(ctx, o.url, o.crawlID)
	if err != nil {
		fmt.Fprintf(w, "shared crawl %q: where it stands could not be read: %v\n", o.crawlID, err)
		return
	}
	fmt.Fprintf(w, "shared crawl %q, all processes: %s found, %d done, %d queued, %d leased, %d waiting to retry; %s\n",
		o.crawlID, output.CountNouns(int(r.Seen), "URL", "URLs"), r.Done, r.Queued, r.Leased, r.Delayed, standing(r))
}
