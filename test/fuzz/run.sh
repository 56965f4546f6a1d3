#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, starting from its
# checked-in seed corpus (new inputs go to a scratch dir, not the repo).
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR SECONDS}
seconds=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for target in "$build"/test/fuzz_*; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  scratch=$(mktemp -d)
  echo "fuzz: $name for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=1024 \
       -artifact_prefix="$scratch/" "$scratch" "$here/corpus/$name" 2>"$scratch/log"; then
    tail -n 40 "$scratch/log"
    echo "fuzz: $name FAILED; crashing inputs are in $scratch"
    status=1
    continue
  fi
  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$scratch/log" | tr '\n' ' '
  echo
  rm -rf "$scratch"
done
exit $status
