#!/usr/bin/env bash
# Runs every benchmark script (bench/*_bench.sh) against the release build. Each script prints gyre's
# numbers beside its peer's from the same run, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
export GYRE_BIN=${GYRE_BIN:-$PWD/build/release/gyre}
export GYRE_BENCH_BIN_DIR=${GYRE_BENCH_BIN_DIR:-$PWD/build/release/bench}
for script in bench/*_bench.sh; do
  echo "=== $script"
  bash "$script"
done
