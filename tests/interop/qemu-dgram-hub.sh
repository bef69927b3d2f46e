#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# qemu-dgram-hub.sh NETBE - real QEMU as the wire peer of the dgram and
# mcast backends, without a guest: QEMU (-machine none) joins its user-mode
# network (slirp) and one datagram netdev on a hub, and `netbe probe` on
# the other end of the datagram link gets a DHCP lease from QEMU's slirp
# and pings its gateway. Covers -netdev dgram (UDP and unix),
# -netdev socket,udp=, -netdev socket,mcast= and dgram multicast.
# Traffic stays on 127.0.0.1 and in a private temporary directory; every
# run is bounded by timeout. Prints TAP.
set -u
NETBE=$1
N=0
FAILED=0
BASE=$((20000 + $$ % 20000))
DIR=$(mktemp -d /tmp/nbqemu-dgram-XXXXXX)
QPID=
cleanup() {
	[ -n "$QPID" ] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

tap() { # status name
	N=$((N + 1))
	if [ "$1" = ok ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; FAILED=1; fi
}

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	for t in "dgram inet" "socket udp" "dgram unix" "socket mcast" "dgram mcast"; do
		N=$((N + 1)); echo "ok $N - qemu $t # SKIP qemu-system-x86_64 not installed"
	done
	echo "1..$N"
	exit 0
fi

# run NAME QEMU_NETDEV NETBE_SPEC: QEMU's netdev "d" on a hub with slirp,
# netbe probe on SPEC.
run() {
	timeout 30 qemu-system-x86_64 -machine none -nodefaults -display none \
		-monitor none -serial none -netdev user,id=u -netdev "$2" \
		-netdev hubport,id=h1,hubid=0,netdev=u \
		-netdev hubport,id=h2,hubid=0,netdev=d >"$DIR/qemu.log" 2>&1 &
	QPID=$!
	sleep 1
	if timeout 20 "$NETBE" probe -c 2 -t 10 "$3" >"$DIR/probe.log" 2>&1; then
		tap ok "qemu $1"
	else
		tap fail "qemu $1"
		sed 's/^/# /' "$DIR/probe.log" "$DIR/qemu.log"
	fi
	kill "$QPID" 2>/dev/null
	wait "$QPID" 2>/dev/null
	QPID=
}

P1=$BASE
P2=$((BASE + 1))
run "dgram inet" \
	"dgram,id=d,local.type=inet,local.host=127.0.0.1,local.port=$P1,remote.type=inet,remote.host=127.0.0.1,remote.port=$P2" \
	"dgram:local=127.0.0.1:$P2,remote=127.0.0.1:$P1"
run "socket udp" \
	"socket,id=d,udp=127.0.0.1:$P2,localaddr=127.0.0.1:$P1" \
	"udp:local=127.0.0.1:$P2,remote=127.0.0.1:$P1"
run "dgram unix" \
	"dgram,id=d,local.type=unix,local.path=$DIR/q.sock,remote.type=unix,remote.path=$DIR/n.sock" \
	"dgram:local=$DIR/n.sock,remote=$DIR/q.sock"
run "socket mcast" \
	"socket,id=d,mcast=239.255.$(($$ % 250)).1:$P1,localaddr=127.0.0.1" \
	"mcast:group=239.255.$(($$ % 250)).1:$P1,local=127.0.0.1"
run "dgram mcast" \
	"dgram,id=d,remote.type=inet,remote.host=239.255.$(($$ % 250)).2,remote.port=$P1,local.type=inet,local.host=127.0.0.1,local.port=0" \
	"mcast:group=239.255.$(($$ % 250)).2:$P1,local=127.0.0.1"
echo "1..$N"
exit $FAILED
