package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/crawler/state"
	"github.com/fetchall/fetchall/job"
	"github.com/fetchall/fetchall/limiter"
	"github.com/fetchall/fetchall/output"
)

// stateOptions are the flags of a resumable run.
type stateOptions struct {
	dir         string
	reset       bool
	retryFailed bool
	// keyOf names the task of a record of the output, for --retry-failed.
	keyOf   func(rec map[string]string) (uint64, bool)
	retried int // records --retry-failed took back
	// hasNewWork says whether a finished run's input now holds work its
	// state has not done (lines appended to a list); nil when it cannot.
	hasNewWork func(st *state.State) (bool, error)
	reopened   bool // a finished run goes on, for hasNewWork's sake
}

func (o *stateOptions) bind(fs *pflag.FlagSet) {
	fs.StringVar(&o.dir, "state", "", "keep the run's progress in this folder: run the same command again to resume after any stop, kill -9 included (needs -o FILE)")
	fs.BoolVar(&o.reset, "state-reset", false, "with --state: forget the folder's progress and start over")
	fs.BoolVar(&o.retryFailed, "retry-failed", false, "with --state, on resume: fetch again the URLs whose record failed with a timeout, reset, refused connection, 5xx or 429, replacing those records")
}

// check refuses the state's flags without --state, where they did nothing
// and said nothing, and the two that contradict each other.
func (o *stateOptions) check() error {
	switch {
	case o.dir == "" && (o.reset || o.retryFailed):
		return errors.New("--state-reset and --retry-failed need --state DIR, the folder of the run they act on")
	case o.reset && o.retryFailed:
		return errors.New("give --state-reset (start over) or --retry-failed (go on, fetching the failed URLs again), not both")
	}
	return wantFolder(flagFile{"--state", o.dir})
}

// errFinished ends a run whose state says it is already done.
var errFinished = errors.New("finished")

// openState opens the state for a run described by fingerprint and
// prepares its records output into out.resumed (see openOutputs). It
// returns errFinished (with the state closed) when the run was done.
func (o *stateOptions) openState(fingerprint string, limits limiter.Config, out *outputOptions) (*state.State, error) {
	switch {
	case out.output == "":
		return nil, errors.New("--state needs -o FILE: records on standard output cannot be taken back after a crash")
	case out.format == "table":
		return nil, errors.New("--state needs -f jsonl or csv: a table cannot be resumed")
	}
	if err := regularOutput("--state", "-o", out.output); err != nil {
		return nil, err
	}
	st, err := o.open(fingerprint, limits)
	if err != nil {
		return nil, err
	}
	if err := finishSwap(st, out.output); err != nil {
		st.Close()
		return nil, err
	}
	if o.retryFailed && st.Resumed && o.keyOf != nil {
		if o.retried, err = retryFailed(st, out.output, out.format, o.keyOf); err != nil {
			st.Close()
			return nil, err
		}
	}
	files, err := o.openOutputs(st, out.output)
	if err != nil {
		st.Close()
		return nil, err
	}
	out.resumed = files[0]
	return st, nil
}

// regularOutput refuses, for a run of mode (--state, --frontier), an
// output that is not a regular file: such a run cuts its outputs back to
// their last commit when started again, which a pipe or a device cannot
// be (it failed after the run: "sync /dev/null: invalid argument").
func regularOutput(mode, flag, path string) error {
	if notRegular(path) {
		return fmt.Errorf("%s needs %s to name a regular file, which it cuts back to its last commit when the run starts again; %s is not one", mode, flag, path)
	}
	return nil
}

// notRegular says whether path is there and not a regular file: a device
// or a pipe.
func notRegular(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.Mode().IsRegular()
}

// regularJobOutputs is regularOutput for a job's items and errors files.
func regularJobOutputs(mode string, j *job.Job) error {
	for _, out := range []struct{ key, path string }{{"output.path", j.Output.Path}, {"output.errors", j.Output.Errors}} {
		if out.path != "" {
			if err := regularOutput(mode, out.key, out.path); err != nil {
				return err
			}
		}
	}
	return nil
}

