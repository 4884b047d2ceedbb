package cli

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fetchall/fetchall/internal/testsite"
)

// runExample runs testdata/jobs/NAME.yaml against a fresh test site
// (shaped by opts) with one worker, so that the order is fixed: the job's
// http://127.0.0.1:8080 becomes the site's address, and the items come
// back with it written http://SITE.
func runExample(t *testing.T, name string, opts testsite.Options, extra ...string) (cliResult, *testsite.Site) {
	t.Helper()
	site := testsite.NewWith(opts)
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	job := exampleJob(t, name, srv.URL)
	args := append([]string{"run", job, "--set", "concurrency=1", "--no-progress"}, extra...)
	res := runCLI(t, "", args...)
	res.stdout = strings.ReplaceAll(res.stdout, srv.URL, "http://SITE")
	res.stdout = strings.ReplaceAll(res.stdout, strings.TrimPrefix(srv.URL, "http://"), "SITE")
	return res, site
}

// exampleJob writes testdata/jobs/NAME.yaml with the site at base instead
// of http://127.0.0.1:8080, and returns its path.
func exampleJob(t *testing.T, name, base string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "jobs", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, name+".yaml", strings.ReplaceAll(string(data), "http://127.0.0.1:8080", base))
}

// TestExampleJobsGolden runs every second-edition example job, to JSONL
// and to CSV, and compares with its golden files.
func TestExampleJobsGolden(t *testing.T) {
	for _, name := range []string{"catalogue", "listing", "formats", "api", "api-pages", "structured"} {
		for _, format := range []string{"jsonl", "csv"} {
			t.Run(name+"."+format, func(t *testing.T) {
				res, _ := runExample(t, name, testsite.Options{}, "--set", "output.format="+format)
				if res.code != 0 {
					t.Fatalf("exit %d; stderr:\n%s", res.code, res.stderr)
				}
				checkGolden(t, name+".golden."+format, []byte(res.stdout))
			})
		}
	}
}

func TestJobNestedItemsAndPaginationBeyondMaxDepth(t *testing.T) {
	res, site := runExample(t, "formats", testsite.Options{})
	if res.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", res.code, res.stderr)
	}
	// max_depth is 1, yet all 20 listing pages were walked: pagination
	// does not use up depth, and each page was fetched once.
	for n := 1; n <= 20; n++ {
		if c := site.Count("/shop/all/page-" + strconv.Itoa(n) + ".html"); c != 1 {
			t.Errorf("listing page %d fetched %d times, want 1", n, c)
		}
	}
	type book struct {
		Title    string
		Variants []struct {
			Size  string
			Stock *int
		}
	}
	var books []book
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var b book
		if err := json.Unmarshal([]byte(line), &b); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		books = append(books, b)
	}
	if len(books) != 20 {
		t.Fatalf("%d books, want 20", len(books))
	}
	for i, b := range books {
		want := testsite.Books()[i]
		if b.Title != want.Title || len(b.Variants) != len(want.Formats) {
			t.Errorf("book %d: %q with %d variants, want %q with %d", i, b.Title, len(b.Variants), want.Title, len(want.Formats))
			continue
		}
		for k, v := range b.Variants {
			if v.Size != want.Formats[k].Size || v.Stock == nil || *v.Stock != want.Formats[k].Stock {
				t.Errorf("book %d variant %d: %+v, want %+v", i, k, v, want.Formats[k])
			}
		}
	}
	// max_pages bounds the chain: 5 pages of the listing, its first included.
	res, site = runExample(t, "formats", testsite.Options{}, "--set", "paginate.max_pages=5")
	if res.code != 0 || site.Count("/shop/all/page-5.html") != 1 || site.Count("/shop/all/page-6.html") != 0 || strings.Count(res.stdout, "\n") != 5 {
		t.Errorf("max_pages 5: exit %d, page 5 fetched %d, page 6 %d, %d items; want 1, 0, 5",
			res.code, site.Count("/shop/all/page-5.html"), site.Count("/shop/all/page-6.html"), strings.Count(res.stdout, "\n"))
	}
}

