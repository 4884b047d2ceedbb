// Package state makes a fetch or a crawl resumable after any stop, kill -9
// included: a crawler.Frontier and crawler.Journal kept in a state folder.
// Two append-only logs hold the records done (done.log) and the URLs found
// (found.log); a bbolt file (go.etcd.io/bbolt, an embedded, transactional
// store: nothing to install or start) holds the commit points. Every flush
// of the run's output is committed in one bbolt transaction together with
// the logs' synced lengths and the output's; a resumed run cuts the logs
// and the output back to those lengths and goes on from there, so each
// record is written exactly once.
//
// Scheduling stays in a crawler.MemoryFrontier: a State adds persistence
// to it, and restores it when it is opened again. The frontier keeps at
// most MaxQueuedInMemory URLs queued in memory; the rest wait on disk, in a
// spill file beside the state, and come back shallowest first. The seen
// set stays in memory (about 15 bytes a URL, see crawler.MemoryFrontier).
package state

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/limiter"
)

// FileName is the store's file inside a state folder.
const FileName = "fetchall.state"

// spillName is the spill folder: scratch, remade at every open.
const spillName = "spill"

// MaxQueuedInMemory is how many URLs a state's frontier keeps queued in
// memory; the others are spilled to disk.
const MaxQueuedInMemory = 100000

// logName is the log of the URLs found, one JSON task a line, appended at
// each commit: written in sequence, it costs a crawl far less than a
// B+tree of millions of random keys.
const logName = "found.log"

var metaBucket = []byte("meta")

var (
	keyFingerprint = []byte("fingerprint")
	keyFinished    = []byte("finished")
	keyLogLength   = []byte("found.log") // its length at the last commit
	keyDoneLength  = []byte("done.log")  // likewise
	offsetPrefix   = "offset:"           // + an output's name: its length at the last commit
	swapPrefix     = "swap:"             // + an output's name: the file to rename over it (Retry)
)

// A state holds the run's URLs as given, passwords and all (a resume
// fetches them), as its list does: only its owner may read it.
const (
	privateDir  = 0o700
	privateFile = 0o600
)

// ErrListChanged is a resumed run's list whose lines differ from those the
// state's run read: records would be matched to other lines.
var ErrListChanged = errors.New("the list has changed since the state was made")

// ErrMismatch is returned by Open for a state made by another command.
var ErrMismatch = errors.New("the state was made by another command")

// State is one run's persistent state. Its Frontier methods are safe for
// concurrent use; Flushed is called by the engine's coordinator. Close it.
type State struct {
	db       *bolt.DB
	log      *os.File // found.log, open for appending at its committed length
	done     *os.File // done.log, likewise
	dir      string
	failed   int      // records in the output that failed, of every run
	lineURLs lineURLs // list lines done: their urlCheck, by key (see skipDone)
	spill    *diskSpill
	frontier *crawler.MemoryFrontier
	outputs  []output
	hosts    map[string]int // the crawl's URLs found by earlier runs, by host (see PagesByHost)

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
	// Fetched is how many of them are of pages fetched, what a crawl's
	// --max-pages counts: all but those of seeds robots.txt kept back and
	// of bad URLs. (A seed of another scheme counts: its kind is that of
	// a redirect to one, which was fetched.)
	Fetched int
}

