// Package idset is a map from ID to a small number, made for the millions
// of IDs a bulk run reads: exact (IDs are compared, not only their
// hashes), and kept outside the garbage-collected heap (in memory mapped
// for it, where the system has mmap), so that it costs the collector
// nothing to scan and does not raise the heap size the collector lets a
// process reach: 8 bytes a slot, at most two slots an ID, and each ID
// once with its value.
package idset

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"runtime"
)

// ErrFull is a Put past the 4 GiB of IDs a Set holds.
var ErrFull = errors.New("more IDs than a run can hold (4 GiB of them)")

// ErrTooLong is a Put of an ID longer than MaxIDBytes.
var ErrTooLong = errors.New("an ID longer than a set holds (1 MiB)")

// MaxIDBytes is the longest ID a Set holds.
const MaxIDBytes = chunkBytes - binary.MaxVarintLen64 - 4

const (
	slotBytes  = 8       // a slot: the ID's hash, then where it starts in the arena, plus 1 (0: empty)
	chunkBytes = 1 << 20 // the arena grows a chunk at a time; an ID never straddles two
	maxChunks  = 1 << 12 // 4 GiB of arena, which a slot's uint32 can point into
)

// Set maps IDs to uint32 values. Its zero value is not ready; use New.
type Set struct {
	seed  maphash.Seed
	slots []byte
	// chunks hold each ID as its length (a uvarint), its bytes, and its
	// value (4 bytes, little endian).
	chunks [][]byte
	used   int // bytes used in the last chunk
	n      int
	mem    *mappings
}

// mappings are the memory a Set mapped, unmapped when the Set is no
// longer reachable.
type mappings struct{ all [][]byte }

// New is an empty set.
func New() *Set {
	s := &Set{seed: maphash.MakeSeed(), mem: &mappings{}}
	runtime.AddCleanup(s, func(m *mappings) {
		for _, b := range m.all {
			release(b)
		}
	}, s.mem)
	return s
}

// Len is how many IDs the set holds.
func (s *Set) Len() int { return s.n }

// Get returns id's value, and whether id is in the set.
func (s *Set) Get(id string) (uint32, bool) {
	if s.n == 0 {
		return 0, false
	}
	i, found := s.find(id, s.hash(id))
	if !found {
		return 0, false
	}
	return binary.LittleEndian.Uint32(s.value(s.at(i))), true
}

// Put sets id's value, adding id if it is not there, or returns ErrFull.
func (s *Set) Put(id string, val uint32) error {
	if (s.n+1)*4 > s.capacity()*3 {
		s.grow()
	}
	h := s.hash(id)
	i, found := s.find(id, h)
	if !found {
		at, err := s.append(id)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(s.slots[i*slotBytes:], h)
		binary.LittleEndian.PutUint32(s.slots[i*slotBytes+4:], at)
		s.n++
	}
	binary.LittleEndian.PutUint32(s.value(s.at(i)), val)
	return nil
}

func (s *Set) hash(id string) uint32 { return uint32(maphash.String(s.seed, id)) }

func (s *Set) capacity() int { return len(s.slots) / slotBytes }

func (s *Set) at(i int) uint32 { return binary.LittleEndian.Uint32(s.slots[i*slotBytes+4:]) }

// find returns the slot holding id, or the empty slot where it would go.
func (s *Set) find(id string, h uint32) (int, bool) {
	mask := s.capacity() - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		switch at := s.at(i); {
		case at == 0:
			return i, false
		case binary.LittleEndian.Uint32(s.slots[i*slotBytes:]) == h && string(s.id(at)) == id: // compared, not copied
			return i, true
		}
	}
}

// append adds id, with a zero value, to the arena, and returns where it
// starts, plus 1.
func (s *Set) append(id string) (uint32, error) {
	need := binary.MaxVarintLen64 + len(id) + 4
	if len(id) > MaxIDBytes {
		return 0, ErrTooLong
	}
	if len(s.chunks) == 0 || s.used+need > chunkBytes {
		if len(s.chunks) == maxChunks {
			return 0, ErrFull
		}
		s.chunks, s.used = append(s.chunks, s.mapped(chunkBytes)), 0
	}
	at := uint32((len(s.chunks)-1)*chunkBytes+s.used) + 1
	c := s.chunks[len(s.chunks)-1]
	w := binary.PutUvarint(c[s.used:], uint64(len(id)))
	s.used += w + copy(c[s.used+w:], id) + 4
	return at, nil
}

// id is the ID that starts at arena position at-1.
func (s *Set) id(at uint32) []byte {
	c, pos := s.chunks[(at-1)/chunkBytes], int((at-1)%chunkBytes)
	n, w := binary.Uvarint(c[pos:])
	return c[pos+w : pos+w+int(n)]
}

// value is the 4 bytes of the value of the ID that starts at at-1.
func (s *Set) value(at uint32) []byte {
	c, pos := s.chunks[(at-1)/chunkBytes], int((at-1)%chunkBytes)
	n, w := binary.Uvarint(c[pos:])
	return c[pos+w+int(n) : pos+w+int(n)+4]
}

// grow doubles the table (it starts at 1,024 slots) and moves every slot.
func (s *Set) grow() {
	old, oldCap := s.slots, s.capacity()
	s.slots = s.mapped(max(2*oldCap, 1024) * slotBytes)
	mask := s.capacity() - 1
	for j := range oldCap {
		sl := old[j*slotBytes : (j+1)*slotBytes]
		if binary.LittleEndian.Uint32(sl[4:]) == 0 {
			continue
		}
		i := int(binary.LittleEndian.Uint32(sl)) & mask
		for s.at(i) != 0 {
			i = (i + 1) & mask
		}
		copy(s.slots[i*slotBytes:], sl)
	}
	s.unmap(old)
}

// mapped is n zeroed bytes of memory of the set's own.
func (s *Set) mapped(n int) []byte {
	b := reserve(n)
	s.mem.all = append(s.mem.all, b)
	return b
}

// unmap gives b back.
func (s *Set) unmap(b []byte) {
	if b == nil {
		return
	}
	for i, m := range s.mem.all {
		if len(m) > 0 && &m[0] == &b[0] {
			s.mem.all = append(s.mem.all[:i], s.mem.all[i+1:]...)
			break
		}
	}
	release(b)
}
