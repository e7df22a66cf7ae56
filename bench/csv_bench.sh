#!/usr/bin/env bash
# CSV read throughput: gyre's CsvReader (declared and inferred schema) against a plain read() of the same
# file, the I/O floor, in one run. Generates a ~1 GB login-events CSV under /tmp unless given one, and
# deletes it at the end unless --keep.
#
#   bench/csv_bench.sh [--file PATH] [--bytes N] [--repeat R] [--keep]
#   env: GYRE_BENCH_BIN_DIR (default build/release/bench), CSV_BENCH_FILE, CSV_BENCH_BYTES, CSV_BENCH_REPEAT
#
# Needs the release build: cmake --preset release && cmake --build --preset release --target csv_read_bench
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${GYRE_BENCH_BIN_DIR:-$PWD/build/release/bench}/csv_read_bench"
FILE="${CSV_BENCH_FILE:-}"
BYTES="${CSV_BENCH_BYTES:-1073741824}"
REPEAT="${CSV_BENCH_REPEAT:-3}"
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --file) FILE="$2"; shift 2 ;;
    --bytes) BYTES="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 [--file PATH] [--bytes N] [--repeat R] [--keep]" >&2; exit 2 ;;
  esac
done

if [[ ! -x "$BIN" ]]; then
  echo "csv_bench: $BIN not found; build it with: cmake --preset release && cmake --build --preset release --target csv_read_bench" >&2
  exit 1
fi

if [[ -z "$FILE" ]]; then
  FILE="$(mktemp /tmp/gyre_csv_bench.XXXXXX.csv)"
  if [[ "$KEEP" == 0 ]]; then
    trap 'rm -f "$FILE"' EXIT
  fi
  "$BIN" --generate "$FILE" --bytes "$BYTES"
fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (wall numbers suffer on a busy machine; the cpu column less so)"
"$BIN" --run "$FILE" --repeat "$REPEAT"
if [[ "$KEEP" == 1 ]]; then echo "kept $FILE"; fi
