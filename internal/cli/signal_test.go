package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fetchall/fetchall/internal/testsite"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// buildBinary builds fetchall once for the tests that need the real
// process (signals); TestMain removes it.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fetchall-test")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "fetchall")
		cmd := exec.Command("go", "build", "-o", binPath, "../..")
		cmd.Stderr = os.Stderr
		binErr = cmd.Run()
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}

// interruptAfter runs the binary with args, sends SIGINT once n records
// are out, and returns every line written, stderr, and how long the
// process took to stop after the signal.
func interruptAfter(t *testing.T, bin string, n int, args ...string) (lines []string, stderr string, stopped time.Duration) {
	t.Helper()
	return signalAfter(t, bin, syscall.SIGINT, exitInterrupted, n, args...)
}

// signalAfter is interruptAfter with sig, and the exit code it must give.
func signalAfter(t *testing.T, bin string, sig syscall.Signal, code, n int, args ...string) (lines []string, stderr string, stopped time.Duration) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for len(lines) < n && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < n {
		t.Fatalf("got %d records before the interrupt, want %d; stderr:\n%s", len(lines), n, errBuf.String())
	}
	at := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	err = cmd.Wait()
	stopped = time.Since(at)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != code {
		t.Fatalf("exit = %v, want code %d; stderr:\n%s", err, code, errBuf.String())
	}
	return lines, errBuf.String(), stopped
}

// checkInterrupted checks the promises of an interrupted run: whole JSON
// records only, the summary, a prompt stop.
func checkInterrupted(t *testing.T, lines []string, stderr string, stopped time.Duration) (canceled int) {
	t.Helper()
	if stopped > 5*time.Second {
		t.Errorf("took %s to stop after SIGINT, want well under the 30s timeout", stopped)
	}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("half or invalid record after SIGINT: %q", line)
			continue
		}
		if rec["error"] == "canceled" {
			canceled++
		}
	}
	if !strings.Contains(stderr, "fetched ") || !strings.Contains(stderr, "interrupted") {
		t.Errorf("stderr lacks the summary or the interrupted note:\n%s", stderr)
	}
	return canceled
}

// pagesThenHangs writes a list of pages quick pages, then hangs URLs
// that never answer, and returns its path.
func pagesThenHangs(t *testing.T, base string, pages, hangs int) string {
	var list strings.Builder
	for i := range pages {
		fmt.Fprintf(&list, "%s/page/%d\n", base, i)
	}
	for range hangs {
		list.WriteString(base + "/hang\n")
	}
	return writeFile(t, "urls.txt", list.String())
}

func TestSIGINTFlushesRecordsAndExits130(t *testing.T) {
	bin := buildBinary(t)
	_, base := startSite(t)
	lines, stderr, stopped := interruptAfter(t, bin, 5, pagesThenHangs(t, base, 5, 200), "-c", "8")
	canceled := checkInterrupted(t, lines, stderr, stopped)
	if canceled == 0 || len(lines) > 5+8 {
		t.Errorf("%d records, %d canceled; want the 5 pages plus the in-flight requests marked canceled", len(lines), canceled)
	}
}

// SIGTERM (what a service manager or a container runtime sends) stops a
// run as SIGINT does, and the exit code says which signal it was, as a
// shell's does (it said 130, SIGINT's).
func TestSIGTERMFlushesRecordsAndExits143(t *testing.T) {
	bin := buildBinary(t)
	_, base := startSite(t)
	lines, stderr, stopped := signalAfter(t, bin, syscall.SIGTERM, 143, 5, pagesThenHangs(t, base, 5, 50), "-c", "4")
	if canceled := checkInterrupted(t, lines, stderr, stopped); canceled == 0 {
		t.Errorf("%d records, none canceled; want the in-flight requests marked canceled", len(lines))
	}
}

