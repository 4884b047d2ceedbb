package output

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fetchall/fetchall/crawler"
)

// Formats lists the record formats by name.
var Formats = []string{"jsonl", "csv", "table"}

// NewSink returns a sink writing records to w in the named format. Records
// are buffered and reach w in chunks of whole records (a WholeWriter), the
// last at Flush: an interrupted run, or a disk that fills up, leaves whole
// lines only. crawl says
// whether the records are a crawl's: only then does CSV have the crawl
// columns (depth, parent, links). appending says that w already holds
// records of this run (a resumed one): CSV writes no second header.
func NewSink(format string, w io.Writer, crawl, appending bool) (crawler.Sink, error) {
	return NewSinkWith(format, w, crawl, appending, FieldSet{})
}

// NewSinkWith is NewSink with extra fields in every record (JSON Lines and
// CSV; a table shows the default columns only).
func NewSinkWith(format string, w io.Writer, crawl, appending bool, fields FieldSet) (crawler.Sink, error) {
	ww := NewWholeWriter(w)
	switch format {
	case "jsonl":
		return &jsonlSink{w: ww, fields: fields}, nil
	case "csv":
		s := &csvSink{w: ww, crawl: crawl, started: appending, fields: fields}
		s.csv = csv.NewWriter(&s.row)
		return s, nil
	case "table":
		return &tableSink{w: ww, crawl: crawl}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

type jsonlSink struct {
	w      *WholeWriter
	fields FieldSet
	line   []byte // reused for each record
}

func (s *jsonlSink) Write(r *crawler.Result) error {
	rec := NewRecord(r)
	s.line = rec.AppendJSON(s.line[:0])
	if !s.fields.Empty() {
		var err error
		if s.line, err = s.fields.appendJSON(s.line, r); err != nil {
			return err
		}
	}
	return s.w.Add(s.line, 1)
}

func (s *jsonlSink) Flush() error { return s.w.Flush() }

// Written is how many records reached the file.
func (s *jsonlSink) Written() int { return s.w.Written() }

type csvSink struct {
	w       *WholeWriter
	csv     *csv.Writer  // writes one row at a time into row
	row     bytes.Buffer // so that the row goes out whole
	crawl   bool
	started bool
	fields  FieldSet
}

func (s *csvSink) Write(r *crawler.Result) error {
	if !s.started {
		s.started = true
		if err := s.add(slices.Concat(s.columns(Columns), s.fields.Columns()), 0); err != nil {
			return err
		}
	}
	cells := s.columns(NewRecord(r).cells())
	if !s.fields.Empty() {
		cells = append(cells, s.fields.cells(r)...)
	}
	for i, c := range cells {
		cells[i] = CSVCell(c)
	}
	return s.add(cells, 1)
}

// add writes one CSV row, whole: a record, or the header (records 0).
func (s *csvSink) add(cells []string, records int) error {
	s.row.Reset()
	if err := s.csv.Write(cells); err != nil {
		return err
	}
	s.csv.Flush()
	if err := s.csv.Error(); err != nil {
		return err
	}
	return s.w.Add(s.row.Bytes(), records)
}

// columns drops the crawl columns, the last ones, from a list's rows.
func (s *csvSink) columns(row []string) []string {
	if s.crawl {
		return row
	}
	return row[:len(row)-len(CrawlColumns)]
}

func (s *csvSink) Flush() error { return s.w.Flush() }

// Written is how many records reached the file.
func (s *csvSink) Written() int { return s.w.Written() }

// CSVCell is cell as a CSV file may hold it: inert for a terminal that
// shows the file, and for a spreadsheet that opens it.
func CSVCell(cell string) string {
	return defuseFormula(inert(cell, true))
}

// inert replaces the control characters of s with U+FFFD, but tabs and
// line ends when keepLines: a record's text comes from servers, and an
// escape sequence in it would drive the terminal that shows the table or
// the file (set its title, write to its clipboard, hide lines).
func inert(s string, keepLines bool) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		// 0xC2 starts the UTF-8 of the C1 controls (and of other runes:
		// the slow path tells them apart).
		clean = c >= ' ' && c != 0x7f && c != 0xc2 || keepLines && (c == '\t' || c == '\n' || c == '\r')
	}
	if clean {
		return s // nearly every cell
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !(keepLines && (r == '\t' || r == '\n' || r == '\r')) {
			return utf8.RuneError
		}
		return r
	}, s)
}

