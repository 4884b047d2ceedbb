package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/bench"
	"github.com/fetchall/fetchall/internal/testsite"
	"github.com/fetchall/fetchall/output"
)

func newDemoCmd(s *Streams) *cobra.Command {
	var pages int
	var plot string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Show sequential against concurrent fetching on the built-in site, offline",
		Long: `Start the built-in test site on a free loopback port, fetch a list of pages
that each take 100 to 300 ms, show the records, then benchmark the list one
at a time and concurrently (as fetchall bench does) and show the speed-up.
Needs no network.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pages < 1 || pages > 1000 {
				return usageError(fmt.Errorf("--pages must be from 1 to 1000, got %d", pages))
			}
			return runDemo(cmd.Context(), s, pages, plot)
		},
	}
	cmd.Flags().IntVar(&pages, "pages", 20, "pages in the demo list")
	cmd.Flags().StringVar(&plot, "plot", "", "also write the benchmark chart (SVG) to this file")
	return cmd
}

func runDemo(ctx context.Context, s *Streams, pages int, plot string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return runFailure(fmt.Errorf("demo: start the test site: %w", err))
	}
	siteCtx, stopSite := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = serveSite(siteCtx, ln, testsite.New()) })
	defer wg.Wait()
	defer stopSite()

	base := "http://" + ln.Addr().String()
	var list strings.Builder
	for i := range pages {
		// 100, 150, 200, 250, 300 ms: the asyncio lesson's 1-2-3 s downloads, scaled down.
		fmt.Fprintf(&list, "%s/page/%d?latency=%dms&size=2048\n", base, i, 100+50*(i%5))
	}
	fmt.Fprintf(s.Out, "fetchall demo: %d pages from the built-in test site at %s/, each taking 100-300 ms\n\n", pages, base)

	fmt.Fprintln(s.Out, "Each URL gives one record, as `fetchall urls.txt` writes them (the first 3):")
	if err := demoRecords(ctx, list.String(), pages, &headWriter{w: s.Out, lines: 3}); err != nil {
		return err
	}

	levels := []int{1, min(5, pages), pages}
	fmt.Fprintf(s.Out, "\nThe same list one at a time, then %d and %d at once, as `fetchall bench` measures it:\n\n", levels[1], levels[2])
	rep, err := bench.Run(ctx, bench.Config{
		Levels: levels,
		NewFetcher: func(workers int) (bench.Fetcher, error) {
			return fetch.New(fetch.Config{Concurrency: workers, UserAgent: "fetchall-demo/" + fetchallVersion()})
		},
	}, []byte(list.String()), nil)
	if ctx.Err() != nil {
		return &exitError{code: exitInterrupted, err: errInterrupted}
	}
	if err != nil {
		return runFailure(err)
	}
	rep.WriteText(s.Out)
	if plot != "" {
		if err := writeFileWith(plot, rep.WriteSVG); err != nil {
			return runFailure(fmt.Errorf("write chart %s: %w", plot, err))
		}
		fmt.Fprintf(s.Out, "\nChart written to %s.\n", plot)
	} else {
		fmt.Fprintln(s.Out, "\nThe chart of this run: fetchall demo --plot demo.svg; for your own list: fetchall bench urls.txt --plot bench.svg")
	}
	fmt.Fprintln(s.Out, "Next: fetchall serve, then in another terminal: fetchall testdata/urls.txt --concurrency 5")
	return nil
}

// demoRecords fetches list concurrently and writes its records to w.
func demoRecords(ctx context.Context, list string, workers int, w io.Writer) error {
	client, err := fetch.New(fetch.Config{Concurrency: workers, UserAgent: "fetchall-demo/" + fetchallVersion()})
	if err != nil {
		return runFailure(err)
	}
	defer client.CloseIdleConnections()
	records, err := output.NewSink("jsonl", w, false, false)
	if err != nil {
		return runFailure(err)
	}
	err = crawler.FetchList(ctx, crawler.Config{Workers: workers, Ordered: true}, client, crawler.ListSource(strings.NewReader(list)), records)
	if ctx.Err() != nil {
		return &exitError{code: exitInterrupted, err: errInterrupted}
	}
	if err != nil {
		return runFailure(err)
	}
	return nil
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
