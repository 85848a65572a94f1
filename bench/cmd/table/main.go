// Command table reads `go test -bench` output on stdin and prints one table:
// for every benchmark row its median ns/op and allocs/op, its ratio to the
// raw signature primitive of its algorithm, and for scopekit's rows the
// ratio to the fastest peer (fosite, go-oauth2) measured in the same run.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// line matches "BenchmarkGroup/ALG/impl-N  iters  X ns/op  Y B/op  Z allocs/op".
var line = regexp.MustCompile(`^Benchmark(\w+)/(\w+)/([\w-]+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+[\d.]+ B/op\s+(\d+) allocs/op)?`)

type row struct {
	group, alg, impl string
	ns, allocs       []float64
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	rows := map[string]*row{}
	var order []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		key := m[1] + "/" + m[2] + "/" + m[3]
		r := rows[key]
		if r == nil {
			r = &row{group: m[1], alg: m[2], impl: m[3]}
			rows[key] = r
			order = append(order, key)
		}
		ns, _ := strconv.ParseFloat(m[4], 64)
		r.ns = append(r.ns, ns)
		if m[5] != "" {
			a, _ := strconv.ParseFloat(m[5], 64)
			r.allocs = append(r.allocs, a)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(order) == 0 {
		return fmt.Errorf("no benchmark lines on stdin")
	}
	fmt.Fprintf(out, "| benchmark | alg | implementation | ns/op | allocs/op | × primitive | × fastest peer |\n")
	fmt.Fprintf(out, "|---|---|---|---:|---:|---:|---:|\n")
	for _, key := range order {
		r := rows[key]
		prim := primitive(rows, r)
		ratio := "—"
		if prim > 0 && r.impl != "primitive" {
			ratio = fmt.Sprintf("%.2f", median(r.ns)/prim)
		}
		peer := "—"
		if strings.HasPrefix(r.impl, "scopekit") {
			if best := fastestPeer(rows, r); best > 0 {
				peer = fmt.Sprintf("%.2f", median(r.ns)/best)
			}
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %.0f | %s | %s |\n", r.group, r.alg, r.impl, human(median(r.ns)), median(r.allocs), ratio, peer)
	}
	return nil
}

// primitive is the raw primitive a row compares to: signing for Sign and
// Issue, verification for Verify and Introspect.
func primitive(rows map[string]*row, r *row) float64 {
	group := "Verify"
	if r.group == "Sign" || r.group == "Issue" {
		group = "Sign"
	}
	if p := rows[group+"/"+r.alg+"/primitive"]; p != nil {
		return median(p.ns)
	}
	return 0
}

// fastestPeer is the fastest fosite or go-oauth2 row of the same group and
// algorithm.
func fastestPeer(rows map[string]*row, r *row) float64 {
	best := 0.0
	for _, o := range rows {
		if o.group != r.group || o.alg != r.alg || !(strings.HasPrefix(o.impl, "fosite") || strings.HasPrefix(o.impl, "go-oauth2")) {
			continue
		}
		if ns := median(o.ns); best == 0 || ns < best {
			best = ns
		}
	}
	return best
}

func human(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
