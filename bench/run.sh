#!/usr/bin/env bash
# Runs the comparison benchmarks with repetitions, summarises them with
# benchstat and prints the table of docs/PERFORMANCE.md.
#   COUNT=5 BENCHTIME=1s ./run.sh
set -euo pipefail
cd "$(dirname "$0")"
count=${COUNT:-5}
benchtime=${BENCHTIME:-1s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run=NONE -bench=. -benchtime="$benchtime" -count="$count" . | tee "$out" >&2
echo
go tool benchstat "$out"
echo
go run ./cmd/table < "$out"
echo
echo "HTTP load over loopback (memory and Redis drivers):"
go run ./cmd/load -driver memory
go run ./cmd/load -driver redis
