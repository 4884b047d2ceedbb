package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/output"
)

// outputOptions are the flags about where records go; fetch and crawl
// share them.
type outputOptions struct {
	output     string
	format     string
	failFast   bool
	saveDir    string
	quiet      bool
	noProgress bool

	fields       []string // --fields lists
	headerFields []string
	fieldSet     output.FieldSet // parsed by validate
	archive      archiveOptions

	// resumed, when set, is the output of a resumed run, already cut back
	// to the state's last commit and open for appending.
	resumed *os.File
}

func (o *outputOptions) bind(fs *pflag.FlagSet) {
	fs.StringVarP(&o.output, "output", "o", "", "write records to this file instead of standard output")
	fs.StringVarP(&o.format, "format", "f", "", "record format: jsonl, csv or table (default: csv when -o ends in .csv, else jsonl)")
	fs.BoolVar(&o.failFast, "fail-fast", false, "cancel everything at the first URL that is not ok")
	fs.StringVar(&o.saveDir, "save-dir", "", "save each ok body into this folder (names derived safely from the URL)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress, summary or notices on standard error: only errors and warnings")
	fs.BoolVar(&o.noProgress, "no-progress", false, "no progress line (it is only drawn on a terminal anyway)")
	o.bindFields(fs)
	o.archive.bind(fs)
}

// bindFields binds the flags that add fields to records.
func (o *outputOptions) bindFields(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.fields, "fields", nil, "add fields to each record: all, or a comma list of "+strings.Join(output.ExtraFields, ", ")+" (see the README's schema)")
	fs.StringArrayVar(&o.headerFields, "header-field", nil, "add a response header to each record as header_NAME (repeatable)")
}

func (o *outputOptions) validate() error {
	if o.output == "-" {
		o.output = "" // standard output, as a list's - is standard input (it made a file named -)
	}
	if o.format == "" {
		// A user who names the file out.csv means CSV.
		o.format = "jsonl"
		if strings.EqualFold(filepath.Ext(o.output), ".csv") {
			o.format = "csv"
		}
	}
	if !slices.Contains(output.Formats, o.format) {
		return fmt.Errorf("--format %q: want jsonl, csv or table", o.format)
	}
	var err error
	if o.fieldSet, err = output.ParseFields(o.fields, o.headerFields); err != nil {
		return fieldsError(err)
	}
	if o.format == "table" && !o.fieldSet.Empty() {
		return errors.New("--fields and --header-field add to JSON Lines or CSV records; the table's columns are fixed (it left them out, silently)")
	}
	if err := o.archive.check(); err != nil {
		return err
	}
	for _, err := range []error{wantFileName(flagFile{"-o", o.output}), wantFolder(flagFile{"--save-dir", o.saveDir})} {
		if err != nil {
			return err
		}
	}
	return distinctFiles(flagFile{"-o", o.output}, flagFile{"--save-dir", o.saveDir}, flagFile{"--warc", o.archive.path})
}

// recordOutput is an open destination for records with its summary and
// progress; close flushes and closes it all.
type recordOutput struct {
	sink     output.Tee
	records  *output.Counted
	summary  *output.Summary
	progress *output.Progress
	saver    *output.Dir
	closeOut func() error
}

// preflight refuses, before any output is opened (and emptied, as a
// state's new output is), what would refuse the run afterwards: an
// archive that cannot be made, a save folder that cannot be.
func (o *outputOptions) preflight() error {
	if err := o.archive.preflight(); err != nil {
		return err
	}
	if o.saveDir != "" {
		dir, err := output.OpenDir(o.saveDir)
		if err != nil {
			return err
		}
		return dir.Close()
	}
	return nil
}

