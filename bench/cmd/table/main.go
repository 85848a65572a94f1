// Command table reads `go test -bench` output on stdin and prints one table:
// for every benchmark row its median ns/op, allocs/op and storage round
// trips per operation (where the row reports them), its ratio to the raw
// signature primitive measured in the same group (the "primitive" row of
// the same benchmark and algorithm), and its ratio to the fastest peer
// (fosite, go-oauth2, zitadel) of the same group and algorithm.
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

// line matches "BenchmarkGroup/ALG/impl-N  iters  X ns/op [V unit]...":
// the name, then the value/unit pairs of the metrics.
var line = regexp.MustCompile(`^Benchmark(\w+)/(\w+)/([\w-]+?)(?:-\d+)?\s+\d+\s+(.*)$`)

type row struct {
	group, alg, impl    string
	ns, allocs, rt      []float64
	hasAllocs, hasTrips bool
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
		f := strings.Fields(m[4])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return fmt.Errorf("%q: %v", sc.Text(), err)
			}
			switch f[i+1] {
			case "ns/op":
				r.ns = append(r.ns, v)
			case "allocs/op":
				r.allocs, r.hasAllocs = append(r.allocs, v), true
			case "roundtrips/op":
				r.rt, r.hasTrips = append(r.rt, v), true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(order) == 0 {
		return fmt.Errorf("no benchmark lines on stdin")
	}
	fmt.Fprintf(out, "| benchmark | alg | implementation | ns/op | allocs/op | round trips/op | × primitive | × fastest peer |\n")
	fmt.Fprintf(out, "|---|---|---|---:|---:|---:|---:|---:|\n")
	for _, key := range order {
		r := rows[key]
		if len(r.ns) == 0 {
			continue
		}
		ratio := "—"
		if prim := primitive(rows, r); prim > 0 && r.impl != "primitive" {
			ratio = fmt.Sprintf("%.2f", median(r.ns)/prim)
		}
		peer := "—"
		if best := fastestPeer(rows, r); best > 0 {
			peer = fmt.Sprintf("%.2f", median(r.ns)/best)
		}
		allocs, trips := "—", "—"
		if r.hasAllocs {
			allocs = fmt.Sprintf("%.0f", median(r.allocs))
		}
		if r.hasTrips {
			trips = fmt.Sprintf("%.2g", median(r.rt))
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.group, r.alg, r.impl, human(median(r.ns)), allocs, trips, ratio, peer)
	}
	return nil
}

// primitive is the median of the raw primitive row of r's own group and
// algorithm (signing for Sign and Issue, verification for Verify and
// Introspect), measured right before r's rows so that drift over a long
// run does not bias the ratio.
func primitive(rows map[string]*row, r *row) float64 {
	if p := rows[r.group+"/"+r.alg+"/primitive"]; p != nil {
		return median(p.ns)
	}
	return 0
}

// fastestPeer is the median of the fastest fosite, go-oauth2 or zitadel row of r's
// group and algorithm, 0 when the group has none.
func fastestPeer(rows map[string]*row, r *row) float64 {
	best := 0.0
	for _, o := range rows {
		if o.group != r.group || o.alg != r.alg || !(strings.HasPrefix(o.impl, "fosite") || strings.HasPrefix(o.impl, "go-oauth2") || strings.HasPrefix(o.impl, "zitadel")) {
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
