package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/leaktest"
	"github.com/fetchall/fetchall/internal/testsite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, leaktest.LeanPathCleaners...)
}

// fakeFetcher answers from a function of the URL, so engine tests need no
// network and control timing exactly.
type fakeFetcher func(ctx context.Context, url string) *fetch.Result

func (f fakeFetcher) Get(ctx context.Context, url string, _ fetch.KeepBody) *fetch.Result {
	return f(ctx, url)
}

// collect is a Sink that keeps every result.
type collect struct {
	mu      sync.Mutex
	results []*Result
	failAt  int // Write number that fails; 0 never
}

func (c *collect) Write(r *Result) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failAt > 0 && len(c.results)+1 == c.failAt {
		return errors.New("disk full")
	}
	c.results = append(c.results, r)
	return nil
}
func (c *collect) Flush() error { return nil }

func listOf(lines ...string) Source {
	return ListSource(strings.NewReader(strings.Join(lines, "\n")))
}

func okAfter(d time.Duration) fakeFetcher {
	return func(ctx context.Context, url string) *fetch.Result {
		select {
		case <-time.After(d):
			return &fetch.Result{URL: url, Status: 200, Attempts: 1}
		case <-ctx.Done():
			return &fetch.Result{URL: url, Attempts: 1, Err: &fetch.Error{Kind: fetch.KindCanceled, Err: ctx.Err()}}
		}
	}
}

func TestFetchListOneResultPerLine(t *testing.T) {
	site := testsite.New()
	srv := httptest.NewServer(site)
	defer srv.Close()
	client, err := fetch.New(fetch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseIdleConnections()

	list := listOf("# header", srv.URL+"/page/1", "", "not a url", srv.URL+"/status/404", srv.URL+"/status/500", "ftp://x/", srv.URL+"/redirect/2")
	var sink collect
	if err := FetchList(t.Context(), Config{Workers: 3, Ordered: true}, client, list, &sink); err != nil {
		t.Fatalf("FetchList error = %v", err)
	}
	want := []struct {
		line  int
		ok    bool
		kind  fetch.Kind
		title string
	}{
		{2, true, "", "Page 1"},
		{4, false, fetch.KindBadURL, ""},
		{5, false, fetch.KindHTTPStatus, "Status 404"},
		{6, false, fetch.KindHTTPStatus, "Status 500"},
		{7, false, fetch.KindUnsupportedScheme, ""},
		{8, true, "", "Page 0"},
	}
	if len(sink.results) != len(want) {
		t.Fatalf("got %d results, want %d", len(sink.results), len(want))
	}
	for i, w := range want {
		r := sink.results[i]
		kind := fetch.Kind("")
		if r.Err != nil {
			kind = r.Err.Kind
		}
		if r.Line != w.line || r.OK != w.ok || kind != w.kind || r.Title != w.title {
			t.Errorf("result %d = line %d ok %v kind %q title %q, want line %d ok %v kind %q title %q",
				i, r.Line, r.OK, kind, r.Title, w.line, w.ok, w.kind, w.title)
		}
	}
	if n := site.Count("/status/500"); n != 1 {
		t.Errorf("/status/500 fetched %d times, want 1 (500 is not retried)", n)
	}
}

func TestFetchListAcceptPolicy(t *testing.T) {
	f := fakeFetcher(func(_ context.Context, url string) *fetch.Result {
		return &fetch.Result{URL: url, Status: 404, Attempts: 1}
	})
	var sink collect
	accept404 := func(s int) bool { return s == 404 }
	if err := FetchList(t.Context(), Config{Accept: accept404}, f, listOf("http://a/"), &sink); err != nil {
		t.Fatal(err)
	}
	if !sink.results[0].OK {
		t.Errorf("404 with a policy accepting 404: OK = false, want true")
	}
}

func TestFetchListOrderedRestoresInputOrder(t *testing.T) {
	// Later lines finish first: completion order is the reverse of input order.
	f := fakeFetcher(func(ctx context.Context, url string) *fetch.Result {
		var n int
		fmt.Sscanf(url, "http://a/%d", &n)
		return okAfter(time.Duration(20-n)*5*time.Millisecond)(ctx, url)
	})
	var lines []string
	for i := range 20 {
		lines = append(lines, fmt.Sprintf("http://a/%d", i))
	}
	var sink collect
	if err := FetchList(t.Context(), Config{Workers: 20, Ordered: true}, f, listOf(lines...), &sink); err != nil {
		t.Fatal(err)
	}
	for i, r := range sink.results {
		if r.Line != i+1 {
			t.Fatalf("result %d has line %d, want %d (input order)", i, r.Line, i+1)
		}
	}
	sink = collect{}
	if err := FetchList(t.Context(), Config{Workers: 20}, f, listOf(lines...), &sink); err != nil {
		t.Fatal(err)
	}
	if first := sink.results[0].Line; first == 1 {
		t.Errorf("unordered: first result is line 1, want completion order (a later line)")
	}
}

func TestFetchListFailFastCancelsTheRest(t *testing.T) {
	var started atomic.Int32
	f := fakeFetcher(func(ctx context.Context, url string) *fetch.Result {
		started.Add(1)
		if url == "http://a/fail" {
			return &fetch.Result{URL: url, Status: 500, Attempts: 1}
		}
		return okAfter(time.Hour)(ctx, url)
	})
	lines := []string{"http://a/fail"}
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("http://a/%d", i))
	}
	var sink collect
	start := time.Now()
	err := FetchList(t.Context(), Config{Workers: 5, FailFast: true}, f, listOf(lines...), &sink)
	if !errors.Is(err, ErrFailFast) {
		t.Fatalf("FetchList error = %v, want ErrFailFast", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("fail-fast took %s, want the hanging fetches cancelled at once", took)
	}
	// The 5 workers' first tasks, plus one the failing worker may take
	// before the writer has seen its failure.
	if n := started.Load(); n > 6 {
		t.Errorf("%d fetches started, want at most 6 of 101", n)
	}
	for _, r := range sink.results {
		if !r.OK && r.Err.Kind != fetch.KindHTTPStatus && r.Err.Kind != fetch.KindCanceled {
			t.Errorf("result %s has kind %s, want http_status or canceled", r.URL, r.Err.Kind)
		}
	}
}

