package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// TestBadInput gives fetchall each kind of bad input a user produces and
// checks the outcome promised in the README's Reliability table.
func TestBadInput(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	binary := make([]byte, 5000)
	for i := range binary {
		binary[i] = byte(i % 7)
	}
	tests := []struct {
		name    string
		args    []string
		stdin   string
		code    int
		records int
		stderr  string // a fragment of the message
		stdout  string // a fragment of the records
	}{
		{"empty list", []string{write("empty.txt", nil)}, "", 0, 0, "has no URLs", ""},
		{"comments only", []string{"-"}, "# nothing\n\n", 0, 0, "standard input has no URLs", ""},
		{"missing file", []string{filepath.Join(dir, "nope.txt")}, "", exitUsage, 0, "URL list " + filepath.Join(dir, "nope.txt") + ": no such file", ""},
		{"directory", []string{dir}, "", exitUsage, 0, "is a directory", ""},
		{"binary file", []string{write("bin.dat", binary)}, "", exitUsage, 0, "looks like a binary file", ""},
		// Every line was a bad_url record, exit 1.
		{"a job file as the list", []string{write("job.yaml", []byte("# a job\nstart: ["+base+"/]\nitems:\n  - fields: {t: {css: h1}}\n"))}, "", exitUsage, 0, "looks like a scraping job (it has an items: or start: key), not one URL per line: fetchall run FILE runs a job", ""},
		{"1 MB line", []string{"-"}, base + "/page/1\n" + strings.Repeat("x", 1<<20) + "\n" + base + "/page/2\n", exitFailures, 3, "", `"line":2,"ok":false`},
		{"UTF-16 from PowerShell", []string{write("utf16.txt", utf16LE("\ufeff"+base+"/page/1\r\n"+base+"/page/2\r\n"))}, "", 0, 2, "", `"title":"Page 2"`},
		{"CRLF and BOM", []string{write("crlf.txt", []byte("\xef\xbb\xbf"+base+"/page/1\r\n"+base+"/page/2\r\n"))}, "", 0, 2, "", `"title":"Page 2"`},
		{"spaces in URL", []string{"-"}, "  " + base + "/page/a b  \n", 0, 1, "", `/page/a b"`},
		{"credentials masked", []string{"-", "--ok-status", "200-599"}, "http://user:secret@" + strings.TrimPrefix(base, "http://") + "/page/1\n", 0, 1, "", "user:xxxxx@"},
		{"duplicates fetched each time", []string{"-"}, strings.Repeat(base+"/page/dup\n", 1000), 0, 1000, "", ""},
		{"a word for a number", []string{"-", "-c", "many"}, base + "/page/1\n", exitUsage, 0, `--concurrency "many": want a whole number`, ""},
		{"a bare number for a duration", []string{"-", "--timeout", "5"}, base + "/page/1\n", exitUsage, 0, `--timeout "5": want a duration such as 500ms`, ""},
		{"a header field that is no header name", []string{"-", "--header-field", "X Cache"}, base + "/page/1\n", exitUsage, 0, `--header-field "X Cache": want a header name`, ""},
		{"a header field with a line break", []string{"-", "--header-field", "X-Cache\r\nY"}, base + "/page/1\n", exitUsage, 0, `--header-field "X-Cache\r\nY"`, ""},
		{"a mistyped command", []string{"crawll", base + "/"}, "", exitUsage, 0, `"crawll" is neither a command nor a file: did you mean crawl?`, ""},
		// A crawl setting given to run as a flag: "unknown flag" did not
		// say where it goes.
		{"a setting as a flag of run", []string{"run", write("j.yaml", []byte("start: ["+base+"/]\nitems:\n  - fields: {t: {css: h1}}\n")), "-k"}, "", exitUsage, 0, "unknown shorthand flag: 'k' in -k: a job's settings go in its file or in --set (--set insecure=...)", ""},
		// It said "URL list: stat version: no such file or directory".
		{"version as a command", []string{"version"}, "", exitUsage, 0, `"version" is neither a command nor a file: the version is fetchall --version`, ""},
		{"a mistyped command alone", []string{"stat"}, "", exitUsage, 0, `did you mean state?`, ""},
		{"--retry-failed without --state", []string{"-", "--retry-failed"}, base + "/page/1\n", exitUsage, 0, "--state-reset and --retry-failed need --state DIR", ""},
		{"--state-reset without --state, in a crawl", []string{"crawl", base + "/", "--state-reset"}, "", exitUsage, 0, "need --state DIR", ""},
		// They named the system call: "open out: is a directory",
		// "mkdir run.state: not a directory".
		{"-o naming a folder", []string{"-", "-o", dir}, base + "/page/1\n", exitUsage, 0, "-o " + dir + ": is a folder, want a file name", ""},
		{"--warc naming a folder, in a job", []string{"run", write("w.yaml", []byte("start: ["+base+"/]\nitems:\n  - fields: {t: {css: h1}}\n")), "--warc", dir}, "", exitUsage, 0, "--warc " + dir + ": is a folder, want a file name", ""},
		{"--save-dir naming a file", []string{"-", "--save-dir", write("bodies.txt", []byte("x"))}, base + "/page/1\n", exitUsage, 0, "bodies.txt is a file: give a folder, which is made if missing", ""},
		{"--state naming a file", []string{"-", "--state", write("run.state", []byte("x")), "-o", filepath.Join(dir, "o.jsonl")}, base + "/page/1\n", exitUsage, 0, "run.state is a file: give a folder, which is made if missing", ""},
		{"--state-reset with --retry-failed", []string{"-", "--state", filepath.Join(dir, "st"), "-o", filepath.Join(dir, "o.jsonl"), "--state-reset", "--retry-failed"}, base + "/page/1\n", exitUsage, 0, "not both", ""},
		{"--lease-ttl too short to renew", []string{"crawl", base + "/", "--frontier", "redis://127.0.0.1:1/0", "--crawl-id", "x", "--lease-ttl", "10ms"}, "", exitUsage, 0, "--lease-ttl must be at least 1s (a lease is renewed every third of it), got 10ms", ""},
		{"--lease-ttl without --frontier", []string{"crawl", base + "/", "--lease-ttl", "1m"}, "", exitUsage, 0, "--lease-ttl, --status and --reset need --frontier", ""},
		{"--warc-max-size without --warc", []string{"-", "--warc-max-size", "1GiB"}, base + "/page/1\n", exitUsage, 0, "--warc-max-size needs --warc FILE", ""},
		{"--save-dir with -X HEAD", []string{"-", "-X", "HEAD", "--save-dir", filepath.Join(dir, "bodies")}, base + "/page/1\n", exitUsage, 0, "-X HEAD fetches none", ""},
		{"--fields with -f table", []string{"-", "-f", "table", "--fields", "all"}, base + "/page/1\n", exitUsage, 0, "the table's columns are fixed", ""},
		{"concurrency beyond the open-file limit", []string{"-", "-c", "10000000"}, base + "/page/1\n", exitUsage, 0, "ulimit -n", ""},
	}
	for _, tt := range tests {
		res := runCLI(t, tt.stdin, append(tt.args, "--no-progress")...)
		recs := parseRecords(t, res.stdout)
		if res.code != tt.code || len(recs) != tt.records {
			t.Errorf("%s: exit %d, %d records; want %d, %d (stderr %q)", tt.name, res.code, len(recs), tt.code, tt.records, res.stderr)
		}
		if !strings.Contains(res.stderr, tt.stderr) || !strings.Contains(res.stdout, tt.stdout) {
			t.Errorf("%s: stderr %q stdout %q; want %q and %q", tt.name, res.stderr, clipText(res.stdout), tt.stderr, tt.stdout)
		}
		if strings.Contains(res.stdout+res.stderr, "secret") {
			t.Errorf("%s: the password leaked into the output", tt.name)
		}
	}
}

