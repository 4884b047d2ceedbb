package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fetchall/fetchall/internal/testsite"
)

type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs fetchall with args as the binary would, minus the process.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut}
	code := Execute(t.Context(), s, args)
	return cliResult{stdout: out.String(), stderr: errOut.String(), code: code}
}

func startSite(t *testing.T) (*testsite.Site, string) {
	t.Helper()
	return startSiteWith(t, testsite.Options{})
}

// startSiteWith is startSite with a synthetic website of its own options.
func startSiteWith(t *testing.T, opts testsite.Options) (*testsite.Site, string) {
	t.Helper()
	site := testsite.NewWith(opts)
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	return site, srv.URL
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type record struct {
	URL          string  `json:"url"`
	Line         int     `json:"line"`
	OK           bool    `json:"ok"`
	Status       int     `json:"status"`
	Title        string  `json:"title"`
	Error        string  `json:"error"`
	ErrorMessage string  `json:"error_message"`
	Attempts     int     `json:"attempts"`
	DurationMS   float64 `json:"duration_ms"`
	SavedPath    string  `json:"saved_path"`
	Bytes        int64   `json:"bytes"`
}

func parseRecords(t *testing.T, jsonl string) []record {
	t.Helper()
	var out []record
	sc := bufio.NewScanner(strings.NewReader(jsonl))
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("output line %q is not a JSON record: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

func TestFetchOneRecordPerLineAndExitCode(t *testing.T) {
	_, base := startSite(t)
	list := writeFile(t, "urls.txt", "# comment\n"+base+"/page/1\n\n"+base+"/status/404\nnot a url\n"+base+"/redirect/2\n")
	res := runCLI(t, "", list, "--concurrency", "5", "--ordered")
	if res.code != exitFailures {
		t.Errorf("exit code = %d, want %d (a 404 and a bad line); stderr:\n%s", res.code, exitFailures, res.stderr)
	}
	recs := parseRecords(t, res.stdout)
	wantLines := []int{2, 4, 5, 6}
	if len(recs) != len(wantLines) {
		t.Fatalf("got %d records, want %d:\n%s", len(recs), len(wantLines), res.stdout)
	}
	for i, r := range recs {
		if r.Line != wantLines[i] {
			t.Errorf("record %d line = %d, want %d", i, r.Line, wantLines[i])
		}
	}
	if recs[1].Error != "http_status" || recs[2].Error != "bad_url" || !recs[3].OK || recs[0].Title != "Page 1" {
		t.Errorf("records = %+v", recs)
	}
	if !strings.Contains(res.stderr, "fetched 4 URLs") || !strings.Contains(res.stderr, "2 failed (bad_url 1, http_status 1; 1 of them sent no request)") {
		t.Errorf("summary missing or wrong on stderr:\n%s", res.stderr)
	}
}

func TestFetchSubcommandAndStdinMatchRoot(t *testing.T) {
	_, base := startSite(t)
	in := base + "/page/1\n" + base + "/page/2\n"
	list := writeFile(t, "urls.txt", in)
	norm := regexp.MustCompile(`"duration_ms":[0-9.]+`)
	a := runCLI(t, "", list, "--ordered", "-q")
	b := runCLI(t, "", "fetch", list, "--ordered", "-q")
	c := runCLI(t, in, "-", "--ordered", "-q")
	if a.code != 0 || b.code != 0 || c.code != 0 {
		t.Fatalf("exit codes %d %d %d, want 0; stderr %q %q %q", a.code, b.code, c.code, a.stderr, b.stderr, c.stderr)
	}
	z := `"duration_ms":0`
	na, nb, nc := norm.ReplaceAllString(a.stdout, z), norm.ReplaceAllString(b.stdout, z), norm.ReplaceAllString(c.stdout, z)
	if na != nb || na != nc || len(parseRecords(t, na)) != 2 {
		t.Errorf("fetchall FILE, fetchall fetch FILE and stdin differ:\n%s\n%s\n%s", na, nb, nc)
	}
	if a.stderr != "" {
		t.Errorf("-q still wrote to stderr: %q", a.stderr)
	}
}

func TestFetchOKStatusPolicy(t *testing.T) {
	_, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/status/404\n"+base+"/page/1\n")
	if res := runCLI(t, "", list, "--ok-status", "200-399,404", "-q"); res.code != 0 {
		t.Errorf("with --ok-status 200-399,404: exit %d, want 0; out:\n%s", res.code, res.stdout)
	}
	if res := runCLI(t, "", list, "--ok-status", "404", "-q"); res.code != exitFailures {
		t.Errorf("with --ok-status 404: exit %d, want 1 (the 200 is not listed)", res.code)
	}
}

func TestFetchUsageErrorsExit2AndFetchNothing(t *testing.T) {
	site, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/page/1\n")
	badConfig := writeFile(t, "bad.yaml", "concurrency: 5\ntimeout: forever\n")
	unknownKey := writeFile(t, "unknown.yaml", "concurency: 5\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no argument", nil, "missing the URL list"},
		{"missing file", []string{filepath.Join(t.TempDir(), "nope.txt")}, "no such file"},
		{"directory", []string{t.TempDir()}, "is a directory"},
		{"unknown flag", []string{list, "--concurency", "3"}, "unknown flag: --concurency: did you mean --concurrency?"},
		{"a crawl's flag", []string{list, "--max-depth", "3"}, "unknown flag: --max-depth: it is a flag of fetchall crawl"},
		{"a flag's word", []string{"crawl", base + "/", "--sitemaps"}, "unknown flag: --sitemaps: did you mean --follow-sitemaps?"},
		{"bad concurrency", []string{list, "-c", "0"}, "--concurrency must be 1 or more"},
		{"bad format", []string{list, "-f", "xml"}, `--format "xml"`},
		{"bad header", []string{list, "-H", "NoColon"}, `--header "NoColon"`},
		{"header with a line break", []string{list, "-H", "X-A: a\r\nEvil: b"}, "--header X-A: the value has a control character"},
		{"bad header name", []string{list, "-H", "X(A): b"}, `--header "X(A)" is not a header name`},
		{"header without its colon", []string{list, "-H", "Authorization Bearer s3cret"}, `--header "Authorization"...: want 'Name: value'`},
		{"user agent with a line break", []string{list, "-A", "ua\nEvil: b"}, "--user-agent \"ua\\nEvil: b\" has a control character"},
		{"bad size", []string{list, "--max-body", "10XB"}, "unknown unit"},
		{"zero size", []string{list, "--max-body", "0"}, `--max-body: size "0": want a positive number`},
		{"negative connect timeout", []string{list, "--connect-timeout", "-1s"}, "--connect-timeout must be 0 (the smaller of --timeout and 10s) or more, got -1s"},
		{"zero retry wait", []string{list, "--max-retry-wait", "0s"}, "--max-retry-wait must be positive, got 0s"},
		{"bad status list", []string{list, "--ok-status", "2xx"}, "is not a status"},
		// NaN meant no limit, and a rate too small for a time.Duration let
		// every request go at once.
		{"rate that is not a number", []string{list, "--rate", "NaN"}, "--rate must be 0 (no limit) or a rate of requests per second from 1e-09 (one every 31 years), got NaN"},
		{"rate too small to wait for", []string{list, "--host-rate", "1e-200"}, "--host-rate must be 0 (no limit) or a rate of requests per second from 1e-09"},
		{"config rate that is not a number", []string{list, "--config", writeFile(t, "nan.yaml", "rate: NaN\n")}, `nan.yaml line 1: key "rate": must be 0 (no limit) or a rate`},
		{"bad config value", []string{list, "--config", badConfig}, `bad.yaml line 2: key "timeout": invalid value "forever"`},
		{"config value that cannot work", []string{list, "--config", writeFile(t, "zero.yaml", "timeout: 5s\nconcurrency: 0\n")}, `zero.yaml line 2: key "concurrency": must be 1 or more, got 0`},
		{"config header with a line break", []string{list, "--config", writeFile(t, "crlf.yaml", "header: [\"X-A: a\\r\\nB: c\"]\n")}, `crlf.yaml line 1: key "header": X-A: the value has a control character`},
		{"command line value that cannot work", []string{list, "--config", writeFile(t, "ok.yaml", "concurrency: 5\n"), "-c", "0"}, "--concurrency must be 1 or more, got 0"},
		{"unknown config key", []string{list, "--config", unknownKey}, `did you mean "concurrency"`},
		{"missing config", []string{list, "--config", "/nonexistent.yaml"}, "config:"},
		{"two lists", []string{list, list}, "one URL list at a time"},
		{"URLs and a typo", []string{base + "/page/1", "htp://x/", base + "/page/2"}, `argument 2, "htp://x/", is not an http:// or https:// URL`},
	}
	for _, tt := range tests {
		res := runCLI(t, "", tt.args...)
		if res.code != exitUsage {
			t.Errorf("%s: exit %d, want %d; stderr %q", tt.name, res.code, exitUsage, res.stderr)
		}
		if !strings.Contains(res.stderr, tt.want) || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("%s: stderr = %q, want one line containing %q", tt.name, res.stderr, tt.want)
		}
	}
	if n := site.Total(); n != 0 {
		t.Errorf("usage errors fetched %d pages, want none", n)
	}
}

func TestFetchConfigFileAndFlagsOverride(t *testing.T) {
	_, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/page/1\n")
	cfg := writeFile(t, "c.yaml", "format: csv\nquiet: true\nok_status: '500'\n")
	res := runCLI(t, "", list, "--config", cfg)
	if !strings.HasPrefix(res.stdout, "url,line,ok") || res.stderr != "" || res.code != exitFailures {
		t.Errorf("config format csv, quiet, ok_status 500: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, "", list, "--config", cfg, "-f", "jsonl", "--ok-status", "200")
	if len(parseRecords(t, res.stdout)) != 1 || res.code != 0 {
		t.Errorf("flags over config: exit %d stdout %q, want one JSONL record and exit 0", res.code, res.stdout)
	}
}

func TestFetchOutputFileAndSaveDir(t *testing.T) {
	_, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/page/1?size=700\n"+base+"/status/500\n")
	dir := t.TempDir()
	outFile := filepath.Join(dir, "out.jsonl")
	saveDir := filepath.Join(dir, "bodies")
	res := runCLI(t, "", list, "-o", outFile, "--save-dir", saveDir, "--ordered", "-q")
	if res.stdout != "" {
		t.Errorf("with -o, stdout = %q, want nothing", res.stdout)
	}
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	recs := parseRecords(t, string(data))
	if len(recs) != 2 || recs[0].SavedPath == "" || recs[1].SavedPath != "" {
		t.Fatalf("records = %+v, want the ok page saved and the 500 not", recs)
	}
	body, err := os.ReadFile(recs[0].SavedPath)
	if err != nil || len(body) != 700 || filepath.Dir(recs[0].SavedPath) != saveDir {
		t.Errorf("saved file %s: %d bytes, err %v; want 700 bytes inside %s", recs[0].SavedPath, len(body), err, saveDir)
	}
}

func TestFetchFailFast(t *testing.T) {
	_, base := startSite(t)
	var list strings.Builder
	list.WriteString(base + "/status/500\n")
	for range 30 {
		list.WriteString(base + "/hang\n")
	}
	res := runCLI(t, list.String(), "-", "--fail-fast", "-c", "4", "-q", "--retries", "0")
	if res.code != exitFailures || !strings.Contains(res.stderr, "fail-fast") {
		t.Errorf("fail-fast: exit %d stderr %q, want 1 and a fail-fast message", res.code, res.stderr)
	}
	// The 4 workers' first tasks, plus the one the failing worker may
	// pick up before the writer sees the failure: never the 31 lines.
	recs := parseRecords(t, res.stdout)
	if len(recs) > 5 {
		t.Errorf("fail-fast wrote %d records, want only the started ones (at most 5)", len(recs))
	}
	for _, r := range recs[1:] {
		if r.Error != "canceled" {
			t.Errorf("record after the failure: %+v, want a canceled in-flight request", r)
		}
	}
}

func TestFetchRetryAfterIsHonoured(t *testing.T) {
	site, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/retry/x?fail=2&code=503&after=0\n")
	res := runCLI(t, "", list, "-q", "--retries", "2")
	recs := parseRecords(t, res.stdout)
	if res.code != 0 || len(recs) != 1 || recs[0].Attempts != 3 || site.Count("/retry/x") != 3 {
		t.Errorf("exit %d records %+v server count %d, want ok after 3 attempts", res.code, recs, site.Count("/retry/x"))
	}
}

func TestHelpAndVersion(t *testing.T) {
	res := runCLI(t, "", "--help")
	for _, want := range []string{"--concurrency", "--per-host", "--rate", "--timeout", "--retries", "--fail-fast",
		"--ordered", "--save-dir", "--max-body", "--header", "--user-agent", "--insecure", "--proxy",
		"--max-redirects", "--config", "--quiet", "--no-progress", "--ok-status", "serve", "demo", "completion"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if res := runCLI(t, "", "--version"); res.code != 0 || !strings.Contains(res.stdout, "fetchall version") {
		t.Errorf("--version: exit %d out %q", res.code, res.stdout)
	}
	if res := runCLI(t, "", "completion", "bash"); res.code != 0 || !strings.Contains(res.stdout, "bash completion") {
		t.Errorf("completion bash: exit %d", res.code)
	}
}

// -o out.csv without -f writes CSV; -f still wins, and other names are JSONL.
func TestFormatFollowsTheOutputName(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		extra  []string
		header bool
	}{
		{"out.csv", nil, true},
		{"OUT.CSV", nil, true},
		{"out.jsonl", nil, false},
		{"records", nil, false},
		{"forced.csv", []string{"-f", "jsonl"}, false},
	} {
		path := filepath.Join(dir, c.name)
		args := append([]string{base + "/page/1", "-q", "-o", path}, c.extra...)
		if res := runCLI(t, "", args...); res.code != 0 {
			t.Fatalf("%s: exit %d, %s", c.name, res.code, res.stderr)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.HasPrefix(string(b), "url,line,"); got != c.header {
			t.Errorf("-o %s %v: CSV %v, want %v; wrote %q", c.name, c.extra, got, c.header, b)
		}
	}
}

// A crawl flag's error names the flag once and says what was wrong
// ("--include include \"(\"" named it twice), and a depth below -1 is
// refused rather than read as no limit.
func TestCrawlFlagErrorsNameTheFlagOnce(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--include", "("}, `fetchall: --include "(": error parsing regexp`},
		{[]string{"--scope", "galaxy"}, `fetchall: --scope "galaxy": want host, domain or any`},
		{[]string{"--max-depth", "-5"}, "fetchall: --max-depth must be -1 (no limit) or more, got -5"},
	} {
		res := runCLI(t, "", append([]string{"crawl", "http://127.0.0.1:1/"}, tt.args...)...)
		if res.code != exitUsage || !strings.HasPrefix(res.stderr, tt.want) {
			t.Errorf("crawl %q: exit %d, stderr %q; want 2 and %q", tt.args, res.code, res.stderr, tt.want)
		}
	}
}

// serve refuses settings that describe no site, before it listens.
func TestServeRefusesSettingsThatMakeNoSite(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--pages", "-5"}, "--pages must be 1 or more, got -5"},
		{[]string{"--latency", "-1s"}, "--latency must be 0 or more, got -1s"},
		// Not a request URI: no page ever matched it, silently.
		{[]string{"--slow-page", "site/0"}, `--slow-page "site/0": want a request URI such as /site/0`},
	} {
		res := runCLI(t, "", append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...)...)
		if res.code != 2 || !strings.Contains(res.stderr, tt.want) || strings.Contains(res.stderr, "listening") {
			t.Errorf("serve %q: exit %d, stderr %q; want 2 and %q", tt.args, res.code, res.stderr, tt.want)
		}
	}
	// An address in use says what to do, not "bind: address already in use".
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	res := runCLI(t, "", "serve", "--addr", ln.Addr().String())
	if res.code != 2 || !strings.Contains(res.stderr, ln.Addr().String()+" is in use (another fetchall serve?): give another --addr, or port 0") {
		t.Errorf("serve on an address in use: exit %d, stderr %q", res.code, res.stderr)
	}
}

// -o - is standard output, as a list's - is standard input: it made a
// file named "-".
func TestOutputDashIsStandardOutput(t *testing.T) {
	_, base := startSite(t)
	for _, args := range [][]string{{base + "/page/1"}, {"crawl", base + "/", "--max-pages", "1"}} {
		res := runCLI(t, "", append(args, "-o", "-", "-q")...)
		if res.code != 0 || !strings.Contains(res.stdout, `"url":"`+base) {
			t.Errorf("%q -o -: exit %d, stdout %q; want the record on standard output", args, res.code, res.stdout)
		}
		if _, err := os.Stat("-"); err == nil {
			os.Remove("-")
			t.Errorf("%q -o -: a file named - was made", args)
		}
	}
}

// fetch spaces one host's requests by --delay (or the file's delay), as
// crawl does: three URLs of one host take at least two delays.
func TestFetchDelaySpacesAHost(t *testing.T) {
	_, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/page/1\n"+base+"/page/2\n"+base+"/page/3\n")
	cfg := writeFile(t, "c.yaml", "delay: 150ms\n")
	for _, args := range [][]string{{"--delay", "150ms"}, {"--config", cfg}} {
		start := time.Now()
		res := runCLI(t, "", append([]string{list, "-q", "-c", "3"}, args...)...)
		took := time.Since(start)
		if res.code != 0 || len(parseRecords(t, res.stdout)) != 3 {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, res.code, res.stdout, res.stderr)
		}
		if took < 300*time.Millisecond {
			t.Errorf("%v: three requests to one host took %v, want at least two delays (300ms)", args, took)
		}
	}
}

// A link check (-X HEAD) of a server that refuses HEAD asks again by GET,
// as link checkers do, on the lean path and through net/http (cookies
// go through net/http) alike; a server that answers HEAD gets no GET.
func TestHeadRefusedIsCheckedByGet(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{} // path: methods, in order
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = append(seen[r.URL.Path], r.Method)
		mu.Unlock()
		if r.Method == http.MethodHead && r.URL.Path != "/answers-head" {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Write([]byte("<title>t</title>"))
	}))
	t.Cleanup(srv.Close)
	for _, extra := range [][]string{nil, {"--cookie-jar", filepath.Join(t.TempDir(), "jar.txt")}} {
		clear(seen)
		list := writeFile(t, "urls.txt", srv.URL+"/refuses-head\n"+srv.URL+"/answers-head\n")
		res := runCLI(t, "", append([]string{list, "-X", "HEAD", "--ordered"}, extra...)...)
		if res.code != 0 {
			t.Fatalf("%v: exit code %d, want 0; stderr:\n%s", extra, res.code, res.stderr)
		}
		recs := parseRecords(t, res.stdout)
		if len(recs) != 2 || recs[0].Status != 200 || !recs[0].OK || recs[0].Attempts != 2 || recs[1].Attempts != 1 || recs[1].Status != 200 {
			t.Errorf("%v: records = %+v, want both ok, the first with its two requests counted", extra, recs)
		}
		mu.Lock()
		if got := strings.Join(seen["/refuses-head"], " "); got != "HEAD GET" {
			t.Errorf("%v: /refuses-head was asked %q, want HEAD then GET", extra, got)
		}
		if got := strings.Join(seen["/answers-head"], " "); got != "HEAD" {
			t.Errorf("%v: /answers-head was asked %q, want HEAD alone", extra, got)
		}
		mu.Unlock()
	}
}
