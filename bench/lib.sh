# SPDX-License-Identifier: BSD-2-Clause
#
# lib.sh - helpers of bench/suite.sh (sourced, not run): network
# namespaces, topologies, the forwarder under test, and the two
# measurements (iperf3 TCP, the 64-byte frame flood).
#
# Everything happens in namespaces made here, named with the suite's pid
# ($$) so that two runs and the machine's own namespaces never collide:
#   $NA, $NB   end hosts: 10.199.0.1 (MAC ..:0a) and 10.199.0.2 (MAC ..:0b)
#   $NF        the forwarder's namespace (taps are made there, then moved;
#              veth ends vA1 / vB1 live there)
#   $NH        the rootless "host": only lo, the iperf3 server on 127.0.0.1
#   $NG        the rootless guest
# Nothing is created in the initial namespace, no route or firewall rule is
# touched there. ns_cleanup (the caller's EXIT trap) kills the processes
# started here, by pid, and deletes the namespaces.
#
# Needs: R (reps), T (iperf3 seconds), PT (flood seconds), PIN, RES (result
# dir), GEN (the gen64 binary).
set -u

SFX=$$
NA=nbsA$SFX NB=nbsB$SFX NF=nbsF$SFX NH=nbsH$SFX NG=nbsG$SFX
MACA=02:00:00:00:00:0a MACB=02:00:00:00:00:0b
IPA=10.199.0.1 IPB=10.199.0.2
PIDS=""        # every background process started here
FWPID=""       # the forwarder whose CPU time is measured
IFA="" IFB=""  # the end hosts' interfaces
if [ "${PIN:-1}" = 1 ]; then
	TR="taskset -c 0" FW="taskset -c 1"
else
	TR="" FW=""
fi

# bg CMD...: start CMD in the background and remember its pid.
bg() {
	"$@" &
	PIDS="$PIDS $!"
}

# gone PID...: true when none of the PIDs is alive any more.
gone() {
	local p
	for p in "$@"; do [ -d /proc/$p ] && return 1; done
	return 0
}

# kill_started: SIGTERM every process bg started (and the forwarder
# itself, which may sit under a timeout), give them 3 s to finish (a
# forwarder prints its counters, testpmd detaches its XDP programs), then
# SIGKILL what is left.
kill_started() {
	local p i
	[ -n "$PIDS" ] || return 0
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for i in $(seq 30); do
		gone $PIDS && break
		sleep 0.1
	done
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	PIDS="" FWPID=""
}

# ns_cleanup: stop what was started and delete this run's namespaces.
ns_cleanup() {
	local n
	kill_started
	for n in $NA $NB $NF $NH $NG; do
		[ -e /run/netns/$n ] && ip netns del $n
	done
	return 0
}

# ns_make NS...: fresh namespaces with lo up.
ns_make() {
	local n
	for n in "$@"; do
		ip netns add "$n" && ip -n "$n" link set lo up || return 1
	done
}

# host_cfg NS IF MAC IP: configure an end host's interface.
host_cfg() {
	ip -n "$1" link set "$2" address "$3" &&
		ip -n "$1" addr add "$4/24" dev "$2" &&
		ip -n "$1" link set "$2" up
}

# no_offload NS IF: the end host segments and checksums itself (for
# forwarders that cannot carry GSO frames or partial checksums).
no_offload() {
	ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off >/dev/null 2>&1
}

# topo_tap: end and forwarder namespaces; the forwarder makes tapA, tapB
# in $NF and tap_ends moves them to the ends.
topo_tap() {
	ns_make $NA $NB $NF
}

# tap_to FROM_NS IF NS NAME MAC IP: wait (10 s at most, as wait_addr
# does for the peers) for tap IF in FROM_NS, move it to NS as NAME and
# configure it. The forwarder's fd stays valid.
tap_to() {
	local i
	for i in $(seq 100); do
		ip -n "$1" link show "$2" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip -n "$1" link set "$2" netns "$3" &&
		ip -n "$3" link set "$2" name "$4" && host_cfg "$3" "$4" "$5" "$6"
}

# wait_addr NS ADDR: until ADDR is configured in NS (10 s at most).
wait_addr() {
	local i
	for i in $(seq 100); do
		ip -n "$1" addr show 2>/dev/null | grep -q "inet $2/" && return 0
		sleep 0.1
	done
	echo "  no address $2 in the guest namespace"
	return 1
}

# tap_ends TAP_A TAP_B: move the forwarder's taps from $NF to the ends.
tap_ends() {
	tap_to $NF "$1" $NA tA $MACA $IPA && tap_to $NF "$2" $NB tB $MACB $IPB &&
		IFA=tA IFB=tB
}

# topo_veth: $NA:vA0 <-> $NF:vA1 and $NF:vB1 <-> $NB:vB0.
topo_veth() {
	ns_make $NA $NB $NF &&
		ip -n $NF link add vA1 type veth peer name vA0 netns $NA &&
		ip -n $NF link add vB1 type veth peer name vB0 netns $NB &&
		host_cfg $NA vA0 $MACA $IPA && host_cfg $NB vB0 $MACB $IPB &&
		ip -n $NF link set vA1 up && ip -n $NF link set vB1 up &&
		IFA=vA0 IFB=vB0
}

