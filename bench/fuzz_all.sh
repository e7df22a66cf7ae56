#!/usr/bin/env bash
# bench/fuzz_all.sh SECONDS [TARGET...]: runs every libFuzzer target of the fuzz build (make build-fuzz)
# one after another, SECONDS each (0: only the regression pass), and prints per-target executions and
# any crash, hang or sanitizer report.
#
# Per target: first every committed input in fuzz/corpus/<target>/ is run once (the seeds and every crash
# found before: a regression there is a failure), then libFuzzer mutates for SECONDS. New interesting
# inputs go to build/fuzz-work/<target>/ (not to git: copy the ones worth keeping into fuzz/corpus/);
# crashes to build/fuzz-artifacts/<target>/. One process at a time on purpose (shared machines).
# Exit status: 0 when nothing was found, 1 when any target crashed, hung or failed its regression pass.
# Environment: GYRE_FUZZ_BUILD (default build/fuzz), GYRE_FUZZ_RSS_MB (default 2048).
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || ! [[ "$1" =~ ^[0-9]+$ ]]; then
  echo "usage: bench/fuzz_all.sh SECONDS [TARGET...]" >&2
  exit 2
fi
seconds=$1
shift
build=${GYRE_FUZZ_BUILD:-build/fuzz}
rss=${GYRE_FUZZ_RSS_MB:-2048}
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for src in fuzz/*_fuzz.cc; do targets+=("$(basename "$src" .cc)"); done
fi

failed=0
results=()
for t in "${targets[@]}"; do
  bin="$build/fuzz/$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz_all: $bin is missing: run 'make build-fuzz' first" >&2
    exit 2
  fi
  seeds="fuzz/corpus/$t"
  work="build/fuzz-work/$t"
  artifacts="build/fuzz-artifacts/$t"
  log="build/fuzz-logs/$t.log"
  mkdir -p "$seeds" "$work" "$artifacts" "$(dirname "$log")"
  common=(-timeout=10 -rss_limit_mb="$rss" -malloc_limit_mb="$rss" -artifact_prefix="$artifacts/")

  # 1. Regression: every committed input once.
  if ! "$bin" "${common[@]}" -runs=0 "$seeds" >"$log" 2>&1; then
    echo "fuzz_all: $t FAILED on a committed input (log: $log)" >&2
    grep -E "ERROR|SUMMARY|invariant|Running: " "$log" | tail -n 8 >&2
    results+=("$(printf '%-24s %8s %12s %10s  %s' "$t" 0 - - "REGRESSION (see $log)")")
    failed=1
    continue
  fi
  if [ "$seconds" -eq 0 ]; then
    results+=("$(printf '%-24s %8s %12s %10s  %s' "$t" 0 "$(ls "$seeds" | wc -l)" - "ok (regression pass only)")")
    continue
  fi

  # 2. Fuzz for SECONDS.
  "$bin" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1
  status=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
  if [ -z "$execs" ]; then
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  fi
  execs=${execs:-0}
  rate=$(( execs / (seconds > 0 ? seconds : 1) ))
  corpus=$(ls "$work" | wc -l)
  if [ $status -eq 0 ]; then
    verdict="ok"
  else
    failed=1
    found=$(ls -t "$artifacts" 2>/dev/null | head -n 1)
    kind=$(grep -oE 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|libFuzzer): [a-zA-Z-]+|runtime error: .*|fuzz invariant broken: .*' "$log" | head -n 1)
    verdict="FOUND: ${kind:-exit $status} -> $artifacts/$found (log: $log)"
    echo "fuzz_all: $t: $verdict" >&2
    grep -E "^    #[0-9]+ " "$log" | head -n 12 >&2
  fi
  results+=("$(printf '%-24s %8s %12s %10s  %s' "$t" "$seconds" "$execs" "$rate" "$verdict")")
done

echo
printf '%-24s %8s %12s %10s  %s\n' target seconds executions execs/s result
for r in "${results[@]}"; do echo "$r"; done
exit $failed
