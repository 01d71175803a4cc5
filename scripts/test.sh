#!/usr/bin/env bash
# THE test command: installs what is missing, then runs every test suite of Tidewire, phase by
# phase, and stops at the first failure. Ends with the time each phase took.
#
#   ./scripts/test.sh                 every phase, in order
#   ./scripts/test.sh build ctest     only the phases named, in that order
#   ./scripts/test.sh --list          the phases
#
# Phases:
#   deps        scripts/install-deps.sh
#   build       build/       RelWithDebInfo, -Werror
#   ctest       ctest in build/ (unit, integration, ABI and docs tests)
#   asan-build  build-asan/  Debug, -Werror, AddressSanitizer + UndefinedBehaviorSanitizer
#   asan-ctest  ctest in build-asan/ (leaks and UB abort the test)
#   tsan-build  build-tsan/  RelWithDebInfo, -Werror, ThreadSanitizer (the core and its C/C++ suites)
#   tsan-ctest  ctest in build-tsan/, unit, integration and hostile labels (a race or a lock-order
#               inversion aborts the test; tests/tsan.supp silences only reports wholly inside
#               uninstrumented system libraries)
#   install     scripts/check-install.sh: install build/ into a temporary prefix and build a
#               consumer against it with pkg-config and with find_package(Tidewire)
#   fuzz        scripts/fuzz.sh 10: every libFuzzer target for 10 s (clang, build-fuzz/)
#   python      pip install . into build-python/venv (tw_python_package), then pytest tests/python
#   conformance LaunchDarkly's sse-contract-tests (../shared/peers/sse-contract-tests) against
#               tests/conformance/sse_service.py, a test service over tidewire.Stream;
#               TW_CONFORMANCE_RUN=REGEX runs only the tests it matches (the harness's --run)
#   mcp-conformance  the MCP conformance suite's client scenarios initialize, tools_call and
#               sse-retry (@modelcontextprotocol/conformance, pinned in tests/conformance/mcp) against
#               tests/conformance/mcp_client.py, a client over tidewire.Stream(url, transport="mcp")
#   node        npm ci in bindings/node (cmake-js builds the addon), then node --test there
#   java        mvn package in bindings/java: the JNI library into build-java/, the JUnit suite,
#               the jar (bindings/java/target/tidewire-<version>.jar)
#   package     scripts/package.sh (dist/: the wheel repaired by auditwheel, the sdist, the npm
#               tarball, the jar installed as io.tidewire:tidewire), then scripts/check-package.sh:
#               the wheel installed into a fresh venv of another Python build (Debian's
#               /usr/bin/python3) and a Maven consumer of the jar stream from the demo feed over
#               TLS; sdist and tarball contents
#   bench       scripts/bench.sh --smoke: every benchmark once, briefly (build-bench/smoke/); checks
#               that they build and run, asserts no figure
#
# A new suite (pytest, Maven, node --test) is a function phase_<name> below plus its name in PHASES.
# TW_JOBS (default 2) sets the parallelism of builds and ctest.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$TW_ROOT"

BUILD=build
ASAN_BUILD=build-asan
TSAN_BUILD=build-tsan
PHASES=(deps build ctest asan-build asan-ctest tsan-build tsan-ctest install python conformance mcp-conformance node java fuzz bench package)
CTEST_ARGS=(-j "$TW_JOBS" --output-on-failure --timeout 180)

phase_deps() { ./scripts/install-deps.sh; }

phase_build() {
  tw_configure "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDEWIRE_WERROR=ON -DTIDEWIRE_SANITIZE=OFF \
    -DTIDEWIRE_BUILD_TESTS=ON -DTIDEWIRE_BUILD_EXAMPLES=ON
  tw_build "$BUILD"
}

phase_ctest() { run_ctest "$BUILD"; }

phase_asan_build() {
  tw_configure "$ASAN_BUILD" -DCMAKE_BUILD_TYPE=Debug -DTIDEWIRE_WERROR=ON -DTIDEWIRE_SANITIZE=ON \
    -DTIDEWIRE_BUILD_TESTS=ON -DTIDEWIRE_BUILD_EXAMPLES=OFF
  with_sanitizer_options tw_build "$ASAN_BUILD"
}

phase_asan_ctest() { with_sanitizer_options run_ctest "$ASAN_BUILD"; }

