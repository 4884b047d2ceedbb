package cli

import (
	"bytes"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fetchall/fetchall/internal/testsite"
)

var update = flag.Bool("update", false, "rewrite golden files")

// runCatalogue runs the example job against a fresh test site with one
// worker (so "later" duplicates are always the same ones) and returns the
// items with the site's address replaced by http://SITE.
func runCatalogue(t *testing.T, extra ...string) (cliResult, *testsite.Site) {
	t.Helper()
	site := testsite.New()
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	args := append([]string{"run", "../../testdata/jobs/catalogue.yaml", "--set", "start=" + srv.URL + "/shop/catalogue/page-1.html",
		"--set", "concurrency=1", "--no-progress"}, extra...)
	res := runCLI(t, "", args...)
	res.stdout = strings.ReplaceAll(res.stdout, srv.URL, "http://SITE")
	return res, site
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("..", "..", "testdata", "jobs", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (go test -run Job . -update creates it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

func TestJobCatalogueGoldenJSONL(t *testing.T) {
	res, site := runCatalogue(t)
	if res.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", res.code, res.stderr)
	}
	checkGolden(t, "catalogue.golden.jsonl", []byte(res.stdout))
	// Pagination followed to the end, every book page once, nothing else.
	for n := 1; n <= 4; n++ {
		if c := site.Count("/shop/catalogue/page-" + string(rune('0'+n)) + ".html"); c != 1 {
			t.Errorf("listing page %d fetched %d times, want 1", n, c)
		}
	}
	if c := site.Count("/shop/about.html"); c != 0 {
		t.Errorf("/shop/about.html fetched %d times: follow selectors ignored", c)
	}
	for _, want := range []string{"book: 19 items written, 0 dropped (missing a required field), 1 duplicate dropped"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, res.stderr)
		}
	}
}

func TestJobCatalogueGoldenCSVWithSet(t *testing.T) {
	res, _ := runCatalogue(t, "--set", "output.format=csv")
	if res.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", res.code, res.stderr)
	}
	if !strings.HasPrefix(res.stdout, "url,title,price,stock,rating,tags,image,blurb\n") {
		t.Errorf("CSV header: %q", strings.SplitN(res.stdout, "\n", 2)[0])
	}
	checkGolden(t, "catalogue.golden.csv", []byte(res.stdout))
}

func TestJobRequiredDropsItems(t *testing.T) {
	job := writeFile(t, "job.yaml", `start: [http://127.0.0.1:1/]
max_depth: -1
items:
  - name: book
    match: 'index\.html$'
    fields:
      title: {css: h1}
      price: {css: p.price_color, regex: '[0-9.]+', type: float, required: true}
follow: ["li.next > a", "article h3 > a"]
`)
	site := testsite.New()
	srv := httptest.NewServer(site)
	defer srv.Close()
	res := runCLI(t, "", "run", job, "--set", "start="+srv.URL+"/shop/catalogue/page-1.html", "--no-progress")
	items := strings.Count(res.stdout, "\n")
	if res.code != 0 || items != 19 || !strings.Contains(res.stderr, "book: 19 items written, 1 dropped (missing a required field)") {
		t.Errorf("exit %d, %d items; stderr:\n%s\nwant 19 items and the book without a price dropped", res.code, items, res.stderr)
	}
}