// outputShortfall says how an output differs now from the committed
// bytes a state or a shared crawl holds for it: "" when it has them all.
func outputShortfall(path string, committed int64) string {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no longer there"
	case err == nil && info.Size() < committed:
		return fmt.Sprintf("shorter than it wrote, %s of %s", output.HumanBytes(info.Size()), output.HumanBytes(committed))
	}
	return ""
}

// finishedState is errFinished with the outputs' committed lengths.
type finishedState struct{ committed map[string]int64 }

func (finishedState) Error() string        { return errFinished.Error() }
func (finishedState) Is(target error) bool { return target == errFinished }

// finishedRun is what a run whose state says it is finished (err, from
// open) answers: nothing to do, unless one of its outputs is gone or cut
// short since (deleted, moved, emptied), which the run cannot give back
// without starting over.
func finishedRun(w io.Writer, err error, what, dir string, outputs ...string) error {
	var done finishedState
	errors.As(err, &done)
	for _, path := range outputs {
		if short := outputShortfall(path, committedOffset(done.committed, path)); short != "" {
			return usageError(fmt.Errorf("the %s in %s is finished, but its output %s is %s: --state-reset fetches it all again", what, dir, path, short))
		}
	}
	fmt.Fprintf(w, "fetchall: the %s in %s is finished; nothing to do (--state-reset starts over)\n", what, dir)
	return nil
}

// open opens the state; errFinished when its run was done.
func (o *stateOptions) open(fingerprint string, limits limiter.Config) (*state.State, error) {
	st, err := state.Open(o.dir, fingerprint, o.reset, limits)
	if err != nil {
		return nil, err
	}
	if st.Finished && o.retryFailed {
		cands, err := st.RetryCandidates()
		if err == nil && len(cands) > 0 {
			err = st.Reopen() // failures to fetch again: the run goes on
		}
		if err != nil {
			st.Close()
			return nil, err
		}
	}
	if st.Finished && o.hasNewWork != nil {
		more, err := o.hasNewWork(st)
		if err == nil && more {
			err = st.Reopen()
			o.reopened = true
		}
		if err != nil {
			st.Close()
			return nil, err
		}
	}
	if st.Finished {
		committed := maps.Clone(st.Offsets)
		st.Close()
		return nil, finishedState{committed}
	}
	return st, nil
}

// openOutputs opens the run's output files, each named to the state by
// its path: a file the state has committed part of is cut back to that
// part and opened for appending; any other is created afresh. Files that
// hold committed records come back with their offset past zero.
func (o *stateOptions) openOutputs(st *state.State, paths ...string) ([]*os.File, error) {
	if err := outputsKnown(st.Offsets, o.dir, paths); err != nil {
		return nil, err
	}
	hint := "the state in " + o.dir + " expects it; --state-reset starts over"
	return reopenOutputs(paths, hint,
		func(path string) (int64, error) { return committedOffset(st.Offsets, path), nil },
		func(path string, f *os.File) { st.AddOutput(stateName(path), syncedLength(f)) })
}

// stateName is how a state names an output: by its absolute path, so that
// a run resumed from another folder finds it. Named as given, "out.jsonl"
// from another folder was a new output to the state, created empty: the
// records of the first run were lost, and the resume exited 0.
func stateName(path string) string { return absPath(path) }

// committedOffset is the length a state committed for the output at path;
// a state made before outputs were named by absolute path names it as
// given.
func committedOffset(offsets map[string]int64, path string) int64 {
	if off, ok := offsets[stateName(path)]; ok {
		return off
	}
	return offsets[path]
}

// outputsKnown refuses a run that does not write every output its state
// holds records in: given another -o, or started from another folder with
// a relative -o that a state of an older fetchall keeps as given. Its own
// outputs would start empty, and the records done would be lost.
func outputsKnown(offsets map[string]int64, dir string, paths []string) error {
	for name, off := range offsets {
		if off > 0 && !slices.ContainsFunc(paths, func(p string) bool { return name == stateName(p) || name == p }) {
			return fmt.Errorf("the state in %s holds records written to %s, which this run does not write (run it from the folder it started in, with the same -o; or --state-reset to start over)", dir, name)
		}
	}
	return nil
}

