#!/usr/bin/env bash
# Feature backfill: `gyre features backfill` of the ATO login features over ~10 million login events, against
# the same features computed by window-function SQL on the same data, in the same run: SQLite always,
# PostgreSQL when there is one. Prints events/s, peak memory and the ratios. The goal (issue 4): gyre at
# least 20x faster than SQLite.
#
#   bash bench/features_bench.sh                     # 10 M logins: ~30 days x ~370k users
#   EVENTS=1000000 bash bench/features_bench.sh      # a quicker run
#
# What is compared (bench/features/):
#   bench_features.yaml  the 25 features (set bench_login) both engines compute the same way: the ATO set
#                        of examples/ato/features.yaml minus what SQL window functions cannot express
#   features.sql         the same features as one SELECT with window functions (SQLite and PostgreSQL)
#   sqlite_load.sql, postgres_load.sql   CSV text -> the table `ev` (integer microsecond timestamps)
#   compare.py           every cell of gyre's CSV against the SQL output
# First a correctness run on CHECK_EVENTS logins: gyre's output must equal SQLite's (and PostgreSQL's) in
# every cell, or the bench stops with an error. Then the timed run on EVENTS logins.
#
# Timing. gyre: the whole `gyre features backfill` process (reading the CSVs, computing, writing the output
# CSV), median of REPEAT runs, peak RSS from /usr/bin/time. SQL engines: only the query, CREATE TABLE feat AS
# SELECT ... (the result materialised in the database, in event order), after the CSVs were loaded into the
# table `ev`, which is not timed (its time is printed apart). So gyre's number includes CSV parsing and the
# SQL engines' numbers do not. CPU seconds (user + sys) are printed beside wall seconds because the machine
# may be shared; for PostgreSQL they are the server's (backends and parallel workers), known only for the
# throwaway cluster this script starts.
#
# Settings: SQLite as shipped (cache_size, temp_store and threads made it no faster at 1 M events), with
# journal_mode=OFF and synchronous=OFF for the table it writes. PostgreSQL: UNLOGGED tables, fsync off (the
# throwaway cluster), work_mem=PG_WORK_MEM (default 1GB) so that its sorts stay in memory.
#
# Environment:
#   GYRE_BIN        gyre binary (default build/release/gyre; cmake --preset release && cmake --build --preset release)
#   EVENTS          login events of the timed run (default 10000000); USERS = EVENTS / (DAYS * 0.904) unless set
#   DAYS, SEED      datagen days (default 30) and seed (42)
#   REPEAT          gyre runs, median reported (default 3)
#   SQLITE_REPEAT, POSTGRES_REPEAT   query runs (default 1 each: they are slow)
#   THREADS         --threads for gyre (default: not passed, gyre uses every core)
#   CHECK_EVENTS    logins of the correctness run (default 200000; 0 skips it)
#   CHECK_FULL=1    also compare every cell of the timed run (slow: a Python pass over the whole output)
#   POSTGRES        auto (default: use GYRE_BENCH_POSTGRES_URL, else start a throwaway cluster with
#                   scripts/test-services.sh if PostgreSQL is installed, else skip), on (fail without), off
#   GYRE_BENCH_POSTGRES_URL   an existing server to use (its tables ev, feat, *_raw are replaced)
#   PG_WORK_MEM     work_mem of the PostgreSQL query (default 1GB)
#   WORK            work folder (default: mktemp under /tmp; about 12 GB at 10 M events); KEEP=1 keeps it
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HERE=$ROOT/bench/features
GYRE_BIN=${GYRE_BIN:-$ROOT/build/release/gyre}
EVENTS=${EVENTS:-10000000}
DAYS=${DAYS:-30}
USERS=${USERS:-}
SEED=${SEED:-42}
REPEAT=${REPEAT:-3}
SQLITE_REPEAT=${SQLITE_REPEAT:-1}
POSTGRES_REPEAT=${POSTGRES_REPEAT:-1}
THREADS=${THREADS:-}
CHECK_EVENTS=${CHECK_EVENTS:-200000}
CHECK_FULL=${CHECK_FULL:-0}
POSTGRES=${POSTGRES:-auto}
PG_WORK_MEM=${PG_WORK_MEM:-1GB}
KEEP=${KEEP:-0}
LOGINS_PER_USER_DAY=0.904  # measured: 20,000 users x 30 days -> 542,421 logins (seed 42)

