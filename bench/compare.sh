#!/bin/bash
# Side-by-side throughput of `netbe patch` and the references a user would
# otherwise pick, in one run, printed as medians and ratios (netbe / peer).
# Uses the measuring kit in ../shared/perf (namespaces nsA/nsB/nsF/nsH/...,
# all made and removed by the kit; nothing leaves them).
#   tap <-> tap, vnet header:   netbe patch  vs  tapfwd -v (read/write per frame)
#   tap <-> tap, no header:     netbe patch  vs  tapfwd (plain)
#   namespace -> host loopback: netbe patch tap slirp,mtu=65520  vs  slirp4netns --mtu=65520
# usage: sudo bench/compare.sh [BUILD_DIR]   env: R reps (3), T iperf3 seconds (4), PIN (1)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}; CLI=$BUILD/tools/netbe
KIT=${KIT:-$ROOT/../shared/perf}
export R=${R:-3} T=${T:-4} PT=${PT:-2} PIN=${PIN:-1}
export BIN=${BIN:-/tmp/netbe-perf/bin} RES=${RES:-/tmp/netbe-perf/compare}
[ "$(id -u)" = 0 ] || { echo "compare: needs root (network namespaces)"; exit 1; }
[ -x "$CLI" ] || { echo "compare: build first ($CLI missing)"; exit 1; }
mkdir -p "$BIN" "$RES"; rm -f "$RES"/*.txt
for f in "$KIT"/src/tapfwd.c; do gcc -O2 -pthread -o "$BIN/$(basename "$f" .c)" "$f"; done

gen() { LABEL=$1 MODE=tap timeout 300 "$KIT/t_generic.sh" "${@:2}" >/dev/null 2>&1 || echo "compare: $1 failed"; }
gen ref_tapfwd_vnet "$BIN/tapfwd" -v -c 1,1 @A@ @B@
gen netbe_tap_vnet "$CLI" patch tap:@A@ tap:@B@
gen ref_tapfwd_plain "$BIN/tapfwd" -c 1,1 @A@ @B@
gen netbe_tap_plain "$CLI" patch tap:@A@,vnet_hdr=off tap:@B@,vnet_hdr=off

# Rootless: the guest namespace reaches the host namespace's loopback.
. "$KIT/common.sh"
trap ns_clean EXIT
tcp_to() { # ns dst label
  local i; for i in $(seq "$R"); do
    ip netns exec "$1" timeout $((T + 15)) $TR iperf3 -c "$2" -t "$T" -J 2>/dev/null \
      | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' 2>/dev/null || echo NaN
  done > "$RES/tcp_$3.txt"; }
ns_clean; ns_make nsH nsS nsP
ip netns exec nsH timeout 900 $FW iperf3 -s >/dev/null 2>&1 & BGPIDS="$!"; sleep 0.5
ip netns exec nsH timeout 900 $FW slirp4netns --configure --mtu=65520 --netns-type=path /run/netns/nsS tap0 >/dev/null 2>&1 &
sp=$!; BGPIDS="$BGPIDS $sp"; sleep 1
tcp_to nsS 10.0.2.2 rootless_slirp4netns_65520
kill $sp; wait $sp 2>/dev/null
ip netns exec nsH timeout 900 $FW "$CLI" patch tap:t0,mtu=65520 slirp,mtu=65520 >/dev/null 2>&1 &
np=$!; BGPIDS="$BGPIDS $np"
for i in $(seq 50); do ip -n nsH link show t0 >/dev/null 2>&1 && break; sleep 0.1; done
ip -n nsH link set t0 netns nsP
ip -n nsP addr add 10.0.2.15/24 dev t0; ip -n nsP link set t0 up; ip -n nsP route add default via 10.0.2.2
sleep 0.5
tcp_to nsP 10.0.2.2 rootless_netbe_65520
ns_clean

python3 - "$RES" <<'PY'
import statistics, sys, os
res = sys.argv[1]
def med(label):
    try:
        v = [float(x) for x in open(os.path.join(res, "tcp_%s.txt" % label)).read().split() if x != "NaN"]
        return statistics.median(v) if v else float("nan")
    except OSError:
        return float("nan")
rows = [("tap<->tap vnet header", "netbe_tap_vnet", "ref_tapfwd_vnet", "tapfwd -v"),
        ("tap<->tap no header", "netbe_tap_plain", "ref_tapfwd_plain", "tapfwd plain"),
        ("ns -> host, mtu 65520", "rootless_netbe_65520", "rootless_slirp4netns_65520", "slirp4netns")]
print("%-24s %12s %14s %8s  peer" % ("TCP Gbit/s (median)", "netbe", "peer", "ratio"))
for name, ours, peer, pname in rows:
    a, b = med(ours), med(peer)
    print("%-24s %12.2f %14.2f %8.2f  %s" % (name, a, b, a / b if b else float("nan"), pname))
PY
