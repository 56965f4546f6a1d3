#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, starting from its
# checked-in seed corpus (new inputs go to a scratch dir, not the repo).
# Targets run FUZZ_JOBS at a time (default: one per core), since each is
# single-threaded and CI's time is mostly these runs.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR SECONDS}
seconds=${2:-20}
jobs=${FUZZ_JOBS:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)

fuzz_one() {
  local target=$1 seconds=$2 here=$3
  local name scratch
  name=$(basename "$target")
  scratch=$(mktemp -d)
  if ! "$target" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=1024 \
       -artifact_prefix="$scratch/" "$scratch" "$here/corpus/$name" 2>"$scratch/log"; then
    # One block per target, so that parallel runs do not interleave.
    { tail -n 40 "$scratch/log"; echo "fuzz: $name FAILED; crashing inputs are in $scratch"; } >&2
    return 1
  fi
  echo "fuzz: $name ${seconds}s $(grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' \
    "$scratch/log" | tr '\n' ' ')"
  rm -rf "$scratch"
}
export -f fuzz_one

targets=()
for target in "$build"/test/fuzz_*; do
  [ -x "$target" ] && targets+=("$target")
done
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets in $build/test" >&2; exit 1; }
# xargs exits non-zero (123) when any target failed; every target still runs.
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'fuzz_one "$@"' _ {} "$seconds" "$here"
