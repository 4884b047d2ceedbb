package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/pflag"

	"github.com/fetchall/fetchall/archive"
	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/output"
)

// archiveOptions are --warc and --warc-max-size: a web archive of the run.
type archiveOptions struct {
	path    string
	maxSize byteSize
}

func (o *archiveOptions) bind(fs *pflag.FlagSet) {
	fs.StringVar(&o.path, "warc", "", "write every request and response, redirects and robots.txt included, to this WARC 1.1 file (FILE.warc.gz)")
	fs.Var(&o.maxSize, "warc-max-size", "start a new WARC file past this size, e.g. 1GiB (files then named FILE-00000.warc.gz, ...; default: one file)")
}

// check refuses a size without an archive, which did nothing, silently.
func (o *archiveOptions) check() error {
	if o.maxSize > 0 && o.path == "" {
		return errors.New("--warc-max-size needs --warc FILE: there is no archive to split")
	}
	return wantFileName(flagFile{"--warc", o.path})
}

// preflight refuses an archive that cannot be made, before the run opens
// its outputs (which empties them): a bad name, a named pipe, a missing
// folder, a file another fetchall writes.
func (o *archiveOptions) preflight() error {
	if o.path == "" {
		return nil
	}
	if info, err := os.Stat(o.path); err == nil && info.Mode()&os.ModeNamedPipe != 0 {
		// An archive is appended to, rotated, and cut back after a
		// failed write: a pipe can be none of these (and its open would
		// wait for a reader past any Ctrl-C).
		return fmt.Errorf("--warc %s is a named pipe; give a file (or %s to keep nothing)", o.path, os.DevNull)
	}
	return archive.Check(o.path, int64(o.maxSize))
}

// start opens the archive for a run whose settings it completes: the
// fetch client writes every exchange to it, and its first write error
// stops the run (the context returned is canceled). finish closes the
// archive and says what the run's error is then; report says where the
// records went.
func (o *archiveOptions) start(ctx context.Context, settings *crawler.Settings) (runCtx context.Context, finish func(runErr error) error, report func(w io.Writer), err error) {
	if o.path == "" {
		return ctx, func(err error) error { return err }, func(io.Writer) {}, nil
	}
	if err := o.preflight(); err != nil {
		return nil, nil, nil, err
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	robots := "obey"
	if settings.IgnoreRobots {
		robots = "ignore"
	}
	info := map[string]string{
		"software":               "fetchall/" + fetchallVersion() + " (" + runtime.Version() + ")",
		"format":                 "WARC File Format 1.1",
		"conformsTo":             "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
		"robots":                 robots,
		"http-header-user-agent": settings.Fetch.UserAgent,
	}
	w, err := archive.Create(o.path, int64(o.maxSize), info, func(err error) { cancel(err) })
	if err != nil {
		cancel(nil)
		return nil, nil, nil, err
	}
	settings.Fetch.Archive = w
	finish = func(runErr error) error {
		defer cancel(nil)
		if err := w.Close(); err != nil {
			return fmt.Errorf("the web archive stopped the run: %w", err)
		}
		return runErr
	}
	report = func(out io.Writer) {
		files := w.Files()
		fmt.Fprintf(out, "warc: %d records in %s", w.Records(), files[0])
		if len(files) > 1 {
			fmt.Fprintf(out, " and %s more, to %s", output.Count(len(files)-1, "file"), files[len(files)-1])
		}
		fmt.Fprintln(out)
	}
	return runCtx, finish, report, nil
}
