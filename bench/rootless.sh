#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# rootless.sh [BUILD_DIR] - `netbe patch tap:t0,mtu=65520 slirp,mtu=65520`
# against `slirp4netns --mtu=65520` (the same libslirp): TCP from a guest
# namespace to the iperf3 server on its "host" namespace's loopback via
# 10.0.2.2, placed as ../shared/perf/t_rootless.sh places it: the server
# and the stack on CPU1, the client on CPU0. Not a test: it asserts
# nothing.
#
# This placement is bistable: when the guest's TCP transmit runs on the
# client's CPU (inside its sendmsg) a stack reaches 5-7 Gbit/s, when it
# runs on CPU1 (inside the stack's ACK write) 2-4, and other tenants of
# the VM push runs into the slow state. So the two stacks take turns, N
# rounds of one fresh run each, and every run reports the steal time
# (ticks of both CPUs the hypervisor took) next to its Gbit/s and the
# stack's CPU ms per MB moved. The summary gives medians, the median of
# the per-round ratios over the rounds where both runs stayed under
# STEAL_MAX ticks, and their geometric mean with a 95% bootstrap interval
# (resampling rounds, fixed seed): an interval that straddles 1.00 says
# the run cannot tell the two stacks apart.
#
# Everything runs in namespaces named with this script's pid, deleted on
# exit (lib.sh); nothing is changed in the initial namespace.
#
# INSN=1 instead runs each stack once under valgrind's callgrind and
# prints the user-space instructions per guest TCP segment, split into
# libslirp, memcpy and the stack's own code: both stacks run the same
# libslirp, so the last column is what each adds, and unlike Gbit/s it
# does not move with the placement state or the steal time.
#
# usage: flock /tmp/netbe-heavy.lock bench/rootless.sh [BUILD_DIR]   (as root)
# env: N rounds (10), T iperf3 seconds (4), STEAL_MAX (60), INSN (0)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || { echo "rootless: no build dir ${1:-$ROOT/build}"; exit 1; }
CLI=$BUILD/tools/netbe
N=${N:-10} T=${T:-4} STEAL_MAX=${STEAL_MAX:-60} INSN=${INSN:-0} PIN=1
[ "$(id -u)" = 0 ] || { echo "rootless: needs root (network namespaces)"; exit 1; }
[ -x "$CLI" ] || { echo "rootless: build first ($CLI missing)"; exit 1; }
TOOLS="iperf3 slirp4netns"
[ "$INSN" = 1 ] && TOOLS="$TOOLS valgrind callgrind_control callgrind_annotate"
for tool in $TOOLS; do
	command -v $tool >/dev/null || { echo "rootless: $tool not installed (scripts/setup.sh --bench)"; exit 1; }
done
. "$ROOT/bench/lib.sh"
trap ns_cleanup EXIT
trap 'exit 130' INT TERM

# steal: hypervisor-stolen ticks of all CPUs so far.
steal() {
	awk '$1 == "cpu" { print $9 }' /proc/stat
}

# start_stack KIND [WRAPPER...]: the stack in $NH for the guest $NG, on
# CPU1, run under WRAPPER if given; once the guest is configured, sets
# FWPID.
start_stack() {
	local kind=$1 ret
	shift
	case $kind in
	netbe)
		bg ip netns exec $NH timeout 600 $FW "$@" "$CLI" patch tap:t0,mtu=65520 slirp,mtu=65520 \
			>/dev/null 2>&1
		tap_to $NH t0 $NG t0 02:00:00:00:00:0f 10.0.2.15 &&
			ip -n $NG route add default via 10.0.2.2 ;;
	slirp4netns)
		bg ip netns exec $NH timeout 600 $FW "$@" slirp4netns --configure --mtu=65520 \
			--netns-type=path /run/netns/$NG tap0 >/dev/null 2>&1
		wait_addr $NG 10.0.2.100 ;;
	esac
	ret=$?
	FWPID=$(leaf $!)
	return $ret
}

# guest_up KIND [WRAPPER...]: fresh namespaces, the iperf3 server on the
# host side and KIND (under WRAPPER) in front of the guest.
# Return: 0 once the guest is configured.
guest_up() {
	ns_make $NH $NG || return 1
	bg ip netns exec $NH $FW iperf3 -s -B 127.0.0.1 >/dev/null 2>&1
	start_stack "$@" && sleep 0.5
}

