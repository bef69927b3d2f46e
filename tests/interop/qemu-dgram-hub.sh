#!/bin/bash
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
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: qemu-dgram-hub.sh PATH_TO_NETBE}
BASE=$((20000 + $$ % 20000))
TESTS=("qemu dgram inet" "qemu socket udp" "qemu dgram unix" "qemu socket mcast"
	"qemu dgram mcast")

command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	skip_all "qemu-system-x86_64 not installed" "${TESTS[@]}"
WORK=$(mktemp -d /tmp/nbqemu-dgram-XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

# run NAME QEMU_NETDEV NETBE_SPEC: QEMU's netdev "d" on a hub with slirp,
# netbe probe on SPEC.
run() {
	timeout 30 qemu-system-x86_64 -machine none -nodefaults -display none \
		-monitor none -serial none -netdev user,id=u -netdev "$2" \
		-netdev hubport,id=h1,hubid=0,netdev=u \
		-netdev hubport,id=h2,hubid=0,netdev=d >"$WORK/qemu.log" 2>&1 &
	local qpid=$!
	track $qpid
	sleep 1
	if timeout 20 "$NETBE" probe -c 2 -t 10 "$3" >"$WORK/probe.log" 2>&1; then
		ok "qemu $1"
	else
		not_ok "qemu $1"
		diag "$WORK/probe.log" "$WORK/qemu.log"
	fi
	stop_pid $qpid 5
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
	"dgram,id=d,local.type=unix,local.path=$WORK/q.sock,remote.type=unix,remote.path=$WORK/n.sock" \
	"dgram:local=$WORK/n.sock,remote=$WORK/q.sock"
run "socket mcast" \
	"socket,id=d,mcast=239.255.$(($$ % 250)).1:$P1,localaddr=127.0.0.1" \
	"mcast:group=239.255.$(($$ % 250)).1:$P1,local=127.0.0.1"
run "dgram mcast" \
	"dgram,id=d,remote.type=inet,remote.host=239.255.$(($$ % 250)).2,remote.port=$P1,local.type=inet,local.host=127.0.0.1,local.port=0" \
	"mcast:group=239.255.$(($$ % 250)).2:$P1,local=127.0.0.1"
tap_done
