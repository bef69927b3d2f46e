#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# vhost-user.sh [NETBE] - how fast `netbe vhost-user` drains a vhost-user
# frontend's transmit queue, against DPDK testpmd's own vhost PMD doing the
# same job on this machine, in one run. Not a test: it prints figures.
#
# The frontend is DPDK testpmd's virtio_user PMD in --forward-mode=txonly
# (no VM): it keeps its tx ring full of 60-byte and 1514-byte frames (64 and
# 1518 bytes on the wire). The device under test drains the ring into a sink
# that discards in-process, the same kind for both:
#   netbe    `netbe vhost-user --socket S null` (the null backend), and once
#            more with --busy-poll 100 (polls 100 us after traffic instead of
#            sleeping on the kick eventfd)
#   testpmd  `dpdk-testpmd --vdev net_vhost0,iface=S --vdev net_null0,no-rx=1
#            -- --forward-mode=io` (vhost PMD -> null PMD)
# SINK=tap (root) puts a tap in a namespace this script makes in place of
# the null sink, for both: netbe's tap:vubsink, testpmd's net_tap (one
# writev per frame); the kernel drops what the tap receives (no address).
# Both devices copy every frame out of guest memory before the sink sees it
# (testpmd into an mbuf, netbe into its burst buffer, so that headers cannot
# change under the checks), so the null sinks do the same work.
# Method (the perf kit's, /work/shared/perf/common.sh run_pps): the
# frontend's forwarding lcore on CPU 0, the device on CPU 1 (testpmd: its
# forwarding lcore; netbe: taskset); after a 1 s warm-up, a PT-second
# window: Mpps is the median of the frontend's per-second Tx-pps (a full
# ring accepts frames exactly as fast as the device drains it), CPU ns per
# frame is the device's CPU time in the window (/proc/PID/task/*/schedstat,
# every thread: what utime+stime of /proc/PID/stat counts, in ns) divided by
# the frames of the window. Prints one line per device and size, then the
# ratio netbe/testpmd (Mpps: above 1 is netbe faster; ns/frame: below 1 is
# netbe cheaper).
#
# Everything is local: unix sockets in a temporary directory, no network
# interface, no namespace. Every process is bounded by timeout(1) and ended
# by PID on exit. testpmd runs without hugepages (--no-huge -m 512).
# Needs dpdk-testpmd with librte-net-virtio23, librte-net-vhost23,
# librte-net-null23 (scripts/setup.sh installs them). Env: PT (window
# seconds, default 5), R (repetitions, default 1; medians are printed),
# SIZES (payload bytes, default "60 1514"), KINDS (default "testpmd netbe
# netbe-poll").
set -u
SINK=${SINK:-null}
NETBE=${1:-$(dirname "$0")/../build/tools/netbe}
PT=${PT:-5}
R=${R:-1}
SIZES=${SIZES:-60 1514}
KINDS=${KINDS:-testpmd netbe netbe-poll}
WORK=$(mktemp -d /tmp/vhost-user-bench.XXXXXX) || exit 1
PIDS=""
DPID=""
# where DPDK leaves its run-time directories (--file-prefix)
if [ "$(id -u)" = 0 ]; then DPDK_RUN=/var/run/dpdk; else DPDK_RUN=${XDG_RUNTIME_DIR:-/tmp}/dpdk; fi

cleanup() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$WORK" "$DPDK_RUN/vub-dev$$" "$DPDK_RUN/vub-fe$$"
}
trap cleanup EXIT

NSX=()
if [ "$SINK" = tap ]; then
	[ "$(id -u)" = 0 ] || { echo "vhost-user.sh: SINK=tap needs root" >&2; exit 1; }
	NS=nbvub-$$
	ip netns add "$NS" || exit 1
	ip -n "$NS" link set lo up
	NSX=(ip netns exec "$NS")
	NETBE_SINK=tap:vubsink
	TESTPMD_SINK=net_tap0,iface=vubsink
	trap 'cleanup; ip netns del "$NS" 2>/dev/null' EXIT
else
	NETBE_SINK=null
	TESTPMD_SINK=net_null0,no-rx=1
fi

command -v dpdk-testpmd >/dev/null || { echo "vhost-user.sh: needs dpdk-testpmd (scripts/setup.sh)" >&2; exit 1; }
[ -x "$NETBE" ] || { echo "vhost-user.sh: no netbe at $NETBE (build it, or pass its path)" >&2; exit 1; }

# cpuns PID: CPU time of every thread of PID so far, in ns
cpuns() { awk '{ s += $1 } END { print s + 0 }' /proc/"$1"/task/*/schedstat 2>/dev/null; }

# wait_log FILE PATTERN SECS
wait_log() {
	local _
	for _ in $(seq $(($3 * 10))); do
		grep -aq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# device_start KIND SOCK LOG: the device (netbe, netbe-poll or testpmd) on
# CPU 1, listening on SOCK; DPID is the process doing the work
device_start() {
	local kind=$1 sock=$2 log=$3 pid
	case $kind in
	netbe | netbe-poll)
		local poll=()
		[ "$kind" = netbe-poll ] && poll=(--busy-poll 100)
		timeout 120 ${NSX[@]+"${NSX[@]}"} taskset -c 1 "$NETBE" vhost-user --socket "$sock" \
			"${poll[@]}" "$NETBE_SINK" \
			>"$log" 2>&1 </dev/null &
		pid=$!
		wait_log "$log" "vhost-user: ready" 10 || return 1
		;;
	testpmd)
		timeout 120 ${NSX[@]+"${NSX[@]}"} bash -c 'exec "$@" < <(sleep 110)' vhost \
			stdbuf -oL dpdk-testpmd -l 0,1 --main-lcore 0 --no-huge -m 512 --no-pci \
			--file-prefix "vub-dev$$" \
			--vdev "net_vhost0,iface=$sock,queues=1" --vdev "$TESTPMD_SINK" \
			-- --forward-mode=io -a --total-num-mbufs=16384 >"$log" 2>&1 &
		pid=$!
		wait_log "$log" "Press enter to exit" 30 || return 1
		;;
	esac
	PIDS="$PIDS $pid"
	# timeout(1)'s child: netbe (taskset execs it) or testpmd (bash and
	# stdbuf exec it; its own child is the sleep on its stdin)
	DPID=$(cat /proc/"$pid"/task/*/children 2>/dev/null | awk '{ print $1; exit }')
	[ -n "$DPID" ] || DPID=$pid
}

