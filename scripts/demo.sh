#!/usr/bin/env bash
# THE demo: installs what is missing, builds the C example, starts a local feed
# (examples/feed/feed.py) and reads its events with the C example over poll, long-poll and SSE at
# once, printing every event as it arrives, then how many events each transport delivered.
#
#   ./scripts/demo.sh [EVENTS]     (default 20 events, one every 100 ms)
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$TW_ROOT"

EVENTS=${1:-20}
INTERVAL_MS=100
POLL_INTERVAL_MS=50
BUILD=build
EXAMPLE=$BUILD/examples/c/tw_example_c_stream
TIMEOUT_S=20 # after the feed's first event, at the latest, every consumer is stopped

[[ $EVENTS =~ ^[1-9][0-9]*$ ]] || {
  echo "usage: $0 [EVENTS]" >&2
  exit 2
}

./scripts/install-deps.sh
t0=$(tw_now_ms)
# Reuse build/ as it is configured (scripts/test.sh configures it too); create it if needed.
if [[ -f $BUILD/CMakeCache.txt ]]; then
  tw_configure "$BUILD" -DTIDEWIRE_BUILD_EXAMPLES=ON
else
  tw_configure "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDEWIRE_BUILD_EXAMPLES=ON
fi
tw_build "$BUILD" tw_example_c_stream
echo "demo: built $EXAMPLE in $(tw_seconds $(($(tw_now_ms) - t0)))"

tmp=$(mktemp -d)
declare -A pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -z ${feed_in:-} ]] || exec {feed_in}>&- # EOF on the feed's stdin: it exits
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The feed exits when its stdin closes: keep the write end of a pipe open on fd $feed_in.
exec {feed_in}> >(exec python3 examples/feed/feed.py --count "$EVENTS" --interval-ms "$INTERVAL_MS" \
  >"$tmp/feed.out" 2>"$tmp/feed.err")
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$tmp/feed.out")
  [[ -z $port ]] || break
  sleep 0.1
done
if [[ -z $port ]]; then
  cat "$tmp/feed.err" >&2
  echo "demo: the feed did not start" >&2
  exit 1
fi
base=http://127.0.0.1:$port
echo "demo: feed on $base publishes $EVENTS events, one every $INTERVAL_MS ms"
echo

# consume TRANSPORT URL [KEY=VALUE...]: runs the C example in the background, printing its lines
# prefixed with the transport's name (and keeping them).
consume() {
  local name=$1
  "$EXAMPLE" "$@" --max "$EVENTS" \
    > >(tee "$tmp/$name.out" | sed -u "s/^/$(printf '%-9s' "$name")/") 2>"$tmp/$name.err" &
  pids[$name]=$!
}
start_ms=$(tw_now_ms)
consume poll "$base/poll" "poll.interval_ms=$POLL_INTERVAL_MS"
consume longpoll "$base/longpoll" longpoll.cursor_header=X-Cursor longpoll.cursor_param=cursor
consume sse "$base/sse"

# Long-poll and SSE stop by themselves after EVENTS messages. A poller sees the latest state only,
# so it may never count EVENTS changes: it is stopped a second after the feed's last event.
declare -A status=() stopped=()
deadline=$((start_ms + (TIMEOUT_S * 1000) + 500))
done_ms=""
while ((${#pids[@]} > 0)); do
  now=$(tw_now_ms)
  [[ -n $done_ms ]] || ! grep -qx DONE "$tmp/feed.out" || done_ms=$now
  for name in "${!pids[@]}"; do
    pid=${pids[$name]}
    if ! kill -0 "$pid" 2>/dev/null; then
      status[$name]=0
      wait "$pid" || status[$name]=$?
      unset "pids[$name]"
    elif { [[ $name == poll && -n $done_ms ]] && ((now - done_ms > 1000)); } || ((now > deadline)); then
      kill "$pid" 2>/dev/null || true
      stopped[$name]=1
    fi
  done
  sleep 0.05
done
end_ms=$(tw_now_ms)
sleep 0.1 # let the printing filters flush

echo
echo "summary: $EVENTS events published by the feed, $(tw_seconds $((end_ms - start_ms))) from start to the last consumer's end"
failed=0
for name in poll longpoll sse; do
  got=$(grep -c '^message ' "$tmp/$name.out" || true)
  note=""
  if [[ -n ${stopped[$name]:-} ]]; then
    note="stopped by the demo"
    [[ $name == poll ]] && note+=" (a poller sees the latest state: an event replaced between two polls is not seen)"
  elif ((status[$name] != 0)); then
    note="FAILED (exit ${status[$name]}): $(tail -n 1 "$tmp/$name.err")"
  fi
  printf '  %-9s %3d events%s\n' "$name" "$got" "${note:+  $note}"
  if [[ $name == poll ]]; then
    ((got > 0)) || failed=1
  else
    ((got == EVENTS)) || failed=1
  fi
  [[ ${status[$name]:-0} == 0 || -n ${stopped[$name]:-} ]] || failed=1
done
if ((failed)); then
  echo "demo: FAILED" >&2
  exit 1
fi
