#!/usr/bin/env bash
# Checks gyre against the real, unmodified MLflow Python client (by hand; CI cannot fetch MLflow).
# Needs Debian's python3 with python3-requests python3-protobuf python3-click python3-cloudpickle python3-git
# python3-packaging python3-sqlparse python3-cachetools python3-importlib-metadata python3-entrypoints
# python3-tz python3-yaml, and MLFLOW_SRC pointing at a folder holding the `mlflow/` package of MLflow 2.12.x
# (MLflow's git repository at tag v2.12.2, its mlflow/ folder without mlflow/server/js; releases 2.13+ need
# opentelemetry, which Debian lacks), and for the model scenarios python3-xgboost python3-numpy python3-pandas.
# From a clone of MLflow (or a fork carrying its tags), file by file, as a partial clone may lack some blobs:
#   git ls-tree -r v2.12.2 -- mlflow | grep -v mlflow/server/js/ | awk '$2=="blob"{print $3" "$4}' |
#     while read sha path; do mkdir -p "/tmp/mlflow-client/$(dirname "$path")";
#       git cat-file blob "$sha" >"/tmp/mlflow-client/$path"; done
# Usage:
#   MLFLOW_SRC=/tmp/mlflow-client bash tests/compat/run_mlflow_client_check.sh
# GYRE_CHECK_SKIP_DEMO=1 skips the scenarios that need `gyre demo` (about 20 s); GYRE_CHECK_KEEP=1 keeps the
# temporary folder (workspaces, server logs). Prints PASS/FAIL per scenario; exits 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${MLFLOW_SRC:?set MLFLOW_SRC to a folder containing the mlflow/ package of MLflow 2.12}"
GYRE_BIN=${GYRE_BIN:-$PWD/build/release/gyre}
WS=$(mktemp -d /tmp/gyre-mlflow-check.XXXXXX)
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; if [ "${GYRE_CHECK_KEEP:-0}" = 1 ]; then echo "kept $WS"; else rm -rf "$WS"; fi' EXIT
"$GYRE_BIN" server --workspace "$WS/ws" --port 0 >"$WS/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WS/server.log" && break; sleep 0.1; done
URL=$(grep -o 'http://[0-9.:]*' "$WS/server.log" | head -1)
cd "$WS"
MLFLOW_TRACKING_URI=$URL GYRE_BIN=$GYRE_BIN GYRE_CHECK_DIR=$WS PYTHONPATH=$MLFLOW_SRC /usr/bin/python3 "$OLDPWD/tests/compat/mlflow_client_check.py"
