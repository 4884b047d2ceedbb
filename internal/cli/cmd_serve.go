package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/fetchall/fetchall/internal/testsite"
)

func newServeCmd(s *Streams, runF func(context.Context, string) error) *cobra.Command {
	var addr string
	var opts testsite.Options
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the built-in local test site",
		Long: `Serve the local test site used by the tests, the demo and the benchmarks:
a synthetic website to crawl (/, /site/{n}, robots.txt, sitemaps), pages
with chosen latency and size, statuses, redirects, retry-worthy and slow
endpoints (listed at /endpoints), a book shop to scrape (/shop/, with
categories, formats, JSON-LD and a JSON API at /api/items), and /stats
with the requests counted per path. Stop it with Ctrl-C.`,
		Example: `  fetchall serve --addr 127.0.0.1:8080
  curl 'http://127.0.0.1:8080/page/1?latency=100ms&size=2048'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), addr)
			}
			switch {
			case opts.Pages < 1:
				return usageError(flagErrorf("pages", "must be 1 or more, got %d", opts.Pages))
			case opts.Latency < 0:
				return usageError(flagErrorf("latency", "must be 0 or more, got %s", opts.Latency))
			case opts.SlowLatency < 0:
				return usageError(flagErrorf("slow-latency", "must be 0 or more, got %s", opts.SlowLatency))
			case opts.SlowPage != "" && !strings.HasPrefix(opts.SlowPage, "/"):
				// A request URI starts with a slash: any other page never matched.
				return usageError(flagErrorf("slow-page", "%q: want a request URI such as /site/0", opts.SlowPage))
			}
			ln, err := net.Listen("tcp", addr)
			if errors.Is(err, syscall.EADDRINUSE) {
				return usageError(fmt.Errorf("serve: %s is in use (another fetchall serve?): give another --addr, or port 0 for a free one", addr))
			}
			if err != nil {
				return usageError(fmt.Errorf("serve: %w", err))
			}
			fmt.Fprintf(s.Err, "test site listening on http://%s/ (Ctrl-C to stop)\ntry, in another terminal:\n", ln.Addr())
			for _, c := range sampleCommands(ln.Addr().String()) {
				fmt.Fprintf(s.Err, "  %s\n", c)
			}
			return serveSite(cmd.Context(), ln, testsite.NewWith(opts))
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().IntVar(&opts.Pages, "pages", 200, "pages in the synthetic website under /site/")
	cmd.Flags().DurationVar(&opts.Latency, "latency", 0, "latency of every page of the synthetic website, from the request's arrival to the answer's first byte (precise to about 0.2 ms on Linux)")
	cmd.Flags().StringVar(&opts.SlowPage, "slow-page", "", "one page of the synthetic website (a request URI) that answers after --slow-latency")
	cmd.Flags().DurationVar(&opts.SlowLatency, "slow-latency", 3*time.Second, "delay of the --slow-page")
	cmd.Flags().BoolVar(&opts.ShopRedesign, "shop-redesign", false, "serve the shop changed as sites change (prices in p.price, no JSON-LD, the API says title for name): job contracts should break")
	return cmd
}

// serveSite serves site on ln until ctx ends, then shuts it down, giving
// open requests a moment to finish.
func serveSite(ctx context.Context, ln net.Listener, site http.Handler) error {
	srv := &http.Server{Handler: site, ReadHeaderTimeout: 10 * time.Second}
	var g errgroup.Group
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close() // requests such as /hang never finish on their own
	}
	return g.Wait()
}

// sampleAddr is the address the samples in testdata/ are written for.
const sampleAddr = "127.0.0.1:8080"

// sampleCommands are the commands that try the site at addr with the
// samples in testdata/, whatever address it listens on.
func sampleCommands(addr string) []string {
	base := "http://" + addr
	list := "fetchall testdata/urls.txt --concurrency 5"
	if addr != sampleAddr {
		list = fmt.Sprintf("sed 's#%s#%s#' testdata/urls.txt | fetchall - --concurrency 5", sampleAddr, addr)
	}
	return []string{
		list,
		"fetchall crawl " + base + "/ --max-pages 100",
		"fetchall run testdata/jobs/catalogue.yaml --set start=" + base + "/shop/catalogue/page-1.html",
	}
}
