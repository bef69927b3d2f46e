#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# probe-slirp.sh - `netbe probe` against the slirp backend, TAP output.
#
# The probe is a minimal guest: it must get the lease 10.0.2.15 from
# libslirp's DHCP server, resolve the gateway and get an echo reply for
# each request. The same must work for an unprivileged user (run as nobody
# through setpriv when we are root). A spec naming no backend must fail with
# a message that names it, and bad arguments must give exit status 2.
# All traffic stays inside the probe's own process (slirp is user-mode NAT;
# only the virtual gateway 10.0.2.2 is pinged). Usage: probe-slirp.sh NETBE
set -u

NETBE=${1:?usage: probe-slirp.sh PATH-TO-NETBE}
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
	echo "# skipped: $2"
}

# check NAME COND-STATUS: report a test from the status of the last command.
check() {
	if [ "$2" -eq 0 ]; then ok "$1"; else not_ok "$1"; fi
}

# diag TEXT: print TEXT as TAP comments.
diag() {
	printf '%s\n' "$1" | sed 's/^/# /'
}

# check_probe_output LABEL OUTPUT STATUS: the three checks of a good run.
check_probe_output() {
	local label=$1 out=$2 rc=$3 replies
	diag "$out"
	[ "$rc" -eq 0 ]
	check "$label: exits 0" $?
	grep -q '^lease 10\.0\.2\.15/' <<<"$out"
	check "$label: lease 10.0.2.15" $?
	replies=$(grep -c '^reply from 10\.0\.2\.2: icmp_seq=' <<<"$out")
	[ "$replies" -ge 3 ]
	check "$label: 3 echo replies from 10.0.2.2 (got $replies)" $?
}

out=$(timeout 60 "$NETBE" probe slirp --count 3 2>&1)
check_probe_output "probe slirp" "$out" $?

if [ "$(id -u)" -ne 0 ]; then
	for t in exits lease replies; do
		skip "probe slirp as nobody: $t" "needs root (to switch to nobody)"
	done
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$NETBE"; then
	for t in exits lease replies; do
		skip "probe slirp as nobody: $t" "$NETBE is not executable by nobody"
	done
else
	out=$(timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$NETBE" probe slirp --count 3 2>&1)
	check_probe_output "probe slirp as nobody" "$out" $?
fi

out=$(timeout 30 "$NETBE" probe nosuch 2>&1)
rc=$?
diag "$out"
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
check "probe nosuch: fails" $?
grep -q nosuch <<<"$out"
check "probe nosuch: the message names 'nosuch'" $?

out=$(timeout 30 "$NETBE" probe --count 0 slirp 2>&1)
rc=$?
diag "$out"
[ "$rc" -eq 2 ] && grep -q '^usage: netbe probe' <<<"$out"
check "probe --count 0: usage, exit 2 (got $rc)" $?

echo "1..$n"
exit $failed
