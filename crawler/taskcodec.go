package crawler

import (
	"encoding/json"
	"errors"
	"time"
)

// storedTask is a Task as persisted and shared frontiers keep it: short
// names, empty fields left out. A crawl stores every URL it finds, so this
// is most of a state's size on disk (about 100 bytes a URL, where the
// Task's own JSON takes 240) and of a shared frontier's memory.
type storedTask struct {
	URL         string `json:"u"`
	Depth       int    `json:"d,omitempty"`
	Parent      string `json:"p,omitempty"`
	Line        int    `json:"l,omitempty"`
	Hops        int    `json:"h,omitempty"`
	SeedChain   bool   `json:"s,omitempty"`
	FromSitemap bool   `json:"m,omitempty"`
	Listed      bool   `json:"i,omitempty"`
	Attempts    int    `json:"a,omitempty"`
	FirstTry    int64  `json:"f,omitempty"` // Unix nanoseconds
	Data        []byte `json:"x,omitempty"`
	Chain       int    `json:"n,omitempty"`
	ByGet       bool   `json:"g,omitempty"`
}

// MarshalTask returns t as one line of compact JSON, without the newline;
// Invalid and the input order are not kept.
func MarshalTask(t Task) []byte {
	s := storedTask{
		URL: t.URL, Depth: t.Depth, Parent: t.Parent, Line: t.Line, Hops: t.Hops,
		SeedChain: t.SeedChain, FromSitemap: t.FromSitemap, Listed: t.Listed, Attempts: t.Attempts,
		Data: t.Data, Chain: t.Chain, ByGet: t.ByGet,
	}
	if !t.FirstTry.IsZero() {
		s.FirstTry = t.FirstTry.UnixNano()
	}
	b, _ := json.Marshal(s)
	return b
}

// UnmarshalTask reads what MarshalTask wrote.
func UnmarshalTask(b []byte) (Task, error) {
	var s storedTask
	if err := json.Unmarshal(b, &s); err != nil {
		return Task{}, err
	}
	if s.URL == "" {
		return Task{}, errors.New("a task without a URL")
	}
	t := Task{
		URL: s.URL, Depth: s.Depth, Parent: s.Parent, Line: s.Line, Hops: s.Hops,
		SeedChain: s.SeedChain, FromSitemap: s.FromSitemap, Listed: s.Listed, Attempts: s.Attempts,
		Data: s.Data, Chain: s.Chain, ByGet: s.ByGet,
	}
	if s.FirstTry != 0 {
		t.FirstTry = time.Unix(0, s.FirstTry)
	}
	return t, nil
}
