package cli

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fetchall/fetchall/crawler/state"
	"github.com/fetchall/fetchall/internal/testsite"
)

// readJSONL reads a JSONL file whole, failing on a half line.
func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: a line that is not a record: %q", path, sc.Text())
		}
		out = append(out, rec)
	}
	return out
}

// recordsByLine reads a list's JSONL records: how many, and how many for
// each line.
func recordsByLine(t *testing.T, path string) (records int, byLine map[int]int) {
	t.Helper()
	recs := readJSONL(t, path)
	byLine = map[int]int{}
	for _, r := range recs {
		byLine[int(r["line"].(float64))]++
	}
	return len(recs), byLine
}

// killAndResume runs the binary with args, kills it with SIGKILL after a
// random moment, again and again, then lets a last run finish. It returns
// how many kills there were.
func killAndResume(t *testing.T, bin string, rng *rand.Rand, args ...string) int {
	t.Helper()
	return stopAndResume(t, bin, rng, os.Kill, args...)
}

// stopAndResume is killAndResume with the signal sig.
func stopAndResume(t *testing.T, bin string, rng *rand.Rand, sig os.Signal, args ...string) int {
	t.Helper()
	kills := 0
	for range 4 {
		cmd := exec.CommandContext(t.Context(), bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done: // finished before the kill
			return kills
		case <-time.After(time.Duration(150+rng.IntN(400)) * time.Millisecond):
		}
		_ = cmd.Process.Signal(sig)
		<-done
		kills++
	}
	out, err := exec.CommandContext(t.Context(), bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("the last resume: %v\n%s", err, out)
	}
	return kills
}

// cleanCrawl crawls seed whole, without a state, and returns its records.
func cleanCrawl(t *testing.T, bin, seed, dir string) []map[string]any {
	t.Helper()
	clean := filepath.Join(dir, "clean.jsonl")
	if out, err := exec.Command(bin, "crawl", seed, "--max-depth", "-1", "-c", "8", "--per-host", "8", "-q", "-o", clean).CombinedOutput(); err != nil {
		t.Fatalf("clean crawl: %v\n%s", err, out)
	}
	return readJSONL(t, clean)
}

