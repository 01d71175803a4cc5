#!/usr/bin/env bash
# The native half of the Java binding, for pom.xml: configures a CMake build of the repository in
# BUILD_DIR with the JNI library on (Ninja for a new directory, ccache when installed, as every
# build of scripts/ does) and builds the target tidewire_jni. Quiet unless a step fails.
#
#   build-native.sh BUILD_DIR BUILD_TYPE JAVA_HOME WERROR
#
# BUILD_TYPE and WERROR match the test command's build/ (RelWithDebInfo, ON), so ccache serves the
# core's objects compiled there.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/common.sh"

dir=$1 build_type=$2 java_home=$3 werror=$4
tw_configure "$dir" -DCMAKE_BUILD_TYPE="$build_type" -DTIDEWIRE_WERROR="$werror" -DTIDEWIRE_BUILD_JAVA=ON \
  -DTIDEWIRE_BUILD_TESTS=OFF -DTIDEWIRE_BUILD_EXAMPLES=OFF -DJAVA_HOME="$java_home"
tw_build "$dir" tidewire_jni
