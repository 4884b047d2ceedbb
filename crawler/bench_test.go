package crawler

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/internal/testsite"
)

// discard is a Sink that drops results; it measures the engine alone.
type discard struct{}

func (discard) Write(*Result) error { return nil }
func (discard) Flush() error        { return nil }

// BenchmarkFetchList fetches 2 KB pages from the in-process test site with
// 32 workers; the figure of merit is ns/op per URL (client and server CPU
// together on this machine).
func BenchmarkFetchList(b *testing.B) {
	srv := httptest.NewServer(testsite.New())
	defer srv.Close()
	client, err := fetch.New(fetch.Config{Concurrency: 32})
	if err != nil {
		b.Fatal(err)
	}
	defer client.CloseIdleConnections()
	const perRun = 2000
	var list strings.Builder
	for i := range perRun {
		fmt.Fprintf(&list, "%s/page/%d?size=2048\n", srv.URL, i)
	}
	text := list.String()
	b.ResetTimer()
	for b.Loop() {
		r := ListSource(strings.NewReader(text))
		if err := FetchList(b.Context(), Config{Workers: 32}, client, r, discard{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perRun), "ns/url")
}

var _ io.Writer = io.Discard

// BenchmarkEngineList runs the list engine alone: a fetcher that answers
// at once with a 2 KB page, 32 workers, records dropped. Its ns/url is the
// engine's own cost per URL (reading the list, the frontier, the
// coordinator, the title), which on a real bulk list adds to the
// transport's.
func BenchmarkEngineList(b *testing.B) {
	page := []byte(`<!doctype html><html><head><meta charset="utf-8"><title>Page 1</title></head><body><h1>Page 1</h1><p>` +
		strings.Repeat("lorem ipsum dolor sit amet ", 74) + `</p></body></html>`)
	header := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	f := fakeFetcher(func(_ context.Context, url string) *fetch.Result {
		return &fetch.Result{URL: url, FinalURL: url, Status: 200, ContentType: "text/html; charset=utf-8", Header: header, Body: page, Bytes: int64(len(page))}
	})
	const perRun = 20000
	var list strings.Builder
	for i := range perRun {
		fmt.Fprintf(&list, "http://127.0.0.1:8080/page/%d?size=2048\n", i)
	}
	text := list.String()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := ListSource(strings.NewReader(text))
		if err := FetchList(b.Context(), Config{Workers: 32}, f, r, discard{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perRun), "ns/url")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkIsChallenge scans a 2 KB page that is not a challenge, as every
// bulk-list response is.
func BenchmarkIsChallenge(b *testing.B) {
	body := []byte("<!doctype html><html><head><title>Page 1</title><link rel=stylesheet href=/a.css></head><body>" +
		strings.Repeat(`<p class="c">Cloudflare and the <a href="/x">news</a> of the week, by the editors.</p>`, 24) + "</body></html>")
	fr := &fetch.Result{Header: http.Header{}, Body: body}
	for b.Loop() {
		if isChallenge(fr, "text/html") {
			b.Fatal("an ordinary page is a challenge")
		}
	}
}
