package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/output"
	"github.com/fetchall/fetchall/urllist"
)

// fetchOptions are the fetch command's flags and argument.
type fetchOptions struct {
	requestOptions
	input      string
	output     string
	format     string
	ordered    bool
	failFast   bool
	saveDir    string
	quiet      bool
	noProgress bool

	streams *streams
}

func newFetchCmd(s *streams, runF func(context.Context, *fetchOptions) error) *cobra.Command {
	opts := &fetchOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "fetch FILE|-",
		Short: "Fetch every URL of a list concurrently",
		Long: `Fetch every URL of a list, one per line (blank lines and # comments are
skipped), with --concurrency workers. Each URL yields exactly one record,
success or failure, written as soon as it completes (--ordered: in input
order). Records go to standard output, or --output; progress and the summary
go to standard error.

Exit status: 0 every record ok, 1 some not ok, 2 bad usage, config or input
file (nothing fetched), 130 interrupted.`,
		Example: `  fetchall urls.txt --concurrency 5
  cat urls.txt | fetchall - -o out.jsonl
  fetchall fetch urls.txt -f csv --ok-status 200-399,404 -H 'Accept: text/html'`,
		Args: oneListArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.input = args[0]
			if err := opts.requestOptions.loadConfig(cmd); err != nil {
				return usageError(err)
			}
			if !slices.Contains(output.Formats, opts.format) {
				return usageError(fmt.Errorf("--format %q: want jsonl, csv or table", opts.format))
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
	fs.StringVarP(&opts.output, "output", "o", "", "write records to this file instead of standard output")
	fs.StringVarP(&opts.format, "format", "f", "jsonl", "record format: jsonl, csv or table")
	fs.BoolVar(&opts.ordered, "ordered", false, "write records in input order instead of completion order")
	fs.BoolVar(&opts.failFast, "fail-fast", false, "cancel everything at the first URL that is not ok")
	fs.StringVar(&opts.saveDir, "save-dir", "", "save each ok body into this folder (names derived safely from the URL)")
	fs.BoolVarP(&opts.quiet, "quiet", "q", false, "no progress and no summary on standard error")
	fs.BoolVar(&opts.noProgress, "no-progress", false, "no progress line (it is only drawn on a terminal anyway)")
	return cmd
}

// runFetch fetches the list and writes records; it maps the outcome to an
// exit error.
func runFetch(ctx context.Context, opts *fetchOptions) error {
	s := opts.streams
	clientCfg, err := opts.clientConfig()
	if err != nil {
		return usageError(err)
	}
	list, closeList, err := openList(opts.input, s.In)
	if err != nil {
		return usageError(err)
	}
	defer closeList()

	engineCfg := crawler.Config{Workers: opts.concurrency, Ordered: opts.ordered, FailFast: opts.failFast, Accept: opts.okStatus.accept}
	if opts.saveDir != "" {
		dir, err := output.OpenDir(opts.saveDir)
		if err != nil {
			return usageError(err)
		}
		defer dir.Close()
		engineCfg.Saver = dir
	}
	out, closeOut, err := openOutput(opts.output, s.Out)
	if err != nil {
		return usageError(err)
	}
	records, err := output.NewSink(opts.format, out)
	if err != nil {
		closeOut()
		return usageError(err)
	}
	client, err := fetch.New(clientCfg)
	if err != nil {
		closeOut()
		return usageError(err)
	}
	defer client.CloseIdleConnections()

	summary := &output.Summary{}
	sink := output.Tee{records, summary}
	var progress *output.Progress
	if s.ErrIsTerminal && !opts.quiet && !opts.noProgress {
		progress = output.NewProgress(s.Err, countURLs(opts.input))
		sink = append(sink, progress)
	}

	start := time.Now()
	runErr := crawler.FetchList(ctx, engineCfg, client, urllist.NewReader(list), sink)
	elapsed := time.Since(start)
	if progress != nil {
		progress.Finish()
	}
	if err := closeOut(); err != nil && runErr == nil {
		runErr = fmt.Errorf("write output: %w", err)
	}
	if !opts.quiet {
		summary.Report(s.Err, elapsed)
	}
	return fetchOutcome(ctx, runErr, summary)
}

// fetchOutcome turns the run's error and tallies into the exit error.
func fetchOutcome(ctx context.Context, runErr error, summary *output.Summary) error {
	switch {
	case ctx.Err() != nil:
		return &exitError{code: exitInterrupted, err: fmt.Errorf("%w: %d records written", errInterrupted, summary.Total)}
	case errors.Is(runErr, crawler.ErrFailFast):
		return runFailure(runErr)
	case runErr != nil:
		return runFailure(runErr)
	case summary.Failed() > 0:
		return silentFailure(errSomeFailed)
	}
	return nil
}

// openList opens the URL list: a file, or standard input for "-".
func openList(name string, stdin io.Reader) (io.Reader, func(), error) {
	if name == "-" {
		return stdin, func() {}, nil
	}
	info, err := os.Stat(name)
	if err != nil {
		return nil, nil, fmt.Errorf("URL list: %w", err)
	}
	if info.IsDir() {
		return nil, nil, fmt.Errorf("URL list %s: is a directory, want a file with one URL per line", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("URL list: %w", err)
	}
	return f, func() { f.Close() }, nil
}

// openOutput opens the records' destination: a file, or stdout when name
// is empty. The close function reports a failed final write.
func openOutput(name string, stdout io.Writer) (io.Writer, func() error, error) {
	if name == "" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, fmt.Errorf("output: %w", err)
	}
	return f, f.Close, nil
}

// countURLs counts the entries of a list file for the progress total; -1
// when that would mean reading standard input twice.
func countURLs(name string) int {
	if name == "-" {
		return -1
	}
	f, err := os.Open(name)
	if err != nil {
		return -1
	}
	defer f.Close()
	r := urllist.NewReader(f)
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			return n
		}
		n++
	}
}
