package crawler

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fetchall/fetchall/limiter"
)

// MemoryFrontier is the default Frontier: everything in memory, with one
// ready queue per host. A host's queue gives its shallowest task first (in
// the order added within a depth); Lease picks, among the hosts that may go
// now, the one whose next task is shallowest and oldest, so a crawl stays
// breadth-first and a list stays close to its order, while a busy or
// cooling host never holds up the others.
//
// The seen set keeps about 15 bytes per crawled URL (its Key and depth);
// list lines are not kept in it (each line is fetched), so a list's memory
// follows what is queued, not its length. Hosts are forgotten when idle.
// It is safe for concurrent use. Use NewMemoryFrontier.
type MemoryFrontier struct {
	mu      sync.Mutex
	lim     *limiter.Limiter
	seen    seenSet
	hosts   map[string]*hostQueue
	ready   hostHeap // a task queued, a slot free, the host due: by head task
	waiting hostHeap // a task queued, a slot free, the host not yet due: by time
	delayed delayHeap
	leased  leaseTable        // the tasks out on lease
	spare   *hostQueue        // a forgotten host's empty queue, for the next new host
	byKey   map[uint64]uint64 // crawled URL Key -> lease ID, while leased
	open    []int             // queued, delayed or leased tasks, by depth
	low     int               // open[d] is 0 for every d < low
	queued  int               // valid queued tasks, stale copies excepted
	seq     uint64
	changes int
	wake    chan struct{} // made by a Lease about to wait; closed (and dropped) when one may now succeed

	spill     Spill         // nil: everything in memory
	maxQueued int           // with a spill: the most tasks queued in memory
	spilled   int           // tasks the spill holds that are still wanted
	spilledAt []int         // the same, by depth
	inMemory  map[int32]int // valid tasks queued in memory, by depth
}

// deepestInMemory is the greatest depth queued in memory, or -1.
func (f *MemoryFrontier) deepestInMemory() int {
	deepest := -1
	for d, n := range f.inMemory {
		if n > 0 && int(d) > deepest {
			deepest = int(d)
		}
	}
	return deepest
}

// SetSpill lets the frontier keep at most maxQueued crawled tasks in
// memory; the others go to spill and come back, shallowest first, as the
// queue drains. The seen set stays in memory (about 15 bytes a URL). Call
// it before the first Add.
func (f *MemoryFrontier) SetSpill(spill Spill, maxQueued int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spill, f.maxQueued = spill, max(maxQueued, 2)
}

// mark is what the seen set knows of a crawled URL.
type mark struct {
	depth int32
	state uint8
}

// The states of a seen URL.
const (
	taken   uint8 = iota // leased or done
	queued               // in its host's queue
	delayed              // waiting for its retry time
	spilled              // queued, but kept by the Spill, not in memory
)

// Spill keeps the tasks a MemoryFrontier has no room for: a frontier that
// outgrows memory goes on working (see SetSpill). Its calls come under the
// frontier's lock, one at a time.
type Spill interface {
	// Put keeps tasks.
	Put(tasks []Task) error
	// Take removes and returns at most n tasks, the shallowest first.
	Take(n int) ([]Task, error)
}

type leased struct {
	task   Task
	host   string
	ticket limiter.Ticket // what the start took, given back if nothing was sent
}

// NewMemoryFrontier returns an empty frontier enforcing limits per host.
func NewMemoryFrontier(limits limiter.Config) *MemoryFrontier {
	return &MemoryFrontier{
		lim:      limiter.New(limits),
		hosts:    map[string]*hostQueue{},
		waiting:  hostHeap{byTime: true},
		byKey:    map[uint64]uint64{},
		inMemory: map[int32]int{},
	}
}

// Add implements Frontier.
func (f *MemoryFrontier) Add(ctx context.Context, tasks []Task) (AddResult, error) {
	res, _, err := f.AddTracked(ctx, tasks)
	return res, err
}

