// Package idset is a map from ID to a small number, made for the millions
// of IDs a bulk run reads: exact (IDs are compared, not only their
// hashes), in two flat slices with no pointers, so that it costs the
// garbage collector nothing to scan.
package idset

import (
	"encoding/binary"
	"hash/maphash"
)

// Set maps IDs to uint32 values. Its zero value is not ready; use New.
type Set struct {
	seed  maphash.Seed
	slots []slot
	arena []byte // each ID: its length as a uvarint, then its bytes
	n     int
}

// slot is one entry of the open-addressing table; at 0 it is empty.
type slot struct {
	hash uint32
	val  uint32
	at   uint64 // where the ID starts in arena, plus 1
}

// New is an empty set.
func New() *Set { return &Set{seed: maphash.MakeSeed()} }

// Len is how many IDs the set holds.
func (s *Set) Len() int { return s.n }

// Get returns id's value, and whether id is in the set.
func (s *Set) Get(id string) (uint32, bool) {
	if s.n == 0 {
		return 0, false
	}
	i, found := s.find(id, s.hash(id))
	return s.slots[i].val, found
}

// Put sets id's value, adding id if it is not there.
func (s *Set) Put(id string, val uint32) {
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	h := s.hash(id)
	i, found := s.find(id, h)
	if !found {
		s.slots[i] = slot{hash: h, at: uint64(len(s.arena)) + 1}
		s.arena = binary.AppendUvarint(s.arena, uint64(len(id)))
		s.arena = append(s.arena, id...)
		s.n++
	}
	s.slots[i].val = val
}

func (s *Set) hash(id string) uint32 { return uint32(maphash.String(s.seed, id)) }

// find returns the slot holding id, or the empty slot where it would go.
func (s *Set) find(id string, h uint32) (int, bool) {
	mask := len(s.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		sl := s.slots[i]
		switch {
		case sl.at == 0:
			return i, false
		case sl.hash == h && s.idAt(sl.at) == id:
			return i, true
		}
	}
}

// idAt is the ID that starts at arena[at-1].
func (s *Set) idAt(at uint64) string {
	n, w := binary.Uvarint(s.arena[at-1:])
	start := at - 1 + uint64(w)
	return string(s.arena[start : start+n])
}

// grow doubles the table (it starts at 1,024 slots) and moves every slot.
func (s *Set) grow() {
	old := s.slots
	s.slots = make([]slot, max(2*len(old), 1024))
	mask := len(s.slots) - 1
	for _, sl := range old {
		if sl.at == 0 {
			continue
		}
		i := int(sl.hash) & mask
		for s.slots[i].at != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
	}
}
