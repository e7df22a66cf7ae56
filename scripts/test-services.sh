#!/usr/bin/env bash
# Starts (or stops) the real servers that gyre's tests run against, on loopback only:
#   PostgreSQL (a private throw-away cluster).
# `start` writes the variables the tests read to $GYRE_SERVICES_ENV (default build/test-services.env):
#   GYRE_TEST_POSTGRES_URL=postgresql://...
# `stop` stops what `start` started and deletes its data. Used by scripts/run-tests.sh (make test).
set -euo pipefail
cd "$(dirname "$0")/.."
ENV_FILE=${GYRE_SERVICES_ENV:-$PWD/build/test-services.env}
STATE_FILE=${ENV_FILE%.env}.state

free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "no free port near $1" >&2
  return 1
}

as_pg() {  # PostgreSQL refuses to run as root: run its tools as the postgres user then.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  mkdir -p "$(dirname "$ENV_FILE")"
  stop quiet
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$pgbin/initdb" ] || { echo "test-services: PostgreSQL server not installed (run scripts/bootstrap.sh)" >&2; exit 1; }
  local pgdir port
  pgdir=$(mktemp -d /tmp/gyre-test-pg.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres: "$pgdir"
  port=$(free_port 55432)
  as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$pgdir/initdb.log" 2>&1 ||
    { cat "$pgdir/initdb.log" >&2; exit 1; }
  as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 start \
    -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$pgdir/server.log" >&2; exit 1; }
  as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres gyre_test
  echo "PG_BIN=$pgbin PG_DIR=$pgdir" >"$STATE_FILE"
  echo "GYRE_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/gyre_test" >"$ENV_FILE"
  echo "test-services: PostgreSQL on 127.0.0.1:$port"
}

stop() {
  [ -f "$STATE_FILE" ] || return 0
  local PG_BIN PG_DIR
  eval "$(cat "$STATE_FILE")"
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
  rm -f "$STATE_FILE" "$ENV_FILE"
  [ "${1:-}" = quiet ] || echo "test-services: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