// AddTracked is Add that also returns the tasks it queued: new, or met at
// a smaller depth than before (what a persistent store must record).
func (f *MemoryFrontier) AddTracked(_ context.Context, tasks []Task) (AddResult, []Task, error) {
	var res AddResult
	var fresh, toSpill []Task
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	for _, t := range tasks {
		if t.Listed {
			f.push(t, now)
			res.New++
			continue
		}
		key := t.Key()
		m, ok := f.seen.Get(key)
		switch {
		case !ok && f.mustSpill(t.Depth):
			f.seen.Set(key, mark{depth: int32(t.Depth), state: spilled})
			f.openAdd(t.Depth, 1)
			f.countSpilled(t.Depth, 1)
			toSpill = append(toSpill, t)
			fresh = append(fresh, t)
			res.New++
		case !ok:
			f.seen.Set(key, mark{depth: int32(t.Depth), state: queued})
			f.push(t, now)
			fresh = append(fresh, t)
			res.New++
		case int32(t.Depth) >= m.depth:
		case m.state != taken:
			// Queue it again at the smaller depth; the deeper copy is
			// skipped when it comes up.
			f.openAdd(int(m.depth), -1)
			switch m.state {
			case queued:
				f.queued--
				f.inMemory[m.depth]--
			case spilled:
				f.countSpilled(int(m.depth), -1)
			}
			f.seen.Set(key, mark{depth: int32(t.Depth), state: queued})
			f.push(t, now)
			fresh = append(fresh, t)
		default:
			f.seen.Set(key, mark{depth: int32(t.Depth), state: taken})
			if id, ok := f.byKey[key]; ok {
				if l, ok := f.leased.get(id); ok {
					f.openAdd(l.task.Depth, -1)
					f.openAdd(t.Depth, 1)
					l.task.Depth = t.Depth
				}
			}
			res.Lowered = append(res.Lowered, t)
		}
	}
	if len(toSpill) > 0 {
		if err := f.spill.Put(toSpill); err != nil {
			return res, fresh, fmt.Errorf("spill: %w", err)
		}
	}
	if res.New > 0 || len(res.Lowered) > 0 {
		f.kick()
	}
	return res, fresh, nil
}

// mustSpill says whether a new task at depth goes to the spill: when
// memory is full and the task is no shallower than any there, or when a
// shallower task is already spilled. Either way the queue in memory stays
// the shallowest, so no deeper page runs ahead of a shallower one waiting
// on disk (which would hold back every record of the deeper level).
func (f *MemoryFrontier) mustSpill(depth int) bool {
	if f.spill == nil {
		return false
	}
	for d := 0; d < min(depth, len(f.spilledAt)); d++ {
		if f.spilledAt[d] > 0 {
			return true
		}
	}
	return f.queued >= f.maxQueued && f.deepestInMemory() <= depth
}

// countSpilled adds n to the tasks spilled at depth.
func (f *MemoryFrontier) countSpilled(depth, n int) {
	for len(f.spilledAt) <= depth {
		f.spilledAt = append(f.spilledAt, 0)
	}
	f.spilledAt[depth] += n
	f.spilled += n
}

// refill brings spilled tasks back while the memory queue runs low.
func (f *MemoryFrontier) refill(now time.Time) error {
	for f.spill != nil && f.spilled > 0 && f.queued < f.maxQueued/2 {
		tasks, err := f.spill.Take(f.maxQueued / 2)
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		if len(tasks) == 0 {
			// The spill lost them: nothing to wait for.
			for d, n := range f.spilledAt {
				f.openAdd(d, -n)
			}
			f.spilled, f.spilledAt = 0, nil
			return nil
		}
		for _, t := range tasks {
			key := t.Key()
			if m, _ := f.seen.Get(key); m.state != spilled || m.depth != int32(t.Depth) {
				continue // queued again at a smaller depth meanwhile
			}
			f.countSpilled(t.Depth, -1)
			f.openAdd(t.Depth, -1) // push counts it again
			f.seen.Set(key, mark{depth: int32(t.Depth), state: queued})
			f.push(t, now)
		}
	}
	return nil
}

// push queues t on its host, counting it open.
func (f *MemoryFrontier) push(t Task, now time.Time) {
	name := t.Host()
	h := f.hosts[name]
	if h == nil {
		h = f.spare
		f.spare = nil
		if h == nil {
			h = &hostQueue{}
		}
		h.name, h.index = name, -1
		f.hosts[name] = h
	}
	f.seq++
	h.tasks.push(pack(t, f.seq))
	f.queued++
	f.inMemory[int32(t.Depth)]++
	f.openAdd(t.Depth, 1)
	f.place(h, now)
}

