#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# bench-count.sh NETBE - `netbe bench tx` into `netbe bench rx` counts every
# frame: the generator's "sent" equals the sink's bench frames plus the
# drops somebody counted.
#
# Unprivileged, over loopback: dgram (UDP) and stream (TCP listen/connect)
# at 20000 frames/s for 1 s into a sink that runs 4 s. Over stream nothing
# may be lost (TCP, back-pressure). Over UDP nothing should be lost at this
# rate either, but if the receiving socket's buffer overflows (a loaded
# machine, a sanitizer build), the kernel drops the datagrams before netbe
# sees them; it counts them per socket in the last column of /proc/net/udp,
# which is read while the sink still holds the socket, so the check is
# sent = received + netbe's counted drops + the socket's kernel drops,
# exact either way. Also: --count stops the sink at exactly N frames,
# SIGINT/SIGTERM end both sides with a summary and exit 0, usage errors
# exit 2 and spec errors 1.
#
# As root: the same over a veth pair (af_packet on each end) in a namespace
# the test creates (PID in its name) and deletes on exit; skipped when not
# root or when the af_packet backend is not built. The ring's kernel drops
# are counted by the backend (rx_overflow); drops on the veth pair before
# the socket (backlog overflow on a loaded machine) are the kernel's, read
# from the interfaces, so there sent = received + counted + veth drops. Prints TAP; every traffic run is bounded in time.
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: bench-count.sh PATH_TO_NETBE}
NS=nbbench-$$
WORK=$(mktemp -d /tmp/bench-count.XXXXXX) || fail_all "no work directory" "bench-count"

# free_ports: set P1 and P2 to two ports (P2 = P1 + 1) that no TCP or UDP
# socket uses now.
free_ports() {
	local _
	for _ in $(seq 50); do
		P1=$((20000 + RANDOM % 12000))
		P2=$((P1 + 1))
		[ -z "$(ss -Hantu "( sport = :$P1 or dport = :$P1 or sport = :$P2 or dport = :$P2 )" 2>/dev/null)" ] &&
			return 0
	done
}

# field LOG NAME: the number after NAME in LOG's summary line
field() {
	grep "summary:" "$1" | sed -n "s/.*[ (]$2 \([0-9][0-9]*\).*/\1/p" | head -n1
}

# start_rx LOG ARGS...: run `bench rx ARGS` in the background (RX_PID) and
# wait (5 s at most) until it is ready. Return: 0 when ready.
start_rx() {
	local log=$1
	shift
	bg_start "$log" ready 5 "$@"
	local rc=$?
	RX_PID=$BG_PID
	return $rc
}

# udp_drops PORT: the kernel's drop count of the UDP socket bound to
# 127.0.0.1:PORT (0 when none is found).
udp_drops() {
	local hex
	hex=$(printf '0100007F:%04X' "$1")
	awk -v a="$hex" '$2 == a { d += $NF } END { print d + 0 }' /proc/net/udp
}

# veth_drops: what the kernel dropped on the veth pair before the sink's
# socket (nbbA's tx_dropped + nbbB's rx_dropped, which include backlog
# overflows) - frames netbe never sees, like udp_drops for UDP.
veth_drops() {
	local a b
	a=$(ip netns exec "$NS" cat /sys/class/net/nbbA/statistics/tx_dropped)
	b=$(ip netns exec "$NS" cat /sys/class/net/nbbB/statistics/rx_dropped)
	echo $((a + b))
}

# balance NAME TXLOG RXLOG EXTRA: sent = bench + dropped + EXTRA
balance() {
	local sent bench dropped
	sent=$(field "$2" sent)
	bench=$(field "$3" bench)
	dropped=$(field "$3" dropped)
	echo "# $1: sent ${sent:-?}, received ${bench:-?}, counted drops ${dropped:-?}, kernel drops $4"
	if [ -n "$sent" ] && [ -n "$bench" ] && [ -n "$dropped" ] && [ "$sent" -gt 0 ] &&
		[ "$sent" = $((bench + dropped + $4)) ]; then
		ok "$1: sent = received + counted drops"
	else
		diag "$2" "$3"
		not_ok "$1: sent = received + counted drops"
	fi
}

