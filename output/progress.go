package output

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/fetchall/fetchall/crawler"
)

// Progress draws a live progress line (done/total, rate, failures). It is a
// crawler.Sink; the command only creates one when its writer is a terminal,
// so redirected output never carries escape codes. Call Finish at the end.
type Progress struct {
	bar    *progressbar.ProgressBar
	failed int
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
	return &Progress{bar: bar}
}

// Write advances the bar by one result.
func (p *Progress) Write(r *crawler.Result) error {
	if !r.OK {
		p.failed++
		p.bar.Describe(fmt.Sprintf("fetching (%d failed)", p.failed))
	}
	return p.bar.Add(1)
}

// Flush does nothing; the bar redraws itself at a throttled pace.
func (p *Progress) Flush() error { return nil }

// Finish clears the bar so the summary starts on a clean line. Finishing
// the bar (not only leaving it) also ends the goroutine that turns its
// spinner when the total is unknown.
func (p *Progress) Finish() { _ = p.bar.Finish(); _ = p.bar.Clear() }
