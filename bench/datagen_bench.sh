#!/usr/bin/env bash
# `gyre datagen ato` throughput: a >= 5-million-event data set (default 200,000 users x 30 days, about
# 5.7 M events and 1.1 GB), RUNS times; prints the median wall time, events/s and MB/s, and beside it
# the floor any generator pays on this machine: `head -c <same bytes> /dev/zero > file` (writing the
# same volume to the same file system, no content). Neither side calls fsync.
#   USERS=200000 DAYS=30 RUNS=3 bash bench/datagen_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GYRE_BIN=${GYRE_BIN:-$PWD/build/release/gyre}
USERS=${USERS:-200000}
DAYS=${DAYS:-30}
RUNS=${RUNS:-3}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/gyre-datagen-bench.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

gyre_times=() floor_times=()
events=0 bytes=0
for run in $(seq "$RUNS"); do
  rm -rf "$OUT/data"
  t0=$(now)
  "$GYRE_BIN" datagen ato --users "$USERS" --days "$DAYS" --seed 42 --out "$OUT/data" --quiet >"$OUT/summary.txt"
  t1=$(now)
  gyre_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')")
  events=$(grep -m1 -o '"total": [0-9]*' "$OUT/data/manifest.json" | grep -o '[0-9]*$')
  bytes=$(cat "$OUT"/data/* | wc -c)
done
rm -rf "$OUT/data"
for run in $(seq "$RUNS"); do
  t0=$(now)
  head -c "$bytes" /dev/zero >"$OUT/floor.bin"
  t1=$(now)
  floor_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')")
  rm -f "$OUT/floor.bin"
done

g=$(printf '%s\n' "${gyre_times[@]}" | median)
f=$(printf '%s\n' "${floor_times[@]}" | median)
awk -v g="$g" -v f="$f" -v e="$events" -v b="$bytes" -v u="$USERS" -v d="$DAYS" -v n="$RUNS" \
    -v gr="${gyre_times[*]}" -v fr="${floor_times[*]}" 'BEGIN {
  printf "datagen ato: %d users x %d days = %d events, %.1f MB in 7 files; median of %d runs\n", u, d, e, b / 1e6, n
  printf "  %-34s %7.2f s  %6.2f M events/s  %6.0f MB/s   runs: %s\n", "gyre datagen ato", g, e / g / 1e6, b / g / 1e6, gr
  printf "  %-34s %7.2f s  %17s  %6.0f MB/s   runs: %s\n", "floor: head -c N /dev/zero > file", f, "", b / f / 1e6, fr
  printf "  gyre takes %.2fx the floor time (%.0f%% of the floor bandwidth)\n", g / f, 100 * f / g
}'
