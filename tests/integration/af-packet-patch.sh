#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# af-packet-patch.sh NETBE - end-to-end test of the af_packet backend.
#
# Two end namespaces (10.78.0.1/24 and 10.78.0.2/24) each reach a forwarder
# namespace over a veth pair; `netbe patch af_packet:fA af_packet:fB` in the
# forwarder joins the two veth ends, so every ping and iperf3 byte crosses
# both packet sockets and the patch. Run once with virtio-net headers (GSO
# super-frames and partial checksums pass through) and once with
# vnet_hdr=off (end hosts' offloads off). The end namespaces must see no
# checksum errors. Finally a forwarder-side veth is deleted under load: the
# patch must exit non-zero, naming the interface, without crashing. All
# namespaces are ours (PID in the names) and deleted on exit. Prints TAP;
# every test is skipped ("needs root") when not root.
set -u

NETBE=${1:?usage: af-packet-patch.sh PATH_TO_NETBE}
NSF=nbap-f-$$
NSA=nbap-a-$$
NSB=nbap-b-$$
FA=fA$$
FB=fB$$
IPA=10.78.0.1
IPB=10.78.0.2
WORK=$(mktemp -d /tmp/af-packet-patch.XXXXXX)
PATCH_PID=
IPERF_PIDS=
N=0
FAILED=0

TESTS=(
	"vnet_hdr=on: patch ready"
	"vnet_hdr=on: ping A->B"
	"vnet_hdr=on: ping B->A"
	"vnet_hdr=on: iperf3 A->B > 0"
	"vnet_hdr=on: iperf3 B->A > 0"
	"vnet_hdr=on: no InCsumErrors"
	"vnet_hdr=on: patch exits 0 on SIGTERM"
	"vnet_hdr=off: patch ready"
	"vnet_hdr=off: ping A->B"
	"vnet_hdr=off: ping B->A"
	"vnet_hdr=off: iperf3 A->B > 0"
	"vnet_hdr=off: iperf3 B->A > 0"
	"vnet_hdr=off: no InCsumErrors"
	"vnet_hdr=off: patch exits 0 on SIGTERM"
	"delete: patch ready"
	"delete: patch exits non-zero within 5 s of the deletion"
	"delete: no crash (no signal exit, no sanitizer report)"
	"delete: error message names the interface"
)

ok() { N=$((N + 1)); echo "ok $N - $1"; }
skip() { N=$((N + 1)); echo "ok $N - $1 # SKIP $2"; }
not_ok() { N=$((N + 1)); echo "not ok $N - $1"; FAILED=1; }
# check NAME CMD...: one TAP line from CMD's exit status
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
diag() { sed 's/^/# /' "$@"; }

if [ "$(id -u)" != 0 ]; then
	for t in "${TESTS[@]}"; do
		N=$((N + 1)); echo "ok $N - $t # SKIP needs root"
	done
	echo "# skipped: needs root"
	echo "1..$N"
	exit 0
fi

cleanup() {
	local p
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

# end_setup NS END FWD MAC IP [nooffload]: a veth pair END (in NS,
# configured) <-> FWD (in the forwarder namespace, up, no address).
end_setup() {
	ip link add "$2" netns "$1" type veth peer name "$3" netns $NSF || return 1
	ip -n "$1" link set "$2" address "$4" || return 1
	ip -n "$1" addr add "$5"/24 dev "$2" || return 1
	if [ "${6:-}" = nooffload ]; then
		ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off \
			>/dev/null 2>&1
	fi
	ip -n "$1" link set "$2" up && ip -n $NSF link set "$3" up
}

# ends_setup [nooffload]: both veth pairs (deleted first if left over).
ends_setup() {
	ip -n $NSF link del $FA 2>/dev/null
	ip -n $NSF link del $FB 2>/dev/null
	end_setup $NSA eA$$ $FA 02:00:00:78:00:01 $IPA "${1:-}" &&
		end_setup $NSB eB$$ $FB 02:00:00:78:00:02 $IPB "${1:-}"
}

# start_patch LOG SPEC_A SPEC_B: run the patch in the forwarder namespace
# and wait (5 s at most) for "patch: ready". Return: 0 when ready.
start_patch() {
	local log=$1 i
	shift
	: >"$log"
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

# iperf_run NAME [-R]: 3 s of TCP from A to B (B to A with -R).
# Return: 0 when iperf3 reports more than 0 bits/s.
iperf_run() {
	local out=$WORK/iperf-$1.json bps
	shift
	ip netns exec $NSA timeout 20 iperf3 -c $IPB -t 3 -J "$@" >"$out" 2>&1
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

# round LABEL OPTS [nooffload]: one patch with OPTS appended to both specs.
round() {
	local label=$1 opts=$2 noff=${3:-} log=$WORK/patch-$1.log t
	if ! ends_setup "$noff" || ! start_patch "$log" "af_packet:$FA$opts" "af_packet:$FB$opts"; then
		for t in "patch ready" "ping A->B" "ping B->A" "iperf3 A->B > 0" \
			"iperf3 B->A > 0" "no InCsumErrors" "patch exits 0 on SIGTERM"; do
			not_ok "$label: $t"
		done
		[ -n "$PATCH_PID" ] && { kill -9 $PATCH_PID; wait $PATCH_PID; PATCH_PID=; }
		return
	fi
	ok "$label: patch ready"
	if command -v ping >/dev/null; then
		check "$label: ping A->B" ping_ns $NSA $IPB
		check "$label: ping B->A" ping_ns $NSB $IPA
	else
		skip "$label: ping A->B" "needs ping (apt-get install iputils-ping)"
		skip "$label: ping B->A" "needs ping (apt-get install iputils-ping)"
	fi
	iperf_server
	check "$label: iperf3 A->B > 0" iperf_run "$label-ab"
	check "$label: iperf3 B->A > 0" iperf_run "$label-ba" -R
	iperf_server_stop
	check "$label: no InCsumErrors" no_csum_errors
	check "$label: patch exits 0 on SIGTERM" stop_patch
	diag "$log"
}

# no_crash RC LOG: RC is not a signal death (134 abort, 139 segfault, ...)
# and LOG holds no sanitizer report
no_crash() {
	{ [ "$1" = none ] || [ "$1" -lt 128 ]; } &&
		! grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$2"
}

# deletion: delete the forwarder's veth end B under iperf3 load; the patch
# must notice and exit.
delete_round() {
	local log=$WORK/patch-delete.log rc=none i
	if ! ends_setup || ! start_patch "$log" "af_packet:$FA" "af_packet:$FB"; then
		not_ok "delete: patch ready"
		not_ok "delete: patch exits non-zero within 5 s of the deletion"
		not_ok "delete: no crash (no signal exit, no sanitizer report)"
		not_ok "delete: error message names the interface"
		return
	fi
	ok "delete: patch ready"
	iperf_server
	ip netns exec $NSA timeout 20 iperf3 -c $IPB -t 8 >/dev/null 2>&1 &
	IPERF_PIDS="$IPERF_PIDS $!"
	sleep 1.5
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
round "vnet_hdr=on" ""
round "vnet_hdr=off" ",vnet_hdr=off" nooffload
delete_round
echo "1..$N"
exit $FAILED
