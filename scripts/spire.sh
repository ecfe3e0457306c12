#!/usr/bin/env bash
# Builds spire-server and spire-agent from the Go module proxy once and caches them per version.
#
# Usage: scripts/spire.sh [--check]
#   Prints the directory holding spire-server and spire-agent on stdout (one line); progress goes
#   to stderr. With --check nothing is built: exit 0 and print the directory if it is cached.
#
# Cache: ${AKEYLESS_UPSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/akeyless-upstream}/spire-<ver>/bin
# The version is SPIRE_VERSION (default v1.13.3). The cache lives outside the build and work
# trees so that a fresh build directory or a new clone does not rebuild SPIRE.
#
# Exit status: 0 ready, 1 build failed (the Go error is printed), 2 no usable Go toolchain,
# 3 (--check only) not cached yet.
set -euo pipefail

SPIRE_VERSION="${SPIRE_VERSION:-v1.13.3}"
cache_root="${AKEYLESS_UPSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/akeyless-upstream}"
dest="$cache_root/spire-$SPIRE_VERSION"
bin_dir="$dest/bin"

log() { printf 'spire.sh: %s\n' "$*" >&2; }

is_cached() { [[ -x "$bin_dir/spire-server" && -x "$bin_dir/spire-agent" ]]; }

if is_cached; then
  printf '%s\n' "$bin_dir"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  log "SPIRE $SPIRE_VERSION is not cached in $bin_dir"
  exit 3
fi

# == Go toolchain ==
# The official tarball installs to /usr/local/go, which is often not on PATH in scripts.
export PATH="$PATH:/usr/local/go/bin:$HOME/go/bin"
if ! command -v go >/dev/null 2>&1; then
  log "no Go toolchain found (looked on PATH and in /usr/local/go/bin)."
  log "Run scripts/setup.sh: it installs Debian's golang-go, which is enough to fetch the Go"
  log "toolchain SPIRE needs from the Go module proxy."
  exit 2
fi
go_version="$(go env GOVERSION 2>/dev/null || go version | awk '{print $3}')"

# use_toolchain_from_proxy VERSION: the Go distribution is published on the module proxy as
# golang.org/toolchain; any Go that can download modules (Debian 12's 1.19 included) fetches it,
# and a writable copy with execute bits (module zips carry none) is kept in the cache.
use_toolchain_from_proxy() {
  local want="go$1" arch mod dir json
  arch="$(go env GOARCH)"
  dir="$cache_root/toolchain-$want"
  if [[ ! -x "$dir/bin/go" ]]; then
    mod="golang.org/toolchain@v0.0.1-$want.linux-$arch"
    log "fetching $mod from the module proxy"
    json="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$mod")" || {
      log "go mod download $mod failed"; return 1; }
    local src
    src="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])' <<<"$json")"
    rm -rf "$dir.tmp" && cp -r "$src" "$dir.tmp" && chmod -R u+w "$dir.tmp" &&
      chmod +x "$dir.tmp"/bin/* "$dir.tmp"/pkg/tool/*/* && rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  export PATH="$dir/bin:$PATH" GOTOOLCHAIN=local
  go_version="$(go env GOVERSION)"
}

mkdir -p "$cache_root"
# One build at a time per cache: parallel test runs and the demo may all ask at once.
exec 9>"$cache_root/.spire-$SPIRE_VERSION.lock"
if ! flock -n 9; then
  log "another process is building SPIRE $SPIRE_VERSION; waiting for it"
  flock 9
fi
if is_cached; then
  printf '%s\n' "$bin_dir"
  exit 0
fi

