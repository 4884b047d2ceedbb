package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds fetchall once per test that needs the real process.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "fetchall")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

func TestSIGINTFlushesRecordsAndExits130(t *testing.T) {
	bin := buildBinary(t)
	_, base := startSite(t)
	var list strings.Builder
	for i := range 5 {
		fmt.Fprintf(&list, "%s/page/%d\n", base, i)
	}
	for range 200 {
		list.WriteString(base + "/hang\n")
	}
	listFile := writeFile(t, "urls.txt", list.String())

	cmd := exec.CommandContext(t.Context(), bin, listFile, "-c", "8")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var lines []string
	// Interrupt once the fast pages are out and the rest hang.
	for len(lines) < 5 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 5 {
		t.Fatalf("got %d records before the interrupt, want 5", len(lines))
	}
	interruptedAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitInterrupted {
		t.Fatalf("exit = %v, want code %d; stderr:\n%s", err, exitInterrupted, stderr.String())
	}
	if took := time.Since(interruptedAt); took > 5*time.Second {
		t.Errorf("took %s to stop after SIGINT, want well under the 30s timeout", took)
	}
	canceled := 0
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
	if canceled == 0 || len(lines) > 5+8 {
		t.Errorf("%d records, %d canceled; want the 5 pages plus the in-flight requests marked canceled", len(lines), canceled)
	}
	if !strings.Contains(stderr.String(), "fetched ") || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr lacks the summary or the interrupted note:\n%s", stderr.String())
	}
}