func TestJobDryRunFetchesNothing(t *testing.T) {
	site := testsite.New()
	srv := httptest.NewServer(site)
	defer srv.Close()
	res := runCLI(t, "", "run", "../../testdata/jobs/catalogue.yaml", "--dry-run", "--set", "start="+srv.URL+"/shop/")
	if res.code != 0 || site.Total() != 0 {
		t.Fatalf("dry run: exit %d, %d requests to the site; stderr %q", res.code, site.Total(), res.stderr)
	}
	for _, want := range []string{"is valid; nothing was fetched", srv.URL + "/shop/", "max depth 5", `follow: links in "li.next > a"`, `follow: links in "article h3 > a"`,
		`book: pages matching "/catalogue/[^/]+/index\\.html$", one item per css "article.product_page"`, "price: css \"p.price_color\"", "unique by title"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("dry run lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestJobCheckOnASavedPage(t *testing.T) {
	site := testsite.New()
	srv := httptest.NewServer(site)
	defer srv.Close()
	pageURL := srv.URL + "/shop/catalogue/sharp-objects_4/index.html"
	resp, err := srv.Client().Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	_, _ = page.ReadFrom(resp.Body)
	resp.Body.Close()
	saved := writeFile(t, "page.html", page.String())
	before := site.Total()
	res := runCLI(t, "", "run", "--check", "../../testdata/jobs/catalogue.yaml", saved, "--url", "https://shop.example/catalogue/sharp-objects_4/index.html")
	want := `{"url":"https://shop.example/catalogue/sharp-objects_4/index.html","title":"Sharp Objects","price":19.11,"stock":17,"rating":"Four","tags":["mystery","thriller"],"image":"https://shop.example/media/sharp-objects_4.jpg","blurb":"<p>Book number 4, <b>well</b> worth reading.</p>"}` + "\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("--check: exit %d\n got %s\nwant %s\nstderr %s", res.code, res.stdout, want, res.stderr)
	}
	if site.Total() != before {
		t.Error("--check fetched something")
	}
}

// TestJobFileErrorsNameTheirLine: each mistake stops the job before any
// fetch, naming file, line and key.
func TestJobFileErrorsNameTheirLine(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1, colour: red}\n", `line 4: key "items[0].fields.t.colour": unknown key`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: 'h1[', type: string}\n", `line 4: key "items[0].fields.t.css": bad CSS selector`},
		{"start: [http://a/]\nitems:\n  - match: '(unclosed'\n    fields:\n      t: {css: h1}\n", `line 3: key "items[0].match": error parsing regexp`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1, type: decimal}\n", `line 4: key "items[0].fields.t.type": type "decimal"`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1, type: int, default: many}\n", `line 4: key "items[0].fields.t.default": "many" is not an int`},
		{"start: [http://a/]\nitems:\n  - fields:\n      url: {css: a}\n", `line 4: key "items[0].fields.url"`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\nouput: {format: csv}\n", `line 5: key "ouput": unknown key (did you mean "output"?)`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\nmax_depth: deep\n", `line 5: key "max_depth": invalid value "deep"`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\noutput:\n  format: xml\n", `line 6: key "output.format": format "xml"`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\noutput: {unique_by: isbn}\n", `key "output.unique_by": "isbn" is not a field`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\noutput:\n  path: out.jsonl\n  errors: ./out.jsonl\n", `line 7: key "output.errors": "./out.jsonl" is output.path too`},
		{"start: [http://a/]\nfollow: ['li >']\nitems:\n  - fields:\n      t: {css: h1}\n", `line 2: key "follow[0]": bad CSS selector`},
		{"items:\n  - fields:\n      t: {css: h1}\n", `key "start": the job needs start`},
		{"start: [http://a/]\n", `key "items": the job needs at least one rule`},
		{"start: [http://a/]\nitemz:\n  - fields:\n      t: {css: h1}\n", `line 2: key "itemz": unknown key (did you mean "items"?)`},
		{"strat: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\n", `line 1: key "strat": unknown key (did you mean "start"?)`},
		{"start_fil: urls.txt\nitems:\n  - fields:\n      t: {css: h1}\n", `line 1: key "start_fil": unknown key (did you mean "start_file"?)`},
		{"start: [http://a/]\nitems:\n  - name: x\n", `line 3: key "items[0].fields": a rule needs at least one field`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1, html: maybe}\n", `line 4: key "items[0].fields.t.html": want true or false`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\nconcurrency: -5\n", `line 5: key "concurrency": must be 1 or more, got -5`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\n\nexclude: ['(']\n", `line 6: key "exclude": exclude "(": error parsing regexp`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\noutput:\n  path: [a]\n", `line 6: key "output.path": want a single value`},
		{"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\nfollow: [a, 'b >']\n", `line 5: key "follow[1]": bad CSS selector`},
		{"start: [http://a/\nitems: x\n", `job.yaml line 1: did not find expected ',' or ']'`},
		{"items:\n  - fields: {t: {css: h1}}\nstart: [http://a/x?page=1]\n", `job.yaml line 3: did not find expected ',' or ']' (a value holding ?`},
	}
	for _, tt := range tests {
		job := writeFile(t, "job.yaml", tt.yaml)
		res := runCLI(t, "", "run", job, "--dry-run")
		if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) || !strings.Contains(res.stderr, "job.yaml") {
			t.Errorf("job %q: exit %d stderr %q; want exit 2 and %q", tt.yaml, res.code, res.stderr, tt.want)
		}
	}
}

// A setting given with --set that cannot work is said to be --set's:
// "--set concurrency=0" blamed the file's line 6, where concurrency: 8 is.
func TestJobSetErrorsNameTheSet(t *testing.T) {
	for _, tt := range []struct{ set, want string }{
		{"concurrency=0", "fetchall: --set concurrency: must be 1 or more, got 0"},
		{"max_depht=2", `fetchall: --set max_depht: unknown key (did you mean "max_depth"?)`},
	} {
		res := runCLI(t, "", "run", "../../testdata/jobs/catalogue.yaml", "--dry-run", "--set", tt.set)
		if res.code != exitUsage || strings.TrimSpace(res.stderr) != tt.want {
			t.Errorf("--set %s: exit %d stderr %q; want exit 2 and %q", tt.set, res.code, res.stderr, tt.want)
		}
	}
}

// A start_file that is not there names the job, the key and where a
// relative path is read from: a job run from cron starts elsewhere, and
// the error said only "seeds: URL list: stat seeds.txt".
func TestJobMissingStartFileSaysWhereItLooked(t *testing.T) {
	job := writeFile(t, "job.yaml", "start_file: nowhere-seeds.txt\nitems:\n  - fields:\n      t: {css: title}\n")
	res := runCLI(t, "", "run", job, "-q")
	wd, _ := os.Getwd()
	want := job + ": start_file nowhere-seeds.txt: no such file or directory (a relative path is read from the working directory, " + wd + ")"
	if res.code != exitUsage || strings.TrimSpace(res.stderr) != "fetchall: "+want {
		t.Errorf("exit %d, stderr %q; want exit 2 and %q", res.code, res.stderr, want)
	}
}

func TestJobStartFileAndErrorsOutput(t *testing.T) {
	_, base := startSite(t)
	starts := writeFile(t, "starts.txt", base+"/shop/catalogue/sharp-objects_4/index.html\n"+base+"/status/500\n")
	errs := filepath.Join(t.TempDir(), "errors.jsonl")
	job := writeFile(t, "job.yaml", "start_file: "+starts+"\nmax_depth: 0\nitems:\n  - fields:\n      title: {css: h1}\noutput: {errors: "+errs+"}\n")
	res := runCLI(t, "", "run", job, "-q")
	if res.code != exitFailures || strings.Count(res.stdout, "\n") != 1 || !strings.Contains(res.stdout, `"title":"Sharp Objects"`) {
		t.Errorf("exit %d stdout %q; want exit 1 (a page failed) and the one item", res.code, res.stdout)
	}
	data, err := os.ReadFile(errs)
	if err != nil || !strings.Contains(string(data), `"status":500`) || strings.Count(string(data), "\n") != 1 {
		t.Errorf("errors output %q (%v): want one record of the 500", data, err)
	}
}
