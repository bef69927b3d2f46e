#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# af-xdp-patch.sh NETBE - end-to-end test of the af_xdp backend.
#
# Two end namespaces (10.77.0.1/24 and 10.77.0.2/24, offloads off, MTU
# 1500) each reach a forwarder namespace over a veth pair; `netbe patch
# af_xdp:fA af_xdp:fB` in the forwarder joins the two veth ends, so every
# ping and iperf3 byte crosses both XDP sockets and the patch. Run once in
# the default mode (native XDP on veth) and once with mode=skb. After each
# patch exits, libxdp must have detached its XDP program from both veth
# ends. Finally a forwarder-side veth is deleted under load: the patch must
# exit non-zero, naming the interface, without crashing. All namespaces are
# ours (PID in the names) and deleted on exit. Prints TAP; every test is
# skipped when not root or when netbe was built without af_xdp.
set -u

NETBE=${1:?usage: af-xdp-patch.sh PATH_TO_NETBE}
NSF=nbxp-f-$$
NSA=nbxp-a-$$
NSB=nbxp-b-$$
FA=xA$$
FB=xB$$
IPA=10.77.0.1
IPB=10.77.0.2
WORK=$(mktemp -d /tmp/af-xdp-patch.XXXXXX)
PATCH_PID=
IPERF_PIDS=
N=0
FAILED=0

ROUND_TESTS=("patch ready" "ping A->B" "ping B->A" "iperf3 A->B > 0"
	"iperf3 B->A > 0" "no InCsumErrors" "patch exits 0 on SIGTERM"
	"XDP program detached after exit")
DELETE_TESTS=("delete: patch ready"
	"delete: patch exits non-zero within 5 s of the deletion"
	"delete: no crash (no signal exit, no sanitizer report)"
	"delete: error message names the interface")
TESTS=()
for t in "${ROUND_TESTS[@]}"; do TESTS+=("native: $t"); done
for t in "${ROUND_TESTS[@]}"; do TESTS+=("skb: $t"); done
TESTS+=("${DELETE_TESTS[@]}")

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); echo "not ok $N - $1"; FAILED=1; }
# check NAME CMD...: one TAP line from CMD's exit status
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
diag() { sed 's/^/# /' "$@"; }
skip_all() {
	local t
	for t in "${TESTS[@]}"; do N=$((N + 1)); echo "ok $N - $t # SKIP $1"; done
	echo "# skipped: $1"
	echo "1..$N"
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "needs root"
"$NETBE" list 2>/dev/null | grep -q '^af_xdp' ||
	skip_all "netbe built without af_xdp (apt-get install libxdp-dev libbpf-dev)"
command -v iperf3 >/dev/null || skip_all "needs iperf3"

cleanup() {
	local p n
	for p in $IPERF_PIDS $PATCH_PID; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $IPERF_PIDS $PATCH_PID; do kill -9 "$p" 2>/dev/null; done
	for n in $NSF $NSA $NSB; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

ns_setup() {
	local n
	for n in $NSF $NSA $NSB; do
		ip netns add "$n" || return 1
		ip -n "$n" link set lo up
		# no IPv6 chatter: only the test's own traffic crosses the patch
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
}

# end_setup NS END FWD MAC IP: a veth pair END (in NS, configured, offloads
# off: af_xdp carries no virtio-net header) <-> FWD (forwarder, up).
end_setup() {
	ip link add "$2" netns "$1" type veth peer name "$3" netns $NSF || return 1
	ip -n "$1" link set "$2" address "$4" mtu 1500 || return 1
	ip -n "$1" addr add "$5"/24 dev "$2" || return 1
	ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off >/dev/null 2>&1
	ip -n "$1" link set "$2" up && ip -n $NSF link set "$3" up
}

# ends_setup: both veth pairs (deleted first if left over).
ends_setup() {
	ip -n $NSF link del $FA 2>/dev/null
	ip -n $NSF link del $FB 2>/dev/null
	end_setup $NSA eA$$ $FA 02:00:00:77:00:01 $IPA &&
		end_setup $NSB eB$$ $FB 02:00:00:77:00:02 $IPB
}

# start_patch LOG SPEC_A SPEC_B: run the patch in the forwarder namespace
# and wait (5 s at most) for "patch: ready". Return: 0 when ready.
start_patch() {
	local log=$1 i
	shift
	ip netns exec $NSF "$NETBE" patch "$@" >"$log" 2>&1 &
	PATCH_PID=$!
	for i in $(seq 50); do
		grep -q "patch: ready" "$log" && return 0
		kill -0 $PATCH_PID 2>/dev/null || break
		sleep 0.1
	done
	diag "$log"
	return 1
}

# stop_patch: SIGTERM, then the exit status must be 0 (5 s at most).
stop_patch() {
	local rc i
	kill -TERM $PATCH_PID 2>/dev/null
	for i in $(seq 50); do
		kill -0 $PATCH_PID 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $PATCH_PID 2>/dev/null && kill -9 $PATCH_PID
	wait $PATCH_PID
	rc=$?
	PATCH_PID=
	[ "$rc" = 0 ] || echo "# patch exited with $rc"
	[ "$rc" = 0 ]
}

ping_ns() { ip netns exec "$1" ping -c 3 -i 0.2 -W 2 -w 10 "$2" >/dev/null 2>&1; }

# iperf_run NAME [-R]: 2 s of TCP from A to B (B to A with -R).
# Return: 0 when iperf3 reports more than 0 bits/s.
iperf_run() {
	local out=$WORK/iperf-$1.json bps
	shift
	ip netns exec $NSA timeout 20 iperf3 -c $IPB -t 2 -J "$@" >"$out" 2>&1
	bps=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))' "$out" 2>/dev/null)
	echo "# iperf3 $*: ${bps:-?} bit/s"
	[ -n "$bps" ] && [ "$bps" -gt 0 ]
}

