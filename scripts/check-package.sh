#!/usr/bin/env bash
# Checks the packages scripts/package.sh made in dist/, as a user on another machine would meet them:
#   1. the repaired wheel: tagged manylinux, libuv and OpenSSL inside it (tidewire.libs/), LICENSE
#      and NOTICE in its metadata;
#   2. installed with pip into a fresh virtual environment of ANOTHER Python build than the one
#      that built it (default Debian's /usr/bin/python3; TW_OTHER_PYTHON names another), with no
#      index and no system site-packages: imported, and streaming over SSE and over TLS (https,
#      the wheel's own OpenSSL, tls.ca_file) from the demo feed, with libuv and OpenSSL loaded
#      from the wheel, not from the system;
#   3. the jar, when dist/ holds one: LICENSE and NOTICE inside, and an application that depends on
#      io.tidewire:tidewire (tests/packaging/java-consumer) built offline against the local Maven
#      repository and streaming the same feed over TLS;
#   4. the sdist and the npm tarball: what each must carry (sources, LICENSE, NOTICE; the npm
#      package public, its core copied in for the source build).
#
#   ./scripts/check-package.sh        (after ./scripts/package.sh)
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$TW_ROOT"

VERSION=$(sed -n 's/^project(Tidewire VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
OTHER_PYTHON=${TW_OTHER_PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "check-package: $*" >&2
  exit 1
}

# 1. The wheel.
wheels=(dist/tidewire-"$VERSION"-*manylinux*.whl)
[[ -f ${wheels[0]} ]] || fail "no repaired wheel in dist/ (run ./scripts/package.sh wheel)"
((${#wheels[@]} == 1)) || fail "several repaired wheels in dist/: ${wheels[*]}"
wheel=${wheels[0]}
unzip -Z1 "$wheel" >"$tmp/wheel.list"
for lib in libuv libssl libcrypto; do
  grep -q "^tidewire.libs/$lib-" "$tmp/wheel.list" || fail "$(basename "$wheel") does not bundle $lib"
done
for file in LICENSE NOTICE; do
  grep -q "^tidewire-$VERSION.dist-info/licenses/$file$" "$tmp/wheel.list" || fail "the wheel has no $file"
done
tag=$(unzip -p "$wheel" "tidewire-$VERSION.dist-info/WHEEL" | sed -n 's/^Tag: //p')
echo "package: wheel $(basename "$wheel"): tag $tag, bundles" \
  "$(grep '^tidewire.libs/.' "$tmp/wheel.list" | xargs -n1 basename | paste -sd' ')"

# 2. A fresh environment on another Python build.
[[ -x $OTHER_PYTHON ]] || fail "$OTHER_PYTHON is missing (install-deps.sh installs python3-venv for Debian's python3)"
built_by=$(unzip -p "$wheel" "tidewire-$VERSION.dist-info/WHEEL" | sed -n 's/^Generator: //p')
describe='import platform, sys; print(f"{sys.executable} {platform.python_version()} ({platform.python_build()[1]}, {platform.python_compiler()})")'
build_python=$(python3 -c "$describe")
other=$("$OTHER_PYTHON" -c "$describe")
[[ $(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))') != \
  $("$OTHER_PYTHON" -c 'import os, sys; print(os.path.realpath(sys.executable))') ]] ||
  fail "$OTHER_PYTHON is the Python that builds the wheel; name another with TW_OTHER_PYTHON"
echo "package: built by $build_python (wheel generator: $built_by)"
echo "package: installing into a fresh venv of $other"
tw_quiet "$tmp/venv.log" "$OTHER_PYTHON" -m venv "$tmp/venv"
PIP_DISABLE_PIP_VERSION_CHECK=1 tw_quiet "$tmp/pip.log" "$tmp/venv/bin/python" -m pip install --no-index "$wheel"
grep -h '^Successfully installed' "$tmp/pip.log" | sed 's/^/package: /'

# The demo feed over https: the feed runs on the build's Python (it needs aiohttp); only the client
# runs in the fresh environment. The feed runs until its stdin (feed_in) is closed.
mkfifo "$tmp/feed.out"
exec {feed_in}> >(exec python3 examples/feed/feed.py --count 3 --interval-ms 10 --start-ms 0 \
  --tls "$tmp/tls" >"$tmp/feed.out" 2>"$tmp/feed.err")
exec {feed_out}<"$tmp/feed.out"
port=""
while IFS= read -r -t 20 -u "$feed_out" line; do
  if [[ $line =~ ^PORT\ ([0-9]+)$ ]]; then
    port=${BASH_REMATCH[1]}
    break
  fi
done
[[ -n $port ]] || fail "the demo feed did not announce its port within 20 s: $(cat "$tmp/feed.err")"

# The module names the renamed copies, so no system library can stand in for them.
needed=$(cd "$tmp" && unzip -q -o "$TW_ROOT/$wheel" 'tidewire/_tidewire*.so' && readelf -d tidewire/_tidewire*.so |
  sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd' ')
for lib in libuv libssl libcrypto; do
  [[ " $needed " == *" $lib-"* ]] || fail "_tidewire does not name the wheel's $lib (NEEDED: $needed)"
done
echo "package: _tidewire needs $needed"

# Run from the temporary directory, so that `import tidewire` cannot find the repository's sources.
(cd "$tmp" && timeout 60 "$tmp/venv/bin/python" - "https://127.0.0.1:$port/sse" "$tmp/tls/cert.pem") <<'PY' ||
import os, sys
import tidewire

url, ca_file = sys.argv[1], sys.argv[2]
print(f"package: import tidewire {tidewire.__version__} from {os.path.dirname(tidewire.__file__)}")
with tidewire.Stream(url, "sse", options={"tls.ca_file": ca_file, "reconnect.max_attempts": 3}) as stream:
    events = [event for event in stream]
got = [(e.id, e.json()["seq"]) for e in events]
assert got == [("0", 0), ("1", 1), ("2", 2)], got
print(f"package: streamed {len(events)} events over SSE/TLS from the demo feed, then its 204: {got}")
# The native libraries come from the wheel: auditwheel renamed them (libuv-<hash>.so) and the
# module names those files, so the copies mapped are the wheel's. (Python's own ssl module, which
# asyncio imports, maps the system's libssl beside them; the module does not use it.)
package_dir = os.path.dirname(tidewire.__file__)
mapped = {line.split()[-1] for line in open("/proc/self/maps") if ".so" in line}
for name in ("libuv", "libssl", "libcrypto"):
    bundled = sorted(p for p in mapped if p.startswith(package_dir + ".libs/" + name + "-"))
    assert bundled, (name, sorted(mapped))
    print(f"package: {name} loaded from {os.path.relpath(bundled[0], os.path.dirname(package_dir))}")
PY
  fail "the wheel did not stream in a fresh venv of $other"

# 3. The jar, as a Maven dependency.
jar=dist/tidewire-$VERSION.jar
if [[ -f $jar ]]; then
  unzip -Z1 "$jar" >"$tmp/jar.list"
  for file in META-INF/LICENSE META-INF/NOTICE io/tidewire/Stream.class; do
    grep -qx "$file" "$tmp/jar.list" || fail "the jar lacks $file"
  done
  installed=$HOME/.m2/repository/io/tidewire/tidewire/$VERSION/tidewire-$VERSION.jar
  cmp -s "$jar" "$installed" || fail "$jar is not the jar installed as io.tidewire:tidewire:$VERSION ($installed)"
  cp -r tests/packaging/java-consumer "$tmp/java-consumer"
  tw_quiet "$tmp/java-consumer.log" mvn -B -q -o -f "$tmp/java-consumer/pom.xml" compile
  timeout 60 java -cp "$installed:$tmp/java-consumer/target/classes" example.Reader \
    "https://127.0.0.1:$port/sse" "$tmp/tls/cert.pem" >"$tmp/java-run.log" 2>&1 ||
    fail "the Maven consumer of io.tidewire:tidewire failed: $(cat "$tmp/java-run.log")"
  got=$(grep -c '"seq"' "$tmp/java-run.log" || true)
  ((got == 3)) || fail "the Maven consumer printed $got events, expected 3: $(cat "$tmp/java-run.log")"
  echo "package: jar $(basename "$jar"): LICENSE, NOTICE; a Maven project depending on io.tidewire:tidewire:$VERSION" \
    "built offline and streamed $got events over SSE/TLS"
fi
exec {feed_in}>&- {feed_out}<&-

# 4. The sdist and the npm tarball.
sdist=dist/tidewire-$VERSION.tar.gz
[[ -f $sdist ]] || fail "no $sdist (run ./scripts/package.sh sdist)"
tar -tzf "$sdist" >"$tmp/sdist.list"
for file in pyproject.toml CMakeLists.txt LICENSE NOTICE PKG-INFO core/include/tidewire/tidewire.h \
  bindings/python/CMakeLists.txt bindings/python/tidewire/__init__.py; do
  grep -qx "tidewire-$VERSION/$file" "$tmp/sdist.list" || fail "the sdist lacks $file"
done
echo "package: sdist $(basename "$sdist"): $(wc -l <"$tmp/sdist.list") files, sources, LICENSE and NOTICE"

tarball=dist/tidewire-$VERSION.tgz
[[ -f $tarball ]] || fail "no $tarball (run ./scripts/package.sh npm)"
tar -tzf "$tarball" >"$tmp/npm.list"
for file in package.json LICENSE NOTICE CMakeLists.txt scripts/build.js src/addon.cc lib/index.js index.d.ts \
  tidewire-src/CMakeLists.txt tidewire-src/core/include/tidewire/tidewire.h; do
  grep -qx "package/$file" "$tmp/npm.list" || fail "the npm package lacks $file"
done
tar -xzf "$tarball" -C "$tmp" package/package.json
node -e '
  const p = require(process.argv[1]);
  if (p.private) throw new Error("package.json says private: npm publish would refuse it");
  if (p.license !== "Apache-2.0") throw new Error(`license is ${p.license}`);
  if (!p.scripts.install || !p.dependencies["cmake-js"]) throw new Error("no source build (cmake-js) on install");
' "$tmp/package/package.json" ||
  fail "the npm package's package.json is not publishable as it is"
echo "package: npm $(basename "$tarball"): $(wc -l <"$tmp/npm.list") files, public, Apache-2.0, core for the source build"
