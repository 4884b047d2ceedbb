package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/output"
	"github.com/fetchall/fetchall/urllist"
)

func newDemoCmd(s *streams) *cobra.Command {
	var pages int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Show sequential against concurrent fetching on the built-in site, offline",
		Long: `Start the built-in test site on a free loopback port, fetch a list of
pages that each take 100 to 300 ms, first one at a time and then all at
once, and show the records and the speed-up. Needs no network.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pages < 1 || pages > 1000 {
				return usageError(fmt.Errorf("--pages must be from 1 to 1000, got %d", pages))
			}
			return runDemo(cmd.Context(), s, pages)
		},
	}
	cmd.Flags().IntVar(&pages, "pages", 20, "pages in the demo list")
	return cmd
}

func runDemo(ctx context.Context, s *streams, pages int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return runFailure(fmt.Errorf("demo: start the test site: %w", err))
	}
	siteCtx, stopSite := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = serveSite(siteCtx, ln) })
	defer wg.Wait()
	defer stopSite()

	base := "http://" + ln.Addr().String()
	var list strings.Builder
	var total, slowest time.Duration
	for i := range pages {
		latency := time.Duration(100+50*(i%5)) * time.Millisecond
		total += latency
		slowest = max(slowest, latency)
		fmt.Fprintf(&list, "%s/page/%d?latency=%s&size=2048\n", base, i, latency)
	}
	fmt.Fprintf(s.Out, "fetchall demo: %d pages from the built-in test site at %s/, each taking 100-300 ms\n\n", pages, base)

	fmt.Fprintln(s.Out, "One at a time (--concurrency 1), the first records:")
	seq, err := demoRun(ctx, list.String(), 1, &headWriter{w: s.Out, lines: 3})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "  ... %d ok in %s\n\n", seq.summary.OK, seq.elapsed.Round(time.Millisecond))

	fmt.Fprintf(s.Out, "All at once (--concurrency %d):\n", pages)
	conc, err := demoRun(ctx, list.String(), pages, io.Discard)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "  %d ok in %s\n\n", conc.summary.OK, conc.elapsed.Round(time.Millisecond))

	ideal := float64(total) / float64(slowest)
	speedup := seq.elapsed.Seconds() / conc.elapsed.Seconds()
	fmt.Fprintf(s.Out, "Speed-up: %.1fx faster than one at a time (ideal %.1fx: the slowest page, %s, bounds the concurrent run)\n",
		speedup, ideal, slowest)
	fmt.Fprintln(s.Out, "\nNext: fetchall serve, then fetchall testdata/urls.txt --concurrency 5")
	return nil
}

type demoResult struct {
	summary output.Summary
	elapsed time.Duration
}

// demoRun fetches list with the given concurrency, records to w.
func demoRun(ctx context.Context, list string, workers int, w io.Writer) (*demoResult, error) {
	client, err := fetch.New(fetch.Config{Concurrency: workers, UserAgent: "fetchall-demo/" + fetchallVersion()})
	if err != nil {
		return nil, runFailure(err)
	}
	defer client.CloseIdleConnections()
	records, err := output.NewSink("jsonl", w)
	if err != nil {
		return nil, runFailure(err)
	}
	res := &demoResult{}
	start := time.Now()
	err = crawler.FetchList(ctx, crawler.Config{Workers: workers}, client, urllist.NewReader(strings.NewReader(list)),
		output.Tee{records, &res.summary})
	res.elapsed = time.Since(start)
	if ctx.Err() != nil {
		return nil, &exitError{code: exitInterrupted, err: errInterrupted}
	}
	if err != nil {
		return nil, runFailure(err)
	}
	return res, nil
}

// headWriter passes on the first few lines written to it, indented, and
// drops the rest.
type headWriter struct {
	w     io.Writer
	lines int
}

func (h *headWriter) Write(p []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if h.lines <= 0 || line == "" {
			break
		}
		if _, err := io.WriteString(h.w, "  "+line); err != nil {
			return 0, err
		}
		if strings.HasSuffix(line, "\n") {
			h.lines--
		}
	}
	return len(p), nil
}