// defuseFormula keeps a spreadsheet from running a cell as a formula: a
// cell that starts with =, +, -, @ (or a tab or carriage return, which
// some spreadsheets skip first) gets a leading apostrophe, unless it is a
// plain number: -12.5 runs nothing, and '-12.5 is text to a spreadsheet
// (a job's negative prices and coordinates were).
func defuseFormula(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '@', '\t', '\r':
		return "'" + cell
	case '+', '-':
		if !plainDecimal(cell[1:]) {
			return "'" + cell
		}
	}
	return cell
}

// plainDecimal says whether s is digits with at most one decimal point
// and an optional exponent ("12", "2.5", ".5", "1e-7"), and nothing else.
func plainDecimal(s string) bool {
	mantissa, exponent, hasExponent := strings.Cut(strings.ToLower(s), "e")
	if hasExponent {
		if exponent != "" && (exponent[0] == '+' || exponent[0] == '-') {
			exponent = exponent[1:]
		}
		if !allDigits(exponent) {
			return false
		}
	}
	whole, fraction, _ := strings.Cut(mantissa, ".")
	return (whole != "" || fraction != "") && (whole == "" || allDigits(whole)) && (fraction == "" || allDigits(fraction))
}

func allDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

// tableSink writes fixed-width columns as results arrive; a tabwriter would
// have to hold every row until the end.
type tableSink struct {
	w       *WholeWriter
	crawl   bool // the first column is the depth: a crawled page has no line
	started bool
	line    []byte // reused for each row
}

func (s *tableSink) Write(r *crawler.Result) error {
	if !s.started {
		s.started = true
		first := "LINE"
		if s.crawl {
			first = "DEPTH"
		}
		if err := s.w.Add(fmt.Appendf(nil, "%-6s %-4s %9s %10s  %-50s %s\n", first, "CODE", "MS", "BYTES", "URL", "TITLE / ERROR"), 0); err != nil {
			return err
		}
	}
	rec := NewRecord(r)
	code := "-"
	if rec.Status > 0 {
		code = fmt.Sprint(rec.Status)
	}
	note := rec.Title
	if !rec.OK {
		note = rec.Error + ": " + rec.ErrorMessage
	}
	first := rec.Line
	if s.crawl && rec.Depth != nil {
		first = *rec.Depth
	}
	s.line = fmt.Appendf(s.line[:0], "%-6d %-4s %9.1f %10d  %-50s %s\n", first, code, rec.DurationMS, rec.Bytes,
		inert(clip(rec.URL, 50), false), inert(clip(note, 60), false))
	return s.w.Add(s.line, 1)
}

func (s *tableSink) Flush() error { return s.w.Flush() }

// Written is how many records reached the file.
func (s *tableSink) Written() int { return s.w.Written() }

// clip shortens s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Tee is a sink that passes every result and flush to each of its sinks,
// stopping at the first error.
type Tee []crawler.Sink

// Write passes r to every sink.
func (t Tee) Write(r *crawler.Result) error {
	for _, s := range t {
		if err := s.Write(r); err != nil {
			return err
		}
	}
	return nil
}

// Flush flushes every sink.
func (t Tee) Flush() error {
	for _, s := range t {
		if err := s.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// Counted is a sink that counts the records known to have reached the
// writer under it: as its sink counts them (the formats' sinks do, chunk
// by chunk), else those written before its last successful Flush. A
// summary says that many were written, not how many were handed over.
type Counted struct {
	crawler.Sink
	pending, committed int
}

// Write implements crawler.Sink.
func (c *Counted) Write(r *crawler.Result) error {
	err := c.Sink.Write(r)
	if err == nil {
		c.pending++
	}
	return err
}

// Flush implements crawler.Sink.
func (c *Counted) Flush() error {
	err := c.Sink.Flush()
	if err == nil {
		c.committed += c.pending
		c.pending = 0
	}
	return err
}

// Written is how many records reached the writer.
func (c *Counted) Written() int {
	if w, ok := c.Sink.(interface{ Written() int }); ok {
		return w.Written()
	}
	return c.committed
}
