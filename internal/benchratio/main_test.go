package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A runCase is benchmark output and the lines run makes of it.
type runCase struct {
	name string
	in   []string
	want []string // one per output line, in order
}

func runCases() []runCase {
	return []runCase{
		{
			name: "raw first, rounds without a header",
			in: []string{
				"goos: linux",
				"BenchmarkCreate/impl=raw-2     1000  100 ns/op  10 B/op  1 allocs/op",
				"BenchmarkCreate/impl=client-2  1000  110 ns/op  10 B/op  1 allocs/op",
				"BenchmarkCreate/impl=raw-2     1000  200 ns/op",
				"BenchmarkCreate/impl=client-2  1000  260 ns/op",
				"BenchmarkCreate/impl=raw-2     1000  100 ns/op",
				"BenchmarkCreate/impl=client-2  1000  120 ns/op",
				"BenchmarkCreate/impl=client-no-timeout-2  1000  100 ns/op",
				"PASS",
			},
			want: []string{
				"Create .* client .* 1.20x ns/op (median of 3 rounds; from 1.10x to 1.30x)",
				"Create .* client-no-timeout .* 1.00x ns/op (median of 1 rounds; from 1.00x to 1.00x)",
			},
		},
		{
			// A client-first round is paired with its own raw result, not
			// with the round before's.
			name: "raw and client first in turn",
			in: []string{
				"goos: linux",
				"BenchmarkRevoke/impl=raw-2     1000  100 ns/op",
				"BenchmarkRevoke/impl=client-2  1000  110 ns/op",
				"PASS",
				"goos: linux",
				"BenchmarkRevoke/impl=client-2  1000  500 ns/op",
				"BenchmarkRevoke/impl=raw-2     1000  400 ns/op",
				"PASS",
				"goos: linux",
				"BenchmarkRevoke/impl=raw-2     1000  100 ns/op",
				"BenchmarkRevoke/impl=client-2  1000  130 ns/op",
			},
			want: []string{"Revoke .* client .* 1.25x ns/op (median of 3 rounds; from 1.10x to 1.30x)"},
		},
		{
			name: "a round without raw gives no ratio",
			in: []string{
				"goos: linux",
				"BenchmarkRevoke/impl=client-2  1000  500 ns/op",
				"BenchmarkCreate/impl=client-2  1000  300 ns/op",
				"BenchmarkCreate/impl=raw-2     1000  200 ns/op",
				"goos: linux",
				"BenchmarkRevoke/impl=client-2  1000  900 ns/op",
				"BenchmarkRevoke/impl=raw-2     1000  600 ns/op",
			},
			want: []string{
				"Revoke .* client .* 1.50x ns/op (median of 1 rounds",
				"Create .* client .* 1.50x ns/op (median of 1 rounds",
			},
		},
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	for _, tt := range runCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			require.NoError(t, run(strings.NewReader(strings.Join(tt.in, "\n")), &out))
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			require.Len(t, lines, len(tt.want), out.String())
			for i, want := range tt.want {
				assert.Regexp(t, strings.NewReplacer("(", `\(`, ")", `\)`).Replace(want), lines[i])
			}
		})
	}
}

func TestRun_refusesInputWithoutPairs(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"no benchmarks here",
		"BenchmarkCreate/impl=client-2  1000  110 ns/op",
		"BenchmarkCreate/impl=raw-2  1000  110 ns/op\nBenchmarkRevoke/impl=client-2  1000  110 ns/op",
	} {
		var out bytes.Buffer
		assert.Error(t, run(strings.NewReader(in), &out), in)
	}
}