func (f *MemoryFrontier) openAdd(depth, n int) {
	for len(f.open) <= depth {
		f.open = append(f.open, 0)
	}
	f.open[depth] += n
	if n > 0 && depth < f.low {
		f.low = depth
	}
}

// keepSpare keeps a forgotten host's queue, emptied, for the next new
// host: a bulk list's one host is forgotten whenever the reader falls
// behind the workers, and built again, ring and all, on the next line.
// One is kept, and only a small one, so a crawl of many hosts stays flat.
func (f *MemoryFrontier) keepSpare(h *hostQueue) {
	if f.spare != nil || len(h.tasks.ring) > maxSpareRing || len(h.tasks.others) > 0 {
		h.tasks = taskQueue{}
		return
	}
	clear(h.tasks.ring) // no hold on the tasks' strings
	*h = hostQueue{tasks: taskQueue{ring: h.tasks.ring}}
	f.spare = h
}

// maxSpareRing is the largest host ring kept for reuse (about 100 KiB).
const maxSpareRing = 1024

// valid reports whether a copy of t in the given state is still wanted:
// not a deeper copy of a URL queued again at a smaller depth.
func (f *MemoryFrontier) valid(t Task, state uint8) bool {
	return f.validKey(t.Listed, t.Key(), int32(t.Depth), state)
}

func (f *MemoryFrontier) validKey(listed bool, key uint64, depth int32, state uint8) bool {
	if listed {
		return true
	}
	m, _ := f.seen.Get(key)
	return m.state == state && m.depth == depth
}

// head drops h's stale copies and reports whether a task is left.
func (f *MemoryFrontier) head(h *hostQueue) bool {
	for h.tasks.len() > 0 {
		if first := h.tasks.first(); f.validKey(first.listed(), first.key, first.depth, queued) {
			return true
		}
		h.tasks.pop()
	}
	return false
}

// place puts h in the heap its state calls for: ready, waiting, or neither
// (nothing queued, or no free slot: Complete places it again). An idle host
// with nothing queued is forgotten.
func (f *MemoryFrontier) place(h *hostQueue, now time.Time) {
	f.unplace(h)
	if !f.head(h) {
		delete(f.hosts, h.name)
		f.keepSpare(h)
		return
	}
	at, ok := f.lim.Next(h.name, now)
	switch {
	case !ok:
	case at.After(now):
		h.at = at
		heap.Push(&f.waiting, h)
		h.in = &f.waiting
	default:
		heap.Push(&f.ready, h)
		h.in = &f.ready
	}
}

func (f *MemoryFrontier) unplace(h *hostQueue) {
	if h.in != nil {
		heap.Remove(h.in, h.index)
		h.in = nil
	}
}

// promote moves what has come due: retries whose time came back to their
// hosts, and waiting hosts to the ready heap.
func (f *MemoryFrontier) promote(now time.Time) {
	for len(f.delayed) > 0 && !f.delayed[0].at.After(now) {
		d := heap.Pop(&f.delayed).(delayedTask)
		if !f.valid(d.task, delayed) {
			continue // queued again at a smaller depth meanwhile, and counted there
		}
		f.openAdd(d.task.Depth, -1) // push counts it again
		if !d.task.Listed {
			f.seen.Set(d.task.Key(), mark{depth: int32(d.task.Depth), state: queued})
		}
		f.push(d.task, now)
	}
	for f.waiting.Len() > 0 && !f.waiting.hosts[0].at.After(now) {
		f.place(f.waiting.hosts[0], now)
	}
}

// Lease implements Frontier.
func (f *MemoryFrontier) Lease(ctx context.Context) (Lease, error) {
	for {
		f.mu.Lock()
		now := time.Now()
		f.promote(now)
		if err := f.refill(now); err != nil {
			f.mu.Unlock()
			return Lease{}, err
		}
		if l, ok := f.take(now); ok {
			f.mu.Unlock()
			return l, nil
		}
		if f.queued == 0 && len(f.delayed) == 0 && f.leased.len() == 0 && f.spilled == 0 {
			f.mu.Unlock()
			return Lease{}, ErrDrained
		}
		if f.wake == nil {
			f.wake = make(chan struct{})
		}
		wake, next := f.wake, f.nextDue(now)
		f.mu.Unlock()

		if err := waitFor(ctx, wake, next.Sub(now), !next.IsZero()); err != nil {
			return Lease{}, err
		}
	}
}

