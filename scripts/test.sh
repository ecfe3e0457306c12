#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the whole test suite
# (unit, client against the gateway emulator, plugin against a go-plugin host, end to end with a
# real SPIRE Server and Agent), then builds the library against BoringSSL and runs its tests.
#
# Environment:
#   BUILD_DIR        build directory (default: build)
#   CI               when "true": warnings are errors and no test may be skipped
#   SANITIZE         when set (e.g. "address,undefined"): build with those sanitizers instead and
#                    skip the BoringSSL pass (used by .ci/run)
#   SUMMARY_FILE     when set, per-build summary lines are appended there instead of printing a
#                    closing total (used by .ci/run to print one total for all passes)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build_dir="${BUILD_DIR:-build}"
werror=false
if [[ "${CI:-}" == "true" ]]; then werror=true; fi

bash scripts/setup.sh

# SPIRE Server and Agent for the end-to-end suite, built once from the Go module proxy and cached
# outside the work tree. A machine without Go gets a skipped end-to-end suite (a failure under CI).
spire_bin=""
if spire_bin="$(bash scripts/spire.sh)"; then
  export AKEYLESS_UPSTREAM_SPIRE_BIN="$spire_bin"
else
  echo "test: SPIRE binaries unavailable; the end-to-end suite will report why" >&2
fi

configure() {  # configure DIR [meson options...]
  local dir="$1"; shift
  if [[ -d "$dir/meson-private" ]]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}

summaries=()
run_suite() {  # run_suite DIR LABEL [meson test options...]
  local dir="$1" label="$2"; shift 2
  local rc=0
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" || rc=$?
  summaries+=("$(python3 scripts/test_summary.py "$dir/meson-logs/testlog.json" "$label")")
  # No fixture secret may appear anywhere in the run's output (SPIRE's and the emulator's logs
  # included).
  python3 scripts/check_no_secrets.py "$dir/meson-logs/testlog.txt" || rc=1
  return $rc
}

status=0
if [[ -n "${SANITIZE:-}" ]]; then
  # b_lundef=false: sanitizer runtimes are linked into executables only.
  configure "$build_dir" -Dwerror="$werror" -Db_sanitize="$SANITIZE" -Db_lundef=false \
    --buildtype=debug
  ninja -C "$build_dir" -j2
  run_suite "$build_dir" "sanitized($SANITIZE)" || status=1
else
  configure "$build_dir" -Dwerror="$werror"
  ninja -C "$build_dir" -j2
  run_suite "$build_dir" "openssl" || status=1

  # The library and its tests once more against BoringSSL (the plugin is OpenSSL-only, see
  # docs/crypto.md).
  configure "$build_dir-boringssl" -Dcrypto=boringssl -Dwerror="$werror"
  ninja -C "$build_dir-boringssl" -j2
  run_suite "$build_dir-boringssl" "boringssl" || status=1
fi

printf '%s\n' "${summaries[@]}"
if [[ -n "${SUMMARY_FILE:-}" ]]; then
  printf '%s\n' "${summaries[@]}" >>"$SUMMARY_FILE"
else
  python3 scripts/test_summary.py --total "${summaries[@]}"
fi
exit $status
