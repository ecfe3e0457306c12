#!/usr/bin/env python3
"""End-to-end tests: a real SPIRE Server and Agent mint and serve X509-SVIDs through the plugin.

Each case starts its own processes on loopback ports picked at run time, in a fresh temp dir,
and stops them all when it ends (pass or fail). Python 3 standard library only.

Usage: spire_e2e.py CASE [CASE...]      (spire_e2e.py --list prints the cases)

Inputs, from meson (tests/e2e/meson.build) or by hand:
  E2E_PLUGIN      path of the built akeyless-upstream-sm executable
  E2E_EMULATOR    path of the built akeyless-gateway-emulator
  E2E_SPIRE_SH    path of scripts/spire.sh, which prints the cached SPIRE bin dir (building it
                  the first time)
  E2E_SPIRE_BIN   optional: a directory with spire-server and spire-agent (skips spire.sh)
  E2E_KEEP        optional: keep the temp dir of each case for inspection

Exit status: 0 pass, 1 fail, 77 skip (meson's code) only when no Go toolchain exists to build
SPIRE. Under CI=true a skip is a failure: CI must not report a suite it never ran as green.
"""

import atexit
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

SKIP = 77
TRUST_DOMAIN = "e2e.test"
# Liveness deadlines only: generous, because the machine is shared and slow.
START_DEADLINE = 120.0
FETCH_DEADLINE = 120.0


class Skip(Exception):
    """The case cannot run on this machine (reason in the message)."""


class Failure(Exception):
    """An assertion about SPIRE's or the plugin's behaviour did not hold."""


