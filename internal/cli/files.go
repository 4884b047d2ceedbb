package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// canReplace checks, before a run, that the file a flag names can be
// written when the run ends: a crawl of hours must not end in "no such
// file or directory" with what it was to save lost.
func canReplace(file flagFile) error {
	if file.path == "" || file.path == "-" {
		return nil
	}
	if err := wantFileName(file); err != nil {
		return err
	}
	info, err := os.Stat(file.path)
	switch {
	case err == nil && !info.Mode().IsRegular():
		return nil // a device or a pipe is written to, not replaced
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w", file.flag, err)
	}
	if dir, err := os.Stat(filepath.Dir(file.path)); err != nil || !dir.IsDir() {
		return fmt.Errorf("%s %s: there is no folder %s to write it in", file.flag, file.path, filepath.Dir(file.path))
	}
	probe, err := os.CreateTemp(filepath.Dir(file.path), ".fetchall-probe-*")
	if err != nil {
		return fmt.Errorf("%s %s cannot be written: %w", file.flag, file.path, unwrapPathError(err))
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// wantFileName refuses a flag's file that is a folder, in those words
// ("open out: is a directory" named the system call).
func wantFileName(file flagFile) error {
	if info, err := os.Stat(file.path); err == nil && info.IsDir() {
		return fmt.Errorf("%s %s: is a folder, want a file name", file.flag, file.path)
	}
	return nil
}

// wantFolder refuses a flag's folder that is a file, in those words
// ("mkdir run.state: not a directory" named the system call).
func wantFolder(file flagFile) error {
	if info, err := os.Stat(file.path); err == nil && !info.IsDir() {
		return fmt.Errorf("%s %s is a file: give a folder, which is made if missing", file.flag, file.path)
	}
	return nil
}

// canWrite refuses a file a run writes in place (an output) that it could
// not open: a folder, a missing folder, no permission. It changes
// nothing: an existing file is opened without truncating it, and a new
// one's folder is probed as canReplace does.
func canWrite(file flagFile) error {
	if file.path == "" || file.path == "-" {
		return nil
	}
	info, err := os.Stat(file.path)
	switch {
	case err == nil && info.Mode().IsRegular():
		f, err := os.OpenFile(file.path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("%s %s cannot be written: %w", file.flag, file.path, unwrapPathError(err))
		}
		return f.Close()
	case err == nil && !info.IsDir():
		return nil // a device or a pipe is written to as it is
	}
	return canReplace(file) // a folder, or a new file: its folder must take one
}

// unwrapPathError is err without its path and system call ("stat x: no
// such file or directory"): the message names the file already, or the
// path is a temporary file's, which would only puzzle a user.
func unwrapPathError(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// replaceFile writes path anew through write, with mode perm: into a
// temporary file beside it, synced, then renamed over it, so that a
// failure (a full disk, a crash) leaves the old file whole. A device or a
// pipe is written to directly; a symbolic link's file is replaced.
func replaceFile(path string, perm os.FileMode, write func(io.Writer) error) error {
	if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
		return writeFileWith(path, write)
	}
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target // a link stays a link: its file is replaced
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	return nil
}
