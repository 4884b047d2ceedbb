package job

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"net/url"

	"github.com/PuerkitoBio/goquery"
	"github.com/fetchall/fetchall/crawler"
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
