//go:build unix

package idset

import "syscall"

// reserve maps n zeroed bytes outside the Go heap, or takes them from the
// heap if the system refuses.
func reserve(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n)
	}
	return b
}

// release unmaps what reserve mapped; memory from the heap is the
// collector's.
func release(b []byte) { _ = syscall.Munmap(b) }
