#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# offload-patch.sh [BUILD_DIR] - what the software offload engine buys, as a
# measurement (not a test), in one run with the measuring kit in
# ../shared/perf (its t_generic.sh: namespaces nsA, nsB, nsF, made and
# removed by the kit; nothing leaves them):
#
#   hdr:   netbe patch tap:@A@ tap:@B@,vnet_hdr=off
#          A's kernel hands 64 KiB TSO super-frames with partial checksums
#          to the patch; core segments them and completes the checksums
#          for B (the engine at work);
#   plain: netbe patch tap:@A@,vnet_hdr=off tap:@B@,vnet_hdr=off
#          both kernels segment and checksum themselves; the patch moves
#          one MTU-sized frame per read/write.
#
# R rounds, each one T-second iperf3 TCP run (nsA -> nsB) per setup,
# alternating so that load from elsewhere hits both alike (the kit also
# runs its 64-byte frame flood, PT seconds, after each). Prints the TCP
# medians, the ratio hdr / plain (issue 3 wants >= 1.5), the machine's load
# and the vCPUs' steal time, and, from the same hdr runs, the
# segments per second the engine produced and the patch's CPU time per
# produced segment (whole forwarder: reads, engine, writes, the ACK
# direction and the kernel work done in its syscalls). Then the engine
# alone: BUILD_DIR/offload-bench (a 64 KiB TSO4 frame segmented in a loop).
#
# The patch runs with --stats 1 behind a small wrapper (this script with
# --fwd) that stamps every counter line with the wall time and the patch's
# CPU time so far; the seconds of the TCP runs are the ones whose A -> B
# frames average more than 1000 bytes.
#
# usage: flock /tmp/netbe-heavy.lock bench/offload-patch.sh [BUILD_DIR]
# env: R reps (3), T iperf3 seconds (4), PT pps seconds (1), PIN (1: traffic
#      on CPU0, patch on CPU1), BIN (/tmp/netbe-perf/bin), RES, KIT
set -u

