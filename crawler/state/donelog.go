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
// "KEY\tVALUE" (the task's Key in hex and its doneValue), appended and
// synced at each commit; "KEY\t" with no value takes a record back (a
// --retry-failed). Written in sequence and read in sequence, it costs a
// run neither random writes nor memory: a B+tree of hashed keys touched
// every page of its file at each commit, and all of it stayed resident.
const doneName = "done.log"

// doneEntry is one line of the done log.
type doneEntry struct {
	key   uint64
	value string // "" takes the record back
}

// appendDone appends entries to f (not synced).
func appendDone(f *os.File, entries []doneEntry) error {
	if len(entries) == 0 {
		return nil
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(strconv.FormatUint(e.key, 16))
		b.WriteByte('\t')
		b.WriteString(e.value)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(f, b.String())
	return err
}

// doneValueOf is the doneValue of w.
func doneValueOf(w crawler.Written) doneEntry {
	return doneEntry{key: w.Task.Key(), value: string(doneValue(w))}
}

// doneSet is what the done log says once read: the keys done, how many
// records by kind and host, and the failed records (which alone a retry
// may take back, so they alone are kept whole).
type doneSet struct {
	keys   map[uint64]struct{}
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
		key, err := strconv.ParseUint(hexKey, 16, 64)
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
