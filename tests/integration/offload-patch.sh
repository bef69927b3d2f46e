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
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: offload-patch.sh PATH_TO_NETBE}
NSF=nbof-f-$$
NSA=nbof-a-$$
NSB=nbof-b-$$
TAPA=nboA$$
TAPB=nboB$$
IPA=10.78.0.1
IPB=10.78.0.2
MACA=02:00:00:78:00:01
MACB=02:00:00:78:00:02

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
TESTS=()
round_names full csum soft

require_root "${TESTS[@]}"
WORK=$(mktemp -d /tmp/offload-patch.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

# ends_setup [csumonly]: both taps into their end namespaces; csumonly turns
# TSO/GSO off and tx checksum offload on. Room for 0.5 s of the UDP test's
# fragments between the end host's kernel and the patch, should the patch
# lose the CPU for a while. Return: 0 on success.
ends_setup() {
	taps_to_ends "${1:-}" &&
		ip -n "$NSA" link set "$TAPA" txqueuelen 10000 &&
		ip -n "$NSB" link set "$TAPB" txqueuelen 10000
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
	ip netns exec "$NSA" timeout 20 iperf3 -c "$IPB" -u -l 8000 -b 200M -w 4M -t 3 -J "$@" \
		>"$out" 2>"$out.err"
	res=$(json_get "$out" '"%d %d %.2f" % (d["end"]["sum"]["packets"], d["end"]["sum"]["lost_packets"], d["end"]["sum"]["lost_percent"])')
	echo "# iperf3 UDP $*: datagrams, lost, lost %: ${res:-?}"
	grep -v "exceeds TCP MSS" "$out.err" | diag
	[ -n "$res" ] || diag "$out" | tail -5
	echo "# so far: UdpRcvbufErrors A $(snmp_value "$NSA" Udp: RcvbufErrors)," \
		"B $(snmp_value "$NSB" Udp: RcvbufErrors); ReasmFails A" \
		"$(snmp_value "$NSA" Ip: ReasmFails), B $(snmp_value "$NSB" Ip: ReasmFails);" \
		"tap drops (tx rx) A $(tap_drops "$NSA" "$TAPA"), B $(tap_drops "$NSB" "$TAPB")"
	# shellcheck disable=SC2086 # res is "DATAGRAMS LOST PERCENT"
	[ -n "$res" ] && python3 -c 'import sys; n, l, p = sys.argv[1:]; sys.exit(not (int(n) > 0 and float(p) < 10))' $res
}

# tap_drops NS TAP: TAP's tx_dropped (its queue towards the patch was full)
# and rx_dropped, as "TX RX"
tap_drops() {
	ip netns exec "$1" cat /sys/class/net/"$2"/statistics/tx_dropped \
		/sys/class/net/"$2"/statistics/rx_dropped | paste -sd " "
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

# offload_round NAME SPEC_A SPEC_B [csumonly]: the ROUND_TESTS of one patch
offload_round() {
	local r=$1 log=$WORK/patch-$1.log t
	if ! patch_start "$log" "$NSF" "$2" "$3" || ! ends_setup "${4:-}"; then
		for t in "${ROUND_TESTS[@]}"; do not_ok "$r: $t"; done
		patch_kill
		return
	fi
	ok "$r: patch ready"
	check "$r: negotiated offloads" offloads_ok "$log"
	check "$r: ping A->B" ping_ns "$NSA" "$IPB"
	check "$r: ping B->A" ping_ns "$NSB" "$IPA"
	iperf_server "$NSB" "$IPB"
	check "$r: iperf3 TCP A->B > 0" iperf_tcp "$NSA" "$IPB" "$WORK/tcp-$r-ab.json"
	check "$r: iperf3 TCP B->A > 0" iperf_tcp "$NSA" "$IPB" "$WORK/tcp-$r-ba.json" -R
	check "$r: iperf3 UDP 8000 B A->B loss < 10%" udp_run "$r-ab"
	check "$r: iperf3 UDP 8000 B B->A loss < 10%" udp_run "$r-ba" -R
	iperf_server_stop
	check "$r: no Tcp/Udp InCsumErrors" no_csum_errors "$NSA" "$NSB"
	check "$r: patch exits 0 on SIGTERM, no sanitizer report" patch_stop "$log"
	grep -vE "^[AB] |patch: offloads|patch: ready" "$log" | diag
	check "$r: no header or offload drops" no_bad_drops "$log"
	check "$r: engine at work" engine_at_work "$log" "$r"
	# the taps vanish with the patch; the next round recreates them
	taps_gone
}

if ! ends_ns_create || ! command -v iperf3 >/dev/null || ! command -v ethtool >/dev/null; then
	fail_all "namespace setup failed, or iperf3/ethtool missing" "${TESTS[@]}"
fi
offload_round full "tap:$TAPA" "tap:$TAPB,vnet_hdr=off"
offload_round csum "tap:$TAPA" "tap:$TAPB,vnet_hdr=off" csumonly
offload_round soft "tap:$TAPA,offload=soft" "tap:$TAPB"
tap_done
