#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60) against its corpus
# in tests/fuzz/corpus/<target>/. New inputs are written to build-fuzz/corpus/<target>/ (the kept
# corpus is read, never changed); a crash leaves its reproducer in build-fuzz/ and fails the run. A
# harness fault (exit 3: the target's own setup failed, no input to blame) also fails, labelled so.
#   ./scripts/fuzz.sh            every target, 60 s each
#   ./scripts/fuzz.sh 10         every target, 10 s each (CI)
#   ./scripts/fuzz.sh 300 sse_parser
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true

clang=$(command -v clang-14 || command -v clang || true)
clangxx=$(command -v clang++-14 || command -v clang++ || true)
if [[ -z "$clang" || -z "$clangxx" ]]; then
  echo "fuzz: clang is missing; run scripts/install-deps.sh" >&2
  exit 1
fi

CC=$clang CXX=$clangxx cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTIDEWIRE_FUZZ=ON \
  -DTIDEWIRE_BUILD_TESTS=OFF -DTIDEWIRE_BUILD_EXAMPLES=OFF -DTIDEWIRE_WERROR=ON >/dev/null
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(sed -n 's/^set(TIDEWIRE_FUZZ_TARGETS \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt | tr ' ' '\n')
fi
if ! ninja -C build-fuzz -j2 "${targets[@]/#/fuzz_}" >build-fuzz/build.log 2>&1; then
  grep -E "error|FAILED" -A5 build-fuzz/build.log | head -n 40 >&2
  exit 1
fi

# A target exits with this status (skipping libFuzzer's crash handling) when its harness, not the
# code under test, failed persistently; a finding is libFuzzer's own non-zero status.
HARNESS_FAULT=3
for target in "${targets[@]}"; do
  kept=tests/fuzz/corpus/$target
  fresh=build-fuzz/corpus/$target
  mkdir -p "$kept" "$fresh"
  log=build-fuzz/fuzz_$target.log
  status=0
  (cd build-fuzz && "./tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "../$fresh" "../$kept" >"../$log" 2>&1) || status=$?
  if ((status == HARNESS_FAULT)); then
    # The target could not exercise the code (e.g. its own socket failed again and again): no input
    # is to blame and none is saved, but nothing was fuzzed either.
    echo "fuzz $target: HARNESS FAULT, not a finding (exit $status; see $log)" >&2
    grep -E 'harness' "$log" | tail -n 5 >&2
    exit 1
  elif ((status != 0)); then
    echo "fuzz $target: FAILED, a finding (exit $status; reproducer in build-fuzz/, see $log)" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
  # Transient harness failures (a connect retried) are counted, so a trend shows before it fails.
  retried=$(grep -c 'harness: ' "$log" || true)
  note=""
  ((retried == 0)) || note=", $retried harness retries"
  echo "fuzz $target: ${seconds}s, $runs runs, $cov, no finding$note"
done
