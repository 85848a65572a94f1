#!/usr/bin/env bash
# Runs the comparison benchmarks with repetitions, summarises them with
# benchstat (a tool of this module's go.mod, run by `go tool`), prints the
# table of docs/PERFORMANCE.md, then the HTTP load test of scopekit (memory
# and Redis drivers) against fosite, zitadel/oidc, node-oidc-provider and
# go-oauth2 over loopback.
#
#   bash bench/run.sh                        # COUNT=6 BENCHTIME=1s
#   COUNT=6 BENCHTIME=0.5s bash bench/run.sh # the run in docs/PERFORMANCE.md
#
# Needs Go and redis-server (the Redis rows and the Redis load test start
# their own on a free loopback port); MongoDB rows embed FerretDB. With
# node and npm, node-oidc-provider is installed into node/ (`npm ci`, the
# version pinned by node/package-lock.json); without them its load rows
# read "not installed".
# RAW=file keeps the raw `go test -bench` lines for benchstat comparisons.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v redis-server >/dev/null 2>&1; then
	echo "run.sh: redis-server is not installed; the Redis rows and the Redis load test need it." >&2
	echo "        Debian/Ubuntu: sudo apt-get install -y redis-server   (macOS: brew install redis)" >&2
	exit 1
fi

count=${COUNT:-6} # benchstat needs 6 samples for a 95% interval
benchtime=${BENCHTIME:-1s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/bench.txt

# The passes are interleaved: each runs every row once, so that a burst of
# load from other processes on the machine spreads over all rows instead of
# biasing the few measured while it lasts.
go test -c -o "$tmp/bench.test" .
echo "== $count passes of -test.bench=. -test.benchtime=$benchtime ($(go version | cut -d' ' -f3), $(nproc) CPUs)" >&2
for i in $(seq "$count"); do
	echo "== pass $i/$count" >&2
	"$tmp/bench.test" -test.run=NONE -test.bench=. -test.benchtime="$benchtime" -test.count=1 -test.timeout=30m | tee -a "$out" >&2
done
if [ -n "${RAW:-}" ]; then cp "$out" "$RAW"; fi # keep the raw results: RAW=file
echo
echo "== benchstat"
go tool benchstat "$out"
echo
echo "== table (medians of $count runs)"
go run ./cmd/table <"$out"
echo
echo "== HTTP load over loopback (every implementation, 8 and 32 clients, RS256, ES256, EdDSA)"
if command -v npm >/dev/null 2>&1; then
	(cd node && npm ci --no-audit --no-fund --loglevel=error >&2) ||
		echo "run.sh: npm ci failed in bench/node; the node-oidc-provider rows will say so" >&2
fi
go run ./cmd/load
