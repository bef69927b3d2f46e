#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# suite.sh [BUILD_DIR] - netbe patch next to the forwarders a user would
# pick instead, in one run on this machine, with the ratios issue 5 sets
# as goals. Not a test: it asserts nothing, it prints a table and writes
# it into bench/RESULTS.md (the section between the suite.sh markers).
#
# What is measured, for every forwarder between nsA and nsB (it runs in
# its own namespace nsF, either with two taps it creates and the suite
# moves to the ends, or on the nsF ends vA1 / vB1 of two veth pairs):
#   TCP       iperf3 nsA -> nsB, T seconds, Gbit/s
#   64 B      gen64 (bench/src) floods 60-byte frames from nsA for PT
#             seconds: delivered Mpps = nsB interface rx_packets, offered
#             Mpps = nsA interface tx_packets + tx_dropped
#   CPU       forwarder CPU ns per delivered frame during the flood, from
#             /proc/PID/task/*/schedstat (the kernel work done in its
#             system calls included; a kernel bridge has no pid: "-")
# each R times; the table shows medians. With PIN=1 the traffic (iperf3,
# gen64) runs on CPU0 and the forwarder on CPU1.
# Forwarders: netbe patch over tap (vnet header and plain), af_packet,
# af_xdp (also polling as DPDK does: --busy-poll and busy_poll=20); the kernel bridge
# (offloads on, off); the minimal forwarders of bench/src (tapfwd threaded -v and plain, tapfwd -p poll, afpfwd -v);
# DPDK testpmd net_af_xdp and net_af_packet; vde_switch. Rootless, TCP
# only: a namespace reaching the iperf3 server on its "host" namespace's
# loopback through 10.0.2.2 via netbe patch tap slirp, slirp4netns and
# pasta (MTU 65520 for all three), with the server on CPU0 next to the
# client, then on CPU1 next to the stack (which changes the ranking).
# A peer whose tool is missing says "skipped: TOOL not installed".
# scripts/setup.sh --bench installs the peers.
#
# Everything runs in namespaces it makes (named with its pid) and deletes
# on exit; nothing is changed in the initial namespace. About 5.5 minutes
# (328 s measured) with the defaults on the project's 2-core VM.
#
# usage: flock /tmp/netbe-heavy.lock bench/suite.sh [BUILD_DIR]   (as root)
# env: R reps (3), T iperf3 seconds (3), PT flood seconds (2), PIN (1),
#      RES result dir (/tmp/netbe-suite.PID), WRITE=0 to leave RESULTS.md,
#      ONLY="LABEL..." to run some forwarders only (labels: see the end)
set -u
START=$SECONDS
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || { echo "suite: no build dir ${1:-$ROOT/build}"; exit 1; }
CLI=$BUILD/tools/netbe
export R=${R:-3} T=${T:-3} PT=${PT:-2} PIN=${PIN:-1}
RES=${RES:-/tmp/netbe-suite.$$}
[ "$(id -u)" = 0 ] || { echo "suite: needs root (network namespaces)"; exit 1; }
[ -x "$CLI" ] || { echo "suite: build first ($CLI missing)"; exit 1; }
command -v iperf3 >/dev/null || { echo "suite: iperf3 not installed"; exit 1; }
mkdir -p "$RES/bin"
rm -f "$RES"/*.tcp "$RES"/*.pps "$RES"/*.out "$RES"/*.xdp
for f in "$ROOT"/bench/src/*.c; do
	gcc -O2 -std=gnu11 -Wall -Wextra -pthread -o "$RES/bin/$(basename "$f" .c)" "$f" ||
		{ echo "suite: cannot build $f"; exit 1; }
done
GEN=$RES/bin/gen64
. "$ROOT/bench/lib.sh"
trap 'ns_cleanup; rm -rf /var/run/dpdk/nbs$$-*' EXIT
trap 'exit 130' INT TERM

# want LABEL: true unless ONLY lists other labels (for trying pieces).
want() {
	[ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]
}

# have TOOL: true if TOOL is installed, else says the peer is skipped.
have() {
	command -v "$1" >/dev/null && return 0
	echo "  skipped: $1 not installed"
	return 1
}

# tap_case LABEL CMD...: CMD makes taps tapA and tapB in nsF.
tap_case() {
	local label=$1
	want "$1" || return 0
	shift
	echo "== $label: $*"
	topo_tap && start_fwd "$RES/$label.out" "$@" && tap_ends tapA tapB && measure "$label"
	ns_cleanup
}

# veth_case LABEL OFFLOAD CMD...: CMD attaches to vA1 and vB1 in nsF;
# OFFLOAD=off makes the end hosts segment and checksum themselves.
veth_case() {
	local label=$1 offload=$2
	want "$1" || return 0
	shift 2
	echo "== $label: $*"
	if topo_veth; then
		[ "$offload" = off ] && no_offload $NA vA0 && no_offload $NB vB0
		start_fwd "$RES/$label.out" "$@" && SETTLE=15 measure "$label"
		ip -n $NF -d link show vA1 | grep -o 'xdp[a-z]*' | head -1 >"$RES/$label.xdp"
	fi
	ns_cleanup
}

# bridge_case LABEL OFFLOAD: the kernel bridge in nsF.
bridge_case() {
	want "$1" || return 0
	echo "== $1: kernel bridge, offloads $2"
	if topo_bridge; then
		[ "$2" = off ] && no_offload $NA vA0 && no_offload $NB vB0
		measure "$1"
	fi
	ns_cleanup
}

# vde_case LABEL: vde_switch with two tap ports (it daemonizes: its pid
# comes from its pid file).
vde_case() {
	local dir=$RES/vde
	want "$1" || return 0
	echo "== $1: vde_switch -t tapA -t tapB"
	mkdir -p "$dir" && rm -rf "${dir:?}/pid" "${dir:?}/ctl"
	if topo_tap && ip netns exec $NF $FW vde_switch -d -p "$dir/pid" -s "$dir/ctl" -t tapA -t tapB; then
		FWPID=$(cat "$dir/pid") && PIDS="$PIDS $FWPID"
		tap_ends tapA tapB && measure "$1"
	fi
	ns_cleanup
}

# rootless_case LABEL KIND [SERVER_CPU]: the user-mode stack KIND
# (netbe|slirp4netns|pasta) runs in the "host" namespace nsH for the guest
# namespace $NG; the stack's gateway 10.0.2.2 leads to nsH's loopback,
# where the iperf3 server listens, on the traffic CPU or on SERVER_CPU.
rootless_case() {
	local label=$1 kind=$2 STR=$TR
	want "$1" || return 0
	[ -n "${3:-}" ] && [ "$PIN" = 1 ] && STR="taskset -c $3"
	echo "== $label${3:+ (iperf3 server on CPU$3)}"
	ns_make $NH $NG || { ns_cleanup; return; }
	# a dead-end default route in nsH: pasta wants an "uplink"; nothing
	# can leave nsH through it
	ip -n $NH link add hx0 type veth peer name hx1 &&
		ip -n $NH addr add 192.0.2.1/24 dev hx0 && ip -n $NH link set hx0 up &&
		ip -n $NH route add default via 192.0.2.254 dev hx0
	case $kind in
	netbe)
		bg ip netns exec $NH timeout 600 $FW "$CLI" patch tap:t0,mtu=65520 slirp,mtu=65520 \
			>"$RES/$label.out" 2>&1
		tap_to $NH t0 $NG t0 02:00:00:00:00:0f 10.0.2.15 &&
			ip -n $NG route add default via 10.0.2.2 ;;
	slirp4netns)
		bg ip netns exec $NH timeout 600 $FW slirp4netns --configure --mtu=65520 \
			--netns-type=path /run/netns/$NG tap0 >"$RES/$label.out" 2>&1
		wait_addr $NG 10.0.2.100 ;;
	pasta)
		bg ip netns exec $NH timeout 600 $FW pasta -f --runas 0:0 --config-net \
			-a 10.0.2.15 -n 24 -g 10.0.2.2 -t none -u none -T none -U none \
			--netns /run/netns/$NG >"$RES/$label.out" 2>&1
		wait_addr $NG 10.0.2.15 ;;
	esac && sleep 0.3 && tcp_runs "$label" $NG 10.0.2.2 $NH 127.0.0.1
	ns_cleanup
}

# machine [BUILD_ARG]: key=value lines about this machine, this checkout
# and the command, for the report.
machine() {
	local commit
	commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
	[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] &&
		commit="$commit+dirty"
	echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
	echo "nproc=$(nproc)"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "ram=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "kernel=$(uname -r)"
	echo "commit=$commit"
	echo "command=R=$R T=$T PT=$PT PIN=$PIN flock /tmp/netbe-heavy.lock bench/suite.sh ${1:-build}"
}

machine "${1:-build}" >"$RES/meta"
echo "suite: results in $RES; R=$R T=$T PT=$PT PIN=$PIN; $(grep commit= "$RES/meta")"

# testpmd: both lcores on the forwarder CPU (the main one sleeps between
# its stats), no hugepages, no PCI scan; its runtime dirs (nbs$$-*) go at
# exit
DPDK="dpdk-testpmd --lcores=0@1,1@1 --no-huge -m 512 --no-pci"
TPMD="--forward-mode=io --auto-start --stats-period=60 --total-num-mbufs=16384"
B=$RES/bin

tap_case netbe_tap_vnet "$CLI" patch tap:tapA tap:tapB
tap_case tapfwd_vnet "$B/tapfwd" -v tapA tapB
bridge_case bridge_on on
bridge_case bridge_off off
tap_case netbe_tap_plain "$CLI" patch tap:tapA,vnet_hdr=off tap:tapB,vnet_hdr=off
tap_case tapfwd_plain "$B/tapfwd" tapA tapB
tap_case tapfwd_poll "$B/tapfwd" -p tapA tapB
have vde_switch && vde_case vde
veth_case netbe_afp on "$CLI" patch af_packet:vA1 af_packet:vB1
veth_case afpfwd_vnet on "$B/afpfwd" -v vA1 vB1
veth_case netbe_xdp off "$CLI" patch af_xdp:vA1 af_xdp:vB1
veth_case netbe_xdp_busy off "$CLI" patch --busy-poll 100 af_xdp:vA1,busy_poll=20 af_xdp:vB1,busy_poll=20
if have dpdk-testpmd; then
	veth_case dpdk_xdp off $DPDK --file-prefix=nbs$$-x --vdev=net_af_xdp0,iface=vA1 --vdev=net_af_xdp1,iface=vB1 -- $TPMD
	veth_case dpdk_afp off $DPDK --file-prefix=nbs$$-p --vdev=net_af_packet0,iface=vA1 --vdev=net_af_packet1,iface=vB1 -- $TPMD
fi
# the server's CPU matters a lot to the rootless stacks: both placements
for cpu in "" 1; do
	rootless_case netbe_slirp${cpu:+_s$cpu} netbe $cpu
	have slirp4netns && rootless_case slirp4netns${cpu:+_s$cpu} slirp4netns $cpu
	have pasta && rootless_case pasta${cpu:+_s$cpu} pasta $cpu
done

echo "wall=$((SECONDS - START)) s" >>"$RES/meta"
python3 "$ROOT/bench/suite-report.py" "$RES" \
	"$([ "${WRITE:-1}" = 1 ] && echo "$ROOT/bench/RESULTS.md")"
echo "suite wall time: $((SECONDS - START)) s"
