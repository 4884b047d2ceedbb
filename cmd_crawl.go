package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/limiter"
	"github.com/fetchall/fetchall/output"
	"github.com/fetchall/fetchall/urllist"
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

	streams *streams
}

func newCrawlCmd(s *streams) *cobra.Command {
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
Per host, at most --per-host requests run at once (default 2), spaced by
--delay; a 429 or 503 cools the host down. The crawl ends exactly when
nothing is queued and nothing is in flight, or after --max-pages pages.`,
		Example: `  fetchall crawl https://example.org/ --max-depth 2 --max-pages 500 -o pages.jsonl
  fetchall crawl https://example.org/ --scope domain --exclude '\.pdf$' --delay 500ms
  fetchall crawl --seeds seeds.txt --follow-sitemaps -f csv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.seeds = args
			if err := opts.requestOptions.loadConfig(cmd); err != nil {
				return usageError(err)
			}
			if err := opts.outputOptions.validate(); err != nil {
				return usageError(err)
			}
			if len(opts.seeds) == 0 && opts.seedsFile == "" {
				return usageError(errors.New("give at least one seed URL, or --seeds FILE (see --help)"))
			}
			return runCrawl(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.IntVarP(&opts.concurrency, "concurrency", "c", 10, "pages in flight at once, over all hosts")
	opts.requestOptions.bind(fs)
	opts.perHost = 2
	fs.Lookup("per-host").DefValue = "2"
	opts.outputOptions.bind(fs)
	fs.StringVar(&opts.seedsFile, "seeds", "", "file of seed URLs, one per line (- for standard input)")
	fs.IntVar(&opts.maxDepth, "max-depth", 3, "links to follow from a seed (seeds are depth 0; -1: no limit)")
	fs.IntVar(&opts.maxPages, "max-pages", 0, "stop after this many pages (0: no limit)")
	fs.StringVar(&opts.scope, "scope", crawler.ScopeHost, "which links to follow: host (the seeds' hosts), domain (their registered domains), any")
	fs.StringArrayVar(&opts.allowDomains, "allow-domain", nil, "also follow links to hosts matching this glob, e.g. '*.example.org' (repeatable)")
	fs.StringArrayVar(&opts.include, "include", nil, "only follow URLs matching this regular expression (repeatable)")
	fs.StringArrayVar(&opts.exclude, "exclude", nil, "never follow URLs matching this regular expression (repeatable)")
	fs.BoolVar(&opts.ignoreRobots, "ignore-robots", false, "do not fetch or obey robots.txt")
	fs.DurationVar(&opts.maxCrawlDelay, "max-crawl-delay", 10*time.Second, "cap on a robots.txt Crawl-delay")
	fs.DurationVar(&opts.delay, "delay", 0, "least time between two requests to one host")
	fs.BoolVar(&opts.followSitemaps, "follow-sitemaps", false, "also start from the pages the seeds' sitemaps list")
	fs.BoolVar(&opts.followNofollow, "follow-nofollow", false, "follow rel=nofollow links too")
	return cmd
}

func runCrawl(ctx context.Context, opts *crawlOptions) error {
	s := opts.streams
	cc, err := opts.clientConfig()
	if err != nil {
		return usageError(err)
	}
	if err := checkOpenFiles(opts.concurrency); err != nil {
		return usageError(err)
	}
	scope, err := crawler.NewScope(opts.scope, opts.allowDomains, opts.include, opts.exclude)
	if err != nil {
		return usageError(err)
	}
	if opts.maxPages < 0 || opts.maxCrawlDelay < 0 {
		return usageError(errors.New("--max-pages and --max-crawl-delay must be 0 or more"))
	}
	seeds, err := opts.seedTasks(s.In)
	if err != nil {
		return usageError(err)
	}
	lim, ok := cc.Limiter.(*limiter.Limiter)
	if !ok { // no limit asked for: robots.txt may still set a Crawl-delay
		lim = limiter.New(limiter.Config{})
		cc.Limiter = lim
	}
	// Pages are fetched without following redirects: the crawler follows
	// them itself, so that targets are deduplicated. robots.txt and
	// sitemaps are fetched like any file, through the same limits.
	follow, err := fetch.New(cc)
	if err != nil {
		return usageError(err)
	}
	defer follow.CloseIdleConnections()
	redirects := cc.MaxRedirects
	cc.MaxRedirects = -1
	pages, err := fetch.New(cc)
	if err != nil {
		return usageError(err)
	}
	defer pages.CloseIdleConnections()

	out, err := opts.outputOptions.openRecords(s, opts.maxPages-boolInt(opts.maxPages == 0))
	if err != nil {
		return usageError(err)
	}
	cfg := crawler.CrawlConfig{
		Config:         crawler.Config{Workers: opts.concurrency, FailFast: opts.failFast, Accept: opts.okStatus.accept, Saver: out.engineSaver()},
		MaxDepth:       opts.maxDepth,
		MaxPages:       opts.maxPages,
		MaxRedirects:   max(redirects, 1),
		FollowNofollow: opts.followNofollow,
		Scope:          scope,
	}
	if !opts.ignoreRobots {
		cfg.Robots = crawler.NewRobots(follow, opts.userAgent, opts.maxCrawlDelay, lim.SetDelay)
	}
	start := time.Now()
	rssStart := peakRSS()
	var notes []string
	if opts.followSitemaps {
		var listed []string
		listed, notes = crawler.Sitemaps(ctx, follow, cfg.Robots, seedURLs(seeds))
		for _, u := range listed {
			seeds = append(seeds, crawler.Task{URL: u, FromSitemap: true})
		}
	}
	stats, runErr := crawler.Crawl(ctx, cfg, pages, seeds, &crawler.MemoryFrontier{}, out.sink)
	elapsed := time.Since(start)
	if err := out.close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("write output: %w", err)
	}
	if !opts.quiet {
		out.summary.Report(s.Err, elapsed)
		reportCrawl(s.Err, stats, cfg.Robots, notes, rssStart)
	}
	return fetchOutcome(ctx, runErr, out.summary)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// seedTasks gathers the seeds from the arguments and --seeds.
func (o *crawlOptions) seedTasks(stdin io.Reader) ([]crawler.Task, error) {
	var tasks []crawler.Task
	for _, s := range o.seeds {
		tasks = append(tasks, crawler.Task{URL: s})
	}
	if o.seedsFile == "" {
		return tasks, nil
	}
	r, closeList, err := openList(o.seedsFile, stdin)
	if err != nil {
		return nil, err
	}
	defer closeList()
	list := urllist.NewReader(r)
	for {
		e, err := list.Next()
		if errors.Is(err, io.EOF) {
			return tasks, nil
		}
		if err != nil {
			return nil, fmt.Errorf("seeds %s: %w", o.seedsFile, err)
		}
		if e.Err != nil {
			return nil, fmt.Errorf("seeds %s line %d: %w", o.seedsFile, e.Line, e.Err)
		}
		tasks = append(tasks, crawler.Task{URL: e.URL, Line: e.Line})
	}
}

func seedURLs(tasks []crawler.Task) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.URL
	}
	return out
}

