// Package urllist reads a list of URLs, one per line, as users actually
// write them: blank lines and # comments skipped, spaces trimmed, CRLF line
// ends and a UTF-8 byte-order mark accepted, and overlong lines reported
// instead of ending the read. Memory stays bounded whatever the input.
package urllist

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// MaxLineLength is the longest line kept. A longer line becomes an Entry
// with ErrLineTooLong, and the reader goes on with the next line.
const MaxLineLength = 64 << 10

// ErrLineTooLong marks a line longer than MaxLineLength.
var ErrLineTooLong = errors.New("line too long")

// ErrNotText marks a line that is not valid UTF-8 text, as in a binary file.
var ErrNotText = errors.New("line is not UTF-8 text")

// Entry is one URL line: its 1-based line number and its trimmed text, or
// the reason the line cannot be a URL.
type Entry struct {
	Line int
	URL  string
	Err  error
}

// Reader yields the entries of a URL list in order. It is not safe for
// concurrent use.
type Reader struct {
	r    *bufio.Reader
	line int
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next entry. It returns io.EOF after the last one, and any
// other error when the underlying read fails (the list cannot go on).
func (r *Reader) Next() (Entry, error) {
	for {
		text, tooLong, err := r.readLine()
		if err != nil {
			return Entry{}, err
		}
		r.line++
		if r.line == 1 {
			text = bytes.TrimPrefix(text, []byte("\xef\xbb\xbf"))
		}
		if tooLong {
			return Entry{Line: r.line, Err: fmt.Errorf("%w (more than %d bytes)", ErrLineTooLong, MaxLineLength)}, nil
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		if !utf8.Valid(text) || bytes.IndexByte(text, 0) >= 0 {
			return Entry{Line: r.line, Err: ErrNotText}, nil
		}
		return Entry{Line: r.line, URL: string(text)}, nil
	}
}

// readLine returns the next line without its end, or io.EOF when there is
// none; the line is valid until the next call. Past MaxLineLength it
// discards the rest of the line and says so.
func (r *Reader) readLine() (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := r.r.ReadSlice('\n')
		if err == nil && buf == nil && !tooLong && len(chunk) <= MaxLineLength+2 {
			return bytes.TrimRight(chunk, "\r\n"), false, nil // whole in the buffer, as nearly every line: no copy
		}
		if !tooLong {
			if len(buf)+len(chunk) > MaxLineLength+2 { // +2 leaves room for "\r\n"
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case err == nil:
			return bytes.TrimRight(buf, "\r\n"), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(buf) == 0 && !tooLong && len(chunk) == 0 {
				return nil, false, io.EOF
			}
			return bytes.TrimRight(buf, "\r\n"), tooLong, nil
		default:
			return nil, false, err
		}
	}
}