die() { echo "features_bench: $*" >&2; exit 1; }
note() { echo "features_bench: $*" >&2; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

[[ -x "$GYRE_BIN" ]] || die "$GYRE_BIN not found; build it: cmake --preset release && cmake --build --preset release -j2"
"$GYRE_BIN" features backfill --help >/dev/null 2>&1 ||
  die "$GYRE_BIN has no 'features backfill' yet; rebuild the release preset"
command -v sqlite3 >/dev/null || die "sqlite3 not found (Debian package sqlite3)"
command -v python3 >/dev/null || die "python3 not found"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (Debian package time)"
case "$POSTGRES" in auto | on | off) ;; *) die "POSTGRES must be auto, on or off (got '$POSTGRES')" ;; esac

if [[ -z "${WORK:-}" ]]; then
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/gyre-features-bench.XXXXXX")
else
  mkdir -p "$WORK"
fi
SERVICES_ENV=$WORK/services.env
PG_STARTED=0
cleanup() {
  if [[ "$PG_STARTED" == 1 ]]; then GYRE_SERVICES_ENV=$SERVICES_ENV bash "$ROOT/scripts/test-services.sh" stop >/dev/null || true; fi
  if [[ "$KEEP" == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
# Every run uses one binary, even if the release build is relinked meanwhile.
cp "$GYRE_BIN" "$WORK/gyre"
GYRE_BIN=$WORK/gyre

# ---- PostgreSQL: a given server, or a throwaway cluster, or none.
PG_URL=""
PG_DATA_DIR=""
if [[ "$POSTGRES" != off ]]; then
  if ! command -v psql >/dev/null; then
    [[ "$POSTGRES" == on ]] && die "POSTGRES=on but psql is not installed"
  elif [[ -n "${GYRE_BENCH_POSTGRES_URL:-}" ]]; then
    PG_URL=$GYRE_BENCH_POSTGRES_URL
  elif ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    PG_STARTED=1
    if GYRE_SERVICES_ENV=$SERVICES_ENV bash "$ROOT/scripts/test-services.sh" start >"$WORK/services.log" 2>&1; then
      PG_URL=$(sed -n 's/^GYRE_TEST_POSTGRES_URL=//p' "$SERVICES_ENV")
      PG_DATA_DIR=$(sed -n 's/.*PG_DIR=\([^ ]*\).*/\1/p' "${SERVICES_ENV%.env}.state" | head -n 1)/data
    else
      cat "$WORK/services.log" >&2
      [[ "$POSTGRES" == on ]] && die "could not start a PostgreSQL cluster with scripts/test-services.sh"
      note "could not start PostgreSQL (above); going on without it"
    fi
  elif [[ "$POSTGRES" == on ]]; then
    die "POSTGRES=on but no GYRE_BENCH_POSTGRES_URL and no PostgreSQL server installed"
  fi
fi
export PGOPTIONS='-c client_min_messages=warning'
psql_run() { psql "$PG_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }
if [[ -n "$PG_URL" ]] && ! psql_run -c 'SELECT 1' >/dev/null; then
  [[ "$POSTGRES" == on ]] && die "cannot connect to PostgreSQL at $PG_URL"
  note "cannot connect to PostgreSQL at $PG_URL; going on without it"
  PG_URL=""
fi

# CPU seconds (user + sys) the PostgreSQL server has spent, including its exited backends and workers
# (reaped by the postmaster, so counted in its children's times). Empty unless this script started it.
pg_cpu_seconds() {
  [[ -n "$PG_DATA_DIR" && -r "$PG_DATA_DIR/postmaster.pid" ]] || return 0
  local pid
  pid=$(head -n 1 "$PG_DATA_DIR/postmaster.pid")
  # Fields after "(comm)": state is 3rd, utime 14th, stime 15th, cutime 16th, cstime 17th of the full line.
  sed 's/^.*) //' "/proc/$pid/stat" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($12 + $13 + $14 + $15) / hz}'
}

# ---- Steps, each on one workspace folder $1.

# Workspace with datagen data for about $2 login events.
make_workspace() {
  local ws=$1 events=$2 users=$USERS
  [[ -n "$users" ]] || users=$(awk -v e="$events" -v d="$DAYS" -v r="$LOGINS_PER_USER_DAY" \
                                'BEGIN {u = int(e / (d * r) + 0.5); print (u < 10 ? 10 : u)}')
  "$GYRE_BIN" init "$ws" >/dev/null
  cp "$HERE/bench_features.yaml" "$ws/bench_features.yaml"
  "$GYRE_BIN" datagen ato --users "$users" --days "$DAYS" --seed "$SEED" --out "$ws/data" --quiet >"$ws/datagen.txt"
  echo "$users" >"$ws/users.txt"
}

rows_of() {  # data rows of a datagen file, from its manifest
  python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(next(f["rows"] for f in m["files"] if f["file"] == sys.argv[2]))' \
    "$1/data/manifest.json" "$2"
}

# One gyre run; appends "wall cpu rss_kb" to $ws/gyre_runs.txt and keeps gyre's own report.
run_gyre() {
  local ws=$1 out=$2
  local args=(features backfill --workspace "$ws" --definitions "$ws/bench_features.yaml" --set bench_login --out "$out")
  [[ -n "$THREADS" ]] && args+=(--threads "$THREADS")
  rm -f "$out"
  /usr/bin/time -f '%e %U %S %M' -o "$ws/time.txt" "$GYRE_BIN" "${args[@]}" >"$ws/gyre_report.txt" 2>&1 ||
    { cat "$ws/gyre_report.txt" >&2; die "gyre features backfill failed"; }
  awk '{printf "%.2f %.2f %d\n", $1, $2 + $3, $4}' "$ws/time.txt" >>"$ws/gyre_runs.txt"
}

# Loads the three CSVs into $ws/bench.db (not timed by the bench; prints the load seconds).
sqlite_load() {
  local ws=$1 t0 t1 checks
  rm -f "$ws/bench.db"
  t0=$(date +%s.%N)
  checks=$(cd "$ws/data" && sqlite3 "$ws/bench.db" <<EOF
PRAGMA journal_mode=OFF;
PRAGMA synchronous=OFF;
.import --csv logins.csv logins_raw
.import --csv account_events.csv account_raw
.import --csv promo_redemptions.csv promo_raw
.read $HERE/sqlite_load.sql
DROP TABLE logins_raw;
DROP TABLE account_raw;
DROP TABLE promo_raw;
EOF
  )
  t1=$(date +%s.%N)
  [[ "$(tail -n 1 <<<"$checks")" == "0|0" ]] ||
    die "SQLite load of $ws/data: bad_times|null_keys = $(tail -n 1 <<<"$checks") (expected 0|0)"
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f\n", b - a}'
}

# One SQLite query run; appends "wall cpu rss_kb" to $ws/sqlite_runs.txt.
sqlite_query() {
  local ws=$1
  # A repeat starts from the same file as the first run: no old result, no free pages.
  if [[ -n "$(sqlite3 "$ws/bench.db" "SELECT name FROM sqlite_master WHERE name = 'feat'")" ]]; then
    sqlite3 "$ws/bench.db" 'DROP TABLE feat; VACUUM;'
  fi
  { echo 'PRAGMA journal_mode=OFF;'; echo 'PRAGMA synchronous=OFF;'; echo 'CREATE TABLE feat AS'
    cat "$HERE/features.sql"; echo ';'; } >"$ws/sqlite_query.sql"
  /usr/bin/time -f '%e %U %S %M' -o "$ws/time.txt" sqlite3 "$ws/bench.db" ".read $ws/sqlite_query.sql" >/dev/null ||
    die "SQLite query failed"
  awk '{printf "%.2f %.2f %d\n", $1, $2 + $3, $4}' "$ws/time.txt" >>"$ws/sqlite_runs.txt"
}

# Loads the three CSVs into PostgreSQL (not timed by the bench; prints the load seconds).
pg_load() {
  local ws=$1 t0 t1 checks table file cols
  t0=$(date +%s.%N)
  : >"$ws/pg_raw.sql"
  for table in logins_raw:logins.csv account_raw:account_events.csv promo_raw:promo_redemptions.csv; do
    file=$ws/data/${table#*:}
    cols=$(head -n 1 "$file" | tr -d '\r' | awk -F, '{for (i = 1; i <= NF; i++) printf "%s\"%s\" text", (i > 1 ? ", " : ""), $i}')
    { echo "DROP TABLE IF EXISTS ${table%%:*}; CREATE UNLOGGED TABLE ${table%%:*} ($cols);"
      echo "\\copy ${table%%:*} FROM '$file' WITH (FORMAT csv, HEADER true)"; } >>"$ws/pg_raw.sql"
  done
  psql_run -f "$ws/pg_raw.sql" || die "PostgreSQL: loading the CSVs failed"
  checks=$(psql_run -At -f "$HERE/postgres_load.sql") || die "PostgreSQL: building ev failed"
  psql_run -c 'DROP TABLE logins_raw, account_raw, promo_raw'
  t1=$(date +%s.%N)
  [[ "$(tail -n 1 <<<"$checks")" == "0|0" ]] ||
    die "PostgreSQL load of $ws/data: bad_times|null_keys = $(tail -n 1 <<<"$checks") (expected 0|0)"
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f\n", b - a}'
}

# One PostgreSQL query run; appends "wall cpu" to $ws/pg_runs.txt (cpu "-" when unknown).
pg_query() {
  local ws=$1 t0 t1 c0 c1
  psql_run -c 'DROP TABLE IF EXISTS feat'
  psql_run -c 'CHECKPOINT' >/dev/null 2>&1 || true  # superuser only; flushes the load's dirty pages first
  { echo "SET work_mem = '$PG_WORK_MEM';"; echo 'CREATE UNLOGGED TABLE feat AS'; cat "$HERE/features.sql"; echo ';'; } \
    >"$ws/pg_query.sql"
  c0=$(pg_cpu_seconds)
  t0=$(date +%s.%N)
  psql_run -f "$ws/pg_query.sql" || die "PostgreSQL query failed"
  t1=$(date +%s.%N)
  sleep 1  # let the postmaster reap the backend, so its CPU time is counted
  c1=$(pg_cpu_seconds)
  awk -v a="$t0" -v b="$t1" -v c0="$c0" -v c1="$c1" \
    'BEGIN {printf "%.2f %s\n", b - a, (c0 == "" ? "-" : sprintf("%.2f", c1 - c0))}' >>"$ws/pg_runs.txt"
}

pg_export() {  # the PostgreSQL result as CSV, for compare.py
  psql_run -c "\\copy (SELECT * FROM feat ORDER BY event_id) TO '$2' WITH (FORMAT csv, HEADER true)"
}

compare() {  # $1 ws, $2 gyre csv, then --sqlite DB or --csv FILE, --name NAME
  local ws=$1 out=$2
  shift 2
  python3 "$HERE/compare.py" --gyre "$out" --logins "$ws/data/logins.csv" "$@"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (wall numbers suffer on a busy machine; the cpu column less so)"
echo "engines: $("$GYRE_BIN" --version 2>/dev/null | head -n 1), SQLite $(sqlite3 --version | cut -d' ' -f1)$(
  [[ -n "$PG_URL" ]] && echo ", PostgreSQL $(psql_run -At -c 'SHOW server_version' | cut -d' ' -f1)")"

# ---- 1. Correctness: every cell, on a small data set.
CHECK_LINES=()
if [[ "$CHECK_EVENTS" -gt 0 ]]; then
  ws=$WORK/check
  make_workspace "$ws" "$CHECK_EVENTS"
  echo "correctness run: $(rows_of "$ws" logins.csv) logins ($(cat "$ws/users.txt") users x $DAYS days)"
  run_gyre "$ws" "$ws/gyre.csv"
  sqlite_load "$ws" >/dev/null
  sqlite_query "$ws"
  if ! compare "$ws" "$ws/gyre.csv" --sqlite "$ws/bench.db" --name SQLite | tee "$ws/compare_sqlite.txt"; then
    die "FAILED: gyre and SQLite disagree (above); no timing is worth anything until they agree"
  fi
  CHECK_LINES+=("$(head -n 1 "$ws/compare_sqlite.txt")")
  if [[ -n "$PG_URL" ]]; then
    pg_load "$ws" >/dev/null
    pg_query "$ws"
    pg_export "$ws" "$ws/postgres.csv"
    if ! compare "$ws" "$ws/gyre.csv" --csv "$ws/postgres.csv" --name PostgreSQL | tee "$ws/compare_pg.txt"; then
      die "FAILED: gyre and PostgreSQL disagree (above)"
    fi
    CHECK_LINES+=("$(head -n 1 "$ws/compare_pg.txt")")
  fi
  rm -rf "$ws"
fi

# ---- 2. The timed run.
ws=$WORK/bench
make_workspace "$ws" "$EVENTS"
logins=$(rows_of "$ws" logins.csv)
others=$(( $(rows_of "$ws" account_events.csv) + $(rows_of "$ws" promo_redemptions.csv) ))
csv_mb=$(cat "$ws/data/logins.csv" "$ws/data/account_events.csv" "$ws/data/promo_redemptions.csv" | wc -c |
         awk '{printf "%.0f", $1 / 1e6}')
echo "timed run: $logins logins + $others account and promo events ($csv_mb MB of CSV), $(cat "$ws/users.txt") users x $DAYS days, seed $SEED"

for run in $(seq "$REPEAT"); do
  run_gyre "$ws" "$ws/gyre.csv"
  echo "  gyre run $run: $(tail -n 1 "$ws/gyre_runs.txt" | awk '{printf "%.2f s wall, %.2f s cpu, %.0f MB peak RSS", $1, $2, $3 / 1024}')"
done
echo "  gyre's own report (last run): $(tr '\n' ' ' <"$ws/gyre_report.txt")"
out_mb=$(wc -c <"$ws/gyre.csv" | awk '{printf "%.0f", $1 / 1e6}')

sqlite_load_s=$(sqlite_load "$ws")
echo "  SQLite load (not timed): $sqlite_load_s s"
for run in $(seq "$SQLITE_REPEAT"); do
  sqlite_query "$ws"
  echo "  SQLite run $run: $(tail -n 1 "$ws/sqlite_runs.txt" | awk '{printf "%.2f s wall, %.2f s cpu, %.0f MB peak RSS", $1, $2, $3 / 1024}')"
done

pg_load_s=""
if [[ -n "$PG_URL" ]]; then
  pg_load_s=$(pg_load "$ws")
  echo "  PostgreSQL load (not timed): $pg_load_s s"
  for run in $(seq "$POSTGRES_REPEAT"); do
    pg_query "$ws"
    echo "  PostgreSQL run $run: $(tail -n 1 "$ws/pg_runs.txt" | awk '{printf "%.2f s wall, %s s server cpu", $1, $2}')"
  done
fi

if [[ "$CHECK_FULL" == 1 ]]; then
  compare "$ws" "$ws/gyre.csv" --sqlite "$ws/bench.db" --name SQLite ||
    die "FAILED: gyre and SQLite disagree on the timed run (above)"
  if [[ -n "$PG_URL" ]]; then
    pg_export "$ws" "$ws/postgres.csv"
    compare "$ws" "$ws/gyre.csv" --csv "$ws/postgres.csv" --name PostgreSQL ||
      die "FAILED: gyre and PostgreSQL disagree on the timed run (above)"
    rm -f "$ws/postgres.csv"
  fi
fi

# ---- 3. Summary.
col() { awk -v c="$1" '{print $c}' "$2" | median; }
g_wall=$(col 1 "$ws/gyre_runs.txt") g_cpu=$(col 2 "$ws/gyre_runs.txt") g_rss=$(col 3 "$ws/gyre_runs.txt")
s_wall=$(col 1 "$ws/sqlite_runs.txt") s_cpu=$(col 2 "$ws/sqlite_runs.txt") s_rss=$(col 3 "$ws/sqlite_runs.txt")
p_wall="" p_cpu=""
if [[ -n "$PG_URL" ]]; then
  p_wall=$(col 1 "$ws/pg_runs.txt")
  p_cpu=$(awk '$2 != "-" {print $2}' "$ws/pg_runs.txt" | median)
fi
echo
echo "feature backfill, 25 features (bench/features/bench_features.yaml, set bench_login) for each of $logins logins"
echo "(windows over the logins and $others account and promo events); medians; logins/s = output rows per wall second"
awk -v e="$logins" -v gw="$g_wall" -v gc="$g_cpu" -v gr="$g_rss" -v sw="$s_wall" -v sc="$s_cpu" -v sr="$s_rss" \
    -v pw="$p_wall" -v pc="$p_cpu" -v sl="$sqlite_load_s" -v pl="$pg_load_s" -v n="$REPEAT" -v sn="$SQLITE_REPEAT" \
    -v pn="$POSTGRES_REPEAT" -v gruns="$(awk '{printf "%s ", $1}' "$ws/gyre_runs.txt")" -v omb="$out_mb" 'BEGIN {
  printf "  %-38s %9s %9s %12s %10s\n", "", "wall s", "cpu s", "logins/s", "peak RSS"
  printf "  %-38s %9.2f %9.2f %10.2f M %7.0f MB   %d runs: %s(writes %s MB of CSV)\n", "gyre features backfill", gw, gc, e / gw / 1e6, gr / 1024, n, gruns, omb
  printf "  %-38s %9.2f %9.2f %10.2f M %7.0f MB   %d run(s), query only (load %s s not timed)\n", "SQLite window functions", sw, sc, e / sw / 1e6, sr / 1024, sn, sl
  if (pw != "") printf "  %-38s %9.2f %9s %10.2f M %10s   %d run(s), query only (load %s s not timed)\n", "PostgreSQL window functions", pw, (pc == "" ? "n/a" : sprintf("%.2f", pc)), e / pw / 1e6, "n/a", pn, pl
  printf "  SQLite / gyre: %.1fx wall, %.1fx cpu (goal: >= 20x wall: %s)\n", sw / gw, sc / gc, (sw / gw >= 20 ? "met" : "NOT met")
  if (pw != "") {
    if (pc != "") printf "  PostgreSQL / gyre: %.1fx wall, %.1fx cpu\n", pw / gw, pc / gc
    else printf "  PostgreSQL / gyre: %.1fx wall\n", pw / gw
  }
}'
for line in "${CHECK_LINES[@]}"; do echo "  correctness ($CHECK_EVENTS-event run): $line"; done
[[ "$CHECK_EVENTS" -gt 0 ]] || echo "  correctness: not checked (CHECK_EVENTS=0)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
