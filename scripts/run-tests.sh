#!/usr/bin/env bash
# make test: starts the real servers the tests need (scripts/test-services.sh), runs every test of the
# sanitizer build with CTest, and stops the servers whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'bash scripts/test-services.sh stop' EXIT
bash scripts/test-services.sh start
set -a
# shellcheck disable=SC1091
source build/test-services.env
set +a
ctest --preset test "$@"