# one_run KIND: a fresh guest behind KIND, one iperf3 run of T seconds;
# prints "KIND gbit steal_ticks ms_per_mb" ("KIND NaN - -" on failure).
one_run() {
	local s0 c0 json
	if guest_up "$1"; then
		s0=$(steal) c0=$(cpu_ns $FWPID)
		json=$(ip netns exec $NG timeout $((T + 10)) $TR iperf3 -c 10.0.2.2 -t "$T" -J 2>/dev/null)
		python3 -c 'import json, sys
try:
	d = json.loads(sys.argv[1])["end"]["sum_received"]
	mb = d["bytes"] / 1e6
	print("%s %.2f %d %.3f" % (sys.argv[2], d["bits_per_second"] / 1e9, int(sys.argv[3]),
	      (int(sys.argv[4]) - int(sys.argv[5])) / 1e6 / mb))
except Exception as e:
	print(sys.argv[2], "NaN - -")
	print("rootless: %s run failed: %s" % (sys.argv[2], sys.argv[1][-300:] or e), file=sys.stderr)' \
			"$json" "$1" $(($(steal) - s0)) "$(cpu_ns $FWPID)" "$c0"
	else
		echo "$1 NaN - -"
		echo "rootless: $1 did not come up" >&2
	fi
	ns_cleanup
}

# guest_segments: frames the guest has sent into its tap so far.
guest_segments() {
	ip netns exec $NG cat /sys/class/net/"$1"/statistics/tx_packets
}

# insn_run KIND: one run of KIND under callgrind, counting from the start
# of the iperf3 client; prints "KIND segments libslirp memcpy own total"
# in instructions per guest segment.
insn_run() {
	local out=$TMPD/callgrind.$1 dev=t0 s0 s1
	[ "$1" = slirp4netns ] && dev=tap0
	if guest_up "$1" valgrind -q --tool=callgrind --callgrind-out-file="$out" &&
		callgrind_control -z "$FWPID" >/dev/null 2>&1; then
		s0=$(guest_segments $dev)
		ip netns exec $NG timeout $((T + 10)) $TR iperf3 -c 10.0.2.2 -t "$T" >/dev/null 2>&1
		s1=$(guest_segments $dev)
	fi
	ns_cleanup
	[ -s "$out" ] && [ -n "$s1" ] || { echo "$1 NaN"; echo "rootless: $1 under callgrind failed" >&2; return; }
	callgrind_annotate --inclusive=no --threshold=100 "$out" | python3 -c '
import re, sys
kind, segs = sys.argv[1], int(sys.argv[2])
total = slirp = copy = 0
for line in sys.stdin:
	m = re.match(r"\s*([\d,]+) \(.*?\)\s+(.*?)\s*(?:\[(.*)\])?$", line)
	if not m:
		continue
	n, fn, obj = int(m.group(1).replace(",", "")), m.group(2), m.group(3) or ""
	if fn == "PROGRAM TOTALS":
		total = n
	elif "libslirp" in obj:
		slirp += n
	elif re.search("memmove|memcpy", fn):
		copy += n
print("%-12s %8d %9.0f %9.0f %9.0f %9.0f" % (kind, segs, slirp / segs, copy / segs,
      (total - slirp - copy) / segs, total / segs))' "$1" $((s1 - s0))
}

if [ "$INSN" = 1 ]; then
	TMPD=$(mktemp -d)
	echo "rootless: user-space instructions per guest segment under callgrind, T=$T s; commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
	echo "stack        segments  libslirp    memcpy       own     total"
	insn_run netbe
	insn_run slirp4netns
	[ -n "${KEEP:-}" ] || rm -rf "$TMPD"
	exit 0
fi

echo "rootless: $N rounds of T=$T s, iperf3 server and stack on CPU1, client on CPU0; commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
RUNS=$(mktemp)
echo "round stack Gbit/s steal ms/MB"
for i in $(seq "$N"); do
	one_run netbe | sed "s/^/$i /"
	one_run slirp4netns | sed "s/^/$i /"
done | tee "$RUNS"
python3 -c '
import math, random, statistics as st, sys
lim = int(sys.argv[1])
rounds = {}
for line in sys.stdin:
	i, kind, g, s, _ = line.split()
	if g != "NaN":
		rounds.setdefault(i, {})[kind] = (float(g), int(s))
for kind in ("netbe", "slirp4netns"):
	v = [r[kind][0] for r in rounds.values() if kind in r]
	print("%-12s median %.2f Gbit/s over %d runs" % (kind, st.median(v) if v else 0, len(v)))
rat = [r["netbe"][0] / r["slirp4netns"][0] for r in rounds.values()
       if len(r) == 2 and max(r["netbe"][1], r["slirp4netns"][1]) < lim]
if rat:
	print("netbe / slirp4netns: median %.2f over %d rounds with steal < %d (%s)" %
	      (st.median(rat), len(rat), lim, " ".join("%.2f" % x for x in rat)))
	logs = [math.log(x) for x in rat]
	random.seed(1)
	resamples = 4000
	tail = resamples // 40
	boot = sorted(st.mean(random.choices(logs, k=len(logs))) for _ in range(resamples))
	print("netbe / slirp4netns: geometric mean %.3f, 95%% bootstrap interval %.3f-%.3f" %
	      (math.exp(st.mean(logs)), math.exp(boot[tail]), math.exp(boot[-1 - tail])))
else:
		print("netbe / slirp4netns: no round with steal < %d" % lim)' "$STEAL_MAX" <"$RUNS"
rm -f "$RUNS"
