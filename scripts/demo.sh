#!/usr/bin/env bash
# THE demo: installs what is missing, builds the Python package and installs it into the virtual
# environment build-python/venv (tw_python_package in common.sh; the first build compiles the core,
# about a minute), then runs examples/demo/demo.py: a local feed (examples/feed/feed.py) publishes
# one event sequence over poll, long-poll, SSE and WebSocket, and POSTs it as Standard
# Webhooks-signed deliveries; Tidewire consumes all five at once and prints, per transport, the
# events received, the latency publish -> application, the requests, 304s, bytes and reconnects.
#
#   ./scripts/demo.sh [--events N] [--interval-ms MS] [--poll-interval-ms MS] [--quiet-s S]
#                     (defaults: 40 events, one every 150 ms, a poll every 500 ms, 2 s quiet)
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$TW_ROOT"

./scripts/install-deps.sh
t0=$(tw_now_ms)
echo "demo: building the Python package into build-python/venv"
tw_python_package
echo "demo: built in $(tw_seconds $(($(tw_now_ms) - t0)))"
echo
exec "$TW_PYTHON" examples/demo/demo.py "$@"
