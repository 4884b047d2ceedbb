package state

import (
	"encoding/json"
	"errors"

	"github.com/fetchall/fetchall/crawler"
)

// storedTask is a crawler.Task as the logs and the spill keep it: short
// names, empty fields left out. A crawl logs every URL it finds, so this
// is most of a state's size on disk (about 100 bytes a URL, not 240).
// Attempts and the first try's time are not kept: a task logged is a new
// one, and a resumed or retried one starts its attempts over.
type storedTask struct {
	URL         string `json:"u"`
	Depth       int    `json:"d,omitempty"`
	Parent      string `json:"p,omitempty"`
	Line        int    `json:"l,omitempty"`
	Hops        int    `json:"h,omitempty"`
	SeedChain   bool   `json:"s,omitempty"`
	FromSitemap bool   `json:"m,omitempty"`
	Listed      bool   `json:"i,omitempty"`
}

// encodeTask returns t as one line of JSON, without the newline.
func encodeTask(t crawler.Task) []byte {
	b, _ := json.Marshal(storedTask{
		URL: t.URL, Depth: t.Depth, Parent: t.Parent, Line: t.Line, Hops: t.Hops,
		SeedChain: t.SeedChain, FromSitemap: t.FromSitemap, Listed: t.Listed,
	})
	return b
}

// decodeTask reads a line written by encodeTask.
func decodeTask(line []byte) (crawler.Task, error) {
	var s storedTask
	if err := json.Unmarshal(line, &s); err != nil {
		return crawler.Task{}, err
	}
	if s.URL == "" {
		return crawler.Task{}, errors.New("a task without a URL")
	}
	return crawler.Task{
		URL: s.URL, Depth: s.Depth, Parent: s.Parent, Line: s.Line, Hops: s.Hops,
		SeedChain: s.SeedChain, FromSitemap: s.FromSitemap, Listed: s.Listed,
	}, nil
}
