#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# qemu.sh NETBE GUEST_DIR - a real QEMU guest talks to the kernel through
# netbe, over each of QEMU's socket netdevs.
#
# The guest (tests/interop/guest: Debian's cloud kernel and a busybox
# initramfs, built into GUEST_DIR on first use) boots in
# qemu-system-x86_64 under TCG with one virtio-net-pci NIC. For every case
# below QEMU's netdev is wired by `netbe patch CASE_SPEC tap:TAP` to a tap
# in the test's own namespace (QEMU, netbe and the tap all live there, so
# every socket is on that namespace's loopback, which carries multicast
# too). The guest pings the tap's address; once it says READY the
# namespace pings the guest; the guest powers off after it has answered
# those pings and reported how many frames it sent: exactly that many must
# have reached the tap. For stream cases netbe must also log the link
# coming up (QEMU connected) and going down (QEMU gone).
# Cases: stream over unix and TCP with netbe listening and with QEMU
# listening (netbe connects with reconnect=1), dgram over UDP and over unix
# datagram sockets, multicast with -netdev socket,mcast= and with -netdev
# dgram to a group. Each case has its own tap and subnet (10.55.CASE.0/24).
#
# Prints TAP. Skips everything without root (namespaces, taps) or without
# qemu-system-x86_64; a case whose backend this netbe does not have fails.
# Every QEMU run is bounded by timeout(1); the namespace and the work
# directory are deleted on exit.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "$0")/../lib/guest.sh"

