package job

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/output"
)

// Stats counts a job's outcome, per rule where it says so.
type Stats struct {
	Pages      int    // pages fetched
	Failed     int    // pages that failed
	NotFetched int    // start URLs never fetched: not a URL, or kept back by robots.txt
	Written    []int  // items known to have reached the output, by rule
	Dropped    []int  // items left out for a missing required field
	Duplicates []int  // items left out by unique_by
	EmptyPages []int  // pages the rule matched that gave no item
	JQErrors   int    // jq programs that failed (each gave no value)
	JQError    string // the first of them, said
	TypeErrors int    // values found that were not of their field's type (each gave no value)
	TypeError  string // the first of them, said
}

// Writer is the crawl's sink for a job: items go to the items output,
// failed pages to the errors output (if any). It is used by the engine's
// single writer goroutine only.
type Writer struct {
	job       *Job
	columns   []string // CSV: url, every rule's fields (nested ones as parent.child), then what follow rules pass
	column    map[string]int
	context   []string // names follow rules pass, in job order
	out       *output.WholeWriter
	csv       *csv.Writer  // writes an item's rows into rows
	rows      bytes.Buffer // so that they go out whole
	errs      crawler.Sink
	seen      map[string]bool
	pending   []int // items buffered since the last flush, by rule
	Stats     Stats
	Contracts *Checker
	// Discarding says that the items go nowhere (run --test): the summary
	// says they were found, not written.
	Discarding bool
}

// NewWriter writes items to items and, when errs is not nil, error records
// (with errFields added) to errs. appending says that items already holds
// this job's items (a resumed run): no second CSV header is written.
func NewWriter(j *Job, items io.Writer, errs io.Writer, appending bool, errFields output.FieldSet) (*Writer, error) {
	n := len(j.Rules)
	w := &Writer{job: j, out: output.NewWholeWriter(items), seen: map[string]bool{},
		Stats:     Stats{Written: make([]int, n), Dropped: make([]int, n), Duplicates: make([]int, n), EmptyPages: make([]int, n)},
		pending:   make([]int, n),
		context:   j.ContextNames(),
		Contracts: newChecker(j),
		column:    map[string]int{}}
	addColumn := func(name string) {
		if _, ok := w.column[name]; !ok {
			w.column[name] = len(w.columns)
			w.columns = append(w.columns, name)
		}
	}
	addColumn("url")
	var addFields func(prefix string, fields []Field)
	addFields = func(prefix string, fields []Field) {
		for _, f := range fields {
			if f.Nested() {
				addFields(prefix+f.Name+".", f.Fields)
			} else {
				addColumn(prefix + f.Name)
			}
		}
	}
	for _, r := range j.Rules {
		addFields("", r.Fields)
	}
	for _, name := range w.context {
		addColumn(name)
	}
	w.out.OnWritten = w.itemsWritten
	if j.Output.Format == "csv" {
		w.csv = csv.NewWriter(&w.rows)
		if !appending {
			if err := w.addRows([][]string{w.columns}, 0); err != nil {
				return nil, err
			}
		}
	}
	if errs != nil {
		sink, err := output.NewSinkWith("jsonl", errs, true, false, errFields)
		if err != nil {
			return nil, err
		}
		w.errs = sink
	}
	return w, nil
}

