package cli

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/internal/testsite"
	"github.com/fetchall/fetchall/output"
)

func TestCrawlCommandFetchesTheSiteExactly(t *testing.T) {
	site := testsite.NewWith(testsite.Options{Pages: 80})
	srv := httptest.NewServer(site)
	defer srv.Close()
	res := runCLI(t, "", "crawl", srv.URL+"/", "-c", "16")
	if res.code != 0 {
		t.Fatalf("crawl exit %d; stderr:\n%s", res.code, res.stderr)
	}
	truth := site.Truth(3, false, false) // the default --max-depth
	recs := parseRecords(t, res.stdout)
	if len(recs) != len(truth) {
		t.Errorf("%d records, want %d", len(recs), len(truth))
	}
	for _, r := range recs {
		u, _ := url.Parse(r.URL)
		if _, ok := truth[u.RequestURI()]; !ok {
			t.Errorf("crawled %s, not in the ground truth", u.RequestURI())
		}
	}
	for uri, n := range site.URICounts() {
		if n != 1 {
			t.Errorf("%s requested %d times", uri, n)
		}
	}
	for _, want := range []string{"crawl: ", "blocked by robots.txt", "memory: peak"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, res.stderr)
		}
	}
}

func TestCrawlCommandSeedsFileSitemapsAndIgnoreRobots(t *testing.T) {
	site := testsite.NewWith(testsite.Options{Pages: 20})
	srv := httptest.NewServer(site)
	defer srv.Close()
	seeds := writeFile(t, "seeds.txt", "# seeds\n"+srv.URL+"/\n")
	res := runCLI(t, "", "crawl", "--seeds", seeds, "--follow-sitemaps", "--ignore-robots", "--max-depth", "-1", "-q")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	counts := site.URICounts()
	if counts["/site/orphan"] != 1 || counts["/site/private/secret"] != 1 || counts["/robots.txt"] != 0 {
		t.Errorf("orphan %d, private %d, robots.txt %d: want the sitemap followed and robots.txt ignored (never fetched)",
			counts["/site/orphan"], counts["/site/private/secret"], counts["/robots.txt"])
	}
	res = runCLI(t, "", "crawl", srv.URL+"/", "--ignore-robots", "--max-pages", "3")
	if !strings.Contains(res.stderr, "robots.txt IGNORED") {
		t.Errorf("summary does not say robots.txt was ignored:\n%s", res.stderr)
	}
	if n := len(parseRecords(t, res.stdout)); n != 3 {
		t.Errorf("--max-pages 3 gave %d records", n)
	}
}

func TestCrawlCommandBadSeedIsARecord(t *testing.T) {
	_, base := startSite(t)
	seeds := writeFile(t, "seeds.txt", base+"/site/1\nnot a url\n")
	res := runCLI(t, "", "crawl", "--seeds", seeds, "--max-depth", "0", "--ordered=false")
	if res.code != exitUsage { // --ordered is not a crawl flag
		t.Errorf("crawl --ordered: exit %d, want 2", res.code)
	}
	res = runCLI(t, "", "crawl", "--seeds", seeds, "--max-depth", "0", "-q")
	recs := parseRecords(t, res.stdout)
	if res.code != exitFailures || len(recs) != 2 {
		t.Fatalf("exit %d, %d records; want 1 and 2", res.code, len(recs))
	}
	for _, r := range recs {
		if r.URL == "not a url" && (r.Error != "bad_url" || r.Line != 2) {
			t.Errorf("bad seed record %+v, want bad_url at line 2", r)
		}
	}
}

func TestCrawlCommandUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"crawl"}, "give at least one seed URL"},
		{[]string{"crawl", "http://127.0.0.1:1/", "--scope", "planet"}, `scope "planet"`},
		{[]string{"crawl", "http://127.0.0.1:1/", "--include", "("}, `include "("`},
		{[]string{"crawl", "--seeds", "/nonexistent"}, "no such file"},
	} {
		res := runCLI(t, "", tt.args...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%v: exit %d stderr %q, want exit 2 mentioning %q", tt.args, res.code, res.stderr, tt.want)
		}
	}
}

// A crawl that left a site alone because its robots.txt could not be read
// exits 1, even with no record failed: a crawl of a server that is down is
// not a success. Failures and interrupts keep their own codes.
func TestCrawlOfAnUnreadableSiteIsNotASuccess(t *testing.T) {
	fine := &output.Summary{Total: 3, OK: 3}
	deferred := crawler.CrawlStats{SiteDeferred: 2}
	if code := exitCode(crawlOutcome(t.Context(), nil, fine, crawler.CrawlStats{Pages: 3}, "3 records")); code != exitOK {
		t.Errorf("a whole crawl: exit %d, want 0", code)
	}
	if code := exitCode(crawlOutcome(t.Context(), nil, fine, deferred, "3 records")); code != exitFailures {
		t.Errorf("sites not crawled: exit %d, want 1", code)
	}
	if code := exitCode(crawlOutcome(t.Context(), nil, &output.Summary{}, deferred, "0 records")); code != exitFailures {
		t.Errorf("nothing crawled at all: exit %d, want 1", code)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if code := exitCode(crawlOutcome(ctx, nil, fine, deferred, "3 records")); code != exitInterrupted {
		t.Errorf("interrupted with sites not crawled: exit %d, want 130", code)
	}
}
