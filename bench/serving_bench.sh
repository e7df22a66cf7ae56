#!/usr/bin/env bash
# Serving throughput and latency beside nginx (issue 6, item 7b), all on loopback, in one run:
#   1. gyre POST /v1/score/ato, one real login event per request, rotating over distinct events of the
#      workspace's data/logins.csv (each request also pushes its event into the online state: see below);
#   2. gyre POST /v2/models/ato/infer, one [1, 30] FP32 row per request (real feature rows of the model);
#   3. nginx answering the same POSTs (same request bodies) with static bytes equal to gyre's response of
#      each path, so a ratio compares the same bytes in and out.
# wrk (keep-alive), alternating rounds, medians: requests/s, p50/p99 latency, the server's CPU per request,
# ratios gyre/nginx of requests/s (goals, issue 16: /v1/score >= 0.7, OIP infer >= 0.9, as the median of the
# per-round ratios; each round runs both back to back)
# and nginx/gyre of CPU per request.
# Then latency at a fixed rate, half of gyre's median max rate of each path (goal: p99 < 1 ms), with
# bench/serving/fixed_rate_load.cc (Debian's wrk has no -R and bookworm has no wrk2): open loop, latency
# counted from each request's scheduled send time; nginx is run at the same rate for reference. Beside each
# run: how busy the machine's CPUs were (all processes), and, for gyre, the same requests' handler time from
# its own /metrics histogram, which separates time spent in gyre's code from time spent waiting for a CPU.
#
# The workspace: `$GYRE_BIN demo --users 2000 --days 30` in a temporary folder, unless WORKSPACE=dir is
# given, in which case a COPY of it is served (the bench pushes events and writes a prediction log).
# Events are real (their users, IPs, devices, countries...) and fresh: every request carries a new event id
# (sources declare one, and a repeated id is answered as a replay of its first decision) and a new event time,
# the moment it is sent shifted to just after the data's last event (bench/serving/post_bodies.lua and
# fixed_rate_load --event-clock), so each pushed event is a new event in time order, as in production, and
# the keys' states keep growing through the run (a user seen every ~400 requests: thousands of events per
# key by the end, heavier than real users). SERVING_BENCH_FRESH=0 replays the bodies as they are instead
# (events within the lateness of their key's newest are then accepted again, older ones dropped).
#
# Knobs (environment):
#   GYRE_BIN=build/release/gyre (built with the release preset if missing)   WORKSPACE=(demo in a temp dir)
#   SERVING_BENCH_ROUNDS=3  SERVING_BENCH_DURATION=10s  SERVING_BENCH_CONNECTIONS=32  SERVING_BENCH_WRK_THREADS=2
#   SERVING_BENCH_SERVER_THREADS=2 (gyre --threads; nginx worker_processes is 2)  SERVING_BENCH_EVENTS=400
#   SERVING_BENCH_FIXED_DURATION=10 (seconds)  SERVING_BENCH_FIXED_WARMUP=5 (seconds at the rate before measuring:
#   the max-rate rounds leave RocksDB flushes and compactions to catch up; p99 is a steady-state figure)
#   SERVING_BENCH_FIXED_RATE=(half the max)
#   SERVING_BENCH_PUSH=1 (0: the served copy's deployments.yaml gets push: false, so scoring only reads state)
#   SERVING_BENCH_FRESH=1 (0: replay the events with their recorded times)
#   SERVING_BENCH_DEMO_USERS=2000  SERVING_BENCH_DEMO_DAYS=30  SERVING_BENCH_NGINX_CONF=bench/nginx/serving_bench.conf.in
#   SERVING_BENCH_PIN=0 (1: the latency mode: both servers pinned to CPU 0 and every load generator to CPU 1 with
#   taskset, so the tail measures the server rather than two programs fighting over two shared cores; the max
#   rate, and so "half the max", are then those of one core)
set -euo pipefail
cd "$(dirname "$0")/.."