// Write handles one page: its items, or its failure.
func (w *Writer) Write(r *crawler.Result) error {
	switch {
	case r.Attempts == 0 && !r.OK:
		w.Stats.NotFetched++
	case !r.OK:
		w.Stats.Pages++
		w.Stats.Failed++
	default:
		w.Stats.Pages++
	}
	if !r.OK {
		if w.errs != nil {
			return w.errs.Write(r)
		}
		return nil
	}
	found, _ := r.Items.(PageItems)
	w.Contracts.page(r.URL, found)
	if w.Stats.JQErrors += found.JQErrors; w.Stats.JQError == "" && found.JQError != "" {
		w.Stats.JQError = "on " + r.URL + ": " + found.JQError
	}
	if w.Stats.TypeErrors += found.TypeErrors; w.Stats.TypeError == "" && found.TypeError != "" {
		w.Stats.TypeError = "on " + r.URL + ": " + found.TypeError
	}
	for rule, n := range found.Dropped {
		w.Stats.Dropped[rule] += n
	}
	perRule := map[int]int{}
	for _, it := range found.Items {
		perRule[it.Rule]++
		if w.duplicate(it) {
			w.Stats.Duplicates[it.Rule]++
			continue
		}
		if err := w.writeItem(it); err != nil {
			return err
		}
		w.Contracts.written(it)
		w.pending[it.Rule]++
	}
	for _, rule := range found.Matched {
		if perRule[rule] == 0 {
			w.Stats.EmptyPages[rule]++
		}
	}
	return nil
}

// Resume reads the items a stopped run of the job wrote, so that
// unique_by holds across runs: a value written then is not written again.
func (w *Writer) Resume(items io.Reader) error {
	key := w.job.Output.UniqueBy
	if key == "" {
		return nil
	}
	if w.csv != nil {
		rows, err := csv.NewReader(items).ReadAll()
		if err != nil || len(rows) == 0 {
			return err
		}
		col := slices.Index(rows[0], key)
		for _, row := range rows[1:] {
			if col >= 0 && col < len(row) && row[col] != "" {
				w.seen[row[col]] = true // the cell as written: see uniqueKey
			}
		}
		return nil
	}
	dec := json.NewDecoder(items)
	dec.UseNumber() // as written, as a JSON page's numbers are kept (decodeJSON)
	for {
		var item map[string]any
		if err := dec.Decode(&item); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("items written before: %w", err)
		}
		if v, ok := item[key]; ok && v != nil {
			w.seen[w.uniqueKey(v)] = true
		}
	}
}

// duplicate applies unique_by: it reports an item whose value was seen.
func (w *Writer) duplicate(it Item) bool {
	key := w.job.Output.UniqueBy
	if key == "" {
		return false
	}
	fields := w.job.Rules[it.Rule].Fields
	i := slices.IndexFunc(fields, func(f Field) bool { return f.Name == key })
	if i < 0 || it.Values[i] == nil {
		return false
	}
	k := w.uniqueKey(it.Values[i])
	if w.seen[k] {
		return true
	}
	w.seen[k] = true
	return false
}

