// Package output turns engine results into what the user reads: records in
// JSON Lines, CSV or a table, bodies saved to a folder, a progress line and
// the end-of-run summary.
package output

import (
	"strconv"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
)

// Record is the stable, documented shape of one result. JSON names are the
// schema; CSV columns follow Columns in the same order.
type Record struct {
	URL          string  `json:"url"`
	Line         int     `json:"line,omitempty"`
	OK           bool    `json:"ok"`
	FinalURL     string  `json:"final_url"`
	Status       int     `json:"status"`
	ContentType  string  `json:"content_type"`
	Bytes        int64   `json:"bytes"`
	Truncated    bool    `json:"truncated"`
	DurationMS   float64 `json:"duration_ms"`
	Attempts     int     `json:"attempts"`
	Title        string  `json:"title"`
	Error        string  `json:"error"`
	ErrorMessage string  `json:"error_message"`
	SavedPath    string  `json:"saved_path,omitempty"`
	// Crawls only (absent from fetch records):
	Depth  *int   `json:"depth,omitempty"`
	Parent string `json:"parent,omitempty"`
	Links  *int   `json:"links,omitempty"`
	// The page's <link rel=canonical>, when it has one (crawls only).
	Canonical string `json:"canonical,omitempty"`
}

// Columns are the CSV header, in record order; a list's CSV stops before
// CrawlColumns, which end it.
var Columns = []string{"url", "line", "ok", "final_url", "status", "content_type", "bytes",
	"truncated", "duration_ms", "attempts", "title", "error", "error_message", "saved_path", "depth", "parent", "links", "canonical"}

// CrawlColumns are the columns only a crawl's CSV has: depth, parent,
// links, canonical.
var CrawlColumns = Columns[len(Columns)-4:]

// NewRecord converts an engine result into a Record.
func NewRecord(r *crawler.Result) Record {
	rec := Record{
		URL:         fetch.Redact(r.URL),
		Line:        r.Line,
		OK:          r.OK,
		FinalURL:    fetch.Redact(r.FinalURL),
		Status:      r.Status,
		ContentType: r.ContentType,
		Bytes:       r.Bytes,
		Truncated:   r.Truncated,
		// Whole microseconds keep the number short without losing detail.
		DurationMS: float64(r.Duration.Microseconds()) / 1000,
		Attempts:   r.Attempts,
		Title:      r.Title,
		SavedPath:  r.SavedPath,
	}
	if r.Crawled {
		depth, links := r.Depth, r.Links
		rec.Depth, rec.Parent, rec.Links = &depth, fetch.Redact(r.Parent), &links
		rec.Canonical = r.Canonical
	}
	if r.Err != nil {
		rec.Error = string(r.Err.Kind)
		rec.ErrorMessage = r.Err.Err.Error()
	}
	return rec
}

// cells returns the record's values in Columns order.
func (rec Record) cells() []string {
	return []string{
		rec.URL, strconv.Itoa(rec.Line), strconv.FormatBool(rec.OK), rec.FinalURL,
		strconv.Itoa(rec.Status), rec.ContentType, strconv.FormatInt(rec.Bytes, 10),
		strconv.FormatBool(rec.Truncated), strconv.FormatFloat(rec.DurationMS, 'f', 3, 64),
		strconv.Itoa(rec.Attempts), rec.Title, rec.Error, rec.ErrorMessage, rec.SavedPath,
		optInt(rec.Depth), rec.Parent, optInt(rec.Links), rec.Canonical,
	}
}

func optInt(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}
