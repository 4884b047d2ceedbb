package job

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"net/http"
	"net/url"

	"github.com/PuerkitoBio/goquery"
	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/output"
)

func TestExampleJobsParse(t *testing.T) {
	files, _ := filepath.Glob("../testdata/jobs/*.yaml")
	if len(files) < 2 {
		t.Fatalf("found %d example jobs", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(f, data, nil); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// A bad value or key given with --set is named as --set's, not by a line
// of the file: a new key said "line 0", a replaced value the file's line
// of the value it replaced, or "line 1" of its own text.
func TestSetErrorsNameTheSet(t *testing.T) {
	file := []byte("start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\noutput:\n  format: jsonl\n")
	for _, tt := range []struct{ set, want string }{
		{"output.format=xml", `--set output.format: format "xml": want jsonl or csv`},
		{"items=5", "--set items: "},
		{"output.colour=red", "--set output.colour: unknown key"},
		// A key made under a new mapping: the mapping said "line 0".
		{"paginate.max_pages=0", "--set paginate: "},
		{"start=", "--set start: an empty start URL"},
		// Checks across keys named the file's first line.
		{"output.unique_by=nope", `--set output.unique_by: "nope" is not a field of any rule`},
		{"start_file=seeds.txt", "--set start_file: give start or start_file, not both"},
	} {
		_, err := Parse("j.yaml", file, []string{tt.set})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("--set %s: %v, want it to start %q", tt.set, err, tt.want)
		}
	}
	// The file's own mistakes keep their lines.
	if _, err := Parse("j.yaml", []byte("start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\noutput:\n  format: xml\n"), nil); err == nil || !strings.HasPrefix(err.Error(), "j.yaml line 6: ") {
		t.Errorf("a bad format in the file: %v, want its line 6", err)
	}
}

// A URL list given to run says what it looks like, and what runs it.
func TestAListGivenAsAJobIsNamed(t *testing.T) {
	_, err := Parse("urls.txt", []byte("# my list\nhttp://a/1\nhttp://a/2\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "urls.txt line 2: want a mapping of key: value (this looks like a list of URLs: fetchall FILE fetches them") {
		t.Errorf("a list as a job: %v", err)
	}
}

// A start URL that is not one stops the job before anything is fetched,
// naming its line, as a bad selector does: it was fetched as a bad_url
// record, exit 1, after the job had started.
func TestBadStartURLsNameTheirLine(t *testing.T) {
	for _, tt := range []struct{ start, want string }{
		{`["http://a/", "not a url"]`, `j.yaml line 1: key "start[1]": "not a url": not an absolute http or https URL`},
		{`["ftp://a/"]`, `j.yaml line 1: key "start[0]": "ftp://a/": scheme "ftp"`},
		{`[""]`, `j.yaml line 1: key "start[0]": an empty start URL`},
		{`["http://a:{65535..65536}/"]`, `j.yaml line 1: key "start[0]": "http://a:65536/": `},
		{`"http://exa mple.org/"`, `j.yaml line 1: key "start": "http://exa mple.org/": `},
	} {
		_, err := Parse("j.yaml", []byte("start: "+tt.start+"\nitems:\n  - fields:\n      t: {css: h1}\n"), nil)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("start %s: %v, want it to start %q", tt.start, err, tt.want)
		}
	}
	// Spaces around a URL are trimmed, as a list line's are.
	if _, err := Parse("j.yaml", []byte("start: [' http://a/p{1..3} ']\nitems:\n  - fields:\n      t: {css: h1}\n"), nil); err != nil {
		t.Errorf("a start URL with spaces around: %v", err)
	}
}

func TestSetOverrides(t *testing.T) {
	j, err := Parse("j.yaml", []byte("start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\noutput: {format: jsonl}\n"),
		[]string{"output.format=csv", "output.path=out.csv", "max_pages=7", "start=http://b/"})
	if err != nil {
		t.Fatal(err)
	}
	if j.Output.Format != "csv" || j.Output.Path != "out.csv" || j.Start[0] != "http://b/" || j.Settings == nil {
		t.Errorf("after --set: output %+v start %v settings %v", j.Output, j.Start, j.Settings)
	}
	if _, err := Parse("j.yaml", []byte("start: x\nitems: []\n"), []string{"start.deeper=1"}); err == nil || !strings.Contains(err.Error(), "start is not a mapping") {
		t.Errorf("--set through a scalar: %v", err)
	}
	if _, err := Parse("j.yaml", []byte("start: x\n"), []string{"novalue"}); err == nil || !strings.Contains(err.Error(), "want key=value") {
		t.Errorf("--set without =: %v", err)
	}
}

func TestExtractFieldSteps(t *testing.T) {
	job := `start: [http://a/]
items:
  - select: div.p
    fields:
      name: {css: h2, required: true}
      n: {css: span.n, regex: '(\d+) left', type: int, default: -1}
      ok: {css: span.ok, type: bool}
      tags: {css: li, all: true}
      href: {css: a, attr: href, url: true}
      inner: {css: em, html: true}
`
	j, err := Parse("j.yaml", []byte(job), nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(`<base href="http://cdn.test/x/">
	<div class="p"><h2> One
	 book</h2><span class="n">3 left</span><span class="ok">TRUE</span><ul><li>a</li><li>b</li></ul><a href="y">y</a><em>i<b>j</b></em></div>
	<div class="p"><h2>Two</h2><span class="n">none left</span></div>
	<div class="p"><span class="n">9 left</span></div>`))
	page, _ := url.Parse("http://a/list")
	got := NewExtractor(j).Extract(&crawler.Page{URL: page, Doc: doc}).Items.(PageItems)
	if len(got.Items) != 2 || got.Dropped[0] != 1 {
		t.Fatalf("items %+v dropped %v; want 2 items and the one without a name dropped", got.Items, got.Dropped)
	}
	first, second := got.Items[0].Values, got.Items[1].Values
	if first[0] != "One book" || first[1] != int64(3) || first[2] != true || len(first[3].([]any)) != 2 ||
		first[4] != "http://cdn.test/x/y" || first[5] != "i<b>j</b>" {
		t.Errorf("first item %#v", first)
	}
	if second[1] != int64(-1) || second[2] != nil || second[3] != nil {
		t.Errorf("second item %#v: want the default for n, null for the rest", second)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\n",
		"start: x\nitems:\n  - match: '('\n", "- a\n", "items: {a: b}\n", "output: [1]\n",
		"start: [u]\nitems:\n  - select: 'a['\n    fields: {t: {css: b, default: 1, type: float}}\n",
	} {
		f.Add(seed, "output.format=csv")
	}
	f.Fuzz(func(t *testing.T, doc, set string) {
		j, err := Parse("f.yaml", []byte(doc), []string{set})
		if err == nil && (len(j.Rules) == 0 || len(j.Start) == 0 && j.StartFile == "") {
			t.Fatalf("Parse accepted a job without rules or start: %q", doc)
		}
	})
}

// The syntax the jobs v2 issue fixed, as written there, parses whole.
func TestIssueSyntaxParses(t *testing.T) {
	const doc = `start: ["http://127.0.0.1:8080/api/items?page={1..3}"]   # ranges expand
follow:
  - css: "article h3 > a"
    pass: {category: {css: h1}}            # context carried to the linked page
paginate: {next: "li.next > a", max_pages: 500}   # or {jq: .next} / {jq: .cursor, param: cursor}
items:
  - name: product
    match: '/catalogue/'
    select: article.product_page           # CSS; for JSON responses: select: {jq: ".results[]"}
    fields:
      title: {css: h1}
      sku:   {xpath: "//table//tr[th='UPC']/td"}
      price: {jsonld: Product, jq: .offers.price}   # first JSON-LD object of that @type, then jq
      image: {meta: "og:image"}
      name:  {jq: .name}                   # on a JSON item
      variants:                            # nested: a list of objects
        select: "ul.variants > li"
        fields:
          size: {css: .size}
          stock: {css: .stock, type: int}
    expect:
      per_page: {min: 1, max: 50}          # items from each matching page
      total: {min: 15}                     # items in the whole run
      filled: {title: 100%, price: 90%}    # share of items with the field present and not empty
      samples:
        - url: http://127.0.0.1:8080/shop/catalogue/a-light-in-the-attic_1/index.html
          includes: {title: A Light in the Attic}
`
	j, err := Parse("issue.yaml", []byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := j.Rules[0]
	if len(j.Start) != 3 || j.Start[2] != "http://127.0.0.1:8080/api/items?page=3" || j.Paginate.MaxPages != 500 ||
		j.ContextNames()[0] != "category" || r.Select.CSS == nil || len(r.Fields) != 6 || !r.Fields[5].Nested() ||
		r.Fields[5].Fields[1].Type != "int" || r.Expect.Filled[1].Min != 0.9 || !r.Expect.PerPage.HasMax || r.Expect.Total.Min != 15 ||
		r.Expect.Samples[0].Includes[0].Value != "A Light in the Attic" {
		t.Errorf("parsed as %+v\nrule %+v", j, r)
	}
	for _, alt := range []string{"{jq: .next}", "{jq: .cursor, param: cursor}"} {
		if _, err := Parse("alt.yaml", []byte(strings.Replace(doc, `{next: "li.next > a", max_pages: 500}`, alt, 1)), nil); err != nil {
			t.Errorf("paginate %s: %v", alt, err)
		}
	}
	if _, err := Parse("alt.yaml", []byte(strings.Replace(doc, "select: article.product_page", `select: {jq: ".results[]"}`, 1)), nil); err != nil {
		t.Errorf("select by jq: %v", err)
	}
}

// Relative CSS and XPath inside a select, an XPath ending on an
// attribute, a scalar XPath, JSON-LD in @graph or alone, meta by
// property or name.
func TestExtractSources(t *testing.T) {
	job := `start: [http://a/]
items:
  - select: {xpath: "//div[@class='p']"}
    fields:
      id: {xpath: ./@id}
      cells: {xpath: ".//td", all: true}
      count: {xpath: "count(.//td)", type: int}
      name: {css: h2}
      brand: {jsonld: Product, jq: .brand.name}
      graph: {jsonld: BreadcrumbList, jq: ".itemListElement | length"}
      og: {meta: "og:title"}
      card: {meta: "twitter:card"}
      nested:
        select: {xpath: ".//tr"}
        fields:
          v: {xpath: "./td"}
`
	j, err := Parse("j.yaml", []byte(job), nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(`<head><meta property="og:title" content="OG">
	<meta name="twitter:card" content="summary">
	<script type="application/ld+json">{"@type":"Product","brand":{"name":"ACME"}}</script>
	<script type="application/ld+json">{"@graph":[{"@type":["BreadcrumbList"],"itemListElement":[1,2]}]}</script></head>
	<div class="p" id="one"><h2>First</h2><table><tr><td>a</td></tr><tr><td>b</td></tr></table></div>
	<div class="p" id="two"><h2>Second</h2></div>`))
	page, _ := url.Parse("http://a/")
	got := NewExtractor(j).Extract(&crawler.Page{URL: page, Doc: doc}).Items.(PageItems)
	if len(got.Items) != 2 {
		t.Fatalf("%d items, want 2", len(got.Items))
	}
	first, second := got.Items[0].Values, got.Items[1].Values
	want := []any{"one", []any{"a", "b"}, int64(2), "First", "ACME", 2, "OG", "summary"}
	for k, w := range want {
		if fmt.Sprint(first[k]) != fmt.Sprint(w) {
			t.Errorf("field %s = %#v, want %#v", j.Rules[0].Fields[k].Name, first[k], w)
		}
	}
	if rows := first[8].([]Object); len(rows) != 2 || rows[1].Values[0] != "b" {
		t.Errorf("nested rows %+v", rows)
	}
	if second[0] != "two" || second[1] != nil || second[2] != int64(0) || len(second[8].([]Object)) != 0 {
		t.Errorf("second item %#v: cells relative to it, so none", second)
	}
}

// JSON pages: items from jq, a next page by URL or by cursor, a Link
// header, and the chain's bound.
func TestJSONPagesAndPagination(t *testing.T) {
	job := `start: ["http://a/api?x=1"]
paginate: {jq: .cursor, param: cursor, max_pages: 3}
items:
  - select: {jq: ".results[]"}
    fields:
      n: {jq: .n}
      tag: {jq: ".tags[]", all: true}
`
	j, err := Parse("j.yaml", []byte(job), nil)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := url.Parse("http://a/api?x=1")
	body := []byte(`{"results":[{"n":1,"tags":["a","b"]},{"n":2.5}],"cursor":"c2"}`)
	x := NewExtractor(j).Extract(&crawler.Page{URL: page, Body: body, Header: http.Header{"Link": {`<http://a/api?page=9>; rel="next"`}}})
	items := x.Items.(PageItems).Items
	if len(items) != 2 || fmt.Sprint(items[0].Values) != "[1 [a b]]" || fmt.Sprint(items[1].Values) != "[2.5 <nil>]" {
		t.Errorf("items %+v", items)
	}
	if len(x.Links) != 2 || x.Links[0].URL.String() != "http://a/api?cursor=c2&x=1" || !x.Links[0].Next || x.Links[1].URL.String() != "http://a/api?page=9" {
		t.Errorf("links %+v", x.Links)
	}
	// The third page of a chain of at most 3 has no next.
	x = NewExtractor(j).Extract(&crawler.Page{URL: page, Body: body, Chain: 2, Header: http.Header{}})
	if len(x.Links) != 0 {
		t.Errorf("past max_pages: links %+v", x.Links)
	}
	// The last page: a null cursor is no next page.
	x = NewExtractor(j).Extract(&crawler.Page{URL: page, Body: []byte(`{"results":[],"cursor":null}`), Header: http.Header{}})
	if len(x.Links) != 0 {
		t.Errorf("null cursor: links %+v", x.Links)
	}
}

// A start URL never fetched (not a URL, kept back by robots.txt) is not a
// page: the summary counts it apart, and its record still goes to the
// errors output. It said "job: 1 pages, 1 failed" where the crawl said 0.
func TestReportCountsStartURLsNeverFetchedApart(t *testing.T) {
	j, err := Parse("j.yaml", []byte("start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var items, errs, report bytes.Buffer
	w, err := NewWriter(j, &items, &errs, false, output.FieldSet{})
	if err != nil {
		t.Fatal(err)
	}
	kept := &crawler.Result{URL: "http://a/", Crawled: true, Err: &fetch.Error{Kind: fetch.KindRobots, Err: errors.New("robots.txt disallows it")}}
	failed := &crawler.Result{URL: "http://a/x", Crawled: true, Attempts: 1, Status: 500, Err: &fetch.Error{Kind: fetch.KindHTTPStatus, Err: errors.New("status 500")}}
	for _, r := range []*crawler.Result{kept, failed} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	w.Report(&report)
	if want := "job: 1 page, 1 failed, 1 start URL not fetched (not URLs, or kept back by robots.txt)\n"; !strings.HasPrefix(report.String(), want) {
		t.Errorf("report %q, want it to start %q", report.String(), want)
	}
	if n := strings.Count(errs.String(), "\n"); n != 2 {
		t.Errorf("%d error records, want both", n)
	}
}

// roomyFile takes room more bytes, then fails as a full disk does.
type roomyFile struct {
	*os.File
	room int
}

func (f *roomyFile) Write(p []byte) (int, error) {
	n := min(len(p), f.room)
	n, _ = f.File.Write(p[:n])
	f.room -= n
	if n < len(p) {
		return n, syscall.ENOSPC
	}
	return n, nil
}

// On a full disk the items file keeps whole items only, as many as the
// summary counts written.
func TestItemsOnAFullDiskAreWholeAndCounted(t *testing.T) {
	for _, format := range []string{"jsonl", "csv"} {
		j, err := Parse("j.yaml", []byte("start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\noutput: {format: "+format+"}\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "items")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w, err := NewWriter(j, &roomyFile{File: f, room: 300}, nil, false, output.FieldSet{})
		if err != nil {
			t.Fatal(err)
		}
		var flushErr error
		for i := 0; i < 40 && flushErr == nil; i++ {
			page := PageItems{Items: []Item{{URL: fmt.Sprintf("http://a/%d", i), Values: []any{strings.Repeat("t", i)}}}}
			if err := w.Write(&crawler.Result{URL: "http://a/", OK: true, Attempts: 1, Items: page}); err != nil {
				t.Fatal(err)
			}
			if i%3 == 2 {
				flushErr = w.Flush()
			}
		}
		if !errors.Is(flushErr, syscall.ENOSPC) {
			t.Fatalf("%s: flush error %v, want the full disk's", format, flushErr)
		}
		data, _ := os.ReadFile(path)
		lines := strings.Count(string(data), "\n")
		if format == "csv" {
			lines--
		}
		if len(data) == 0 || data[len(data)-1] != '\n' || lines != w.Stats.Written[0] {
			t.Errorf("%s: %q: %d items, want whole lines, as many as the %d counted", format, data, lines, w.Stats.Written[0])
		}
	}
}

// An item's text cannot drive the terminal that shows the CSV: control
// characters become U+FFFD, line ends stay.
func TestCSVItemsAreInert(t *testing.T) {
	j, err := Parse("j.yaml", []byte("start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\noutput: {format: csv}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := NewWriter(j, &buf, nil, false, output.FieldSet{})
	if err != nil {
		t.Fatal(err)
	}
	page := PageItems{Items: []Item{{URL: "http://a/", Values: []any{"x\x1b]52;c;cHdu\x07y\nz"}}}}
	if err := w.Write(&crawler.Result{URL: "http://a/", OK: true, Attempts: 1, Items: page}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, "x\uFFFD]52;c;cHdu\uFFFDy\nz") {
		t.Errorf("items CSV %q: want the escape and the bell as U+FFFD, the line end kept", out)
	}
}

// A jq program that fails on a page gives no value, and the job's summary
// says how many failed and what the first said (it was silent: a field
// was null on every item, and nothing told why).
func TestFailedJQRunsAreCountedAndSaid(t *testing.T) {
	j, err := Parse("j.yaml", []byte("start: [\"http://a/api\"]\nitems:\n  - select: {jq: \".results[]\"}\n    fields:\n      name: {jq: .name}\n      price: {jq: \".name | tonumber\"}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := url.Parse("http://a/api")
	x := NewExtractor(j).Extract(&crawler.Page{URL: page, Body: []byte(`{"results":[{"name":"A"},{"name":"7"}]}`), Header: http.Header{}})
	found := x.Items.(PageItems)
	if len(found.Items) != 2 || found.Items[0].Values[1] != nil || found.Items[1].Values[1] != 7 {
		t.Fatalf("items %+v: want price null for A and 7 for 7", found.Items)
	}
	if found.JQErrors != 1 || !strings.Contains(found.JQError, `".name | tonumber"`) {
		t.Fatalf("jq errors %d, %q; want one, naming the program", found.JQErrors, found.JQError)
	}
	w, err := NewWriter(j, &bytes.Buffer{}, nil, false, output.FieldSet{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&crawler.Result{URL: "http://a/api", OK: true, Attempts: 1, Items: found}); err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	w.Report(&report)
	if !strings.Contains(report.String(), "jq: 1 run failed and gave no value; the first, on http://a/api: jq \".name | tonumber\"") {
		t.Errorf("report:\n%s\nwant the failed jq run counted and said", report.String())
	}
}

// Numbers as pages write them: the decimal comma is read as one, and
// what is not a number is not made one (removing every comma read
// "12,50" as 1250).
func TestConvertReadsPageNumbers(t *testing.T) {
	for _, tt := range []struct {
		text, typ string
		want      any // nil: an error
	}{
		{"1,234.50", "float", 1234.5},
		{"1.234,50", "float", 1234.5},
		{"12,50", "float", 12.5},
		{"0,125", "float", 0.125},
		{"1,234", "float", 1234.0},
		{"1.234", "float", 1.234},
		{"1 234,5", "float", 1234.5},
		{"1\u00a0234\u00a0567", "int", int64(1234567)},
		{"1'234.25", "float", 1234.25},
		{"1.234.567", "int", int64(1234567)},
		{"1,234,567.8", "float", 1234567.8},
		{" -3 ", "int", int64(-3)},
		{"+.5", "float", 0.5},
		{"42", "int", int64(42)},
		{"1,234", "int", int64(1234)},
		{"12,50", "int", nil},
		{"1,2,3", "int", nil},
		{"2" + strings.Repeat("0", 400), "float", nil}, // past a float64 (found by FuzzPlainNumber)
		{"9" + strings.Repeat("0", 30), "int", nil},
		{"12,3456", "float", 12.3456},
		{"1,23,456", "int", int64(123456)},
		{"1,23,45", "int", nil},
		{"1.5.", "float", nil},
		{"12.", "float", 12.0}, // as strconv read it before
		{".", "float", nil},
		{"NaN", "float", nil},
		{"Inf", "float", nil},
		{"0x1p-2", "float", nil},
		{"£51.77", "float", nil},
		{"", "int", nil},
		{"yes", "bool", true},
		{"No", "bool", false},
		{"true", "bool", true},
		{"maybe", "bool", nil},
	} {
		got, err := convert(tt.text, tt.typ)
		if tt.want == nil {
			if err == nil {
				t.Errorf("convert(%q, %s) = %v, want an error", tt.text, tt.typ, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("convert(%q, %s) = %v, %v; want %v", tt.text, tt.typ, got, err, tt.want)
		}
	}
}

// A value found that its field's type cannot read ("£51.77" as a float)
// gives no value, and the summary says how many and the first: it was a
// silent null on every item. Empty text is a value missing, not counted.
func TestValuesNotOfTheirTypeAreCountedAndSaid(t *testing.T) {
	j, err := Parse("j.yaml", []byte("start: [\"http://a/\"]\nitems:\n  - select: li\n    fields:\n      name: {css: b}\n      price: {css: i, type: float}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := url.Parse("http://a/")
	body := `<ul><li><b>A</b><i>£51.77</i></li><li><b>B</b><i>12,50</i></li><li><b>C</b><i> </i></li><li><b>D</b><i>n/a</i></li></ul>`
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	found := NewExtractor(j).Extract(&crawler.Page{URL: page, Doc: doc}).Items.(PageItems)
	if len(found.Items) != 4 || found.Items[0].Values[1] != nil || found.Items[1].Values[1] != 12.5 || found.Items[2].Values[1] != nil {
		t.Fatalf("items %+v: want price null for A, C and D, 12.5 for B", found.Items)
	}
	if found.TypeErrors != 2 || found.TypeError != `field price: "£51.77" is not a float` {
		t.Fatalf("type errors %d, %q; want two, the first naming its field and text", found.TypeErrors, found.TypeError)
	}
	w, err := NewWriter(j, &bytes.Buffer{}, nil, false, output.FieldSet{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&crawler.Result{URL: "http://a/", OK: true, Attempts: 1, Items: found}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	w.Report(&report)
	for _, want := range []string{
		"items[0]: 4 items written, 0 dropped (missing a required field), 0 duplicates dropped, 0 matching pages gave no item\n",
		"type: 2 values were not of the field's type and gave no value (a regex can pick a number out of text); the first, on http://a/: field price: \"£51.77\" is not a float\n",
	} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report:\n%s\nwant %q", report.String(), want)
		}
	}
}

// Items go in the format their file's name asks for (.csv, .jsonl) unless
// --set says otherwise, as fetch's -o does: -o books.csv wrote JSON Lines
// into books.csv.
func TestOutputFormatFollowsTheFileName(t *testing.T) {
	parse := func(output string, sets ...string) Output {
		t.Helper()
		j, err := Parse("j.yaml", []byte("start: [http://a/]\nitems:\n  - fields:\n      t: {css: h1}\n"+output), sets)
		if err != nil {
			t.Fatal(err)
		}
		return j.Output
	}
	for _, tt := range []struct {
		output string
		sets   []string
		o      string // a -o, or ""
		want   string
	}{
		{"", nil, "", "jsonl"},
		{"", nil, "books.csv", "csv"},
		{"output: {format: jsonl}\n", nil, "books.CSV", "csv"}, // the command line's -o over the file
		{"output: {format: csv}\n", nil, "books.jsonl", "jsonl"},
		{"output: {format: jsonl}\n", []string{"output.format=jsonl"}, "books.csv", "jsonl"}, // --set is said on purpose
		{"output: {path: books.csv}\n", nil, "", "csv"},
		{"output: {path: books.csv, format: jsonl}\n", nil, "", "jsonl"}, // both the file's: as written
		{"output: {format: jsonl}\n", []string{"output.path=books.csv"}, "", "csv"},
		{"", nil, "books.txt", "jsonl"},
	} {
		o := parse(tt.output, tt.sets...)
		if tt.o != "" {
			o.SetOutputPath(tt.o)
		}
		if o.Format != tt.want {
			t.Errorf("%q %v -o %q: format %s, want %s", tt.output, tt.sets, tt.o, o.Format, tt.want)
		}
	}
}

// Whatever plainNumber accepts is a number Go reads (or one too large for
// a float64, which convert then refuses as no float), and a number Go
// writes is read as itself, with and without thousands separators.
func FuzzPlainNumber(f *testing.F) {
	for _, s := range []string{"1,234.50", "1.234,50", "12,50", "1 234", "-0,5", "1,23,456", "£5", "", ".", ",", "1..2"} {
		f.Add(s, int64(1234567), uint8(2))
	}
	f.Fuzz(func(t *testing.T, text string, n int64, decimals uint8) {
		if num, ok := plainNumber(text); ok {
			if _, err := strconv.ParseFloat(num, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
				t.Fatalf("plainNumber(%q) = %q, which ParseFloat refuses: %v", text, num, err)
			}
		}
		if n < 0 {
			n = -n
		}
		if n < 0 { // math.MinInt64
			return
		}
		whole := strconv.FormatInt(n, 10)
		grouped := whole
		for i := len(whole) - 3; i > 0; i -= 3 {
			grouped = grouped[:i] + "," + grouped[i:]
		}
		for _, s := range []string{whole, grouped} {
			if num, ok := plainNumber(s); !ok || num != whole {
				t.Fatalf("plainNumber(%q) = %q, %v; want %q", s, num, ok, whole)
			}
		}
		if d := int(decimals%4) + 1; d != 3 { // three decimals after a lone comma read as thousands
			frac := strings.Repeat("7", d)
			if num, ok := plainNumber(grouped + "." + frac); !ok || num != whole+"."+frac {
				t.Fatalf("plainNumber(%q) = %q, %v; want %q", grouped+"."+frac, num, ok, whole+"."+frac)
			}
		}
	})
}

// A JSON page's numbers are kept as written: an id of 23 digits stays
// that id (a float64 made it 1.2345678901234568e+22), a cursor too, a
// page with 1e400 anywhere still gives its items (it was no JSON at all),
// and a byte order mark before it is skipped. Types still apply.
func TestJSONNumbersAreKeptAsWritten(t *testing.T) {
	job := `start: ["http://a/api"]
paginate: {jq: .cursor, param: cursor}
items:
  - select: {jq: ".results[]"}
    fields:
      id: {jq: .id}
      price: {jq: .price, type: float}
      qty: {jq: .qty, type: int}
      big: {jq: .big, type: float}
`
	j, err := Parse("j.yaml", []byte(job), nil)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := url.Parse("http://a/api")
	body := []byte("\xef\xbb\xbf" + `{"results":[{"id":12345678901234567890123,"price":1e-7,"qty":12.0,"big":1e400}],"cursor":9007199254740993}`)
	x := NewExtractor(j).Extract(&crawler.Page{URL: page, Body: body, Header: http.Header{}})
	items := x.Items.(PageItems).Items
	if len(items) != 1 {
		t.Fatalf("items %+v, want one", items)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if err := enc.Encode(items[0].Values); err != nil {
		t.Fatal(err)
	}
	if want := "[12345678901234567890123,1e-7,12,null]\n"; b.String() != want {
		t.Errorf("values %s, want %s (1e400 is no float64: no value)", b.String(), want)
	}
	if len(x.Links) != 1 || x.Links[0].URL.String() != "http://a/api?cursor=9007199254740993" {
		t.Errorf("links %+v, want the cursor as written", x.Links)
	}
	if _, ok := decodeJSON([]byte(`{"a":1} {"b":2}`)); ok {
		t.Error("two JSON values taken for one page")
	}
}

// unique_by holds across a resume of a CSV job whatever the value's type:
// an untyped JSON number read back from the CSV was text, and never met
// the number again (a 23-digit id was written twice); a defused cell too.
func TestUniqueByHoldsAcrossACSVResume(t *testing.T) {
	j, err := Parse("j.yaml", []byte("start: [\"http://a/api\"]\noutput: {format: csv, unique_by: id}\nitems:\n  - select: {jq: \".results[]\"}\n    fields:\n      id: {jq: .id}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	write := func(w *Writer, ids ...any) {
		t.Helper()
		var items []Item
		for _, id := range ids {
			items = append(items, Item{URL: "http://a/api", Values: []any{id}})
		}
		if err := w.Write(&crawler.Result{URL: "http://a/api", OK: true, Attempts: 1, Items: PageItems{Items: items}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	var first bytes.Buffer
	w, err := NewWriter(j, &first, nil, false, output.FieldSet{})
	if err != nil {
		t.Fatal(err)
	}
	write(w, json.Number("12345678901234567890123"), "-x", json.Number("-2.5"))
	var second bytes.Buffer
	w, err = NewWriter(j, &second, nil, true, output.FieldSet{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Resume(bytes.NewReader(first.Bytes())); err != nil {
		t.Fatal(err)
	}
	write(w, json.Number("12345678901234567890123"), "-x", json.Number("-2.5"), json.Number("7"))
	if got := second.String(); got != "http://a/api,7\n" {
		t.Errorf("after the resume, wrote %q; want the new id alone (first run wrote %q)", got, first.String())
	}
}
