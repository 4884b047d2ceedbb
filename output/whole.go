package output

import "io"

// WholeWriter buffers whole records (a JSON line, a CSV row with its line
// break) and writes them out in chunks of whole records, so that a file
// only ever grows by whole records. When a write fails part-way (a full
// disk), the file is cut back to where that chunk began: it never ends in
// half a record. It counts the records that reached the file, and calls
// OnWritten after each chunk, so that what a summary says was written is
// what the file holds (a bufio.Writer writes when full, unseen by the
// counts, and splits a record across two writes).
type WholeWriter struct {
	// OnWritten, when set, is called after each chunk reaches the file.
	OnWritten func()

	w        io.Writer
	buf      []byte
	buffered int // records in buf
	written  int // records that reached the file
}

// wholeChunk is how many bytes of records a WholeWriter gathers before it
// writes them (a larger record goes alone). Kept small, the buffer stays
// in the cache: 5x larger chunks cost about 1 us a record on a bulk list.
const wholeChunk = 64 << 10

// NewWholeWriter returns a WholeWriter writing to w. The cut-back needs w
// to be a file (Truncate and Seek); on anything else (a pipe) a failed
// write leaves what went through.
func NewWholeWriter(w io.Writer) *WholeWriter {
	return &WholeWriter{w: w, buf: make([]byte, 0, wholeChunk)}
}

// Add buffers b, which holds records whole records (0 for a header),
// writing out those before it first when it would not fit.
func (b *WholeWriter) Add(p []byte, records int) error {
	if len(b.buf) > 0 && len(b.buf)+len(p) > wholeChunk {
		if err := b.Flush(); err != nil {
			return err
		}
	}
	b.buf = append(b.buf, p...)
	b.buffered += records
	return nil
}

// Flush writes out the records buffered. After an error they are gone:
// the run stops.
func (b *WholeWriter) Flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	n, err := b.w.Write(b.buf)
	if err == nil && n < len(b.buf) {
		err = io.ErrShortWrite
	}
	b.buf = b.buf[:0]
	if err != nil {
		b.cutBack(n)
		b.buffered = 0
		return err
	}
	b.written += b.buffered
	b.buffered = 0
	if b.OnWritten != nil {
		b.OnWritten()
	}
	return nil
}

// Written is how many records reached the file.
func (b *WholeWriter) Written() int { return b.written }

// cutBack takes the n bytes of a failed chunk that did reach the file
// off its end.
func (b *WholeWriter) cutBack(n int) {
	f, ok := b.w.(interface {
		Seek(offset int64, whence int) (int64, error)
		Truncate(size int64) error
	})
	if n <= 0 || !ok {
		return
	}
	end, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return
	}
	start := end - int64(n)
	if f.Truncate(start) == nil {
		_, _ = f.Seek(start, io.SeekStart)
	}
}