func TestJobCSVFlattensNestedLists(t *testing.T) {
	res, _ := runExample(t, "formats", testsite.Options{}, "--set", "output.format=csv")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if lines[0] != "url,title,upc,variants.size,variants.stock" {
		t.Fatalf("header %q", lines[0])
	}
	// One row per format, the book repeated; one row for a book without.
	rows := map[string]int{}
	for _, l := range lines[1:] {
		rows[strings.Split(l, ",")[1]]++
	}
	for _, b := range testsite.Books() {
		want := max(len(b.Formats), 1)
		if b.Title == "Soumission" {
			continue // two books share the title
		}
		if rows[b.Title] != want {
			t.Errorf("%q: %d rows, want %d", b.Title, rows[b.Title], want)
		}
	}
}

func TestJobContextFromTheLinkingPage(t *testing.T) {
	res, _ := runExample(t, "structured", testsite.Options{})
	if res.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", res.code, res.stderr)
	}
	books := map[string]testsite.Book{}
	for _, b := range testsite.Books() {
		books["http://SITE/shop/catalogue/"+b.Slug+"/index.html"] = b
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var item struct{ URL, Category, Currency string }
		if err := json.Unmarshal([]byte(line), &item); err != nil {
			t.Fatal(err)
		}
		// Every category listing is three books a page: books on its
		// second page and later got the category through pagination.
		if b := books[item.URL]; item.Category != b.Category() {
			t.Errorf("%s: category %q, want %q", item.URL, item.Category, b.Category())
		}
		n++
	}
	if n != 20 {
		t.Errorf("%d items, want 20", n)
	}
}

// --test on a job without contracts is refused before anything runs: the
// whole job ran, writing nothing, to say at its end that it had none.
func TestTestOfAJobWithoutContractsIsRefused(t *testing.T) {
	job := writeFile(t, "job.yaml", "start: [http://127.0.0.1:1/]\nitems:\n  - fields:\n      t: {css: h1}\n")
	page := writeFile(t, "page.html", "<h1>x</h1>")
	for _, args := range [][]string{{"run", "--test", job}, {"run", "--test", "--check", job, page}} {
		res := runCLI(t, "", args...)
		if res.code != exitUsage || res.stdout != "" || !strings.Contains(res.stderr, "has no contracts, so --test has nothing to check") {
			t.Errorf("%v: exit %d\n%s%s", args, res.code, res.stdout, res.stderr)
		}
	}
}

// TestJobContractsCatchASiteThatChanged: run --test holds on the shop,
// and fails, naming what broke, on the shop after a redesign.
func TestJobContractsCatchASiteThatChanged(t *testing.T) {
	for _, name := range []string{"structured", "api"} {
		res, _ := runExample(t, name, testsite.Options{}, "--test")
		if res.code != 0 || !strings.Contains(res.stdout, "0 broken") || strings.Contains(res.stdout, "BROKEN") {
			t.Errorf("%s --test on the shop: exit %d\n%s%s", name, res.code, res.stdout, res.stderr)
		}
		// --test writes no items: the summary said "20 items written".
		if !strings.Contains(res.stderr, " 20 items found (--test writes none), ") || strings.Contains(res.stderr, "written") {
			t.Errorf("%s --test summary says items were written:\n%s", name, res.stderr)
		}
	}
	res, _ := runExample(t, "structured", testsite.Options{ShopRedesign: true}, "--test")
	for _, want := range []string{"BROKEN product: filled price at least 90%: 0% of 20 items",
		"BROKEN product: sample http://SITE/shop/catalogue/a-light-in-the-attic_1/index.html: no item with every value: the closest item's price was missing",
		"ok     product: filled category at least 100%", "2 broken"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("--test on the changed shop lacks %q:\n%s", want, res.stdout)
		}
	}
	if res.code != exitFailures {
		t.Errorf("--test on the changed shop: exit %d, want 1", res.code)
	}
	// A normal run says so too, in its summary and exit code, and still
	// writes every item it found.
	res, _ = runExample(t, "api", testsite.Options{ShopRedesign: true})
	if res.code != exitFailures || !strings.Contains(res.stderr, "broken: book: filled name at least 100%") ||
		!strings.Contains(res.stderr, "contracts of") {
		t.Errorf("run on the changed API: exit %d stderr:\n%s", res.code, res.stderr)
	}
}