# run_pair NAME RXSPEC TXSPEC KDROPS [PREFIX...]: rx 4 s, tx 1 s at
# 20000 frames/s, both exit 0, and the frames balance. KDROPS is the UDP
# port whose kernel drops count, "veth" for the veth pair's drops, or 0.
run_pair() {
	local name=$1 rxspec=$2 txspec=$3 kport=$4 rc kdrops=0
	shift 4
	if ! start_rx "$WORK/$name-rx.log" "$@" "$NETBE" bench rx "$rxspec" --duration 4; then
		not_ok "$name: rx ready"
		return
	fi
	ok "$name: rx ready"
	"$@" "$NETBE" bench tx "$txspec" --rate 20000 --duration 1 >"$WORK/$name-tx.log" 2>&1 &
	track $!
	wait_exit $! 10
	rc=$?
	[ "$rc" = 0 ] || diag "$WORK/$name-tx.log"
	check "$name: tx exits 0" [ "$rc" = 0 ]
	case $kport in
	0) ;;
	veth) kdrops=$(veth_drops) ;;
	*) kdrops=$(udp_drops "$kport") ;;
	esac
	wait_exit "$RX_PID" 10
	rc=$?
	[ "$rc" = 0 ] || diag "$WORK/$name-rx.log"
	check "$name: rx exits 0 after --duration" [ "$rc" = 0 ]
	balance "$name" "$WORK/$name-tx.log" "$WORK/$name-rx.log" "$kdrops"
}

# --- arguments --------------------------------------------------------------
"$NETBE" bench >/dev/null 2>&1
check "usage: no mode exits 2" [ $? = 2 ]
"$NETBE" bench tx null --size 10 >/dev/null 2>&1
check "usage: --size 10 exits 2" [ $? = 2 ]
"$NETBE" bench rx null --rate 5 >/dev/null 2>&1
check "usage: --rate on rx exits 2" [ $? = 2 ]
"$NETBE" bench tx nosuchbackend:x --duration 1 >"$WORK/spec.log" 2>&1
rc=$?
check "spec error exits 1" [ $rc = 1 ]
check "spec error message names the type" grep -q "nosuchbackend" "$WORK/spec.log"

# --- loopback ---------------------------------------------------------------
free_ports
run_pair dgram "dgram:local=127.0.0.1:$P1,remote=127.0.0.1:$P2" \
	"dgram:local=127.0.0.1:$P2,remote=127.0.0.1:$P1" "$P1"

free_ports
run_pair stream "stream:listen=127.0.0.1:$P1" "stream:connect=127.0.0.1:$P1" 0
check "stream: nothing lost" [ "$(field "$WORK/stream-rx.log" lost)" = 0 ]

# --count: the sink stops by itself at exactly N frames
free_ports
if start_rx "$WORK/count-rx.log" "$NETBE" bench rx "dgram:local=127.0.0.1:$P1,remote=127.0.0.1:$P2" \
	--count 1000 --duration 10; then
	"$NETBE" bench tx "dgram:local=127.0.0.1:$P2,remote=127.0.0.1:$P1" --rate 20000 \
		--duration 1 >"$WORK/count-tx.log" 2>&1
	wait_exit "$RX_PID" 5
	rc=$?
	check "count: rx exits 0 after --count 1000" [ $rc = 0 ]
	check "count: rx received exactly 1000" [ "$(field "$WORK/count-rx.log" received)" = 1000 ]
else
	not_ok "count: rx exits 0 after --count 1000"
	not_ok "count: rx received exactly 1000"
fi

# SIGINT / SIGTERM: summary and exit 0
free_ports
if start_rx "$WORK/sig-rx.log" "$NETBE" bench rx "dgram:local=127.0.0.1:$P1,remote=127.0.0.1:$P2" \
	--duration 30; then
	kill -INT "$RX_PID"
	wait_exit "$RX_PID" 5
	rc=$?
	check "signal: rx exits 0 on SIGINT" [ $rc = 0 ]
	check "signal: rx prints its summary" grep -q "rx summary:" "$WORK/sig-rx.log"
else
	not_ok "signal: rx exits 0 on SIGINT"
	not_ok "signal: rx prints its summary"
fi
"$NETBE" bench tx null --duration 30 >"$WORK/sig-tx.log" 2>&1 &
TX_PID=$!
track "$TX_PID"
sleep 0.5
kill -TERM "$TX_PID"
wait_exit "$TX_PID" 5
rc=$?
check "signal: tx exits 0 on SIGTERM" [ $rc = 0 ]
check "signal: tx prints its summary" grep -q "tx summary:" "$WORK/sig-tx.log"

# --- af_packet over a veth pair (root) --------------------------------------
AFP_TESTS=("af_packet: rx ready" "af_packet: tx exits 0" "af_packet: rx exits 0 after --duration"
	"af_packet: sent = received + counted drops")
why=
if [ "$(id -u)" != 0 ]; then
	why="needs root"
elif ! "$NETBE" list | grep -q '^af_packet'; then
	why="af_packet backend not built"
fi
if [ -z "$why" ]; then
	if ns_create "$NS" &&
		ip -n "$NS" link add nbbA type veth peer name nbbB &&
		ip -n "$NS" link set nbbA up && ip -n "$NS" link set nbbB up; then
		run_pair af_packet af_packet:nbbB af_packet:nbbA veth ip netns exec "$NS"
	else
		echo "# cannot create namespace $NS with a veth pair"
		fail_names "${AFP_TESTS[@]}"
	fi
else
	for t in "${AFP_TESTS[@]}"; do skip "$t" "$why"; done
fi

tap_done