NETBE=${1:?usage: qemu.sh PATH_TO_NETBE GUEST_DIR}
GUEST=${2:?usage: qemu.sh PATH_TO_NETBE GUEST_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
NS=nbqemu-$$
GUEST_MAC=52:54:00:55:00:02
PINGS=3
QEMU_PID=
READY_SECS=10

# CASES: name|netbe spec|QEMU -netdev options (without id)|who starts
# first|whether netbe sees a link (connection) go up and down.
# @W@ is the work directory, for unix socket paths.
CASES=(
	"stream unix, netbe listens|stream:listen=@W@/s1.sock|stream,server=off,addr.type=unix,addr.path=@W@/s1.sock|netbe|link"
	"stream unix, QEMU listens|stream:connect=@W@/s2.sock,reconnect=1|stream,server=on,addr.type=unix,addr.path=@W@/s2.sock|qemu|link"
	"stream tcp, netbe listens|stream:listen=127.0.0.1:5603|stream,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=5603|netbe|link"
	"stream tcp, QEMU listens|stream:connect=127.0.0.1:5604,reconnect=1|stream,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=5604|qemu|link"
	"dgram udp|dgram:local=127.0.0.1:5652,remote=127.0.0.1:5651|dgram,local.type=inet,local.host=127.0.0.1,local.port=5651,remote.type=inet,remote.host=127.0.0.1,remote.port=5652|netbe|-"
	"dgram unix|dgram:local=@W@/n6.dgram,remote=@W@/q6.dgram|dgram,local.type=unix,local.path=@W@/q6.dgram,remote.type=unix,remote.path=@W@/n6.dgram|netbe|-"
	"mcast, QEMU socket,mcast=|mcast:group=230.0.0.1:5607|socket,mcast=230.0.0.1:5607|netbe|-"
	"mcast, QEMU dgram to a group|mcast:group=230.0.0.1:5608|dgram,remote.type=inet,remote.host=230.0.0.1,remote.port=5608|netbe|-"
)
CHECKS=("patch ready" "guest boots and configures eth0" "guest pings the namespace"
	"namespace pings the guest" "guest powers off" "each guest frame reaches the tap once"
	"patch exits 0 on SIGTERM, no crash")
LINK_CHECK="netbe logs the link going up, then down"

TESTS=()
for c in "${CASES[@]}"; do
	for t in "${CHECKS[@]}"; do TESTS+=("${c%%|*}: $t"); done
	[ "${c##*|}" = link ] && TESTS+=("${c%%|*}: $LINK_CHECK")
done

require_root "${TESTS[@]}"
for cmd in qemu-system-x86_64 ping; do
	command -v $cmd >/dev/null ||
		skip_all "needs $cmd (apt-get install qemu-system-x86 iputils-ping)" "${TESTS[@]}"
done
WORK=$(mktemp -d /tmp/qemu-interop.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

# ns_setup: the namespace, with loopback able to carry multicast
ns_setup() {
	ns_create "$NS" &&
		ip -n "$NS" link set lo multicast on &&
		ip -n "$NS" route add 224.0.0.0/4 dev lo
}

# start_qemu CONSOLE NETDEV GUEST_IP PEER_IP: boot the guest in the
# namespace (TCG, 120 s at most), console to CONSOLE.
start_qemu() {
	ip netns exec "$NS" timeout 120 qemu-system-x86_64 -M q35 -accel tcg -m 256 \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-serial "file:$1" \
		-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 ipv6.disable=1 netbe.mode=ping netbe.ip=$3/24 netbe.peer=$4 netbe.count=$PINGS netbe.echoes=$PINGS netbe.linger=30" \
		-netdev "$2,id=n0" -device "virtio-net-pci,netdev=n0,mac=$GUEST_MAC,romfile=" \
		>"$1.qemu" 2>&1 &
	QEMU_PID=$!
	track "$QEMU_PID"
}

# frames_once CONSOLE TAP: the tap received exactly the frames the guest
# sent (no loss, no duplicates, no echo of the namespace's own frames)
frames_once() {
	local guest_tx tap_rx
	guest_tx=$(sed -n 's/^NETBE STATS tx=\([0-9]*\) .*/\1/p' "$1")
	tap_rx=$(ip netns exec "$NS" cat "/sys/class/net/$2/statistics/rx_packets" 2>/dev/null)
	echo "# frames sent by the guest: ${guest_tx:-?}, written to the tap by netbe: ${tap_rx:-?}"
	[ -n "$guest_tx" ] && [ "$guest_tx" = "$tap_rx" ]
}

# link_logged LOG: the patch logged the link coming up, then going down
link_logged() {
	grep -q "link up" "$1" && sed -n '/link up/,$p' "$1" | grep -q "link down"
}

# run_case INDEX "NAME|SPEC|NETDEV|FIRST|LINK": one case, a TAP line per
# CHECKS, and LINK_CHECK when LINK is "link".
run_case() {
	local name spec netdev first tap=nbq$1-$$ host=10.55.$1.1 guest=10.55.$1.2
	local log=$WORK/patch$1.log con=$WORK/console$1.log ready=1 booted=1 rc link
	IFS='|' read -r name spec netdev first link <<<"$2"
	spec=${spec//@W@/$WORK}
	netdev=${netdev//@W@/$WORK}
	echo "# $name: netbe patch $spec tap:$tap / -netdev $netdev"
	if [ "$first" = qemu ]; then
		start_qemu "$con" "$netdev" "$guest" "$host"
		sleep 0.3
	fi
	if ! patch_start "$log" "$NS" "$spec" "tap:$tap" || ! tap_setup "$tap" "$host"; then
		ready=0
	fi
	if [ $ready = 1 ] && [ "$first" = netbe ]; then
		start_qemu "$con" "$netdev" "$guest" "$host"
	fi
	check "$name: patch ready" test $ready = 1
	if [ $ready = 1 ] && wait_for "$con" "^NETBE READY" 90 $QEMU_PID; then
		ok "$name: guest boots and configures eth0"
	else
		booted=0
		not_ok "$name: guest boots and configures eth0"
	fi
	if [ $booted = 1 ]; then
		ns_pings "$guest" "$WORK/ping$1.log"
		rc=$?
		wait_for "$con" "^NETBE PING" 30 $QEMU_PID
		check "$name: guest pings the namespace" guest_pinged "$con"
		check "$name: namespace pings the guest" test $rc = 0
	else
		not_ok "$name: guest pings the namespace"
		not_ok "$name: namespace pings the guest"
	fi
	if [ -n "$QEMU_PID" ]; then
		# QEMU exits by itself within 40 s, else it is ended (124)
		wait_exit "$QEMU_PID" 40
		rc=$?
		QEMU_PID=
	else
		rc=none
	fi
	echo "# qemu exit status: $rc"
	check "$name: guest powers off" powered_off "$con" "$rc"
	check "$name: each guest frame reaches the tap once" frames_once "$con" "$tap"
	[ -f "$con" ] && grep -a "^NETBE\|rror\|anic" "$con" | diag
	[ -s "$con.qemu" ] && diag "$con.qemu"
	if [ -n "$PATCH_PID" ]; then
		# give a stream peer's departure a moment to show up in the log
		sleep 0.3
		check "$name: patch exits 0 on SIGTERM, no crash" patch_stop "$log"
	else
		not_ok "$name: patch exits 0 on SIGTERM, no crash"
	fi
	[ "$link" = link ] && check "$name: $LINK_CHECK" link_logged "$log"
	diag "$log"
}

ns_setup || fail_all "cannot create namespace $NS" "${TESTS[@]}"
if ! "$HERE/guest/build-guest.sh" "$GUEST" >"$WORK/build.log" 2>&1; then
	diag "$WORK/build.log"
	fail_all "no guest: $(tail -n 1 "$WORK/build.log")" "${TESTS[@]}"
fi
i=1
for c in "${CASES[@]}"; do
	run_case $i "$c"
	i=$((i + 1))
done
tap_done
