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
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: probe-slirp.sh PATH-TO-NETBE}

# check_probe_output LABEL OUTPUT STATUS: the three checks of a good run.
check_probe_output() {
	local label=$1 out=$2 rc=$3 replies
	diag <<<"$out"
	check "$label: exits 0" [ "$rc" -eq 0 ]
	check "$label: lease 10.0.2.15" grep -q '^lease 10\.0\.2\.15/' <<<"$out"
	replies=$(grep -c '^reply from 10\.0\.2\.2: icmp_seq=' <<<"$out")
	check "$label: 3 echo replies from 10.0.2.2 (got $replies)" [ "$replies" -ge 3 ]
}

# skip_nobody REASON: the three checks as nobody, skipped for REASON
skip_nobody() {
	local t
	for t in exits lease replies; do
		skip "probe slirp as nobody: $t" "$1"
		echo "# skipped: $1"
	done
}

out=$(timeout 60 "$NETBE" probe slirp --count 3 2>&1)
check_probe_output "probe slirp" "$out" $?

if [ "$(id -u)" -ne 0 ]; then
	skip_nobody "needs root (to switch to nobody)"
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$NETBE"; then
	skip_nobody "$NETBE is not executable by nobody"
else
	out=$(timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$NETBE" probe slirp --count 3 2>&1)
	check_probe_output "probe slirp as nobody" "$out" $?
fi

out=$(timeout 30 "$NETBE" probe nosuch 2>&1)
rc=$?
diag <<<"$out"
check "probe nosuch: fails" test "$rc" -ne 0 -a "$rc" -ne 124
check "probe nosuch: the message names 'nosuch'" grep -q nosuch <<<"$out"

out=$(timeout 30 "$NETBE" probe --count 0 slirp 2>&1)
rc=$?
diag <<<"$out"
[ "$rc" -eq 2 ] && grep -q '^usage: netbe probe' <<<"$out"
check "probe --count 0: usage, exit 2 (got $rc)" test $? = 0

tap_done