// reopenOutputs opens each output of a run that commits its outputs'
// lengths: cut back to its committed length (what was written after the
// last commit is written again), or made afresh when it has none. register
// tells the committer of each file opened; hint says, in an error, who
// expects the file.
func reopenOutputs(paths []string, hint string, committed func(path string) (int64, error), register func(path string, f *os.File)) ([]*os.File, error) {
	var files []*os.File
	fail := func(err error) ([]*os.File, error) {
		for _, f := range files {
			f.Close()
		}
		return nil, err
	}
	for _, path := range paths {
		offset, err := committed(path)
		if err != nil {
			return fail(err)
		}
		var f *os.File
		if offset == 0 {
			// New, or stopped before its first commit: start it afresh.
			if f, err = createOutput(path); err != nil {
				return fail(fmt.Errorf("output: %w", err))
			}
		} else {
			if f, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
				return fail(fmt.Errorf("output: %w (%s)", err, hint))
			}
			if err := lockOutput(f, path); err != nil {
				f.Close()
				return fail(fmt.Errorf("output: %w", err))
			}
			info, err := f.Stat()
			if err == nil && info.Size() < offset {
				err = fmt.Errorf("output %s has %d bytes, fewer than the %d committed: it was changed (%s)", path, info.Size(), offset, hint)
			}
			if err == nil {
				err = f.Truncate(offset) // what was written after the last commit is written again
			}
			if err == nil {
				_, err = f.Seek(offset, io.SeekStart)
			}
			if err != nil {
				f.Close()
				return fail(err)
			}
		}
		files = append(files, f)
		register(path, f)
	}
	return files, nil
}

// syncedLength syncs f to disk and says how long it is: the resume point.
func syncedLength(f *os.File) func() (int64, error) {
	return func() (int64, error) {
		if err := f.Sync(); err != nil {
			return 0, err
		}
		return f.Seek(0, io.SeekCurrent)
	}
}

// fingerprint describes a run for its state: the command and what it
// works on, so that a state is never resumed by another run.
// Flags with an empty value are left out.
func fingerprint(command string, parts ...string) string {
	out := []string{command}
	for i := 0; i < len(parts); i++ {
		if strings.HasPrefix(parts[i], "-") && i+1 < len(parts) {
			if parts[i+1] != "" {
				out = append(out, parts[i], parts[i+1])
			}
			i++
			continue
		}
		if parts[i] != "" {
			out = append(out, parts[i])
		}
	}
	return strings.Join(out, " ")
}

