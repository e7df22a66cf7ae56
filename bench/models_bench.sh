#!/usr/bin/env bash
# Tree evaluator vs libxgboost's predictor on the same model and rows (see bench/models_bench.cc).
#   GYRE_BENCH_BIN_DIR  folder holding models_bench (default build/release/bench)
#   TREES               trees in the model (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${GYRE_BENCH_BIN_DIR:-$PWD/build/release/bench}/models_bench
[[ -x "$BENCH" ]] || { echo "models_bench: no binary at $BENCH (cmake --build --preset release)" >&2; exit 1; }
"$BENCH" "${TREES:-100}"
