#!/usr/bin/env python3
"""Fails when a test fixture's secret shows up in a test run's output.

The suites use distinctive secrets (access keys, cloud tokens, PEM private keys); each test
checks its own messages, and this scan of meson's whole test log (every test's stdout and
stderr, SPIRE's and the emulator's logs included) catches what a single test cannot see.

  check_no_secrets.py TESTLOG.txt...
"""
import sys

# The fixtures' secrets, by the distinctive prefixes the tests give them (tests/client,
# tests/emulator), the exact keys of tests/plugin and tests/e2e, and the header every PEM private
# key carries.
SECRETS = [
    "AK-SECRET-",
    "K8S-JWT-SECRET-",
    "GCE-JWT-SECRET-",
    "AZURE-TOKEN-SECRET-",
    "AWS-ROLE-SECRET-",
    "AWS-ROLE-SESSION-",
    "AWS-ENV-SECRET-",
    "AWS-SECRET-KEY-",
    "AWS-SESSION-TOKEN-",
    "emu-secret-7Kq2ZxV9",
    "e2e-access-key-not-a-secret",
    "PRIVATE KEY-----",
]


def main(paths):
    found = 0
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as log:
            for number, line in enumerate(log, 1):
                for secret in SECRETS:
                    if secret in line:
                        # Name the secret by its start only: the report must not leak it either.
                        print(f"{path}:{number}: a fixture secret ({secret[:4]}…) appears in the "
                              "test output", file=sys.stderr)
                        found += 1
    if found:
        print(f"check_no_secrets: {found} line(s) leak a secret", file=sys.stderr)
        return 1
    print(f"check_no_secrets: no fixture secret in {len(paths)} test log(s)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
