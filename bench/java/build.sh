#!/usr/bin/env bash
# Builds the Java clients of the benchmarks into OUT_DIR: the binding's jar (Maven, tests skipped,
# offline once ~/.m2 holds the pinned plugins) copied to OUT_DIR/tidewire.jar, and Peers.java
# compiled against it into OUT_DIR/classes. bench/run.py runs them from there.
#
#   bench/java/build.sh OUT_DIR
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/common.sh"

out=$(mkdir -p "$1" && cd "$1" && pwd)
# -Werror as the test command builds it, so ccache serves the objects of its build-java/.
tw_quiet "$out/maven.log" mvn -B -q -f "$TW_ROOT/bindings/java/pom.xml" -Dtidewire.werror=ON -DskipTests package
cp "$TW_ROOT"/bindings/java/target/tidewire-*.jar "$out/tidewire.jar"
rm -rf "$out/classes"
javac -Xlint:all -Werror -d "$out/classes" -cp "$out/tidewire.jar" "$TW_ROOT/bench/java/Peers.java"
