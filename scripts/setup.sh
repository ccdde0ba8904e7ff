#!/usr/bin/env bash
# Installs dagrad's build dependencies from Debian 12's archive (skipped when already present)
# and configures a release build in ./build. Usage: scripts/setup.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
PACKAGES=(g++ meson ninja-build pkg-config cmake libdnnl-dev ocl-icd-opencl-dev libyaml-cpp-dev
          doctest-dev libboost-dev libboost-program-options-dev python3)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  meson setup "$BUILD_DIR" --buildtype=release >/dev/null
fi
ninja -C "$BUILD_DIR" >/dev/null
echo "setup: built in $BUILD_DIR"
