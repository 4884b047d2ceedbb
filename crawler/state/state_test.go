package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/fetchall/fetchall/crawler"
	"github.com/fetchall/fetchall/fetch"
	"github.com/fetchall/fetchall/limiter"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// A state commits what a flush wrote and what was found, and a reopened
// state restores both; another command's state is refused.
func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := Open(dir, "crawl http://x/", false, limiter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st.AddOutput("out.jsonl", func() (int64, error) { return 123, nil })
	seed := crawler.Task{URL: "http://x/"}
	found := []crawler.Task{{URL: "http://x/a", Depth: 1}, {URL: "http://x/b", Depth: 1}}
	if _, err := st.Add(ctx, append([]crawler.Task{seed}, found...)); err != nil {
		t.Fatal(err)
	}
	failed := crawler.Written{Task: found[1], Kind: fetch.KindTimeout}
	if err := st.Flushed(ctx, []crawler.Written{{Task: seed}, failed}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	if _, err := Open(dir, "crawl http://other/", false, limiter.Config{}); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Open with another fingerprint = %v, want ErrMismatch", err)
	}
	st, err = Open(dir, "crawl http://x/", false, limiter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !st.Resumed || st.Offsets["out.jsonl"] != 123 || st.Done != 2 || !st.IsDone(seed.Key()) {
		t.Fatalf("reopened: resumed %v offsets %v done %d, want resumed, 123, 2", st.Resumed, st.Offsets, st.Done)
	}
	if st.Len() != 1 {
		t.Errorf("%d URLs queued again, want 1 (/a: found, not done)", st.Len())
	}
	if res, _ := st.Add(ctx, []crawler.Task{seed}); res.New != 0 {
		t.Error("the done seed was queued again")
	}
	cands, err := st.RetryCandidates()
	if err != nil || len(cands) != 1 || cands[found[1].Key()].URL != "http://x/b" {
		t.Fatalf("RetryCandidates = %v, %v; want /b (a timeout)", cands, err)
	}
	if err := st.Retry(cands, map[string]int64{"out.jsonl": 100}, map[string]string{"out.jsonl": "out.jsonl.retry"}); err != nil {
		t.Fatal(err)
	}
	if st.Swap("out.jsonl") != "out.jsonl.retry" || st.IsDone(found[1].Key()) || st.Len() != 2 {
		t.Errorf("after Retry: swap %q, /b done %v, queued %d; want the swap noted, /b queued again", st.Swap("out.jsonl"), st.IsDone(found[1].Key()), st.Len())
	}
	if err := st.ClearSwap("out.jsonl"); err != nil || st.Swap("out.jsonl") != "" {
		t.Errorf("ClearSwap: %v, swap %q", err, st.Swap("out.jsonl"))
	}
}

// The done log is cut back to its committed length on open (a crash after
// a write, before the commit), and a retry's take-backs count: the report
// and Failed say what the committed log holds.
func TestDoneLogCommitsWithTheState(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := Open(dir, "fetch list", false, limiter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := crawler.Task{URL: "http://x/a", Listed: true, Line: 1}
	b := crawler.Task{URL: "http://x/b", Listed: true, Line: 2}
	if err := st.Flushed(ctx, []crawler.Written{{Task: a}, {Task: b, Kind: fetch.KindReset}}); err != nil {
		t.Fatal(err)
	}
	if st.Failed() != 1 {
		t.Errorf("Failed = %d, want 1", st.Failed())
	}
	st.Close()
	// A write that no commit covers: a crash between the two.
	f, err := os.OpenFile(filepath.Join(dir, doneName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "%x\tok\tx\n%x\tok\tx\nhalf a li", uint64(7), uint64(8))
	f.Close()

	r, err := Inspect(dir)
	if err != nil || r.Done != 2 || r.DoneByKind["ok"] != 1 || r.DoneByKind["reset"] != 1 || r.DoneByHost["x"] != 2 {
		t.Fatalf("Inspect = %+v, %v; want 2 done, 1 ok, 1 reset, both on host x", r, err)
	}
	st, err = Open(dir, "fetch list", false, limiter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Done != 2 || st.Failed() != 1 || !st.IsDone(a.Key()) || !st.IsDone(b.Key()) || st.IsDone(7) {
		t.Fatalf("reopened: done %d failed %d; want 2 and 1, the uncommitted lines gone", st.Done, st.Failed())
	}
	cands, err := st.RetryCandidates()
	if err != nil || len(cands) != 1 {
		t.Fatalf("RetryCandidates = %v, %v; want line 2", cands, err)
	}
	if err := st.Retry(cands, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.Flushed(ctx, []crawler.Written{{Task: b}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r, err = Inspect(dir)
	if err != nil || r.Done != 2 || r.DoneByKind["ok"] != 2 || r.DoneByKind["reset"] != 0 {
		t.Errorf("after the retry: %+v, %v; want 2 done, both ok", r, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, doneName)); err != nil || fi.Size() > 1<<10 {
		t.Errorf("done log: %v, %v", fi, err)
	}
}

// Inspecting a state a run holds says what to do, not only that it is
// busy (fetchall state DIR during a run).
func TestInspectWhileARunHoldsItSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, "fetch list", false, limiter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := Inspect(dir); err == nil || !strings.Contains(err.Error(), "in use by a running fetchall: it can be read once that run stops") {
		t.Errorf("Inspect during a run: %v", err)
	}
}

// Inspecting what is not a state says what it is, not Go's "stat
// x/fetchall.state: not a directory".
func TestInspectOfNoStateSaysWhy(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "urls.txt")
	if err := os.WriteFile(file, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "gone"): "no such folder",
		file:                       "a file, not a state folder",
		dir:                        "the folder has no fetchall.state",
	} {
		if _, err := Inspect(path); err == nil || !strings.Contains(err.Error(), "no state in "+path+": "+want) {
			t.Errorf("Inspect(%s): %v, want %q", path, err, want)
		}
	}
}

// The done log is read into the frontier and a sorted slice as it goes
// (its keys in a map took a long list's resume to 120 bytes a line): a
// key taken back and done again is done, with its last urlCheck; one
// taken back is not; a key of a crawl has no urlCheck.
func TestRestorerKeepsTheLastWordOfTheLog(t *testing.T) {
	fr := crawler.NewMemoryFrontier(limiter.Config{})
	r := &restorer{frontier: fr, batch: make([]uint64, 0, 2), keepURLs: true}
	r.done(1, 11)
	r.done(2, 22)
	r.done(3, 0) // a crawled page
	r.takeBack(2)
	r.done(4, 44)
	r.takeBack(1)
	r.done(1, 111)
	r.takeBack(3)
	urls := r.lineURLs()
	for key, want := range map[uint64]struct {
		taken bool
		url   uint64
	}{1: {true, 111}, 2: {false, 0}, 3: {false, 0}, 4: {true, 44}} {
		if got := fr.Taken(key); got != want.taken {
			t.Errorf("key %d: taken %v, want %v", key, got, want.taken)
		}
		url, ok := urls.get(key)
		if ok != (want.url != 0) || url != want.url {
			t.Errorf("key %d: urlCheck %d (%v), want %d", key, url, ok, want.url)
		}
	}
}

// A reset of a state another run holds is refused, and leaves that run's
// state whole: the files were removed before the lock was tried, so the
// reset started a state of its own beside the running one, which ran on
// with its files gone. A damaged state is reset.
func TestResetOfAStateInUseIsRefused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	held, err := Open(dir, "crawl http://x/", false, limiter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	seed := crawler.Task{URL: "http://x/"}
	if _, err := held.Add(ctx, []crawler.Task{seed}); err != nil {
		t.Fatal(err)
	}
	if err := held.Flushed(ctx, []crawler.Written{{Task: seed}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, "crawl http://x/", true, limiter.Config{}); err == nil || !strings.Contains(err.Error(), "in use by another fetchall") {
		t.Fatalf("reset of a state in use: %v, want it refused as in use", err)
	}
	held.Close()
	st, err := Open(dir, "crawl http://x/", false, limiter.Config{})
	if err != nil || !st.IsDone(seed.Key()) || st.Done != 1 {
		t.Fatalf("the state after the refused reset: %v; want its done seed", err)
	}
	st.Close()

	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("not a state"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, "crawl http://x/", false, limiter.Config{}); err == nil || !strings.Contains(err.Error(), "--state-reset starts over") {
		t.Errorf("a damaged state: %v, want the error to offer --state-reset", err)
	}
	st, err = Open(dir, "crawl http://x/", true, limiter.Config{})
	if err != nil || st.Resumed || st.Done != 0 || st.IsDone(seed.Key()) {
		t.Fatalf("reset of a damaged state: %v; want a fresh state", err)
	}
	st.Close()
}

// A state made before its files were private (0644, with URLs and their
// passwords in them) has them made private when it is opened; its folder
// is left as it is.
func TestOldStateFilesAreMadePrivate(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, "fetch list", false, limiter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	names := []string{FileName, logName, doneName}
	for _, name := range names {
		if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err = Open(dir, "fetch list", false, limiter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, name := range names {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s after the open: %v, %v; want mode 0600", name, info.Mode(), err)
		}
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o755 {
		t.Errorf("the folder's mode became %v: it is the user's to set", info.Mode().Perm())
	}
}
