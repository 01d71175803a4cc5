#!/usr/bin/env bash
# Checks what `cmake --install` delivers, as an application would use it:
#   1. installs a build (default: build/) into a temporary prefix;
#   2. the shared library: soname libtidewire.so.0, dynamic symbols all tw_*;
#   3. tests/consumer/consumer.c built with `cc ... $(pkg-config --cflags --libs tidewire)`, run;
#   4. tests/consumer/ configured with find_package(Tidewire) (-DCMAKE_PREFIX_PATH), built, run;
#   5. the README's C quick start built with pkg-config and run against the demo feed's SSE stream
#      (which ends with 204, so the program must end cleanly);
#   6. the installed tidewire command: --help, and the same SSE stream read to its clean end.
# Every program must load the installed library, not one from elsewhere, and run without
# LD_LIBRARY_PATH: the consumers through the -rpath that tidewire.pc and CMake give them, the
# installed tidewire through its own $ORIGIN-relative RUNPATH.
#
#   ./scripts/check-install.sh [BUILD_DIR]
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$TW_ROOT"

BUILD=${1:-build}
CONSUMER=tests/consumer
unset LD_LIBRARY_PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

fail() {
  echo "check-install: $*" >&2
  exit 1
}

# 1. Install.
[[ -f $BUILD/CMakeCache.txt ]] || fail "$BUILD is not a configured build (run scripts/test.sh build first)"
tw_quiet "$tmp/install.log" cmake --install "$BUILD" --prefix "$prefix"
[[ -f $prefix/include/tidewire/tidewire.h ]] || fail "tidewire/tidewire.h was not installed"
# lib/ or lib/<multiarch>/, as GNUInstallDirs chose.
pc=$(find "$prefix" -name tidewire.pc -path '*/pkgconfig/*' -print -quit)
[[ -n $pc ]] || fail "tidewire.pc was not installed"
libdir=$(dirname "$(dirname "$pc")")
[[ -f $libdir/libtidewire.so ]] || fail "no libtidewire.so beside ${pc#"$prefix"/}"
[[ -f $libdir/cmake/Tidewire/TidewireConfig.cmake ]] || fail "no cmake/Tidewire/TidewireConfig.cmake in $libdir"
echo "install: into <prefix>/${libdir#"$prefix"/}"

