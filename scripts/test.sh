#!/usr/bin/env bash
# The project's test command: installs what the tests need (a real
# redis-server; headless Chromium for the browser tests) when missing,
# checks that the SDK module requires only its allowed dependencies, then
# vets (go vet, staticcheck) and tests every module of the repository under
# the race detector:
#
#   .            the SDK (github.com/scopekit/scopekit)
#   integration/ black-box tests of authz, the MongoDB driver on embedded
#                FerretDB, whole flows and outages on every driver, the
#                browser test (built with the tag scopekit_testhooks)
#   examples/    the example programs and their tests
#   contrib/otel the OpenTelemetry instrumentation (its own module, so the
#                SDK never requires OpenTelemetry)
#   bench/       vetted only: its benchmarks run with bench/run.sh
#
# Two lanes run side by side (the machine has two cores): the integration
# module in one, the others in turn in the other. Each module's output goes
# to a file, printed when all are done; the run fails if any module failed.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Node.js and npm run the interoperability tests with Node clients (jose).
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	else
		sudo apt-get update -qq
		sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	fi
fi

bash scripts/check-deps.sh

# staticcheck, pinned, from the Go module proxy.
staticcheck=$(go env GOPATH)/bin/staticcheck
[ -x "$staticcheck" ] || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# module NAME DIR [TAGS]: vet and test one module, output to $logs/NAME.log,
# exit status to $logs/NAME.rc.
module() {
	local name=$1 dir=$2 tags=${3:-}
	(
		cd "$dir"
		start=$SECONDS
		rc=0
		{
			echo "== $name ($dir)"
			go vet ${tags:+-tags "$tags"} ./... &&
				"$staticcheck" ${tags:+-tags "$tags"} ./... &&
				go test ${tags:+-tags "$tags"} -race -count=1 -timeout 20m ./...
		} >"$logs/$name.log" 2>&1 || rc=$?
		echo "== $name: exit $rc in $((SECONDS - start))s" >>"$logs/$name.log"
		echo "$rc" >"$logs/$name.rc"
	)
}

# vetonly NAME DIR: go vet of a module whose tests the suite does not run.
vetonly() {
	local name=$1 dir=$2
	(
		cd "$dir"
		rc=0
		{ echo "== $name ($dir): go vet, staticcheck"; go vet ./... && "$staticcheck" ./...; } >"$logs/$name.log" 2>&1 || rc=$?
		echo "== $name: exit $rc" >>"$logs/$name.log"
		echo "$rc" >"$logs/$name.rc"
	)
}

module integration integration scopekit_testhooks &
lane=$!
module sdk .
module examples examples
module otel contrib/otel
vetonly bench bench
wait "$lane"

failed=()
for name in sdk integration examples otel bench; do
	cat "$logs/$name.log"
	[ "$(cat "$logs/$name.rc")" = 0 ] || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED modules: ${failed[*]}" >&2
	exit 1
fi
echo "all modules passed"
