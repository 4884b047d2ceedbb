package crawler

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/cascadia"
	"github.com/fetchall/fetchall/internal/testsite"
)

// pagingExtractor follows the test site's /site/{n} pages as if each
// linked to the next by a "next" link: n -> n+1, up to last. It records
// what each page received.
type pagingExtractor struct {
	base string
	last int

	mu   sync.Mutex
	seen map[string]Page
}

func (x *pagingExtractor) Extract(p *Page) Extraction {
	x.mu.Lock()
	x.seen[p.URL.Path] = Page{Data: p.Data, Chain: p.Chain}
	x.mu.Unlock()
	var n int
	if _, err := fmt.Sscanf(p.URL.Path, "/site/%d", &n); err != nil || n >= x.last {
		return Extraction{Items: n}
	}
	next, _ := url.Parse(fmt.Sprintf("%s/site/%d", x.base, n+1))
	return Extraction{Items: n, Links: []Link{{URL: next, Next: true}}}
}

// A "next" link keeps its page's depth, even at max depth, its chain
// grows by one, and it carries the data its first page received; a
// follow rule's Pass reaches the linked pages. One worker: a page met by
// a next link and a follow link at once keeps what the first fetch saw.
func TestNextLinksKeepDepthAndCarryData(t *testing.T) {
	s := newCrawl(t, testsite.Options{Pages: 50}, 1)
	x := &pagingExtractor{base: s.base, last: 6, seen: map[string]Page{}}
	s.cfg.Extractor = x
	s.cfg.MaxDepth = 1
	s.cfg.Follow = []FollowRule{{
		Within: cascadia.MustCompile("body"),
		Pass:   func(p *Page) []byte { return []byte(`{"from":"` + p.URL.Path + `"}`) },
	}}
	_, results := s.run(t, "/site/1")
	depth := map[string]int{}
	for _, r := range results {
		u, _ := url.Parse(r.URL)
		depth[u.Path] = r.Depth
	}
	for n := 1; n <= 6; n++ {
		path := fmt.Sprintf("/site/%d", n)
		d, ok := depth[path]
		if !ok || d != 0 {
			t.Errorf("%s: fetched %v at depth %d, want depth 0 (a next page keeps its depth)", path, ok, d)
		}
		if got := x.seen[path].Chain; got != n-1 {
			t.Errorf("%s: chain %d, want %d", path, got, n-1)
		}
	}
	// Pages linked from /site/1 by the follow rule carry its data; the
	// next pages carry none (their first page got none).
	withData := 0
	for path, p := range x.seen {
		if strings.HasPrefix(path, "/site/") && depth[path] == 1 {
			if string(p.Data) == "" || !strings.HasPrefix(string(p.Data), `{"from":"/site/`) {
				t.Errorf("%s at depth 1 received %q", path, p.Data)
			}
			withData++
		}
	}
	if withData == 0 {
		t.Error("no page at depth 1: the follow rule's links were not followed")
	}
	if len(x.seen["/site/2"].Data) != 0 && depth["/site/2"] == 0 {
		// /site/2 may be linked by the follow rule too; as a next page
		// (added first) it keeps depth 0 and the first page's data: none.
		t.Errorf("/site/2 as a next page received %q", x.seen["/site/2"].Data)
	}
}