# The temp dir sits next to the destination so that the final rename is atomic (same file
# system): an interrupted build never leaves a half-filled cache entry.
work="$(mktemp -d "$cache_root/.spire-$SPIRE_VERSION.tmp.XXXXXX")"
heartbeat=""
cleanup() {
  if [[ -n "$heartbeat" ]]; then kill "$heartbeat" 2>/dev/null || true; fi
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

log "building SPIRE $SPIRE_VERSION with $go_version (first time only; takes several minutes)"
# download_spire: sets mod_json to `go mod download -json`'s answer; fails when it has no Dir.
download_spire() {
  mod_json="$(cd "$work" && go mod download -json \
      "github.com/spiffe/spire@$SPIRE_VERSION" 2>"$work/download.err")" || true
  src_dir="$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("Dir", ""))' \
      <<<"${mod_json:-{\}}" 2>/dev/null || true)"
  [[ -n "$src_dir" && -f "$src_dir/go.mod" ]]
}

log "downloading github.com/spiffe/spire@$SPIRE_VERSION from ${GOPROXY:-$(go env GOPROXY)}"
if ! download_spire; then
  # Go >= 1.21 refuses to unpack a module whose go.mod asks for a newer Go, but the go.mod itself
  # has arrived: read the version it wants, fetch that toolchain and try again.
  gomod="$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("GoMod", ""))' \
      <<<"${mod_json:-{\}}" 2>/dev/null || true)"
  need_go=""
  if [[ -n "$gomod" && -f "$gomod" ]]; then
    need_go="$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' "$gomod" | head -n1)"
  fi
  if [[ -z "$need_go" ]]; then
    log "go mod download failed:"
    cat "$work/download.err" >&2
    [[ -n "${mod_json:-}" ]] && printf '%s\n' "$mod_json" >&2
    exit 1
  fi
  log "SPIRE $SPIRE_VERSION needs go $need_go, this machine has ${go_version#go}"
  use_toolchain_from_proxy "$need_go" || exit 1
  log "using $go_version from the module proxy"
  if ! download_spire; then
    log "go mod download failed with $go_version:"
    cat "$work/download.err" >&2
    [[ -n "${mod_json:-}" ]] && printf '%s\n' "$mod_json" >&2
    exit 1
  fi
fi

# A local Go at least as new as SPIRE's go.mod asks for is used as is; an older one (that could
# still unpack the module, such as Go 1.19) fetches the exact toolchain go.mod names.
need_go="$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' "$src_dir/go.mod" | head -n1)"
have_go="${go_version#go}"
if [[ -n "$need_go" && "$(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -n1)" != "$need_go" ]]; then
  log "SPIRE $SPIRE_VERSION needs go $need_go, this machine has $have_go"
  use_toolchain_from_proxy "$need_go" || exit 1
  log "using $go_version from the module proxy"
fi

# The module cache is read-only; a writable copy lets 'go build' update go.sum if it must.
cp -r "$src_dir" "$work/src"
chmod -R u+w "$work/src"
mkdir -p "$work/out/bin"

log "compiling ./cmd/spire-server and ./cmd/spire-agent (go prints only downloads and errors)"
# go build is silent while it compiles; a heartbeat shows that it is still working.
( started=$SECONDS nap=""
  trap 'kill $nap 2>/dev/null; exit 0' TERM
  while :; do
    sleep 60 & nap=$!
    wait "$nap"
    log "still compiling SPIRE ($(( (SECONDS - started) / 60 )) min so far)"
  done
) &
heartbeat=$!
rc=0
(cd "$work/src" && GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED="${CGO_ENABLED:-1}" \
  go build -o "$work/out/bin/" ./cmd/spire-server ./cmd/spire-agent) || rc=$?
kill "$heartbeat" 2>/dev/null || true
wait "$heartbeat" 2>/dev/null || true
if ((rc != 0)); then
  log "go build of SPIRE $SPIRE_VERSION failed with status $rc (the error is above)"
  exit 1
fi
for b in spire-server spire-agent; do
  if [[ ! -x "$work/out/bin/$b" ]]; then
    log "go build finished but $b is missing"
    exit 1
  fi
done
printf '%s built by %s on %s\n' "$SPIRE_VERSION" "$go_version" "$(date -u +%FT%TZ)" \
  >"$work/out/BUILD-INFO"

rm -rf "$dest"
mv "$work/out" "$dest"
log "SPIRE $SPIRE_VERSION ready in $bin_dir"
printf '%s\n' "$bin_dir"
