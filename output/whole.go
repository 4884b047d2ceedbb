package output

import "io"

// WholeWriter buffers whole records (a JSON line, a CSV row with its line
// break) and writes them all out at each Flush, so that a file only ever
// grows by whole records. When a write fails part-way (a full disk), the
// file is cut back to where it began: it never ends in half a record, and
// exactly the records since the last good Flush are lost with the error,
// as a caller counting flushed records (Counted, a job's items) expects.
// It never writes between Flushes (a bufio.Writer does, when full, which
// made those counts wrong): the caller bounds the buffer by flushing,
// as the engine does every 20 ms and every 1,024 records.
type WholeWriter struct {
	w   io.Writer
	buf []byte
}

// NewWholeWriter returns a WholeWriter writing to w. The cut-back needs w
// to be a file (Truncate and Seek); on anything else (a pipe) a failed
// write leaves what went through.
func NewWholeWriter(w io.Writer) *WholeWriter {
	return &WholeWriter{w: w, buf: make([]byte, 0, 64<<10)}
}

// Add buffers one whole record (or rows that belong together).
func (b *WholeWriter) Add(record []byte) {
	b.buf = append(b.buf, record...)
}

// Flush writes out the records buffered.
func (b *WholeWriter) Flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	n, err := b.w.Write(b.buf)
	if err == nil && n < len(b.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		b.cutBack(n)
		b.buf = b.buf[:0] // gone with the error: the run stops
		return err
	}
	b.buf = b.buf[:0]
	return nil
}

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
