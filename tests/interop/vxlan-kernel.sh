#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# vxlan-kernel.sh NETBE - netbe's vxlan backend against the Linux kernel's
# vxlan device, the reference VTEP, over a veth underlay between two
# namespaces acting as two hosts:
#
#   ns H1 (kernel host)                  ns H2 (netbe host)      ns G (guest)
#   vx0 vni 42 192.168.77.1/24           netbe patch
#     u1 10.99.0.1 / fd99::1  <- veth ->  u2 10.99.0.2 / fd99::2
#                                         vxlan:vni=42 <-> tap tv0 -> tv0 192.168.77.2/24
#   vx6 vni 43 192.168.78.1/24 (IPv6 underlay, port 4790) <-> tap tv6 -> tv6 192.168.78.2/24
#
# Checks: pings both ways; 3 s of iperf3 TCP both ways moves data; the
# kernel's fdb learned the tap's MAC behind 10.99.0.2; tshark, capturing on
# the underlay during the pings, decodes VXLAN (VNI 42, inner ICMP) and
# finds no malformed frame; the same over an IPv6 underlay; the patches
# exit 0 on SIGTERM. The taps have MTU 1450 (1430 over IPv6) so
# encapsulated frames fit the 1500-byte underlay. All namespaces are ours (PID in the names) and
# deleted on exit. Prints TAP; everything is skipped when not root or when
# a tool is missing.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: vxlan-kernel.sh PATH_TO_NETBE}
H1=nbvx-h1-$$
H2=nbvx-h2-$$
G=nbvx-g-$$
MAC_G=02:00:00:77:00:02
MAC_G6=02:00:00:78:00:02
MAC_GG=02:00:00:79:00:02
PATCH4=
PATCH6=
PATCHG=

TESTS=(
	"IPv4 underlay: patch ready"
	"IPv4 underlay: ping netbe side -> kernel side"
	"IPv4 underlay: ping kernel side -> netbe side"
	"tshark decodes the underlay capture as VXLAN VNI 42 carrying ICMP"
	"tshark finds no malformed frame"
	"kernel fdb learned the tap MAC behind 10.99.0.2"
	"iperf3 TCP netbe side -> kernel side > 0"
	"iperf3 TCP kernel side -> netbe side > 0"
	"IPv6 underlay: patch ready"
	"IPv6 underlay: ping netbe side -> kernel side"
	"IPv6 underlay: ping kernel side -> netbe side"
	"IPv6 underlay: kernel fdb learned the tap MAC behind fd99::2"
	"patches exit 0 on SIGTERM"
	"group (multicast flood-and-learn): patch ready"
	"group: ping netbe side -> kernel side"
	"group: ping kernel side -> netbe side"
	"group: kernel fdb learned the tap MAC behind 10.99.0.2"
)

require_root "${TESTS[@]}"
for tool in ip bridge ping iperf3 tshark ethtool python3; do
	command -v $tool >/dev/null 2>&1 || skip_all "needs $tool" "${TESTS[@]}"