# topo_bridge: topo_veth with a kernel bridge over vA1 and vB1 in $NF.
topo_bridge() {
	topo_veth &&
		ip -n $NF link add br0 type bridge forward_delay 0 stp_state 0 &&
		ip -n $NF link set vA1 master br0 && ip -n $NF link set vB1 master br0 &&
		ip -n $NF link set br0 up
}

# leaf PID: the innermost single child of PID (ip netns exec -> timeout
# -> the forwarder), so CPU time is read from the forwarder itself.
leaf() {
	local p=$1 c
	while c=$(cat /proc/$p/task/*/children 2>/dev/null | awk '{ print $1; exit }') &&
		[ -n "$c" ]; do
		p=$c
	done
	echo "$p"
}

# start_fwd OUT CMD...: run the forwarder CMD in $NF on the forwarder CPU,
# at most 600 s, output to OUT; sets FWPID.
start_fwd() {
	local out=$1
	shift
	bg ip netns exec $NF timeout 600 $FW "$@" >"$out" 2>&1
	sleep 0.3
	FWPID=$(leaf $!)
	PIDS="$PIDS $FWPID"
}

# stop_fwd: SIGTERM the forwarder (it prints its counters) and forget it.
stop_fwd() {
	kill_started
}

# wait_ping [SECONDS]: until nsA reaches nsB (default 5 s). Return: 0 on
# success.
wait_ping() {
	local end=$((SECONDS + ${1:-5}))
	while [ $SECONDS -lt $end ]; do
		ip netns exec $NA ping -c1 -W1 $IPB >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# gbits: Gbit/s received, from iperf3 -J on stdin ("NaN" if none).
gbits() {
	python3 -c 'import json, sys
try: print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: print("NaN")'
}

# tcp_runs LABEL CLIENT_NS DST SERVER_NS BIND: R iperf3 runs of T seconds
# from CLIENT_NS to DST (a server in SERVER_NS bound to BIND); Gbit/s
# appended to $RES/LABEL.tcp, one per line. The server runs on the traffic
# CPU unless STR says otherwise (a taskset prefix).
tcp_runs() {
	local label=$1 cns=$2 dst=$3 sns=$4 bind=$5 spid i
	ip netns exec "$sns" timeout $((R * (T + 12) + 5)) ${STR-$TR} iperf3 -s -B "$bind" >/dev/null 2>&1 &
	spid=$!
	sleep 0.3
	for i in $(seq "$R"); do
		ip netns exec "$cns" timeout $((T + 10)) $TR iperf3 -c "$dst" -t "$T" -J 2>/dev/null | gbits
	done >>"$RES/$label.tcp"
	kill $spid 2>/dev/null
	wait $spid 2>/dev/null
}

# cpu_ns PID: CPU ns the process has run, all threads, as a plain integer
# (awk's print would turn sums past 2^31 into 6-digit e-notation).
cpu_ns() {
	awk '{ s += $1 } END { printf "%.0f\n", s }' /proc/$1/task/*/schedstat 2>/dev/null
}

# sample: "time rx tx cpu" now: rx at nsB's interface, tx (sent +
# dropped) at nsA's, the forwarder's CPU ns (0 without a forwarder pid).
sample() {
	local t rx tx txd cpu=0
	rx=$(ip netns exec $NB cat /sys/class/net/$IFB/statistics/rx_packets)
	t=$EPOCHREALTIME
	tx=$(ip netns exec $NA cat /sys/class/net/$IFA/statistics/tx_packets)
	txd=$(ip netns exec $NA cat /sys/class/net/$IFA/statistics/tx_dropped)
	[ -n "$FWPID" ] && [ -d /proc/$FWPID ] && cpu=$(cpu_ns $FWPID)
	echo "$t $rx $((tx + txd)) $cpu"
}

# pps_runs LABEL: R floods of 64-byte frames from nsA (gen64 on the
# traffic CPU), each measured over PT seconds after 0.5 s of warm-up;
# appends "delivered_Mpps offered_Mpps fwd_cpu_ns_per_frame" (the last
# "-" without a forwarder pid) to $RES/LABEL.pps.
pps_runs() {
	local label=$1 i g s0 s1
	for i in $(seq "$R"); do
		ip netns exec $NA $TR "$GEN" -t $((PT + 1)) $IFA >/dev/null &
		g=$!
		sleep 0.5
		s0=$(sample)
		sleep "$PT"
		s1=$(sample)
		wait $g
		python3 -c 'import sys
a = [float(x) for x in sys.argv[1].split()]; b = [float(x) for x in sys.argv[2].split()]
t, d, c = b[0] - a[0], b[1] - a[1], b[3] - a[3]
print("%.3f %.3f %s" % (d / t / 1e6, (b[2] - a[2]) / t / 1e6, "%.0f" % (c / d) if d > 0 and c > 0 else "-"))' \
			"$s0" "$s1"
		sleep 0.3
	done >>"$RES/$label.pps"
}

# measure LABEL: connectivity, then TCP and the flood through the current
# topology; a failed ping records nothing (the table shows "n/a").
measure() {
	wait_ping "${SETTLE:-5}" || {
		echo "  $1: no connectivity nsA -> nsB, skipped"
		return 1
	}
	tcp_runs "$1" $NA $IPB $NB $IPB
	pps_runs "$1"
}
