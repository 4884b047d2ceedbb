package state

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
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

// doneSet is what the done log says once read: how many records by kind
// and host, and the failed records (which alone a retry may take back, so
// they alone are kept whole). The keys done go to a doneKeys as they are
// read: a map of them held a resume of a long list at about 120 bytes a
// line (90 MB for 500,000 lines, where the run itself took 30).
type doneSet struct {
	count  int
	kinds  map[string]int
	hosts  map[string]int
	failed map[uint64]string // key -> doneValue
}

// doneKeys is told each key the done log holds, and each it takes back,
// in the log's order.
type doneKeys interface {
	done(key, url uint64) // url: a list line's urlCheck; 0 for others
	takeBack(key uint64)
}

// readDone reads the first length bytes of the done log at path, telling
// keys (when not nil) what it holds.
func readDone(path string, length int64, keys doneKeys) (*doneSet, error) {
	d := &doneSet{kinds: map[string]int{}, hosts: map[string]int{}, failed: map[uint64]string{}}
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
			if keys != nil {
				keys.takeBack(key)
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
		if keys != nil {
			keys.done(key, url)
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

// restorer gives the keys of the done log to a frontier in batches (a
// lock taken per key would cost a long resume a second), and keeps the
// list lines' urlChecks in a slice sorted by key: 16 bytes a line, where
// a map took about 40.
type restorer struct {
	frontier *crawler.MemoryFrontier
	batch    []uint64
	keepURLs bool      // a report has no use for them
	urls     []lineURL // in log order until sorted; url 0 takes the key back
}

type lineURL struct{ key, url uint64 }

func (r *restorer) done(key, url uint64) {
	r.batch = append(r.batch, key)
	if len(r.batch) == cap(r.batch) {
		r.flush()
	}
	if url != 0 && r.keepURLs {
		r.urls = append(r.urls, lineURL{key, url})
	}
}

func (r *restorer) takeBack(key uint64) {
	r.flush() // the key's earlier done must reach the frontier first
	r.frontier.Forget(key)
	if r.keepURLs {
		r.urls = append(r.urls, lineURL{key, 0})
	}
}

func (r *restorer) flush() {
	r.frontier.Restore(r.batch)
	r.batch = r.batch[:0]
}

// lineURLs is what the restorer kept: each key's last urlCheck in the
// log, sorted by key, those taken back left out.
func (r *restorer) lineURLs() lineURLs {
	r.flush()
	slices.SortStableFunc(r.urls, func(a, b lineURL) int { return cmp.Compare(a.key, b.key) })
	out := r.urls[:0]
	for i, u := range r.urls {
		if i+1 < len(r.urls) && r.urls[i+1].key == u.key {
			continue // a later line of the log says more of it
		}
		if u.url != 0 {
			out = append(out, u)
		}
	}
	return lineURLs(slices.Clip(out))
}

// lineURLs are the done list lines' urlChecks, sorted by key.
type lineURLs []lineURL

// get is the urlCheck of the list line with key, if it is done and has one
// (states made before urlChecks have none).
func (l lineURLs) get(key uint64) (uint64, bool) {
	i, ok := slices.BinarySearchFunc(l, key, func(u lineURL, k uint64) int { return cmp.Compare(u.key, k) })
	if !ok {
		return 0, false
	}
	return l[i].url, true
}
