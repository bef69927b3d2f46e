#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# threads.sh BUILD_DIR - `netbe patch --threads 2` against --threads 1 and
# the threaded minimal forwarder (bench/src/tapfwd.c -v, a thread per
# direction) between two taps with vnet headers (issue 19, item 1):
# iperf3 TCP nsA -> nsB, the three forwarders in alternating rounds, R
# rounds of T seconds; prints each run, the medians and the ratios. Not a
# test: it asserts nothing. Root; namespaces named with this pid, removed
# on exit. PIN=0: nothing is pinned (two forwarder threads need two CPUs).
# usage: [R=5] [T=5] bench/threads.sh build
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
NETBE=$BUILD/tools/netbe
R=${R:-5} T=${T:-5} PIN=0
RES=$(mktemp -d /tmp/netbe-threads-XXXXXX)
[ "$(id -u)" = 0 ] || { echo "threads.sh: needs root (namespaces, taps)" >&2; exit 1; }
[ -x "$NETBE" ] || { echo "threads.sh: no $NETBE: build first" >&2; exit 1; }
. "$ROOT/bench/lib.sh"
trap 'ns_cleanup; rm -rf "$RES"' EXIT
trap 'exit 130' INT TERM
gcc -O2 -std=gnu11 -Wall -Wextra -pthread -o "$RES/tapfwd" "$ROOT/bench/src/tapfwd.c" || exit 1

# one_round LABEL FORWARDER...: one iperf3 run through a fresh forwarder
# between taps tapA and tapB, appended to $RES/LABEL.tcp.
one_round() {
	local label=$1
	shift
	topo_tap || return 1
	start_fwd "$RES/$label.log" "$@" && tap_ends tapA tapB && wait_ping 5 || {
		echo "  $label: no connectivity"; cat "$RES/$label.log"; ns_cleanup; return 1; }
	R=1 tcp_runs "$label" $NA $IPB $NB $IPB
	ns_cleanup
}

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "== tap <-> tap with vnet headers: $R alternating rounds of ${T}s"
for i in $(seq "$R"); do
	one_round threads1 "$NETBE" patch tap:tapA tap:tapB
	one_round threads2 "$NETBE" patch --threads 2 tap:tapA tap:tapB
	one_round tapfwd "$RES/tapfwd" -v tapA tapB
done
for l in threads1 threads2 tapfwd; do
	echo "$l runs (Gbit/s): $(tr '\n' ' ' <"$RES/$l.tcp") median $(median "$RES/$l.tcp")"
done
python3 -c "import sys; a, b, c = map(float, sys.argv[1:]); print('--threads 2 / --threads 1 %.3f; --threads 2 / tapfwd -v %.3f; --threads 1 / tapfwd -v %.3f' % (b / a, b / c, a / c))" \
	"$(median "$RES/threads1.tcp")" "$(median "$RES/threads2.tcp")" "$(median "$RES/tapfwd.tcp")"
