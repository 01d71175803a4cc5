#!/usr/bin/env bash
# THE benchmark command: Tidewire against the libraries people would use instead, side by side in
# one run on this machine. Installs what is missing, builds, runs, and writes results.json and
# results.md (the Markdown tables bench/README.md links to).
#
#   ./scripts/bench.sh            full run (about 10 minutes): 5 runs per figure, into bench/results/
#   ./scripts/bench.sh --smoke    every benchmark once and briefly (under 3 minutes), into
#                                 build-bench/smoke/: checks that they build and run; no thresholds
#   ./scripts/bench.sh --only latency,webhook
#                                 some groups of the full run (ws-64 ws-1024 ws-16384 sse-64 latency
#                                 poll-304 webhook idle), into build-bench/only/
#
# What it installs when missing: wrk (Debian), the Node peers of bench/node/package.json (into
# bench/node/node_modules), and uvloop, httpx, httpx-sse into the Python package's virtual
# environment (build-python/venv, which scripts/common.sh's tw_python_package builds).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$TW_ROOT"

MODE=full
OUT=bench/results
ONLY=""
case ${1:-} in
  "") ;;
  --smoke)
    MODE=smoke
    OUT=build-bench/smoke
    ;;
  --only)
    ONLY=${2:?--only needs groups, e.g. latency,webhook}
    OUT=build-bench/only
    ;;
  *)
    echo "usage: $0 [--smoke | --only GROUP,...]" >&2
    exit 2
    ;;
esac
BUILD=build-bench
PY_PACKAGES=(uvloop httpx httpx-sse)

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# --- what the peers need --------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing wrk"
  tw_quiet "$BUILD/apt.log" as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk ||
    { tw_quiet "$BUILD/apt.log" as_root apt-get update -q &&
      tw_quiet "$BUILD/apt.log" as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk; }
fi
if [[ ! -d bench/node/node_modules || bench/node/package-lock.json -nt bench/node/node_modules ]]; then
  echo "bench: installing the Node peers (npm ci)"
  tw_quiet "$BUILD/npm.log" npm ci --prefix bench/node --no-audit --no-fund
fi

# --- builds ---------------------------------------------------------------------------------------
echo "bench: building the core and the bench programs ($BUILD/)"
tw_configure "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDEWIRE_WERROR=ON -DTIDEWIRE_SANITIZE=OFF \
  -DTIDEWIRE_BUILD_TESTS=OFF -DTIDEWIRE_BUILD_EXAMPLES=OFF -DTIDEWIRE_BUILD_BENCH=ON
tw_build "$BUILD"
echo "bench: building the Python package (build-python/venv)"
tw_python_package
if ! "$TW_PYTHON" -c 'import uvloop, httpx, httpx_sse' >/dev/null 2>&1; then
  echo "bench: installing ${PY_PACKAGES[*]} into build-python/venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 tw_quiet "$BUILD/pip.log" "$TW_PYTHON" -m pip install -q "${PY_PACKAGES[@]}"
fi
# The tidewire Node rows load bindings/node: `npm ci` there builds its addon from this tree's core
# (the node phase of the test command does the same).
echo "bench: building the Node package (bindings/node)"
CMAKE_BUILD_PARALLEL_LEVEL=$TW_JOBS tw_quiet "$BUILD/node-package.log" \
  npm --prefix bindings/node ci --no-audit --no-fund --prefer-offline
echo "bench: building the Java clients ($BUILD/java/)"
bench/java/build.sh "$BUILD/java"

# --- run ------------------------------------------------------------------------------------------
# 10,000 idle clients need as many descriptors (Tidewire: two per stream, the socket and the queue's
# eventfd); root may raise the hard limit too.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
echo "bench: $MODE run, load $(cut -d' ' -f1-3 /proc/loadavg)"
args=(--build "$BUILD" --python "$TW_PYTHON" --node-dir bench/node --out "$OUT"
  --command "./scripts/bench.sh${1:+ $1}${ONLY:+ $ONLY}" --only "$ONLY")
[[ $MODE == full ]] || args+=(--smoke)
python3 bench/run.py "${args[@]}"
