package state

import (
	"context"
	"errors"
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
