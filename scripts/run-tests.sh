#!/usr/bin/env bash
# make test: starts the real servers the tests need (scripts/test-services.sh), runs every test of the
# sanitizer build with CTest, and stops the servers whatever happened. Runs in one checkout take turns.
# Without arguments it then runs every fuzz target of the fuzz build (make build-fuzz) over its committed
# corpus and for GYRE_FUZZ_SECONDS (default 10) each: bench/fuzz_all.sh. With CTest arguments (-R ...) only
# CTest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# One run at a time per checkout: a second start would stop the first run's servers (they share
# build/test-services.state), failing its database tests with "connection refused".
mkdir -p build
exec 9>build/make-test.lock
if ! flock -n 9; then
  echo "run-tests: another 'make test' is running in this checkout; waiting for it to finish" >&2
  flock 9
fi
trap 'bash scripts/test-services.sh stop 9>&-' EXIT
bash scripts/test-services.sh start 9>&-  # the servers must not inherit (and keep) the lock
set -a
# shellcheck disable=SC1091
source build/test-services.env
set +a
ctest --preset test "$@"
if [ $# -eq 0 ]; then
  bash bench/fuzz_all.sh "${GYRE_FUZZ_SECONDS:-10}" 9>&-
fi
