#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# offload-patch.sh NETBE - end-to-end test of the software offload engine.
#
# `netbe patch tap:nboA<pid> tap:nboB<pid>,vnet_hdr=off` runs in a forwarder
# namespace; each tap then moves into its own end namespace (10.78.0.1/24
# and 10.78.0.2/24). Tap A has a virtio-net header and B none, so the patch
# can only offer A checksum and TSO offloads because core completes
# checksums and segments super-frames in software on their way to B: every
# byte from A to B goes through the engine, and the end hosts' kernels check
# what it produced (InCsumErrors must stay 0, TCP and large-datagram UDP
# must flow). Three rounds:
#   full:    A's TSO/GSO on: GSO super-frames and partial checksums cross;
#   csum:    the end hosts' TSO/GSO off, tx checksum offload on: only
#            NEEDS_CSUM frames cross (the patch forwards as many frames as
#            it receives);
#   soft:    `tap:A,offload=soft tap:B`: both with vnet headers, A's
#            offloads forced into software, so B's super-frames are
#            segmented on the way to a backend that takes a header.
# The patch's counters at SIGTERM are printed as TAP comments; header and
# offload drops fail the round. All namespaces are ours (PID in the names)
# and deleted on exit. Prints TAP; every test is skipped ("needs root") when
# not root.
set -u

NETBE=${1:?usage: offload-patch.sh PATH_TO_NETBE}
NSF=nbof-f-$$
NSA=nbof-a-$$
NSB=nbof-b-$$
TAPA=nboA$$
TAPB=nboB$$
IPA=10.78.0.1
IPB=10.78.0.2
WORK=
PATCH_PID=
IPERF_PIDS=
N=0
FAILED=0

# the checks of one round, in order (the round's label goes in front)
ROUND_TESTS=(
	"patch ready"
	"negotiated offloads"
	"ping A->B"
	"ping B->A"
	"iperf3 TCP A->B > 0"
	"iperf3 TCP B->A > 0"
	"iperf3 UDP 8000 B A->B loss < 10%"
	"iperf3 UDP 8000 B B->A loss < 10%"
	"no Tcp/Udp InCsumErrors"
	"patch exits 0 on SIGTERM, no sanitizer report"
	"no header or offload drops"
	"engine at work"
)
ROUNDS=(full csum soft)

ok() { N=$((N + 1)); echo "ok $N - $1"; }
skip() { N=$((N + 1)); echo "ok $N - $1 # SKIP $2"; }
not_ok() { N=$((N + 1)); echo "not ok $N - $1"; FAILED=1; }
# check NAME CMD...: one TAP line from CMD's exit status
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
diag() { sed 's/^/# /' "$@"; }

if [ "$(id -u)" != 0 ]; then
	for r in "${ROUNDS[@]}"; do
		for t in "${ROUND_TESTS[@]}"; do
			N=$((N + 1)); echo "ok $N - $r: $t # SKIP needs root"
		done
	done
	echo "# skipped: needs root"
	echo "1..$N"
	exit 0
fi

WORK=$(mktemp -d /tmp/offload-patch.XXXXXX) || exit 1

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

# start_patch LOG SPEC_A SPEC_B: run the patch in the forwarder namespace
# and wait (5 s at most) for "patch: ready". Return: 0 when ready.
start_patch() {
	local log=$1 _
	shift
	ip netns exec $NSF "$NETBE" patch "$@" >"$log" 2>&1 &
	PATCH_PID=$!
	for _ in $(seq 50); do
		grep -q "patch: ready" "$log" && return 0
		kill -0 $PATCH_PID 2>/dev/null || break
		sleep 0.1
	done
	diag "$log"
	return 1
}

# stop_patch: SIGTERM, then the exit status must be 0 (5 s at most).
stop_patch() {
	local rc _
	kill -TERM $PATCH_PID 2>/dev/null
	for _ in $(seq 50); do
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

# stop_clean LOG: stop_patch, and LOG holds no sanitizer report
stop_clean() {
	stop_patch && ! grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$1"
}

# tap_to TAP NS MAC IP [csumonly]: move TAP from the forwarder namespace
# into NS and configure it; csumonly turns TSO/GSO off and tx checksum
# offload on. Return: 0 on success.
tap_to() {
	local _
	for _ in $(seq 50); do
		ip -n $NSF link show "$1" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip -n $NSF link set "$1" netns "$2" || return 1
	ip -n "$2" link set "$1" address "$3" || return 1
	ip -n "$2" addr add "$4"/24 dev "$1" || return 1
	# room for 0.5 s of the UDP test's fragments between the end host's
	# kernel and the patch, should the patch lose the CPU for a while
	ip -n "$2" link set "$1" txqueuelen 10000 || return 1
	if [ "${5:-}" = csumonly ]; then
		ip netns exec "$2" ethtool -K "$1" tso off gso off tx on \
			>/dev/null 2>&1
		ip netns exec "$2" ethtool -k "$1" |
			grep -E "^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload):" |
			sed "s/^/# $2: /"
	fi
	ip -n "$2" link set "$1" up
}

# ends_setup [csumonly]: both taps into their end namespaces.
ends_setup() {
	tap_to $TAPA $NSA 02:00:00:78:00:01 $IPA "${1:-}" &&
		tap_to $TAPB $NSB 02:00:00:78:00:02 $IPB "${1:-}"
}

ping_ns() { ip netns exec "$1" timeout 15 ping -c 3 -i 0.2 -W 2 -w 10 "$2" >/dev/null 2>&1; }

# json_get FILE EXPR: evaluate EXPR on the iperf3 JSON in FILE (as d)
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$1" "$2" 2>/dev/null
}

