#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian 12 machine.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build git ca-certificates curl
  libboost1.81-dev libboost-json1.81-dev
  libssl-dev openssl android-libboringssl-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  catch2 python3 clang-format clang-tidy
)

# Go builds SPIRE for the end-to-end tests and the demo. Any Go will do (scripts/spire.sh fetches
# the exact toolchain SPIRE needs from the module proxy); Debian's is the fallback.
if ! command -v go >/dev/null 2>&1 && [[ ! -x /usr/local/go/bin/go ]]; then
  packages+=(golang-go)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi
