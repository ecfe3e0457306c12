#!/usr/bin/env bash
# The README's main-job command: a SPIRE Server whose CA is signed by a root held in Akeyless.
#
#   1. installs the Debian packages (scripts/setup.sh) and builds the plugin and the emulator;
#   2. builds SPIRE Server and Agent from the Go module proxy once (scripts/spire.sh, cached);
#   3. starts the Akeyless gateway emulator with a fresh root CA certificate item;
#   4. starts SPIRE Server with the akeyless_sm UpstreamAuthority plugin, and a SPIRE Agent;
#   5. fetches an X509-SVID for this shell's user and prints its chain and the root's SHA-256
#      fingerprint next to the fingerprint the emulator reports for its item;
#   6. stops everything (also on Ctrl-C or an error) and removes its temp dir.
#
# Environment: BUILD_DIR (default <repo>/build), DEMO_KEEP=1 keeps the temp dir (logs, configs).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
trust_domain="demo.test"
item="/SPIRE/demo/ca"

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
info() { printf '   %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# == processes and cleanup ==
pids=()
work=""
cleanup() {
  local rc=$?
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    # Give each process a few seconds, then stop waiting politely.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "$work" ]]; then
    if [[ $rc -ne 0 || -n "${DEMO_KEEP:-}" ]]; then
      printf 'demo: logs and configs kept in %s\n' "$work" >&2
    else
      rm -rf "$work"
    fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_until() {  # wait_until SECONDS DESCRIPTION LOG PID COMMAND...
  local secs="$1" what="$2" logf="$3" pid="$4"; shift 4
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      printf 'demo: process stopped while waiting for %s; last log lines:\n' "$what" >&2
      tail -n 20 "$logf" >&2
      exit 1
    fi
    if ((SECONDS >= end)); then
      printf 'demo: timed out waiting for %s; last log lines:\n' "$what" >&2
      tail -n 20 "$logf" >&2
      exit 1
    fi
    sleep 0.5
  done
}

# == 1. packages and build ==
step "Installing packages (scripts/setup.sh) and building"
bash "$root/scripts/setup.sh"
if [[ ! -d "$build_dir/meson-private" ]]; then
  meson setup "$build_dir" "$root" >/dev/null
fi
ninja -C "$build_dir" -j2 plugin/akeyless-upstream-sm tests/emulator/akeyless-gateway-emulator \
  >/dev/null
plugin="$build_dir/plugin/akeyless-upstream-sm"
emulator="$build_dir/tests/emulator/akeyless-gateway-emulator"
[[ -x "$plugin" ]] || die "the plugin was not built at $plugin"
[[ -x "$emulator" ]] || die "the emulator was not built at $emulator"
info "plugin:   $plugin"

# == 2. SPIRE ==
step "SPIRE Server and Agent (built from the Go module proxy the first time, then cached)"
spire_bin="$(bash "$root/scripts/spire.sh")" || die "SPIRE is not available (see above)"
info "SPIRE:    $spire_bin"

# Short path: Unix socket paths must stay under ~100 bytes.
work="$(mktemp -d /tmp/akeyless-demo.XXXXXX)"
mkdir -p "$work/emulator" "$work/server" "$work/agent" "$work/svid"

# == 3. the Akeyless side ==
step "Starting the Akeyless gateway emulator with a fresh root CA item $item"
access_id="p-demo"
access_key="demo-access-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cat >"$work/emulator.json" <<EOF
{
  "access_ids": [{"access_id": "$access_id", "access_type": "access_key",
                  "access_key": "$access_key", "read": ["/SPIRE/*"]}],
  "items": [{"name": "$item", "type": "CERTIFICATE",
             "generate": {"kind": "root", "key_type": "ec-p256",
                          "common_name": "Akeyless Demo Root CA", "ttl_days": 30}}]
}
EOF
"$emulator" --state-dir "$work/emulator" --config "$work/emulator.json" --quiet \
  >"$work/emulator.out" 2>"$work/emulator.log" &
pids+=($!)
wait_until 60 "the emulator" "$work/emulator.log" "${pids[-1]}" grep -q '^listening' \
  "$work/emulator.out"
gateway="$(cat "$work/emulator/endpoint")"
gateway_ca="$work/emulator/gateway-ca.pem"
info "gateway:  $gateway (TLS CA $gateway_ca)"

# What an operator does once: export the item's certificate as the agents' trust bundle.
gw() {  # gw OPERATION JSON-BODY
  curl -sS --fail-with-body --cacert "$gateway_ca" -H 'Content-Type: application/json' \
    -d "$2" "$gateway/api/v2/$1"
}
json_get() {  # json_get KEY... : prints stdin's JSON value at that path (integers index lists)
  python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if k.lstrip("-").isdigit() else v[k]
print(v)' "$@"
}
token="$(gw auth "{\"access-id\": \"$access_id\", \"access-key\": \"$access_key\"}" \
  | json_get token)"
gw get-certificate-value "{\"name\": \"$item\", \"token\": \"$token\"}" \
  | json_get certificate_pem >"$work/agent/trust-bundle.pem"
item_fp="$(gw describe-item "{\"name\": \"$item\", \"token\": \"$token\"}" \
  | json_get item_general_info certificate_chain_info certificate_chain -1 sha_256_fingerprint)"
unset token

# == 4. SPIRE Server with the plugin, and an agent ==
step "Starting SPIRE Server with UpstreamAuthority \"akeyless_sm\""
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
server_port="$(free_port)"
checksum="$(sha256sum "$plugin" | cut -d' ' -f1)"
cat >"$work/server/server.conf" <<EOF
server {
  bind_address = "127.0.0.1"
  bind_port = "$server_port"
  socket_path = "$work/server/api.sock"
  trust_domain = "$trust_domain"
  data_dir = "$work/server/data"
  log_level = "INFO"
  ca_ttl = "12h"
  default_x509_svid_ttl = "1h"
}

plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
      connection_string = "$work/server/datastore.sqlite3"
    }
  }
  KeyManager "memory" {
    plugin_data {}
  }
  NodeAttestor "join_token" {
    plugin_data {}
  }
  UpstreamAuthority "akeyless_sm" {
    plugin_cmd = "$plugin"
    plugin_checksum = "$checksum"
    plugin_data {
      akeyless_gateway_url = "$gateway"
      access_id = "$access_id"
      access_key = "$access_key"
      certificate_name = "$item"
      gateway_ca_bundle_path = "$gateway_ca"
    }
  }
}
EOF
chmod 600 "$work/server/server.conf"
server=("$spire_bin/spire-server")
"${server[@]}" run -config "$work/server/server.conf" >"$work/server/server.log" 2>&1 &
pids+=($!)
wait_until 120 "SPIRE Server" "$work/server/server.log" "${pids[-1]}" \
  "${server[@]}" healthcheck -socketPath "$work/server/api.sock"