# --fwd CLI SPEC_A SPEC_B: run `CLI patch --stats 1 SPEC_A SPEC_B`; print
# each of its lines as "WALL_S CPU_NS LINE". SIGTERM/SIGINT stop the patch
# (it prints its final counters) and then the wrapper.
if [ "${1:-}" = --fwd ]; then
	fifo=$(mktemp -u /tmp/offload-patch-fwd.XXXXXX)
	mkfifo "$fifo" || exit 1
	"$2" patch --stats 1 "$3" "$4" >"$fifo" 2>&1 &
	pid=$!
	trap 'kill -TERM $pid 2>/dev/null' TERM INT
	while IFS= read -r line; do
		cpu=0
		for f in /proc/$pid/task/*/schedstat; do
			read -r c _ <"$f" 2>/dev/null && cpu=$((cpu + c))
		done
		echo "$EPOCHREALTIME $cpu $line"
	done <"$fifo"
	wait $pid
	rc=$?
	rm -f "$fifo"
	exit $rc
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SELF=$ROOT/bench/$(basename "$0")
BUILD=${1:-$ROOT/build}
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "offload-patch: no build dir ${1:-$ROOT/build}"; exit 1; }
CLI=$BUILD/tools/netbe
KIT=${KIT:-$ROOT/../shared/perf}
export R=${R:-3} T=${T:-4} PT=${PT:-1} PIN=${PIN:-1}
export BIN=${BIN:-/tmp/netbe-perf/bin} RES=${RES:-/tmp/netbe-perf/offload}
[ "$(id -u)" = 0 ] || { echo "offload-patch: needs root (network namespaces)"; exit 1; }
[ -x "$CLI" ] || { echo "offload-patch: build first ($CLI missing)"; exit 1; }
mkdir -p "$BIN" "$RES"
rm -f "$RES"/*.txt "$RES"/*.out "$RES"/*.log
for f in "$KIT"/src/*.c; do
	gcc -O2 -pthread -o "$BIN/$(basename "$f" .c)" "$f" ||
		echo "offload-patch: cannot build $f (not needed here)"
done

# gen LABEL CMD...: one kit run (TCP, then 64-byte frames) with CMD in nsF
gen() {
	local label=$1
	shift
	echo "== $label: $*"
	LABEL=$label MODE=tap timeout 300 "$KIT/t_generic.sh" "$@" >"$RES/gen_$label.log" 2>&1 ||
		{ echo "offload-patch: $label failed:"; cat "$RES/gen_$label.log"; }
	sleep 1 # the wrapper prints the patch's final counters
}

# cpu_steal: the machine's steal time so far, in USER_HZ ticks (a VM's
# vCPUs lose time to the host; that skews the numbers like other load)
cpu_steal() { awk '$1 == "cpu" { print $9 }' /proc/stat; }
STEAL0=$(cpu_steal)
WALL0=$EPOCHREALTIME

# R rounds, each one iperf3 run per setup, alternating, so that load from
# elsewhere on the machine hits both setups alike
for i in $(seq "$R"); do
	R=1 gen "netbe_ofl_hdr_$i" "$SELF" --fwd "$CLI" tap:@A@ tap:@B@,vnet_hdr=off
	R=1 gen "netbe_ofl_plain_$i" "$SELF" --fwd "$CLI" tap:@A@,vnet_hdr=off tap:@B@,vnet_hdr=off
done

python3 - "$RES" "$R" <<'PY'
import os, re, statistics, sys

res, reps = sys.argv[1], int(sys.argv[2])
LINE = re.compile(r"^(\S+) (\d+) ([AB]) \S+: tx (\d+) frames (\d+) bytes, rx (\d+) frames (\d+) bytes")

def tcp(label):
    """Gbit/s of each run of the rounds of @label."""
    v = []
    for i in range(1, reps + 1):
        try:
            v += [float(x) for x in open(os.path.join(res, "tcp_%s_%d.txt" % (label, i))).read().split()
                  if x != "NaN"]
        except OSError:
            pass
    return v

def samples(path):
    """(wall s, cpu ns, A counters, B counters) per --stats tick of a
    stamped patch output."""
    out, a = [], None
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return out
    for l in lines:
        m = LINE.match(l)
        if not m:
            continue
        ts, cpu, side = float(m.group(1)), int(m.group(2)), m.group(3)
        c = tuple(int(x) for x in m.group(4, 5, 6, 7))  # tx frames, tx bytes, rx frames, rx bytes
        if side == "A":
            a = (ts, cpu, c)
        elif a:
            out.append((ts, cpu, a[2], c))
            a = None
    return out

def engine(label):
    """A -> B during the TCP seconds of all rounds of @label: frames in from
    A, frames out to B (the segments), seconds, patch CPU ns, per-second
    rates of frames out."""
    fin = fout = 0
    secs = cpu = 0.0
    rates, per_round = [], []
    for i in range(1, reps + 1):
        s = samples(os.path.join(res, "fwd_%s_%d.out" % (label, i)))
        fout0, cpu0 = fout, cpu
        for p, q in zip(s, s[1:]):
            dt, dcpu = q[0] - p[0], q[1] - p[1]
            a_rx = q[2][2] - p[2][2]
            b_tx, b_txb = q[3][0] - p[3][0], q[3][1] - p[3][1]
            if b_tx < 1000 or b_txb / b_tx < 1000 or dt <= 0:
                continue  # idle, ping, or the 64-byte frame phase
            fin += a_rx
            fout += b_tx
            secs += dt
            cpu += dcpu
            rates.append(b_tx / dt)
        per_round.append((cpu - cpu0) / (fout - fout0) if fout > fout0 else float("nan"))
    return fin, fout, secs, cpu, rates, per_round

def med(v):
    return statistics.median(v) if v else float("nan")

h, p = tcp("netbe_ofl_hdr"), tcp("netbe_ofl_plain")
print("TCP nsA -> nsB, Gbit/s (runs in order; median):")
print("  hdr   tap:A <-> tap:B,vnet_hdr=off              %s; %.2f" % (" ".join("%.2f" % x for x in h), med(h)))
print("  plain tap:A,vnet_hdr=off <-> tap:B,vnet_hdr=off %s; %.2f" % (" ".join("%.2f" % x for x in p), med(p)))
print("  ratio hdr / plain: %.2f (goal >= 1.5)" % (med(h) / med(p) if p and med(p) else float("nan")))
for label, what in (("netbe_ofl_hdr", "segments the engine produced"),
                    ("netbe_ofl_plain", "frames forwarded (no engine)")):
    fin, fout, secs, cpu, rates, per_round = engine(label)
    if not fout:
        print("%s: no TCP seconds found in fwd_%s_*.out" % (label, label))
        continue
    print("%s, A -> B over %.1f s of TCP: %d frames in, %d out (%.1f out per frame in)"
          % (label, secs, fin, fout, fout / max(fin, 1)))
    print("  %s: %.0f /s (median of per-second rates), %.0f /s (mean)"
          % (what, med(rates), fout / secs))
    print("  patch CPU: %.0f%% of one CPU, %.0f ns per frame out (rounds: %s)"
          % (100 * cpu / 1e9 / secs, cpu / fout, " ".join("%.0f" % x for x in per_round)))
PY
echo "== load average at the start of each run, and the vCPUs' steal time"
cat "$RES/load.log" 2>/dev/null
python3 -c 'import sys, os; s = (int(sys.argv[1]) - int(sys.argv[2])) / os.sysconf("SC_CLK_TCK"); w = float(sys.argv[3]) - float(sys.argv[4]); print("steal %.1f s of %.0f s x %d CPUs (%.1f%%)" % (s, w, os.cpu_count(), 100 * s / w / os.cpu_count()))' \
	"$(cpu_steal)" "$STEAL0" "$EPOCHREALTIME" "$WALL0"
for f in netbe_ofl_hdr netbe_ofl_plain; do
	echo "== $f: the patch's final counters, round 1"
	grep -E "^[0-9.]+ [0-9]+ [AB] " "$RES/fwd_${f}_1.out" | tail -2 | cut -d' ' -f3-
	echo "== $f: 64-byte frames (delivered Mpps, offered Mpps, patch CPU ns per frame)"
	cat "$RES/pps_${f}"_*.txt 2>/dev/null
done
if [ -x "$BUILD/offload-bench" ]; then
	echo "== the engine alone: $BUILD/offload-bench 2"
	"$BUILD/offload-bench" 2
fi