# tcp_run NAME [-R]: 3 s of TCP from A to B (B to A with -R).
# Return: 0 when iperf3 reports more than 0 bits/s.
tcp_run() {
	local out=$WORK/tcp-$1.json bps
	shift
	ip netns exec $NSA timeout 20 iperf3 -c $IPB -t 3 -J "$@" >"$out" 2>&1
	bps=$(json_get "$out" 'int(d["end"]["sum_received"]["bits_per_second"])')
	echo "# iperf3 TCP $*: ${bps:-?} bit/s"
	[ -n "$bps" ] || diag "$out" | tail -5
	[ -n "$bps" ] && [ "$bps" -gt 0 ]
}

# udp_run NAME [-R]: 3 s of UDP, 8000-byte datagrams at 200 Mbit/s, which
# the sender's kernel fragments (or hands over as UFO/USO). -w 4M: with the
# default socket buffer (208 KiB, about 15 reassembled datagrams) a receiver
# that loses the CPU for a moment on a busy 2-core machine drops datagrams
# (UdpRcvbufErrors) that crossed the patch fine.
# Return: 0 when the receiver lost less than 10% of the datagrams.
udp_run() {
	local out=$WORK/udp-$1.json res
	shift
	ip netns exec $NSA timeout 20 iperf3 -c $IPB -u -l 8000 -b 200M -w 4M -t 3 -J "$@" \
		>"$out" 2>"$out.err"
	res=$(json_get "$out" '"%d %d %.2f" % (d["end"]["sum"]["packets"], d["end"]["sum"]["lost_packets"], d["end"]["sum"]["lost_percent"])')
	echo "# iperf3 UDP $*: datagrams, lost, lost %: ${res:-?}"
	grep -v "exceeds TCP MSS" "$out.err" | diag
	[ -n "$res" ] || diag "$out" | tail -5
	echo "# so far: UdpRcvbufErrors A $(snmp_value $NSA Udp: RcvbufErrors)," \
		"B $(snmp_value $NSB Udp: RcvbufErrors); ReasmFails A" \
		"$(snmp_value $NSA Ip: ReasmFails), B $(snmp_value $NSB Ip: ReasmFails);" \
		"tap drops (tx rx) A $(tap_drops $NSA $TAPA), B $(tap_drops $NSB $TAPB)"
	[ -n "$res" ] && python3 -c 'import sys; n, l, p = sys.argv[1:]; sys.exit(not (int(n) > 0 and float(p) < 10))' $res
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

# tap_drops NS TAP: TAP's tx_dropped (its queue towards the patch was full)
# and rx_dropped, as "TX RX"
tap_drops() {
	ip netns exec "$1" cat /sys/class/net/"$2"/statistics/tx_dropped \
		/sys/class/net/"$2"/statistics/rx_dropped | paste -sd " "
}

# snmp_value NS LINE FIELD: one counter of NS's /proc/net/snmp
snmp_value() {
	ip netns exec "$1" cat /proc/net/snmp | awk -v l="$2" -v f="$3" '
		$1 != l { next }
		!hdr { hdr = 1; for (i = 2; i <= NF; i++) col[i] = $i; next }
		{ for (i = 2; i <= NF; i++) if (col[i] == f) print $i }'
}

# csum_errors NS: InCsumErrors of the Tcp and Udp lines of NS's
# /proc/net/snmp, as "TCP UDP"
csum_errors() {
	echo "$(snmp_value "$1" Tcp: InCsumErrors) $(snmp_value "$1" Udp: InCsumErrors)"
}

no_csum_errors() {
	local a b
	a=$(csum_errors $NSA)
	b=$(csum_errors $NSB)
	echo "# InCsumErrors (Tcp Udp): A $a, B $b"
	[ "$a" = "0 0" ] && [ "$b" = "0 0" ]
}

# offloads_ok LOG: the patch's "offloads A 0x.. B 0x.." line gives A
# GUEST_TSO4 (0x80) and GUEST_CSUM (0x2): B takes them natively or in
# software.
offloads_ok() {
	local fa
	grep "patch: offloads" "$1" | sed 's/^/# /'
	fa=$(sed -n 's/^patch: offloads A \(0x[0-9a-f]*\) B .*/\1/p' "$1")
	[ -n "$fa" ] && [ $((fa & 0x82)) = $((0x82)) ]
}

# counter LOG SIDE WHAT: one number from the patch's counter line of SIDE
# (A or B): WHAT is "tx" or "rx" (frames)
counter() {
	sed -n "s/^$2 [^ ]*: .*\\<$3 \\([0-9]*\\) frames.*/\\1/p" "$1" | tail -1
}

# no_bad_drops LOG: the counter lines show no header or offload drops
no_bad_drops() {
	grep -E "^[AB] " "$1" | sed 's/^/# counters: /'
	grep -qE "^[AB] " "$1" &&
		! grep -E "^[AB] " "$1" | grep -qE "(tx|rx)_bad_hdr|(tx|rx)_offload"
}

# engine_at_work LOG ROUND: frame counts show what the engine did.
#   full: A's super-frames became more frames on B (B tx > A rx);
#   csum: no segmentation, one frame out per frame in, both ways;
#   soft: B's super-frames became more frames on A (A tx > B rx).
engine_at_work() {
	local atx arx btx brx
	atx=$(counter "$1" A tx) arx=$(counter "$1" A rx)
	btx=$(counter "$1" B tx) brx=$(counter "$1" B rx)
	echo "# frames: A rx ${arx:-?} -> B tx ${btx:-?}; B rx ${brx:-?} -> A tx ${atx:-?}"
	[ -n "$atx" ] && [ -n "$arx" ] && [ -n "$btx" ] && [ -n "$brx" ] || return 1
	case $2 in
	full) [ "$btx" -gt "$arx" ] ;;
	csum) [ "$btx" = "$arx" ] && [ "$atx" = "$brx" ] ;;
	soft) [ "$atx" -gt "$brx" ] ;;
	esac
}