info "SPIRE Server is up; its CA was minted by the plugin from $item"

step "Starting a SPIRE Agent (join token) that trusts only the Akeyless root"
join_token="$("${server[@]}" token generate -socketPath "$work/server/api.sock" \
  | sed -n 's/^Token: //p')"
cat >"$work/agent/agent.conf" <<EOF
agent {
  data_dir = "$work/agent/data"
  log_level = "INFO"
  server_address = "127.0.0.1"
  server_port = "$server_port"
  socket_path = "$work/agent/workload.sock"
  trust_bundle_path = "$work/agent/trust-bundle.pem"
  trust_domain = "$trust_domain"
}

plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
  WorkloadAttestor "unix" {
    plugin_data {}
  }
}
EOF
"$spire_bin/spire-agent" run -config "$work/agent/agent.conf" -joinToken "$join_token" \
  >"$work/agent/agent.log" 2>&1 &
pids+=($!)
wait_until 120 "SPIRE Agent" "$work/agent/agent.log" "${pids[-1]}" \
  "$spire_bin/spire-agent" healthcheck -socketPath "$work/agent/workload.sock"
info "agent attested as spiffe://$trust_domain/spire/agent/join_token/$join_token"

# == 5. an SVID ==
step "Registering spiffe://$trust_domain/demo-workload for uid $(id -u) and fetching its X509-SVID"
"${server[@]}" entry create -socketPath "$work/server/api.sock" \
  -parentID "spiffe://$trust_domain/spire/agent/join_token/$join_token" \
  -spiffeID "spiffe://$trust_domain/demo-workload" -selector "unix:uid:$(id -u)" >/dev/null
fetch() {
  "$spire_bin/spire-agent" api fetch x509 -socketPath "$work/agent/workload.sock" \
    -write "$work/svid" -timeout 10s
}
wait_until 120 "the X509-SVID (the agent syncs entries every few seconds)" \
  "$work/agent/agent.log" "${pids[-1]}" fetch

# Split the served chain (leaf first, then SPIRE's CA minted by the plugin) into files.
python3 - "$work/svid/svid.0.pem" "$work/svid" <<'EOF'
import re, sys
pems = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n", open(sys.argv[1]).read(), re.S)
for i, p in enumerate(pems):
    open(f"{sys.argv[2]}/chain-{i}.pem", "w").write(p)
EOF
printf '\n'
i=0
for f in "$work"/svid/chain-*.pem; do
  case $i in 0) role="X509-SVID (leaf)";; 1) role="SPIRE Server CA (minted by the plugin)";;
    *) role="upstream intermediate";; esac
  printf '   [%d] %s\n' "$i" "$role"
  openssl x509 -in "$f" -noout -subject -issuer -enddate -ext subjectAltName 2>/dev/null \
    | sed -e '/^X509v3 Subject Alternative Name/d' -e 's/^ */         /'
  i=$((i + 1))
done
printf '   [root] Akeyless item %s (the agent trust bundle)\n' "$item"
openssl x509 -in "$work/agent/trust-bundle.pem" -noout -subject -issuer -enddate \
  | sed 's/^/         /'

cat "$work"/svid/chain-[1-9]*.pem >"$work/svid/untrusted.pem"
step "Verifying the SVID against the Akeyless root only"
openssl verify -CAfile "$work/agent/trust-bundle.pem" -untrusted "$work/svid/untrusted.pem" \
  "$work/svid/chain-0.pem" | sed 's/^/   /'
svid_root_fp="$(openssl x509 -in "$work/agent/trust-bundle.pem" -noout -fingerprint -sha256 \
  | cut -d= -f2 | tr -d : | tr 'A-F' 'a-f')"
bundle_fp="$(openssl x509 -in "$work/svid/bundle.0.pem" -noout -fingerprint -sha256 \
  | cut -d= -f2 | tr -d : | tr 'A-F' 'a-f')"
item_fp="$(tr -d ': ' <<<"$item_fp" | tr 'A-F' 'a-f')"
info "root SHA-256, trust bundle:              $svid_root_fp"
info "root SHA-256, bundle served by SPIRE:    $bundle_fp"
info "root SHA-256, Akeyless item (describe):  $item_fp"
if [[ "$svid_root_fp" == "$item_fp" && "$bundle_fp" == "$item_fp" ]]; then
  step "Done: the SVID chains to the root held in Akeyless item $item"
else
  die "fingerprints differ: the SVID does not chain to the Akeyless item's root"
fi
