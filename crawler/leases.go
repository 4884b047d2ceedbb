package crawler

// leaseTable holds the tasks out on lease in slots that are reused as
// leases end. A map keyed by a growing lease ID, churned by one insert and
// one delete a page, rehashed every few pages (160 bytes a page on a bulk
// list); the slots stay as many as the most leases ever out at once.
type leaseTable struct {
	slots []leaseSlot
	free  []uint32 // indexes of unused slots
	n     int      // leases out
}

type leaseSlot struct {
	gen    uint32 // bumped as the slot is freed, so that an ended lease's ID no longer matches
	inUse  bool
	leased leased
}

// add stores l and returns its lease ID: the slot's generation (never 0,
// so no ID is 0) and its index.
func (t *leaseTable) add(l leased) uint64 {
	var i uint32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		i = uint32(len(t.slots))
		t.slots = append(t.slots, leaseSlot{gen: 1})
	}
	s := &t.slots[i]
	s.inUse, s.leased = true, l
	t.n++
	return uint64(s.gen)<<32 | uint64(i)
}

// get returns the lease with this ID, if it is still out; the pointer is
// valid until the next add.
func (t *leaseTable) get(id uint64) (*leased, bool) {
	i := uint32(id)
	if int(i) >= len(t.slots) {
		return nil, false
	}
	s := &t.slots[i]
	if !s.inUse || s.gen != uint32(id>>32) {
		return nil, false
	}
	return &s.leased, true
}

// remove ends the lease with this ID and returns it, if it was out.
func (t *leaseTable) remove(id uint64) (leased, bool) {
	l, ok := t.get(id)
	if !ok {
		return leased{}, false
	}
	out := *l
	i := uint32(id)
	s := &t.slots[i]
	s.inUse, s.leased = false, leased{} // no hold on the task's strings
	if s.gen++; s.gen == 0 {
		s.gen = 1
	}
	t.free = append(t.free, i)
	t.n--
	return out, true
}

// len is how many leases are out.
func (t *leaseTable) len() int { return t.n }
