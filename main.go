// Command fetchall fetches and crawls the web concurrently: a URL list, a
// site, or a scripted scraping job, with bounded workers, timeouts, retries
// and polite per-host limits. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

func main() {
	os.Exit(run())
}

// run executes the command line and returns the process exit code.
func run() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := raiseOpenFileLimit(); err != nil {
		fmt.Fprintf(os.Stderr, "fetchall: cannot raise the open-file limit: %v\n", err)
	}

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
			os.Exit(exitInterrupted)
		case <-finished:
		}
	})

	return execute(ctx, osStreams(), os.Args[1:])
}

// execute runs the command line args and returns the exit code, reporting
// an error once on s.Err.
func execute(ctx context.Context, s *streams, args []string) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var quiet *exitError
	if err != nil && !(errors.As(err, &quiet) && quiet.silent) {
		fmt.Fprintf(s.Err, "fetchall: %v\n", err)
	}
	return exitCode(err)
}
