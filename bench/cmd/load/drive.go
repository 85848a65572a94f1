package main

import (
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// cell accumulates one implementation's measurement at one algorithm and
// client count over the interleaved rounds.
type cell struct {
	t       *target
	c       int
	client  *http.Client
	lat     []time.Duration
	elapsed time.Duration
	errors  int64
	// firstErr is the first failed answer, for the report.
	firstErr atomic.Value
}

// drive sends n requests of the cell's target from c workers; record false
// makes it a warm-up that counts nothing.
func (cl *cell) drive(n int, record bool) {
	lat := make([]time.Duration, n)
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < cl.c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				t := time.Now()
				ok := cl.once()
				lat[i] = time.Since(t)
				if !ok {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if record {
		cl.elapsed += time.Since(start)
		cl.lat = append(cl.lat, lat...)
		cl.errors += errs.Load()
	}
}

// once sends one request and reports whether it was answered 200.
func (cl *cell) once() bool {
	req, err := cl.t.request()
	if err != nil {
		cl.firstErr.CompareAndSwap(nil, err.Error())
		return false
	}
	resp, err := cl.client.Do(req)
	if err != nil {
		cl.firstErr.CompareAndSwap(nil, err.Error())
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		cl.firstErr.CompareAndSwap(nil, resp.Status+": "+string(body))
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return true
}

// result is a cell's throughput and latency quantiles.
type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int64
}

func (cl *cell) result() result {
	lat := append([]time.Duration(nil), cl.lat...)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	n := len(lat)
	if n == 0 {
		return result{}
	}
	return result{rps: float64(n) / cl.elapsed.Seconds(), p50: lat[n/2], p99: lat[n*99/100], errors: cl.errors}
}
