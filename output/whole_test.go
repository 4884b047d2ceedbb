package output

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fetchall/fetchall/crawler"
)

// fillingFile is a file on a disk with room for room more bytes: a write
// past it writes what fits and fails as a full disk does.
type fillingFile struct {
	*os.File
	room int
}

func (f *fillingFile) Write(p []byte) (int, error) {
	if len(p) <= f.room {
		f.room -= len(p)
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:f.room])
	f.room = 0
	return n, syscall.ENOSPC
}

// On a disk that fills up, each format's file ends with whole records,
// and as many as its count says: a record was cut in half (a JSON line no
// program could read) and the summary said "0 of 382 written" of a file
// holding 223.
func TestFullDiskLeavesWholeRecordsAndTheirCount(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			disk := &fillingFile{File: f, room: 1500}
			sink, err := NewSink(format, disk, false, false)
			if err != nil {
				t.Fatal(err)
			}
			counted := &Counted{Sink: sink}
			var flushErr error
			for i := 0; i < 100 && flushErr == nil; i++ {
				r := &crawler.Result{URL: "http://a.test/" + strings.Repeat("x", i), Line: i + 1, OK: true, Status: 200, Attempts: 1}
				if err := counted.Write(r); err != nil {
					t.Fatal(err)
				}
				if i%4 == 3 {
					flushErr = counted.Flush()
				}
			}
			if !errors.Is(flushErr, syscall.ENOSPC) {
				t.Fatalf("flush error %v, want the full disk's", flushErr)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Count(string(data), "\n")
			if format == "csv" || format == "table" {
				lines-- // the header
			}
			if len(data) == 0 || data[len(data)-1] != '\n' || lines != counted.Written() {
				t.Errorf("%d bytes ending %q, %d records; want whole lines only, as many as the %d counted", len(data), data[max(0, len(data)-20):], lines, counted.Written())
			}
		})
	}
}
