#!/usr/bin/env bash
# Online feature latency (issue 4): push + read p50/p99 in-process and over loopback HTTP (goal: p99 < 1 ms for
# one entity and 20 features), beside a raw Redis GET of a 1 KB value (what Feast does per online read) and
# gyre's own Redis backend, all in one run. See bench/features_online_bench.cc for what is measured.
#
#   bash bench/features_online_bench.sh                 # 2000 users x 7 days, 20k requests per series (~1 min)
#   REQUESTS=50000 USERS=5000 bash bench/features_online_bench.sh
#
# Environment:
#   GYRE_BENCH_BIN_DIR  folder holding features_online_bench (default build/release/bench)
#   USERS, DAYS, WARM_DAYS   datagen users (2000) and days (7); logins of the first WARM_DAYS (5) are the
#                            warm state, the rest are replayed
#   REQUESTS            measured events per series, each one read and one push (default 20000)
#   REDIS=auto          start a private redis-server on a free port (default); off: skip the Redis rows
#   REDIS_BENCHMARK=1   also print redis-benchmark's own GET latency on that server (a cross-check of the peer)
#   KEEP=1              keep the work folder (dataset, workspace)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${GYRE_BENCH_BIN_DIR:-$PWD/build/release/bench}/features_online_bench
USERS=${USERS:-2000}
DAYS=${DAYS:-7}
WARM_DAYS=${WARM_DAYS:-5}
REQUESTS=${REQUESTS:-20000}
REDIS=${REDIS:-auto}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-1}
KEEP=${KEEP:-0}

die() { echo "features_online_bench: $*" >&2; exit 1; }
[[ -x "$BENCH" ]] || die "$BENCH not found; build it: cmake --preset release && cmake --build --preset release -j2 --target features_online_bench"
case "$REDIS" in auto | off) ;; *) die "REDIS must be auto or off (got '$REDIS')" ;; esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gyre-online-bench.XXXXXX")
REDIS_PID=""
cleanup() {
  if [[ -n "$REDIS_PID" ]]; then
    kill "$REDIS_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  if [[ "$KEEP" == 1 ]]; then echo "features_online_bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  die "no free port near $1"
}

ARGS=(--work "$WORK" --users "$USERS" --days "$DAYS" --warm-days "$WARM_DAYS" --requests "$REQUESTS")
if [[ "$REDIS" == auto ]]; then
  command -v redis-server >/dev/null || die "redis-server not installed (scripts/bootstrap.sh), or run with REDIS=off"
  PORT=$(free_port 57379)
  mkdir -p "$WORK/redis"
  # A private server without persistence, on loopback, in the foreground of a background job (so its pid is ours).
  redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no --dir "$WORK/redis" \
    --logfile "$WORK/redis/server.log" &
  REDIS_PID=$!
  for _ in $(seq 100); do
    if { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null; then
      printf 'PING\r\n' >&3
      reply=""
      read -r -t 2 reply <&3 || true
      exec 3<&- 3>&-
      [[ "${reply%$'\r'}" == "+PONG" ]] && break
    fi
    sleep 0.1
  done
  [[ "${reply%$'\r'}" == "+PONG" ]] || { cat "$WORK/redis/server.log" >&2; die "redis-server did not answer on port $PORT"; }
  echo "features_online_bench: private redis-server $(redis-server --version | grep -o 'v=[0-9.]*') on 127.0.0.1:$PORT" >&2
  ARGS+=(--redis-url "redis://127.0.0.1:$PORT")
fi

"$BENCH" "${ARGS[@]}"

if [[ "$REDIS" == auto && "$REDIS_BENCHMARK" == 1 ]] && command -v redis-benchmark >/dev/null; then
  # redis-benchmark's SET and GET tests share one key: SET writes the 1 KB value that GET then reads.
  redis-benchmark -h 127.0.0.1 -p "$PORT" -c 1 -n 1000 -d 1024 -t set -q >/dev/null
  echo
  echo "cross-check, redis-benchmark -c 1 -n $REQUESTS -d 1024 -t get (same server; its own client, ms):"
  redis-benchmark -h 127.0.0.1 -p "$PORT" -c 1 -n "$REQUESTS" -d 1024 -t get 2>/dev/null | tr '\r' '\n' |
    grep -A2 'latency summary' | tail -1 | awk '{printf "  avg %s  min %s  p50 %s  p95 %s  p99 %s  max %s\n", $1, $2, $3, $4, $5, $6}'
fi