// Issue 12: a list killed with -9 at random moments and run again until
// done holds exactly one record per line, and only what was in flight at
// a kill was fetched twice.
func TestKilledListResumesExactlyOnce(t *testing.T) {
	bin := buildBinary(t)
	for seed := range uint64(3) {
		site := testsite.New()
		srv := httptest.NewServer(site)
		var list strings.Builder
		for i := range 200 {
			fmt.Fprintf(&list, "%s/page/%d?latency=40ms\n", srv.URL, i)
		}
		dir := t.TempDir()
		listFile := filepath.Join(dir, "urls.txt")
		if err := os.WriteFile(listFile, []byte(list.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out.jsonl")
		kills := killAndResume(t, bin, rand.New(rand.NewPCG(seed, 1)), listFile, "-c", "8", "-q", "--state", filepath.Join(dir, "state"), "-o", out)
		if kills == 0 {
			t.Errorf("seed %d: the run ended before any kill: the test proves nothing", seed)
		}
		recs, lines := recordsByLine(t, out)
		if recs != 200 || len(lines) != 200 {
			t.Errorf("seed %d, %d kills: %d records for %d distinct lines, want 200 and 200", seed, kills, recs, len(lines))
		}
		for uri, n := range site.URICounts() {
			if n > 1+kills {
				t.Errorf("seed %d: %s fetched %d times with %d kills", seed, uri, n, kills)
			}
		}
		srv.Close()
	}
}

// A crawl killed with -9 at random moments and resumed until done holds
// exactly the clean crawl's pages, each once, at the same depths.
func TestKilledCrawlResumesExactlyOnce(t *testing.T) {
	bin := buildBinary(t)
	site := testsite.NewWith(testsite.Options{Pages: 300, Latency: 30 * time.Millisecond})
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()
	want := map[string]float64{}
	for _, r := range cleanCrawl(t, bin, srv.URL+"/", dir) {
		want[r["url"].(string)] = r["depth"].(float64)
	}
	for seed := range uint64(3) {
		out := filepath.Join(dir, fmt.Sprintf("out%d.jsonl", seed))
		state := filepath.Join(dir, fmt.Sprintf("state%d", seed))
		kills := killAndResume(t, bin, rand.New(rand.NewPCG(seed, 2)), "crawl", srv.URL+"/", "--max-depth", "-1", "-c", "8", "--per-host", "8", "-q", "--state", state, "-o", out)
		if kills == 0 {
			t.Errorf("seed %d: the crawl ended before any kill: the test proves nothing", seed)
		}
		got := map[string]float64{}
		for _, r := range readJSONL(t, out) {
			u := r["url"].(string)
			if _, dup := got[u]; dup {
				t.Errorf("seed %d: %s has two records", seed, u)
			}
			got[u] = r["depth"].(float64)
		}
		if len(got) != len(want) {
			t.Errorf("seed %d, %d kills: %d pages, want the clean crawl's %d", seed, kills, len(got), len(want))
		}
		for u, d := range want {
			if g, ok := got[u]; !ok || g != d {
				t.Errorf("seed %d: %s at depth %v (recorded %v), want %v", seed, u, g, ok, d)
				break
			}
		}
	}
}

// A state belongs to one command: another list is refused, a finished
// run does nothing, and --state needs a file to append to.
func TestStateIsForOneRun(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	a := writeFile(t, "a.txt", base+"/page/1\n")
	b := writeFile(t, "b.txt", base+"/page/2\n")
	out := filepath.Join(dir, "out.jsonl")
	state := filepath.Join(dir, "state")
	if res := runCLI(t, "", a, "--state", state, "-o", out, "-q"); res.code != 0 {
		t.Fatalf("first run: exit %d, %s", res.code, res.stderr)
	}
	res := runCLI(t, "", a, "--state", state, "-o", out)
	if res.code != 0 || !strings.Contains(res.stderr, "finished; nothing to do") {
		t.Errorf("finished run again: exit %d, stderr %q", res.code, res.stderr)
	}
	// -q asks for silence unless something fails: the notice said it anyway.
	if res := runCLI(t, "", a, "--state", state, "-o", out, "-q"); res.code != 0 || res.stderr != "" {
		t.Errorf("finished run again with -q: exit %d, stderr %q; want silence", res.code, res.stderr)
	}
	// Its output deleted since: not "nothing to do" (exit 0 with no records).
	kept, _ := os.ReadFile(out)
	os.Remove(out)
	res = runCLI(t, "", a, "--state", state, "-o", out)
	if res.code != 2 || !strings.Contains(res.stderr, "no longer there") || !strings.Contains(res.stderr, "--state-reset") {
		t.Errorf("finished run whose output is gone: exit %d, stderr %q", res.code, res.stderr)
	}
	if res := runCLI(t, "", "state", state); !strings.Contains(res.stdout, out+", ") || !strings.Contains(res.stdout, "(no longer there)") {
		t.Errorf("fetchall state with the output gone:\n%s", res.stdout)
	}
	// Or cut short since.
	if err := os.WriteFile(out, kept[:len(kept)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, "", a, "--state", state, "-o", out)
	if res.code != 2 || !strings.Contains(res.stderr, "shorter than it wrote") {
		t.Errorf("finished run whose output is cut short: exit %d, stderr %q", res.code, res.stderr)
	}
	if err := os.WriteFile(out, kept, 0o644); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, "", b, "--state", state, "-o", out)
	if res.code != 2 || !strings.Contains(res.stderr, "made by") || !strings.Contains(res.stderr, "--state-reset") {
		t.Errorf("another list on the state: exit %d, stderr %q", res.code, res.stderr)
	}
	if res := runCLI(t, "", b, "--state", state, "--state-reset", "-o", out, "-q"); res.code != 0 || len(readJSONL(t, out)) != 1 {
		t.Errorf("--state-reset: exit %d, stderr %q", res.code, res.stderr)
	}
	if res := runCLI(t, "", a, "--state", filepath.Join(dir, "s2"), "-q"); res.code != 2 || !strings.Contains(res.stderr, "needs -o FILE") {
		t.Errorf("--state without -o: exit %d, stderr %q", res.code, res.stderr)
	}
	// A state folder that cannot be made is said at once, before any fetch.
	if res := runCLI(t, "", a, "--state", filepath.Join(a, "under-a-file"), "-o", out, "-q"); res.code != 2 || !strings.Contains(res.stderr, "state folder") {
		t.Errorf("unusable state folder: exit %d, stderr %q", res.code, res.stderr)
	}
}

// A scraping job killed with -9 and resumed until done writes the clean
// run's items exactly, unique_by holding across the runs.
func TestKilledJobResumesExactlyOnce(t *testing.T) {
	bin := buildBinary(t)
	site := testsite.NewWith(testsite.Options{Latency: 60 * time.Millisecond})
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()
	job, err := filepath.Abs("../../testdata/jobs/catalogue.yaml")
	if err != nil {
		t.Fatal(err)
	}
	start := "start=" + srv.URL + "/shop/catalogue/page-1.html"
	clean := filepath.Join(dir, "clean.jsonl")
	if out, err := exec.Command(bin, "run", job, "--set", start, "--set", "concurrency=1", "-q", "-o", clean).CombinedOutput(); err != nil {
		t.Fatalf("clean run: %v\n%s", err, out)
	}
	want := map[string]bool{}
	for _, it := range readJSONL(t, clean) {
		want[it["url"].(string)+fmt.Sprint(it["title"])] = true
	}
	out := filepath.Join(dir, "items.jsonl")
	kills := killAndResume(t, bin, rand.New(rand.NewPCG(7, 3)), "run", job, "--set", start, "--set", "concurrency=1", "-q", "-o", out, "--state", filepath.Join(dir, "state"))
	if kills == 0 {
		t.Error("the job ended before any kill: the test proves nothing")
	}
	got := readJSONL(t, out)
	seen := map[string]bool{}
	for _, it := range got {
		k := it["url"].(string) + fmt.Sprint(it["title"])
		if seen[k] {
			t.Errorf("item %s written twice", k)
		}
		seen[k] = true
	}
	if len(got) != len(want) {
		t.Errorf("%d kills: %d items, want the clean run's %d", kills, len(got), len(want))
	}
}

// fetchall state DIR says where a run stands.
func TestStateCommandReports(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	list := writeFile(t, "urls.txt", base+"/page/1\n"+base+"/status/404\n"+base+"/page/2\n")
	out := filepath.Join(dir, "out.jsonl")
	if res := runCLI(t, "", list, "--state", filepath.Join(dir, "st"), "-o", out, "-q"); res.code != 1 {
		t.Fatalf("run: exit %d, %s", res.code, res.stderr)
	}
	res := runCLI(t, "", "state", filepath.Join(dir, "st"))
	for _, want := range []string{"made by:  fetchall fetch " + list, "status:   finished", "done:     3 records in the output (ok 2, http_status 404 1)", "hosts:    1"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("state report lacks %q:\n%s", want, res.stdout)
		}
	}
	if res := runCLI(t, "", "state", filepath.Join(dir, "none")); res.code != 2 {
		t.Errorf("state of no state: exit %d", res.code)
	}
}

// A resumed list is checked line by line against the records the state
// holds: a line deleted or edited since (which moves the URLs under the
// line numbers) stops the run, where the records were matched to other
// lines silently; the list as it was, or with lines added at its end,
// resumes.
func TestResumeRefusesAnEditedList(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	state, out := filepath.Join(dir, "st"), filepath.Join(dir, "out.jsonl")
	lines := []string{base + "/page/1", base + "/status/404", base + "/page/3", base + "/page/4"}
	list := filepath.Join(dir, "urls.txt")
	write := func(lines ...string) {
		if err := os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(lines...)
	// --fail-fast stops the run at line 2, with lines 1 and 2 recorded
	// (and line 3 too, when the one worker had taken it before the stop).
	res := runCLI(t, "", list, "-c", "1", "--fail-fast", "--state", state, "-o", out, "-q")
	first := len(readJSONL(t, out))
	if res.code != 1 || first < 2 || first > 3 {
		t.Fatalf("first run: exit %d, %d records; %s", res.code, first, res.stderr)
	}
	write(lines[1:]...) // line 1 deleted: every URL moves up a line
	res = runCLI(t, "", list, "-c", "1", "--state", state, "-o", out, "-q")
	if res.code != 1 || !strings.Contains(res.stderr, "the list has changed since the state was made: line 1 is now "+base+"/status/404") {
		t.Errorf("resume on an edited list: exit %d, stderr %q", res.code, res.stderr)
	}
	if got := len(readJSONL(t, out)); got != first {
		t.Errorf("the refused resume left %d records, want the first run's %d", got, first)
	}
	write(append(lines, base+"/page/5")...) // as it was, and a line more
	if res := runCLI(t, "", list, "-c", "1", "--state", state, "-o", out, "-q"); res.code != 1 {
		t.Fatalf("resume on the list as it was: exit %d, %s", res.code, res.stderr)
	}
	if recs, lines := recordsByLine(t, out); recs != 5 || len(lines) != 5 {
		t.Errorf("after the resume: %d records for %d lines, want one for each of 5", recs, len(lines))
	}
}

// A finished run given its list with lines appended fetches those lines,
// and only those; given the list as it was, it does nothing; given an
// edited list, it refuses as a resume does.
func TestFinishedRunFetchesAppendedLines(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	state, out := filepath.Join(dir, "st"), filepath.Join(dir, "out.jsonl")
	list := filepath.Join(dir, "urls.txt")
	write := func(lines ...string) {
		if err := os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lines := []string{base + "/page/1", base + "/page/2"}
	write(lines...)
	if res := runCLI(t, "", list, "--state", state, "-o", out, "-q"); res.code != 0 {
		t.Fatalf("first run: exit %d, %s", res.code, res.stderr)
	}
	lines = append(lines, "# a comment", "", base+"/page/3", "not a url")
	write(lines...)
	res := runCLI(t, "", list, "--state", state, "-o", out)
	if res.code != 1 || !strings.Contains(res.stderr, "was finished; its list has lines it has not fetched") {
		t.Errorf("finished run, lines appended: exit %d (want 1, for the bad line), stderr %q", res.code, res.stderr)
	}
	if recs, byLine := recordsByLine(t, out); recs != 4 || len(byLine) != 4 || byLine[5] != 1 || byLine[6] != 1 {
		t.Errorf("after the appended lines: %d records by line %v, want one for each of lines 1, 2, 5 and 6", recs, byLine)
	}
	res = runCLI(t, "", list, "--state", state, "-o", out)
	if res.code != 0 || !strings.Contains(res.stderr, "finished; nothing to do") {
		t.Errorf("finished again, nothing appended: exit %d, stderr %q", res.code, res.stderr)
	}
	write(append([]string{base + "/page/9"}, lines[1:]...)...)
	res = runCLI(t, "", list, "--state", state, "-o", out)
	if res.code != 1 || !strings.Contains(res.stderr, "line 1 is now "+base+"/page/9") {
		t.Errorf("finished run, line 1 edited: exit %d, stderr %q", res.code, res.stderr)
	}
	if got := len(readJSONL(t, out)); got != 4 {
		t.Errorf("the refused run left %d records, want 4", got)
	}
}

// A finished crawl whose --seeds file has seeds appended crawls them, as a
// finished list run fetches its appended lines: it said "nothing to do",
// though a crawl stopped before its end took the same seeds. Seeds it met
// already, spelled otherwise or not, are not crawled again.
func TestFinishedCrawlCrawlsAppendedSeeds(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	state, out := filepath.Join(dir, "st"), filepath.Join(dir, "out.jsonl")
	seeds := filepath.Join(dir, "seeds.txt")
	write := func(lines ...string) {
		if err := os.WriteFile(seeds, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"crawl", "--seeds", seeds, "--max-depth", "0", "--state", state, "-o", out}
	write(base + "/site/1")
	if res := runCLI(t, "", append(args, "-q")...); res.code != 0 {
		t.Fatalf("first crawl: exit %d, %s", res.code, res.stderr)
	}
	write(base+"/site/1", strings.ToUpper(base[:4])+base[4:]+"/site/1#top", base+"/site/2")
	res := runCLI(t, "", args...)
	if res.code != 0 || !strings.Contains(res.stderr, "was finished; its --seeds file names seeds it has not met, which it crawls now") {
		t.Errorf("finished crawl, a seed appended: exit %d, stderr %q", res.code, res.stderr)
	}
	urls := map[string]int{}
	for _, r := range readJSONL(t, out) {
		urls[r["url"].(string)]++
	}
	if len(urls) != 2 || urls[base+"/site/1"] != 1 || urls[base+"/site/2"] != 1 {
		t.Errorf("records by URL %v: want /site/1 and /site/2 once each", urls)
	}
	res = runCLI(t, "", args...)
	if res.code != 0 || !strings.Contains(res.stderr, "finished; nothing to do") {
		t.Errorf("finished again, no seed appended: exit %d, stderr %q", res.code, res.stderr)
	}
}

// A run resumed from another folder, its list, state and output named
// relative to there, goes on with the same output: the state named the
// output as given, so "out.jsonl" from another folder was a new output,
// created empty, and the first run's records were lost (exit 0). A resume
// given another -o is refused, the output untouched.
func TestResumeFromAnotherFolderKeepsTheOutput(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	lines := []string{base + "/page/1", base + "/status/404", base + "/page/3", base + "/page/4"}
	if err := os.WriteFile(filepath.Join(dir, "urls.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	// --fail-fast stops the run at line 2, with lines 1 and 2 recorded.
	if res := runCLI(t, "", "urls.txt", "-c", "1", "--fail-fast", "--state", "st", "-o", "out.jsonl", "-q"); res.code != 1 {
		t.Fatalf("first run: exit %d, %s", res.code, res.stderr)
	}
	first, _ := os.ReadFile(filepath.Join(dir, "out.jsonl"))
	t.Chdir(sub)
	res := runCLI(t, "", "../urls.txt", "-c", "1", "--state", "../st", "-o", "../other.jsonl", "-q")
	if res.code != 2 || !strings.Contains(res.stderr, "holds records written to "+filepath.Join(dir, "out.jsonl")+", which this run does not write") {
		t.Errorf("resume with another -o: exit %d, stderr %q", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.jsonl")); err == nil {
		t.Error("the refused resume made its -o")
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "out.jsonl")); string(now) != string(first) {
		t.Error("the refused resume changed the output")
	}
	if res := runCLI(t, "", "../urls.txt", "-c", "1", "--state", "../st", "-o", "../out.jsonl", "-q"); res.code != 1 {
		t.Fatalf("resume from another folder: exit %d (want 1, for the 404), %s", res.code, res.stderr)
	}
	if recs, lines := recordsByLine(t, filepath.Join(dir, "out.jsonl")); recs != 4 || len(lines) != 4 {
		t.Errorf("after the resume from another folder: %d records for %d lines, want one for each of 4", recs, len(lines))
	}
}

// The fields a record carries are part of the run: a CSV resumed with
// other --fields had rows of 29 columns under a header of 14 (exit 0).
func TestResumeWithOtherFieldsIsRefused(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	state, out := filepath.Join(dir, "st"), filepath.Join(dir, "out.csv")
	list := writeFile(t, "urls.txt", strings.Join([]string{base + "/page/1", base + "/status/404", base + "/page/3"}, "\n")+"\n")
	if res := runCLI(t, "", list, "-c", "1", "--fail-fast", "--state", state, "-o", out, "-q"); res.code != 1 {
		t.Fatalf("first run: exit %d, %s", res.code, res.stderr)
	}
	first, _ := os.ReadFile(out)
	res := runCLI(t, "", list, "-c", "1", "--state", state, "-o", out, "-q", "--fields", "all")
	if res.code != 2 || !strings.Contains(res.stderr, "made by another command") {
		t.Errorf("resume with --fields all: exit %d, stderr %q", res.code, res.stderr)
	}
	if now, _ := os.ReadFile(out); string(now) != string(first) {
		t.Error("the refused resume changed the output")
	}
	if res := runCLI(t, "", list, "-c", "1", "--state", state, "-o", out, "-q"); res.code != 1 {
		t.Fatalf("resume as it was: exit %d, %s", res.code, res.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll() // every row as long as the header, or an error
	if err != nil || len(rows) != 4 {
		t.Errorf("the resumed CSV: %d rows (want a header and 3), %v", len(rows), err)
	}
}

// --max-pages counts every run of a state: a crawl killed and resumed
// fetched up to the limit in each run (1,168 pages for --max-pages 1000),
// and one stopped by the limit was "finished", so a larger limit could not
// go on with it. Now the pages in all are the limit, the same limit again
// does nothing, and a larger one goes on.
func TestMaxPagesCountsEveryRunOfAState(t *testing.T) {
	bin := buildBinary(t)
	_, base := startSiteWith(t, testsite.Options{Pages: 2000, Latency: 20 * time.Millisecond})
	dir := t.TempDir()
	out, state := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "st")
	args := func(max string) []string {
		return []string{"crawl", base + "/", "--max-depth", "-1", "-c", "8", "--per-host", "8", "--no-progress", "--max-pages", max, "--state", state, "-o", out}
	}
	distinct := func() (int, int) {
		recs := readJSONL(t, out)
		urls := map[string]bool{}
		for _, r := range recs {
			urls[r["url"].(string)] = true
		}
		return len(recs), len(urls)
	}
	kills := killAndResume(t, bin, rand.New(rand.NewPCG(7, 1)), args("300")...)
	if kills == 0 {
		t.Error("the crawl ended before any kill: the test proves nothing")
	}
	if recs, urls := distinct(); recs != 300 || urls != 300 {
		t.Errorf("--max-pages 300, %d kills: %d records of %d pages, want 300 of 300", kills, recs, urls)
	}
	res := runCLI(t, "", args("300")...)
	if recs, _ := distinct(); res.code != 0 || recs != 300 || !strings.Contains(res.stderr, "has fetched its --max-pages 300 pages; nothing to do") {
		t.Errorf("the same limit again: exit %d, %d records, stderr %q", res.code, recs, res.stderr)
	}
	if res := runCLI(t, "", append(args("300"), "-q")...); res.code != 0 || res.stderr != "" {
		t.Errorf("the same limit again with -q: exit %d, stderr %q; want silence", res.code, res.stderr)
	}
	if res := runCLI(t, "", args("450")...); res.code != 0 {
		t.Fatalf("a larger limit: exit %d, %s", res.code, res.stderr)
	}
	if recs, urls := distinct(); recs != 450 || urls != 450 {
		t.Errorf("--max-pages 450 after 300: %d records of %d pages, want 450 of 450", recs, urls)
	}
}

// The per-host cap counts the URLs a state's earlier runs found: each
// resume could take --max-pages-per-host more from every host (here, 10
// pages and then 30 more, from a cap of 30).
func TestPerHostCapCountsEveryRunOfAState(t *testing.T) {
	_, base := startSiteWith(t, testsite.Options{Pages: 2000})
	dir := t.TempDir()
	args := func(max string) []string {
		return []string{"crawl", base + "/", "--max-depth", "-1", "-c", "4", "--per-host", "4", "--no-progress", "--max-pages-per-host", "30",
			"--max-pages", max, "--state", filepath.Join(dir, "st"), "-o", filepath.Join(dir, "out.jsonl")}
	}
	if res := runCLI(t, "", args("10")...); res.code != 0 {
		t.Fatalf("first run: exit %d, %s", res.code, res.stderr)
	}
	res := runCLI(t, "", args("100")...)
	if res.code != 0 {
		t.Fatalf("resume: exit %d, %s", res.code, res.stderr)
	}
	// The URLs the resumed run saw are the new ones: "0 URLs seen" read
	// as if it had seen none.
	if !strings.Contains(res.stderr, " new URLs seen") {
		t.Errorf("the resumed run's summary does not say its URLs seen are new ones:\n%s", res.stderr)
	}
	if recs := readJSONL(t, filepath.Join(dir, "out.jsonl")); len(recs) > 30 {
		t.Errorf("%d pages from one host with --max-pages-per-host 30, over two runs of a state", len(recs))
	}
}

// A state keeps the URLs as given, passwords and all, for a resume fetches
// them: only its owner may read it, and nothing shows the password of the
// command that made it (fetchall state, another command on it).
func TestStateKeepsPasswordsToItself(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	state, out := filepath.Join(dir, "st"), filepath.Join(dir, "out.jsonl")
	withPassword := func(path string) string { return strings.Replace(base, "http://", "http://user:TOPSECRET@", 1) + path }
	if res := runCLI(t, "", withPassword("/page/1"), "--state", state, "-o", out, "-q"); res.code != 0 {
		t.Fatalf("run: exit %d, %s", res.code, res.stderr)
	}
	report := runCLI(t, "", "state", state)
	other := runCLI(t, "", withPassword("/page/2"), "--state", state, "-o", out)
	if other.code != 2 || !strings.Contains(other.stderr, "made by") {
		t.Fatalf("another command on the state: exit %d, %s", other.code, other.stderr)
	}
	for what, text := range map[string]string{"fetchall state": report.stdout, "another command": other.stderr} {
		if strings.Contains(text, "TOPSECRET") || !strings.Contains(text, "user:xxxxx@") {
			t.Errorf("%s shows the command's password, or no masked one:\n%s", what, text)
		}
	}
	if runtime.GOOS == "windows" {
		return // no Unix permission bits
	}
	err := filepath.WalkDir(state, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: others may read it", path, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// --retry-failed fetches again what failed worth a retry, replacing those
// records and nothing else.
func TestRetryFailedReplacesOnlyThoseRecords(t *testing.T) {
	site, base := startSite(t)
	dir := t.TempDir()
	list := writeFile(t, "urls.txt", base+"/page/1\n"+base+"/retry/x?fail=1&code=503\n"+base+"/status/404\n")
	out := filepath.Join(dir, "out.jsonl")
	st := filepath.Join(dir, "st")
	if res := runCLI(t, "", list, "--state", st, "-o", out, "--retries", "0", "-q"); res.code != 1 {
		t.Fatalf("first run: exit %d, %s", res.code, res.stderr)
	}
	res := runCLI(t, "", list, "--state", st, "-o", out, "--retries", "0", "--retry-failed")
	// The exit status is the whole run's: the 404 is still a failure.
	if res.code != 1 || !strings.Contains(res.stderr, "1 failed record was taken back") || !strings.Contains(res.stderr, "some URLs failed: 1 of the 3 records in the output is not ok") {
		t.Errorf("--retry-failed: exit %d, stderr %q", res.code, res.stderr)
	}
	recs := readJSONL(t, out)
	byLine := map[float64]map[string]any{}
	for _, r := range recs {
		byLine[r["line"].(float64)] = r
	}
	if len(recs) != 3 || len(byLine) != 3 || byLine[2]["ok"] != true || byLine[3]["status"] != float64(404) {
		t.Errorf("records after --retry-failed: %v; want 3, the 503 now ok, the 404 kept", recs)
	}
	counts := site.URICounts()
	if counts["/page/1"] != 1 || counts["/status/404"] != 1 || counts["/retry/x?fail=1&code=503"] != 2 {
		t.Errorf("server counts %v: want only the 503 fetched again", counts)
	}
}

// Ctrl-C during a crawl with --state: the pages cut short get no record
// (the resume fetches them), so the union is still the clean crawl's.
func TestInterruptedStateCrawlResumesExactlyOnce(t *testing.T) {
	bin := buildBinary(t)
	site := testsite.NewWith(testsite.Options{Pages: 200, Latency: 30 * time.Millisecond})
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()
	want := len(cleanCrawl(t, bin, srv.URL+"/", dir))
	out := filepath.Join(dir, "out.jsonl")
	stops := stopAndResume(t, bin, rand.New(rand.NewPCG(5, 5)), os.Interrupt, "crawl", srv.URL+"/", "--max-depth", "-1", "-c", "8", "--per-host", "8", "-q", "--state", filepath.Join(dir, "st"), "-o", out)
	if stops == 0 {
		t.Error("the crawl ended before any interrupt: the test proves nothing")
	}
	got := map[string]bool{}
	for _, r := range readJSONL(t, out) {
		if got[r["url"].(string)] || r["error"] != "" {
			t.Errorf("record %v: a second one, or not ok", r)
		}
		got[r["url"].(string)] = true
	}
	if len(got) != want {
		t.Errorf("%d pages after %d interrupts, want the clean crawl's %d", len(got), stops, want)
	}
}

// run --retry-failed: the failed page's record leaves the errors file and
// the page is scraped again.
func TestJobRetryFailed(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	items, errs := filepath.Join(dir, "items.jsonl"), filepath.Join(dir, "errors.jsonl")
	job := writeFile(t, "job.yaml", fmt.Sprintf(`start: ["%s/page/1", "%s/retry/j?fail=1&code=503"]
max_depth: 0
retries: 0
ignore_robots: true
items:
  - fields:
      title: {css: title}
output:
  path: %s
  errors: %s
`, base, base, items, errs))
	st := filepath.Join(dir, "st")
	if res := runCLI(t, "", "run", job, "--state", st, "-q"); res.code != 1 {
		t.Fatalf("first run: exit %d, %s", res.code, res.stderr)
	}
	if n := len(readJSONL(t, errs)); n != 1 {
		t.Fatalf("%d error records after the first run, want 1", n)
	}
	res := runCLI(t, "", "run", job, "--state", st, "--retry-failed")
	if res.code != 0 || len(readJSONL(t, errs)) != 0 || len(readJSONL(t, items)) != 2 {
		t.Errorf("--retry-failed: exit %d, %d error records, %d items; want 0, 0, 2\n%s", res.code, len(readJSONL(t, errs)), len(readJSONL(t, items)), res.stderr)
	}
}

// Issue 14: what follow rules pass is kept in the state with each queued
// page, so a job killed and resumed still gives every product its
// category, once.
func TestKilledJobKeepsItsContext(t *testing.T) {
	bin := buildBinary(t)
	site := testsite.NewWith(testsite.Options{Latency: 40 * time.Millisecond})
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()
	job := exampleJob(t, "structured", srv.URL)
	out := filepath.Join(dir, "items.jsonl")
	kills := killAndResume(t, bin, rand.New(rand.NewPCG(11, 4)), "run", job, "--set", "concurrency=2", "-q", "-o", out, "--state", filepath.Join(dir, "state"))
	if kills == 0 {
		t.Error("the job ended before any kill: the test proves nothing")
	}
	books := map[string]testsite.Book{}
	for _, b := range testsite.Books() {
		books[srv.URL+"/shop/catalogue/"+b.Slug+"/index.html"] = b
	}
	got := readJSONL(t, out)
	seen := map[string]bool{}
	for _, it := range got {
		u := it["url"].(string)
		if seen[u] {
			t.Errorf("%s written twice", u)
		}
		seen[u] = true
		if it["category"] != books[u].Category() {
			t.Errorf("%d kills: %s has category %v, want %q", kills, u, it["category"], books[u].Category())
		}
	}
	if len(got) != 20 {
		t.Errorf("%d kills: %d items, want 20", kills, len(got))
	}
}

// A job's state counts pages, whose items are in the output: "2 records
// in the output" read as two items.
func TestStateReportOfAJobCountsPages(t *testing.T) {
	var b strings.Builder
	writeStateReport(&b, &state.Report{Path: "st", Command: "run /jobs/shop.yaml 678f", Finished: true, Done: 2, DoneByKind: map[string]int{"ok": 2}})
	if !strings.Contains(b.String(), "done:     2 pages, their items in the output (ok 2)\n") || !strings.Contains(b.String(), "not done: 0 URLs found") {
		t.Errorf("report:\n%s", b.String())
	}
	b.Reset()
	writeStateReport(&b, &state.Report{Path: "st", Command: "fetch /l.txt -f jsonl", Done: 1, Queued: 1})
	if !strings.Contains(b.String(), "done:     1 record in the output") || !strings.Contains(b.String(), "not done: 1 URL found") {
		t.Errorf("report:\n%s", b.String())
	}
}
