package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fetchall/fetchall/internal/filelock"
)

// Issue 11, item 1: an output that is the input would read its own records
// back as URLs and grow without end. It is refused, through links too,
// with exit 2 and nothing fetched.
func TestOutputThatIsTheInputIsRefused(t *testing.T) {
	site, base := startSite(t)
	list := writeFile(t, "list.txt", base+"/page/1\n")
	link := filepath.Join(filepath.Dir(list), "link.txt")
	if err := os.Symlink(list, link); err != nil {
		t.Fatal(err)
	}
	// Any file a run writes, against any file it reads: --warc, bench's
	// exports and -o over a list, a settings file, seeds or a job wrote
	// over it, silently.
	config := writeFile(t, "settings.yaml", "concurrency: 2\n")
	job := writeFile(t, "job.yaml", "start: ["+base+"/page/1]\nitems:\n  - name: p\n    select: {css: html}\n    fields: {t: {css: title}}\noutput: {format: jsonl, path: "+filepath.Join(t.TempDir(), "items.jsonl")+"}\n")
	for _, args := range [][]string{
		{list, "-o", list},
		{list, "-o", link},
		{link, "-o", list},
		{"crawl", "--seeds", list, "-o", link},
		{list, "--warc", link, "-o", os.DevNull},
		{list, "--config", config, "-o", config},
		{"crawl", "--seeds", list, "--warc", list, "-o", os.DevNull},
		{"crawl", base + "/", "--config", config, "--warc", config, "-o", os.DevNull},
		{"bench", list, "--export-json", link},
		{"bench", list, "--config", config, "--export-markdown", config},
		{"run", job, "--warc", job},
		{"run", job, "-o", job},
	} {
		res := runCLI(t, "", append(args, "-q")...)
		if res.code != 2 || !strings.Contains(res.stderr, "is the input") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and the reason", args, res.code, res.stderr)
		}
	}
	if data, _ := os.ReadFile(list); string(data) != base+"/page/1\n" {
		t.Errorf("the list was changed: %q", data)
	}
	if data, _ := os.ReadFile(config); string(data) != "concurrency: 2\n" {
		t.Errorf("the settings file was changed: %q", data)
	}
	if data, _ := os.ReadFile(job); !strings.HasPrefix(string(data), "start: [") {
		t.Errorf("the job was changed: %q", data)
	}
	if n := site.URICounts()["/page/1"]; n != 0 {
		t.Errorf("the list was fetched %d times, want none", n)
	}
}

