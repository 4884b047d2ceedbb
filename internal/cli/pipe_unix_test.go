//go:build unix

package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