// absPath is path made absolute, or path when that fails ("-").
func absPath(path string) string {
	if path == "" || path == "-" {
		return path
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// reportState says where the state stands after the run.
func reportState(w io.Writer, st *state.State, dir string, retried int) {
	if retried > 0 {
		fmt.Fprintf(w, "retry-failed: %s %s taken back and fetched again\n", output.Count(retried, "failed record"), output.Agree(retried, "was", "were"))
	}
	fmt.Fprintf(w, "state: %s in all %s in the output; %s on disk in %s\n", output.Count(st.Done, "record"), output.Agree(st.Done, "is", "are"), output.HumanBytes(st.Size()), dir)
}

// pagesLeft is what --max-pages leaves a resumed crawl: the pages its
// earlier runs fetched count, so that a crawl stopped and resumed any
// number of times fetches at most max pages in all, as one run does (each
// run fetched up to max pages of its own). reached says none are left.
func pagesLeft(st *state.State, max int) (left int, reached bool) {
	if max == 0 || !st.Resumed {
		return max, false
	}
	left = max - st.Fetched
	return left, left <= 0
}

// notices is where a run's notices go ("nothing to do"): w, or nowhere
// with -q, which asks for silence unless something fails.
func notices(w io.Writer, quiet bool) io.Writer {
	if quiet {
		return io.Discard
	}
	return w
}

// limitReached is what a run whose state has its page limit's pages
// answers: nothing to do, as a finished run; what else may be done says
// how to go on (a crawl's larger --max-pages; a job's max_pages is part of
// the job, so another one is another job to the state).
func limitReached(w io.Writer, what, dir, limit, elseDo string) error {
	fmt.Fprintf(w, "fetchall: the %s in %s has fetched its %s pages; nothing to do (%s)\n", what, dir, limit, elseDo)
	return nil
}

// stoppedAtLimit says whether a crawl stopped at its --max-pages with URLs
// left to fetch.
func stoppedAtLimit(max int, stats crawler.CrawlStats) bool {
	return max > 0 && stats.NotStarted > 0
}

// finishState marks a state finished after a whole run and reports it.
// A crawl stopped by --max-pages with URLs left is not finished: a larger
// limit goes on with it.
// A run that ends a state whose earlier runs wrote failed records says
// so with its exit status too, though it failed in nothing itself.
func finishState(st *state.State, runErr error, whole, report bool, w io.Writer, o stateOptions) error {
	if runErr == nil && whole {
		if err := st.Finish(); err != nil {
			runErr = fmt.Errorf("state: %w", err)
		} else if n := st.Failed(); n > 0 {
			runErr = fmt.Errorf("%w: %d of the %s in the output %s not ok (from this run or an earlier one)", errSomeFailed, n, output.Count(st.Done, "record"), output.Agree(n, "is", "are"))
		}
	}
	if report {
		reportState(w, st, o.dir, o.retried)
	}
	return runErr
}

// finishSwap completes a --retry-failed rewrite that a crash interrupted:
// the rewritten file, if still there, replaces the output.
func finishSwap(st *state.State, path string) error {
	name := stateName(path)
	from := st.Swap(name)
	if from == "" {
		if name, from = path, st.Swap(path); from == "" { // a state of an older fetchall
			return nil
		}
	}
	if _, err := os.Stat(from); err == nil {
		if err := os.Rename(from, path); err != nil {
			return fmt.Errorf("retry-failed: %w", err)
		}
	}
	return st.ClearSwap(name)
}

// retryFailed forgets the failed records worth another try (timeouts,
// resets, refused connections, 5xx, 429): the output is rewritten without
// them and the state queues them again, crash-safely (the state records
// the swap before the file is renamed, and a resume finishes it). keyOf
// names the task a record belongs to.
func retryFailed(st *state.State, path, format string, keyOf func(rec map[string]string) (uint64, bool)) (int, error) {
	cands, err := st.RetryCandidates()
	if err != nil || len(cands) == 0 {
		return 0, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("retry-failed: %w", err)
	}
	if off := committedOffset(st.Offsets, path); int64(len(data)) > off {
		data = data[:off]
	}
	kept, err := withoutRecords(data, format, func(rec map[string]string) bool {
		k, ok := keyOf(rec)
		_, retry := cands[k]
		return ok && retry
	})
	if err != nil {
		return 0, fmt.Errorf("retry-failed: read %s: %w", path, err)
	}
	tmp := stateName(path) + ".retry"
	if err := writeSynced(tmp, kept); err != nil {
		return 0, fmt.Errorf("retry-failed: %w", err)
	}
	if err := st.Retry(cands, map[string]int64{stateName(path): int64(len(kept))}, map[string]string{stateName(path): tmp}); err != nil {
		return 0, fmt.Errorf("retry-failed: %w", err)
	}
	return len(cands), finishSwap(st, path)
}

// withoutRecords returns data (JSONL or CSV records) without the records
// drop says so of. CSV keeps its header.
func withoutRecords(data []byte, format string, drop func(map[string]string) bool) ([]byte, error) {
	var out bytes.Buffer
	if format == "csv" {
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil || len(rows) == 0 {
			return data, err
		}
		w := csv.NewWriter(&out)
		_ = w.Write(rows[0])
		for _, row := range rows[1:] {
			rec := map[string]string{}
			for i, name := range rows[0] {
				if i < len(row) {
					rec[name] = row[i]
				}
			}
			if !drop(rec) {
				_ = w.Write(row)
			}
		}
		w.Flush()
		return out.Bytes(), w.Error()
	}
	for line := range bytes.Lines(data) {
		var raw map[string]any
		if err := json.Unmarshal(line, &raw); err != nil {
			return nil, err
		}
		rec := map[string]string{}
		for k, v := range raw {
			rec[k] = fmt.Sprint(v)
		}
		if !drop(rec) {
			out.Write(line)
		}
	}
	return out.Bytes(), nil
}

// writeSynced writes data to path and syncs it to disk.
func writeSynced(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
