package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fetchall/fetchall/crawler/state"
	"github.com/fetchall/fetchall/limiter"
	"github.com/fetchall/fetchall/output"
)

// stateOptions are the flags of a resumable run.
type stateOptions struct {
	dir   string
	reset bool
}

func (o *stateOptions) bind(fs *pflag.FlagSet) {
	fs.StringVar(&o.dir, "state", "", "keep the run's progress in this folder: run the same command again to resume after any stop, kill -9 included (needs -o FILE)")
	fs.BoolVar(&o.reset, "state-reset", false, "with --state: forget the folder's progress and start over")
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
	st, err := o.open(fingerprint, limits)
	if err != nil {
		return nil, err
	}
	files, err := o.openOutputs(st, out.output)
	if err != nil {
		st.Close()
		return nil, err
	}
	out.resumed = files[0]
	return st, nil
}

// open opens the state; errFinished when its run was done.
func (o *stateOptions) open(fingerprint string, limits limiter.Config) (*state.State, error) {
	st, err := state.Open(o.dir, fingerprint, o.reset, limits)
	if err != nil {
		return nil, err
	}
	if st.Finished {
		st.Close()
		return nil, errFinished
	}
	return st, nil
}

// openOutputs opens the run's output files, each named to the state by
// its path: a file the state has committed part of is cut back to that
// part and opened for appending; any other is created afresh. Files that
// hold committed records come back with their offset past zero.
func (o *stateOptions) openOutputs(st *state.State, paths ...string) ([]*os.File, error) {
	var files []*os.File
	fail := func(err error) ([]*os.File, error) {
		for _, f := range files {
			f.Close()
		}
		return nil, err
	}
	for _, path := range paths {
		offset := st.Offsets[path]
		var f *os.File
		var err error
		if offset == 0 {
			// New, or stopped before its first commit: start it afresh.
			if f, err = os.Create(path); err != nil {
				return fail(fmt.Errorf("output: %w", err))
			}
		} else {
			if f, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
				return fail(fmt.Errorf("output: %w (the state in %s expects it; --state-reset starts over)", err, o.dir))
			}
			info, err := f.Stat()
			if err == nil && info.Size() < offset {
				err = fmt.Errorf("output %s has %d bytes, fewer than the %d the state committed: it was changed (--state-reset starts over)", path, info.Size(), offset)
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
		st.AddOutput(path, syncedLength(f))
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
func reportState(w io.Writer, st *state.State, dir string) {
	fmt.Fprintf(w, "state: %d records in all are in the output; %s on disk in %s\n", st.Done, output.HumanBytes(st.Size()), dir)
}

// finishState marks a state finished after a whole run and reports it.
func finishState(st *state.State, runErr error, whole, report bool, w io.Writer, dir string) error {
	if runErr == nil && whole {
		if err := st.Finish(); err != nil {
			runErr = fmt.Errorf("state: %w", err)
		}
	}
	if report {
		reportState(w, st, dir)
	}
	return runErr
}