// utf16LE is s in UTF-16, little-endian, as Windows writes text.
func utf16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func clipText(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// TestIDNHostIsSentAsPunycode goes through a local proxy, so no resolver
// is asked: the proxy sees what would go on the wire.
func TestIDNHostIsSentAsPunycode(t *testing.T) {
	var gotURL, gotHost string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotURL, gotHost = r.URL.String(), r.Host
	}))
	defer proxy.Close()
	res := runCLI(t, "http://bücher.invalid/straße\n", "-", "--proxy", proxy.URL, "-q")
	if res.code != 0 || gotHost != "xn--bcher-kva.invalid" || gotURL != "http://xn--bcher-kva.invalid/stra%C3%9Fe" {
		t.Errorf("exit %d; proxy saw URL %q Host %q; want the punycode host and an escaped path", res.code, gotURL, gotHost)
	}
	if recs := parseRecords(t, res.stdout); len(recs) != 1 || recs[0].URL != "http://bücher.invalid/straße" {
		t.Errorf("records %+v: want the URL as the user wrote it", recs)
	}
}

// An unknown FETCHALL_HTTP is refused before anything is fetched: a
// misspelt one did nothing, silently.
func TestUnknownHTTPPathIsRefused(t *testing.T) {
	_, base := startSite(t)
	t.Setenv("FETCHALL_HTTP", "standard")
	res := runCLI(t, "", base+"/page/1")
	if res.code != 2 || res.stdout != "" || !strings.Contains(res.stderr, `FETCHALL_HTTP="standard": want std`) {
		t.Errorf("FETCHALL_HTTP=standard: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	t.Setenv("FETCHALL_HTTP", "std")
	if res := runCLI(t, "", base+"/page/1", "-q"); res.code != 0 {
		t.Errorf("FETCHALL_HTTP=std: exit %d, %s", res.code, res.stderr)
	}
}