func TestSIGINTDuringCrawl(t *testing.T) {
	bin := buildBinary(t)
	site := testsite.NewWith(testsite.Options{Pages: 5000, Latency: 50 * time.Millisecond})
	srv := httptest.NewServer(site)
	defer srv.Close()
	lines, stderr, stopped := interruptAfter(t, bin, 20, "crawl", srv.URL+"/", "-c", "8", "--per-host", "8", "--max-depth", "-1")
	checkInterrupted(t, lines, stderr, stopped)
	if !strings.Contains(stderr, "crawl: ") {
		t.Errorf("no crawl summary after SIGINT:\n%s", stderr)
	}
	if len(lines) >= 5000 {
		t.Errorf("%d records: the crawl did not stop", len(lines))
	}
}

// startWithBlockedOutput starts the binary on a list of 3,000 pages with
// its standard output a pipe nobody reads, and returns once the pipe is
// full and writes block; done receives the process's end.
func startWithBlockedOutput(t *testing.T) (cmd *exec.Cmd, done <-chan error, stderr *strings.Builder) {
	t.Helper()
	bin := buildBinary(t)
	_, base := startSite(t)
	var list strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&list, "%s/page/%d\n", base, i)
	}
	cmd = exec.CommandContext(t.Context(), bin, writeFile(t, "urls.txt", list.String()), "-c", "16", "-q")
	stdout, err := cmd.StdoutPipe() // never read: the pipe fills and writes block
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdout.Close() })
	stderr = &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	time.Sleep(500 * time.Millisecond) // let it fill the pipe
	return cmd, ended, stderr
}

// TestSecondSIGINTExitsAtOnce: when the first signal cannot finish the run
// (here, standard output is a pipe nobody reads, so writing blocks), a
// second one ends the process anyway.
func TestSecondSIGINTExitsAtOnce(t *testing.T) {
	cmd, done, _ := startWithBlockedOutput(t)
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		t.Fatalf("exited after the first SIGINT (%v) although its output was blocked", err)
	case <-time.After(300 * time.Millisecond):
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitInterrupted {
			t.Errorf("second SIGINT: exit %v, want %d", err, exitInterrupted)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("still running 5s after the second SIGINT")
	}
}

// TestBlockedOutputEndsAfterTheGrace: a run whose output nobody reads
// cannot finish writing, so one signal alone (a service manager's SIGTERM)
// left it running until SIGKILL; it now exits a few seconds after the
// signal, saying why, with the signal's code.
func TestBlockedOutputEndsAfterTheGrace(t *testing.T) {
	cmd, done, errBuf := startWithBlockedOutput(t)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	at := time.Now()
	select {
	case err := <-done:
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 143 {
			t.Errorf("exit %v, want 143 (SIGTERM's)", err)
		}
		if waited := time.Since(at); waited < 4*time.Second {
			t.Errorf("exited %s after the signal: the grace is 5s", waited)
		}
		if !strings.Contains(errBuf.String(), "is its output being read?") {
			t.Errorf("stderr %q does not say why it exits", errBuf.String())
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("still running 15s after SIGTERM, its output blocked")
	}
}

// TestSIGINTStopsARunReadingAnIdleStandardInput: `sleep 100 | fetchall -`
// must stop at the first SIGINT, though no line ever arrives.
func TestSIGINTStopsARunReadingAnIdleStandardInput(t *testing.T) {
	bin := buildBinary(t)
	for _, args := range [][]string{{"-", "-q"}, {"bench", "-"}} {
		sigintOnIdleStdin(t, bin, args...)
	}
}

// sigintOnIdleStdin runs the binary with args and a standard input never
// written, sends SIGINT, and wants it to exit at once as interrupted
// (bench, which reads its whole list first, held on until a second).
func sigintOnIdleStdin(t *testing.T, bin string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	stdin, err := cmd.StdinPipe() // never written: reads block
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(300 * time.Millisecond) // let it block on the read
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitInterrupted {
			t.Errorf("%v: SIGINT on an idle standard input: exit %v, want %d", args, err, exitInterrupted)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("%v: still running 5s after SIGINT: the read of standard input held it", args)
	}
}
