package testsite

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The site's latency is a benchmark's yardstick: it must never be short,
// and a client that leaves must not keep a handler waiting.
func TestSleepIsNeverShortAndEndsWithItsContext(t *testing.T) {
	for _, d := range []time.Duration{time.Millisecond, 7 * time.Millisecond} {
		start := time.Now()
		if !sleep(context.Background(), d) {
			t.Fatalf("sleep(%s) reported an ended context", d)
		}
		if got := time.Since(start); got < d {
			t.Errorf("sleep(%s) returned after %s", d, got)
		}
	}
	if !sleep(context.Background(), 0) || !sleep(context.Background(), -time.Second) {
		t.Error("a sleep of nothing reported an ended context")
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(5 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	if sleep(ctx, time.Minute) {
		t.Error("sleep(1m) reported the minute passed")
	}
	if got := time.Since(start); got > 30*time.Second {
		t.Errorf("a cancelled sleep returned after %s", got)
	}
	if sleep(ctx, time.Millisecond) {
		t.Error("a sleep on an ended context reported success")
	}
}

// A page's latency counts from the request's arrival to its answer's first
// byte: the page is built while the latency runs, and sent whole, with its
// length, when it is due.
func TestSitePageAnswersAfterItsLatencyWithItsLength(t *testing.T) {
	srv := httptest.NewServer(NewWith(Options{Pages: 50, Latency: 20 * time.Millisecond}))
	defer srv.Close()
	for _, uri := range []string{"/site/3", "/site/7"} {
		start := time.Now()
		resp, body := get(t, srv.Client(), srv.URL+uri)
		if took := time.Since(start); took < 20*time.Millisecond {
			t.Errorf("%s answered in %s, before its 20ms latency", uri, took)
		}
		if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) || !strings.Contains(body, "<title>Site ") {
			t.Errorf("%s = %d, Content-Length %d for %d bytes: %.80q", uri, resp.StatusCode, resp.ContentLength, len(body), body)
		}
	}
	resp, _ := get(t, srv.Client(), srv.URL+"/site/missing")
	if resp.StatusCode != 404 {
		t.Errorf("/site/missing = %d, want 404 after the latency", resp.StatusCode)
	}
}