// An output another fetchall is still writing (the same -o given twice)
// is refused before it is emptied: the two used to truncate and overwrite
// each other's records, and both exited 0.
func TestOutputInUseIsRefused(t *testing.T) {
	site, base := startSite(t)
	list := writeFile(t, "list.txt", base+"/page/1\n")
	out := writeFile(t, "out.jsonl", "{\"url\":\"kept\"}\n")
	held, err := os.OpenFile(out, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := filelock.Lock(held); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{list, "-o", out}, {"crawl", base + "/", "-o", out}} {
		res := runCLI(t, "", append(args, "-q")...)
		if res.code != 2 || !strings.Contains(res.stderr, "being written by another process") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and the reason", args, res.code, res.stderr)
		}
	}
	if data, _ := os.ReadFile(out); string(data) != "{\"url\":\"kept\"}\n" {
		t.Errorf("the other run's output was changed: %q", data)
	}
	if n := site.Total(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// A --warc that cannot be made (a name that is not .warc.gz, a missing
// folder, an archive another fetchall writes) is refused before -o is
// opened: the run emptied -o and then stopped, its earlier records lost.
func TestRefusedArchiveLeavesTheOutputAlone(t *testing.T) {
	site, base := startSite(t)
	list := writeFile(t, "list.txt", base+"/page/1\n")
	dir := t.TempDir()
	held := filepath.Join(dir, "held.warc.gz")
	f, err := os.OpenFile(held, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := filelock.Lock(f); err != nil {
		t.Fatal(err)
	}
	job := writeFile(t, "job.yaml", "start: ["+base+"/page/1]\nitems:\n  - fields: {t: {css: title}}\n")
	for _, warc := range []string{filepath.Join(dir, "run.warc"), filepath.Join(dir, "gone", "run.warc.gz"), held} {
		for _, args := range [][]string{{list}, {"crawl", base + "/"}, {"run", job}, {list, "--state", filepath.Join(t.TempDir(), "st")}} {
			out := filepath.Join(dir, "out.jsonl")
			if err := os.WriteFile(out, []byte("{\"url\":\"kept\"}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			res := runCLI(t, "", append(args, "-q", "-o", out, "--warc", warc)...)
			if data, _ := os.ReadFile(out); res.code != 2 || string(data) != "{\"url\":\"kept\"}\n" {
				t.Errorf("%q --warc %s: exit %d, stderr %q, output now %q; want 2 and the output kept", args, warc, res.code, res.stderr, data)
			}
		}
	}
	// A save folder that cannot be made, with a state whose new output is
	// opened first: it emptied -o, then stopped.
	out := filepath.Join(dir, "out.jsonl")
	if err := os.WriteFile(out, []byte("{\"url\":\"kept\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, "", list, "-q", "-o", out, "--state", filepath.Join(t.TempDir(), "st"), "--save-dir", filepath.Join(list, "sub"))
	if data, _ := os.ReadFile(out); res.code != 2 || string(data) != "{\"url\":\"kept\"}\n" {
		t.Errorf("--save-dir under a file: exit %d, stderr %q, output now %q; want 2 and the output kept", res.code, res.stderr, data)
	}
	if n := site.Total(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// A job refused for its errors file (a missing folder) or its --replay
// (missing, not a WARC) keeps its items file: it was opened, and emptied,
// first.
func TestRefusedJobLeavesItsItemsAlone(t *testing.T) {
	site, base := startSite(t)
	job := writeFile(t, "job.yaml", "start: ["+base+"/page/1]\nitems:\n  - fields: {t: {css: title}}\n")
	dir := t.TempDir()
	notWARC := writeFile(t, "bad.warc.gz", "not a WARC\n")
	for _, extra := range [][]string{
		{"--set", "output.errors=" + filepath.Join(dir, "gone", "errors.jsonl")},
		{"--replay", filepath.Join(dir, "none.warc.gz")},
		{"--replay", notWARC},
	} {
		items := filepath.Join(dir, "items.jsonl")
		if err := os.WriteFile(items, []byte("{\"t\":\"kept\"}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		res := runCLI(t, "", append([]string{"run", job, "-q", "-o", items}, extra...)...)
		if data, _ := os.ReadFile(items); res.code != 2 || string(data) != "{\"t\":\"kept\"}\n" {
			t.Errorf("%q: exit %d, stderr %q, items now %q; want 2 and the items kept", extra, res.code, res.stderr, data)
		}
	}
	if n := site.Total(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// Issue 11, item 4: a password in a URL is masked everywhere, bad URLs
// included (url.Parse cannot help with those).
func TestPasswordsAreMaskedEvenInBadURLs(t *testing.T) {
	list := "http://user:s3cret@[::1\nhttp://bob:s3cret@127.0.0.1:1/x\n"
	for _, args := range [][]string{{"-", "--retries", "0"}, {"-", "--retries", "0", "--fail-fast"}, {"-", "-f", "csv"}, {"-", "-f", "table"}} {
		res := runCLI(t, list, args...)
		if strings.Contains(res.stdout+res.stderr, "s3cret") {
			t.Errorf("%q: the password shows:\n%s\n%s", args, res.stdout, res.stderr)
		}
		if !strings.Contains(res.stdout+res.stderr, "user:xxxxx@") && !strings.Contains(res.stderr, "fail-fast") {
			t.Errorf("%q: the masked URL is missing:\n%s", args, res.stdout)
		}
	}
}

// A --proxy that is not a URL is refused without showing its password:
// the error quoted it whole (and the line with no scheme, as url reads
// "user:pw@host" as scheme "user", slipped through the masking too).
func TestBadProxyErrorMasksItsPassword(t *testing.T) {
	for _, proxy := range []string{"http://user:s3cret@bad host:1", "http://user:s3cret@[::1", "user:s3cret@proxy"} {
		res := runCLI(t, "", "http://127.0.0.1:1/", "--proxy", proxy)
		if res.code != exitUsage || strings.Contains(res.stderr, "s3cret") || !strings.Contains(res.stderr, "user:xxxxx@") {
			t.Errorf("--proxy %q: exit %d, stderr %q; want exit 2 with the password masked", proxy, res.code, res.stderr)
		}
	}
}

// credentialCatcher is a server that records the credentials each path
// received.
type credentialCatcher struct {
	mu   sync.Mutex
	got  map[string]string // path -> Authorization + "|" + Cookie
	srv  *httptest.Server
	next func(w http.ResponseWriter, r *http.Request) bool
}

func newCatcher(t *testing.T, tls bool, next func(w http.ResponseWriter, r *http.Request) bool) *credentialCatcher {
	c := &credentialCatcher{got: map[string]string{}, next: next}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.got[r.URL.Path] = r.Header.Get("Authorization") + "|" + r.Header.Get("Cookie")
		c.mu.Unlock()
		if c.next == nil || !c.next(w, r) {
			_, _ = w.Write([]byte("<title>t</title>"))
		}
	})
	if tls {
		c.srv = httptest.NewTLSServer(h)
	} else {
		c.srv = httptest.NewServer(h)
	}
	t.Cleanup(c.srv.Close)
	return c
}

func (c *credentialCatcher) saw(path string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.got[path]
	return v, ok
}

// Issue 11, item 2: -H credentials go only to the origin they were given
// for (scheme, host and port), in fetch and crawl, redirects and
// robots.txt included.
func TestCredentialsGoOnlyToTheirOrigin(t *testing.T) {
	creds := []string{"-H", "Authorization: Bearer s3cret", "-H", "Cookie: session=s3cret"}
	const none = "|"

	// fetch: https on one port redirects to plain http on another port of
	// the same host, which Go's client alone would still trust.
	plain := newCatcher(t, false, nil)
	secure := newCatcher(t, true, func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, plain.srv.URL+"/landing", http.StatusFound)
		return true
	})
	res := runCLI(t, secure.srv.URL+"/start\n", append([]string{"-", "-k", "-q"}, creds...)...)
	if got, _ := secure.saw("/start"); got == none {
		t.Errorf("fetch: the given origin got no credentials (exit %d, %s)", res.code, res.stderr)
	}
	if got, ok := plain.saw("/landing"); !ok || got != none {
		t.Errorf("fetch: after https -> http to another port the server saw %q (reached %v), want no credentials", got, ok)
	}

	// crawl: the seed's origin (robots.txt included) gets them; a page it
	// links to on another origin and a redirect target there do not.
	other := newCatcher(t, false, nil)
	seed := newCatcher(t, false, func(w http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/":
			fmt.Fprintf(w, `<a href="%s/linked">x</a><a href="/moved">y</a>`, other.srv.URL)
		case "/moved":
			http.Redirect(w, r, other.srv.URL+"/redirected", http.StatusFound)
		default:
			return false
		}
		return true
	})
	res = runCLI(t, "", append([]string{"crawl", seed.srv.URL + "/", "--scope", "any", "-q"}, creds...)...)
	for _, path := range []string{"/", "/robots.txt", "/moved"} {
		if got, _ := seed.saw(path); got == none {
			t.Errorf("crawl: the seed's origin got no credentials at %s (exit %d, %s)", path, res.code, res.stderr)
		}
	}
	for _, path := range []string{"/linked", "/redirected", "/robots.txt"} {
		if got, ok := other.saw(path); !ok || got != none {
			t.Errorf("crawl: another origin saw %q at %s (reached %v), want no credentials", got, path, ok)
		}
	}
}

// Issue 11, item 16: URLs given as arguments are fetched as a list of
// them, as curl users expect; -X HEAD checks links without bodies.
func TestURLArgumentsAreFetched(t *testing.T) {
	site, base := startSite(t)
	res := runCLI(t, "", base+"/page/1", base+"/page/2", "-q", "--ordered")
	recs := parseRecords(t, res.stdout)
	if res.code != 0 || len(recs) != 2 || recs[0].URL != base+"/page/1" {
		t.Fatalf("two URL arguments: exit %d, %d records; stderr %q", res.code, len(recs), res.stderr)
	}
	res = runCLI(t, "", base+"/page/3", "-X", "HEAD", "-q")
	recs = parseRecords(t, res.stdout)
	if res.code != 0 || len(recs) != 1 || recs[0].Bytes != 0 || !recs[0].OK {
		t.Errorf("-X HEAD: exit %d, records %v; want one ok record without a body", res.code, recs)
	}
	if n := site.URICounts()["/page/3"]; n != 1 {
		t.Errorf("-X HEAD: the server saw /page/3 %d times, want 1", n)
	}
	res = runCLI(t, "", base+"/page/1", "-X", "POST", "-q")
	if res.code != 2 || !strings.Contains(res.stderr, "--method") {
		t.Errorf("-X POST: exit %d, stderr %q; want 2 naming --method", res.code, res.stderr)
	}
	// A URL pasted with spaces around it is the URL, as a list line is (a
	// crawl fetched "/%20", a fetch took it for a file name).
	res = runCLI(t, "", " "+base+"/page/4 ", "-q")
	if recs := parseRecords(t, res.stdout); res.code != 0 || len(recs) != 1 || recs[0].URL != base+"/page/4" {
		t.Errorf("a URL with spaces around it: exit %d, records %v, stderr %q", res.code, recs, res.stderr)
	}
	res = runCLI(t, "", "crawl", base+"/page/5 ", "--max-depth", "0", "-q")
	if recs := parseRecords(t, res.stdout); res.code != 0 || len(recs) != 1 || recs[0].URL != base+"/page/5" {
		t.Errorf("a seed with a space after it: exit %d, records %v, stderr %q", res.code, recs, res.stderr)
	}
	// A host given without its scheme: the message says so.
	host := strings.TrimPrefix(base, "http://")
	res = runCLI(t, "", host+"/page/1", "-q")
	if res.code != 2 || !strings.Contains(res.stderr, "give its scheme: http://"+host+"/page/1") {
		t.Errorf("a URL without its scheme: exit %d, stderr %q; want 2 saying to give the scheme", res.code, res.stderr)
	}
	res = runCLI(t, "", "crawl", host, "--max-depth", "0", "-q")
	if recs := parseRecords(t, res.stdout); len(recs) != 1 || !strings.Contains(recs[0].ErrorMessage, "no scheme") {
		t.Errorf("a seed without its scheme: records %v; want a bad_url saying the scheme is missing", recs)
	}
}

// Issue 11, item 20: crawl traps end by themselves, each skip counted by
// reason in the summary.
func TestCrawlTrapsEndByThemselves(t *testing.T) {
	site, base := startSite(t)
	for _, tt := range []struct {
		seed   string
		args   []string
		most   int
		reason string
	}{
		{"/trap/relative/", nil, 10, "repeated_path_segment"},
		{"/trap/calendar?month=1", []string{"--max-pages-per-host", "40"}, 40, "host_page_cap"},
		{"/trap/session/", nil, 2, ""},
	} {
		args := append([]string{"crawl", base + tt.seed, "--max-depth", "-1", "--max-pages", "5000", "--ignore-robots"}, tt.args...)
		res := runCLI(t, "", args...)
		recs := parseRecords(t, res.stdout)
		if res.code != 0 || len(recs) == 0 || len(recs) > tt.most {
			t.Errorf("%s: exit %d, %d pages; want it to end by itself within %d", tt.seed, res.code, len(recs), tt.most)
		}
		if tt.reason != "" && !strings.Contains(res.stderr, "crawl traps: "+tt.reason) {
			t.Errorf("%s: the summary does not count %s:\n%s", tt.seed, tt.reason, res.stderr)
		}
	}
	if n := site.URICounts()["/trap/session/"]; n != 1 {
		t.Errorf("/trap/session/ fetched %d times, want once (session parameters dropped)", n)
	}
}

// Issue 11, item 22: a crawl keeps the cookies its site sets; --cookies
// loads a cookies.txt and --cookie-jar saves the jar; records carry the
// page's canonical URL.
func TestCrawlKeepsCookiesAndSaysCanonical(t *testing.T) {
	_, base := startSite(t)
	jarFile := filepath.Join(t.TempDir(), "jar.txt")
	res := runCLI(t, "", "crawl", base+"/cookie/set?v=abc", "--ignore-robots", "--cookie-jar", jarFile, "-q")
	recs := parseRecords(t, res.stdout)
	titles := map[string]string{}
	for _, r := range recs {
		titles[r.URL] = r.Title
	}
	if res.code != 0 || titles[base+"/cookie/check"] != "cookie: abc" {
		t.Fatalf("exit %d, titles %v; want the check page to get the cookie its site set", res.code, titles)
	}
	if !strings.Contains(res.stdout, `"canonical":"`+base+`/cookie/canonical"`) {
		t.Errorf("no canonical in the records:\n%s", res.stdout)
	}
	saved, err := os.ReadFile(jarFile)
	if err != nil || !strings.Contains(string(saved), "\tsession\tabc") {
		t.Fatalf("--cookie-jar wrote %q (%v), want the session cookie", saved, err)
	}

	loaded := strings.Replace(string(saved), "\tabc", "\txyz", 1)
	cookies := writeFile(t, "cookies.txt", loaded)
	res = runCLI(t, "", "crawl", base+"/cookie/check", "--ignore-robots", "--cookies", cookies, "-q")
	if recs := parseRecords(t, res.stdout); res.code != 0 || len(recs) != 1 || recs[0].Title != "cookie: xyz" {
		t.Errorf("--cookies: exit %d, records %+v; want the loaded cookie sent", res.code, recs)
	}
	bad := writeFile(t, "bad.txt", "# Netscape HTTP Cookie File\nnot a cookie line\n")
	res = runCLI(t, "", "crawl", base+"/", "--cookies", bad, "-q")
	if res.code != 2 || !strings.Contains(res.stderr, "line 2") {
		t.Errorf("bad cookies file: exit %d, stderr %q; want 2 naming line 2", res.code, res.stderr)
	}
}

// A list takes --cookies and --cookie-jar too, as curl's -b and -c do:
// the loaded cookies go with the requests to their site, the cookies the
// answers set go with the next ones, and the jar is saved at the end.
// Without either flag a list keeps no cookie (and goes the lean path).
func TestListKeepsCookiesWhenAsked(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	cookies := writeFile(t, "cookies.txt", "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tloaded\n")
	jar := filepath.Join(dir, "jar.txt")
	list := writeFile(t, "list.txt", base+"/cookie/check\n"+base+"/cookie/set?v=set\n"+base+"/cookie/check?again\n")
	res := runCLI(t, "", list, "-c", "1", "--ordered", "--cookies", cookies, "--cookie-jar", jar, "-q")
	recs := parseRecords(t, res.stdout)
	if res.code != 0 || len(recs) != 3 || recs[0].Title != "cookie: loaded" || recs[2].Title != "cookie: set" {
		t.Fatalf("exit %d, records %+v; want the loaded cookie, then the one set", res.code, recs)
	}
	if saved, err := os.ReadFile(jar); err != nil || !strings.Contains(string(saved), "\tsession\tset") {
		t.Errorf("--cookie-jar wrote %q (%v), want the cookie set", saved, err)
	}
	res = runCLI(t, "", list, "-c", "1", "--ordered", "-q")
	if recs := parseRecords(t, res.stdout); res.code != 0 || len(recs) != 3 || recs[2].Title != "cookie:" {
		t.Errorf("without --cookies: exit %d, records %+v; want no cookie kept", res.code, recs)
	}
	res = runCLI(t, "", list, "--cookie-jar", list, "-q")
	if res.code != 2 || !strings.Contains(res.stderr, "is the input") {
		t.Errorf("--cookie-jar the list: exit %d, stderr %q; want it refused", res.code, res.stderr)
	}
}

// A cookie jar is checked before the crawl (a crawl of hours lost its
// cookies to a missing folder at the end), written for its owner alone
// (cookies are sessions), and replaced whole, so it may be the --cookies
// file it was loaded from; it is no other file of the run.
func TestCookieJarIsCheckedFirstAndPrivate(t *testing.T) {
	_, base := startSite(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.jsonl")
	seeds := writeFile(t, "seeds.txt", base+"/cookie/set?v=abc\n")
	for _, c := range []struct{ name, jar, want string }{
		{"a missing folder", filepath.Join(dir, "nope", "jar.txt"), "--cookie-jar " + filepath.Join(dir, "nope", "jar.txt") + ": there is no folder"},
		{"a folder", dir, "is a folder"},
		{"the output", out, "-o and --cookie-jar both name"},
		{"the seeds", seeds, "is the input " + seeds + " (--seeds)"},
	} {
		res := runCLI(t, "", "crawl", "--seeds", seeds, "--ignore-robots", "--cookie-jar", c.jar, "-o", out, "-q")
		if res.code != 2 || !strings.Contains(res.stderr, c.want) {
			t.Errorf("--cookie-jar %s: exit %d, stderr %q; want 2 and %q", c.name, res.code, res.stderr, c.want)
		}
		if data, err := os.ReadFile(out); err == nil && len(data) > 0 {
			t.Errorf("--cookie-jar %s: the crawl ran before the refusal (%d bytes of records)", c.name, len(data))
		}
	}
	if data, _ := os.ReadFile(seeds); string(data) != base+"/cookie/set?v=abc\n" {
		t.Errorf("the seeds file was written over: %q", data)
	}
	jar := writeFile(t, "jar.txt", "# Netscape HTTP Cookie File\n")
	res := runCLI(t, "", "crawl", "--seeds", seeds, "--ignore-robots", "--cookies", jar, "--cookie-jar", jar, "-o", out, "-q")
	info, err := os.Stat(jar)
	if res.code != 0 || err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("jar in and out: exit %d, stderr %q, %v %v; want 0 and a file of mode 0600", res.code, res.stderr, info, err)
	}
	if saved, _ := os.ReadFile(jar); !strings.Contains(string(saved), "\tsession\tabc") {
		t.Errorf("the jar holds %q, want the session cookie", saved)
	}
	if entries, _ := os.ReadDir(filepath.Dir(jar)); len(entries) != 1 {
		t.Errorf("the jar's folder holds %d files, want the jar alone (a temporary file left?)", len(entries))
	}
	// A jar that is a link (kept in a dotfiles folder) stays one.
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(jar, link); err != nil {
		t.Fatal(err)
	}
	if res := runCLI(t, "", "crawl", base+"/cookie/set?v=def", "--ignore-robots", "--cookie-jar", link, "-q"); res.code != 0 {
		t.Fatalf("jar through a link: exit %d, %s", res.code, res.stderr)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link to the jar was replaced by a file: %v %v", info, err)
	}
	if saved, _ := os.ReadFile(jar); !strings.Contains(string(saved), "\tsession\tdef") {
		t.Errorf("the linked jar holds %q, want the new session cookie", saved)
	}
}

// Issue 11, item 17: the samples work with a test site on any port: serve
// prints the commands for its own address, and they run.
func TestSampleCommandsWorkOnAnyPort(t *testing.T) {
	_, base := startSite(t)
	addr := strings.TrimPrefix(base, "http://")
	cmds := sampleCommands(addr)
	if !strings.Contains(cmds[0], "sed 's#127.0.0.1:8080#"+addr+"#'") {
		t.Fatalf("list command %q does not rewrite the sample's address", cmds[0])
	}
	data, err := os.ReadFile("../../testdata/urls.txt")
	if err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, strings.ReplaceAll(string(data), "127.0.0.1:8080", addr), "-", "-q")
	// The sample has failures on purpose (a 404, a bad line): exit 1 is its normal end.
	if recs := parseRecords(t, res.stdout); res.code > 1 || len(recs) < 5 {
		t.Errorf("the rewritten sample list: exit %d, %d records; stderr %q", res.code, len(recs), res.stderr)
	}
	job := strings.Fields(cmds[2])
	res = runCLI(t, "", "run", "../../"+job[2], job[3], job[4], "-q", "-o", filepath.Join(t.TempDir(), "items.jsonl"))
	if res.code != 0 {
		t.Errorf("%s: exit %d, stderr %q", cmds[2], res.code, res.stderr)
	}
}

// Issue 11, item 18: bench takes -o and --no-progress as fetch does.
func TestBenchSharesTheOutputFlags(t *testing.T) {
	_, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/page/1\n"+base+"/page/2\n")
	report := filepath.Join(t.TempDir(), "report.txt")
	res := runCLI(t, "", "bench", list, "-c", "1,2", "--runs", "1", "-o", report, "--no-progress")
	data, err := os.ReadFile(report)
	if res.code != 0 || err != nil || !strings.Contains(string(data), "workers") || res.stdout != "" || strings.Contains(res.stderr, "level 1") {
		t.Errorf("bench -o --no-progress: exit %d, report %q (%v), stdout %q, stderr %q", res.code, data, err, res.stdout, res.stderr)
	}
}

// Issue 11, item 11: on a full disk every command says so with exit 1, and
// no summary counts what never reached the output.
func TestFullDiskIsSaidAndNotCounted(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	_, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/page/1\n"+base+"/page/2\n")
	res := runCLI(t, "", list, "-o", "/dev/full")
	if res.code != 1 || !strings.Contains(res.stderr, "only 0 of 2 records were written") || !strings.Contains(res.stderr, "no space left") {
		t.Errorf("fetch -o /dev/full: exit %d, stderr %q", res.code, res.stderr)
	}
	res = runCLI(t, "", "bench", list, "-c", "1,2", "--runs", "1", "-q", "-o", "/dev/full")
	if res.code != 1 || !strings.Contains(res.stderr, "write report") {
		t.Errorf("bench -o /dev/full: exit %d, stderr %q", res.code, res.stderr)
	}
	res = runCLI(t, "", "run", "../../testdata/jobs/catalogue.yaml", "--set", "start="+base+"/shop/catalogue/page-1.html", "-o", "/dev/full")
	if res.code != 1 || !strings.Contains(res.stderr, " 0 items written") {
		t.Errorf("run -o /dev/full: exit %d, stderr %q; want exit 1 and 0 items written", res.code, res.stderr)
	}
}

// One file under two of a run's output flags is refused before anything
// is opened: -o and --warc blamed "another process", --replay and --warc
// appended the replayed archive to itself.
func TestOneFileUnderTwoFlagsIsRefused(t *testing.T) {
	site, base := startSite(t)
	list := writeFile(t, "list.txt", base+"/page/1\n")
	dir := filepath.Dir(list)
	archive := writeFile(t, "a.warc.gz", "kept")
	job := exampleJob(t, "catalogue", base)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{list, "-o", filepath.Join(dir, "out"), "--warc", filepath.Join(dir, ".", "out")}, "-o and --warc both name"},
		{[]string{"crawl", base + "/", "-o", filepath.Join(dir, "x"), "--save-dir", filepath.Join(dir, "x")}, "-o and --save-dir both name"},
		{[]string{"run", job, "--replay", archive, "--warc", archive}, "--warc and --replay both name"},
		{[]string{"run", job, "--replay", archive, "-o", archive}, "-o and --replay both name"},
		// output.errors is the job's; -o and --warc are the command
		// line's. It said "being written by another process".
		{[]string{"run", job, "--set", "output.errors=" + filepath.Join(dir, "e.jsonl"), "-o", filepath.Join(dir, "e.jsonl")}, "-o and output.errors both name"},
		{[]string{"run", job, "--set", "output.errors=" + filepath.Join(dir, "e.jsonl"), "--warc", filepath.Join(dir, "e.jsonl")}, "--warc and output.errors both name"},
	} {
		res := runCLI(t, "", append(tt.args, "-q")...)
		if res.code != 2 || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, res.code, res.stderr, tt.want)
		}
	}
	if data, _ := os.ReadFile(archive); string(data) != "kept" {
		t.Errorf("the archive was changed: %q", data)
	}
	if n := len(site.URICounts()); n != 0 {
		t.Errorf("%d paths fetched, want none", n)
	}
}

// A server's slip that net/http logs (bytes after a body) does not print
// a log line between fetchall's own: with -q, standard error stays empty.
func TestLibraryLogsDoNotReachStandardError(t *testing.T) {
	bin := buildBinary(t)
	_, base := startSite(t)
	list := writeFile(t, "urls.txt", base+"/fault/raw/extra-bytes\n"+base+"/fault/raw/extra-bytes?again\n")
	// --fields connect_ms takes net/http's path, which is the one that logs.
	out, err := exec.CommandContext(t.Context(), bin, list, "-q", "-c", "1", "--fields", "connect_ms", "-o", filepath.Join(t.TempDir(), "out.jsonl")).CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("err %v, output %q; want exit 0 and nothing on standard error", err, out)
	}
}
