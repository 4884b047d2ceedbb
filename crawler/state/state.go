// Package state makes a fetch or a crawl resumable after any stop, kill -9
// included: a crawler.Frontier and crawler.Journal kept in one bbolt file
// (go.etcd.io/bbolt, an embedded, transactional store: nothing to install
// or start). Every flush of the run's output is committed together with the
// records it holds, the URLs found since the last commit, and the output's
// length; a resumed run cuts the output back to that length and goes on
// from there, so each record is written exactly once.
//
// Scheduling stays in a crawler.MemoryFrontier: a State adds persistence
// to it, and restores it when it is opened again. The queue and the seen
// set are therefore held in memory too (about 30 bytes a URL).
package state

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/limiter"
)

// FileName is the store's file inside a state folder.
const FileName = "fetchall.state"

var (
	metaBucket  = []byte("meta")
	doneBucket  = []byte("done")  // Key -> 1: the record is in the output
	queueBucket = []byte("queue") // Key -> task: found, not done
)

var (
	keyFingerprint = []byte("fingerprint")
	keyFinished    = []byte("finished")
	offsetPrefix   = "offset:" // + an output's name: its length at the last commit
	swapPrefix     = "swap:"   // + an output's name: the file to rename over it (Retry)
)

// ErrMismatch is returned by Open for a state made by another command.
var ErrMismatch = errors.New("the state was made by another command")

// State is one run's persistent state. Its Frontier methods are safe for
// concurrent use; Flushed is called by the engine's coordinator. Close it.
type State struct {
	db       *bolt.DB
	frontier *crawler.MemoryFrontier
	outputs  []output

	mu      sync.Mutex
	pending []crawler.Task // added since the last commit

	// Resumed says whether the state held a run already.
	Resumed bool
	// Finished says whether that run had ended whole.
	Finished bool
	// Offsets are the outputs' lengths at the last commit, by name: a
	// resumed run cuts each output back to its own.
	Offsets map[string]int64
	// Done is how many records the state holds.
	Done int
}

// Open opens or creates the state in dir for the run described by
// fingerprint (the command and what it works on: its list or seeds,
// scope, job...). A state made with another fingerprint is ErrMismatch,
// naming what differs, unless reset, which starts over. limits are the
// frontier's.
func Open(dir, fingerprint string, reset bool, limits limiter.Config) (*State, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if reset {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reset state: %w", err)
		}
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("state %s is in use by another fetchall", path)
		}
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	s := &State{db: db, frontier: crawler.NewMemoryFrontier(limits), Offsets: map[string]int64{}}
	if err := s.load(fingerprint); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// load checks the fingerprint, or writes it into a new state, and
