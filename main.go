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
	"io"
	"log"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fetchall/fetchall/internal/cli"
)

func main() {
	os.Exit(run())
}

// run executes the command line and returns the process exit code.
func run() int {
	// net/http reports some slips of servers (bytes after a body: "Unsolicited
	// response received on idle HTTP channel...") through the standard
	// logger, which would print them between our own lines. A record already
	// says what a fetch met; nothing of ours logs.
	log.SetOutput(io.Discard)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The first SIGINT/SIGTERM cancels the run, which then flushes what it
	// has and reports; a second one means "now", so exit at once, as does
	// a run still going interruptGrace after the first.
	// The exit code says which signal it was, as a shell does: 130 for
	// SIGINT, 143 for SIGTERM.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	finished := make(chan struct{})
	var interruptCode atomic.Int32
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(finished)
	defer signal.Stop(sigs)
	wg.Go(func() {
		select {
		case sig := <-sigs:
			interruptCode.Store(int32(codeFor(sig)))
		case <-finished:
			return
		}
		cancel()
		grace := time.NewTimer(interruptGrace)
		defer grace.Stop()
		select {
		case sig := <-sigs:
			fmt.Fprintln(os.Stderr, "fetchall: interrupted again, exiting now")
			os.Exit(codeFor(sig))
		case <-grace.C:
			// A run ends within milliseconds of its cancel, unless a write
			// blocks where no context reaches: standard output into a pipe
			// nobody reads, a stalled network file system. A supervisor's
			// SIGTERM must not need a SIGKILL for that.
			fmt.Fprintf(os.Stderr, "fetchall: interrupted, and the run has not ended %s later (is its output being read?); exiting now\n", interruptGrace)
			os.Exit(int(interruptCode.Load()))
		case <-finished:
		}
	})

	code := cli.Execute(ctx, cli.OSStreams(), os.Args[1:])
	if c := interruptCode.Load(); code == cli.ExitInterrupted && c != 0 {
		code = int(c)
	}
	return code
}

// interruptGrace is how long an interrupted run may take to write what it
// has and report, before the process exits without it.
const interruptGrace = 5 * time.Second

// codeFor is the exit code of a run a signal stopped.
func codeFor(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return 128 + int(syscall.SIGTERM)
	}
	return cli.ExitInterrupted
}
