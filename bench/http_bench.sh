#!/usr/bin/env bash
# HTTP server throughput: gyre's GET /health against nginx serving a static file of the same body size,
# both on loopback, measured with wrk (keep-alive), alternating rounds. Prints the median requests/s and
# p99 latency of each and the ratio gyre/nginx.
#
# Builds nothing: GYRE_BIN (default build/release/gyre) must exist. Knobs (environment):
#   HTTP_BENCH_ROUNDS=3  HTTP_BENCH_DURATION=10s  HTTP_BENCH_CONNECTIONS=32  HTTP_BENCH_WRK_THREADS=2
#   HTTP_BENCH_SERVER_THREADS=2   (gyre --threads; nginx worker_processes is 2 in bench/nginx/)
#   HTTP_BENCH_NGINX_CONF=bench/nginx/http_bench.conf.in   (another template, e.g. with open_file_cache)
#   HTTP_BENCH_NGINX_CONF=bench/nginx/http_bench.conf.in   (another template, e.g. with open_file_cache)
set -euo pipefail
cd "$(dirname "$0")/.."

GYRE_BIN=${GYRE_BIN:-$PWD/build/release/gyre}
ROUNDS=${HTTP_BENCH_ROUNDS:-3}
DURATION=${HTTP_BENCH_DURATION:-10s}
CONNECTIONS=${HTTP_BENCH_CONNECTIONS:-32}
WRK_THREADS=${HTTP_BENCH_WRK_THREADS:-2}
SERVER_THREADS=${HTTP_BENCH_SERVER_THREADS:-2}