done
WORK=$(mktemp -d /tmp/vxlan-kernel.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

# net_setup: the three namespaces, the veth underlay, the kernel VTEPs.
net_setup() {
	ns_create "$H1" ipv6 && ns_create "$H2" ipv6 && ns_create "$G" || return 1
	ip link add u1 netns $H1 type veth peer name u2 netns $H2 || return 1
	ip -n $H1 addr add 10.99.0.1/24 dev u1 &&
	ip -n $H2 addr add 10.99.0.2/24 dev u2 &&
	ip -n $H1 addr add fd99::1/64 dev u1 nodad &&
	ip -n $H2 addr add fd99::2/64 dev u2 nodad &&
	ip -n $H1 link set u1 up && ip -n $H2 link set u2 up || return 1
	# Make the veth behave like a wire: without this, the kernel VTEP hands
	# the veth frames whose inner TCP checksum is still partial (a NIC
	# would fill it in), and they reach netbe's UDP socket that way, as no
	# real underlay would deliver them.
	ip netns exec $H1 ethtool -K u1 tx off >/dev/null &&
	ip netns exec $H2 ethtool -K u2 tx off >/dev/null || return 1
	ip -n $H1 link add vx0 type vxlan id 42 dstport 4789 local 10.99.0.1 \
		remote 10.99.0.2 dev u1 &&
	ip -n $H1 addr add 192.168.77.1/24 dev vx0 &&
	ip -n $H1 link set vx0 up || return 1
	ip -n $H1 link add vx6 type vxlan id 43 dstport 4790 local fd99::1 \
		remote fd99::2 dev u1 &&
	ip -n $H1 addr add 192.168.78.1/24 dev vx6 &&
	ip -n $H1 link set vx6 up &&
	ip -n $H1 link add vxg type vxlan id 44 dstport 4791 local 10.99.0.1 \
		group 239.1.1.44 dev u1 &&
	ip -n $H1 addr add 192.168.79.1/24 dev vxg &&
	ip -n $H1 link set vxg up
}

# h2_patch VAR LOG SPEC_A SPEC_B: patch_start in H2; its PID goes into
# VAR. Return: 0 when ready.
h2_patch() {
	local var=$1 rc
	shift
	patch_start "$1" "$H2" "$2" "$3"
	rc=$?
	printf -v "$var" %s "$PATCH_PID"
	return $rc
}

# tap_to_guest TAP MAC IP MTU: move the patch's tap from H2 into G,
# configure it.
tap_to_guest() {
	ip -n $H2 link set "$1" netns $G &&
	ip -n $G link set "$1" address "$2" &&
	ip -n $G link set "$1" mtu "$4" &&
	ip -n $G addr add "$3"/24 dev "$1" &&
	ip -n $G link set "$1" up
}

# capture_start: tshark on H1's underlay veth (UDP 4789), up to 20 s.
capture_start() {
	local _
	ip netns exec $H1 timeout 20 tshark -n -q -i u1 -f "udp port 4789" \
		-w "$WORK/cap.pcapng" >"$WORK/tshark.log" 2>&1 &
	CAPTURE=$!
	track "$CAPTURE"
	for _ in $(seq 100); do
		grep -q "Capturing on" "$WORK/tshark.log" && return 0
		sleep 0.1
	done
	diag "$WORK/tshark.log"
	return 1
}

capture_stop() {
	sleep 0.5
	kill -INT $CAPTURE 2>/dev/null
	wait $CAPTURE 2>/dev/null
}

# count FILTER: frames of the capture matching a tshark display filter
count() {
	tshark -n -r "$WORK/cap.pcapng" -Y "$1" 2>/dev/null | wc -l
}

decodes_vxlan() {
	local v i
	v=$(count "vxlan.vni == 42")
	i=$(count "vxlan && icmp")
	echo "# capture: $(count "") frames, $v VXLAN VNI 42, $i VXLAN with inner ICMP"
	[ "$v" -gt 0 ] && [ "$i" -gt 0 ]
}

no_malformed() {
	local m
	m=$(count "_ws.malformed || _ws.expert.severity == error")
	echo "# capture: $m malformed or error frames"
	[ "$m" = 0 ]
}

# fdb_learned DEV MAC DST: the kernel fdb of DEV in H1 has MAC behind DST
fdb_learned() {
	local out
	out=$(ip netns exec "$H1" bridge fdb show dev "$1")
	echo "$out" | diag
	echo "$out" | grep -qi "^$2 dst $3 "
}

# stop_patches: SIGTERM each patch; each must exit 0 within 5 s, with no
# sanitizer report in its log.
stop_patches() {
	local p rc=0
	for p in "$PATCH4:patch4" "$PATCH6:patch6" "$PATCHG:patchg"; do
		[ -n "${p%%:*}" ] || continue
		PATCH_PID=${p%%:*}
		patch_stop "$WORK/${p#*:}.log" || rc=1
	done
	PATCH4=
	PATCH6=
	PATCHG=
	return "$rc"
}

if ! net_setup; then
	echo "# namespace or kernel vxlan setup failed"
	skip_all "kernel vxlan setup failed (no vxlan module?)" "${TESTS[@]}"
fi

# IPv4 underlay
if h2_patch PATCH4 "$WORK/patch4.log" vxlan:vni=42,local=10.99.0.2,remote=10.99.0.1 \
		tap:tv0,mtu=1450 && tap_to_guest tv0 $MAC_G 192.168.77.2 1450; then
	ok "${TESTS[0]}"
	capture_start
	check "${TESTS[1]}" ping_ns $G 192.168.77.1
	check "${TESTS[2]}" ping_ns $H1 192.168.77.2
	capture_stop
	check "${TESTS[3]}" decodes_vxlan
	check "${TESTS[4]}" no_malformed
	check "${TESTS[5]}" fdb_learned vx0 $MAC_G 10.99.0.2
	iperf_server "$H1" 192.168.77.1
	check "${TESTS[6]}" iperf_tcp "$G" 192.168.77.1 "$WORK/iperfab.json"
	check "${TESTS[7]}" iperf_tcp "$G" 192.168.77.1 "$WORK/iperfba.json" -R
	iperf_server_stop
else
	not_ok "${TESTS[0]}"
	for i in 1 2 3 4 5 6 7; do not_ok "${TESTS[$i]}"; done
fi

# IPv6 underlay
if h2_patch PATCH6 "$WORK/patch6.log" vxlan:vni=43,local=fd99::2,remote=fd99::1,port=4790 \
		tap:tv6,mtu=1430 && tap_to_guest tv6 $MAC_G6 192.168.78.2 1430; then
	ok "${TESTS[8]}"
	check "${TESTS[9]}" ping_ns $G 192.168.78.1
	check "${TESTS[10]}" ping_ns $H1 192.168.78.2
	check "${TESTS[11]}" fdb_learned vx6 $MAC_G6 fd99::2
else
	for i in 8 9 10 11; do not_ok "${TESTS[$i]}"; done
fi

# Multicast group: flood-and-learn with the kernel VTEP on the same group
if h2_patch PATCHG "$WORK/patchg.log" \
		vxlan:vni=44,local=10.99.0.2,group=239.1.1.44,port=4791,dev=u2 \
		tap:tvg,mtu=1450 && tap_to_guest tvg $MAC_GG 192.168.79.2 1450; then
	ok "${TESTS[13]}"
	check "${TESTS[14]}" ping_ns $G 192.168.79.1
	check "${TESTS[15]}" ping_ns $H1 192.168.79.2
	check "${TESTS[16]}" fdb_learned vxg $MAC_GG 10.99.0.2
else
	for i in 13 14 15 16; do not_ok "${TESTS[$i]}"; done
fi

check "${TESTS[12]}" stop_patches
diag "$WORK/patch4.log" "$WORK/patch6.log" "$WORK/patchg.log"
tap_done
