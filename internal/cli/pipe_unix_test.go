//go:build unix

package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeFIFO makes a named pipe in a test folder.
func makeFIFO(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "urls.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	return path
}

// openWriter opens the pipe's write end once a reader has it open,
// waiting no more than a few seconds.
func openWriter(path string) (*os.File, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil || !errors.Is(err, syscall.ENXIO) || time.Now().After(deadline) {
			return w, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A list read from a pipe is read once, whole, even where the progress
// line would count the list's URLs first: counting read the pipe up, and
// only the URLs of its first 8 KiB were fetched (260 of 1,000).
func TestListFromAPipeIsReadWhole(t *testing.T) {
	_, base := startSite(t)
	fifo := makeFIFO(t)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	const n = 1000
	writeErr := make(chan error, 1)
	go func() {
		w, err := openWriter(fifo)
		if err != nil {
			writeErr <- err
			return
		}
		for i := range n {
			fmt.Fprintf(w, "%s/page/%d\n", base, i)
		}
		writeErr <- w.Close()
	}()
	var errOut bytes.Buffer
	s := &Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &errOut, ErrIsTerminal: true}
	code := Execute(t.Context(), s, []string{fifo, "-o", out, "--no-progress"})
	if err := <-writeErr; err != nil {
		t.Fatalf("writing the pipe: %v", err)
	}
	data, _ := os.ReadFile(out)
	if got := bytes.Count(data, []byte("\n")); code != 0 || got != n {
		t.Fatalf("exit %d, %d records for %d URLs through a pipe:\n%s", code, got, n, errOut.String())
	}
}

// The first Ctrl-C stops a run whose list is a named pipe nobody writes:
// its open waited for a writer, and only a second signal ended it.
func TestNamedPipeWithoutWriterStopsAtTheFirstInterrupt(t *testing.T) {
	fifo := makeFIFO(t)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	var errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, &Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &errOut}, []string{fifo})
	}()
	select {
	case code := <-done:
		if code != exitInterrupted || !strings.Contains(errOut.String(), "waited for a writer") {
			t.Errorf("exit %d, stderr %q; want %d saying the pipe had no writer", code, errOut.String(), exitInterrupted)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting for the pipe's writer 10s after the interrupt")
	}
}

// A list that comes slowly through a pipe is fetched as it comes: the
// first URL went only once 8 KiB had come, or the pipe had closed.
func TestSlowPipeIsFetchedAsItComes(t *testing.T) {
	_, base := startSite(t)
	fifo := makeFIFO(t)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	firstSeen := make(chan bool, 1)
	go func() {
		w, err := openWriter(fifo)
		if err != nil {
			firstSeen <- false
			return
		}
		defer w.Close()
		fmt.Fprintf(w, "%s/page/1\n", base)
		for range 500 { // 5 s at most, the pipe held open meanwhile
			if data, _ := os.ReadFile(out); bytes.Count(data, []byte("\n")) == 1 {
				firstSeen <- true
				fmt.Fprintf(w, "%s/page/2\n", base)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		firstSeen <- false
	}()
	code := Execute(t.Context(), &Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, []string{fifo, "-o", out})
	if !<-firstSeen {
		t.Error("the first URL's record did not come while the pipe was still open")
	}
	data, _ := os.ReadFile(out)
	if got := bytes.Count(data, []byte("\n")); code != 0 || got != 2 {
		t.Errorf("exit %d, %d records; want 0 and both URLs", code, got)
	}
}

// Records written to a named pipe reach its reader: the pipe was opened
// read-write, as a file is, so that it was its own reader, and a run that
// ended before the reader came lost every record, exiting 0. With no
// reader, the first Ctrl-C stops the wait.
func TestOutputToANamedPipeReachesItsReader(t *testing.T) {
	_, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/page/1\n"+base+"/page/2\n"+base+"/page/3\n")
	fifo := makeFIFO(t)
	got := make(chan int, 1)
	go func() {
		time.Sleep(200 * time.Millisecond) // the run is there first
		f, err := os.Open(fifo)
		if err != nil {
			got <- -1
			return
		}
		defer f.Close()
		f.SetReadDeadline(time.Now().Add(10 * time.Second))
		data, _ := io.ReadAll(f)
		got <- bytes.Count(data, []byte("\n"))
	}()
	if res := runCLI(t, "", list, "-q", "-o", fifo); res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if n := <-got; n != 3 {
		t.Errorf("the pipe's reader got %d records, want 3", n)
	}

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	var errOut bytes.Buffer
	code := Execute(ctx, &Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &errOut}, []string{list, "-o", fifo})
	if code != exitInterrupted || !strings.Contains(errOut.String(), "waited for a reader") {
		t.Errorf("no reader: exit %d, stderr %q; want %d saying the pipe had no reader", code, errOut.String(), exitInterrupted)
	}
}

// A device or a pipe as an output: a state run, which cuts its output
// back on resume, refuses it before fetching anything (it failed at the
// end: "sync /dev/null: invalid argument"); two flags may both name
// /dev/null; --warc refuses a named pipe.
func TestDeviceOutputs(t *testing.T) {
	site, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/page/1\n")
	res := runCLI(t, "", list, "-q", "--state", filepath.Join(t.TempDir(), "st"), "-o", os.DevNull)
	if res.code != exitUsage || !strings.Contains(res.stderr, "regular file") || len(site.URICounts()) != 0 {
		t.Errorf("--state -o %s: exit %d, stderr %q, %d URLs fetched; want exit %d before any fetch", os.DevNull, res.code, res.stderr, len(site.URICounts()), exitUsage)
	}
	res = runCLI(t, "", list, "-q", "-o", os.DevNull, "--warc", os.DevNull)
	if res.code != 0 {
		t.Errorf("-o and --warc both %s: exit %d, stderr %q; want 0", os.DevNull, res.code, res.stderr)
	}
	// A WARC is appended to, rotated and cut back: not a pipe, whose open
	// also waited for a reader past any Ctrl-C.
	res = runCLI(t, "", list, "-q", "-o", os.DevNull, "--warc", makeFIFO(t))
	if res.code != exitUsage || !strings.Contains(res.stderr, "named pipe") {
		t.Errorf("--warc a named pipe: exit %d, stderr %q; want %d saying why", res.code, res.stderr, exitUsage)
	}
}
