#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# filters.sh BUILD_DIR - what core's per-handle controls cost when they
# are configured but do not limit (issue 16): iperf3 TCP nsA -> nsB through
#   plain:    netbe patch tap:A tap:B
#   filtered: netbe patch tap:A,mac=..,tx_bytes=..,rx_bytes=.. tap:B,...
# with mac= set to the source the cable really sends from and token buckets
# of 100 GB/s (never empty), so every frame passes the MAC check and both
# rate limiters. Rounds alternate plain/filtered R times (T s each) so load
# drift hits both; prints the medians and filtered/plain. Not a test: it
# asserts nothing. Root; namespaces named with this pid, removed on exit.
# usage: [R=5] [T=5] [PIN=1] bench/filters.sh build
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
NETBE=$BUILD/tools/netbe
R=${R:-5} T=${T:-5} PIN=${PIN:-1}
RES=$(mktemp -d /tmp/netbe-filters-XXXXXX)
[ "$(id -u)" = 0 ] || { echo "filters.sh: needs root (namespaces, taps)" >&2; exit 1; }
[ -x "$NETBE" ] || { echo "filters.sh: no $NETBE: build first" >&2; exit 1; }
. "$ROOT/bench/lib.sh"
trap 'ns_cleanup; rm -rf "$RES"' EXIT
trap 'exit 130' INT TERM

LIMIT=100G/1000
PLAIN=("tap:nbfA$$" "tap:nbfB$$")
FILTERED=("tap:nbfA$$,mac=$MACB,tx_bytes=$LIMIT,rx_bytes=$LIMIT"
	  "tap:nbfB$$,mac=$MACA,tx_bytes=$LIMIT,rx_bytes=$LIMIT")

# one_round LABEL SPEC_A SPEC_B: one iperf3 run through a fresh patch,
# appended to $RES/LABEL.tcp; the patch's drop counters to $RES/LABEL.out.
one_round() {
	local label=$1
	shift
	topo_tap || return 1
	start_fwd "$RES/$label.log" "$NETBE" patch "$@" &&
		tap_ends "nbfA$$" "nbfB$$" && wait_ping 5 || {
		echo "  $label: no connectivity"; cat "$RES/$label.log"; ns_cleanup; return 1; }
	R=1 tcp_runs "$label" $NA $IPB $NB $IPB
	ns_cleanup
	grep -h 'drops\|tx_spoofed\|throttled' "$RES/$label.log" >>"$RES/$label.out"
}

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "== filters configured, not limiting: $R alternating rounds of ${T}s"
for i in $(seq "$R"); do
	one_round plain "${PLAIN[@]}"
	one_round filtered "${FILTERED[@]}"
done
p=$(median "$RES/plain.tcp") f=$(median "$RES/filtered.tcp")
echo "plain    runs (Gbit/s): $(tr '\n' ' ' <"$RES/plain.tcp")"
echo "filtered runs (Gbit/s): $(tr '\n' ' ' <"$RES/filtered.tcp")"
if [ -s "$RES/filtered.out" ]; then
	echo "filtered patch counters:"; sort -u "$RES/filtered.out" | sed 's/^/  /'
fi
python3 -c "import sys; p, f = float(sys.argv[1]), float(sys.argv[2]); print('median: plain %.2f, filtered %.2f Gbit/s; filtered/plain %.3f' % (p, f, f / p))" "$p" "$f"
