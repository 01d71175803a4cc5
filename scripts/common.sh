# Helpers shared by the scripts in this folder. Sourced, not run.
# shellcheck shell=bash

TW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TW_JOBS=${TW_JOBS:-2}

# ccache: paths below the repository are hashed relative to it, so a fresh clone elsewhere (as CI
# makes) reuses the objects an earlier clone compiled. Debug info then names the first clone's paths.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$TW_ROOT}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}

# Milliseconds since the epoch, and a duration in ms printed as seconds ("12.3 s").
tw_now_ms() { date +%s%3N; }
tw_seconds() { printf '%d.%d s' $(($1 / 1000)) $((($1 % 1000) / 100)); }

# tw_quiet LOG CMD...: runs CMD with its output kept in LOG; shows the log only if CMD fails.
tw_quiet() {
  local log=$1
  shift
  mkdir -p "$(dirname "$log")"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "failed: $* (log: $log)" >&2
    return 1
  fi
}

# tw_configure DIR [-DKEY=VALUE ...]: configures a CMake build of the repository in DIR (Ninja for a
# new one), compiling through ccache when it is installed.
tw_configure() {
  local dir=$1
  shift
  local args=(-S "$TW_ROOT" -B "$dir")
  [[ -f $dir/CMakeCache.txt ]] || args+=(-G Ninja)
  if command -v ccache >/dev/null 2>&1; then
    args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  else
    args+=(-DCMAKE_C_COMPILER_LAUNCHER= -DCMAKE_CXX_COMPILER_LAUNCHER=)
  fi
  tw_quiet "$dir/configure.log" cmake "${args[@]}" "$@"
}

# tw_build DIR [TARGET...]: builds DIR (everything, or the targets named) with TW_JOBS jobs.
tw_build() {
  local dir=$1
  shift
  local targets=()
  (($# == 0)) || targets=(--target "$@")
  tw_quiet "$dir/build.log" cmake --build "$dir" -j "$TW_JOBS" "${targets[@]}"
}