func TestFetchListCollectsEveryFailureByDefault(t *testing.T) {
	f := fakeFetcher(func(_ context.Context, url string) *fetch.Result {
		return &fetch.Result{URL: url, Status: 503, Attempts: 3}
	})
	var sink collect
	if err := FetchList(t.Context(), Config{Workers: 4}, f, listOf("http://a/1", "http://a/2", "http://a/3"), &sink); err != nil {
		t.Fatalf("FetchList error = %v, want nil: failures are results", err)
	}
	if len(sink.results) != 3 {
		t.Errorf("got %d results, want 3", len(sink.results))
	}
}

// endless is an io.Reader yielding URL lines for ever, counting bytes read.
type endless struct{ n atomic.Int64 }

func (e *endless) Read(p []byte) (int, error) {
	const line = "http://a.test/page\n"
	n := 0
	for n+len(line) <= len(p) {
		n += copy(p[n:], line)
	}
	e.n.Add(int64(n))
	return n, nil
}

func TestFetchListReadsAheadBoundedAndStopsOnCancel(t *testing.T) {
	in := &endless{}
	var sink collect
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err := FetchList(ctx, Config{Workers: 4}, okAfter(time.Hour), ListSource(in), &sink)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("FetchList error = %v, want the context's DeadlineExceeded", err)
	}
	if read := in.n.Load(); read > 1<<20 {
		t.Errorf("read %d bytes of an endless list while 4 workers hung, want a bounded read-ahead (< 1 MiB)", read)
	}
	if len(sink.results) != 4 {
		t.Errorf("got %d results, want the 4 in-flight fetches reported as canceled", len(sink.results))
	}
	for _, r := range sink.results {
		if r.Err == nil || r.Err.Kind != fetch.KindCanceled {
			t.Errorf("in-flight result %+v, want kind canceled", r)
		}
	}
}

func TestFetchListSinkErrorStopsTheRun(t *testing.T) {
	var lines []string
	for i := range 50 {
		lines = append(lines, fmt.Sprintf("http://a/%d", i))
	}
	sink := collect{failAt: 3}
	err := FetchList(t.Context(), Config{Workers: 2}, okAfter(time.Millisecond), listOf(lines...), &sink)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("FetchList error = %v, want the sink's error", err)
	}
}

type listReadError struct{}

func (listReadError) Read([]byte) (int, error) { return 0, errors.New("input/output error") }

func TestFetchListReadErrorIsReturned(t *testing.T) {
	r := ListSource(io.MultiReader(strings.NewReader("http://a/1\n"), listReadError{}))
	var sink collect
	err := FetchList(t.Context(), Config{}, okAfter(0), r, &sink)
	if err == nil || !strings.Contains(err.Error(), "read URL list") {
		t.Fatalf("FetchList error = %v, want a read URL list error", err)
	}
}

