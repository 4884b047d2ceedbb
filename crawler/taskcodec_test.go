package crawler

import (
	"testing"
	"time"
)

// What a store keeps of a task comes back whole, a retry's attempts and
// first try included, and the zero fields take no room.
func TestTaskRoundTrip(t *testing.T) {
	first := time.Unix(1700000000, 123456789)
	for _, task := range []Task{
		{URL: "http://x/"},
		{URL: "http://x/a?b=c", Depth: 3, Parent: "http://x/", Hops: 1, SeedChain: true, FromSitemap: true},
		{URL: "http://x/l", Listed: true, Line: 42, Attempts: 2, FirstTry: first},
		{URL: "http://x/p2", Depth: 1, Chain: 4, Data: []byte(`{"category":"Poetry"}`)},
	} {
		b := MarshalTask(task)
		got, err := UnmarshalTask(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if got.URL != task.URL || got.Depth != task.Depth || got.Parent != task.Parent || got.Line != task.Line ||
			got.Hops != task.Hops || got.SeedChain != task.SeedChain || got.FromSitemap != task.FromSitemap ||
			got.Listed != task.Listed || got.Attempts != task.Attempts || !got.FirstTry.Equal(task.FirstTry) ||
			got.Chain != task.Chain || string(got.Data) != string(task.Data) {
			t.Errorf("%s came back as %+v, want %+v", b, got, task)
		}
	}
	if b := MarshalTask(Task{URL: "http://x/"}); string(b) != `{"u":"http://x/"}` {
		t.Errorf("a plain task is %s", b)
	}
	if _, err := UnmarshalTask([]byte(`{"d":1}`)); err == nil {
		t.Error("a task without a URL was accepted")
	}
}
