package crawler

import "testing"

// A lease's ID finds it while it is out and never after, even once its
// slot holds another lease.
func TestLeaseTableReusesSlotsButNotIDs(t *testing.T) {
	var tab leaseTable
	a := tab.add(leased{host: "a"})
	b := tab.add(leased{host: "b"})
	if a == 0 || b == 0 || a == b || tab.len() != 2 {
		t.Fatalf("IDs %x %x, %d out; want two distinct nonzero IDs", a, b, tab.len())
	}
	if l, ok := tab.remove(a); !ok || l.host != "a" {
		t.Fatalf("remove(a) = %+v, %v", l, ok)
	}
	c := tab.add(leased{host: "c"}) // reuses a's slot
	if c == a || len(tab.slots) != 2 {
		t.Errorf("ID %x after reuse, %d slots; want a new ID in an old slot", c, len(tab.slots))
	}
	if _, ok := tab.get(a); ok {
		t.Error("an ended lease's ID still finds a lease")
	}
	if _, ok := tab.remove(a); ok {
		t.Error("an ended lease was removed twice")
	}
	if l, ok := tab.get(c); !ok || l.host != "c" {
		t.Errorf("get(c) = %+v, %v", l, ok)
	}
	if _, ok := tab.get(1<<32 | 99); ok {
		t.Error("an ID past the slots finds a lease")
	}
	tab.remove(b)
	tab.remove(c)
	if tab.len() != 0 {
		t.Errorf("%d out after every lease ended", tab.len())
	}
}