GYRE_BIN=${GYRE_BIN:-$PWD/build/release/gyre}
ROUNDS=${SERVING_BENCH_ROUNDS:-3}
DURATION=${SERVING_BENCH_DURATION:-10s}
CONNECTIONS=${SERVING_BENCH_CONNECTIONS:-32}
WRK_THREADS=${SERVING_BENCH_WRK_THREADS:-2}
SERVER_THREADS=${SERVING_BENCH_SERVER_THREADS:-2}
EVENTS=${SERVING_BENCH_EVENTS:-400}
FIXED_DURATION=${SERVING_BENCH_FIXED_DURATION:-10}
FIXED_WARMUP=${SERVING_BENCH_FIXED_WARMUP:-5}
FIXED_RATE=${SERVING_BENCH_FIXED_RATE:-}
DEMO_USERS=${SERVING_BENCH_DEMO_USERS:-2000}
DEMO_DAYS=${SERVING_BENCH_DEMO_DAYS:-30}
PUSH=${SERVING_BENCH_PUSH:-1}
FRESH=${SERVING_BENCH_FRESH:-1}
NGINX_CONF=${SERVING_BENCH_NGINX_CONF:-bench/nginx/serving_bench.conf.in}
DEPLOYMENT=ato
PIN=${SERVING_BENCH_PIN:-0}
SERVER_CPU=() LOAD_CPU=()
if [[ "$PIN" == 1 ]]; then
  (( $(nproc) >= 2 )) || { echo "serving_bench: SERVING_BENCH_PIN=1 needs 2 CPUs" >&2; exit 1; }
  SERVER_CPU=(taskset -c 0) LOAD_CPU=(taskset -c 1)
fi

say() { echo "serving_bench: $*" >&2; }
for tool in wrk nginx curl python3 c++; do
  command -v "$tool" >/dev/null || { say "'$tool' is not installed"; exit 1; }
done

# --- the gyre binary (another engineer may be building the same tree: wait for that build) -------------
if [[ ! -x "$GYRE_BIN" ]]; then
  while pgrep -f "cmake --build --preset release" >/dev/null; do
    say "a release build is running; waiting for it"
    sleep 10
  done
  if [[ ! -x "$GYRE_BIN" && "$GYRE_BIN" == "$PWD/build/release/gyre" ]]; then
    say "no gyre binary at $GYRE_BIN; building it (release preset)"
    cmake --preset release >/dev/null && cmake --build --preset release -j2 --target gyre
  fi
  [[ -x "$GYRE_BIN" ]] || { say "no gyre binary at $GYRE_BIN (set GYRE_BIN)"; exit 1; }
fi

