#!/usr/bin/env bash
# Starts (or stops) the real servers that gyre's tests run against, on loopback only, each on a free port
# with its data in a mktemp folder under /tmp:
#   PostgreSQL (a private throw-away cluster; run as the postgres user when this script runs as root),
#   Redis (a private redis-server without persistence; the system's redis service is not touched).
# `start` writes the variables the tests read to $GYRE_SERVICES_ENV (default build/test-services.env):
#   GYRE_TEST_POSTGRES_URL=postgresql://...
#   GYRE_TEST_REDIS_URL=redis://127.0.0.1:PORT
# and what it started to the .state file beside it, as it goes, so `stop` also cleans up after a start
# that failed half-way. `stop` stops what `start` started and deletes its data. Used by
# scripts/run-tests.sh (make test).
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
  echo "PG_BIN=$pgbin PG_DIR=$pgdir" >>"$STATE_FILE"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$pgdir"
  port=$(free_port 55432)
  as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$pgdir/initdb.log" 2>&1 ||
    { cat "$pgdir/initdb.log" >&2; exit 1; }
  as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 start \
    -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$pgdir/server.log" >&2; exit 1; }
  as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres gyre_test
  echo "GYRE_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/gyre_test" >"$ENV_FILE"
  echo "test-services: PostgreSQL on 127.0.0.1:$port"

  command -v redis-server >/dev/null ||
    { echo "test-services: redis-server not installed (run scripts/bootstrap.sh)" >&2; exit 1; }
  local redisdir redisport
  redisdir=$(mktemp -d /tmp/gyre-test-redis.XXXXXX)
  echo "REDIS_DIR=$redisdir" >>"$STATE_FILE"
  redisport=$(free_port 56379)
  redis-server --bind 127.0.0.1 --port "$redisport" --save '' --appendonly no --daemonize yes \
    --pidfile "$redisdir/redis.pid" --logfile "$redisdir/server.log" --dir "$redisdir" ||
    { cat "$redisdir/server.log" >&2; exit 1; }
  redis_ping "$redisport" || { echo "test-services: Redis did not answer on 127.0.0.1:$redisport" >&2;
                               cat "$redisdir/server.log" >&2; exit 1; }
  echo "GYRE_TEST_REDIS_URL=redis://127.0.0.1:$redisport" >>"$ENV_FILE"
  echo "test-services: Redis on 127.0.0.1:$redisport"
}

redis_ping() {  # waits up to 10 s for +PONG, over bash's /dev/tcp (no redis-cli needed)
  local i reply
  for i in $(seq 100); do
    if { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
      printf 'PING\r\n' >&3
      reply=""
      read -r -t 2 reply <&3 || true
      exec 3<&- 3>&-
      [ "${reply%$'\r'}" = "+PONG" ] && return 0
    fi
    sleep 0.1
  done
  return 1
}

stop_redis() {  # $1: the folder holding redis.pid
  local pid i
  [ -f "$1/redis.pid" ] || return 0
  pid=$(cat "$1/redis.pid")
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  [ -f "$STATE_FILE" ] || return 0
  local PG_BIN PG_DIR REDIS_DIR
  eval "$(cat "$STATE_FILE")"
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
  if [ -n "${REDIS_DIR:-}" ] && [ -d "$REDIS_DIR" ]; then
    stop_redis "$REDIS_DIR"
    rm -rf "$REDIS_DIR"
  fi
  rm -f "$STATE_FILE" "$ENV_FILE"
  [ "${1:-}" = quiet ] || echo "test-services: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
