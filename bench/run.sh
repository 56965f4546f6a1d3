#!/bin/sh
# Side-by-side benchmark of edgemon, prometheus-node-exporter and collectd.
# Usage: bench/run.sh [path/to/edgemon] [results.md]
# Environment: BENCH_SECONDS (default 60), BENCH_WRK_SECONDS (10),
# BENCH_LATENCY_REQUESTS (200), BENCH_STARTS (5), BENCH_CALLGRIND (1).
# Peers come from Debian: `make deps-bench` installs them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/edgemon}
shift $(( $# > 0 ? 1 : 0 ))
exec python3 "$here/bench.py" "$bin" "$@"