type memSaver struct {
	mu    sync.Mutex
	saved map[string]int
}

func (m *memSaver) Save(url, _ string, body []byte) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saved[url] = len(body)
	return "/saved/" + url, nil
}

func TestFetchListSavesOKBodiesOnly(t *testing.T) {
	srv := httptest.NewServer(testsite.New())
	defer srv.Close()
	client, _ := fetch.New(fetch.Config{})
	defer client.CloseIdleConnections()
	saver := &memSaver{saved: map[string]int{}}
	var sink collect
	err := FetchList(t.Context(), Config{Saver: saver}, client, listOf(srv.URL+"/page/1?size=500", srv.URL+"/status/404"), &sink)
	if err != nil {
		t.Fatal(err)
	}
	if len(saver.saved) != 1 || saver.saved[srv.URL+"/page/1?size=500"] != 500 {
		t.Errorf("saved %v, want only the 500-byte page", saver.saved)
	}
}

func TestExtractTitleConvertsCharset(t *testing.T) {
	latin1 := []byte("<html><head><meta charset=\"iso-8859-1\"><title>Caf\xe9  \n cr\xe8me</title></head></html>")
	tests := []struct {
		name, contentType string
		body              []byte
		want              string
	}{
		{"meta charset", "text/html", latin1, "Café crème"},
		{"header charset", "text/html; charset=ISO-8859-1", []byte("<title>\xe9t\xe9</title>"), "été"},
		{"shift_jis", "text/html; charset=Shift_JIS", []byte("<title>\x93\xfa\x96\x7b</title>"), "日本"},
		{"utf-8", "text/html; charset=utf-8", []byte("<title>naïve</title>"), "naïve"},
		{"no title", "text/html", []byte("<p>hi"), ""},
		{"malformed", "text/html", []byte("<title>a<b>c</title"), "a<b>c</title"},
		{"binary", "text/html", []byte{0, 1, 2, 0xff, 0xfe}, ""},
	}
	for _, tt := range tests {
		if got := extractTitle(tt.body, tt.contentType); got != tt.want {
			t.Errorf("%s: extractTitle = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// brokenSaver saves n bodies, then fails like a read-only folder.
type brokenSaver struct {
	mu sync.Mutex
	n  int
}

func (b *brokenSaver) Save(url, _ string, _ []byte) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n == 0 {
		return "", errors.New("permission denied")
	}
	b.n--
	return "/saved/" + url, nil
}

// Issue 11, item 11: a failed save stops the run with its error; every URL
// fetched has its record, the failed one saying its body was not saved,
// and what never started is counted, not lost in silence.
func TestSaveFailureStopsTheRunAndLosesNoRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newFakeSite(func(string) time.Duration { return 10 * time.Millisecond })
		var lines []string
		for i := range 100 {
			lines = append(lines, fmt.Sprintf("http://h/%d", i))
		}
		var sink collect
		stats, err := Run(t.Context(), CrawlConfig{Config: Config{Workers: 4, Saver: &brokenSaver{n: 10}}, MaxDepth: 0}, site, listOf(lines...), nil, &sink)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("Run error = %v, want the save error", err)
		}
		saved, failed := 0, 0
		for _, r := range sink.results {
			switch {
			case r.SavedPath != "":
				saved++
			case r.Err != nil && r.Err.Kind == fetch.KindSave:
				failed++
			}
		}
		fetched := len(site.attempts)
		if len(sink.results) != fetched || saved != 10 || failed < 1 {
			t.Errorf("%d records for %d URLs fetched, %d saved, %d save failures; want a record per fetch, 10 saved, the failure said", len(sink.results), fetched, saved, failed)
		}
		if stats.NotStarted == 0 || stats.NotStarted+fetched > 100 {
			t.Errorf("NotStarted = %d with %d fetched of 100, want the queued rest counted", stats.NotStarted, fetched)
		}
	})
}

// A status not taken as ok is said with its name, or alone when it has none.
func TestStatusErrorNamesTheStatus(t *testing.T) {
	for status, want := range map[int]string{404: "status 404 Not Found", 999: "status 999", 299: "status 299"} {
		r := fromFetch(&fetch.Result{URL: "http://h/", Status: status}, func(s int) bool { return s < 299 })
		if r.Err == nil || r.Err.Err.Error() != want {
			t.Errorf("status %d: %v, want %q", status, r.Err, want)
		}
	}
}
