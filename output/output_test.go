package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleResults() []*crawler.Result {
	return []*crawler.Result{
		{URL: "http://a.test/", Line: 1, OK: true, FinalURL: "http://a.test/", Status: 200, ContentType: "text/html",
			Bytes: 2048, Duration: 101500 * time.Microsecond, Attempts: 1, Title: "Home"},
		{URL: "http://a.test/missing", Line: 2, FinalURL: "http://a.test/missing", Status: 404, ContentType: "text/html",
			Bytes: 10, Duration: 2 * time.Millisecond, Attempts: 1,
			Err: &fetch.Error{Kind: fetch.KindHTTPStatus, Err: errors.New("status 404 Not Found")}},
		{URL: "=cmd|' /C calc'!A0", Line: 3, Err: &fetch.Error{Kind: fetch.KindBadURL, Err: errors.New("not an absolute http or https URL")}},
	}
}

func render(t *testing.T, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	sink, err := NewSink(format, &buf, false, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sampleResults() {
		if err := sink.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFormatsGolden(t *testing.T) {
	for _, format := range Formats {
		got := render(t, format)
		golden := filepath.Join("testdata", "records."+format)
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("read golden (run go test ./output -update to create): %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s output differs from %s:\ngot:\n%s\nwant:\n%s", format, golden, got, want)
		}
	}
}

func TestJSONLSchema(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(string(render(t, "jsonl"))), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3", len(lines))
	}
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		for _, key := range []string{"url", "line", "ok", "final_url", "status", "content_type", "bytes",
			"truncated", "duration_ms", "attempts", "title", "error", "error_message"} {
			if _, ok := m[key]; !ok {
				t.Errorf("record %q lacks field %q", line, key)
			}
		}
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(render(t, "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := Columns[:len(Columns)-len(CrawlColumns)]; strings.Join(rows[0], ",") != strings.Join(want, ",") {
		t.Errorf("header = %v, want %v (a list has no crawl columns)", rows[0], want)
	}
	if got := rows[3][0]; got != "'=cmd|' /C calc'!A0" {
		t.Errorf("formula cell = %q, want it prefixed with an apostrophe", got)
	}
	// A plain number runs nothing, and stays a number: an apostrophe made
	// a job's negative prices text. Anything more after its sign is
	// defused.
	for in, want := range map[string]string{"+1": "+1", "-12.5": "-12.5", "-.5": "-.5", "-1e-7": "-1e-7", "-x": "'-x", "-1+1": "'-1+1",
		"-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0", "-": "'-", "+.": "'+.", "-1e": "'-1e", "-1.2.3": "'-1.2.3", "@SUM(A1)": "'@SUM(A1)", "plain": "plain", "": ""} {
		if got := defuseFormula(in); got != want {
			t.Errorf("defuseFormula(%q) = %q, want %q", in, got, want)
		}
	}
}

// A record's text from a server cannot drive the terminal that shows the
// table or the CSV: its control characters become U+FFFD (the CSV keeps
// its line ends and tabs).
func TestTableAndCSVCellsAreInert(t *testing.T) {
	r := &crawler.Result{URL: "http://a.test/", Line: 1, OK: true, Status: 200, Title: "a\x1b]0;pwn\x07b\u009bc\td\ne"}
	for format, want := range map[string]string{"table": "a\uFFFD]0;pwn\uFFFDb\uFFFDc\uFFFDd\uFFFDe", "csv": "a\uFFFD]0;pwn\uFFFDb\uFFFDc\td\ne"} {
		var buf bytes.Buffer
		sink, err := NewSink(format, &buf, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Write(r); err != nil {
			t.Fatal(err)
		}
		if err := sink.Flush(); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.ContainsAny(out, "\x1b\x07\u009b") || !strings.Contains(out, want) {
			t.Errorf("%s: %q; want the title as %q, no control characters", format, out, want)
		}
	}
	if got := CSVCell("=1\x1b"); got != "'=1\uFFFD" {
		t.Errorf("CSVCell(\"=1\\x1b\") = %q, want %q", got, "'=1\uFFFD")
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := NewSink("xml", &bytes.Buffer{}, false, false); err == nil {
		t.Error("NewSink(xml) = nil error, want unknown format")
	}
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

func TestFileNameIsSafeStableAndDistinct(t *testing.T) {
	urls := []string{
		"http://a.test/", "http://a.test/../../etc/passwd", "http://a.test/%2e%2e/%2e%2e/x",
		"http://a.test/a/b/c.html?q=1", "http://a.test/a/b/c.html?q=2", "http://[::1]:8080/x",
		"http://a.test/" + strings.Repeat("long/", 100), "http://a.test/.hidden", "http://a.test/-rf",
		"not a url at all", "http://a.test/\x00nul", "http://a.test/..",
	}
	seen := map[string]string{}
	for _, u := range urls {
		name := FileName(u, "text/html")
		if !safeName.MatchString(name) || strings.Contains(name, "..") || len(name) > 200 {
			t.Errorf("FileName(%q) = %q, not a safe plain name", u, name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("FileName(%q) = FileName(%q) = %q", u, prev, name)
		}
		seen[name] = u
		if again := FileName(u, "text/html"); again != name {
			t.Errorf("FileName(%q) not stable: %q then %q", u, name, again)
		}
	}
}

func TestDirSaveStaysInside(t *testing.T) {
	base := t.TempDir()
	outside := t.TempDir()
	dir := filepath.Join(base, "saved")
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	u := "http://a.test/page"
	// A symlink planted where the file will go must not be followed out.
	name := FileName(u, "text/html")
	if err := os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	// The body is renamed into place: the link is replaced, not followed.
	if _, err := d.Save(u, "text/html", []byte("x")); err != nil {
		t.Errorf("Save over a planted symlink: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "victim")); err == nil {
		t.Error("a file was written outside the save folder")
	}
	if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the planted link's name: %v, %v; want the saved body, a regular file", fi, err)
	}
	path, err := d.Save("http://a.test/other", "text/html", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "hello" {
		t.Errorf("saved file %s holds %q, want hello", path, got)
	}
	if filepath.Dir(path) != dir {
		t.Errorf("saved to %s, want inside %s", path, dir)
	}
}

// Saves of one URL at once (a list's duplicate lines) leave one whole body
// under its name, and no part files: they wrote over each other's bytes,
// a long body's tail after a short one.
func TestDirSavesOfOneURLAtOnceLeaveOneWholeBody(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bodies := make([][]byte, 8)
	for i := range bodies {
		bodies[i] = bytes.Repeat([]byte{byte('a' + i)}, 1000*(8-i)) // lengths differ
	}
	var wg sync.WaitGroup
	for range 20 {
		for _, b := range bodies {
			wg.Go(func() {
				if _, err := d.Save("http://a.test/x", "text/html", b); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	got, err := os.ReadFile(filepath.Join(dir, FileName("http://a.test/x", "text/html")))
	if err != nil || !slices.ContainsFunc(bodies, func(b []byte) bool { return bytes.Equal(b, got) }) {
		t.Errorf("saved %d bytes (%v), want one of the bodies whole", len(got), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the folder, want 1 (no part files left)", len(entries))
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Add(time.Duration(i) * time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Millisecond, 0.9: 900 * time.Millisecond, 0.99: 990 * time.Millisecond} {
		got := h.Quantile(q)
		if diff := float64(got-want) / float64(want); diff < -0.03 || diff > 0.03 {
			t.Errorf("Quantile(%g) = %s, want %s within 3%%", q, got, want)
		}
	}
	if h.Max() != time.Second || h.Count() != 1000 {
		t.Errorf("Max %s Count %d, want 1s 1000", h.Max(), h.Count())
	}
	var empty Histogram
	if empty.Quantile(0.5) != 0 {
		t.Error("empty Quantile != 0")
	}
}

func TestSummaryReport(t *testing.T) {
	var s Summary
	for _, r := range sampleResults() {
		_ = s.Write(r)
	}
	var buf bytes.Buffer
	s.Report(&buf, 2*time.Second)
	out := buf.String()
	for _, want := range []string{"fetched 3 URLs in 2s: 1 ok, 2 failed (bad_url 1, http_status 1; 1 of them sent no request)", "1.0 requests/s", "p50", "p99"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// A run of one URL said "fetched 1 URLs", the first line a new user sees.
func TestSummaryOfOneURLIsSingular(t *testing.T) {
	for n, want := range map[int]string{0: "0 URLs", 1: "1 URL", 2: "2 URLs"} {
		if got := Count(n, "URL"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
	var s Summary
	_ = s.Write(sampleResults()[0])
	var buf bytes.Buffer
	s.Report(&buf, time.Second)
	if !strings.HasPrefix(buf.String(), "fetched 1 URL in 1s: ") {
		t.Errorf("the summary of one URL: %q", buf.String())
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 10 << 20: "10.0 MiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseBytesReadsWhatHumanBytesWrites(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"512", 512}, {"64k", 64 << 10}, {"10MiB", 10 << 20}, {"1.5 MB", 3 << 19}, {"2G", 2 << 30},
		{HumanBytes(10 << 20), 10 << 20}, {HumanBytes(1536), 1536}, {HumanBytes(1000), 1000},
	} {
		if got, err := ParseBytes(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "-1", "ten", "5 parsecs", "0"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) accepted, want an error", bad)
		}
	}
}

// Issue 11, item 19: only a crawl's CSV has depth, parent and links.
func TestCSVHasCrawlColumnsForCrawlsOnly(t *testing.T) {
	for _, crawl := range []bool{false, true} {
		var buf bytes.Buffer
		sink, _ := NewSink("csv", &buf, crawl, false)
		_ = sink.Write(&crawler.Result{URL: "http://a/", OK: true, Crawled: crawl, Depth: 2, Links: 5})
		_ = sink.Flush()
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		hasDepth := slices.Contains(rows[0], "depth")
		if hasDepth != crawl || len(rows[0]) != len(rows[1]) {
			t.Errorf("crawl %v: header %v, row %v", crawl, rows[0], rows[1])
		}
	}
}

// A crawl's table gives each page's depth where a list's gives its line:
// a crawled page has no line, and the column said 0 for every page.
func TestTableGivesACrawlsDepth(t *testing.T) {
	for _, tt := range []struct {
		crawl        bool
		header, cell string
	}{{false, "LINE ", "7     "}, {true, "DEPTH", "2     "}} {
		var buf bytes.Buffer
		sink, _ := NewSink("table", &buf, tt.crawl, false)
		_ = sink.Write(&crawler.Result{URL: "http://a/", OK: true, Status: 200, Line: 7, Crawled: tt.crawl, Depth: 2})
		_ = sink.Flush()
		lines := strings.Split(buf.String(), "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[0], tt.header) || !strings.HasPrefix(lines[1], tt.cell) {
			t.Errorf("crawl %v: table %q; want the header %q and the row to start %q", tt.crawl, buf.String(), tt.header, tt.cell)
		}
	}
}

// The rate counts the requests sent, retries included: a URL tried three
// times is three requests (it counted URLs).
func TestSummaryRateCountsEveryRequest(t *testing.T) {
	var s Summary
	_ = s.Write(&crawler.Result{URL: "http://a/1", OK: true, Status: 200, Attempts: 3})
	_ = s.Write(&crawler.Result{URL: "http://a/2", OK: true, Status: 200, Attempts: 1})
	var buf bytes.Buffer
	s.Report(&buf, 2*time.Second)
	if !strings.Contains(buf.String(), "2.0 requests/s") {
		t.Errorf("report:\n%s\nwant 4 requests in 2s: 2.0 requests/s", buf.String())
	}
}
