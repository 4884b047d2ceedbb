package crawler

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The seen set agrees with a Go map under random sets, gets and deletes,
// deep depths and key 0 included, through many growths.
func TestSeenSetActsAsAMap(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 3))
		var s seenSet
		want := map[uint64]mark{}
		// Few distinct keys in a small range, so that sets hit, deletes
		// find, and probe runs collide and wrap.
		key := func() uint64 {
			if rng.IntN(50) == 0 {
				return 0
			}
			return rng.Uint64N(30000) * 0x9e3779b97f4a7c15
		}
		for op := range 200000 {
			k := key()
			switch r := rng.IntN(10); {
			case r < 6:
				mk := mark{depth: int32(rng.IntN(70)), state: uint8(rng.IntN(4))}
				s.Set(k, mk)
				want[k] = mk
			case r < 8:
				s.Delete(k)
				delete(want, k)
			default:
				got, ok := s.Get(k)
				w, wok := want[k]
				if got != w || ok != wok {
					t.Fatalf("seed %d op %d: Get(%x) = %v %v, want %v %v", seed, op, k, got, ok, w, wok)
				}
			}
		}
		if s.Len() != len(want) {
			t.Fatalf("seed %d: Len %d, want %d", seed, s.Len(), len(want))
		}
		for k, w := range want {
			if got, ok := s.Get(k); !ok || got != w {
				t.Fatalf("seed %d: Get(%x) = %v %v, want %v", seed, k, got, ok, w)
			}
		}
	}
}

func BenchmarkSeenSet(b *testing.B) {
	var s seenSet
	for i := range b.N {
		k := uint64(i) * 0x9e3779b97f4a7c15
		if _, ok := s.Get(k); !ok {
			s.Set(k, mark{depth: 3, state: queued})
		}
	}
}

func BenchmarkSeenMap(b *testing.B) {
	s := map[uint64]mark{}
	for i := range b.N {
		k := uint64(i) * 0x9e3779b97f4a7c15
		if _, ok := s[k]; !ok {
			s[k] = mark{depth: 3, state: queued}
		}
	}
}

// The task heap, and the host queue (a FIFO beside a heap), pop by depth,
// then by arrival, whatever the order of pushes and pops: random depths,
// depths that mostly rise (a crawl), and a single depth (a list).
func TestTaskHeapOrder(t *testing.T) {
	for _, c := range []struct {
		name  string
		depth func(i int, rng *rand.Rand) int32
	}{
		{"random", func(_ int, rng *rand.Rand) int32 { return int32(rng.IntN(5)) }},
		{"mostly rising", func(i int, rng *rand.Rand) int32 { return int32(i/300 - rng.IntN(2)) }},
		{"one depth", func(int, *rand.Rand) int32 { return 0 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkQueueOrder(t, c.depth, func() (push func(queuedTask), pop func() queuedTask, length func() int) {
				var h taskHeap
				return h.push, h.pop, func() int { return h.Len() }
			})
			checkQueueOrder(t, c.depth, func() (push func(queuedTask), pop func() queuedTask, length func() int) {
				var q taskQueue
				return q.push, q.pop, q.len
			})
		})
	}
}

func checkQueueOrder(t *testing.T, depth func(int, *rand.Rand) int32, newQueue func() (func(queuedTask), func() queuedTask, func() int)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 9))
	push, pop, length := newQueue()
	var want []queuedTask
	for i := range 6000 {
		if rng.IntN(3) == 0 && len(want) > 0 {
			slices.SortFunc(want, func(a, b queuedTask) int { return cmp.Or(cmp.Compare(a.depth, b.depth), cmp.Compare(a.seq, b.seq)) })
			got := pop()
			if got.seq != want[0].seq {
				t.Fatalf("step %d: popped seq %d depth %d, want seq %d depth %d", i, got.seq, got.depth, want[0].seq, want[0].depth)
			}
			want = want[1:]
			continue
		}
		q := queuedTask{depth: depth(i, rng), seq: uint64(i)}
		push(q)
		want = append(want, q)
	}
	if length() != len(want) {
		t.Errorf("queue holds %d, want %d", length(), len(want))
	}
	for len(want) > 0 {
		slices.SortFunc(want, func(a, b queuedTask) int { return cmp.Or(cmp.Compare(a.depth, b.depth), cmp.Compare(a.seq, b.seq)) })
		if got := pop(); got.seq != want[0].seq {
			t.Fatalf("draining: popped seq %d depth %d, want seq %d depth %d", got.seq, got.depth, want[0].seq, want[0].depth)
		}
		want = want[1:]
	}
}

// normalizeSpace's shortcut answers as strings.Fields does.
func TestNormalizeSpaceShortcut(t *testing.T) {
	for _, s := range []string{"", "a", "a b", " a", "a ", "a  b", "a\tb", "a\nb", "caf\u00e9 x", "a\u00a0b", "x\u2003y", "  ", "Page 1", "a\r\nb", "\x0bq"} {
		if got, want := normalizeSpace(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("normalizeSpace(%q) = %q, want %q", s, got, want)
		}
	}
}

// A task's key is the 64-bit FNV-1a of its canonical URL, or of "line:N"
// for a list line, exactly as hash/fnv computes it: states and shared
// frontiers keep these keys, so they may never change.
func TestKeyIsFNV1a(t *testing.T) {
	want := func(s string) uint64 {
		h := fnv.New64a()
		h.Write([]byte(s))
		return h.Sum64()
	}
	for _, u := range []string{"", "http://a/", "https://example.org/path?q=1", strings.Repeat("é", 100)} {
		if got := (Task{URL: u}).Key(); got != want(u) {
			t.Errorf("Key(%q) = %x, want %x", u, got, want(u))
		}
	}
	for _, line := range []int{0, 1, 99, 100, 123456789, -1} {
		if got := (Task{Listed: true, Line: line}).Key(); got != want(fmt.Sprintf("line:%d", line)) {
			t.Errorf("Key(line %d) = %x, want %x", line, got, want(fmt.Sprintf("line:%d", line)))
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		_ = (Task{Listed: true, Line: 123456}).Key() + (Task{URL: "http://a/b/c/d/e/f/g/h/i/j/k/l"}).Key()
	}); n != 0 {
		t.Errorf("a key costs %v allocations, want none", n)
	}
}