# round NAME SPEC_A SPEC_B [csumonly]
round() {
	local r=$1 log=$WORK/patch-$1.log t
	if ! start_patch "$log" "$2" "$3" || ! ends_setup "${4:-}"; then
		for t in "${ROUND_TESTS[@]}"; do not_ok "$r: $t"; done
		[ -n "$PATCH_PID" ] && { kill -9 $PATCH_PID; wait $PATCH_PID; PATCH_PID=; }
		return
	fi
	ok "$r: patch ready"
	check "$r: negotiated offloads" offloads_ok "$log"
	check "$r: ping A->B" ping_ns $NSA $IPB
	check "$r: ping B->A" ping_ns $NSB $IPA
	iperf_server
	check "$r: iperf3 TCP A->B > 0" tcp_run "$r-ab"
	check "$r: iperf3 TCP B->A > 0" tcp_run "$r-ba" -R
	check "$r: iperf3 UDP 8000 B A->B loss < 10%" udp_run "$r-ab"
	check "$r: iperf3 UDP 8000 B B->A loss < 10%" udp_run "$r-ba" -R
	iperf_server_stop
	check "$r: no Tcp/Udp InCsumErrors" no_csum_errors
	check "$r: patch exits 0 on SIGTERM, no sanitizer report" stop_clean "$log"
	grep -vE "^[AB] |patch: offloads|patch: ready" "$log" | diag
	check "$r: no header or offload drops" no_bad_drops "$log"
	check "$r: engine at work" engine_at_work "$log" "$r"
	# the taps vanish with the patch; the next round recreates them
	for t in $(seq 50); do
		ip -n $NSA link show $TAPA >/dev/null 2>&1 ||
			ip -n $NSB link show $TAPB >/dev/null 2>&1 || break
		sleep 0.1
	done
}

if ! ns_setup || ! command -v iperf3 >/dev/null || ! command -v ethtool >/dev/null; then
	echo "# namespace setup failed, or iperf3/ethtool missing"
	for r in "${ROUNDS[@]}"; do
		for t in "${ROUND_TESTS[@]}"; do not_ok "$r: $t"; done
	done
	echo "1..$N"
	exit 1
fi
round full "tap:$TAPA" "tap:$TAPB,vnet_hdr=off"
round csum "tap:$TAPA" "tap:$TAPB,vnet_hdr=off" csumonly
round soft "tap:$TAPA,offload=soft" "tap:$TAPB"
echo "1..$N"
exit $FAILED
