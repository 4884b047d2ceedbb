package crawler

// Task is one page waiting to be fetched.
type Task struct {
	URL    string // canonical
	Depth  int    // links followed from a seed; redirects do not count
	Parent string // the page that linked or redirected here; "" for seeds
	Line   int    // the seed's line in a seeds file, or 0
	Hops   int    // redirects followed to get here
	// SeedChain is true for a seed and the targets of its redirects, whose
	// hosts join the scope (a seed redirecting to www. keeps its site).
	SeedChain bool
	// FromSitemap marks a seed listed by a sitemap: unlike a seed given by
	// the user, it does not widen the scope.
	FromSitemap bool
}

// Frontier holds the tasks a crawl has yet to fetch. The crawl's single
// coordinator is its only user, so implementations need no locking. The
// default is in memory; a persistent or shared store can stand in.
type Frontier interface {
	Push(Task)
	// Pop removes and returns the next task: never one deeper than
	// another waiting task. ok is false when empty.
	Pop() (t Task, ok bool)
	Len() int
}

// MemoryFrontier is a Frontier in memory that pops the shallowest task
// first, in the order pushed within a depth, so a crawl goes breadth-first
// even when redirects add tasks at a depth already under way. The zero
// value is an empty frontier.
type MemoryFrontier struct {
	levels []fifo // by depth
	low    int    // no task is shallower than this
	n      int
}

type fifo struct {
	tasks []Task
	head  int
}

// Push adds t behind the other tasks of its depth.
func (f *MemoryFrontier) Push(t Task) {
	d := max(t.Depth, 0)
	for len(f.levels) <= d {
		f.levels = append(f.levels, fifo{})
	}
	f.levels[d].tasks = append(f.levels[d].tasks, t)
	f.low = min(f.low, d)
	f.n++
}

// Pop takes the oldest of the shallowest tasks.
func (f *MemoryFrontier) Pop() (Task, bool) {
	for ; f.low < len(f.levels); f.low++ {
		q := &f.levels[f.low]
		if q.head == len(q.tasks) {
			q.tasks, q.head = nil, 0 // a finished level frees its memory
			continue
		}
		t := q.tasks[q.head]
		q.tasks[q.head] = Task{} // let the strings go
		q.head++
		f.n--
		return t, true
	}
	return Task{}, false
}

// Len is the number of tasks waiting.
func (f *MemoryFrontier) Len() int { return f.n }
