#!/usr/bin/env python3
"""Count test cases over meson test logs and print 'N passed, N failed'.

Every emkit test speaks TAP (cmocka's TAP output, or the shell tests' own), so a case
is an 'ok' or 'not ok' line. A test program that failed without reporting a failing
case (a crash, a timeout, a sanitizer abort) counts as one failed case, and so does a
build that did not compile (--broken).
"""
import json
import os
import re
import sys

def main(argv):
    broken = []
    dirs = []
    it = iter(argv)
    for a in it:
        if a == "--broken":
            broken = next(it, "").split()
        else:
            dirs.append(a)
    passed = failed = skipped = 0
    todos = []
    for d in dirs:
        log = os.path.join(d, "meson-logs", "testlog.json")
        if not os.path.exists(log):
            print(f"{d}: no test log", file=sys.stderr)
            failed += 1
            continue
        with open(log) as f:
            for line in f:
                t = json.loads(line)
                out = t.get("stdout") or ""
                ok = len(re.findall(r"^ok \d+", out, re.M))
                notok = len(re.findall(r"^not ok \d+", out, re.M))
                skip = len(re.findall(r"^ok \d+.*# *SKIP", out, re.M | re.I))
                # TAP: a 'not ok' with a TODO directive is a known gap, not a failure.
                todo = len(re.findall(r"^not ok \d+.*# *TODO", out, re.M | re.I))
                for line in re.findall(r"^not ok \d+.*# *TODO.*$", out, re.M | re.I):
                    todos.append(f"{os.path.basename(d)}: {t['name']}: {line}")
                passed += ok - skip
                skipped += skip
                failed += notok - todo
                notok -= todo
                if t["result"] in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS") and notok == 0:
                    print(f"{os.path.basename(d)}: {t['name']}: {t['result']} "
                          "with no failing case reported", file=sys.stderr)
                    failed += 1
                elif t["result"] == "SKIP" and ok == 0:
                    skipped += 1
    for line in sorted(set(todos)):
        print(f"known gap: {line}", file=sys.stderr)
    for b in broken:
        print(f"{b}: did not build", file=sys.stderr)
        failed += 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or not passed else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
