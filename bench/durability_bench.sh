#!/usr/bin/env bash
# What an acknowledged-means-durable push costs (issue 20, item 6): gyre's online.durability window and sync
# side by side, beside the same trade-off in Redis (AOF with appendfsync everysec and always), in one run:
#   1. gyre POST /v1/score/ato, one real login event per request, each scored and pushed (fresh id and time:
#      bench/serving/post_bodies.lua), on a server with durability window (--threads 2, as serving_bench) and
#      one with durability sync (its default worker threads: services::kSyncDurabilityServerThreads);
#   2. gyre POST /push, the same events as one-row Feast pushes, on both servers;
#   3. sync with --threads 2, to show what the extra workers buy (a push waits for its fsync on its worker);
#   4. redis-benchmark SET (values the size of a login event) against redis-server with appendfsync everysec
#      and with appendfsync always.
# wrk (keep-alive), alternating rounds, medians of requests/s, p50 and p99; then the ratios sync/window and
# always/everysec. The fsync cost depends on the disk: the run prints the median fdatasync time measured here.
#
# Knobs (environment): GYRE_BIN=build/release/gyre  WORKSPACE=(demo in a temp dir; a copy is served)
#   DURABILITY_BENCH_ROUNDS=3  DURABILITY_BENCH_DURATION=10s  DURABILITY_BENCH_CONNECTIONS=32
#   DURABILITY_BENCH_EVENTS=400  DURABILITY_BENCH_DEMO_USERS=1000  DURABILITY_BENCH_DEMO_DAYS=10
set -euo pipefail
cd "$(dirname "$0")/.."

GYRE_BIN=${GYRE_BIN:-$PWD/build/release/gyre}
ROUNDS=${DURABILITY_BENCH_ROUNDS:-3}
DURATION=${DURABILITY_BENCH_DURATION:-10s}
CONNECTIONS=${DURABILITY_BENCH_CONNECTIONS:-32}
EVENTS=${DURABILITY_BENCH_EVENTS:-400}
DEMO_USERS=${DURABILITY_BENCH_DEMO_USERS:-1000}
DEMO_DAYS=${DURABILITY_BENCH_DEMO_DAYS:-10}
say() { echo "durability_bench: $*" >&2; }
for tool in wrk curl python3 redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { say "'$tool' is not installed"; exit 1; }
done
[[ -x "$GYRE_BIN" ]] || { say "no gyre binary at $GYRE_BIN (make release, or set GYRE_BIN)"; exit 1; }

