//go:build !unix

package idset

// reserve takes n zeroed bytes from the heap where there is no mmap.
func reserve(n int) []byte { return make([]byte, n) }

// release leaves b to the collector.
func release([]byte) {}