// openRecords opens the record destination, the save folder and the
// progress line (on a terminal, with total results expected, -1 unknown).
// Its errors are the user's: a folder or file that cannot be written.
func (o *outputOptions) openRecords(ctx context.Context, s *Streams, total int, crawl bool) (*recordOutput, error) {
	ro := &recordOutput{summary: &output.Summary{}}
	if o.saveDir != "" {
		dir, err := output.OpenDir(o.saveDir)
		if err != nil {
			return nil, err
		}
		ro.saver = dir
	}
	var out io.Writer
	var err error
	appending := false
	if o.resumed != nil {
		out, ro.closeOut = o.resumed, o.resumed.Close
		pos, err := o.resumed.Seek(0, io.SeekCurrent)
		appending = err == nil && pos > 0
	} else if out, ro.closeOut, err = openOutput(ctx, o.output, s.Out); err != nil {
		ro.close()
		return nil, err
	}
	records, err := output.NewSinkWith(o.format, out, crawl, appending, o.fieldSet)
	if err != nil {
		ro.close()
		return nil, err
	}
	ro.records = &output.Counted{Sink: records}
	ro.sink = output.Tee{ro.records, ro.summary}
	if s.ErrIsTerminal && !o.quiet && !o.noProgress {
		ro.progress = output.NewProgress(s.Err, total)
		ro.sink = append(ro.sink, ro.progress)
	}
	return ro, nil
}

// engineSaver returns the save folder as the engine wants it: a nil
// interface when there is none.
func (ro *recordOutput) engineSaver() crawler.Saver {
	if ro.saver == nil {
		return nil
	}
	return ro.saver
}

// close ends the progress line and closes the output and the save folder;
// it reports a failed final write.
func (ro *recordOutput) close() error {
	if ro.progress != nil {
		ro.progress.Finish()
	}
	var err error
	if ro.closeOut != nil {
		err = ro.closeOut()
	}
	if ro.saver != nil {
		ro.saver.Close()
	}
	return err
}

// reportWritten says, after a summary, how many records really reached
// the output when that is not all of them (a full disk, a closed pipe).
func (ro *recordOutput) reportWritten(w io.Writer, dest string) {
	if n := ro.records.Written(); n < ro.summary.Total {
		if dest == "" {
			dest = "standard output"
		}
		fmt.Fprintf(w, "output: only %d of %s %s written to %s\n", n, output.Count(ro.summary.Total, "record"), output.Agree(n, "was", "were"), dest)
	}
}

// reportStopped says how many bodies were saved, and, when the run stopped
// early, how many URLs it had read or found but never started.
func (ro *recordOutput) reportStopped(w io.Writer, stats crawler.CrawlStats, stoppedEarly bool) {
	if ro.saver != nil {
		fmt.Fprintf(w, "saved: %s\n", output.CountNouns(ro.summary.Saved, "body", "bodies"))
	}
	if stoppedEarly && stats.NotStarted > 0 {
		fmt.Fprintf(w, "not started: %d URLs already read or found (the run stopped early)\n", stats.NotStarted)
	}
}

// finish closes the output and, when report, writes the summary and what
// did not reach the output or never started. It returns the run's error,
// or the output's when the run had none.
func (ro *recordOutput) finish(ctx context.Context, runErr error, report bool, w io.Writer, elapsed time.Duration, stats crawler.CrawlStats, dest string) error {
	if err := ro.close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("write output: %w", err)
	}
	if report {
		ro.summary.Report(w, elapsed)
		ro.reportWritten(w, dest)
		ro.reportStopped(w, stats, runErr != nil || ctx.Err() != nil)
	}
	return runErr
}

// recordShape names the fields added to each record ("" for none), for a
// state's fingerprint: a resume with other fields would write a CSV whose
// rows have more columns than its header.
func (o *outputOptions) recordShape() string { return strings.Join(o.fieldSet.Columns(), ",") }

// fieldsError names the flag that asked for the field output.ParseFields
// refused.
func fieldsError(err error) error {
	if hf, ok := errors.AsType[*output.HeaderFieldError](err); ok {
		return fmt.Errorf("--header-field %q: want a header name such as Server or X-Cache", hf.Name)
	}
	return fmt.Errorf("--fields: %w", err)
}
