package state

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/fetchall/fetchall/crawler"
)

// doneName is the log of the records in the output: one line a record,
// "KEY\tVALUE" (the task's Key in hex and its doneValue; a list line's
// KEY is followed by ":" and its urlCheck in hex), appended and synced at
// each commit; "KEY\t" with no value takes a record back (a
// --retry-failed). Written in sequence and read in sequence, it costs a
// run neither random writes nor memory: a B+tree of hashed keys touched
// every page of its file at each commit, and all of it stayed resident.
const doneName = "done.log"

// doneEntry is one line of the done log.
type doneEntry struct {
	key   uint64
	url   uint64 // a list line's urlCheck; 0 for others
	value string // "" takes the record back
}

// urlCheck is what the done log keeps of a list line's URL: a list line is
// known by its number, and a resume checks that the number still holds
// the URL it did (an edited list would otherwise match its records to
// other lines, silently).
func urlCheck(url string) uint64 {
	return crawler.StableHash(url) | 1 // never 0, which means none
}

// appendDone appends entries to f (not synced).
func appendDone(f *os.File, entries []doneEntry) error {
	if len(entries) == 0 {
		return nil
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(strconv.FormatUint(e.key, 16))
		if e.url != 0 {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(e.url, 16))
		}
		b.WriteByte('\t')
		b.WriteString(e.value)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(f, b.String())
	return err
}

// doneValueOf is the doneValue of w.
func doneValueOf(w crawler.Written) doneEntry {
	e := doneEntry{key: w.Task.Key(), value: string(doneValue(w))}
	if w.Task.Listed {
		e.url = urlCheck(w.Task.URL)
	}
	return e
}

// doneSet is what the done log says once read: the keys done, how many
// records by kind and host, and the failed records (which alone a retry
// may take back, so they alone are kept whole).
type doneSet struct {
	keys   map[uint64]struct{}
	urls   map[uint64]uint64 // list lines' urlCheck, by key (states made before it have none)
	count  int
	kinds  map[string]int
	hosts  map[string]int
	failed map[uint64]string // key -> doneValue
}

// readDone reads the first length bytes of the done log at path. With
// keys false it leaves out the set of keys (a report needs only counts).
func readDone(path string, length int64, keys bool) (*doneSet, error) {
	d := &doneSet{kinds: map[string]int{}, hosts: map[string]int{}, failed: map[uint64]string{}}
	if keys {
		d.keys = map[uint64]struct{}{}
		d.urls = map[uint64]uint64{}
	}
	f, err := os.Open(path)
	if os.IsNotExist(err) && length == 0 {
		return d, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, length))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for line := 1; sc.Scan(); line++ {
		hexKey, value, ok := strings.Cut(sc.Text(), "\t")
		hexKey, hexURL, hasURL := strings.Cut(hexKey, ":")
		key, err := strconv.ParseUint(hexKey, 16, 64)
		var url uint64
		if hasURL && err == nil {
			url, err = strconv.ParseUint(hexURL, 16, 64)
		}
		if !ok || err != nil {
			return nil, fmt.Errorf("%s:%d is damaged", doneName, line)
		}
		if value == "" {
			if old, ok := d.failed[key]; ok {
				delete(d.failed, key)
				d.count--
				kind, host := splitDone(old)
				d.kinds[kind]--
				d.hosts[host]--
			}
			if keys {
				delete(d.keys, key)
				delete(d.urls, key)
			}
			continue
		}
		kind, host := splitDone(value)
		d.count++
		d.kinds[kind]++
		d.hosts[host]++
		if kind != "ok" {
			d.failed[key] = value
		}
		if keys {
			d.keys[key] = struct{}{}
			if hasURL {
				d.urls[key] = url
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", doneName, err)
	}
	return d, nil
}

// splitDone returns a doneValue's kind and host.
func splitDone(v string) (kind, host string) {
	parts := strings.SplitN(v, "\t", 3)
	if len(parts) > 1 {
		host = parts[1]
	}
	return parts[0], host
}