TMP=$(mktemp -d /tmp/gyre-durability-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- the workspace and the request bodies ----------------------------------------------------------------
if [[ -n "${WORKSPACE:-}" ]]; then
  cp -a "$WORKSPACE" "$TMP/ws"
else
  echo "workspace: gyre demo --users $DEMO_USERS --days $DEMO_DAYS"
  "$GYRE_BIN" demo --users "$DEMO_USERS" --days "$DEMO_DAYS" --workspace "$TMP/ws" >"$TMP/demo.log" 2>&1 ||
    { say "gyre demo failed:"; tail -30 "$TMP/demo.log" >&2; exit 1; }
fi
python3 bench/serving/login_bodies.py "$TMP/ws/data/logins.csv" "$EVENTS" "$TMP/data_end_ms" 1 score >"$TMP/score.jsonl"
python3 bench/serving/login_bodies.py "$TMP/ws/data/logins.csv" "$EVENTS" "$TMP/data_end_ms" 1 push >"$TMP/push.jsonl"
EVENT_ZERO_MS=$(date +%s%3N)
DATA_END_MS=$(cat "$TMP/data_end_ms")

# --- the servers: one workspace copy each (a RocksDB folder is open in one process) -----------------------
declare -A URL
start_gyre() {  # $1 name, $2 durability, then gyre server flags
  local name=$1 durability=$2 ws="$TMP/ws-$1"
  shift 2
  cp -a "$TMP/ws" "$ws"
  if grep -q '^ *durability:' "$ws/gyre.yaml"; then
    sed -i "s/^\( *durability:\) *[a-z]*/\1 $durability/" "$ws/gyre.yaml"
  else
    printf '\nonline:\n  durability: %s\n' "$durability" >>"$ws/gyre.yaml"
  fi
  "$GYRE_BIN" server --workspace "$ws" --host 127.0.0.1 --port 0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  for _ in $(seq 300); do
    grep -q "listening on" "$TMP/$name.out" 2>/dev/null && break
    kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$TMP/$name.err" >&2; exit 1; }
    sleep 0.1
  done
  grep -q "online durability $durability" "$TMP/$name.out" || { say "$name: not in $durability mode"; cat "$TMP/$name.out" >&2; exit 1; }
  URL[$name]=$(grep -o 'http://[^ ]*' "$TMP/$name.out" | head -1)
  for _ in $(seq 100); do  # the deployment answers 503 until its model is loaded
    [[ $(curl -s -o /dev/null -w '%{http_code}' "${URL[$name]}/v2/models/ato/ready") == 200 ]] && break
    sleep 0.1
  done
}
start_gyre window window --threads 2
start_gyre sync sync
start_gyre sync-t2 sync --threads 2

declare -A REDIS_PORT
start_redis() {  # $1 appendfsync (not in a $(...): the subshell would lose the pid, and run the EXIT trap)
  local port
  port=$(free_port)
  mkdir -p "$TMP/redis-$1"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$TMP/redis-$1" --save "" --appendonly yes --appendfsync "$1" \
    --daemonize no --logfile "$TMP/redis-$1.log" &
  PIDS+=($!)
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  REDIS_PORT[$1]=$port
}
start_redis everysec
start_redis always
VALUE_BYTES=$(awk '{s += length($0)} END {printf "%.0f", s / NR}' "$TMP/score.jsonl")

# --- measure -----------------------------------------------------------------------------------------------
to_ms='function ms(v) { if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 } if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 } if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 } return v }'
run_wrk() {  # $1 URL, $2 bodies; prints "<req/s> <p50 ms> <p99 ms> <non-2xx>"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/serving/post_bodies.lua "$1" -- "$2" "$DATA_END_MS" "$EVENT_ZERO_MS" |
    awk "$to_ms"'
      /^Requests\/sec:/ {r = $2}
      $1 == "50%" {p50 = ms($2)}
      $1 == "99%" {p99 = ms($2)}
      /Non-2xx/ {bad = $NF}
      END {printf "%s %s %s %d\n", r, p50, p99, bad}'
}
run_redis() {  # $1 port; prints "<req/s> <p50 ms> <p99 ms> 0"
  local seconds=${DURATION%s}
  # A SET per request, CONNECTIONS clients; enough requests to last about DURATION at everysec's pace.
  redis-benchmark -p "$1" -c "$CONNECTIONS" -n $((seconds * 20000)) -t set -d "$VALUE_BYTES" -r 1000000 --csv 2>/dev/null |
    awk -F'"' 'NR == 2 {printf "%s %s %s 0\n", $4, $10, $14}'
}
fsync_ms=$(python3 - "$TMP" <<'EOF'
import os, sys, time
fd = os.open(os.path.join(sys.argv[1], "fsync-probe"), os.O_WRONLY | os.O_CREAT)
times = []
for _ in range(200):
    os.write(fd, b"x" * 512)
    t = time.perf_counter(); os.fdatasync(fd); times.append(time.perf_counter() - t)
print("%.3f" % (sorted(times)[100] * 1000))
EOF
)
echo "durability: wrk -t2 -c$CONNECTIONS -d$DURATION, $ROUNDS rounds, alternating; fdatasync here: median $fsync_ms ms"
echo "  gyre window --threads 2; sync (its default workers: services::kSyncDurabilityServerThreads); sync-t2 --threads 2"
echo "  redis-server $(redis-server --version | grep -o 'v=[0-9.]*' | cut -c3-) appendonly, SET of $VALUE_BYTES B (a login event's size), redis-benchmark -c$CONNECTIONS"
TARGETS=("score window|${URL[window]}/v1/score/ato|$TMP/score.jsonl"
         "score sync|${URL[sync]}/v1/score/ato|$TMP/score.jsonl"
         "score sync-t2|${URL[sync-t2]}/v1/score/ato|$TMP/score.jsonl"
         "push window|${URL[window]}/push|$TMP/push.jsonl"
         "push sync|${URL[sync]}/push|$TMP/push.jsonl"
         "push sync-t2|${URL[sync-t2]}/push|$TMP/push.jsonl"
         "redis everysec|${REDIS_PORT[everysec]}|"
         "redis always|${REDIS_PORT[always]}|")
for t in "${TARGETS[@]}"; do  # warm-up
  IFS='|' read -r name target bodies <<<"$t"
  [[ -n "$bodies" ]] && DURATION=2s run_wrk "$target" "$bodies" >/dev/null
done
declare -A RPS P50 P99
for round in $(seq "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    IFS='|' read -r name target bodies <<<"$t"
    if [[ -n "$bodies" ]]; then
      read -r rps p50 p99 bad < <(run_wrk "$target" "$bodies")
    else
      read -r rps p50 p99 bad < <(run_redis "$target")
    fi
    [[ "$bad" != 0 ]] && say "$name: $bad non-2xx answers"
    RPS[$name]+="$rps " P50[$name]+="$p50 " P99[$name]+="$p99 "
    printf '  round %d  %-15s %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms\n' "$round" "$name" "$rps" "$p50" "$p99"
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
echo "median of $ROUNDS rounds:"
printf '  %-15s %9s  %9s  %9s\n' "" "req/s" "p50 ms" "p99 ms"
declare -A MED
for t in "${TARGETS[@]}"; do
  name=${t%%|*}
  MED[$name]=$(median <<<"${RPS[$name]}")
  printf '  %-15s %9.0f  %9.3f  %9.3f\n' "$name" "${MED[$name]}" "$(median <<<"${P50[$name]}")" "$(median <<<"${P99[$name]}")"
done
ratio() { awk -v a="${MED[$1]}" -v b="${MED[$2]}" -v l="$3" 'BEGIN {printf "  %-44s %.2f\n", l, (b > 0 ? a / b : 0)}'; }
echo "throughput ratios (medians):"
ratio "score sync" "score window" "gyre /v1/score, sync / window:"
ratio "push sync" "push window" "gyre /push, sync / window:"
ratio "push sync-t2" "push window" "gyre /push, sync --threads 2 / window:"
ratio "redis always" "redis everysec" "redis SET, appendfsync always / everysec:"
ratio "push sync" "redis always" "gyre /push sync / redis SET always:"
echo "servers' logs and workspaces were in $TMP (removed on exit)"
