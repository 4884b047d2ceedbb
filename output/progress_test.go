package output

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fetchall/fetchall/crawler"
)

// A crawl that waits for an unreadable robots.txt says so on its progress
// line, with the next try, and stops saying so once the wait is over.
func TestProgressShowsARobotsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var line lockedBuffer // the bar's own goroutine draws too
		p := NewProgress(&line, -1)
		// shown is what the bar draws next: it redraws its spinner on a
		// ticker, and at most every 100 ms.
		shown := func() string {
			line.reset()
			time.Sleep(250 * time.Millisecond)
			return line.String()
		}
		retry := time.Date(2026, 1, 2, 12, 0, 10, 0, time.Local)
		p.RobotsWait("http://x", "status 503", retry)
		p.RobotsWait("http://y", "timeout", retry)
		want := "fetching; waiting for robots.txt of http://x (status 503, next try at 12:00:10) and of 1 other site"
		if got := shown(); !strings.Contains(got, want) {
			t.Errorf("progress line %q, want %q", got, want)
		}
		p.RobotsWait("http://x", "", time.Time{})
		if err := p.Write(&crawler.Result{URL: "http://x/", OK: false}); err != nil {
			t.Fatal(err)
		}
		want = "fetching (1 failed); waiting for robots.txt of http://y (timeout, next try at 12:00:10) ("
		if got := shown(); !strings.Contains(got, want) {
			t.Errorf("progress line %q, want %q", got, want)
		}
		p.RobotsWait("http://y", "", time.Time{})
		if got := shown(); strings.Contains(got, "robots.txt") || !strings.Contains(got, "fetching (1 failed) (") {
			t.Errorf("progress line after the waits %q, want the failure count and no wait", got)
		}
		p.Finish()
		time.Sleep(time.Second) // the bar's ticker sees it finished and returns
	})
}

// The rate counts from the start of the run, not from the first result:
// it showed 447,628 req/s for one result that came 2 ms in.
func TestProgressRateCountsFromTheStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var line lockedBuffer
		p := NewProgress(&line, 10)
		time.Sleep(2 * time.Second) // robots.txt, the first request...
		if err := p.Write(&crawler.Result{URL: "http://x/", OK: true}); err != nil {
			t.Fatal(err)
		}
		if got := line.String(); !strings.Contains(got, "(1/10, 30 req/min)") {
			t.Errorf("progress line %q, want 1 result in 2 s: 30 req/min", got)
		}
		p.Finish()
		time.Sleep(time.Second)
	})
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
