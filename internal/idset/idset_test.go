package idset

import (
	"fmt"
	"hash/maphash"
	"strings"
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
		require.NoError(t, s.Put(fmt.Sprint("user_", i), uint32(i+1)))
	}
	require.NoError(t, s.Put("user_7", 99))
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
	require.NoError(t, s.Put(a, 1))
	_, ok := s.Get(b)
	assert.False(t, ok, "%s and %s share a hash, not an identity", a, b)
	require.NoError(t, s.Put(b, 2))
	va, _ := s.Get(a)
	vb, _ := s.Get(b)
	assert.Equal(t, []uint32{1, 2}, []uint32{va, vb})
	assert.Equal(t, 2, s.Len())
}

// Looking an ID up allocates nothing: a run looks up millions.
func TestSet_getAllocatesNothing(t *testing.T) {
	s := New()
	require.NoError(t, s.Put("user_1", 1))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = s.Get("user_1"); _, _ = s.Get("user_2") }))
}

// An ID as long as a set holds is held; a longer one is refused, not
// dropped.
func TestSet_longIDs(t *testing.T) {
	t.Parallel()
	s := New()
	long := strings.Repeat("x", MaxIDBytes)
	require.NoError(t, s.Put("user_1", 1))
	require.NoError(t, s.Put(long, 2))
	require.NoError(t, s.Put("user_2", 3))
	assert.ErrorIs(t, s.Put(long+"x", 4), ErrTooLong)
	for id, want := range map[string]uint32{"user_1": 1, long: 2, "user_2": 3} {
		got, ok := s.Get(id)
		assert.True(t, ok)
		assert.Equal(t, want, got)
	}
	_, ok := s.Get(long + "x")
	assert.False(t, ok)
}