# Optimised (-O2): TSan already slows the tests several times over. Examples are covered by ctest
# and ASan; the ABI and docs checks do not run threads. TSan's runtime (LLVM 14 in GCC 12) cannot
# map its shadow memory under more than 28 bits of mmap randomisation (some Linux 6.x hosts): there
# every test binary, also the listing that gtest_discover_tests runs at build time, is started
# through setarch -R (randomisation off for it) as CMake's test launcher.
phase_tsan_build() {
  local launcher=""
  if (($(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0) > 28)); then launcher="setarch;$(uname -m);-R"; fi
  tw_configure "$TSAN_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDEWIRE_WERROR=ON -DTIDEWIRE_SANITIZE=OFF \
    -DTIDEWIRE_TSAN=ON -DTIDEWIRE_BUILD_TESTS=ON -DTIDEWIRE_BUILD_EXAMPLES=OFF \
    "-DCMAKE_CROSSCOMPILING_EMULATOR=$launcher"
  with_tsan_options tw_build "$TSAN_BUILD"
}

phase_tsan_ctest() { with_tsan_options run_ctest "$TSAN_BUILD" -L 'unit|integration|hostile'; }

# Each libFuzzer target briefly (10 s), from the kept corpus: a smoke check that they build and
# find nothing new; scripts/fuzz.sh with no argument runs them for 60 s each.
phase_fuzz() { ./scripts/fuzz.sh 10; }

phase_install() { ./scripts/check-install.sh "$BUILD"; }

phase_bench() { ./scripts/bench.sh --smoke; }

phase_package() {
  ./scripts/package.sh
  ./scripts/check-package.sh
}

phase_python() {
  tw_python_package
  local log=build-python/pytest.log status=0
  "$TW_PYTHON" -m pytest -p no:cacheprovider -q -rs --timeout 60 tests/python 2>&1 | tee "$log" || status=$?
  # "1 failed, 38 passed, 2 skipped, 1 error in 4.21s": errors count as failures
  local last count
  last=$(tail -n 1 "$log")
  for count in $(grep -oE '[0-9]+ (passed|failed|errors?)' <<<"$last" | tr ' ' ':'); do
    case ${count#*:} in
      passed) TESTS_PASSED=$((TESTS_PASSED + ${count%%:*})) ;;
      *) TESTS_FAILED=$((TESTS_FAILED + ${count%%:*})) ;;
    esac
  done
  CTEST_RAN=1
  return "$status"
}