TMP=$(mktemp -d /tmp/gyre-serving-bench.XXXXXX)
chmod 755 "$TMP"  # nginx workers run as an unprivileged user when started by root
GYRE_PID=""
NGINX_PID=""
cleanup() {
  [[ -n "$GYRE_PID" ]] && kill -TERM "$GYRE_PID" 2>/dev/null && wait "$GYRE_PID" 2>/dev/null || true
  [[ -n "$NGINX_PID" ]] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# --- the fixed-rate load generator ------------------------------------------------------------------------
LOAD="$TMP/fixed_rate_load"
c++ -O2 -std=c++20 -Wall -Wextra -pthread bench/serving/fixed_rate_load.cc -o "$LOAD"

# --- the workspace --------------------------------------------------------------------------------------
if [[ -n "${WORKSPACE:-}" ]]; then
  [[ -f "$WORKSPACE/data/logins.csv" ]] || { say "WORKSPACE=$WORKSPACE has no data/logins.csv"; exit 1; }
  cp -a "$WORKSPACE" "$TMP/ws"
  echo "workspace: a copy of $WORKSPACE"
else
  echo "workspace: gyre demo --users $DEMO_USERS --days $DEMO_DAYS (log in $TMP/demo.log while it runs)"
  start=$(date +%s)
  if ! "$GYRE_BIN" demo --users "$DEMO_USERS" --days "$DEMO_DAYS" --workspace "$TMP/ws" >"$TMP/demo.log" 2>&1; then
    say "gyre demo failed:"; tail -30 "$TMP/demo.log" >&2; exit 1
  fi
  echo "           done in $(($(date +%s) - start)) s; $(grep -m1 'alias champion' "$TMP/demo.log" | sed 's/^ *//')"
fi
WS="$TMP/ws"
if [[ "$PUSH" == 0 ]]; then
  # Score without updating the online state: isolates the push's cost, and replays leave the state as it is.
  sed -i 's/^\( *push:\) *true/\1 false/' "$WS/deployments.yaml"
  grep -q '^ *push: false' "$WS/deployments.yaml" || { say "could not set push: false in deployments.yaml"; exit 1; }
fi

# --- request bodies: distinct real login events; real feature rows for /v2 ------------------------------
# Events: EVENTS rows spread evenly over the last day of logins.csv (distinct users, IPs and devices, and
# the times they really happened). JSON types follow the column types of the logins source.
python3 bench/serving/login_bodies.py "$WS/data/logins.csv" "$EVENTS" "$TMP/data_end_ms" "$FRESH" >"$TMP/score_bodies.jsonl"

"${SERVER_CPU[@]}" "$GYRE_BIN" server --workspace "$WS" --host 127.0.0.1 --port 0 --threads "$SERVER_THREADS" \
  >"$TMP/gyre.out" 2>"$TMP/gyre.err" &
GYRE_PID=$!
for _ in $(seq 300); do
  grep -q "listening on" "$TMP/gyre.out" 2>/dev/null && break
  kill -0 "$GYRE_PID" 2>/dev/null || { cat "$TMP/gyre.err" >&2; exit 1; }
  sleep 0.1
done
GYRE_URL=$(grep -o 'http://[^ ]*' "$TMP/gyre.out" | head -1)
[[ -n "$GYRE_URL" ]] || { say "gyre server did not start"; cat "$TMP/gyre.err" >&2; exit 1; }
for _ in $(seq 100); do  # the deployment answers 503 until its model is loaded
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$GYRE_URL/v2/models/$DEPLOYMENT/ready") == 200 ]] && break
  sleep 0.1
done

# Feature rows for /v2 infer: the model's own feature columns from the training set the demo wrote, in the
# order of the model's metadata; if there is none, the row of docs/serving.md.
curl -sf "$GYRE_URL/v2/models/$DEPLOYMENT" >"$TMP/model_metadata.json"
python3 - "$TMP/model_metadata.json" "$WS/data" "$EVENTS" >"$TMP/infer_bodies.jsonl" <<'EOF'
import csv, glob, json, math, sys
meta = json.load(open(sys.argv[1]))
n = int(sys.argv[3])
names = meta.get("parameters", {}).get("feature_names", [])
rows = []
for path in sorted(glob.glob(sys.argv[2] + "/training_*.csv")):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if names and all(c in reader.fieldnames for c in names):
            rows = list(reader)[-n * 10:]
            break
def num(v):
    try:
        x = float(v)
        return None if math.isnan(x) else x
    except ValueError:
        return None
if rows:
    for r in rows[:: max(1, len(rows) // n)][:n]:
        data = [num(r[c]) for c in names]
        print(json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, len(data)], "data": data}]},
                         separators=(",", ":")))
else:
    data = [0,0,0,1,1,1,1,1,0,0,0,3600,86400,None,0,1,1,1,1,1,0,0,1,0,1,1,0,10,None,None]
    print(json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 30], "data": data}]},
                     separators=(",", ":")))
