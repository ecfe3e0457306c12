#!/usr/bin/env python3
"""Summarises meson's testlog.json as one line per build, and a closing total line.

  test_summary.py TESTLOG.json LABEL   ->  "LABEL: P passed, F failed, S skipped"
  test_summary.py --total LINE...      ->  "Tests: P passed, F failed, S skipped"
"""
import json
import re
import sys


def summarise(path, label):
    passed = failed = skipped = 0
    with open(path, encoding="utf-8") as log:
        for line in log:
            line = line.strip()
            if not line:
                continue
            result = json.loads(line).get("result", "")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
    return f"{label}: {passed} passed, {failed} failed, {skipped} skipped"


def total(lines):
    sums = [0, 0, 0]
    for line in lines:
        m = re.search(r"(\d+) passed, (\d+) failed, (\d+) skipped", line)
        if m:
            for i in range(3):
                sums[i] += int(m.group(i + 1))
    return f"Tests: {sums[0]} passed, {sums[1]} failed, {sums[2]} skipped"


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--total":
        print(total(sys.argv[2:]))
    elif len(sys.argv) == 3:
        print(summarise(sys.argv[1], sys.argv[2]))
    else:
        sys.exit(__doc__)