// restores the frontier.
func (s *State) load(fingerprint string) error {
	var tasks []crawler.Task
	var done []uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		for _, b := range [][]byte{doneBucket, queueBucket} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		old := meta.Get(keyFingerprint)
		if old == nil {
			return meta.Put(keyFingerprint, []byte(fingerprint))
		}
		if string(old) != fingerprint {
			return fmt.Errorf("%w: it was made by `%s`, this is `%s` (run with --state-reset to start over)", ErrMismatch, old, fingerprint)
		}
		s.Resumed = true
		s.Finished = meta.Get(keyFinished) != nil
		if err := meta.ForEach(func(k, v []byte) error {
			if name, ok := strings.CutPrefix(string(k), offsetPrefix); ok && len(v) == 8 {
				s.Offsets[name] = int64(binary.BigEndian.Uint64(v))
			}
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(doneBucket).ForEach(func(k, _ []byte) error {
			done = append(done, binary.BigEndian.Uint64(k))
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(queueBucket).ForEach(func(_, v []byte) error {
			var t crawler.Task
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("a queued URL is damaged: %w", err)
			}
			tasks = append(tasks, t)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	s.Done = len(done)
	s.frontier.Restore(done)
	if len(tasks) > 0 {
		if _, err := s.frontier.Add(context.Background(), tasks); err != nil {
			return err
		}
	}
	return nil
}

// output is one file the run writes, with how to learn its committed
// length.
type output struct {
	name   string
	offset func() (int64, error)
}

// AddOutput names an output the run writes and tells the state how to
// learn its length: offset syncs the file to disk and returns its length.
func (s *State) AddOutput(name string, offset func() (int64, error)) {
	s.outputs = append(s.outputs, output{name, offset})
}

// IsDone says whether the record of the task with this key is already in
// the output.
func (s *State) IsDone(key uint64) bool {
	var done bool
	_ = s.db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(doneBucket).Get(keyBytes(key)) != nil
		return nil
	})
	return done
}

// Add implements crawler.Frontier: the new tasks are committed with the
// next flush.
func (s *State) Add(ctx context.Context, tasks []crawler.Task) (crawler.AddResult, error) {
	res, err := s.frontier.Add(ctx, tasks)
	if err != nil {
		return res, err
	}
	s.mu.Lock()
	for _, t := range tasks {
		if !t.Listed { // list lines are the list's: the done set skips them
			s.pending = append(s.pending, t)
		}
	}
	s.mu.Unlock()
	return res, nil
}

// Lease implements crawler.Frontier.
func (s *State) Lease(ctx context.Context) (crawler.Lease, error) { return s.frontier.Lease(ctx) }

// Complete implements crawler.Frontier.
func (s *State) Complete(ctx context.Context, l crawler.Lease, o crawler.Outcome) error {
	return s.frontier.Complete(ctx, l, o)
}

// Release implements crawler.Frontier.
func (s *State) Release(ctx context.Context, l crawler.Lease, o crawler.Outcome, notBefore time.Time) error {
	return s.frontier.Release(ctx, l, o, notBefore)
}

// MinOpenDepth implements crawler.DepthReporter.
func (s *State) MinOpenDepth() int { return s.frontier.MinOpenDepth() }

// SetDelay implements crawler.DelaySetter.
func (s *State) SetDelay(host string, d time.Duration) { s.frontier.SetDelay(host, d) }

// Len is how many URLs are queued.
func (s *State) Len() int { return s.frontier.Len() }

// Flushed implements crawler.Journal: in one transaction, the tasks whose
// records reached the output are done, the URLs found since are queued,
// and the output's length is the new resume point.
func (s *State) Flushed(_ context.Context, done []crawler.Written) error {
	s.mu.Lock()
	added := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(done) == 0 && len(added) == 0 {
		return nil
	}
	offsets := make([]int64, len(s.outputs))
	for i, o := range s.outputs {
		var err error
		if offsets[i], err = o.offset(); err != nil {
			return fmt.Errorf("sync %s: %w", o.name, err)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		queue, doneB := tx.Bucket(queueBucket), tx.Bucket(doneBucket)
		for _, t := range added {
			k := keyBytes(t.Key())
			if doneB.Get(k) != nil {
				continue
			}
			if old := queue.Get(k); old != nil {
				var was crawler.Task
				if json.Unmarshal(old, &was) == nil && was.Depth <= t.Depth {
					continue // met again, no shallower: the queued copy stands
				}
			}
			v, err := json.Marshal(t)
			if err != nil {
				return err
			}
			if err := queue.Put(k, v); err != nil {
				return err
			}
		}
		for _, w := range done {
			k := keyBytes(w.Task.Key())
			if err := doneB.Put(k, doneValue(w)); err != nil {
				return err
			}
			if err := queue.Delete(k); err != nil {
				return err
			}
		}
		meta := tx.Bucket(metaBucket)
		for i, o := range s.outputs {
			if err := meta.Put([]byte(offsetPrefix+o.name), binary.BigEndian.AppendUint64(nil, uint64(offsets[i]))); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.Done += len(done)
	}
	return err
}

// Finish marks the run as ended whole: running it again does nothing.
func (s *State) Finish() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(metaBucket).Put(keyFinished, []byte{1})
	})
}

// Reopen takes back the mark of a finished run, to go on with it (a
// --retry-failed of a finished run).
func (s *State) Reopen() error {
	s.Finished = false
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(metaBucket).Delete(keyFinished)
	})
}

// Size is the store's size on disk, in bytes.
func (s *State) Size() int64 {
	var n int64
	_ = s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// Close closes the store.
func (s *State) Close() error { return s.db.Close() }

func keyBytes(k uint64) []byte { return binary.BigEndian.AppendUint64(nil, k) }

// doneValue is what the done set keeps of a record: "ok", or its error
// kind with the status for http_status ("http_status 503"), and the
// host, for the state's report.
func doneValue(w crawler.Written) []byte {
	v := "ok"
	switch {
	case w.Kind == fetch.KindHTTPStatus:
		v = fmt.Sprintf("%s %d", w.Kind, w.Status)
	case w.Kind != "":
		v = string(w.Kind)
	}
	v += "\t" + w.Task.Host()
	if w.Retryable() {
		// Kept whole, so that --retry-failed can queue it again.
		b, _ := json.Marshal(w.Task)
		v += "\t" + string(b)
	}
	return []byte(v)
}

// RetryCandidates are the tasks whose records failed in a way worth trying
// again (a timeout, a reset, a refused connection, a 5xx, a 429), by key.
func (s *State) RetryCandidates() (map[uint64]crawler.Task, error) {
	out := map[uint64]crawler.Task{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(doneBucket).ForEach(func(k, v []byte) error {
			parts := strings.SplitN(string(v), "\t", 3)
			if len(parts) < 3 {
				return nil
			}
			var t crawler.Task
			if err := json.Unmarshal([]byte(parts[2]), &t); err != nil {
				return nil // damaged: not retried
			}
			out[binary.BigEndian.Uint64(k)] = t
			return nil
		})
	})
	return out, err
}

