// Command load drives the token endpoints of scopekit and its peers over
// loopback: each implementation is served by its own net/http (or, for
// node-oidc-provider, node:http) server on a free 127.0.0.1 port and
// answers client-credentials requests from keep-alive clients with JWT
// access tokens of the same claim set, keys and algorithm
// (bench/internal/peers configures them). For every algorithm, client
// count and implementation it reports tokens per second, p50 and p99
// latency and errors (any answer but 200) as markdown rows.
//
// Cells are measured in interleaved rounds: each round runs every cell
// once with its share of the requests, so that a burst of load from other
// processes spreads over all cells. Warm-up requests are not counted. The
// load generator shares the machine's cores with the servers.
//
//	go run ./cmd/load                                  # everything
//	go run ./cmd/load -impl scopekit-memory -alg ES256 -c 32 -n 20000
//	go run ./cmd/load -impl 'scopekit-memory,scopekit-memory GET /users' -alg ES256
//
// scopekit-redis starts its own redis-server on a free loopback port;
// node-oidc-provider needs node and `npm ci` in bench/node.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/scopekit/scopekit/bench/internal/peers"
	"github.com/scopekit/scopekit/token"
)

func main() {
	implList := flag.String("impl", strings.Join(impls, ","), "implementations, comma-separated: "+strings.Join(impls, ", ")+", or "+protected+" (requests/s of the resource-server check)")
	algList := flag.String("alg", strings.Join(peers.Algs, ","), "signing algorithms, comma-separated")
	cList := flag.String("c", "8,32", "concurrent clients, comma-separated")
	n := flag.Int("n", 0, "requests per cell (0: 3000 for RS256, 20000 for the others)")
	rounds := flag.Int("rounds", 4, "interleaved rounds; each runs n/rounds requests of every cell")
	warmup := flag.Int("warmup", 200, "uncounted requests per cell before the first round")
	nodeDir := flag.String("node", "node", "directory of server.mjs with oidc-provider installed")
	admission := flag.Bool("admission", true, "scopekit: bound the signatures in flight (Config.MaxSigningsInFlight); false disables it")
	reuse := flag.Duration("reuse", 0, "scopekit: Config.ClientCredentialsReuseWindow (0: every token signed)")
	flag.Parse()
	cs, err := ints(*cList)
	if err != nil {
		log.Fatalf("-c: %v", err)
	}
	algs := strings.Split(*algList, ",")
	for _, a := range algs {
		if !token.Supported(a) {
			log.Fatalf("unsupported -alg %q", a)
		}
	}
	if *rounds < 1 {
		log.Fatal("-rounds must be at least 1")
	}
	e := &env{nodeDir: *nodeDir, sk: peers.ScopekitOptions{MaxSigningsInFlight: signings(*admission), ReuseWindow: *reuse}}
	defer e.close()
	run(context.Background(), e, strings.Split(*implList, ","), algs, cs, *n, *rounds, *warmup)
}

// run sets every target up, measures the cells in rounds and prints the
// table.
func run(ctx context.Context, e *env, implNames, algs []string, cs []int, n, rounds, warmup int) {
	fmt.Printf("%s, %d CPUs, load average before: %s\n", runtime.Version(), runtime.NumCPU(), loadavg())
	type row struct {
		alg, impl, skip string
		cells           []*cell
	}
	var rows []*row
	var cells []*cell
	for _, alg := range algs {
		k, err := peers.NewKey(alg)
		if err != nil {
			log.Fatal(err)
		}
		for _, impl := range implNames {
			r := &row{alg: alg, impl: impl}
			rows = append(rows, r)
			t, err := e.start(ctx, impl, k)
			if err != nil {
				r.skip = reason(err)
				fmt.Fprintf(os.Stderr, "load: %s %s not measured: %v\n", impl, alg, err)
				continue
			}
			defer t.close()
			for _, c := range cs {
				cl := &cell{t: t, c: c, client: keepAlive(c)}
				r.cells = append(r.cells, cl)
				cells = append(cells, cl)
			}
		}
	}
	for _, cl := range cells {
		cl.drive(warmup, false)
	}
	for i := 0; i < rounds; i++ {
		fmt.Fprintf(os.Stderr, "load: round %d/%d\n", i+1, rounds)
		for _, cl := range cells {
			cl.drive(perRound(n, cl.t.alg, rounds), true)
		}
	}
	fmt.Printf("load average after: %s\n\n", loadavg())
	fmt.Println("| alg | clients | implementation | tokens/s | p50 | p99 | errors |")
	fmt.Println("|---|---:|---|---:|---:|---:|---:|")
	for _, c := range cs {
		for _, alg := range algs {
			for _, r := range rows {
				if r.alg != alg {
					continue
				}
				if r.skip != "" {
					fmt.Printf("| %s | %d | %s | — | — | — | %s |\n", alg, c, r.impl, r.skip)
					continue
				}
				for _, cl := range r.cells {
					if cl.c != c {
						continue
					}
					res := cl.result()
					fmt.Printf("| %s | %d | %s | %s | %s | %s | %d |\n", alg, c, r.impl, thousands(res.rps), ms(res.p50), ms(res.p99), res.errors)
					if s, ok := cl.firstErr.Load().(string); ok {
						fmt.Fprintf(os.Stderr, "load: %s %s c=%d: first error: %s\n", r.impl, alg, c, s)
					}
				}
			}
		}
	}
}

// perRound is one round's share of a cell's requests.
func perRound(n int, alg string, rounds int) int {
	if n == 0 {
		n = 20000
		if alg == token.RS256 {
			n = 3000
		}
	}
	return max(1, n/rounds)
}

// reason is the table's word for a target that could not be set up.
func reason(err error) string {
	if errors.Is(err, peers.ErrNodeMissing) {
		return "not installed (`npm ci` in bench/node)"
	}
	return strings.ReplaceAll(err.Error(), "|", "/")
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// loadavg is the first three fields of /proc/loadavg, or "unknown".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// ms formats a latency in milliseconds with two decimals below 10 ms.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

// thousands formats a rate with a thin space between thousands.
func thousands(v float64) string {
	s := strconv.Itoa(int(v + 0.5))
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}

// signings is Config.MaxSigningsInFlight: the default, or -1 (off).
func signings(on bool) int {
	if on {
		return 0
	}
	return -1
}
