#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# dgram-patch.sh NETBE [dgram|unix|mcast|stream] - TCP throughput across two netbe
# patches joined by a datagram link, as a measurement (not a test):
#
#   ns A: tap --- netbe patch tap dgram --- (lo of ns F) --- netbe patch dgram tap --- tap: ns B
#
# Both netbe processes run in a forwarder namespace F (the taps are created
# there and moved into A and B), iperf3 runs 5 s from A to B. Needs root,
# iperf3; run under the heavy lock:
#   flock /tmp/netbe-heavy.lock bench/dgram-patch.sh build/tools/netbe dgram
# Every namespace is private to this run (names carry the PID) and deleted.
set -u
NB=$1
MODE=${2:-dgram}
S=$$
F=nbdg-f-$S A=nbdg-a-$S B=nbdg-b-$S
P1=$((20000 + S % 20000)) P2=$((20000 + S % 20000 + 1))
D=$(mktemp -d /tmp/nbdgperf-XXXXXX)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null
	ip netns del "$F" 2>/dev/null; rm -rf "$D"
}
trap cleanup EXIT
case $MODE in
dgram) SA="dgram:local=127.0.0.1:$P1,remote=127.0.0.1:$P2"
       SB="dgram:local=127.0.0.1:$P2,remote=127.0.0.1:$P1" ;;
unix)  SA="dgram:local=$D/a.sock,remote=$D/b.sock"
       SB="dgram:local=$D/b.sock,remote=$D/a.sock" ;;
mcast) SA="mcast:group=239.255.$((S % 250)).9:$P1,local=127.0.0.1"; SB=$SA ;;
stream) SA="stream:listen=127.0.0.1:$P1"
        SB="stream:connect=127.0.0.1:$P1,reconnect=1" ;;
*) echo "usage: $0 NETBE [dgram|unix|mcast|stream]" >&2; exit 2 ;;
esac
ip netns add "$F" && ip netns add "$A" && ip netns add "$B" || exit 1
ip -n "$F" link set lo up
ip netns exec "$F" "$NB" patch "tap:dga$S" "$SA" >"$D/a.log" 2>&1 & PIDS="$PIDS $!"
ip netns exec "$F" "$NB" patch "tap:dgb$S" "$SB" >"$D/b.log" 2>&1 & PIDS="$PIDS $!"
for i in 1 2 3 4 5 6 7 8 9 10; do
	grep -q "patch: ready" "$D/a.log" && grep -q "patch: ready" "$D/b.log" && break
	sleep 0.2
done
ip -n "$F" link set "dga$S" netns "$A"
ip -n "$F" link set "dgb$S" netns "$B"
ip -n "$A" addr add 10.77.0.1/24 dev "dga$S"; ip -n "$A" link set "dga$S" up
ip -n "$B" addr add 10.77.0.2/24 dev "dgb$S"; ip -n "$B" link set "dgb$S" up
if ! ip netns exec "$A" ping -c 2 -W 2 10.77.0.2 >/dev/null; then
	echo "ping across failed"; cat "$D/a.log" "$D/b.log"; exit 1
fi
ip netns exec "$B" iperf3 -s -1 >/dev/null 2>&1 & PIDS="$PIDS $!"
sleep 0.5
echo "$MODE: $SA"
ip netns exec "$A" timeout 20 iperf3 -c 10.77.0.2 -t 5 -f g | grep -E "sender|receiver"
