package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fetchall/fetchall/internal/redistest"
	"github.com/fetchall/fetchall/internal/testsite"
)

// politeServer wraps a handler and records, per host, the most requests
// it saw in flight at once and the start of every request.
type politeServer struct {
	h        http.Handler
	mu       sync.Mutex
	inFlight int
	most     int
	starts   []time.Time
}

func (p *politeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.inFlight++
	p.most = max(p.most, p.inFlight)
	if r.URL.Path != "/robots.txt" {
		p.starts = append(p.starts, time.Now())
	}
	p.mu.Unlock()
	p.h.ServeHTTP(w, r)
	p.mu.Lock()
	p.inFlight--
	p.mu.Unlock()
}

// waitAll waits for each process to exit by itself, with status 0,
// killing it and failing the test if it has not within limit.
func waitAll(t *testing.T, procs []*exec.Cmd, limit time.Duration) {
	t.Helper()
	for i, cmd := range procs {
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("process %d: %v", i, err)
			}
		case <-time.After(limit):
			_ = cmd.Process.Kill()
			t.Fatalf("process %d did not stop by itself within %s", i, limit)
		}
	}
}

// readRecords reads the records of a JSONL file that a kill may have cut:
// a last line without its newline is not a record.
func readRecords(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			if !strings.HasSuffix(string(b), sc.Text()) {
				t.Fatalf("%s: a damaged line in the middle: %q", path, sc.Text())
			}
			continue
		}
		out = append(out, rec)
	}
	return out
}

