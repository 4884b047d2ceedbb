package crawler

// seenSet maps a crawled URL's Key to its mark in about 15 bytes an entry,
// where a Go map takes 27: a crawl of a few million URLs keeps every one of
// them, so this is most of its memory. Open addressing with linear probing
// over a key array and a byte array (the state and a depth below 63; a
// deeper depth goes to a small side map), in 256 shards that each grow by
// half when three quarters full, so no growth copies more than a sliver
// of the set. Not safe for concurrent use (the frontier's lock guards it).
type seenSet struct {
	shards  [256]seenShard
	deep    map[uint64]int32 // depths >= deepMark, by key
	zero    uint8            // the mark of key 0 (empty slots hold 0), if hasZero
	hasZero bool
	n       int
}

type seenShard struct {
	keys  []uint64
	marks []uint8 // depth<<2 | state; depth deepMark: see seenSet.deep
	used  int
}

// deepMark is the depth field that sends the lookup to seenSet.deep.
const deepMark = 63

// seenMix spreads a key's bits (the splitmix64 finalizer): FNV-1a keys
// of similar URLs differ little in their high bits.
func seenMix(k uint64) uint64 {
	k ^= k >> 30
	k *= 0xbf58476d1ce4e5b9
	k ^= k >> 27
	k *= 0x94d049bb133111eb
	return k ^ k>>31
}

func (s *seenSet) shard(k uint64) (*seenShard, uint64) {
	m := seenMix(k)
	return &s.shards[m>>56], m
}

// home is the slot where a key with mix m starts its probe.
func (sh *seenShard) home(m uint64) int {
	return int((uint64(uint32(m)) * uint64(len(sh.keys))) >> 32)
}

// find returns the slot of k, or -1.
func (sh *seenShard) find(k, m uint64) int {
	if len(sh.keys) == 0 {
		return -1
	}
	for i := sh.home(m); ; {
		switch sh.keys[i] {
		case k:
			return i
		case 0:
			return -1
		}
		if i++; i == len(sh.keys) {
			i = 0
		}
	}
}

// Len is how many keys the set holds.
func (s *seenSet) Len() int { return s.n }

// Get returns the mark of k.
func (s *seenSet) Get(k uint64) (mark, bool) {
	if k == 0 {
		if !s.hasZero {
			return mark{}, false
		}
		return s.unpack(0, s.zero), true
	}
	sh, m := s.shard(k)
	i := sh.find(k, m)
	if i < 0 {
		return mark{}, false
	}
	return s.unpack(k, sh.marks[i]), true
}

func (s *seenSet) unpack(k uint64, b uint8) mark {
	mk := mark{depth: int32(b >> 2), state: b & 3}
	if mk.depth == deepMark {
		mk.depth = s.deep[k]
	}
	return mk
}

// pack returns the byte for mk, keeping a deep depth aside.
func (s *seenSet) pack(k uint64, mk mark) uint8 {
	if mk.depth >= deepMark || mk.depth < 0 {
		if s.deep == nil {
			s.deep = map[uint64]int32{}
		}
		s.deep[k] = mk.depth
		return deepMark<<2 | mk.state&3
	}
	delete(s.deep, k)
	return uint8(mk.depth)<<2 | mk.state&3
}

// Set gives k the mark mk, adding k if new.
func (s *seenSet) Set(k uint64, mk mark) {
	b := s.pack(k, mk)
	if k == 0 {
		if !s.hasZero {
			s.n++
		}
		s.zero, s.hasZero = b, true
		return
	}
	sh, m := s.shard(k)
	if i := sh.find(k, m); i >= 0 {
		sh.marks[i] = b
		return
	}
	if (sh.used+1)*4 > len(sh.keys)*3 {
		sh.grow()
	}
	i := sh.home(m)
	for sh.keys[i] != 0 {
		if i++; i == len(sh.keys) {
			i = 0
		}
	}
	sh.keys[i], sh.marks[i] = k, b
	sh.used++
	s.n++
}

// grow makes the shard half as big again and places every key anew.
func (sh *seenShard) grow() {
	keys, marks := sh.keys, sh.marks
	size := max(16, len(keys)+len(keys)/2)
	sh.keys, sh.marks = make([]uint64, size), make([]uint8, size)
	for j, k := range keys {
		if k == 0 {
			continue
		}
		i := sh.home(seenMix(k))
		for sh.keys[i] != 0 {
			if i++; i == size {
				i = 0
			}
		}
		sh.keys[i], sh.marks[i] = k, marks[j]
	}
}

// Delete removes k. The keys after it in its run move back, so that no
// probe stops early at the hole.
func (s *seenSet) Delete(k uint64) {
	delete(s.deep, k)
	if k == 0 {
		if s.hasZero {
			s.n--
		}
		s.hasZero = false
		return
	}
	sh, m := s.shard(k)
	hole := sh.find(k, m)
	if hole < 0 {
		return
	}
	size := len(sh.keys)
	for j := hole; ; {
		if j++; j == size {
			j = 0
		}
		kj := sh.keys[j]
		if kj == 0 {
			break
		}
		// kj may fill the hole if its home is not in (hole, j], cyclically.
		h := sh.home(seenMix(kj))
		if (j-h+size)%size >= (j-hole+size)%size {
			sh.keys[hole], sh.marks[hole] = kj, sh.marks[j]
			hole = j
		}
	}
	sh.keys[hole], sh.marks[hole] = 0, 0
	sh.used--
	s.n--
}