// waitFor waits until wake is closed, d has passed (when timed), or ctx
// ends; only the last is an error.
func waitFor(ctx context.Context, wake <-chan struct{}, d time.Duration, timed bool) error {
	var timeout <-chan time.Time
	if timed {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-wake:
	case <-timeout:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// take leases the best task that may go now, if any.
func (f *MemoryFrontier) take(now time.Time) (Lease, bool) {
	for f.ready.Len() > 0 && !f.head(f.ready.hosts[0]) {
		f.place(f.ready.hosts[0], now)
	}
	if f.ready.Len() == 0 || f.lim.GlobalNext(now).After(now) {
		return Lease{}, false
	}
	h := f.ready.hosts[0]
	t := h.tasks.pop().task()
	f.queued--
	if f.inMemory[int32(t.Depth)]--; f.inMemory[int32(t.Depth)] == 0 {
		delete(f.inMemory, int32(t.Depth))
	}
	ticket := f.lim.Start(h.name, now)
	l := Lease{Task: t, ID: f.leased.add(leased{task: t, host: h.name, ticket: ticket})}
	if !t.Listed {
		key := t.Key()
		f.seen.Set(key, mark{depth: int32(t.Depth), state: taken})
		f.byKey[key] = l.ID
	}
	f.place(h, now)
	return l, true
}

// nextDue is when a Lease that found nothing should look again, or zero
// when only a change (Add, Complete, Release) can help.
func (f *MemoryFrontier) nextDue(now time.Time) time.Time {
	var next time.Time
	earliest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if f.ready.Len() > 0 {
		earliest(f.lim.GlobalNext(now))
	}
	if f.waiting.Len() > 0 {
		earliest(f.waiting.hosts[0].at)
	}
	if len(f.delayed) > 0 {
		earliest(f.delayed[0].at)
	}
	return next
}

// Complete implements Frontier.
func (f *MemoryFrontier) Complete(_ context.Context, l Lease, o Outcome) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if lt, ok := f.end(l, o); ok {
		f.openAdd(lt.task.Depth, -1)
	}
	return nil
}

// Release implements Frontier.
func (f *MemoryFrontier) Release(_ context.Context, l Lease, o Outcome, notBefore time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	lt, ok := f.end(l, o)
	if !ok {
		return nil
	}
	t := l.Task
	t.Depth = lt.task.Depth // Add may have lowered it meanwhile
	if !t.Listed {
		f.seen.Set(t.Key(), mark{depth: int32(t.Depth), state: delayed})
	}
	heap.Push(&f.delayed, delayedTask{task: t, at: notBefore})
	f.kick() // a Lease waiting with no timer must now wait for this one
	return nil
}

// end closes lease l: its host's slot is free again and o applies. The
// task stays counted open; the caller decides.
func (f *MemoryFrontier) end(l Lease, o Outcome) (leased, bool) {
	lt, ok := f.leased.remove(l.ID)
	if !ok {
		return leased{}, false
	}
	if !lt.task.Listed {
		delete(f.byKey, lt.task.Key())
	}
	now := time.Now()
	f.lim.Done(lt.host)
	if o.Unsent {
		f.lim.Refund(lt.host, lt.ticket)
	}
	if o.CoolDown > 0 {
		f.lim.CoolDown(lt.host, now.Add(o.CoolDown))
	}
	if h := f.hosts[lt.host]; h != nil {
		f.place(h, now)
	}
	if f.changes++; f.changes%4096 == 0 {
		f.lim.Forget(now)
	}
	f.kick()
	return lt, true
}

// Restore marks the URLs with these keys done, as a resumed run found
// them: they are never queued again.
func (f *MemoryFrontier) Restore(done []uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range done {
		f.seen.Set(k, mark{state: taken})
	}
}

// Forget drops a done URL from the seen set, so that it may be queued
// again (a retry of a failed page in a resumed run).
func (f *MemoryFrontier) Forget(key uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.seen.Get(key); ok && m.state == taken {
		f.seen.Delete(key)
	}
}

// MinOpenDepth implements DepthReporter.
func (f *MemoryFrontier) MinOpenDepth() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ; f.low < len(f.open); f.low++ {
		if f.open[f.low] > 0 {
			return f.low
		}
	}
	return -1
}