def log(msg):
    print(f"[e2e {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def free_port():
    """A loopback port that was free a moment ago (bind port 0, read it back, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, timeout=120, check_rc=True, **kw):
    """Runs a short command, returns CompletedProcess; output is captured as text."""
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check_rc and res.returncode != 0:
        raise Failure(f"command failed ({res.returncode}): {' '.join(map(str, cmd))}\n"
                      f"stdout: {res.stdout.strip()}\nstderr: {res.stderr.strip()}")
    return res


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.S)


def split_pems(text):
    return [m.group(0).strip() + "\n" for m in PEM_RE.finditer(text)]


def cert_fingerprint(pem):
    """SHA-256 of the DER, hex, lower case: the same for a certificate however it is wrapped."""
    body = "".join(pem.strip().splitlines()[1:-1])
    return hashlib.sha256(base64.b64decode(body)).hexdigest()


def cert_text(pem, *fields):
    res = run(["openssl", "x509", "-noout", *fields], input=pem)
    return res.stdout.strip()


# == processes ==

_processes = []


class Proc:
    """A background process whose stdout+stderr go to a log file; stopped at exit."""

    def __init__(self, name, cmd, log_path, env=None, stdout_pipe=False):
        self.name = name
        self.log_path = log_path
        self.log_file = open(log_path, "ab")
        self.popen = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else self.log_file,
            stderr=self.log_file, env=env, start_new_session=True)
        _processes.append(self)
        log(f"started {name} (pid {self.popen.pid})")

    def alive(self):
        return self.popen.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self, timeout=15):
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop on SIGTERM within {timeout}s; killing it")
                self.popen.kill()
                self.popen.wait(timeout=timeout)
        if self.popen.stdout:
            self.popen.stdout.close()
        self.log_file.close()


def _stop_all():
    for p in reversed(_processes):
        try:
            p.stop()
        except Exception as e:  # cleanup must go on for the others
            log(f"stopping {p.name}: {e}")
    _processes.clear()


atexit.register(_stop_all)


def _on_term(signum, _frame):
    # meson sends SIGTERM on timeout: stop the children so that nothing is left behind.
    _stop_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_term)
signal.signal(signal.SIGINT, _on_term)


def wait_for(what, fn, deadline_s, proc=None, interval=0.5):
    """Polls fn() until it returns a truthy value; fails with the log tail if proc dies."""
    end = time.monotonic() + deadline_s
    last_err = None
    while time.monotonic() < end:
        if proc is not None and not proc.alive():
            raise Failure(f"{proc.name} exited ({proc.popen.returncode}) while waiting for "
                          f"{what}: {fatal_reason(proc.log_text())}")
        try:
            v = fn()
            if v:
                return v
        except Failure as e:
            last_err = e
        time.sleep(interval)
    raise Failure(f"timed out after {deadline_s:.0f}s waiting for {what}"
                  + (f"; last error: {last_err}" if last_err else "")
                  + (f"; log tail:\n{tail(proc.log_text())}" if proc else ""))


def tail(text, n=40):
    return "\n".join(text.splitlines()[-n:])


def fatal_reason(log_text):
    """The error SPIRE gave for stopping (its 'Server crashed' / 'Fatal run error' line, which
    carries the plugin's message), else the log tail."""
    for line in reversed(log_text.splitlines()):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and obj.get("level") in ("error", "fatal") and obj.get("error"):
            return f"{obj.get('msg')}: {obj['error']}"
    return "log tail:\n" + tail(log_text)


# == locating the binaries ==

def spire_bin_dir():
    given = os.environ.get("E2E_SPIRE_BIN") or os.environ.get("AKEYLESS_UPSTREAM_SPIRE_BIN")
    if given:
        return given
    script = os.environ.get("E2E_SPIRE_SH")
    if not script:
        raise Failure("E2E_SPIRE_SH is not set (run through meson test, or set E2E_SPIRE_BIN)")
    log("locating SPIRE through scripts/spire.sh (builds it the first time: minutes)")
    res = subprocess.run(["bash", script], stdout=subprocess.PIPE, text=True)
    if res.returncode == 2:
        raise Skip("no usable Go toolchain to build SPIRE (scripts/spire.sh explained why above)")
    if res.returncode != 0:
        raise Failure(f"scripts/spire.sh failed with status {res.returncode}")
    return res.stdout.strip().splitlines()[-1]


def need_file(env_name):
    path = os.environ.get(env_name)
    if not path:
        raise Failure(f"{env_name} is not set (run through meson test)")
    if not os.access(path, os.X_OK):
        raise Failure(f"{env_name}={path} is not an executable; build it first")
    return path


# == upstream material made with openssl (for the disk baseline and PEM-file items) ==

KEY_ARGS = {
    "ec-p256": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "ec-p384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "rsa-2048": ["-newkey", "rsa:2048"],
}


def make_root(d, name, key_type="ec-p256", days=30):
    cert, key = os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key")
    run(["openssl", "req", "-x509", *KEY_ARGS[key_type], "-nodes", "-keyout", key, "-out", cert,
         "-days", str(days), "-subj", f"/O=akeyless-upstream e2e/CN={name}",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    return cert, key


# == gateway emulator ==

class Emulator:
    """The Akeyless gateway emulator (tests/emulator), driven through its config and admin API."""

    ACCESS_ID = "p-e2eaccess"
    ACCESS_KEY = "e2e-access-key-not-a-secret"

    def __init__(self, binary, work, items):
        self.state = os.path.join(work, "emulator")
        os.makedirs(self.state, exist_ok=True)
        self.config_path = os.path.join(work, "emulator.json")
        config = {
            "access_ids": [{"access_id": self.ACCESS_ID, "access_type": "access_key",
                            "access_key": self.ACCESS_KEY}],
            "items": [dict(item, name=name, type="CERTIFICATE") for name, item in items.items()],
        }
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=2)
        self.proc = Proc("emulator", [binary, "--state-dir", self.state,
                                      "--config", self.config_path],
                         os.path.join(work, "emulator.log"), stdout_pipe=True)
        line = self._ready_line()
        check(line.startswith("listening https://"), f"unexpected emulator ready line: {line!r}")
        self.endpoint = line.split()[1]
        self.ca_path = os.path.join(self.state, "gateway-ca.pem")
        self.tls = ssl.create_default_context(cafile=self.ca_path)
        log(f"emulator at {self.endpoint}")

    def _ready_line(self):
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.popen.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=START_DEADLINE):
            raise Failure(f"emulator printed no ready line; log:\n{tail(self.proc.log_text())}")
        return self.proc.popen.stdout.readline().decode(errors="replace").strip()

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.endpoint}/_emulator/{path}", data=data,
                                     method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.tls, timeout=30) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raise Failure(f"emulator admin {method} {path}: HTTP {e.code}: {e.read()[:500]!r}")
        return json.loads(raw) if raw else None

    def gateway(self, op, body):
        """One call to the emulated gateway API, as a client would make it."""
        req = urllib.request.Request(f"{self.endpoint}/api/v2/{op}",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.tls, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise Failure(f"emulator {op}: HTTP {e.code}: {e.read()[:500]!r}")

    def item_pems(self, name):
        """The certificate PEMs the item holds now (read through the gateway API)."""
        token = self.gateway("auth", {"access-id": self.ACCESS_ID,
                                      "access-key": self.ACCESS_KEY})["token"]
        value = self.gateway("get-certificate-value", {"name": name, "token": token})
        return split_pems(value["certificate_pem"])

    def item_root_pem(self, name):
        """The last certificate of the item: its root for a root item or a bundle item."""
        return self.item_pems(name)[-1]

    def rotate(self, name):
        return self.admin("POST", "items/rotate", {"name": name})

    def stop(self):
        self.proc.stop()


# == SPIRE server and agent ==

def hcl_quote(s):
    return json.dumps(str(s))


def hcl_value(v, indent):
    pad = "  " * indent
    if isinstance(v, dict):
        inner = "".join(f"{pad}  {k} = {hcl_value(x, indent + 1)}\n" for k, x in v.items())
        return "{\n" + inner + pad + "}"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(hcl_value(x, indent) for x in v) + "]"
    return hcl_quote(v)


class SpireServer:
    def __init__(self, bin_dir, work, upstream, key_type="ec-p256", json_conf=False,
                 ca_ttl="12h", expect_start=True, env=None):
        """upstream: (plugin name, dict of plugin settings incl. plugin_cmd/plugin_data)."""
        self.bin = os.path.join(bin_dir, "spire-server")
        self.dir = os.path.join(work, "server")
        os.makedirs(self.dir, exist_ok=True)
        self.socket = os.path.join(self.dir, "api.sock")
        self.port = free_port()
        server = {
            "bind_address": "127.0.0.1",
            "bind_port": str(self.port),
            "socket_path": self.socket,
            "trust_domain": TRUST_DOMAIN,
            "data_dir": os.path.join(self.dir, "data"),
            "log_level": "DEBUG",
            "log_format": "json",
            "ca_key_type": key_type,
            "ca_ttl": ca_ttl,
            "default_x509_svid_ttl": "1h",
        }
        datastore = {"plugin_data": {"database_type": "sqlite3",
                                     "connection_string": os.path.join(self.dir, "ds.sqlite3")}}
        up_name, up_settings = upstream
        plugins = [("DataStore", "sql", datastore),
                   ("KeyManager", "memory", {"plugin_data": {}}),
                   ("NodeAttestor", "join_token", {"plugin_data": {}}),
                   ("UpstreamAuthority", up_name, up_settings)]
        if json_conf:
            self.conf = os.path.join(self.dir, "server.json")
            doc = {"server": server,
                   "plugins": {t: [{n: s}] for t, n, s in plugins}}
            with open(self.conf, "w") as f:
                json.dump(doc, f, indent=2)
        else:
            self.conf = os.path.join(self.dir, "server.conf")
            with open(self.conf, "w") as f:
                f.write("server {\n")
                for k, v in server.items():
                    f.write(f"  {k} = {hcl_value(v, 1)}\n")
                f.write("}\n\nplugins {\n")
                for t, n, s in plugins:
                    f.write(f"  {t} {hcl_quote(n)} {{\n")
                    for k, v in s.items():
                        if isinstance(v, dict):
                            # plugin_data as a block, the form the docs show.
                            f.write(f"    {k} {hcl_value(v, 2)}\n")
                        else:
                            f.write(f"    {k} = {hcl_value(v, 2)}\n")
                    f.write("  }\n")
                f.write("}\n")
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = Proc("spire-server", [self.bin, "run", "-config", self.conf], self.log_path,
                         env=env)
        if expect_start:
            wait_for("spire-server healthy", self.healthy, START_DEADLINE, proc=self.proc)
            log("spire-server healthy")

    def cli(self, *args, check_rc=True, timeout=60):
        return run([self.bin, *args, "-socketPath", self.socket], check_rc=check_rc,
                   timeout=timeout)

    def healthy(self):
        return self.cli("healthcheck", check_rc=False).returncode == 0

    def log_lines(self):
        """The server log as parsed JSON objects (non-JSON lines are returned as {'raw': ...})."""
        out = []
        for line in self.proc.log_text().splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
                out.append(obj if isinstance(obj, dict) else {"raw": line})
            except json.JSONDecodeError:
                out.append({"raw": line})
        return out

    def token(self):
        out = self.cli("token", "generate").stdout
        m = re.search(r"Token: (\S+)", out)
        check(m, f"no token in 'token generate' output: {out!r}")
        return m.group(1)

    def bundle_pems(self):
        return split_pems(self.cli("bundle", "show").stdout)

    def mint(self, out_dir, spiffe_path="minted"):
        os.makedirs(out_dir, exist_ok=True)
        self.cli("x509", "mint", "-spiffeID", f"spiffe://{TRUST_DOMAIN}/{spiffe_path}",
                 "-write", out_dir)
        with open(os.path.join(out_dir, "svid.pem")) as f:
            return split_pems(f.read())

    def stop(self):
        self.proc.stop()


class SpireAgent:
    def __init__(self, bin_dir, work, server, trust_bundle_pem):
        self.bin = os.path.join(bin_dir, "spire-agent")
        self.dir = os.path.join(work, "agent")
        os.makedirs(self.dir, exist_ok=True)
        self.socket = os.path.join(self.dir, "workload.sock")
        bundle = os.path.join(self.dir, "trust-bundle.pem")
        with open(bundle, "w") as f:
            f.write(trust_bundle_pem)
        self.token = server.token()
        conf = os.path.join(self.dir, "agent.conf")
        with open(conf, "w") as f:
            f.write(f"""agent {{
  data_dir = {hcl_quote(os.path.join(self.dir, "data"))}
  log_level = "DEBUG"
  server_address = "127.0.0.1"
  server_port = "{server.port}"
  socket_path = {hcl_quote(self.socket)}
  trust_bundle_path = {hcl_quote(bundle)}
  trust_domain = {hcl_quote(TRUST_DOMAIN)}
}}

plugins {{
  NodeAttestor "join_token" {{
    plugin_data {{}}
  }}
  KeyManager "memory" {{
    plugin_data {{}}
  }}
  WorkloadAttestor "unix" {{
    plugin_data {{}}
  }}
}}
""")
        self.proc = Proc("spire-agent", [self.bin, "run", "-config", conf, "-joinToken",
                                         self.token], os.path.join(self.dir, "agent.log"))
        wait_for("spire-agent healthy",
                 lambda: run([self.bin, "healthcheck", "-socketPath", self.socket],
                             check_rc=False).returncode == 0,
                 START_DEADLINE, proc=self.proc)
        log("spire-agent healthy")
        self.spiffe_id = f"spiffe://{TRUST_DOMAIN}/spire/agent/join_token/{self.token}"

    def fetch_x509(self, out_dir):
        """Fetches the workload's X509-SVID; returns (chain PEMs leaf first, bundle PEMs)."""
        os.makedirs(out_dir, exist_ok=True)

        def attempt():
            res = run([self.bin, "api", "fetch", "x509", "-socketPath", self.socket,
                       "-write", out_dir, "-timeout", "10s"], check_rc=False, timeout=60)
            if res.returncode != 0:
                raise Failure(f"fetch x509: {res.stderr.strip() or res.stdout.strip()}")
            return True

        wait_for("an X509-SVID from the agent", attempt, FETCH_DEADLINE, proc=self.proc,
                 interval=2)
        with open(os.path.join(out_dir, "svid.0.pem")) as f:
            chain = split_pems(f.read())
        with open(os.path.join(out_dir, "bundle.0.pem")) as f:
            bundle = split_pems(f.read())
        return chain, bundle

    def stop(self):
        self.proc.stop()


def register_workload(server, agent):
    server.cli("entry", "create", "-parentID", agent.spiffe_id,
               "-spiffeID", f"spiffe://{TRUST_DOMAIN}/workload",
               "-selector", f"unix:uid:{os.getuid()}")


def verify_chain(work, chain, root_pem, label):
    """openssl verify: leaf chain[0], intermediates chain[1:], trust anchor root_pem only."""
    check(len(chain) >= 2, f"{label}: expected leaf + SPIRE CA at least, got {len(chain)} certs")
    d = tempfile.mkdtemp(prefix="verify-", dir=work)
    leaf, inter, root = (os.path.join(d, n) for n in ("leaf.pem", "inter.pem", "root.pem"))
    with open(leaf, "w") as f:
        f.write(chain[0])
    with open(inter, "w") as f:
        f.write("".join(chain[1:]))
    with open(root, "w") as f:
        f.write(root_pem)
    res = run(["openssl", "verify", "-CAfile", root, "-untrusted", inter, leaf], check_rc=False)
    check(res.returncode == 0 and ": OK" in res.stdout,
          f"{label}: the SVID does not chain to the expected root: {res.stdout.strip()} "
          f"{res.stderr.strip()}")
    root_fp = cert_fingerprint(root_pem)
    check(all(cert_fingerprint(c) != root_fp for c in chain),
          f"{label}: the root must not be inside the served chain")
    check(f"URI:spiffe://{TRUST_DOMAIN}/" in cert_text(chain[0], "-ext", "subjectAltName"),
          f"{label}: leaf has no SPIFFE ID in its SAN")
    log(f"{label}: {len(chain)}-cert chain verifies to root {root_fp[:16]}…")


# == the cases ==

class Case:
    """Per-case context: temp dir, binaries."""

    def __init__(self, name):
        self.name = name
        self.work = tempfile.mkdtemp(prefix=f"e2e-{name[:12]}-", dir="/tmp")
        self.spire = spire_bin_dir()

    def plugin(self):
        return need_file("E2E_PLUGIN")

    def emulator(self, items):
        return Emulator(need_file("E2E_EMULATOR"), self.work, items)

    def sm_upstream(self, emu, certificate_name, extra=None, data_file=None):
        data = {
            "akeyless_gateway_url": emu.endpoint,
            "access_id": emu.ACCESS_ID,
            "access_key": emu.ACCESS_KEY,
            "certificate_name": certificate_name,
            "gateway_ca_bundle_path": emu.ca_path,
        }
        data.update(extra or {})
        plugin = self.plugin()
        settings = {"plugin_cmd": plugin, "plugin_checksum": sha256_file(plugin)}
        if data_file:
            write_plugin_data_file(data_file, data)
            settings["plugin_data_file"] = data_file
        else:
            settings["plugin_data"] = data
        return ("akeyless_sm", settings)

    def full_flow(self, server, root_pem, label):
        agent = SpireAgent(self.spire, self.work, server, root_pem)
        register_workload(server, agent)
        chain, bundle = agent.fetch_x509(os.path.join(self.work, f"svid-{label}"))
        verify_chain(self.work, chain, root_pem, label)
        check(cert_fingerprint(root_pem) in {cert_fingerprint(b) for b in bundle},
              f"{label}: the agent's bundle lacks the upstream root")
        return agent, chain


def write_plugin_data_file(path, data):
    with open(path + ".tmp", "w") as f:
        for k, v in data.items():
            f.write(f"{k} = {hcl_value(v, 0)}\n")
    os.replace(path + ".tmp", path)


def is_plugin_line(line):
    """Whether a SPIRE log line came from the plugin's stderr (not from SPIRE's catalog about
    the plugin): go-plugin names the logger after the binary, so subsystem_name carries it."""
    return "akeyless-upstream-sm" in str(line.get("subsystem_name", ""))


def plugin_log_lines(server):
    """SPIRE log lines that came from the external plugin's stderr."""
    return [l for l in server.log_lines() if is_plugin_line(l)]


def assert_plugin_logs_parsed(server):
    lines = plugin_log_lines(server)
    check(lines, "no log line from the external plugin in SPIRE's log")
    # A line go-plugin could not parse is logged at debug with the raw text as the message.
    raw = [l for l in lines if str(l.get("msg", "")).lstrip().startswith(("{", "["))]
    check(not raw, f"plugin log lines reached SPIRE unparsed: {raw[:3]}")
    levels = {l.get("level") for l in lines}
    check("info" in levels, f"no info-level plugin line in SPIRE's log (levels: {levels})")
    configured = [l for l in lines if l.get("msg") == "Configured Akeyless upstream authority"]
    check(configured, "the plugin's Configure line is missing from SPIRE's log")
    # The plugin's own key/value pairs must arrive as fields of SPIRE's log entry.
    check(configured[0].get("certificate_name") and configured[0].get("level") == "info",
          f"the plugin's fields or level did not reach SPIRE's log entry: {configured[0]}")
    log(f"plugin log lines parsed by SPIRE: {len(lines)} lines, levels {sorted(levels)}")


def generated_item(key_type="ec-p256", kind="root", bundle_item=None):
    gen = {"key_type": key_type, "kind": kind}
    if bundle_item:
        gen["bundle_item"] = bundle_item
    return {"generate": gen}


def case_disk_baseline(c):
    """SPIRE's built-in disk UpstreamAuthority: proves the SPIRE/agent/fetch/verify mechanics."""
    cert, key = make_root(c.work, "disk-root")
    server = SpireServer(c.spire, c.work, ("disk", {"plugin_data": {
        "cert_file_path": cert, "key_file_path": key}}))
    with open(cert) as f:
        root = f.read()
    c.full_flow(server, root, "disk")


def sm_key_type_case(key_type):
    def fn(c):
        emu = c.emulator({"/e2e/ca": generated_item(key_type="ec-p256")})
        root = emu.item_root_pem("/e2e/ca")
        server = SpireServer(c.spire, c.work, c.sm_upstream(emu, "/e2e/ca"), key_type=key_type)
        c.full_flow(server, root, f"ca_key_type={key_type}")
        assert_plugin_logs_parsed(server)
    fn.__doc__ = f"SPIRE with ca_key_type {key_type} gets its CA minted through the plugin."
    return fn


def case_upstream_key_types(c):
    """Upstream items of every key type the plugin signs with (EC P-256/P-384, RSA-2048)."""
    emu = c.emulator({f"/e2e/{k}": generated_item(key_type=k) for k in KEY_ARGS})
    for k in KEY_ARGS:
        root = emu.item_root_pem(f"/e2e/{k}")
        server = SpireServer(c.spire, os.path.join(c.work, k), c.sm_upstream(emu, f"/e2e/{k}"))
        out = server.mint(os.path.join(c.work, k, "minted"))
        verify_chain(c.work, out, root, f"upstream {k}")
        server.stop()


def case_intermediate_bundle(c):
    """The item holds an intermediate; its root sits in bundle_certificate_name."""
    emu = c.emulator({
        "/e2e/intermediate": generated_item(kind="intermediate", bundle_item="/e2e/root-bundle"),
    })
    root = emu.item_root_pem("/e2e/root-bundle")
    server = SpireServer(c.spire, c.work, c.sm_upstream(
        emu, "/e2e/intermediate", {"bundle_certificate_name": "/e2e/root-bundle"}))
    _, chain = c.full_flow(server, root, "intermediate")
    check(len(chain) >= 3, f"expected leaf + SPIRE CA + upstream intermediate, got {len(chain)}")
    bundle = {cert_fingerprint(p) for p in server.bundle_pems()}
    check(cert_fingerprint(root) in bundle, "the bundle lacks the root from the bundle item")


def case_intermediate_chain_in_item(c):
    """The item holds an intermediate followed by its root (no bundle item): the served chain
    ends with the intermediate, and the root goes to the bundle only."""
    emu = c.emulator({"/e2e/intermediate": {"generate": {
        "key_type": "ec-p384", "kind": "intermediate", "bundle_item": "/e2e/root-bundle",
        "include_chain": True}}})
    pems = emu.item_pems("/e2e/intermediate")
    check(len(pems) == 2, f"expected intermediate + root in the item, got {len(pems)} certs")
    root = pems[-1]
    server = SpireServer(c.spire, c.work, c.sm_upstream(emu, "/e2e/intermediate"))
    _, chain = c.full_flow(server, root, "chain-in-item")
    check(len(chain) == 3, f"expected leaf + SPIRE CA + upstream intermediate, got {len(chain)}")
    check(cert_fingerprint(chain[2]) == cert_fingerprint(pems[0]),
          "the served chain does not end with the item's intermediate")


def case_json_config(c):
    """A JSON-format server.conf with the same plugin settings works as the HCL one."""
    emu = c.emulator({"/e2e/ca": generated_item()})
    root = emu.item_root_pem("/e2e/ca")
    server = SpireServer(c.spire, c.work, c.sm_upstream(emu, "/e2e/ca"), json_conf=True)
    c.full_flow(server, root, "json-config")
    assert_plugin_logs_parsed(server)


def case_data_file_sigusr1(c):
    """plugin_data_file is re-read on SIGUSR1; the plugin is reconfigured and mints from the new
    item."""
    emu = c.emulator({"/e2e/a": generated_item(), "/e2e/b": generated_item()})
    root_a, root_b = emu.item_root_pem("/e2e/a"), emu.item_root_pem("/e2e/b")
    data_file = os.path.join(c.work, "plugin-data.hcl")
    up = c.sm_upstream(emu, "/e2e/a", data_file=data_file)
    server = SpireServer(c.spire, c.work, up)
    verify_chain(c.work, server.mint(os.path.join(c.work, "m1")), root_a, "before SIGUSR1")
    before = len(server.log_lines())
    data = {
        "akeyless_gateway_url": emu.endpoint, "access_id": emu.ACCESS_ID,
        "access_key": emu.ACCESS_KEY, "certificate_name": "/e2e/b",
        "gateway_ca_bundle_path": emu.ca_path,
    }
    write_plugin_data_file(data_file, data)
    server.proc.popen.send_signal(signal.SIGUSR1)
    wait_for("SPIRE's 'Plugin reconfigured' line",
             lambda: any(l.get("msg") == "Plugin reconfigured"
                         for l in server.log_lines()[before:]),
             60, proc=server.proc)
    # The plugin's own Configure line names the item it now reads.
    reconfigured = [l for l in server.log_lines()[before:]
                    if is_plugin_line(l) and l.get("certificate_name") == "/e2e/b"]
    check(reconfigured, "the plugin logged no Configure line naming the new certificate_name")
    log(f"plugin after SIGUSR1: {reconfigured[0].get('msg')} "
        f"(certificate_name={reconfigured[0].get('certificate_name')})")
    prepare_and_activate(server)
    verify_chain(c.work, server.mint(os.path.join(c.work, "m2")), root_b, "after SIGUSR1")

    # A broken file: SPIRE reports the plugin's refusal and the previous configuration stays.
    before = len(server.log_lines())
    write_plugin_data_file(data_file, dict(data, certificate_name="/e2e/missing"))
    server.proc.popen.send_signal(signal.SIGUSR1)
    failed = wait_for("SPIRE's 'Failed to reconfigure plugin' line",
                      lambda: [l for l in server.log_lines()[before:]
                               if l.get("msg") == "Failed to reconfigure plugin"],
                      60, proc=server.proc)
    check("/e2e/missing" in str(failed[0].get("error")),
          f"the reconfigure error does not name the missing item: {failed[0]}")
    prepare_and_activate(server)
    verify_chain(c.work, server.mint(os.path.join(c.work, "m3")), root_b, "after a bad SIGUSR1")


def prepare_and_activate(server):
    """Forces a new mint through the upstream authority and makes its CA the active one."""
    out = server.cli("localauthority", "x509", "prepare", "-output", "json").stdout
    prepared = json.loads(out)["prepared_authority"]["authority_id"]
    server.cli("localauthority", "x509", "activate", "-authorityID", prepared)
    return prepared


def case_access_key_from_env(c):
    """access_key left out of plugin_data and given as AKEYLESS_ACCESS_KEY in SPIRE Server's
    environment, which SPIRE passes on to the plugin."""
    emu = c.emulator({"/e2e/ca": generated_item()})
    root = emu.item_root_pem("/e2e/ca")
    name, settings = c.sm_upstream(emu, "/e2e/ca")
    del settings["plugin_data"]["access_key"]
    env = dict(os.environ, AKEYLESS_ACCESS_KEY=emu.ACCESS_KEY)
    server = SpireServer(c.spire, c.work, (name, settings), env=env)
    verify_chain(c.work, server.mint(os.path.join(c.work, "minted")), root, "key from env")
    check(emu.ACCESS_KEY not in server.proc.log_text(), "the access key appears in SPIRE's log")


def case_ca_ttl_clamped(c):
    """ca_ttl longer than the upstream certificate has left: the CA ends with the upstream
    certificate, SPIRE accepts it, and the plugin warns."""
    emu = c.emulator({"/e2e/short": {"generate": {"key_type": "ec-p256", "kind": "root",
                                                  "ttl_days": 1}}})
    root = emu.item_root_pem("/e2e/short")
    server = SpireServer(c.spire, c.work, c.sm_upstream(emu, "/e2e/short"), ca_ttl="72h")
    chain = server.mint(os.path.join(c.work, "minted"))
    verify_chain(c.work, chain, root, "clamped")
    ca_end = cert_text(chain[1], "-enddate").split("=", 1)[1]
    root_end = cert_text(root, "-enddate").split("=", 1)[1]
    end = lambda t: time.mktime(time.strptime(t.replace("  ", " "), "%b %d %H:%M:%S %Y %Z"))
    check(end(ca_end) <= end(root_end),
          f"the CA outlives its upstream certificate ({ca_end} > {root_end})")
    warns = [l for l in plugin_log_lines(server) if l.get("level") == "warning"
             and "clamped" in str(l.get("msg"))]
    check(warns, "no plugin warning about the clamped TTL in SPIRE's log")
    log(f"CA ends {ca_end}, upstream ends {root_end}; warning: {warns[0].get('msg')}")


def case_rotation(c):
    """The item is rotated between two mints: the new CA chains to the new root and the bundle
    holds both roots."""
    emu = c.emulator({"/e2e/ca": generated_item()})
    old_root = emu.item_root_pem("/e2e/ca")
    server = SpireServer(c.spire, c.work, c.sm_upstream(emu, "/e2e/ca"))
    c.full_flow(server, old_root, "before rotation")
    emu.rotate("/e2e/ca")
    new_root = emu.item_root_pem("/e2e/ca")
    check(cert_fingerprint(new_root) != cert_fingerprint(old_root), "rotation kept the root")
    prepare_and_activate(server)
    verify_chain(c.work, server.mint(os.path.join(c.work, "after")), new_root, "after rotation")
    bundle = {cert_fingerprint(p) for p in server.bundle_pems()}
    check({cert_fingerprint(old_root), cert_fingerprint(new_root)} <= bundle,
          "the bundle does not hold both the old and the new root")


def case_gateway_down(c):
    """The gateway fails (HTTP 503, then stopped) when a mint happens after a good start: SPIRE
    gets a CA from the last good copy and the plugin warns."""
    emu = c.emulator({"/e2e/ca": generated_item()})
    root = emu.item_root_pem("/e2e/ca")
    server = SpireServer(c.spire, c.work, c.sm_upstream(emu, "/e2e/ca",
                                                        {"request_timeout": "5s"}))
    c.full_flow(server, root, "before outage")

    def mint_during_outage(label):
        before = len(server.log_lines())
        prepare_and_activate(server)
        verify_chain(c.work, server.mint(os.path.join(c.work, label)), root, label)
        lines = [l for l in server.log_lines()[before:] if is_plugin_line(l)]
        warns = [l for l in lines if l.get("level") == "warning"]
        check(warns, f"{label}: no plugin warning in SPIRE's log for serving the last good copy")
        check(any(l.get("msg") == "Minted X509 CA" and l.get("source") == "cache" for l in lines),
              f"{label}: the plugin's mint line does not say source=cache")
        log(f"{label}: warning seen: {warns[0].get('msg')} ({warns[0].get('error', '')[:120]})")

    # A gateway that answers, but with server errors on every operation.
    emu.admin("POST", "faults", {"operation": "*", "kind": "status", "status": 503,
                                 "error": "service unavailable"})
    mint_during_outage("gateway answering 503")
    # No gateway at all.
    emu.stop()
    mint_during_outage("gateway stopped")


def case_bad_credentials(c):
    """Wrong access key: SPIRE refuses to start and one log line names the problem."""
    emu = c.emulator({"/e2e/ca": generated_item()})
    up = c.sm_upstream(emu, "/e2e/ca", {"access_key": "wrong-key"})
    server = SpireServer(c.spire, c.work, up, expect_start=False)
    try:
        server.proc.popen.wait(timeout=START_DEADLINE)
    except subprocess.TimeoutExpired:
        raise Failure("spire-server kept running with bad credentials")
    check(server.proc.popen.returncode != 0, "spire-server exited 0 with bad credentials")
    text = server.proc.log_text()
    check("wrong-key" not in text, "the access key appears in SPIRE's log")
    errs = [l for l in server.log_lines() if l.get("level") in ("error", "fatal")]
    # One line must say both what failed (authentication of this access id) and what to fix.
    named = [l for l in errs if "Unauthenticated" in str(l.get("error", ""))
             and emu.ACCESS_ID in str(l.get("error", ""))
             and "access_key" in str(l.get("error", ""))]
    check(named, f"no error line naming the credential problem; errors: {errs[-3:]}")
    log(f"SPIRE refused to start: {named[-1].get('error') or named[-1].get('msg')}")


def case_checksum_mismatch(c):
    """A plugin_checksum that does not match the binary: SPIRE refuses to launch the plugin."""
    emu = c.emulator({"/e2e/ca": generated_item()})
    name, settings = c.sm_upstream(emu, "/e2e/ca")
    settings["plugin_checksum"] = "0" * 64
    server = SpireServer(c.spire, c.work, (name, settings), expect_start=False)
    try:
        server.proc.popen.wait(timeout=START_DEADLINE)
    except subprocess.TimeoutExpired:
        raise Failure("spire-server kept running with a wrong plugin_checksum")
    check(server.proc.popen.returncode != 0, "spire-server exited 0 with a wrong checksum")
    check("checksums did not match" in server.proc.log_text(),
          "SPIRE's log does not say 'checksums did not match'")
    check(not plugin_log_lines(server), "the plugin ran although its checksum did not match")


CASES = {
    "disk_baseline": case_disk_baseline,
    "ca_key_type_ec_p256": sm_key_type_case("ec-p256"),
    "ca_key_type_ec_p384": sm_key_type_case("ec-p384"),
    "ca_key_type_rsa_2048": sm_key_type_case("rsa-2048"),
    "upstream_key_types": case_upstream_key_types,
    "intermediate_with_bundle_item": case_intermediate_bundle,
    "intermediate_chain_in_item": case_intermediate_chain_in_item,
    "json_server_conf": case_json_config,
    "plugin_data_file_sigusr1": case_data_file_sigusr1,
    "access_key_from_environment": case_access_key_from_env,
    "ca_ttl_clamped_to_upstream": case_ca_ttl_clamped,
    "rotation_between_mints": case_rotation,
    "gateway_down_serves_last_good": case_gateway_down,
    "bad_credentials_refuse_start": case_bad_credentials,
    "checksum_mismatch_refuses_start": case_checksum_mismatch,
}


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "--list":
        for n, fn in CASES.items():
            print(f"{n}: {fn.__doc__.strip().splitlines()[0]}")
        return 0
    status = 0
    for name in argv[1:]:
        fn = CASES.get(name)
        if fn is None:
            log(f"unknown case {name!r}; see --list")
            return 2
        log(f"== {name}: {fn.__doc__.strip().splitlines()[0]}")
        case = None
        failed = False
        try:
            case = Case(name)
            fn(case)
            log(f"PASS {name}")
        except Skip as e:
            if os.environ.get("CI") == "true":
                log(f"FAIL {name}: would skip, but CI=true requires it to run: {e}")
                status, failed = 1, True
            else:
                log(f"SKIP {name}: {e}")
                status = status or SKIP
        except Exception as e:  # report every failure, including harness errors
            log(f"FAIL {name}: {e}")
            if not isinstance(e, Failure):
                traceback.print_exc()
            status, failed = 1, True
        finally:
            _stop_all()
            if case is not None:
                if os.environ.get("E2E_KEEP") or failed:
                    log(f"kept {case.work} for inspection")
                else:
                    shutil.rmtree(case.work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
