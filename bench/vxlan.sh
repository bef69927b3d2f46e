#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# vxlan.sh [BUILD_DIR] - TCP throughput over a VXLAN overlay (VNI 42) on a
# veth underlay between two namespaces, in one run:
#   kernel: vxlan device in H2  <-> kernel vxlan device in H1
#   netbe:  namespace G -> tap -> `netbe patch vxlan tap` in H2 <-> kernel
#           vxlan device in H1
# both directions, medians of R runs of T seconds, and the ratio
# netbe / kernel. The veth has tx offloads off in both cases, so it behaves
# like a wire (see tests/interop/vxlan-kernel.sh). Wrap it in the heavy
# lock: flock /tmp/netbe-heavy.lock bench/vxlan.sh build
# env: R reps (3), T iperf3 seconds (4)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
CLI=$BUILD/tools/netbe
R=${R:-3}
T=${T:-4}
H1=nbvxb-h1-$$
H2=nbvxb-h2-$$
G=nbvxb-g-$$
PIDS=
[ "$(id -u)" = 0 ] || { echo "vxlan bench: needs root (network namespaces)"; exit 1; }
[ -x "$CLI" ] || { echo "vxlan bench: build first ($CLI missing)"; exit 1; }

cleanup() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for n in $H1 $H2 $G; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup EXIT

for n in $H1 $H2 $G; do ip netns add $n; ip -n $n link set lo up; done
ip link add u1 netns $H1 type veth peer name u2 netns $H2
ip -n $H1 addr add 10.99.0.1/24 dev u1
ip -n $H2 addr add 10.99.0.2/24 dev u2
ip netns exec $H1 ethtool -K u1 tx off >/dev/null
ip netns exec $H2 ethtool -K u2 tx off >/dev/null
ip -n $H1 link set u1 up
ip -n $H2 link set u2 up
ip -n $H1 link add vx0 type vxlan id 42 dstport 4789 local 10.99.0.1 remote 10.99.0.2 dev u1
ip -n $H1 addr add 192.168.77.1/24 dev vx0
ip -n $H1 link set vx0 up
ip netns exec $H1 iperf3 -s -B 192.168.77.1 >/dev/null 2>&1 &
PIDS="$PIDS $!"
sleep 0.5

# median NS [iperf3 args]: the median of R runs, in Gbit/s
median() {
	local ns=$1 i
	shift
	for i in $(seq "$R"); do
		ip netns exec "$ns" timeout $((T + 15)) iperf3 -c 192.168.77.1 -t "$T" -J "$@" 2>/dev/null |
			python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))' 2>/dev/null ||
			echo 0
	done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

ip -n $H2 link add vx0 type vxlan id 42 dstport 4789 local 10.99.0.2 remote 10.99.0.1 dev u2
ip -n $H2 addr add 192.168.77.2/24 dev vx0
ip -n $H2 link set vx0 up
ping_ok() { ip netns exec "$1" ping -c 2 -i 0.2 -W 2 192.168.77.1 >/dev/null 2>&1; }
ping_ok $H2 || echo "vxlan bench: kernel to kernel ping failed"
k_up=$(median $H2)
k_down=$(median $H2 -R)
ip -n $H2 link del vx0

ip netns exec $H2 "$CLI" patch vxlan:vni=42,local=10.99.0.2,remote=10.99.0.1 tap:tv0,mtu=1450 \
	>/tmp/vxlan-bench-patch.$$ 2>&1 &
PIDS="$PIDS $!"
for i in $(seq 50); do grep -q "patch: ready" /tmp/vxlan-bench-patch.$$ && break; sleep 0.1; done
ip -n $H2 link set tv0 netns $G
ip -n $G addr add 192.168.77.2/24 dev tv0
ip -n $G link set tv0 up
ping_ok $G || echo "vxlan bench: netbe to kernel ping failed"
n_up=$(median $G)
n_down=$(median $G -R)
rm -f /tmp/vxlan-bench-patch.$$

ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.2f' % (a / b) if b else 'n/a')" "$1" "$2"; }
echo "vxlan TCP over a veth underlay, median of $R x ${T}s, Gbit/s ($(date -u +%F), $(nproc) CPUs, $(uname -r))"
printf "%-28s %8s %8s %6s\n" "direction" "netbe" "kernel" "ratio"
printf "%-28s %8s %8s %6s\n" "to the kernel VTEP" "$n_up" "$k_up" "$(ratio "$n_up" "$k_up")"
printf "%-28s %8s %8s %6s\n" "from the kernel VTEP" "$n_down" "$k_down" "$(ratio "$n_down" "$k_down")"