// SetDelay implements DelaySetter.
func (f *MemoryFrontier) SetDelay(host string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.lim.SetDelay(host, d, now)
	if h := f.hosts[host]; h != nil {
		f.place(h, now)
	}
}

// Len is how many tasks are queued, spilled or waiting to be retried.
func (f *MemoryFrontier) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queued + f.spilled + len(f.delayed)
}

// Hosts is how many hosts have tasks queued now.
func (f *MemoryFrontier) Hosts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.hosts)
}

// kick wakes the Leases waiting. With none waiting (a busy crawl, most
// of the time) it costs nothing: the channel is made only to wait on.
func (f *MemoryFrontier) kick() {
	if f.wake != nil {
		close(f.wake)
		f.wake = nil
	}
}

// hostQueue is one host's queued tasks and its place in the heaps.
type hostQueue struct {
	name  string
	tasks taskQueue
	at    time.Time // when it may go next, while waiting
	in    *hostHeap // the heap it is in, or nil
	index int       // its index there
}

// queuedTask is a Task as a host queue keeps it: packed, for a frontier
// may hold millions of them (about half a Task's size), with its key.
type queuedTask struct {
	url, parent string
	data        string // Task.Data, rarely set
	chain       int32
	key         uint64
	seq         uint64 // arrival, for the order within a depth
	order       int64  // Task.seq: input order
	firstTry    int64  // Unix nanoseconds, 0 before the first attempt
	line        int32
	depth       int32
	attempts    int16
	hops        int16
	flags       uint8
}

const (
	flagSeedChain uint8 = 1 << iota
	flagFromSitemap
	flagListed
	flagByGet
)

func pack(t Task, seq uint64) queuedTask {
	q := queuedTask{url: t.URL, parent: t.Parent, data: string(t.Data), chain: int32(t.Chain), key: t.Key(), seq: seq, order: int64(t.seq),
		line: int32(t.Line), depth: int32(t.Depth), attempts: int16(min(t.Attempts, 1<<15-1)), hops: int16(min(t.Hops, 1<<15-1))}
	if !t.FirstTry.IsZero() {
		q.firstTry = t.FirstTry.UnixNano()
	}
	if t.SeedChain {
		q.flags |= flagSeedChain
	}
	if t.FromSitemap {
		q.flags |= flagFromSitemap
	}
	if t.Listed {
		q.flags |= flagListed
	}
	if t.ByGet {
		q.flags |= flagByGet
	}
	return q
}

func (q queuedTask) listed() bool { return q.flags&flagListed != 0 }

// task unpacks q.
func (q queuedTask) task() Task {
	t := Task{URL: q.url, Parent: q.parent, Depth: int(q.depth), Line: int(q.line), Hops: int(q.hops),
		Attempts: int(q.attempts), seq: int(q.order), SeedChain: q.flags&flagSeedChain != 0,
		FromSitemap: q.flags&flagFromSitemap != 0, Listed: q.flags&flagListed != 0, ByGet: q.flags&flagByGet != 0, Chain: int(q.chain)}
	if q.data != "" {
		t.Data = []byte(q.data)
	}
	if q.firstTry != 0 {
		t.FirstTry = time.Unix(0, q.firstTry)
	}
	return t
}

// taskQueue holds one host's tasks, first by depth, then by arrival.
// Tasks mostly come in that order already (a list always, a crawl level
// by level), and those wait in a ring, first in, first out; only the
// others go to a heap. Popping every task from a heap of 10,000
// hundred-byte tasks was a tenth of a bulk list's engine cost.
type taskQueue struct {
	ring   []queuedTask // sorted from head on: a task joins it only if not before its last
	head   int          // the ring's first task
	n      int          // tasks in the ring
	others taskHeap
}

func (q *taskQueue) len() int { return q.n + len(q.others) }