// reportCrawl adds the crawl's own lines to the summary: what was not
// fetched and why, robots.txt's effects, and memory.
func reportCrawl(w io.Writer, stats crawler.CrawlStats, robots *crawler.Robots, notes []string, rssStart int64) {
	robotsNote := fmt.Sprintf("%d blocked by robots.txt", stats.RobotsBlocked)
	if robots == nil {
		robotsNote = "robots.txt IGNORED (--ignore-robots)"
	}
	fmt.Fprintf(w, "crawl: %d pages, %d URLs seen, %d links out of scope, %s", stats.Pages, stats.Seen, stats.OutOfScope, robotsNote)
	if stats.SiteDeferred > 0 {
		fmt.Fprintf(w, ", %d on deferred sites", stats.SiteDeferred)
	}
	fmt.Fprintln(w)
	if robots != nil {
		notes = append(robots.Notes(), notes...)
	}
	for _, n := range notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	if peak := peakRSS(); peak > 0 {
		perURL := ""
		if stats.Seen >= 10000 && peak > rssStart { // meaningless for small crawls
			perURL = fmt.Sprintf(", %d bytes per seen URL above the start", (peak-rssStart)/int64(stats.Seen))
		}
		fmt.Fprintf(w, "memory: peak %s%s\n", output.HumanBytes(peak), perURL)
	}
}

// peakRSS is the process's peak resident memory in bytes, or 0 if unknown.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // Linux reports KiB
}
