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
set -u

NETBE=${1:?usage: qemu.sh PATH_TO_NETBE GUEST_DIR}
GUEST=${2:?usage: qemu.sh PATH_TO_NETBE GUEST_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
NS=nbqemu-$$
WORK=
GUEST_MAC=52:54:00:55:00:02
PINGS=3
N=0
FAILED=0
PATCH_PID=
QEMU_PID=

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

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); echo "not ok $N - $1"; FAILED=1; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
diag() { sed 's/^/# /' "$@"; }

# all_cases VERDICT REASON: one line per check of every case
all_cases() {
	local c t extra
	for c in "${CASES[@]}"; do
		extra=()
		[ "${c##*|}" = link ] && extra=("$LINK_CHECK")
		for t in "${CHECKS[@]}" "${extra[@]}"; do
			N=$((N + 1))
			if [ "$1" = skip ]; then
				echo "ok $N - ${c%%|*}: $t # SKIP $2"
			else
				echo "not ok $N - ${c%%|*}: $t # $2"
			fi
		done
	done
}

if [ "$(id -u)" != 0 ]; then
	all_cases skip "needs root"
	echo "1..$N"
	exit 0
fi
for cmd in qemu-system-x86_64 ping; do
	if ! command -v $cmd >/dev/null; then
		all_cases skip "needs $cmd (apt-get install qemu-system-x86 iputils-ping)"
		echo "1..$N"
		exit 0
	fi
done

WORK=$(mktemp -d /tmp/qemu-interop.XXXXXX)
cleanup() {
	local p i
	# QEMU_PID is timeout(1), which passes SIGTERM on to QEMU
	for p in $QEMU_PID $PATCH_PID; do kill "$p" 2>/dev/null; done
	for i in $(seq 30); do
		kill -0 $QEMU_PID $PATCH_PID 2>/dev/null || break
		sleep 0.1
	done
	for p in $QEMU_PID $PATCH_PID; do kill -9 "$p" 2>/dev/null; done
	ip netns del $NS 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# ns_setup: the namespace, with loopback able to carry multicast
ns_setup() {
	ip netns add $NS || return 1
	ip -n $NS link set lo up
	ip -n $NS link set lo multicast on
	ip -n $NS route add 224.0.0.0/4 dev lo
	ip netns exec $NS sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

# wait_for FILE PATTERN SECONDS PID: PATTERN shows up in FILE while PID
# lives. Return: 0 when it did.
wait_for() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -aq "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || break
		sleep 0.1
	done
	grep -aq "$2" "$1" 2>/dev/null
}

# start_patch LOG SPEC TAP: netbe patch in the namespace.
# Return: 0 once it printed "patch: ready" (10 s at most).
start_patch() {
	ip netns exec $NS "$NETBE" patch "$2" "tap:$3" >"$1" 2>&1 &
	PATCH_PID=$!
	wait_for "$1" "patch: ready" 10 $PATCH_PID
}

# tap_setup TAP ADDR: address the patch's tap and bring it up
tap_setup() {
	ip -n $NS addr add "$2/24" dev "$1" && ip -n $NS link set "$1" up
}

# start_qemu CONSOLE NETDEV GUEST_IP PEER_IP: boot the guest in the
# namespace (TCG, 120 s at most), console to CONSOLE.
start_qemu() {
	ip netns exec $NS timeout 120 qemu-system-x86_64 -M q35 -accel tcg -m 256 \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-serial "file:$1" \
		-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 ipv6.disable=1 netbe.mode=ping netbe.ip=$3/24 netbe.peer=$4 netbe.count=$PINGS netbe.echoes=$PINGS netbe.linger=30" \
		-netdev "$2,id=n0" -device "virtio-net-pci,netdev=n0,mac=$GUEST_MAC,romfile=" \
		>"$1.qemu" 2>&1 &
	QEMU_PID=$!
}

# guest_pinged CONSOLE: the guest got at least one echo reply
guest_pinged() {
	local line
	line=$(grep -a "^NETBE PING" "$1")
	echo "# guest: ${line:-no PING line}"
	echo "$line" | grep -q "received=[1-9]"
}

ns_pings() {
	ip netns exec $NS ping -c $PINGS -i 0.2 -W 2 -w 15 "$1" >"$2" 2>&1
	local rc=$?
	echo "# namespace: $(grep 'packets transmitted' "$2")"
	return $rc
}

# powered_off CONSOLE QEMU_STATUS: the guest finished and QEMU exited 0
powered_off() {
	grep -aq "^NETBE DONE" "$1" && [ "$2" = 0 ]
}

# frames_once CONSOLE TAP: the tap received exactly the frames the guest
# sent (no loss, no duplicates, no echo of the namespace's own frames)
frames_once() {
	local guest_tx tap_rx
	guest_tx=$(sed -n 's/^NETBE STATS tx=\([0-9]*\) .*/\1/p' "$1")
	tap_rx=$(ip netns exec $NS cat "/sys/class/net/$2/statistics/rx_packets" 2>/dev/null)
	echo "# frames sent by the guest: ${guest_tx:-?}, written to the tap by netbe: ${tap_rx:-?}"
	[ -n "$guest_tx" ] && [ "$guest_tx" = "$tap_rx" ]
}

# wait_qemu SECONDS: QEMU exits by itself within SECONDS (else killed).
# Return: QEMU's exit status (124 when it had to be killed).
wait_qemu() {
	local i rc=124
	for i in $(seq $(($1 * 10))); do
		kill -0 $QEMU_PID 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $QEMU_PID 2>/dev/null; then
		kill $QEMU_PID
		wait $QEMU_PID
	else
		wait $QEMU_PID
		rc=$?
	fi
	QEMU_PID=
	return $rc
}

# stop_patch LOG: SIGTERM; exit status 0, no sanitizer report.
stop_patch() {
	local rc i
	kill -TERM $PATCH_PID 2>/dev/null
	for i in $(seq 50); do
		kill -0 $PATCH_PID 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $PATCH_PID 2>/dev/null && kill -9 $PATCH_PID
	wait $PATCH_PID
	rc=$?
	PATCH_PID=
	[ "$rc" = 0 ] || echo "# patch exited with $rc"
	[ "$rc" = 0 ] && ! grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$1"
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
	if ! start_patch "$log" "$spec" "$tap" || ! tap_setup "$tap" "$host"; then
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
		wait_qemu 40
		rc=$?
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
		check "$name: patch exits 0 on SIGTERM, no crash" stop_patch "$log"
	else
		not_ok "$name: patch exits 0 on SIGTERM, no crash"
	fi
	[ "$link" = link ] && check "$name: $LINK_CHECK" link_logged "$log"
	diag "$log"
}

if ! ns_setup; then
	all_cases fail "cannot create namespace $NS"
	echo "1..$N"
	exit 1
fi
if ! "$HERE/guest/build-guest.sh" "$GUEST" >"$WORK/build.log" 2>&1; then
	diag "$WORK/build.log"
	all_cases fail "no guest: $(tail -n 1 "$WORK/build.log")"
	echo "1..$N"
	exit 1
fi
i=1
for c in "${CASES[@]}"; do
	run_case $i "$c"
	i=$((i + 1))
done
echo "1..$N"
exit $FAILED