iperf_server() {
	ip netns exec $NSB timeout 120 iperf3 -s -B $IPB >/dev/null 2>&1 &
	IPERF_PIDS="$IPERF_PIDS $!"
	sleep 0.5
}

iperf_server_stop() {
	local p
	for p in $IPERF_PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	IPERF_PIDS=
}

# csum_errors NS: the sum of every InCsumErrors counter in NS's /proc/net/snmp
csum_errors() {
	ip netns exec "$1" cat /proc/net/snmp | awk '
		/InCsumErrors/ && !hdr[$1] { hdr[$1] = 1; for (i = 2; i <= NF; i++) col[$1, i] = $i; next }
		hdr[$1] { for (i = 2; i <= NF; i++) if (col[$1, i] == "InCsumErrors") s += $i }
		END { print s + 0 }'
}

no_csum_errors() {
	local a b
	a=$(csum_errors $NSA)
	b=$(csum_errors $NSB)
	echo "# InCsumErrors: $NSA $a, $NSB $b"
	[ "$a" = 0 ] && [ "$b" = 0 ]
}

# xdp_attached: is any XDP program attached to either forwarder veth end?
xdp_attached() {
	ip -n $NSF -d link show $FA | grep -q 'prog/xdp' ||
		ip -n $NSF -d link show $FB | grep -q 'prog/xdp'
}

# round LABEL OPTS EXPECT: one patch with OPTS appended to both specs;
# EXPECT is the attach mode `ip link` must show (xdp, xdpgeneric).
round() {
	local label=$1 opts=$2 expect=$3 log=$WORK/patch-$1.log t
	if ! ends_setup || ! start_patch "$log" "af_xdp:$FA$opts" "af_xdp:$FB$opts"; then
		for t in "${ROUND_TESTS[@]}"; do not_ok "$label: $t"; done
		[ -n "$PATCH_PID" ] && { kill -9 $PATCH_PID; wait $PATCH_PID; PATCH_PID=; }
		return
	fi
	ok "$label: patch ready"
	echo "# $FA attach mode: $(ip -n $NSF -d link show $FA | grep -o 'xdp[a-z]*' | head -1) (expected $expect)"
	check "$label: ping A->B" ping_ns $NSA $IPB
	check "$label: ping B->A" ping_ns $NSB $IPA
	iperf_server
	check "$label: iperf3 A->B > 0" iperf_run "$label-ab"
	check "$label: iperf3 B->A > 0" iperf_run "$label-ba" -R
	iperf_server_stop
	check "$label: no InCsumErrors" no_csum_errors
	check "$label: patch exits 0 on SIGTERM" stop_patch
	check "$label: XDP program detached after exit" eval '! xdp_attached'
	diag "$log"
}

# no_crash RC LOG: RC is not a signal death (134 abort, 139 segfault, ...)
# and LOG holds no sanitizer report
no_crash() {
	{ [ "$1" = none ] || [ "$1" -lt 128 ]; } &&
		! grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$2"
}

# deletion: delete the forwarder's veth end B under iperf3 load; the patch
# must notice (the backend's one-second check) and exit.
delete_round() {
	local log=$WORK/patch-delete.log rc=none i t
	if ! ends_setup || ! start_patch "$log" "af_xdp:$FA" "af_xdp:$FB"; then
		for t in "${DELETE_TESTS[@]}"; do not_ok "$t"; done
		return
	fi
	ok "delete: patch ready"
	iperf_server
	ip netns exec $NSA timeout 20 iperf3 -c $IPB -t 6 >/dev/null 2>&1 &
	IPERF_PIDS="$IPERF_PIDS $!"
	sleep 1
	ip -n $NSF link del $FB
	for i in $(seq 50); do
		kill -0 $PATCH_PID 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $PATCH_PID 2>/dev/null; then
		echo "# patch still running 5 s after the deletion"
		kill -9 $PATCH_PID
		wait $PATCH_PID
	else
		wait $PATCH_PID
		rc=$?
	fi
	PATCH_PID=
	iperf_server_stop
	echo "# patch exit status: $rc"
	diag "$log"
	check "delete: patch exits non-zero within 5 s of the deletion" \
		test "$rc" != none -a "$rc" != 0
	check "delete: no crash (no signal exit, no sanitizer report)" \
		no_crash "$rc" "$log"
	check "delete: error message names the interface" grep -q "$FB" "$log"
}

if ! ns_setup; then
	for t in "${TESTS[@]}"; do not_ok "$t"; done
	echo "1..$N"
	exit 1
fi
round native "" xdp
round skb ",mode=skb" xdpgeneric
delete_round
echo "1..$N"
exit $FAILED