// Open opens or creates the state in dir for the run described by
// fingerprint (the command and what it works on: its list or seeds,
// scope, job...). A state made with another fingerprint is ErrMismatch,
// naming what differs, unless reset, which starts over. limits are the
// frontier's.
func Open(dir, fingerprint string, reset bool, limits limiter.Config) (*State, error) {
	if err := os.MkdirAll(dir, privateDir); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	path := filepath.Join(dir, FileName)
	open := func() (*bolt.DB, error) { return bolt.Open(path, privateFile, &bolt.Options{Timeout: time.Second}) }
	db, err := open()
	if err != nil && reset && !errors.Is(err, bolterrors.ErrTimeout) {
		// A damaged state file is what a reset is for.
		if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			return nil, fmt.Errorf("reset state: %w", rmErr)
		}
		db, err = open()
	}
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("state %s is in use by another fetchall", path)
		}
		return nil, fmt.Errorf("open state %s: %w (--state-reset starts over)", path, err)
	}
	log, err := os.OpenFile(filepath.Join(dir, logName), os.O_RDWR|os.O_CREATE, privateFile)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("state: %w", err)
	}
	done, err := os.OpenFile(filepath.Join(dir, doneName), os.O_RDWR|os.O_CREATE, privateFile)
	if err != nil {
		log.Close()
		db.Close()
		return nil, fmt.Errorf("state: %w", err)
	}
	// A state made before its files were private keeps URLs with their
	// passwords readable by all: its own files are made private now (its
	// folder is left as it is: it may be one of the user's, as with
	// --state .).
	for _, f := range []*os.File{log, done} {
		_ = f.Chmod(privateFile)
	}
	_ = os.Chmod(path, privateFile)
	if reset {
		// Emptied under the state's lock: removing the files first took a
		// running fetchall's state from under it, and both ran on.
		err := db.Update(func(tx *bolt.Tx) error {
			if tx.Bucket(metaBucket) == nil {
				return nil
			}
			return tx.DeleteBucket(metaBucket)
		})
		if err == nil {
			err = log.Truncate(0)
		}
		if err == nil {
			err = done.Truncate(0)
		}
		if err != nil {
			done.Close()
			log.Close()
			db.Close()
			return nil, fmt.Errorf("reset state: %w", err)
		}
	}
	spill, err := openSpill(filepath.Join(dir, spillName))
	if err != nil {
		done.Close()
		log.Close()
		db.Close()
		return nil, err
	}
	s := &State{db: db, log: log, done: done, dir: dir, spill: spill, frontier: crawler.NewMemoryFrontier(limits), Offsets: map[string]int64{}, hosts: map[string]int{}}
	s.frontier.SetSpill(spill, MaxQueuedInMemory)
	if err := s.load(fingerprint); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// load checks the fingerprint, or writes it into a new state, and
