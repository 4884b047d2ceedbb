// Command fetchall fetches and crawls the web concurrently: a URL list, a
// site, or a scripted scraping job, with bounded workers, timeouts, retries
// and polite per-host limits. See README.md.
//
// This file only turns signals into a context and hands the command line
// to internal/cli; the engine lives in the fetch, limiter, crawler, output
// and job packages.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/fetchall/fetchall/internal/cli"
)

func main() {
	os.Exit(run())
}

// run executes the command line and returns the process exit code.
func run() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The first SIGINT/SIGTERM cancels the run, which then flushes what it
	// has and reports; a second one means "now", so exit at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	finished := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(finished)
	defer signal.Stop(sigs)
	wg.Go(func() {
		select {
		case <-sigs:
		case <-finished:
			return
		}
		cancel()
		select {
		case <-sigs:
			fmt.Fprintln(os.Stderr, "fetchall: interrupted again, exiting now")
			os.Exit(cli.ExitInterrupted)
		case <-finished:
		}
	})

	return cli.Execute(ctx, cli.OSStreams(), os.Args[1:])
}
