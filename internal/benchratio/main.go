// Command benchratio reads the output of interleaved benchmark rounds (each
// round runs every benchmark once, its impl=raw and other impl=
// sub-benchmarks back to back, in either order) and prints, for each
// benchmark and each implementation other than raw, the median over the
// rounds of its ns/op divided by raw's in the same round. Rounds share the
// machine's load, so the ratios are steadier than ns/op on a busy machine.
//
// A round ends at a "goos:" line, which each run of a test binary prints
// first, or when a sub-benchmark comes back that the round has already
// run.
//
//	make bench-rounds    # runs the rounds and this command
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
}

// run reads benchmark lines such as
// "BenchmarkCreate/impl=client-2  1000  9633 ns/op ..." and writes one line
// per benchmark and implementation.
func run(r io.Reader, w io.Writer) error {
	var rs rounds
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "goos:") {
			rs.end()
			continue
		}
		if bench, impl, ns, ok := parse(line); ok {
			rs.add(bench, impl, ns)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	rs.end()
	if len(rs.ratios) == 0 {
		return fmt.Errorf("no round with impl=raw and another impl= of the same benchmark")
	}
	for _, key := range rs.order {
		ratios := rs.ratios[key]
		if len(ratios) == 0 {
			continue
		}
		fmt.Fprintf(w, "%-22s %-24s %5.2fx ns/op (median of %d rounds; from %.2fx to %.2fx)\n",
			key.bench, key.impl, median(ratios), len(ratios), slices.Min(ratios), slices.Max(ratios))
	}
	return nil
}

// A result names one sub-benchmark: a benchmark and an implementation.
type result struct{ bench, impl string }

// rounds gathers the per-round ratios to raw.
type rounds struct {
	current map[result]float64   // ns/op of the round being read
	ratios  map[result][]float64 // per-round ratios to raw, of every round ended
	order   []result             // every result but raw's, as first met
}

// add records one result of the current round; a result the round already
// has ends it first.
func (rs *rounds) add(bench, impl string, ns float64) {
	key := result{bench, impl}
	if _, seen := rs.current[key]; seen {
		rs.end()
	}
	if rs.current == nil {
		rs.current = map[result]float64{}
	}
	if impl != "raw" && !slices.Contains(rs.order, key) {
		rs.order = append(rs.order, key)
	}
	rs.current[key] = ns
}

// end closes the current round: each result with a raw one of the same
// benchmark gives a ratio.
func (rs *rounds) end() {
	for key, ns := range rs.current {
		raw := rs.current[result{key.bench, "raw"}]
		if key.impl == "raw" || raw <= 0 {
			continue
		}
		if rs.ratios == nil {
			rs.ratios = map[result][]float64{}
		}
		rs.ratios[key] = append(rs.ratios[key], ns/raw)
	}
	rs.current = nil
}

// parse reads one benchmark result line.
func parse(line string) (bench, impl string, ns float64, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || f[3] != "ns/op" {
		return "", "", 0, false
	}
	name := f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		name = name[:i] // the GOMAXPROCS suffix
	}
	bench, impl, ok = strings.Cut(name, "/impl=")
	if !ok {
		return "", "", 0, false
	}
	ns, err := strconv.ParseFloat(f[2], 64)
	return strings.TrimPrefix(bench, "Benchmark"), impl, ns, err == nil
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
