package output

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/fetchall/fetchall/crawler"
)

// Progress draws a live progress line (done/total, rate, failures). It is a
// crawler.Sink; the command only creates one when its writer is a terminal,
// so redirected output never carries escape codes. Call Finish at the end.
type Progress struct {
	bar *progressbar.ProgressBar

	mu      sync.Mutex
	failed  int
	waiting map[string]string // site: why its robots.txt is waited for, and until when
}

// NewProgress draws to w; total is the number of results expected, or -1
// when unknown (input from a pipe).
func NewProgress(w io.Writer, total int) *Progress {
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("fetching"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("req"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	)
	// The rate counts from now, the run's start: left to the first
	// result, it started there and showed 447,628 req/s for 1 result.
	bar.StartWithoutRender()
	return &Progress{bar: bar, waiting: map[string]string{}}
}

// Write advances the bar by one result.
func (p *Progress) Write(r *crawler.Result) error {
	if !r.OK {
		p.mu.Lock()
		p.failed++
		p.describe()
		p.mu.Unlock()
	}
	return p.bar.Add(1)
}

// RobotsWait shows that site's robots.txt could not be read (why) and is
// tried again at retryAt, or, with a zero retryAt, that it no longer
// waits: a crawl held back by it would otherwise look hung. It suits
// crawler.Robots.OnWait.
func (p *Progress) RobotsWait(site, why string, retryAt time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if retryAt.IsZero() {
		delete(p.waiting, site)
	} else {
		p.waiting[site] = fmt.Sprintf("%s, next try at %s", why, retryAt.Format("15:04:05"))
	}
	p.describe()
}

// describe redraws the words before the bar; p.mu is held.
func (p *Progress) describe() {
	d := "fetching"
	if p.failed > 0 {
		d += fmt.Sprintf(" (%d failed)", p.failed)
	}
	if len(p.waiting) > 0 {
		sites := slices.Sorted(maps.Keys(p.waiting))
		d += fmt.Sprintf("; waiting for robots.txt of %s (%s)", sites[0], p.waiting[sites[0]])
		switch n := len(sites) - 1; {
		case n == 1:
			d += " and of 1 other site"
		case n > 1:
			d += fmt.Sprintf(" and of %d other sites", n)
		}
	}
	p.bar.Describe(d)
}

// Flush does nothing; the bar redraws itself at a throttled pace.
func (p *Progress) Flush() error { return nil }

// Finish clears the bar so the summary starts on a clean line. Finishing
// the bar (not only leaving it) also ends the goroutine that turns its
// spinner when the total is unknown.
func (p *Progress) Finish() { _ = p.bar.Finish(); _ = p.bar.Clear() }
