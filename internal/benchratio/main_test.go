package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		"goos: linux",
		"BenchmarkCreate/impl=raw-2     1000  100 ns/op  10 B/op  1 allocs/op",
		"BenchmarkCreate/impl=client-2  1000  110 ns/op  10 B/op  1 allocs/op",
		"BenchmarkCreate/impl=raw-2     1000  200 ns/op",
		"BenchmarkCreate/impl=client-2  1000  260 ns/op",
		"BenchmarkCreate/impl=raw-2     1000  100 ns/op",
		"BenchmarkCreate/impl=client-2  1000  120 ns/op",
		"BenchmarkCreate/impl=client-no-timeout-2  1000  100 ns/op",
		"PASS",
	}, "\n")
	var out bytes.Buffer
	require.NoError(t, run(strings.NewReader(in), &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], "1.20x ns/op (median of 3 rounds; from 1.10x to 1.30x)")
	assert.Contains(t, lines[1], "client-no-timeout")
	assert.Contains(t, lines[1], "1.00x ns/op (median of 1 rounds")

	require.Error(t, run(strings.NewReader("no benchmarks here"), &out))
}
