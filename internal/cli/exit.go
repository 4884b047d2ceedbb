package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/output"
)

// Exit codes, as documented in the README.
const (
	exitOK       = 0
	exitFailures = 1 // some URLs failed, or the run stopped on an error
	exitUsage    = 2 // bad flags, config or input file: nothing was fetched
	// ExitInterrupted is the code of a run stopped by a signal (main makes
	// it 143 for SIGTERM).
	ExitInterrupted = 130
	exitInterrupted = ExitInterrupted
)

// exitError carries the exit code for an error; silent ones have already
// been reported (the summary said how many URLs failed).
type exitError struct {
	code   int
	err    error
	silent bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errSomeFailed ends a run in which some records are not ok.
var errSomeFailed = errors.New("some URLs failed")

// errSitesNotCrawled ends a crawl that left sites alone because their
// robots.txt could not be read: nothing failed, but the crawl is not whole.
var errSitesNotCrawled = errors.New("some sites not crawled: their robots.txt could not be read")

// crawlOutcome is fetchOutcome for a crawl: a crawl that could not read a
// site's robots.txt did not crawl that site, and says so with exit code 1
// (a crawl of a server that is down must not look like a success).
func crawlOutcome(ctx context.Context, runErr error, summary *output.Summary, stats crawler.CrawlStats, written string) error {
	if err := fetchOutcome(ctx, runErr, summary, written); err != nil {
		return err
	}
	if stats.SiteDeferred > 0 {
		return silentFailure(errSitesNotCrawled)
	}
	return nil
}

// errInterrupted ends a run cut short by a signal.
var errInterrupted = errors.New("interrupted")

func usageError(err error) error    { return &exitError{code: exitUsage, err: err} }
func runFailure(err error) error    { return &exitError{code: exitFailures, err: err} }
func silentFailure(err error) error { return &exitError{code: exitFailures, err: err, silent: true} }

// exitCode maps a command's error to the process exit code, in one place.
// Errors that do not say otherwise come from cobra's own flag and argument
// checks, which are usage errors.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.As(err, &ee):
		return ee.code
	}
	return exitUsage
}

// Execute runs the command line args and returns the process exit code,
// reporting an error once on s.Err.
func Execute(ctx context.Context, s *Streams, args []string) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var quiet *exitError
	if err != nil && !(errors.As(err, &quiet) && quiet.silent) {
		fmt.Fprintf(s.Err, "fetchall: %v\n", err)
	}
	return exitCode(err)
}

// FlagError is a flag's value that cannot work. It names the flag, so
// that a value from a file can be traced to its line.
type FlagError struct {
	Flag string // long name, without dashes
	Err  error
}

func (e *FlagError) Error() string {
	// A library error that names its setting first ("include \"(\": ...")
	// needs no second name after the flag's.
	return "--" + e.Flag + " " + strings.TrimPrefix(e.Err.Error(), e.Flag+" ")
}
func (e *FlagError) Unwrap() error { return e.Err }

func flagErrorf(flag, format string, args ...any) error {
	return &FlagError{Flag: flag, Err: fmt.Errorf(format, args...)}
}
