#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60) against its corpus
# in tests/fuzz/corpus/<target>/. New inputs are written to build-fuzz/corpus/<target>/ (the kept
# corpus is read, never changed); a crash leaves its reproducer in build-fuzz/ and fails the run.
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

for target in "${targets[@]}"; do
  kept=tests/fuzz/corpus/$target
  fresh=build-fuzz/corpus/$target
  mkdir -p "$kept" "$fresh"
  log=build-fuzz/fuzz_$target.log
  if ! (cd build-fuzz && "./tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "../$fresh" "../$kept" >"../$log" 2>&1); then
    echo "fuzz $target: FAILED (see $log)" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
  echo "fuzz $target: ${seconds}s, $runs runs, $cov, no finding"
done