for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "http_bench: '$tool' is not installed (apt-get install $tool)" >&2; exit 1; }
done
[[ -x "$GYRE_BIN" ]] || { echo "http_bench: no gyre binary at $GYRE_BIN (make release, or set GYRE_BIN)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/gyre-http-bench.XXXXXX)
chmod 755 "$TMP"  # nginx workers run as an unprivileged user when started by root
GYRE_PID=""
NGINX_PID=""
cleanup() {
  [[ -n "$GYRE_PID" ]] && kill -TERM "$GYRE_PID" 2>/dev/null && wait "$GYRE_PID" 2>/dev/null || true
  [[ -n "$NGINX_PID" ]] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  # Bind port 0 and report what the kernel chose; the tiny window before nginx binds it is acceptable here.
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- gyre ---------------------------------------------------------------------------------------------
"$GYRE_BIN" server --workspace "$TMP/ws" --host 127.0.0.1 --port 0 --threads "$SERVER_THREADS" \
  >"$TMP/gyre.out" 2>"$TMP/gyre.err" &
GYRE_PID=$!
for _ in $(seq 100); do
  grep -q "listening on" "$TMP/gyre.out" 2>/dev/null && break
  kill -0 "$GYRE_PID" 2>/dev/null || { cat "$TMP/gyre.err" >&2; exit 1; }
  sleep 0.1
done
GYRE_URL=$(grep -o 'http://[^ ]*' "$TMP/gyre.out" | head -1)
[[ -n "$GYRE_URL" ]] || { echo "http_bench: gyre server did not start" >&2; cat "$TMP/gyre.err" >&2; exit 1; }

# --- nginx: a static file byte-identical to gyre's /health body --------------------------------------
mkdir -p "$TMP/www"
curl -sf "$GYRE_URL/health" >"$TMP/www/health" 2>/dev/null ||
  printf '{"status":"ok"}' >"$TMP/www/health"
chmod -R a+rX "$TMP/www"
NGINX_PORT=$(free_port)
sed -e "s|@PREFIX@|$TMP|g" -e "s|@PORT@|$NGINX_PORT|g" "${HTTP_BENCH_NGINX_CONF:-bench/nginx/http_bench.conf.in}" >"$TMP/nginx.conf"
nginx -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" &
NGINX_PID=$!
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
for _ in $(seq 100); do
  curl -sf "$NGINX_URL/health" >/dev/null 2>&1 && break
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$TMP/error.log" >&2; exit 1; }
  sleep 0.1
done

gyre_bytes=$(curl -s "$GYRE_URL/health" | wc -c)
nginx_bytes=$(curl -s "$NGINX_URL/health" | wc -c)
if [[ "$gyre_bytes" != "$nginx_bytes" ]]; then
  echo "http_bench: body sizes differ (gyre $gyre_bytes, nginx $nginx_bytes)" >&2
  exit 1
fi

# --- measure --------------------------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
# CPU time (user + system, in clock ticks) used so far by the given processes.
cpu_ticks() {
  local total=0 pid
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
nginx_pids() { echo "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true); }

# Prints "<requests/s> <p99 in ms> <server CPU µs per request>" for one wrk run against $1, whose server
# processes are $2... The CPU cost per request is what the server spent, whatever else the machine ran.
run_wrk() {
  local url=$1 out before after
  shift
  before=$(cpu_ticks "$@")
  out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url/health")
  after=$(cpu_ticks "$@")
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
    echo "http_bench: errors during the run against $url:" >&2
    echo "$out" >&2
  fi
  local rps p99 requests
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}; print v}' <<<"$out")
  awk -v r="$rps" -v p="$p99" -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" \
    'BEGIN {printf "%s %s %.2f\n", r, p, (n > 0 ? t / hz * 1e6 / n : 0)}'
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "http: GET /health ($gyre_bytes-byte body), wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds each, alternating"
echo "      gyre --threads $SERVER_THREADS vs nginx $(nginx -v 2>&1 | sed 's|.*/||') worker_processes 2; $(nproc) CPUs shared with wrk"
echo "      load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Warm-up, not counted.
DURATION=2s run_wrk "$GYRE_URL" "$GYRE_PID" >/dev/null
DURATION=2s run_wrk "$NGINX_URL" $(nginx_pids) >/dev/null

gyre_rps=() gyre_p99=() gyre_cpu=() nginx_rps=() nginx_p99=() nginx_cpu=()
for round in $(seq "$ROUNDS"); do
  read -r rps p99 cpu < <(run_wrk "$GYRE_URL" "$GYRE_PID")
  gyre_rps+=("$rps") gyre_p99+=("$p99") gyre_cpu+=("$cpu")
  printf '  round %d  gyre  %10.0f req/s  p99 %7.3f ms  %5.2f CPU-µs/request\n' "$round" "$rps" "$p99" "$cpu"
  read -r rps p99 cpu < <(run_wrk "$NGINX_URL" $(nginx_pids))
  nginx_rps+=("$rps") nginx_p99+=("$p99") nginx_cpu+=("$cpu")
  printf '  round %d  nginx %10.0f req/s  p99 %7.3f ms  %5.2f CPU-µs/request\n' "$round" "$rps" "$p99" "$cpu"
done

g_rps=$(printf '%s\n' "${gyre_rps[@]}" | median)
g_p99=$(printf '%s\n' "${gyre_p99[@]}" | median)
g_cpu=$(printf '%s\n' "${gyre_cpu[@]}" | median)
n_rps=$(printf '%s\n' "${nginx_rps[@]}" | median)
n_p99=$(printf '%s\n' "${nginx_p99[@]}" | median)
n_cpu=$(printf '%s\n' "${nginx_cpu[@]}" | median)
printf 'median  gyre  %10.0f req/s  p99 %7.3f ms  %5.2f CPU-µs/request\n' "$g_rps" "$g_p99" "$g_cpu"
printf 'median  nginx %10.0f req/s  p99 %7.3f ms  %5.2f CPU-µs/request\n' "$n_rps" "$n_p99" "$n_cpu"
awk -v g="$g_rps" -v n="$n_rps" 'BEGIN {printf "ratio gyre/nginx requests/s: %.2f (target >= 0.70)\n", g / n}'
awk -v g="$g_cpu" -v n="$n_cpu" 'BEGIN {printf "ratio gyre/nginx CPU per request: %.2f (lower is better)\n", g / n}'
echo "      load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# gyre must drain and exit 0 on SIGTERM.
kill -TERM "$GYRE_PID"
if wait "$GYRE_PID"; then
  echo "gyre server exited 0 after SIGTERM"
else
  echo "http_bench: gyre server exited with status $? after SIGTERM" >&2
  GYRE_PID=""
  exit 1
fi
GYRE_PID=""
