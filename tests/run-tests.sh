#!/bin/bash
# Run the whole test suite of one build directory and count every test.
# usage: tests/run-tests.sh [BUILD_DIR] [extra `meson test` arguments]
# Each test executable speaks TAP; every TAP line is one test. A test program
# that crashes or times out without reporting a failure counts as one failed
# test, and so does one that printed no TAP line at all (it tested nothing).
# The last line is "N passed, M failed, K skipped".
set -u
BUILD=${1:-build}
shift || true
cd "$(dirname "$0")/.."
meson test -C "$BUILD" --print-errorlogs --num-processes 2 "$@"
status=$?
python3 - "$BUILD/meson-logs/testlog.json" "$status" <<'PY'
import json, re, sys
passed = failed = skipped = 0
bad = []
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    lines = []
for line in lines:
    t = json.loads(line)
    out = t.get("stdout") or ""
    ok = nok = sk = 0
    for l in out.splitlines():
        if re.match(r"^not ok\b", l):
            nok += 1
            bad.append("%s: %s" % (t["name"], l))
        elif re.match(r"^ok\b", l):
            if re.search(r"#\s*SKIP", l, re.I):
                sk += 1
            else:
                ok += 1
    if t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL") and nok == 0:
        nok = 1
        bad.append("%s: %s (exit %s)" % (t["name"], t["result"], t.get("returncode")))
    if ok + nok + sk == 0:
        if t["result"] == "SKIP":
            sk = 1
        else:
            nok = 1
            bad.append("%s: printed no TAP line (a test that tested nothing)" % t["name"])
    passed += ok; failed += nok; skipped += sk
for b in bad:
    print("FAILED " + b)
if not lines:
    failed += 1
    print("FAILED: no test log (did meson test run?)")
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(1 if failed or int(sys.argv[2]) else 0)
PY