# The harness creates streams through the service, serves their event streams itself and checks
# what the service reports back: a failing test fails the phase. It runs only the tests of the
# capabilities the service offers (printed), bounded in time. The service and harness logs are
# kept in build-python/conformance/.
phase_conformance() {
  local harness dir=build-python/conformance status=0
  # The harness ships beside the repository (../shared/peers); TW_SSE_CONTRACT_TESTS names another copy.
  local candidate
  harness=""
  for candidate in "${TW_SSE_CONTRACT_TESTS:-}" "$(cd "$TW_ROOT/.." && pwd)/shared/peers/sse-contract-tests" \
    /work/shared/peers/sse-contract-tests; do
    if [[ -n $candidate && -x $candidate ]]; then
      harness=$candidate
      break
    fi
  done
  if [[ -z $harness ]]; then
    echo "conformance: the harness sse-contract-tests v2.3.0 is missing: looked in TW_SSE_CONTRACT_TESTS," \
      "../shared/peers/ and /work/shared/peers/ (see ../shared/peers/README.md)" >&2
    return 1
  fi
  [[ -n ${TW_PYTHON:-} ]] || tw_python_package
  mkdir -p "$dir"
  # The service exits at EOF on its stdin: the coprocess pipe, closed below or when this shell ends.
  # Bash forgets SERVICE once the coprocess has ended, so its descriptors are kept here.
  coproc SERVICE { exec "$TW_PYTHON" tests/conformance/sse_service.py 2>"$dir/service.log"; }
  local service_pid=$SERVICE_PID service_out=${SERVICE[0]} service_in=${SERVICE[1]} word port capabilities
  if ! read -r -t 30 -u "$service_out" word port || [[ $word != PORT ]] ||
    ! read -r -t 5 -u "$service_out" word capabilities; then
    echo "conformance: the test service did not start (log: $dir/service.log)" >&2
    cat "$dir/service.log" >&2
    exec {service_in}>&- {service_out}<&-
    return 1
  fi
  echo "capabilities offered: $capabilities"
  local harness_port args=(--url "http://127.0.0.1:$port" --host 127.0.0.1 --debug)
  harness_port=$("$TW_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  args+=(--port "$harness_port")
  [[ -z ${TW_CONFORMANCE_RUN:-} ]] || args+=(--run "$TW_CONFORMANCE_RUN")
  timeout 300 "$harness" "${args[@]}" >"$dir/harness.log" 2>&1 || status=$?
  exec {service_in}>&- {service_out}<&-
  local service_status=0
  wait "$service_pid" || service_status=$?
  ((status != 124)) || echo "conformance: the harness did not finish within 300 s" >&2
  if ((service_status != 0)); then
    echo "conformance: the test service exited with status $service_status; its log ($dir/service.log) ends:" >&2
    tail -n 20 "$dir/service.log" >&2
    status=1
  fi
  # One "[group/test]" line per test and group as it starts; what follows it (errors, "FAILED: ...",
  # "SKIPPED: ...") is shown, the bare lines of passing tests and of those TW_CONFORMANCE_RUN left
  # out are not (the whole run is in the log).
  local unselected='^  SKIPPED: .* [(]excluded by filter parameters[)]$'
  grep -Ev "^\[.*\]$|$unselected" "$dir/harness.log" || true
  local counts passed failed skipped
  counts=$(awk -v unselected="$unselected" '
    /^\[.*\]$/ { id = substr($0, 2, length($0) - 2); if (last != "" && index(id, last "/") != 1) leaves++; last = id }
    /^  FAILED: / { failed++ }
    $0 ~ unselected { left_out++; next }
    /^  SKIPPED: / { skipped++ }
    END { if (last != "") leaves++; print leaves - failed - skipped - left_out, failed + 0, skipped + 0 }' "$dir/harness.log")
  read -r passed failed skipped <<<"$counts"
  echo "conformance: $passed passed, $failed failed, $skipped skipped for a capability not offered (log: $dir/harness.log)"
  TESTS_PASSED=$((TESTS_PASSED + passed))
  TESTS_FAILED=$((TESTS_FAILED + failed))
  CTEST_RAN=1
  return "$status"
}

# Each scenario: the runner starts its server, runs the client with the server's URL appended and
# checks what it did. A scenario passes when the runner says "OVERALL: PASSED" and exits 0; its
# result lines are shown either way (the whole run in build-python/mcp-conformance/<scenario>.log).
MCP_SCENARIOS=(initialize tools_call sse-retry)
phase_mcp_conformance() {
  local dir=build-python/mcp-conformance suite=tests/conformance/mcp scenario log status=0
  tw_quiet "$dir/npm-ci.log" npm --prefix "$suite" ci --no-audit --no-fund --prefer-offline
  [[ -n ${TW_PYTHON:-} ]] || tw_python_package
  for scenario in "${MCP_SCENARIOS[@]}"; do
    log=$dir/$scenario.log
    local scenario_status=0
    timeout 120 npx --prefix "$suite" --no-install conformance client \
      --command "$TW_PYTHON tests/conformance/mcp_client.py" --scenario "$scenario" >"$log" 2>&1 || scenario_status=$?
    grep -q 'OVERALL: PASSED' "$log" || ((scenario_status != 0)) || scenario_status=1
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '\] +(SUCCESS|FAILURE|WARNING) |^Passed: |OVERALL: ' | sed "s/^/$scenario: /" || true
    if ((scenario_status == 0)); then
      TESTS_PASSED=$((TESTS_PASSED + 1))
    else
      TESTS_FAILED=$((TESTS_FAILED + 1))
      status=1
      echo "mcp-conformance: scenario $scenario failed (status $scenario_status, log: $log); it ends:" >&2
      tail -n 30 "$log" >&2
    fi
  done
  CTEST_RAN=1
  return "$status"
}

phase_node() {
  local dir=bindings/node status=0
  CMAKE_BUILD_PARALLEL_LEVEL=$TW_JOBS tw_quiet "$dir/build/npm-ci.log" \
    npm --prefix "$dir" ci --no-audit --no-fund --prefer-offline
  local log=$dir/build/test.log
  (cd "$dir" && node --test --test-reporter=spec test/*.test.js) 2>&1 | tee "$log" || status=$?
  # "ℹ pass 55" / "ℹ fail 0"
  local count
  count=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$log")
  TESTS_PASSED=$((TESTS_PASSED + ${count:-0}))
  count=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$log")
  TESTS_FAILED=$((TESTS_FAILED + ${count:-0}))
  CTEST_RAN=1
  return "$status"
}

# build-native.sh compiles the core with build/'s flags (-Werror included), so ccache serves the
# objects the build phase made. Maven 3.8's -q still prints bare colour resets: dropped.
phase_java() {
  local dir=bindings/java log=build-java/maven.log status=0
  mkdir -p build-java
  rm -rf "$dir/target/surefire-reports"
  mvn -B -q -f "$dir/pom.xml" -Dtidewire.werror=ON package 2>&1 | sed 's/\x1b\[0m//g' | tee "$log" || status=$?
  # One line per test class: "Tests run: 9, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: ..."
  local run failed skipped
  read -r run failed skipped < <(cat "$dir"/target/surefire-reports/*.txt 2>/dev/null |
    sed -n 's/^Tests run: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\), Skipped: \([0-9]*\),.*/\1 \2 \3 \4/p' |
    awk '{ r += $1; f += $2 + $3; s += $4 } END { print r + 0, f + 0, s + 0 }')
  echo "java: $((run - failed - skipped)) passed, $failed failed, $skipped skipped"
  TESTS_PASSED=$((TESTS_PASSED + run - failed - skipped))
  TESTS_FAILED=$((TESTS_FAILED + failed))
  CTEST_RAN=1
  return "$status"
}

# The build runs test binaries too (gtest_discover_tests), so both phases get the options.
with_sanitizer_options() {
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$@"
}

# halt_on_error: the first report fails the test, as ASan's do. second_deadlock_stack: a lock-order
# report shows where both locks were taken.
with_tsan_options() {
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$TW_ROOT/tests/tsan.supp" "$@"
}

# Runs ctest in a build directory (with any further ctest arguments) and adds its counts to the
# totals of the final line.
TESTS_PASSED=0
TESTS_FAILED=0
CTEST_RAN=0
run_ctest() {
  local dir=$1 log=$1/ctest.log status=0
  shift
  CTEST_RAN=1
  ctest --test-dir "$dir" "${CTEST_ARGS[@]}" "$@" 2>&1 | tee "$log" || status=$?
  # "100% tests passed, 0 tests failed out of 57"
  local counts
  counts=$(sed -n 's/^[0-9]*% tests passed, \([0-9]*\) tests\{0,1\} failed out of \([0-9]*\)$/\1 \2/p' "$log")
  if [[ -n $counts ]]; then
    local failed total
    read -r failed total <<<"$counts"
    TESTS_PASSED=$((TESTS_PASSED + total - failed))
    TESTS_FAILED=$((TESTS_FAILED + failed))
  fi
  return "$status"
}

# --- driver ---------------------------------------------------------------------------------------
if [[ ${1:-} == --list ]]; then
  printf '%s\n' "${PHASES[@]}"
  exit 0
fi
selected=("$@")
((${#selected[@]} > 0)) || selected=("${PHASES[@]}")
for name in "${selected[@]}"; do
  if ! declare -F "phase_${name//-/_}" >/dev/null; then
    echo "test.sh: no phase \"$name\" (phases: ${PHASES[*]})" >&2
    exit 2
  fi
done

SUMMARY=()
CURRENT=""
START_MS=$(tw_now_ms)
summary() {
  local status=$?
  ((${#SUMMARY[@]} > 0)) || [[ -n $CURRENT ]] || return "$status"
  echo
  echo "summary:"
  local line
  for line in "${SUMMARY[@]}"; do echo "  $line"; done
  if [[ -n $CURRENT ]]; then
    printf '  %-11s %9s  FAILED\n' "$CURRENT" "$(tw_seconds $(($(tw_now_ms) - PHASE_START_MS)))"
  fi
  printf '  %-11s %9s\n' total "$(tw_seconds $(($(tw_now_ms) - START_MS)))"
  ((CTEST_RAN == 0)) || echo "tests: $TESTS_PASSED passed, $TESTS_FAILED failed"
  return "$status"
}
trap summary EXIT

for name in "${selected[@]}"; do
  echo "==> $name"
  CURRENT=$name
  PHASE_START_MS=$(tw_now_ms)
  "phase_${name//-/_}"
  SUMMARY+=("$(printf '%-11s %9s  ok' "$name" "$(tw_seconds $(($(tw_now_ms) - PHASE_START_MS)))")")
  CURRENT=""
done
