#!/usr/bin/env bash
# Benchmarks (their own command; never part of the test suite): builds a release build in
# build-bench and runs the mint benchmark. Usage: scripts/bench.sh [ITERATIONS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh >/dev/null
if [[ ! -d build-bench/meson-private ]]; then
  meson setup build-bench --buildtype=release >/dev/null
fi
ninja -C build-bench -j2 tests/bench/mint_bench >/dev/null
./build-bench/tests/bench/mint_bench "${1:-200}"
