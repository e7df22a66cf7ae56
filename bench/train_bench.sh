#!/usr/bin/env bash
# `gyre train` vs raw libxgboost training of the same matrix with the same parameters, in one run (issue 5;
# goal: ratio ≤ 1.10). gyre's time is the whole command (reading the CSV, joining labels, training, packaging,
# reference statistics, report, tracking); raw is XGDMatrixCreateFromMat + the boosting rounds + saving JSON,
# with the matrix already in memory.
#
#   bash bench/train_bench.sh                # 1,000,000 rows x 30 features, 100 rounds of depth 6, 2 threads
#   ROWS=200000 REPEATS=1 bash bench/train_bench.sh
#
#   GYRE_BENCH_BIN_DIR  folder holding train_bench (default build/release/bench); gyre is its parent's gyre
set -euo pipefail
cd "$(dirname "$0")/.."
BIN_DIR=${GYRE_BENCH_BIN_DIR:-$PWD/build/release/bench}
BENCH=$BIN_DIR/train_bench
GYRE=${GYRE_BIN:-$BIN_DIR/../gyre}
ROWS=${ROWS:-1000000}
REPEATS=${REPEATS:-3}
[[ -x "$BENCH" && -x "$GYRE" ]] || { echo "train_bench: build the release preset first (cmake --build --preset release)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gyre-train-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "preparing $ROWS rows x 30 features in $WORK"
"$BENCH" prepare "$WORK/ws" "$ROWS"
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
gyre_times=() raw_times=()
for i in $(seq "$REPEATS"); do
  start=$(date +%s.%N)
  "$GYRE" train "$WORK/ws/experiment.yaml" -w "$WORK/ws" --quiet > "$WORK/train.out"
  end=$(date +%s.%N)
  gyre_times+=("$(echo "$end - $start" | bc)")
  raw_times+=("$("$BENCH" raw "$WORK/ws" 100 2)")
  echo "  run $i: gyre train ${gyre_times[-1]} s, raw libxgboost ${raw_times[-1]} s"
done
g=$(printf '%s\n' "${gyre_times[@]}" | median)
r=$(printf '%s\n' "${raw_times[@]}" | median)
printf 'gyre train (whole command)        median %.2f s\n' "$g"
printf 'raw libxgboost (matrix in memory) median %.2f s\n' "$r"
printf 'overhead ratio gyre/raw           %.3f  (goal <= 1.10)\n' "$(echo "$g / $r" | bc -l)"
