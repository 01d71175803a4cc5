#!/usr/bin/env bash
# Installs what building, testing and the demo need on Debian 12, and only what is missing:
#   - Debian packages (checked with dpkg-query; apt-get runs only when one is missing), with
#     nodejs and npm only when no node is on PATH,
#   - the Python packages of tests/peers/requirements.txt for the `python3` on PATH (a pyenv shim
#     is fine; pip runs only when a package is missing or older than its lower bound).
# Safe to run again: when everything is there it only checks, and touches no network.
# Runs as root, or through sudo when that is available.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$TW_ROOT"

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libuv1-dev libssl-dev zlib1g-dev node-llhttp
  libgtest-dev googletest
  clang-14 libclang-rt-14-dev openssl
  python3 python3-pip python3-venv curl
  swig default-jdk-headless maven
  unzip
  libhiredis-dev redis-server
)
# Node.js (>= 18) and npm for the Node package: a node already on PATH is used as it is (e.g. one
# the machine came with); otherwise Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  APT_PACKAGES+=(nodejs npm)
fi
REQUIREMENTS=tests/peers/requirements.txt
LOG_DIR=$(mktemp -d)
trap 'rm -rf "$LOG_DIR"' EXIT

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "install-deps: root (or sudo) is needed to run: $*" >&2
    return 1
  fi
}

# --- Debian packages ------------------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  [[ $status == ii* ]] || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  echo "deps: apt: all ${#APT_PACKAGES[@]} packages present"
else
  echo "deps: apt: installing ${missing[*]}"
  tw_quiet "$LOG_DIR/apt-update.log" as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  tw_quiet "$LOG_DIR/apt-install.log" as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- Python packages ------------------------------------------------------------------------------
command -v python3 >/dev/null 2>&1 || {
  echo "install-deps: no python3 on PATH" >&2
  exit 1
}
# Resolve a pyenv (or other) shim once: every later call goes straight to the interpreter.
{
  read -r python
  read -r version
} < <(python3 -c 'import platform, sys; print(sys.executable); print(platform.python_version())')
export PIP_DISABLE_PIP_VERSION_CHECK=1

# Prints the requirements that are not met (not installed, or older than the bound), one a line.
# Reads installed distributions' metadata only: no network, no pip.
unmet_requirements() {
  "$python" - "$REQUIREMENTS" <<'PY'
import importlib.metadata as md
import sys

try:
    from packaging.requirements import Requirement
except ImportError:  # pip vendors packaging
    from pip._vendor.packaging.requirements import Requirement

for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    req = Requirement(line)
    try:
        version = md.version(req.name)
    except md.PackageNotFoundError:
        print(line)
        continue
    if not req.specifier.contains(version, prereleases=True):
        print(line)
PY
}

unmet=$(unmet_requirements)
count=$(grep -cv '^\s*\(#\|$\)' "$REQUIREMENTS")
if [[ -z $unmet ]]; then
  echo "deps: python: $python ($version): all $count requirements met"
else
  echo "deps: python: $python ($version): installing $(paste -sd' ' <<<"$unmet")"
  if ! "$python" -m pip --version >/dev/null 2>&1; then
    echo "deps: python: bootstrapping pip"
    tw_quiet "$LOG_DIR/ensurepip.log" "$python" -m ensurepip --upgrade
  fi
  pip_install=("$python" -m pip install -q -r "$REQUIREMENTS")
  if ! "${pip_install[@]}" >"$LOG_DIR/pip.log" 2>&1; then
    if grep -q externally-managed-environment "$LOG_DIR/pip.log"; then
      # PEP 668: this python belongs to the system; it refuses pip unless told otherwise.
      echo "deps: python: externally managed; retrying with --break-system-packages"
      tw_quiet "$LOG_DIR/pip.log" "${pip_install[@]}" --break-system-packages
    else
      cat "$LOG_DIR/pip.log" >&2
      exit 1
    fi
  fi
  # A pyenv shim learns about newly installed console scripts only after a rehash.
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash >/dev/null 2>&1 || true; fi
  unmet=$(unmet_requirements)
  if [[ -n $unmet ]]; then
    echo "install-deps: still unmet after pip install: $(paste -sd' ' <<<"$unmet")" >&2
    exit 1
  fi
fi

# --- npm packages of the MCP peers ----------------------------------------------------------------
# The MCP conformance suite and the TypeScript SDK server (tests/conformance/mcp, versions pinned by
# its package-lock.json): npm ci only when they are missing or the lock file changed since.
MCP_PEERS=tests/conformance/mcp
if [[ -f $MCP_PEERS/node_modules/.package-lock.json && ! $MCP_PEERS/package-lock.json -nt $MCP_PEERS/node_modules/.package-lock.json ]]; then
  echo "deps: npm: $MCP_PEERS present"
else
  echo "deps: npm: installing $MCP_PEERS (npm ci)"
  tw_quiet "$LOG_DIR/npm-mcp.log" npm --prefix "$MCP_PEERS" ci --no-audit --no-fund
fi