// Issue 13: three processes crawl one site through Redis, one killed with
// -9 and started again; together they record the single-process crawl's
// pages exactly once, fetch only the killed one's in-flight pages twice,
// keep --per-host across all of them, and all exit by themselves.
func TestThreeProcessesShareOneCrawl(t *testing.T) {
	bin := buildBinary(t)
	rs := redistest.Start(t)
	site := &politeServer{h: testsite.NewWith(testsite.Options{Pages: 300, Latency: 20 * time.Millisecond})}
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()
	want := map[string]float64{}
	for _, r := range cleanCrawl(t, bin, srv.URL+"/", dir) {
		want[r["url"].(string)] = r["depth"].(float64)
	}
	// The clean crawl's visits are not the shared crawl's.
	site.mu.Lock()
	site.most, site.starts = 0, nil
	site.mu.Unlock()
	args := func(out string) []string {
		return []string{"crawl", srv.URL + "/", "--max-depth", "-1", "-c", "4", "--per-host", "3", "-q",
			"--frontier", rs.URL(), "--crawl-id", "three", "--lease-ttl", "2s", "-o", out}
	}
	var procs []*exec.Cmd
	var outs []string
	for i := range 3 {
		out := filepath.Join(dir, fmt.Sprintf("part-%d.jsonl", i))
		cmd := exec.CommandContext(t.Context(), bin, args(out)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs, outs = append(procs, cmd), append(outs, out)
	}
	time.Sleep(700 * time.Millisecond)
	if err := procs[0].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = procs[0].Wait()
	// The same command again: its output is cut back to what Redis last
	// committed, and the pages after that are fetched again.
	restarted := exec.CommandContext(t.Context(), bin, args(outs[0])...)
	if err := restarted.Start(); err != nil {
		t.Fatal(err)
	}
	procs[0] = restarted
	waitAll(t, procs, 60*time.Second)

	got := map[string]float64{}
	for _, out := range outs {
		for _, r := range readJSONL(t, out) {
			u := r["url"].(string)
			if _, dup := got[u]; dup {
				t.Errorf("%s recorded twice", u)
			}
			got[u] = r["depth"].(float64)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d pages recorded by the processes, want the single process's %d", len(got), len(want))
	}
	for u, d := range want {
		if g, ok := got[u]; !ok || g != d {
			t.Errorf("%s: depth %v (recorded %v), want %v", u, g, ok, d)
			break
		}
	}
	site.mu.Lock()
	most, fetched := site.most, len(site.starts)
	site.mu.Unlock()
	if most > 3 {
		t.Errorf("the server saw %d requests at once, want at most --per-host 3 across all processes", most)
	}
	// The killed process had at most -c 4 pages in flight, and each may
	// also have been done and not yet recorded.
	if extra := fetched - len(want); extra > 8 {
		t.Errorf("%d fetches for %d pages: %d more than the killed process could have had in flight", fetched, len(want), extra)
	}
	res := runCLI(t, "", "crawl", "--frontier", rs.URL(), "--crawl-id", "three", "--status")
	if res.code != 0 || !strings.Contains(res.stdout, "finished") {
		t.Errorf("--status: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// Issue 13: a Redis that cannot be reached is one line and exit 2; one
// lost mid-crawl stops the process cleanly with what it recorded kept, and
// once Redis is back the same command finishes the crawl.
func TestRedisUnreachableAndLost(t *testing.T) {
	bin := buildBinary(t)
	res := runCLI(t, "", "crawl", "http://127.0.0.1:1/", "--frontier", "redis://127.0.0.1:1/0", "--crawl-id", "x", "-q")
	if res.code != 2 || !strings.Contains(res.stderr, "redis unreachable") || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Errorf("unreachable Redis: exit %d, stderr %q; want exit 2 in one line", res.code, res.stderr)
	}
	for _, bad := range [][]string{
		{"--frontier", "redis://127.0.0.1:1/0"},
		{"--crawl-id", "x"},
		{"--frontier", "redis://127.0.0.1:1/0", "--crawl-id", "x", "--state", "st", "-o", "out.jsonl"},
	} {
		res := runCLI(t, "", append([]string{"crawl", "http://127.0.0.1:1/", "-q"}, bad...)...)
		if res.code != 2 {
			t.Errorf("%v: exit %d, want 2; %s", bad, res.code, res.stderr)
		}
	}

	rs := redistest.Start(t)
	site := testsite.NewWith(testsite.Options{Pages: 300, Latency: 20 * time.Millisecond})
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"crawl", srv.URL + "/", "--max-depth", "-1", "-c", "4", "--per-host", "4", "-q",
			"--frontier", rs.URL(), "--crawl-id", "lost", "--lease-ttl", "2s", "-o", out}
	}
	first := filepath.Join(dir, "first.jsonl")
	cmd := exec.CommandContext(t.Context(), bin, args(first)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	rs.Stop()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("Redis lost: %v, want exit 1; stderr %q", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the process did not stop after Redis was lost")
	}
	kept := readRecords(t, first)
	if len(kept) == 0 {
		t.Fatal("nothing recorded before Redis was lost: the test proves nothing")
	}
	rs.Restart()
	// A second process joins with its own output; the first is run again
	// as it was, its output cut back to what Redis last committed.
	second := filepath.Join(dir, "second.jsonl")
	joined := exec.CommandContext(t.Context(), bin, args(second)...)
	if err := joined.Start(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(t.Context(), bin, args(first)...).CombinedOutput(); err != nil {
		t.Fatalf("the same command with Redis back: %v\n%s", err, out)
	}
	if err := joined.Wait(); err != nil {
		t.Fatalf("the second process: %v", err)
	}
	seen := map[string]int{}
	for _, out := range []string{first, second} {
		for _, r := range readJSONL(t, out) {
			seen[r["url"].(string)]++
		}
	}
	want := cleanCrawl(t, bin, srv.URL+"/", dir)
	if len(seen) != len(want) {
		t.Errorf("%d pages after the restart, want %d", len(seen), len(want))
	}
	for u, n := range seen {
		if n > 1 {
			t.Errorf("%s recorded %d times", u, n)
		}
	}
}

// A shared crawl stopped by --max-pages says so in --status, rather than
// "in progress", though pages are still queued.
func TestSharedStatusAfterMaxPages(t *testing.T) {
	rs := redistest.Start(t)
	srv := httptest.NewServer(testsite.New())
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "out.jsonl")
	res := runCLI(t, "", "crawl", srv.URL+"/", "--max-pages", "5", "-q", "--frontier", rs.URL(), "--crawl-id", "capped", "-o", out)
	if res.code != 0 {
		t.Fatalf("crawl: exit %d: %s", res.code, res.stderr)
	}
	if n := len(readJSONL(t, out)); n != 5 {
		t.Errorf("%d records, want --max-pages 5", n)
	}
	res = runCLI(t, "", "crawl", "--frontier", rs.URL(), "--crawl-id", "capped", "--status")
	if res.code != 0 || !strings.Contains(res.stdout, "stopped at --max-pages 5") {
		t.Errorf("--status: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// --status and --reset at once: refused (--status ran alone).
	res = runCLI(t, "", "crawl", "--frontier", rs.URL(), "--crawl-id", "capped", "--status", "--reset")
	if res.code != exitUsage || !strings.Contains(res.stderr, "give --status or --reset, not both") {
		t.Errorf("--status --reset: exit %d, stderr %q", res.code, res.stderr)
	}
	// A crawl that is not there is said so, without empty lines of counts.
	res = runCLI(t, "", "crawl", "--frontier", rs.URL(), "--crawl-id", "never", "--status")
	if res.code != 0 || res.stdout != "crawl:    never, no such crawl\n" {
		t.Errorf("--status of no crawl: exit %d, stdout %q", res.code, res.stdout)
	}
}

// A shared crawl's summary says which counts are this process's, and ends
// with where the whole crawl stands (a process that wrote 497 of 2,182
// pages said "373 URLs seen", which read as the crawl's total).
func TestSharedSummarySaysWhoseCountsTheyAre(t *testing.T) {
	rs := redistest.Start(t)
	site := testsite.New()
	srv := httptest.NewServer(site)
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "out.jsonl")
	res := runCLI(t, "", "crawl", srv.URL+"/", "--max-depth", "1", "--no-progress", "--frontier", rs.URL(), "--crawl-id", "sum", "-o", out)
	if res.code != 0 {
		t.Fatalf("crawl: exit %d: %s", res.code, res.stderr)
	}
	n := len(readJSONL(t, out))
	var found, done int
	i := strings.Index(res.stderr, `shared crawl "sum", all processes: `)
	if i < 0 || !strings.Contains(res.stderr, "crawl (this process): ") {
		t.Fatalf("summary:\n%s\nwant the per-process label and the shared crawl's line", res.stderr)
	}
	line := res.stderr[i:]
	if _, err := fmt.Sscanf(line, "shared crawl \"sum\", all processes: %d URLs found, %d done, 0 queued, 0 leased", &found, &done); err != nil ||
		found != done || done < n || !strings.Contains(line, "; finished") {
		t.Errorf("shared line %q (%v), want every one of the %d pages found and done, and finished", line, err, n)
	}
}

// A page one process fetched by a long path (/ /a /b /x) and another
// process then met by a shorter one (/ /s /x, /s slow) is recorded at the
// shorter depth, and so are its links: the shorter path used to reach
// only the process that found it, and the records said depth 3 and 4
// where one process says 2 and 3. Each round runs two processes; the one
// that gets /s is busy with it while the other walks the long path.
func TestSharedDepthIsExactWhenAnotherProcessFindsTheShorterPath(t *testing.T) {
	bin := buildBinary(t)
	rs := redistest.Start(t)
	links := map[string][]string{"/": {"/s", "/a"}, "/s": {"/x"}, "/a": {"/b"}, "/b": {"/x"}, "/x": {"/y"}, "/y": nil}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, ok := links[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == "/s" {
			time.Sleep(500 * time.Millisecond)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<title>%s</title>", r.URL.Path)
		for _, l := range out {
			fmt.Fprintf(w, `<a href="%s">%s</a>`, l, l)
		}
	}))
	defer srv.Close()
	want := map[string]float64{"/": 0, "/s": 1, "/a": 1, "/b": 2, "/x": 2, "/y": 3}
	dir := t.TempDir()
	for round := range 3 {
		id := fmt.Sprintf("relink-%d", round)
		var procs []*exec.Cmd
		var outs []string
		for i := range 2 {
			out := filepath.Join(dir, fmt.Sprintf("%s-%d.jsonl", id, i))
			cmd := exec.CommandContext(t.Context(), bin, "crawl", srv.URL+"/", "--max-depth", "-1", "-c", "1", "--per-host", "4", "-q",
				"--frontier", rs.URL(), "--crawl-id", id, "-o", out)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			procs, outs = append(procs, cmd), append(outs, out)
		}
		waitAll(t, procs, 30*time.Second)
		got := map[string]float64{}
		for _, out := range outs {
			for _, r := range readJSONL(t, out) {
				got[strings.TrimPrefix(r["url"].(string), srv.URL)] = r["depth"].(float64)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("round %d: depths %v, want %v", round, got, want)
		}
	}
}
