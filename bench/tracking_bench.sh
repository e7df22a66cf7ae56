#!/usr/bin/env bash
# MLflow tracking workload against `gyre server` (fresh workspace, embedded SQLite) and, if
# MLFLOW_REFERENCE_URL is set, against that server too (e.g. `python3 -m mlflow server ...`, see
# ../shared/reference/mlflow-rest.md for running MLflow 2.12 here). Prints medians and speed-ups.
#   LARGE_RUNS=100000 REPS=50 bash bench/tracking_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GYRE_BIN=${GYRE_BIN:-$PWD/build/release/gyre}
BENCH=${GYRE_BENCH_BIN_DIR:-$PWD/build/release/bench}/tracking_bench
WS=$(mktemp -d /tmp/gyre-tracking-bench.XXXXXX)
LOG=$WS/server.log
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WS"' EXIT
"$GYRE_BIN" server --workspace "$WS/ws" --port 0 >"$LOG" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q "listening on" "$LOG" && break; sleep 0.1; done
URL=$(grep -o 'http://[0-9.:]*' "$LOG" | head -1)
[ -n "$URL" ] || { cat "$LOG"; exit 1; }
ARGS=(--url "$URL" --reps "${REPS:-50}" --large-runs "${LARGE_RUNS:-100000}")
[ -n "${MLFLOW_REFERENCE_URL:-}" ] && ARGS+=(--reference-url "$MLFLOW_REFERENCE_URL")
"$BENCH" "${ARGS[@]}"