func TestJobTestOnSavedPages(t *testing.T) {
	site := testsite.New()
	srv := httptest.NewServer(site)
	defer srv.Close()
	save := func(path string) string {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		if _, err := io.Copy(&b, resp.Body); err != nil {
			t.Fatal(err)
		}
		return writeFile(t, strings.NewReplacer("/", "_", "?", "_", "=", "_").Replace(path), b.String())
	}
	page := save("/shop/catalogue/a-light-in-the-attic_1/index.html")
	apiPage := save("/api/items?page=1")
	job := "../../testdata/jobs/structured.yaml"
	before := site.Total()
	// The sample's page, under its URL: per_page and the sample hold (but
	// for the category, which a saved page cannot know); total fails over
	// one page.
	res := runCLI(t, "", "run", "--test", "--check", job, page, "--url", "http://127.0.0.1:8080/shop/catalogue/a-light-in-the-attic_1/index.html")
	for _, want := range []string{"ok     product: per_page between 1 and 1", "ok     product: sample", "BROKEN product: total at least 20: 1 item written",
		"skip   product: filled category at least 100%: passed on by a follow rule", "1 broken"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("--test --check lacks %q:\n%s", want, res.stdout)
		}
	}
	if res.code != exitFailures {
		t.Errorf("--test --check with a broken total: exit %d, want 1", res.code)
	}
	// A saved JSON page: jq items, and the sample of another job is not
	// among the pages, so it is skipped, not broken.
	res = runCLI(t, "", "run", "--check", "../../testdata/jobs/api.yaml", apiPage, "--url", "http://127.0.0.1:8080/api/items")
	if res.code == exitUsage || strings.Count(res.stdout, "\n") != 5 || !strings.Contains(res.stdout, `"name":"A Light in the Attic"`) {
		t.Errorf("--check on a JSON page: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, "", "run", "--test", "--check", job, page)
	if !strings.Contains(res.stdout, "skip   product: sample") {
		t.Errorf("a sample whose page was not given should be skipped:\n%s", res.stdout)
	}
	if site.Total() != before {
		t.Error("--check fetched something")
	}
	res = runCLI(t, "", "run", "--check", job, page, apiPage, "--url", "http://a/")
	if res.code != exitUsage || !strings.Contains(res.stderr, "--url given 1 time for 2 pages") {
		t.Errorf("--url count mismatch: exit %d %q", res.code, res.stderr)
	}
}

func TestJobStartTemplates(t *testing.T) {
	res, site := runExample(t, "api-pages", testsite.Options{})
	if res.code != 0 || strings.Count(res.stdout, "\n") != 21 {
		t.Fatalf("exit %d, %d lines; stderr:\n%s", res.code, strings.Count(res.stdout, "\n"), res.stderr)
	}
	for n := 1; n <= 4; n++ {
		if c := site.URICounts()["/api/items?page="+strconv.Itoa(n)]; c != 1 {
			t.Errorf("page %d fetched %d times", n, c)
		}
	}
	res = runCLI(t, "", "run", writeFile(t, "job.yaml", "start: ['http://a/p{01..12..5}/{1..2}']\nitems:\n  - fields:\n      t: {css: h1}\n"), "--dry-run")
	for _, want := range []string{"http://a/p01/1", "http://a/p01/2", "http://a/p06/2", "http://a/p11/1"} {
		if !strings.Contains(res.stdout, want+"\n") {
			t.Errorf("dry run lacks %s:\n%s", want, res.stdout)
		}
	}
	if strings.Count(res.stdout, "http://a/p") != 6 {
		t.Errorf("want 6 start URLs:\n%s", res.stdout)
	}
}

// TestJobV2ErrorsNameTheirLine: every new key's mistakes stop the job
// before any fetch, naming file, line and key.
func TestJobV2ErrorsNameTheirLine(t *testing.T) {
	const head = "start: [http://a/]\nitems:\n  - fields:\n"
	tests := []struct{ yaml, want string }{
		{head + "      t: {xpath: '//td['}\n", `line 4: key "items[0].fields.t.xpath": bad XPath`},
		{head + "      t: {jq: '.a | '}\n", `line 4: key "items[0].fields.t.jq": bad jq`},
		{head + "      t: {css: h1, xpath: //h1}\n", `line 4: key "items[0].fields.t": give one source`},
		{head + "      t: {type: int}\n", `line 4: key "items[0].fields.t": a field needs a source`},
		{head + "      t: {meta: og:title, attr: x}\n", `line 4: key "items[0].fields.t": html and attr apply to css and xpath`},
		{head + "      t: {jsonld: [Product]}\n", `line 4: key "items[0].fields.t.jsonld": want a single value`},
		{head + "      v:\n        select: li\n", `line 5: key "items[0].fields.v.select": select makes a nested field`},
		{head + "      v:\n        fields: {s: {css: b}}\n", `line 5: key "items[0].fields.v.select": a nested field needs select`},
		{head + "      v:\n        select: li\n        css: b\n        fields: {s: {css: b}}\n", `line 6: key "items[0].fields.v.css": css does not apply to a nested field`},
		{head + "      v:\n        select: {css: li, jq: .a}\n        fields: {s: {css: b}}\n", `line 5: key "items[0].fields.v.select": give one of css, xpath, jq`},
		{head + "      v:\n        select: {cs: li}\n        fields: {s: {css: b}}\n", `line 5: key "items[0].fields.v.select": unknown key "cs"`},
		{head + "      v:\n        select: li\n        fields: {s: {css: b, colour: 1}}\n", `line 6: key "items[0].fields.v.fields.s.colour": unknown key`},
		{head + "      t: {meta: [og:title]}\n", `line 4: key "items[0].fields.t.meta": want a single value`},
		{head + "      v:\n        select: [li]\n        fields: {s: {css: b}}\n", `line 5: key "items[0].fields.v.select": want a CSS selector, or one of`},
		{"start: [http://a/]\nfollow:\n  - css: a\n    pass: [h1]\nitems:\n  - fields:\n      t: {css: h1}\n", `line 4: key "follow[0].pass": want a mapping of field name`},
		{"start: [http://a/]\nfollow:\n  - css: a\n    pass: {v: {select: li, fields: {s: {css: b}}}}\nitems:\n  - fields:\n      t: {css: h1}\n", `line 4: key "follow[0].pass.v": a passed field is one value`},
		{"start: [http://a/]\nfollow: {css: a}\nitems:\n  - fields:\n      t: {css: h1}\n", `line 2: key "follow": want a list of CSS selectors`},
		{head + "      a.b: {css: b}\n", `line 4: key "items[0].fields.a.b": a field name cannot hold "."`},
		{"start: [http://a/]\nfollow:\n  - css: a\n    pass: {c: {css: h1, colour: 1}}\nitems:\n  - fields:\n      t: {css: h1}\n", `line 4: key "follow[0].pass.c.colour": unknown key`},
		{"start: [http://a/]\nfollow:\n  - pass: {c: {css: h1}}\nitems:\n  - fields:\n      t: {css: h1}\n", `line 3: key "follow[0].css": a follow rule needs css`},
		{"start: [http://a/]\nfollow:\n  - {css: a, carry: 1}\nitems:\n  - fields:\n      t: {css: h1}\n", `line 3: key "follow[0].carry": unknown key`},
		{"start: [http://a/]\npaginate: {max_pages: 5}\nitems:\n  - fields:\n      t: {css: h1}\n", `line 2: key "paginate": paginate needs next`},
		{"start: [http://a/]\npaginate: {next: a, max_pages: 0}\nitems:\n  - fields:\n      t: {css: h1}\n", `line 2: key "paginate.max_pages": max_pages 0`},
		{"start: [http://a/]\npaginate: {next: a, param: c}\nitems:\n  - fields:\n      t: {css: h1}\n", `line 2: key "paginate.param": param names the query parameter`},
		{"start: [http://a/]\nitems:\n  - paginate: {jq: '.['}\n    fields:\n      t: {css: h1}\n", `line 3: key "items[0].paginate.jq": bad jq`},
		{"start: [http://a/]\nitems:\n  - paginate: {next: a, nxt: b}\n    fields:\n      t: {css: h1}\n", `line 3: key "items[0].paginate.nxt": unknown key (did you mean "next"?)`},
		{"start: ['http://a/{3..1}']\nitems:\n  - fields:\n      t: {css: h1}\n", `line 1: key "start[0]": range {3..1}: counts up only`},
		{"start: ['http://a/{1..9..0}']\nitems:\n  - fields:\n      t: {css: h1}\n", `line 1: key "start[0]": range {1..9..0}: the step must be at least 1`},
		{"start:\n  - http://a/\n  - 'http://a/{1..9999999}'\nitems:\n  - fields:\n      t: {css: h1}\n", `line 3: key "start[1]": range {1..9999999}: more than 100000 start URLs`},
		{head + "      t: {css: h1}\n    expect: {per_page: {min: 5, max: 1}}\n", `line 5: key "items[0].expect.per_page": min 5 is more than max 1`},
		{head + "      t: {css: h1}\n    expect: {total: {least: 5}}\n", `line 5: key "items[0].expect.total.least": unknown key`},
		{head + "      t: {css: h1}\n    expect: {total: {min: many}}\n", `line 5: key "items[0].expect.total.min": want a whole number`},
		{head + "      t: {css: h1}\n    expect: {filled: {price: 90%}}\n", `line 5: key "items[0].expect.filled.price": "price" is not a field of this rule`},
		{head + "      t: {css: h1}\n    expect: {filled: {t: 120%}}\n", `line 5: key "items[0].expect.filled.t": a share is between 0% and 100%`},
		{head + "      t: {css: h1}\n    expect: {filled: {t: most}}\n", `line 5: key "items[0].expect.filled.t": want a share such as 90%`},
		{head + "      t: {css: h1}\n    expect:\n      samples:\n        - url: /x\n          includes: {t: a}\n", `line 7: key "items[0].expect.samples[0].url": want an absolute URL`},
		{head + "      t: {css: h1}\n    expect:\n      samples:\n        - url: http://a/x\n          includes: {n: a}\n", `line 8: key "items[0].expect.samples[0].includes.n": "n" is not a field`},
		{head + "      t: {css: h1}\n    expect:\n      samples:\n        - url: http://a/x\n", `line 7: key "items[0].expect.samples[0]": a sample needs url and includes`},
		{head + "      t: {css: h1}\n    expect: {perpage: {min: 1}}\n", `line 5: key "items[0].expect.perpage": unknown key (did you mean "per_page"?)`},
	}
	for _, tt := range tests {
		job := writeFile(t, "job.yaml", tt.yaml)
		res := runCLI(t, "", "run", job, "--dry-run")
		if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) || !strings.Contains(res.stderr, "job.yaml") {
			t.Errorf("job %q:\nexit %d stderr %q\nwant exit 2 and %q", tt.yaml, res.code, res.stderr, tt.want)
		}
	}
}
