// Command benchratio reads the output of interleaved benchmark rounds (each
// round runs every benchmark once, its impl=raw and impl=client
// sub-benchmarks back to back) and prints, for each benchmark and each
// implementation other than raw, the median over the rounds of its ns/op
// divided by raw's in the same round. Rounds share the machine's load, so
// the ratios are steadier than ns/op on a busy machine.
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
	raw := map[string]float64{}      // benchmark -> raw ns/op of the current round
	ratios := map[string][]float64{} // "benchmark impl" -> per-round ratios
	var order []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		bench, impl, ns, ok := parse(sc.Text())
		switch {
		case !ok:
			continue
		case impl == "raw":
			raw[bench] = ns
		case raw[bench] > 0:
			key := bench + " " + impl
			if _, seen := ratios[key]; !seen {
				order = append(order, key)
			}
			ratios[key] = append(ratios[key], ns/raw[bench])
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(order) == 0 {
		return fmt.Errorf("no impl=raw and impl=... pairs in the input")
	}
	for _, key := range order {
		bench, impl, _ := strings.Cut(key, " ")
		rs := ratios[key]
		fmt.Fprintf(w, "%-22s %-24s %5.2fx ns/op (median of %d rounds; from %.2fx to %.2fx)\n",
			bench, impl, median(rs), len(rs), slices.Min(rs), slices.Max(rs))
	}
	return nil
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
