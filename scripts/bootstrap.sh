#!/usr/bin/env bash
# Installs every Debian package that gyre's build, tests and benchmarks need.
# Idempotent: asks apt-get only for what is missing, so a second run costs a dpkg query.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git
  clang-14 libclang-rt-14-dev  # the fuzz build: libFuzzer, ASan and UBSan runtimes (make build-fuzz)
  # libraries
  libboost-dev            # Boost.Asio / Beast: the HTTP server
  nlohmann-json3-dev      # JSON
  libyaml-cpp-dev         # workspace configuration
  libcli11-dev            # command line
  libfmt-dev libspdlog-dev
  libxxhash-dev           # hashing (dictionary encoding, fingerprints)
  libsqlite3-dev libpq-dev
  librocksdb-dev          # online feature state (embedded default)
  libjemalloc-dev         # the gyre binary's allocator (release builds)
  libhiredis-dev          # online feature state on Redis
  libxgboost-dev          # training (issue 5) and the reference the tree evaluator is tested against
  libssl-dev              # SHA-256 of imported models (libcrypto); the server's HTTPS (libssl)
  libsodium-dev           # users and API tokens: Argon2id hashes, random tokens, BLAKE2b cache keys
  python3-xgboost python3-numpy  # tests: models trained by Python's xgboost, imported by gyre
  libeigen3-dev           # logistic regression training (Newton steps on the normal equations)
  libgtest-dev libgmock-dev libbenchmark-dev
  # real servers the tests run against (started on loopback by scripts/test-services.sh)
  postgresql redis-server
  # test tools: promtool (`promtool check metrics`) lints GET /metrics; HTTPS clients (tests/http/tls_test.cc)
  prometheus
  curl openssl python3-requests
  # benchmark peers
  wrk nginx-light
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
