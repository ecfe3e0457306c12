#!/usr/bin/env python3
"""Runs examples/fetch_certificate against the gateway emulator once per authentication method.

Usage: fetch_certificate_test.py EMULATOR FETCH_CERTIFICATE [OPENSSL]

For each of api_key, k8s, gcp, azure_ad and aws_iam the example must exit 0, print the item's
certificate on stdout (checked with `openssl x509` when OPENSSL is given), describe the key on
stderr, and never print a secret. The emulator's request log must show one successful /auth of
each access type. Python 3 standard library only.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.request

ACCESS_KEY = "AK-SECRET-example-77aa"
K8S_TOKEN = "K8S-JWT-SECRET-example-88bb"
GCE_TOKEN = "GCE-JWT-SECRET-example-99cc"
AZURE_TOKEN = "AZURE-TOKEN-SECRET-example-00dd"
AWS_SECRET = "AWS-ROLE-SECRET-example-11ee"
AWS_SESSION = "AWS-ROLE-SESSION-example-22ff"
ITEM = "/SPIRE/example"
SECRETS = [ACCESS_KEY, K8S_TOKEN, base64.b64encode(K8S_TOKEN.encode()).decode(), GCE_TOKEN,
           AZURE_TOKEN, AWS_SECRET, AWS_SESSION, "PRIVATE KEY"]


def config():
    return {
        "access_ids": [
            {"access_id": "p-key", "access_type": "access_key", "access_key": ACCESS_KEY},
            {"access_id": "p-k8s", "access_type": "k8s", "k8s_auth_config_name": "spire-k8s",
             "k8s_service_account_token": K8S_TOKEN},
            {"access_id": "p-gcp", "access_type": "gcp", "gce_identity_token": GCE_TOKEN},
            {"access_id": "p-azure", "access_type": "azure_ad", "azure_access_token": AZURE_TOKEN},
            {"access_id": "p-aws", "access_type": "aws_iam", "aws_credentials": [
                {"access_key_id": "AKIDEXAMPLE", "secret_access_key": AWS_SECRET,
                 "session_token": AWS_SESSION}]},
        ],
        "items": [{"name": ITEM, "type": "CERTIFICATE",
                   "generate": {"kind": "intermediate", "bundle_item": "/SPIRE/example-bundle"}}],
        "metadata": {
            "gce": {"identity_token": GCE_TOKEN, "audience": "akeyless.io"},
            "azure": {"access_token": AZURE_TOKEN},
            "aws": {"role": "spire-server", "access_key_id": "AKIDEXAMPLE",
                    "secret_access_key": AWS_SECRET, "session_token": AWS_SESSION},
        },
    }


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    emulator_bin, example_bin = sys.argv[1], sys.argv[2]
    openssl = sys.argv[3] if len(sys.argv) > 3 else None
    failures = []

    with tempfile.TemporaryDirectory(prefix="fetch-certificate-test-") as tmp:
        config_path = os.path.join(tmp, "config.json")
        with open(config_path, "w") as f:
            json.dump(config(), f)
        token_path = os.path.join(tmp, "sa-token")
        with open(token_path, "w") as f:
            f.write(K8S_TOKEN + "\n")
        state = os.path.join(tmp, "state")
        stderr_path = os.path.join(tmp, "emulator.stderr")
        with open(stderr_path, "w") as emulator_err:
            emulator = subprocess.Popen(
                [emulator_bin, "--state-dir", state, "--config", config_path],
                stdout=subprocess.PIPE, stderr=emulator_err, text=True)
        try:
            ready = emulator.stdout.readline()
            if not ready.startswith("listening https://127.0.0.1:"):
                print("emulator did not start: " + ready, file=sys.stderr)
                return 1
            endpoint = open(os.path.join(state, "endpoint")).read().strip()
            metadata = open(os.path.join(state, "metadata-endpoint")).read().strip()
            ca = os.path.join(state, "gateway-ca.pem")

            env = {k: v for k, v in os.environ.items()
                   if not k.upper().startswith(("AWS_", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY",
                                                "AKEYLESS_", "GCE_", "AZURE_"))}
            env.update({
                "AKEYLESS_ACCESS_KEY": ACCESS_KEY,
                "GCE_METADATA_HOST": metadata[len("http://"):],
                "AZURE_IMDS_ENDPOINT": metadata,
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": metadata,
                "AWS_REGION": "us-east-2",
            })
            methods = [
                ("api_key", "p-key", []),
                ("k8s", "p-k8s", ["--k8s-auth-config-name", "spire-k8s",
                                  "--k8s-token-path", token_path]),
                ("gcp", "p-gcp", ["--gcp-audience", "akeyless.io"]),
                ("azure_ad", "p-azure", []),
                ("aws_iam", "p-aws", []),
            ]
            for access_type, access_id, extra in methods:
                command = [example_bin, "--gateway-url", endpoint + "/api/v2",
                           "--access-type", access_type, "--access-id", access_id,
                           "--name", ITEM, "--ca-bundle", ca] + extra
                run = subprocess.run(command, env=env, capture_output=True, text=True,
                                     timeout=120)
                problems = []
                if run.returncode != 0:
                    problems.append("exit status %d: %s" % (run.returncode, run.stderr.strip()))
                if "-----BEGIN CERTIFICATE-----" not in run.stdout:
                    problems.append("no certificate on stdout")
                elif openssl:
                    check = subprocess.run([openssl, "x509", "-noout", "-subject"],
                                           input=run.stdout, capture_output=True, text=True)
                    if check.returncode != 0 or ITEM not in check.stdout:
                        problems.append("openssl x509 cannot read the printed certificate")
                if "private key:" not in run.stderr:
                    problems.append("no key summary on stderr")
                for secret in SECRETS:
                    if secret in run.stdout or secret in run.stderr:
                        problems.append("a secret appears in the output")
                status = "ok" if not problems else "FAILED: " + "; ".join(problems)
                print("fetch_certificate --access-type %s: %s" % (access_type, status))
                if problems:
                    failures.append(access_type)

            no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with no_proxy.open(metadata + "/_emulator/log", timeout=30) as answer:
                entries = json.load(answer)["entries"]
            logged = {e.get("access_type") for e in entries
                      if e["operation"] == "auth" and e["status"] == 200}
            expected = {"access_key", "k8s", "gcp", "azure_ad", "aws_iam"}
            if logged != expected:
                print("emulator log shows successful /auth for %s, expected %s"
                      % (sorted(logged), sorted(expected)))
                failures.append("log")
        finally:
            emulator.send_signal(signal.SIGTERM)
            try:
                code = emulator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                emulator.kill()
                code = emulator.wait()
            if code != 0:
                print("emulator exited with %d after SIGTERM" % code)
                failures.append("emulator exit")
        with open(stderr_path) as f:
            emulator_log = f.read()
        if any(secret in emulator_log for secret in SECRETS):
            print("a secret appears in the emulator's stderr")
            failures.append("emulator stderr")

    if failures:
        print("failed: " + ", ".join(failures))
        return 1
    print("all five methods fetched the certificate item")
    return 0


if __name__ == "__main__":
    sys.exit(main())
