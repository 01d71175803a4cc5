#!/usr/bin/env bash
# Makes Tidewire's packages into dist/ (docs/packaging.md says what each holds and how to use it):
#   wheel  pip wheel . (the Python extension built from source), then auditwheel repair: the
#          libraries it links outside the manylinux policy (libuv, OpenSSL) copied into the wheel;
#          prints the manylinux tag it got. dist/tidewire-<v>-<python>-manylinux_*.whl
#   sdist  python -m build --sdist: dist/tidewire-<v>.tar.gz (builds with `pip install` where
#          scripts/install-deps.sh's system packages are installed)
#   npm    npm pack in bindings/node (its prepare hook copies the core into tidewire-src/, so the
#          tarball builds from source with cmake-js on install): dist/tidewire-<v>.tgz
#   jar    mvn install in bindings/java (tests skipped: the java phase of scripts/test.sh runs
#          them): io.tidewire:tidewire:<v> in ~/.m2, and dist/tidewire-<v>.jar
#
#   ./scripts/package.sh                 every package
#   ./scripts/package.sh wheel sdist     only those named
#
# The Python build uses the python3 on PATH (the one install-deps.sh provisioned), without build
# isolation: the build tools are already installed, and no index is needed. Its CMake build stays
# in build-package/cmake, so a second run only rebuilds what changed.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$TW_ROOT"

DIST=$TW_ROOT/dist
WORK=$TW_ROOT/build-package
VERSION=$(sed -n 's/^project(Tidewire VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
export PIP_DISABLE_PIP_VERSION_CHECK=1

package_wheel() {
  local python
  python=$(python3 -c 'import sys; print(sys.executable)')
  rm -rf "$WORK/wheel"
  rm -f "$DIST"/tidewire-"$VERSION"-*.whl
  local args=(--no-build-isolation --no-deps -w "$WORK/wheel" -C "build-dir=$WORK/cmake")
  if command -v ccache >/dev/null 2>&1; then
    args+=(-C cmake.define.CMAKE_C_COMPILER_LAUNCHER=ccache -C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  tw_quiet "$WORK/pip-wheel.log" "$python" -m pip wheel "${args[@]}" "$TW_ROOT"
  local built
  built=$(ls "$WORK"/wheel/tidewire-"$VERSION"-*.whl)
  # The default policy is the most compatible one the wheel's symbols allow.
  tw_quiet "$WORK/auditwheel.log" "$python" -m auditwheel repair -w "$DIST" "$built"
  local wheel
  wheel=$(ls "$DIST"/tidewire-"$VERSION"-*manylinux*.whl)
  echo "wheel: $(basename "$wheel") (built with $python, Python $("$python" -c 'import platform; print(platform.python_version())'))"
  echo "wheel: bundled: $(unzip -Z1 "$wheel" 'tidewire.libs/*' | grep -v '/$' | xargs -n1 basename | paste -sd' ')"
}

package_sdist() {
  rm -f "$DIST/tidewire-$VERSION.tar.gz"
  tw_quiet "$WORK/sdist.log" python3 -m build --sdist --no-isolation --outdir "$DIST" "$TW_ROOT"
  echo "sdist: $(basename "$DIST/tidewire-$VERSION.tar.gz"), $(tar -tzf "$DIST/tidewire-$VERSION.tar.gz" | wc -l) files"
}

package_npm() {
  rm -f "$DIST/tidewire-$VERSION.tgz"
  (cd bindings/node && tw_quiet "$WORK/npm-pack.log" npm pack --pack-destination "$DIST")
  echo "npm: $(basename "$DIST/tidewire-$VERSION.tgz"), $(tar -tzf "$DIST/tidewire-$VERSION.tgz" | wc -l) files"
}

package_jar() {
  rm -f "$DIST/tidewire-$VERSION.jar"
  CMAKE_BUILD_PARALLEL_LEVEL=$TW_JOBS tw_quiet "$WORK/maven.log" \
    mvn -B -q -f bindings/java/pom.xml -DskipTests install
  cp "bindings/java/target/tidewire-$VERSION.jar" "$DIST/"
  local installed=$HOME/.m2/repository/io/tidewire/tidewire/$VERSION/tidewire-$VERSION.jar
  [[ -f $installed ]] || {
    echo "package.sh: mvn install did not write $installed" >&2
    return 1
  }
  echo "jar: $(basename "$DIST/tidewire-$VERSION.jar"), installed as io.tidewire:tidewire:$VERSION (${installed/#$HOME/\~})"
}

PACKAGES=(wheel sdist npm jar)
selected=("$@")
((${#selected[@]} > 0)) || selected=("${PACKAGES[@]}")
for name in "${selected[@]}"; do
  if ! declare -F "package_$name" >/dev/null; then
    echo "package.sh: no package \"$name\" (packages: ${PACKAGES[*]})" >&2
    exit 2
  fi
done
mkdir -p "$DIST" "$WORK"
for name in "${selected[@]}"; do "package_$name"; done