EOF
infer_rows=$(wc -l <"$TMP/infer_bodies.jsonl")
infer_width=$(head -1 "$TMP/infer_bodies.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["inputs"][0]["shape"][1])')

SCORE_PATH="/v1/score/$DEPLOYMENT"
INFER_PATH="/v2/models/$DEPLOYMENT/infer"
# One response of each path, checked to be a 200: its bytes become nginx's answer on that path.
mkdir -p "$TMP/www$(dirname "$SCORE_PATH")" "$TMP/www$(dirname "$INFER_PATH")"
for p in "$SCORE_PATH:score" "$INFER_PATH:infer"; do
  path=${p%%:*} kind=${p##*:}
  code=$(head -1 "$TMP/${kind}_bodies.jsonl" | curl -s -o "$TMP/www$path" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary @- "$GYRE_URL$path")
  if [[ "$code" != 200 ]]; then
    say "POST $path answered $code: $(cat "$TMP/www$path")"; exit 1
  fi
done
chmod -R a+rX "$TMP/www"
# gyre's /v1/score responses differ by a few bytes (score digits, action, ids): show the spread.
score_sizes=$(head -20 "$TMP/score_bodies.jsonl" | while read -r body; do
  curl -s -H 'Content-Type: application/json' --data-binary "$body" "$GYRE_URL$SCORE_PATH" | wc -c
done | sort -n | awk '{a[NR] = $1} END {print a[1] "-" a[NR]}')

NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
sed -e "s|@PREFIX@|$TMP|g" -e "s|@PORT@|$NGINX_PORT|g" "$NGINX_CONF" >"$TMP/nginx.conf"
"${SERVER_CPU[@]}" nginx -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" &
NGINX_PID=$!
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
for _ in $(seq 100); do
  curl -sf "$NGINX_URL$SCORE_PATH" >/dev/null 2>&1 && break
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$TMP/error.log" >&2; exit 1; }
  sleep 0.1
done
# nginx must answer the POST (with a body) with 200 and exactly the bytes gyre sent.
for p in "$SCORE_PATH:score" "$INFER_PATH:infer"; do
  path=${p%%:*} kind=${p##*:}
  code=$(head -1 "$TMP/${kind}_bodies.jsonl" | curl -s -o "$TMP/nginx_answer" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary @- "$NGINX_URL$path")
  if [[ "$code" != 200 ]] || ! cmp -s "$TMP/nginx_answer" "$TMP/www$path"; then
    say "nginx answers POST $path with $code and $(wc -c <"$TMP/nginx_answer") bytes, not gyre's 200 and $(wc -c <"$TMP/www$path")"
    exit 1
  fi
done

# --- measure with wrk -------------------------------------------------------------------------------------
# Converts wrk's latency ("812.00us", "1.20ms", "2.01s") to milliseconds.
to_ms='function ms(v) { if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 } if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 } if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 } return v }'
WRK_PROBLEMS="$TMP/wrk_problems"
: >"$WRK_PROBLEMS"
# Fresh event times (see the top): event time = the data's end + (now - EVENT_ZERO_MS), for every run.
EVENT_ZERO_MS=$(date +%s%3N)
DATA_END_MS=$(cat "$TMP/data_end_ms")
fresh_args() { [[ "$FRESH" == 1 && "$1" == *score* ]] && echo "$DATA_END_MS $EVENT_ZERO_MS" || true; }
# Prints "<requests/s> <p50 ms> <p99 ms> <requests>" for one wrk run: $1 base URL, $2 path, $3 bodies file.
run_wrk() {
  local out
  # shellcheck disable=SC2046
  out=$("${LOAD_CPU[@]}" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/serving/post_bodies.lua \
    "$1$2" -- "$3" $(fresh_args "$3"))
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
    { echo "--- $1$2:"; grep "Non-2xx\|Socket errors\|requests in" <<<"$out"; } >>"$WRK_PROBLEMS"
  fi
  awk "$to_ms"'
    /^Requests\/sec:/ {r = $2}
    $1 == "50%" {p50 = ms($2)}
    $1 == "99%" {p99 = ms($2)}
    / requests in / {n = $1}
    END {printf "%s %s %s %s\n", r, p50, p99, n}' <<<"$out"
}
# CPU time (clock ticks, user + system) a server has used so far: gyre's process, nginx's master and workers.
CLK_TCK=$(getconf CLK_TCK)
server_ticks() {
  local pids=("$1") sum=0 p
  [[ "$1" == "$NGINX_PID" ]] && mapfile -t -O 1 pids < <(pgrep -P "$NGINX_PID")
  for p in "${pids[@]}"; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$sum"
}
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

score_bytes=$(wc -c <"$TMP/www$SCORE_PATH")
infer_bytes=$(wc -c <"$TMP/www$INFER_PATH")
score_req_bytes=$(awk '{s += length($0)} END {printf "%.0f", s / NR}' "$TMP/score_bodies.jsonl")
infer_req_bytes=$(awk '{s += length($0)} END {printf "%.0f", s / NR}' "$TMP/infer_bodies.jsonl")
echo "serving: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds each, alternating; gyre --threads $SERVER_THREADS$([[ $PIN == 1 ]] && echo "; pinned: servers on CPU 0, load generators on CPU 1")"
echo "         vs nginx $(nginx -v 2>&1 | sed 's|.*/||') worker_processes 2; $(nproc) CPUs shared with the load generator"
echo "  score: POST $SCORE_PATH ($([[ $PUSH == 0 ]] && echo "push: false" || echo "each event pushed")), $(wc -l <"$TMP/score_bodies.jsonl") distinct login events (~$score_req_bytes B)$([[ $FRESH == 1 ]] && echo ", each sent with a fresh time" || echo ", replayed with their times"), response $score_bytes B (gyre: $score_sizes B)"
echo "  infer: POST $INFER_PATH, $infer_rows distinct [1, $infer_width] FP32 rows (~$infer_req_bytes B), response $infer_bytes B"
echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

TARGETS=("gyre score|$GYRE_URL|$SCORE_PATH|$TMP/score_bodies.jsonl"
         "nginx score|$NGINX_URL|$SCORE_PATH|$TMP/score_bodies.jsonl"
         "gyre infer|$GYRE_URL|$INFER_PATH|$TMP/infer_bodies.jsonl"
         "nginx infer|$NGINX_URL|$INFER_PATH|$TMP/infer_bodies.jsonl")
for t in "${TARGETS[@]}"; do  # warm-up, not counted
  IFS='|' read -r name url path bodies <<<"$t"
  DURATION=2s run_wrk "$url" "$path" "$bodies" >/dev/null
done
: >"$WRK_PROBLEMS"
# CPU per request: the server's CPU time over the run (from /proc) / the requests wrk counted. Steadier than
# requests/s on a shared machine, where the load generator and other tenants take a varying share.
declare -A RPS P50 P99 CPU
for round in $(seq "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    IFS='|' read -r name url path bodies <<<"$t"
    pid=$([[ $name == gyre* ]] && echo "$GYRE_PID" || echo "$NGINX_PID")
    ticks=$(server_ticks "$pid")
    read -r rps p50 p99 requests < <(run_wrk "$url" "$path" "$bodies")
    cpu=$(awk -v d=$(($(server_ticks "$pid") - ticks)) -v n="$requests" -v hz="$CLK_TCK" \
      'BEGIN {printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0)}')
    RPS[$name]+="$rps " P50[$name]+="$p50 " P99[$name]+="$p99 " CPU[$name]+="$cpu "
    printf '  round %d  %-11s %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms  CPU %6.1f us/request\n' \
      "$round" "$name" "$rps" "$p50" "$p99" "$cpu"
  done
done

echo "median of $ROUNDS rounds:"
printf '  %-11s %9s  %9s  %9s  %13s\n' "" "req/s" "p50 ms" "p99 ms" "CPU us/req"
declare -A MED MEDCPU
for t in "${TARGETS[@]}"; do
  name=${t%%|*}
  MED[$name]=$(tr ' ' '\n' <<<"${RPS[$name]}" | grep . | median)
  MEDCPU[$name]=$(tr ' ' '\n' <<<"${CPU[$name]}" | grep . | median)
  printf '  %-11s %9.0f  %9.3f  %9.3f  %13.1f\n' "$name" "${MED[$name]}" \
    "$(tr ' ' '\n' <<<"${P50[$name]}" | grep . | median)" "$(tr ' ' '\n' <<<"${P99[$name]}" | grep . | median)" \
    "${MEDCPU[$name]}"
done
for kind in score infer; do
  label=$([[ $kind == score ]] && echo "POST /v1/score" || echo "POST /v2/.../infer")
  # Each round runs gyre and nginx back to back, so a round's ratio is free of the machine's slower drifts
  # (one run's rates moved by a third between rounds, for both servers).
  goal=$([[ $kind == score ]] && echo 0.70 || echo 0.90)
  awk -v g="${MED[gyre $kind]}" -v n="${MED[nginx $kind]}" -v l="$label" -v goal="$goal" \
    -v gs="${RPS[gyre $kind]}" -v ns="${RPS[nginx $kind]}" \
    'BEGIN {
       k = split(gs, a, " "); split(ns, b, " "); rounds = ""
       for (i = 1; i <= k; ++i) { r[i] = a[i] / b[i]; rounds = rounds sprintf(" %.2f", r[i]) }
       for (i = 1; i <= k; ++i) for (j = i + 1; j <= k; ++j) if (r[j] < r[i]) { x = r[i]; r[i] = r[j]; r[j] = x }
       m = (k % 2 ? r[(k + 1) / 2] : (r[k / 2] + r[k / 2 + 1]) / 2)
       printf "ratio gyre/nginx requests/s, %s: %.2f; per round:%s, median %.2f (goal >= %s: %s)\n", l, g / n, rounds,
              m, goal, (m >= goal ? "met" : "NOT met")
     }'
  awk -v g="${MEDCPU[gyre $kind]}" -v n="${MEDCPU[nginx $kind]}" -v l="$label" \
    'BEGIN {printf "ratio nginx/gyre CPU per request, %s: %.2f\n", l, (g > 0 ? n / g : 0)}'
done
if [[ -s "$WRK_PROBLEMS" ]]; then
  echo "wrk counted errors or non-2xx responses:"
  cat "$WRK_PROBLEMS"
else
  echo "wrk counted no socket errors and no non-2xx responses"
fi

# --- latency at a fixed rate: half of gyre's max of each path ------------------------------------------
echo "fixed rate (bench/serving/fixed_rate_load: $CONNECTIONS connections, 2 threads, ${FIXED_DURATION}s after ${FIXED_WARMUP}s of warm-up,"
echo "            latency from the scheduled send; lag = how late the generator sent on a free connection)"
# "<le> <cumulative count>" lines of gyre's request-duration histogram for the route of a kind of request.
route_histogram() {
  local route=$([[ $1 == score ]] && echo '/v1/score/{deployment}' || echo '/v2/models/{model}/infer')
  curl -sf "$GYRE_URL/metrics" | grep -F "gyre_http_request_duration_seconds_bucket{method=\"POST\",route=\"$route\"" |
    sed 's/.*le="\([^"]*\)"} \(.*\)/\1 \2/'
}
# "<busy ticks> <total ticks>" of the whole machine so far (/proc/stat: busy = all but idle and iowait).
cpu_ticks() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; ++i) t += $i; print t - $5 - $6, t}' /proc/stat; }
for kind in score infer; do
  path=$([[ $kind == score ]] && echo "$SCORE_PATH" || echo "$INFER_PATH")
  rate=${FIXED_RATE:-$(awk -v r="${MED[gyre $kind]}" 'BEGIN {printf "%.0f", r / 2}')}
  for server in gyre nginx; do
    url=$([[ $server == gyre ]] && echo "$GYRE_URL" || echo "$NGINX_URL")
    clock=()
    [[ "$FRESH" == 1 && $kind == score ]] && clock=(--event-clock "$DATA_END_MS,$EVENT_ZERO_MS")
    [[ $server == gyre ]] && route_histogram "$kind" >"$TMP/hist0"
    read -r busy0 total0 < <(cpu_ticks)
    line=$("${LOAD_CPU[@]}" "$LOAD" --url "$url$path" --bodies "$TMP/${kind}_bodies.jsonl" --rate "$rate" \
      --connections "$CONNECTIONS" --threads 2 --duration "$FIXED_DURATION" --warmup "$FIXED_WARMUP" "${clock[@]}" 2>"$TMP/load.err") ||
      { say "fixed_rate_load failed: $(cat "$TMP/load.err")"; exit 1; }
    eval "$(tr ' ' '\n' <<<"$line" | grep '=' | sed 's/^/L_/')"
    printf '  %-5s %-5s %6s req/s (got %6s)  p50 %6.3f  p99 %6.3f  p99.9 %6.3f  max %7.3f ms  lag p99 %6.3f ms%s\n' \
      "$server" "$kind" "$L_rate" "$L_achieved" "$L_p50_ms" "$L_p99_ms" "$L_p999_ms" "$L_max_ms" "$L_lag_p99_ms" \
      "$([[ $L_non2xx != 0 || $L_errors != 0 || $L_unfinished != 0 ]] && echo "  non-2xx $L_non2xx errors $L_errors unfinished $L_unfinished $(cat "$TMP/load.err")")"
    read -r busy1 total1 < <(cpu_ticks)
    awk -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) \
      'BEGIN {printf "        machine CPUs busy during the run (every process, steal included): %.0f%%\n", (t > 0 ? 100 * b / t : 0)}'
    if [[ $server == gyre ]]; then
      awk -v p="$L_p99_ms" -v k="$kind" 'BEGIN {printf "        gyre %s p99 at half the max rate: %.3f ms (goal < 1 ms: %s)\n", k, p, (p < 1 ? "met" : "NOT met")}'
      route_histogram "$kind" >"$TMP/hist1"
      # The same run seen from inside: gyre's own histogram of the route's handler time (parse to response
      # body; no socket, no queueing), as the bucket that holds each percentile.
      paste -d' ' "$TMP/hist0" "$TMP/hist1" | awk '
        function ms(le) { return le == "+Inf" ? "+Inf" : le * 1000 }
        {le[NR] = $1; n[NR] = $4 - $2}
        END {
          total = n[NR]
          for (i = 1; i <= NR; ++i) {
            if (p50 == "" && n[i] >= 0.5 * total) p50 = le[i]
            if (p99 == "" && n[i] >= 0.99 * total) p99 = le[i]
            if (p999 == "" && n[i] >= 0.999 * total) p999 = le[i]
          }
          printf "        handler time inside gyre, same %d requests (warm-up included): p50 <= %s ms, p99 <= %s ms, p99.9 <= %s ms\n",
                 total, ms(p50), ms(p99), ms(p999)
        }'
    fi
  done
done
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# What the replayed events did to the online state (gyre has no counter of pushes on /v1/score yet): the
# size of the prediction log, one line per scored event.
echo "  prediction log: $(wc -l <"$WS/.gyre/predictions/$DEPLOYMENT.jsonl" 2>/dev/null || echo 0) lines; online state on disk: $(du -sh "$WS/.gyre/online" 2>/dev/null | cut -f1) (.gyre/online)"

# gyre must drain and exit 0 on SIGTERM.
kill -TERM "$GYRE_PID"
if wait "$GYRE_PID"; then
  echo "gyre server exited 0 after SIGTERM"
else
  say "gyre server exited with status $? after SIGTERM"
  GYRE_PID=""
  exit 1
fi
GYRE_PID=""