func (q *taskQueue) push(t queuedTask) {
	if q.n > 0 && taskBefore(t, q.ring[(q.head+q.n-1)%len(q.ring)]) {
		q.others.push(t)
		return
	}
	if q.n == len(q.ring) {
		// Full: grow as append would (by a quarter once large), in order
		// from the head.
		size := max(1, 2*len(q.ring)) // one for a host with one task, as most hosts of a wide crawl have
		if len(q.ring) >= 256 {
			size = len(q.ring) + len(q.ring)/4
		}
		grown := make([]queuedTask, size)
		k := copy(grown, q.ring[q.head:])
		copy(grown[k:], q.ring[:q.head])
		q.ring, q.head = grown, 0
	}
	q.ring[(q.head+q.n)%len(q.ring)] = t
	q.n++
}

// fromRing says whether the first task is the ring's; the queue must not
// be empty.
func (q *taskQueue) fromRing() bool {
	return q.n > 0 && (len(q.others) == 0 || !taskBefore(q.others[0], q.ring[q.head]))
}

// first is the task pop would return; the queue must not be empty.
func (q *taskQueue) first() *queuedTask {
	if q.fromRing() {
		return &q.ring[q.head]
	}
	return &q.others[0]
}

// pop removes and returns the first task; the queue must not be empty.
func (q *taskQueue) pop() queuedTask {
	if !q.fromRing() {
		return q.others.pop()
	}
	t := q.ring[q.head]
	q.ring[q.head] = queuedTask{} // its strings are not kept alive
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return t
}

// taskHeap orders tasks by depth, then by arrival. It is a binary heap
// written for its element type: container/heap would box every task
// popped into an interface (an allocation per URL).
type taskHeap []queuedTask

func (q taskHeap) Len() int { return len(q) }

func (q taskHeap) less(i, j int) bool {
	if q[i].depth != q[j].depth {
		return q[i].depth < q[j].depth
	}
	return q[i].seq < q[j].seq
}

func (q *taskHeap) push(t queuedTask) {
	*q = append(*q, t)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

// pop removes and returns the first task; the heap must not be empty.
func (q *taskHeap) pop() queuedTask {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = queuedTask{}
	h = h[:last]
	for i := 0; ; {
		smallest, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h.less(l, smallest) {
			smallest = l
		}
		if r < len(h) && h.less(r, smallest) {
			smallest = r
		}
		if smallest == i {
			break
		}
		h[i], h[smallest] = h[smallest], h[i]
		i = smallest
	}
	*q = h
	return top
}

// hostHeap orders hosts by their head task (ready) or by when they may go
// (waiting).
type hostHeap struct {
	hosts  []*hostQueue
	byTime bool
}

func (q hostHeap) Len() int { return len(q.hosts) }
func (q hostHeap) Less(i, j int) bool {
	a, b := q.hosts[i], q.hosts[j]
	if q.byTime {
		return a.at.Before(b.at)
	}
	return taskBefore(*a.tasks.first(), *b.tasks.first())
}
func (q hostHeap) Swap(i, j int) {
	q.hosts[i], q.hosts[j] = q.hosts[j], q.hosts[i]
	q.hosts[i].index, q.hosts[j].index = i, j
}
func (q *hostHeap) Push(x any) {
	h := x.(*hostQueue)
	h.index = len(q.hosts)
	q.hosts = append(q.hosts, h)
}
func (q *hostHeap) Pop() any {
	old := q.hosts
	h := old[len(old)-1]
	old[len(old)-1] = nil
	q.hosts = old[:len(old)-1]
	h.index = -1
	return h
}

func taskBefore(a, b queuedTask) bool {
	if a.depth != b.depth {
		return a.depth < b.depth
	}
	return a.seq < b.seq
}

type delayedTask struct {
	task Task
	at   time.Time
}

type delayHeap []delayedTask

func (q delayHeap) Len() int           { return len(q) }
func (q delayHeap) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q delayHeap) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *delayHeap) Push(x any)        { *q = append(*q, x.(delayedTask)) }
func (q *delayHeap) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// Seen says whether the URL or list line with this key was ever added,
// queued, leased or done.
func (f *MemoryFrontier) Seen(key uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.seen.Get(key)
	return ok
}

// Taken says whether the URL or list line with this key is leased or
// done (restored as done, for a resumed run).
func (f *MemoryFrontier) Taken(key uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.seen.Get(key)
	return ok && m.state == taken
}