# one_run KIND SIZE: prints "Mpps ns_per_frame frontend_tx device_frames"
one_run() {
	local kind=$1 size=$2 sock=$WORK/$1-$2.sock dlog=$WORK/dev-$1-$2.log
	local flog=$WORK/front-$1-$2.log dpid fpid t0 t1 c0 c1 mpps
	rm -f "$sock"
	device_start "$kind" "$sock" "$dlog" || { echo "device $kind did not start" >&2; cat "$dlog" >&2; return 1; }
	dpid=$DPID
	# the frontend: ended by SIGTERM after the window (timeout(1) bounds it)
	timeout $((PT + 40)) \
		stdbuf -oL dpdk-testpmd -l 0,1 --main-lcore 1 --no-huge -m 512 --no-pci \
		--file-prefix "vub-fe$$" --vdev "net_virtio_user0,path=$sock,queues=1" \
		-- --forward-mode=txonly --txpkts="$size" -a --stats-period 1 \
		--total-num-mbufs=16384 >"$flog" 2>&1 &
	fpid=$!
	PIDS="$PIDS $fpid"
	# with --stats-period testpmd prints no prompt; it runs until SIGTERM
	if ! wait_log "$flog" "forwarding - ports=" 30; then
		echo "frontend did not start" >&2
		tail "$flog" >&2
		kill "$fpid" "$dpid" 2>/dev/null
		wait 2>/dev/null
		return 1
	fi
	sleep 1
	t0=$(date +%s.%N); c0=$(cpuns "$dpid")
	sleep "$PT"
	t1=$(date +%s.%N); c1=$(cpuns "$dpid")
	kill "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
	sleep 0.5
	kill "$dpid" 2>/dev/null
	wait 2>/dev/null
	# Tx-pps of port 0, every period but the first (start-up)
	mpps=$(awk '/Tx-pps:/ { n++; if (n > 1) print $2 }' "$flog" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", v[int((NR + 1) / 2)] / 1e6; else print "NaN" }')
	python3 -c "
mpps, t0, t1, c0, c1 = $mpps, $t0, $t1, $c0, $c1
frames = mpps * 1e6 * (t1 - t0)
print('%.3f %s' % (mpps, ('%.0f' % ((c1 - c0) / frames)) if frames > 0 else '-'), end=' ')"
	echo "$(awk '/Accumulated forward statistics/ { a = 1 } a && /TX-packets:/ { print $2; exit }' "$flog") $(sed -n 's/^pair 0 .*: tx \([0-9]*\) frames.*/\1/p; s/^ *RX-packets: \([0-9]*\) .*/\1/p' "$dlog" | head -n 1)"
}

# median: of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "NaN" }'; }

echo "# vhost-user drain rate, virtio_user txonly -> device -> $SINK sink; PT=${PT}s R=$R"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPUs $(sed -n 's/^model name.*: //p' /proc/cpuinfo | head -n 1)"
echo "# load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-11s %6s %8s %12s %14s %14s\n" device frame Mpps "ns/frame" "frontend_tx" "device_frames"
declare -A MPPS NS
# Repetitions interleave the devices (testpmd, netbe, netbe-poll, testpmd,
# ...) so a neighbour's load that comes and goes hits all of them alike.
for size in $SIZES; do
	for kind in $KINDS; do : >"$WORK/res-$kind"; done
	for _ in $(seq "$R"); do
		for kind in $KINDS; do
			one_run "$kind" "$size" >>"$WORK/res-$kind" || echo "NaN - - -" >>"$WORK/res-$kind"
		done
	done
	for kind in $KINDS; do
		MPPS[$kind-$size]=$(awk '{ print $1 }' "$WORK/res-$kind" | median)
		NS[$kind-$size]=$(awk '{ print $2 }' "$WORK/res-$kind" | median)
		read -r _ _ ftx dfr <"$WORK/res-$kind"
		printf "%-11s %6s %8s %12s %14s %14s\n" "$kind" "$((size + 4))" "${MPPS[$kind-$size]}" \
			"${NS[$kind-$size]}" "${ftx:--}" "${dfr:--}"
	done
done
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine moves every figure)"
echo "# ratios netbe/testpmd (Mpps: >1 netbe faster; ns/frame: <1 netbe cheaper)"
for size in $SIZES; do
	for kind in ${KINDS/testpmd/}; do
		python3 -c "
import math
def r(a, b):
    try:
        a, b = float(a), float(b)
        return '%.2f' % (a / b) if b and not math.isnan(a) and not math.isnan(b) else '-'
    except ValueError:
        return '-'
print('%-11s %4d B: Mpps %s, CPU ns/frame %s' % ('$kind', $size + 4, r('${MPPS[$kind-$size]}', '${MPPS[testpmd-$size]}'), r('${NS[$kind-$size]}', '${NS[testpmd-$size]}')))"
	done
done
