package idset

import (
	"fmt"
	"hash/maphash"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSet(t *testing.T) {
	t.Parallel()
	s := New()
	const n = 5000
	for i := range n {
		_, ok := s.Get(fmt.Sprint("user_", i))
		require.False(t, ok)
		s.Put(fmt.Sprint("user_", i), uint32(i+1))
	}
	s.Put("user_7", 99)
	assert.Equal(t, n, s.Len())
	for i := range n {
		v, ok := s.Get(fmt.Sprint("user_", i))
		want := uint32(i + 1)
		if i == 7 {
			want = 99
		}
		assert.True(t, ok)
		assert.Equal(t, want, v)
	}
	_, ok := s.Get("user_x")
	assert.False(t, ok)
	_, ok = s.Get("")
	assert.False(t, ok, "the empty ID was never put")
}

// Two IDs whose hashes collide are two IDs: the set compares the IDs.
func TestSet_collidingHashesAreDistinct(t *testing.T) {
	t.Parallel()
	s := New()
	seen := map[uint32]string{}
	var a, b string
	for i := 0; a == ""; i++ {
		id := fmt.Sprint("user_", i)
		h := uint32(maphash.String(s.seed, id))
		if other, ok := seen[h]; ok {
			a, b = other, id
		}
		seen[h] = id
	}
	s.Put(a, 1)
	_, ok := s.Get(b)
	assert.False(t, ok, "%s and %s share a hash, not an identity", a, b)
	s.Put(b, 2)
	va, _ := s.Get(a)
	vb, _ := s.Get(b)
	assert.Equal(t, []uint32{1, 2}, []uint32{va, vb})
	assert.Equal(t, 2, s.Len())
}