// Retry forgets the records of tasks, to fetch them again: in one
// transaction their keys leave the done set, the crawl's pages are queued
// again, each output's committed length becomes its new one, and swaps
// say which rewritten file (without those records) replaces which output,
// until ClearSwap says it did.
func (s *State) Retry(tasks map[uint64]crawler.Task, offsets map[string]int64, swaps map[string]string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		done, queue, meta := tx.Bucket(doneBucket), tx.Bucket(queueBucket), tx.Bucket(metaBucket)
		for k, t := range tasks {
			if err := done.Delete(keyBytes(k)); err != nil {
				return err
			}
			if t.Listed {
				continue // the list yields its line again
			}
			t.Attempts, t.FirstTry = 0, time.Time{}
			b, err := json.Marshal(t)
			if err != nil {
				return err
			}
			if err := queue.Put(keyBytes(k), b); err != nil {
				return err
			}
		}
		for name, off := range offsets {
			if err := meta.Put([]byte(offsetPrefix+name), binary.BigEndian.AppendUint64(nil, uint64(off))); err != nil {
				return err
			}
		}
		for name, from := range swaps {
			if err := meta.Put([]byte(swapPrefix+name), []byte(from)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for k, t := range tasks {
		s.frontier.Forget(k)
		if !t.Listed {
			t.Attempts, t.FirstTry = 0, time.Time{}
			if _, err := s.frontier.Add(context.Background(), []crawler.Task{t}); err != nil {
				return err
			}
		}
	}
	for name, off := range offsets {
		s.Offsets[name] = off
	}
	s.Done -= len(tasks)
	return nil
}

// Swap is the rewritten file that must replace the output name, if a
// Retry's swap is not done yet.
func (s *State) Swap(name string) string {
	var from string
	_ = s.db.View(func(tx *bolt.Tx) error {
		from = string(tx.Bucket(metaBucket).Get([]byte(swapPrefix + name)))
		return nil
	})
	return from
}

// ClearSwap records that the output name was replaced.
func (s *State) ClearSwap(name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(metaBucket).Delete([]byte(swapPrefix + name))
	})
}

// SkipDone is a Source that leaves out the list lines whose records the
// state already holds, and the bad seed lines likewise. Good seeds pass:
// a crawl needs them for its scope, and the frontier knows they are done.
func (s *State) SkipDone(src crawler.Source) crawler.Source {
	return &skipDone{src: src, s: s}
}

type skipDone struct {
	src crawler.Source
	s   *State
}

func (d *skipDone) Next(ctx context.Context) (crawler.Task, error) {
	for {
		t, err := d.src.Next(ctx)
		if err != nil || !d.s.Resumed || !(t.Listed || t.Invalid != nil) || !d.s.IsDone(t.Key()) {
			return t, err
		}
	}
}

// Report is where a state stands, for `fetchall state DIR`.
type Report struct {
	Path       string
	Size       int64
	Command    string           // the fingerprint of the run that made it
	Finished   bool             // the run ended whole
	Done       int              // records in the output
	DoneByKind map[string]int   // "ok", or an error kind ("http_status 503")
	DoneByHost map[string]int   // records by host
	Queued     int              // URLs found and not done (a crawl's), in flight at the stop included
	Outputs    map[string]int64 // committed length, by output
}

// Inspect reads the state in dir without changing it.
func Inspect(dir string) (*Report, error) {
	path := filepath.Join(dir, FileName)
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("no state in %s: %w", dir, err)
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("state %s is in use by a running fetchall", path)
		}
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	defer db.Close()
	r := &Report{Path: path, Size: info.Size(), DoneByKind: map[string]int{}, DoneByHost: map[string]int{}, Outputs: map[string]int64{}}
	err = db.View(func(tx *bolt.Tx) error {
		meta, done, queue := tx.Bucket(metaBucket), tx.Bucket(doneBucket), tx.Bucket(queueBucket)
		if meta == nil || done == nil || queue == nil {
			return errors.New("not a fetchall state")
		}
		r.Command = string(meta.Get(keyFingerprint))
		r.Finished = meta.Get(keyFinished) != nil
		_ = meta.ForEach(func(k, v []byte) error {
			if name, ok := strings.CutPrefix(string(k), offsetPrefix); ok && len(v) == 8 {
				r.Outputs[name] = int64(binary.BigEndian.Uint64(v))
			}
			return nil
		})
		_ = done.ForEach(func(_, v []byte) error {
			parts := strings.SplitN(string(v), "\t", 3)
			kind, host := parts[0], ""
			if len(parts) > 1 {
				host = parts[1]
			}
			r.Done++
			r.DoneByKind[kind]++
			r.DoneByHost[host]++
			return nil
		})
		r.Queued = queue.Stats().KeyN
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	return r, nil
}
