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

# tw_python_package: builds the Python package (pyproject.toml) and installs it into the virtual
# environment build-python/venv, made from the python3 on PATH (a pyenv shim is resolved) with
# --system-site-packages, so that what install-deps.sh installed for that python3 (the build tools,
# the test peers' packages) is used as it is. The CMake build stays in build-python/cmake, so a
# second run only rebuilds what changed. Sets TW_PYTHON to the environment's interpreter.
tw_python_package() {
  local dir=$TW_ROOT/build-python base
  base=$(python3 -c 'import sys; print(sys.executable)')
  if [[ ! -x $dir/venv/bin/python || $(cat "$dir/venv/.base" 2>/dev/null) != "$base" ]]; then
    rm -rf "$dir/venv"
    tw_quiet "$dir/venv.log" "$base" -m venv --system-site-packages "$dir/venv"
    echo "$base" >"$dir/venv/.base"
  fi
  local args=(--no-build-isolation --no-deps --force-reinstall -C "build-dir=$dir/cmake")
  if command -v ccache >/dev/null 2>&1; then
    args+=(-C cmake.define.CMAKE_C_COMPILER_LAUNCHER=ccache -C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  PIP_DISABLE_PIP_VERSION_CHECK=1 tw_quiet "$dir/pip.log" "$dir/venv/bin/python" -m pip install "${args[@]}" "$TW_ROOT"
  TW_PYTHON=$dir/venv/bin/python
}