// uniqueKey is a value as the output writes it, so that the items of a
// stopped run, read back, compare with new ones: a CSV cell (an untyped
// JSON number read back from CSV was text, and never met its number), or
// JSON.
func (w *Writer) uniqueKey(v any) string {
	if w.csv != nil {
		return output.CSVCell(cell(v))
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (w *Writer) writeItem(it Item) error {
	fields := w.job.Rules[it.Rule].Fields
	if w.csv != nil {
		base := make([]string, len(w.columns))
		base[0] = it.URL
		for _, name := range w.context {
			if v, ok := it.Context[name]; ok {
				base[w.column[name]] = cell(v)
			}
		}
		rows := w.flatten(base, "", fields, it.Values)
		for _, row := range rows {
			for i, c := range row {
				row[i] = output.CSVCell(c)
			}
		}
		return w.addRows(rows, 1)
	}
	// JSON objects in field order: url first, then the job's fields, then
	// what follow rules passed on (unless the item has a field so named).
	var b strings.Builder
	b.WriteString(`{"url":`)
	if err := writeJSON(&b, it.URL); err != nil {
		return err
	}
	put := func(name string, v any) error {
		b.WriteByte(',')
		if err := writeJSON(&b, name); err != nil {
			return err
		}
		b.WriteByte(':')
		return writeJSON(&b, v)
	}
	for k, f := range fields {
		if err := put(f.Name, it.Values[k]); err != nil {
			return err
		}
	}
	for _, name := range w.context {
		v, ok := it.Context[name]
		if ok && !slices.ContainsFunc(fields, func(f Field) bool { return f.Name == name }) {
			if err := put(name, v); err != nil {
				return err
			}
		}
	}
	b.WriteString("}\n")
	return w.out.Add([]byte(b.String()), 1)
}

// itemsWritten counts the items buffered as written: they have reached
// the file.
func (w *Writer) itemsWritten() {
	for rule, n := range w.pending {
		w.Stats.Written[rule] += n
		w.pending[rule] = 0
	}
}

// addRows writes CSV rows, together and whole: an item's (items 1), or
// the header (0).
func (w *Writer) addRows(rows [][]string, items int) error {
	w.rows.Reset()
	if err := w.csv.WriteAll(rows); err != nil { // WriteAll flushes
		return err
	}
	return w.out.Add(w.rows.Bytes(), items)
}

// flatten flattens an object into CSV rows: one per innermost nested object,
// the parent's values repeated on each; sibling nested lists give their
// rows one after the other. An object without nested objects is one row.
func (w *Writer) flatten(base []string, prefix string, fields []Field, values []any) [][]string {
	row := slices.Clone(base)
	var nested []int
	for k, f := range fields {
		if f.Nested() {
			nested = append(nested, k)
			continue
		}
		row[w.column[prefix+f.Name]] = cell(values[k])
	}
	var out [][]string
	for _, k := range nested {
		objs, _ := values[k].([]Object)
		for _, o := range objs {
			out = append(out, w.flatten(row, prefix+fields[k].Name+".", o.Fields, o.Values)...)
		}
	}
	if len(out) == 0 {
		out = append(out, row)
	}
	return out
}

// writeJSON appends v as JSON, HTML left readable (blurbs hold HTML).
func writeJSON(b *strings.Builder, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return nil
}

// cell renders a value for CSV; lists are joined with "|".
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = cell(p)
		}
		return strings.Join(parts, "|")
	case map[string]any, []Object:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	if err := w.out.Flush(); err != nil {
		return err
	}
	if w.errs != nil {
		return w.errs.Flush()
	}
	return nil
}

// Report writes the per-rule summary.
func (w *Writer) Report(out io.Writer) {
	fmt.Fprintf(out, "job: %s, %d failed", output.Count(w.Stats.Pages, "page"), w.Stats.Failed)
	if w.Stats.NotFetched > 0 {
		fmt.Fprintf(out, ", %s not fetched (not URLs, or kept back by robots.txt)", output.Count(w.Stats.NotFetched, "start URL"))
	}
	fmt.Fprintln(out)
	for i, r := range w.job.Rules {
		written := "written"
		if w.Discarding {
			written = "found (--test writes none)"
		}
		fmt.Fprintf(out, "  %s: %s %s, %d dropped (missing a required field), %s dropped, %s gave no item\n",
			r.Label(i), output.Count(w.Stats.Written[i], "item"), written, w.Stats.Dropped[i], output.Count(w.Stats.Duplicates[i], "duplicate"),
			output.Count(w.Stats.EmptyPages[i], "matching page"))
	}
	if w.Stats.JQErrors > 0 {
		fmt.Fprintf(out, "  jq: %s failed and gave no value; the first, %s\n", output.Count(w.Stats.JQErrors, "run"), w.Stats.JQError)
	}
	if w.Stats.TypeErrors > 0 {
		were := "values were"
		if w.Stats.TypeErrors == 1 {
			were = "value was"
		}
		fmt.Fprintf(out, "  type: %d %s not of the field's type and gave no value (a regex can pick a number out of text); the first, %s\n",
			w.Stats.TypeErrors, were, w.Stats.TypeError)
	}
}

// ItemsWritten is how many items reached the output, all rules together.
func (s Stats) ItemsWritten() int {
	n := 0
	for _, w := range s.Written {
		n += w
	}
	return n
}
