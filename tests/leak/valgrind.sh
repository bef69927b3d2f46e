#!/bin/bash
# Leak checks under valgrind (TAP): open/close of every backend (vde on a
# vde_switch started here), a short
# `netbe patch` run that moves traffic (as root: a tap in a private
# namespace patched to slirp, pinged through; otherwise pair <-> null), and
# the hostile-input tests: the core and device-model fuzzers' corpora
# (64 KiB super-frames, split headers, soft offloads, hostile guest
# memory) and the unit tests given (test-boundary, the device model, the
# vhost-user server) - no leak and no invalid read or write.
# usage: valgrind.sh OPENCLOSE NETBE FUZZ_CORE_REPLAY CORE_CORPUS
#                    FUZZ_VDEV_REPLAY VDEV_CORPUS TEST...
set -u
OC=$1; CLI=$2; FUZZ_CORE=$3; CORE_CORPUS=$4; FUZZ_VDEV=$5; VDEV_CORPUS=$6
shift 6; n=0; failed=0
VG=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99)
result() { # name rc log
  n=$((n + 1))
  if [ "$2" = 0 ]; then echo "ok $n - $1"; else
    failed=$((failed + 1)); echo "not ok $n - $1 (exit $2)"; sed 's/^/# /' "$3" | tail -40; fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; echo "# skipped: $2"; }
if [ -n "${NETBE_TEST_SANITIZED:-}" ]; then
  skip "valgrind leak checks" "sanitizer build: valgrind runs on the plain build"; echo "1..$n"; exit 0
fi
command -v valgrind >/dev/null || { echo "not ok 1 - valgrind not installed (scripts/setup.sh)"; echo "1..1"; exit 1; }
log=$(mktemp); trap 'rm -f "$log"' EXIT
port=$((20000 + $$ % 20000))

"${VG[@]}" "$OC" null pair:vg pair:vg >"$log" 2>&1; result "null and pair open/close leak nothing" $? "$log"
if "$CLI" list | grep -q '^slirp'; then
  "${VG[@]}" "$OC" "slirp,hostfwd=tcp:127.0.0.1:$port-:22,mtu=65520" >"$log" 2>&1
  result "slirp open/close leaks nothing" $? "$log"
else
  skip "slirp open/close leaks nothing" "slirp not built"
fi
# vde: two ports on a vde_switch started here (stdin a fifo held open on
# fd 8, since it exits at end of input), stopped by PID
if "$CLI" list | grep -q '^vde$' && command -v vde_switch >/dev/null; then
  swdir=$(mktemp -d)
  mkfifo "$swdir/in"
  vde_switch -s "$swdir/sw" <"$swdir/in" >/dev/null 2>&1 & swpid=$!
  exec 8>"$swdir/in"
  for _ in $(seq 50); do [ -S "$swdir/sw/ctl" ] && break; sleep 0.1; done
  "${VG[@]}" "$OC" "vde:$swdir/sw,descr=vg" "vde:$swdir/sw,mtu=9000" >"$log" 2>&1
  result "vde open/close leaks nothing" $? "$log"
  kill "$swpid"; wait "$swpid" 2>/dev/null; exec 8>&-; rm -rf "$swdir"
else
  skip "vde open/close leaks nothing" "vde or vde_switch not built/installed"
fi
if [ "$(id -u)" = 0 ]; then
  "${VG[@]}" "$OC" --netns tap:vg0 tap:vg1,vnet_hdr=off >"$log" 2>&1
  result "tap open/close leaks nothing" $? "$log"
else
  skip "tap open/close leaks nothing" "needs root"
fi

# A short patch run with traffic, stopped by SIGINT.
if [ "$(id -u)" = 0 ] && "$CLI" list | grep -q '^slirp'; then
  unshare -n bash -c '
    "$@" patch tap:vgp0 slirp > "'"$log"'.out" 2>&1 & pid=$!
    for i in $(seq 100); do ip link show vgp0 >/dev/null 2>&1 && break; sleep 0.1; done
    ip link set lo up; ip addr add 10.0.2.15/24 dev vgp0; ip link set vgp0 up
    ping -c 3 -i 0.3 -W 5 10.0.2.2 >/dev/null; p=$?
    kill -INT $pid; wait $pid; rc=$?
    [ $p = 0 ] || rc=98
    exit $rc' _ "${VG[@]}" "$CLI" >"$log" 2>&1
  rc=$?; cat "$log.out" >> "$log"; rm -f "$log.out"
  result "patch tap <-> slirp with pings leaks nothing" $rc "$log"
else
  timeout --preserve-status -s INT 3 "${VG[@]}" "$CLI" patch null pair:vgq >"$log" 2>&1
  result "patch null <-> pair leaks nothing" $? "$log"
fi

for t in "$@"; do
  "${VG[@]}" "$t" >"$log" 2>&1; result "$(basename "$t"): no leak, no invalid access" $? "$log"
done
"${VG[@]}" "$FUZZ_CORE" "$CORE_CORPUS" >"$log" 2>&1
result "fuzz-core corpus: no leak, no invalid access" $? "$log"
"${VG[@]}" "$FUZZ_VDEV" "$VDEV_CORPUS" >"$log" 2>&1
result "fuzz-vdev corpus: no leak, no invalid access" $? "$log"
echo "1..$n"
[ $failed = 0 ]