# 2. The library's identity and its exported symbols.
soname=$(readelf -d "$libdir/libtidewire.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == libtidewire.so.0 ]] || fail "soname is \"$soname\", expected libtidewire.so.0"
[[ -e $libdir/$soname ]] || fail "$soname is not installed beside libtidewire.so"
symbols=$(nm -D --defined-only "$libdir/libtidewire.so" | awk 'NF == 3 { print $3 }')
count=$(grep -c . <<<"$symbols" || true)
foreign=$(grep -v '^tw_' <<<"$symbols" || true)
((count >= 20)) || fail "only $count dynamic symbols in libtidewire.so"
[[ -z $foreign ]] || fail "symbols outside tw_* are exported: $(paste -sd' ' <<<"$foreign")"
echo "install: soname $soname, $count exported symbols, all tw_*"

# Fails unless the program loads libtidewire from the installed prefix.
check_loads_installed() {
  local resolved
  resolved=$(ldd "$1" | awk '$1 ~ /^libtidewire\.so/ { print $3 }')
  # An $ORIGIN RUNPATH resolves to <prefix>/bin/../lib/...
  [[ -z $resolved ]] || resolved=$(realpath -m "$resolved")
  [[ $resolved == "$libdir"/* ]] || fail "$(basename "$1") loads libtidewire from \"$resolved\", not from the prefix"
}

# 3. pkg-config. tidewire.pc names the prefix it was configured for; a package installed elsewhere
# (as here) is used by overriding `prefix`, which every other path in the file derives from.
export PKG_CONFIG_PATH=$libdir/pkgconfig
pc_prefix=$(pkg-config --variable=prefix tidewire)
pc_args=()
if [[ $pc_prefix != "$prefix" ]]; then
  echo "install: note: tidewire.pc says prefix=$pc_prefix (fixed at configure time); using --define-variable=prefix"
  pc_args=(--define-variable=prefix="$prefix")
fi
read -r -a flags <<<"$(pkg-config "${pc_args[@]}" --cflags --libs tidewire)"
tw_quiet "$tmp/cc.log" cc -std=c99 -Wall -Wextra -Wpedantic -Werror -o "$tmp/consumer-pkgconfig" \
  "$CONSUMER/consumer.c" "${flags[@]}"
check_loads_installed "$tmp/consumer-pkgconfig"
tw_quiet "$tmp/run-pkgconfig.log" "$tmp/consumer-pkgconfig"
echo "install: pkg-config consumer: $(head -n 1 "$tmp/run-pkgconfig.log"), $(tail -n 1 "$tmp/run-pkgconfig.log")"

# 4. find_package(Tidewire).
unset PKG_CONFIG_PATH
tw_quiet "$tmp/consumer-configure.log" cmake -S "$CONSUMER" -B "$tmp/consumer-build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="-Wall -Wextra -Wpedantic -Werror"
tw_quiet "$tmp/consumer-build.log" cmake --build "$tmp/consumer-build"
check_loads_installed "$tmp/consumer-build/tw_consumer"
tw_quiet "$tmp/run-cmake.log" "$tmp/consumer-build/tw_consumer"
echo "install: find_package consumer: $(head -n 1 "$tmp/run-cmake.log"), $(tail -n 1 "$tmp/run-cmake.log")"

# 5. The README's C quick start (the first ```c block after "## C quick start"), pointed at the feed.
# The feed announces its port on stdout, read here through a FIFO as soon as it is written (the
# feed runs until its stdin, feed_in, is closed).
mkfifo "$tmp/feed.out"
exec {feed_in}> >(exec python3 examples/feed/feed.py --count 3 --interval-ms 10 --start-ms 0 >"$tmp/feed.out")
exec {feed_out}<"$tmp/feed.out"
port=""
while IFS= read -r -t 10 -u "$feed_out" line; do
  if [[ $line =~ ^PORT\ ([0-9]+)$ ]]; then
    port=${BASH_REMATCH[1]}
    break
  fi
done
[[ -n $port ]] || fail "the demo feed did not announce its port within 10 s"
awk '/^## C quick start/ { section = 1 } section && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit } inside { print }' README.md >"$tmp/quickstart.c"
grep -q 'http://127.0.0.1:8000/sse' "$tmp/quickstart.c" || fail "no C quick start reading the demo feed's http://127.0.0.1:8000/sse in README.md"
sed -i "s|http://127.0.0.1:8000/sse|http://127.0.0.1:$port/sse|" "$tmp/quickstart.c"
tw_quiet "$tmp/quickstart-cc.log" cc -std=c99 -Wall -Wextra -Wpedantic -Werror -o "$tmp/quickstart" \
  "$tmp/quickstart.c" "${flags[@]}"
check_loads_installed "$tmp/quickstart"
tw_quiet "$tmp/quickstart-run.log" timeout 20 "$tmp/quickstart"
got=$(grep -c '^id=' "$tmp/quickstart-run.log" || true)
((got == 3)) || fail "the README quick start printed $got events from the feed, expected 3"
echo "install: README C quick start: built, read $got events over SSE, ended cleanly"

# 6. The tidewire command, as installed (a build without it, TIDEWIRE_BUILD_CLI=OFF, skips this).
bindir=$(sed -n 's/^CMAKE_INSTALL_BINDIR:PATH=//p' "$BUILD/CMakeCache.txt")
cli=$prefix/${bindir:-bin}/tidewire
if [[ -x $cli ]]; then
  runpath=$(readelf -d "$cli" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
  [[ $runpath == '$ORIGIN/'* ]] || fail "bin/tidewire has RUNPATH \"$runpath\", expected one relative to \$ORIGIN"
  check_loads_installed "$cli"
  tw_quiet "$tmp/cli-help.log" "$cli" --help
  grep -q '^EXIT STATUS' "$tmp/cli-help.log" || fail "tidewire --help has no EXIT STATUS section"
  tw_quiet "$tmp/cli-run.log" timeout 20 "$cli" --format=text sse "http://127.0.0.1:$port/sse"
  got=$(grep -c '"seq"' "$tmp/cli-run.log" || true)
  ((got == 3)) || fail "bin/tidewire printed $got events from the feed, expected 3"
  echo "install: bin/tidewire (RUNPATH $runpath): --help, read $got events over SSE, exit status 0"
else
  grep -q 'TIDEWIRE_BUILD_CLI:BOOL=OFF' "$BUILD/CMakeCache.txt" || fail "bin/tidewire was not installed"
fi
exec {feed_in}>&- {feed_out}<&-