// restores the frontier.
func (s *State) load(fingerprint string) error {
	var logLength, doneLength int64
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		old := meta.Get(keyFingerprint)
		if old == nil {
			return meta.Put(keyFingerprint, []byte(fingerprint))
		}
		if string(old) != fingerprint {
			return fmt.Errorf("%w: it was made by `%s`, this is `%s` (run with --state-reset to start over)", ErrMismatch, fetch.RedactText(string(old)), fetch.RedactText(fingerprint))
		}
		s.Resumed = true
		s.Finished = meta.Get(keyFinished) != nil
		logLength, doneLength = lengthOf(meta, keyLogLength), lengthOf(meta, keyDoneLength)
		return meta.ForEach(func(k, v []byte) error {
			if name, ok := strings.CutPrefix(string(k), offsetPrefix); ok && len(v) == 8 {
				s.Offsets[name] = int64(binary.BigEndian.Uint64(v))
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := s.done.Truncate(doneLength); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if _, err := s.done.Seek(doneLength, io.SeekStart); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	keys := &restorer{frontier: s.frontier, batch: make([]uint64, 0, 4096), keepURLs: true}
	d, err := readDone(filepath.Join(s.dir, doneName), doneLength, keys)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	s.Done, s.failed, s.lineURLs = d.count, len(d.failed), keys.lineURLs()
	s.Fetched = d.count - d.kinds[string(fetch.KindRobots)] - d.kinds[string(fetch.KindBadURL)]
	return s.replay(logLength)
}

// lengthOf reads a length kept in meta under key; 0 when there is none.
func lengthOf(meta *bolt.Bucket, key []byte) int64 {
	if v := meta.Get(key); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

// replay cuts the log back to its committed length and adds what it
// found to the frontier, in batches: done URLs are known already, and what
// does not fit in memory spills.
func (s *State) replay(length int64) error {
	if err := s.log.Truncate(length); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if _, err := s.log.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	sc := bufio.NewScanner(s.log)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	batch := make([]crawler.Task, 0, 10000)
	add := func() error {
		_, err := s.frontier.Add(context.Background(), batch)
		batch = batch[:0]
		return err
	}
	for sc.Scan() {
		t, err := crawler.UnmarshalTask(sc.Bytes())
		if err != nil {
			return fmt.Errorf("state: a line of %s is damaged: %w", logName, err)
		}
		if !t.Listed {
			s.hosts[t.Host()]++ // a URL met again by a shorter path counts twice: the cap errs low
		}
		if batch = append(batch, t); len(batch) == cap(batch) {
			if err := add(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := add(); err != nil {
		return err
	}
	_, err := s.log.Seek(length, io.SeekStart)
	return err
}

// PagesByHost implements crawler.HostPageCounter: the URLs of each host
// that earlier runs found.
func (s *State) PagesByHost() map[string]int {
	hosts := s.hosts
	s.hosts = nil
	return hosts
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
	return s.frontier.Taken(key)
}

// Seen says whether the crawl has met the URL with this key, done or not.
func (s *State) Seen(key uint64) bool {
	return s.frontier.Seen(key)
}

// Add implements crawler.Frontier: the new tasks are committed with the
// next flush.
func (s *State) Add(ctx context.Context, tasks []crawler.Task) (crawler.AddResult, error) {
	res, fresh, err := s.frontier.AddTracked(ctx, tasks)
	if err != nil {
		return res, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range fresh {
		if !t.Listed { // list lines are the list's: the done set skips them
			s.pending = append(s.pending, t)
		}
	}
	// A crawl may find many pages between two commits (while records wait
	// for their depth): they go to the log now, unsynced, and count from
	// the next commit. A resume cuts the log back to the last one.
	if len(s.pending) >= 4096 {
		if err := s.writeFound(s.pending); err != nil {
			return res, fmt.Errorf("state: %w", err)
		}
		s.pending = s.pending[:0]
	}
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
func (s *State) Flushed(_ context.Context, done []crawler.Written) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("state: %w", err)
		}
	}()
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
	logLength, err := s.appendFound(added)
	if err != nil {
		return fmt.Errorf("sync %s: %w", logName, err)
	}
	entries := make([]doneEntry, len(done))
	failed := 0
	for i, w := range done {
		entries[i] = doneValueOf(w)
		if w.Kind != "" {
			failed++
		}
	}
	doneLength, err := syncAppend(s.done, entries)
	if err != nil {
		return fmt.Errorf("sync %s: %w", doneName, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(metaBucket)
		if err := meta.Put(keyLogLength, binary.BigEndian.AppendUint64(nil, uint64(logLength))); err != nil {
			return err
		}
		if err := meta.Put(keyDoneLength, binary.BigEndian.AppendUint64(nil, uint64(doneLength))); err != nil {
			return err
		}
		for i, o := range s.outputs {
			if err := meta.Put([]byte(offsetPrefix+o.name), binary.BigEndian.AppendUint64(nil, uint64(offsets[i]))); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.Done += len(done)
		s.failed += failed
	}
	return err
}

// syncAppend appends entries to the done log, syncs it, and returns its
// length.
func syncAppend(f *os.File, entries []doneEntry) (int64, error) {
	if err := appendDone(f, entries); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return f.Seek(0, io.SeekCurrent)
}

// appendFound appends tasks to the log, syncs it, and returns its length.
func (s *State) appendFound(tasks []crawler.Task) (int64, error) {
	if err := s.writeFound(tasks); err != nil {
		return 0, err
	}
	if err := s.log.Sync(); err != nil {
		return 0, err
	}
	return s.log.Seek(0, io.SeekCurrent)
}

// writeFound appends tasks to the log, one JSON line each.
func (s *State) writeFound(tasks []crawler.Task) error {
	if len(tasks) == 0 {
		return nil
	}
	var b bytes.Buffer
	for _, t := range tasks {
		b.Write(crawler.MarshalTask(t))
		b.WriteByte('\n')
	}
	_, err := s.log.Write(b.Bytes())
	return err
}

// Failed is how many records in the output, of every run, are failures.
func (s *State) Failed() int { return s.failed }

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

// Size is the state's size on disk, in bytes: the store and its logs.
func (s *State) Size() int64 {
	var n int64
	for _, name := range []string{FileName, logName, doneName} {
		if fi, err := os.Stat(filepath.Join(s.dir, name)); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// Close closes the store and removes the spill file.
func (s *State) Close() error {
	if s.spill != nil {
		s.spill.close()
	}
	if s.log != nil {
		s.log.Close()
	}
	if s.done != nil {
		s.done.Close()
	}
	return s.db.Close()
}

// diskSpill is a crawler.Spill in plain files, one a depth, appended and
// read in sequence: no index and no memory map, so spilled URLs cost
// neither memory nor random writes. It is scratch (found.log is the
// durable record), remade at every open.
type diskSpill struct {
	dir    string
	levels []*spillLevel // by depth
}

type spillLevel struct {
	w       *os.File
	bw      *bufio.Writer
	r       *bufio.Reader
	rf      *os.File
	pending int // written, not yet read
}

func openSpill(dir string) (*diskSpill, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	if err := os.MkdirAll(dir, privateDir); err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	return &diskSpill{dir: dir}, nil
}

func (d *diskSpill) level(depth int) (*spillLevel, error) {
	for len(d.levels) <= depth {
		path := filepath.Join(d.dir, fmt.Sprintf("depth-%d", len(d.levels)))
		w, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, privateFile)
		if err != nil {
			return nil, err
		}
		rf, err := os.Open(path)
		if err != nil {
			w.Close()
			return nil, err
		}
		d.levels = append(d.levels, &spillLevel{w: w, bw: bufio.NewWriterSize(w, 64<<10), rf: rf, r: bufio.NewReaderSize(rf, 64<<10)})
	}
	return d.levels[depth], nil
}

// Put implements crawler.Spill.
func (d *diskSpill) Put(tasks []crawler.Task) error {
	for _, t := range tasks {
		lvl, err := d.level(max(t.Depth, 0))
		if err != nil {
			return err
		}
		lvl.bw.Write(crawler.MarshalTask(t))
		if err := lvl.bw.WriteByte('\n'); err != nil {
			return err
		}
		lvl.pending++
	}
	return nil
}

// Take implements crawler.Spill: the shallowest depth first.
func (d *diskSpill) Take(n int) ([]crawler.Task, error) {
	var out []crawler.Task
	for _, lvl := range d.levels {
		if lvl.pending == 0 {
			continue
		}
		if err := lvl.bw.Flush(); err != nil {
			return out, err
		}
		for lvl.pending > 0 && len(out) < n {
			line, err := lvl.r.ReadBytes('\n')
			if err != nil {
				return out, fmt.Errorf("read spilled URLs: %w", err)
			}
			t, err := crawler.UnmarshalTask(line)
			if err != nil {
				return out, fmt.Errorf("read spilled URLs: %w", err)
			}
			lvl.pending--
			out = append(out, t)
		}
		if len(out) >= n {
			break
		}
	}
	return out, nil
}

func (d *diskSpill) close() {
	for _, lvl := range d.levels {
		lvl.w.Close()
		lvl.rf.Close()
	}
	os.RemoveAll(d.dir)
}

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
		v += "\t" + string(crawler.MarshalTask(w.Task))
	}
	return []byte(v)
}

// RetryCandidates are the tasks whose records failed in a way worth trying
// again (a timeout, a reset, a refused connection, a 5xx, a 429), by key.
func (s *State) RetryCandidates() (map[uint64]crawler.Task, error) {
	length, err := s.done.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	d, err := readDone(filepath.Join(s.dir, doneName), length, nil)
	if err != nil {
		return nil, err
	}
	out := map[uint64]crawler.Task{}
	for k, v := range d.failed {
		parts := strings.SplitN(v, "\t", 3)
		if len(parts) < 3 {
			continue
		}
		t, err := crawler.UnmarshalTask([]byte(parts[2]))
		if err != nil {
			continue // damaged: not retried
		}
		out[k] = t
	}
	return out, nil
}

// Retry forgets the records of tasks, to fetch them again: in one
// transaction their keys leave the done set, the crawl's pages are queued
// again, each output's committed length becomes its new one, and swaps
// say which rewritten file (without those records) replaces which output,
// until ClearSwap says it did.
func (s *State) Retry(tasks map[uint64]crawler.Task, offsets map[string]int64, swaps map[string]string) error {
	// found.log holds the tasks already: a resume queues them again once
	// they are not done.
	forget := make([]doneEntry, 0, len(tasks))
	for k := range tasks {
		forget = append(forget, doneEntry{key: k})
	}
	doneLength, err := syncAppend(s.done, forget)
	if err != nil {
		return fmt.Errorf("sync %s: %w", doneName, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(metaBucket)
		if err := meta.Put(keyDoneLength, binary.BigEndian.AppendUint64(nil, uint64(doneLength))); err != nil {
			return err
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
	s.failed -= len(tasks)
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
		if want, ok := d.s.lineURLs.get(t.Key()); ok && t.Listed && want != urlCheck(t.URL) {
			return crawler.Task{}, fmt.Errorf("%w: line %d is now %s, not the URL whose record the output holds (give the list as it was, or --state-reset to start over)", ErrListChanged, t.Line, fetch.Redact(t.URL))
		}
	}
}

// Report is where a state stands, for `fetchall state DIR`.
type Report struct {
	Path       string // the state folder
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
	if d, err := os.Stat(dir); err != nil || !d.IsDir() {
		what := "no such folder"
		if err == nil {
			what = "a file, not a state folder"
		} else if !errors.Is(err, fs.ErrNotExist) {
			what = err.Error()
		}
		return nil, fmt.Errorf("no state in %s: %s (a state folder is what --state was given)", dir, what)
	}
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no state in %s: the folder has no %s (a state folder is what --state was given)", dir, FileName)
	}
	if err != nil {
		return nil, fmt.Errorf("no state in %s: %w", dir, err)
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("state %s is in use by a running fetchall: it can be read once that run stops (an interrupt keeps its place), and meanwhile its progress line says where it is", path)
		}
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	defer db.Close()
	r := &Report{Path: dir, Size: info.Size(), DoneByKind: map[string]int{}, DoneByHost: map[string]int{}, Outputs: map[string]int64{}}
	var logLength, doneLength int64
	err = db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(metaBucket)
		if meta == nil {
			return errors.New("not a fetchall state")
		}
		r.Command = string(meta.Get(keyFingerprint))
		r.Finished = meta.Get(keyFinished) != nil
		logLength, doneLength = lengthOf(meta, keyLogLength), lengthOf(meta, keyDoneLength)
		return meta.ForEach(func(k, v []byte) error {
			if name, ok := strings.CutPrefix(string(k), offsetPrefix); ok && len(v) == 8 {
				r.Outputs[name] = int64(binary.BigEndian.Uint64(v))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	seen := crawler.NewMemoryFrontier(limiter.Config{})
	keys := &restorer{frontier: seen, batch: make([]uint64, 0, 4096)}
	d, err := readDone(filepath.Join(dir, doneName), doneLength, keys)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", dir, err)
	}
	keys.flush()
	r.Done = d.count
	for k, n := range d.kinds {
		if n > 0 {
			r.DoneByKind[k] = n
		}
	}
	for h, n := range d.hosts {
		if n > 0 {
			r.DoneByHost[h] = n
		}
	}
	r.Queued = notDone(filepath.Join(dir, logName), logLength, seen.Taken)
	for _, name := range []string{logName, doneName} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil {
			r.Size += fi.Size()
		}
	}
	return r, nil
}

// notDone counts the distinct URLs of the log's committed part that are
// not done.
func notDone(path string, length int64, isDone func(uint64) bool) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, length))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	seen := map[uint64]bool{}
	for sc.Scan() {
		t, err := crawler.UnmarshalTask(sc.Bytes())
		if err != nil {
			continue
		}
		if k := t.Key(); !seen[k] && !isDone(k) {
			seen[k] = true
		}
	}
	return len(seen)
}
