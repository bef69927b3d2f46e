#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# vhost-user-qemu.sh NETBE GUEST_DIR - a real QEMU guest's virtio-net-pci
# NIC served by `netbe vhost-user` over the vhost-user protocol.
#
# The guest (tests/interop/guest, built into GUEST_DIR on first use) boots
# in qemu-system-x86_64 under TCG with its RAM in a shared memfd (vhost-user
# maps it) and one virtio-net-pci NIC on -netdev vhost-user. QEMU, netbe and
# the taps live in the test's own namespace. Per case the guest pings the
# namespace, the namespace pings the guest, then the guest uploads
# XFER_MIB MiB of random bytes over TCP to xfer-peer.py in the namespace
# (which hashes what it got and answers with the hash) and downloads as
# much from it; both hashes and lengths must match byte for byte. netbe
# must exit 0 on SIGTERM. Cases:
#  a. netbe listens on the socket, backend a tap (native offloads: the
#     guest's TSO/checksum offloads pass through the tap's vnet header);
#  b. netbe listens, backend dgram over unix datagram sockets to a
#     `netbe patch dgram:... tap:...` (no native offloads: the offloads the
#     guest negotiates are done by netbe's software offload engine);
#  c. QEMU listens (server=on,wait=off), `netbe vhost-user --client`
#     connects, backend a tap;
#  d. netbe listens, backend slirp (libslirp parses the guest's frames; no
#     native offloads): the guest is 10.0.2.15, pings slirp's 10.0.2.2 and
#     exchanges with xfer-peer.py on the namespace's 127.0.0.1 through
#     10.0.2.2; nothing routes from the namespace to a guest behind NAT, so
#     the namespace does not ping it (skipped). Skipped without slirp;
#  e. netbe --queues 2 over a multiqueue tap, QEMU with queues=2, mq=on and
#     two vCPUs (so the guest's driver enables both pairs); netbe must
#     report both pairs (which pair a flow takes is the guest's and the
#     tap's choice, so the split is only printed).
# QEMU 7.2 under TCG crashes in msix_set_vector_notifiers with vhost-user
# and MSI-X, hence vectors=0 (the guest uses INTx).
#
# VHOST_DEV=testpmd runs DPDK testpmd's vhost PMD with a net_tap in place
# of netbe (cases a and c only): it checks the QEMU side of this script.
#
# Prints TAP. Skips everything without root (namespaces, taps) or without
# qemu-system-x86_64 / python3. Every QEMU run is bounded by timeout(1);
# the namespace and the work directory are deleted on exit.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "$0")/../lib/guest.sh"

NETBE=${1:?usage: vhost-user-qemu.sh PATH_TO_NETBE GUEST_DIR}
GUEST=${2:?usage: vhost-user-qemu.sh PATH_TO_NETBE GUEST_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
NS=nbvhq-$$
GUEST_MAC=52:54:00:56:00:02
PINGS=3
XFER_MIB=${XFER_MIB:-8}
XFER_PORT=5701
QEMU_PID=
QUEUES=1                 # queue pairs of the current case
DEV_PID=
PEER_PID=
VHOST_DEV=${VHOST_DEV:-netbe}

# CASES: name|backend kind (tap or dgram)|who listens on the socket
CASES=(
	"tap, netbe listens|tap|netbe"
	"dgram + patch (software offloads), netbe listens|dgram|netbe"
	"tap, QEMU listens, netbe --client|tap|qemu"
	"slirp, netbe listens|slirp|netbe"
	"multiqueue tap (2 pairs), netbe listens|tapmq|netbe"
)
CHECKS=("vhost-user device ready" "guest boots and configures eth0"
	"guest pings the namespace" "namespace pings the guest"
	"guest uploads $XFER_MIB MiB intact" "guest downloads $XFER_MIB MiB intact"
	"guest powers off" "device exits 0 on SIGTERM, no crash")

MQ_CHECK="netbe served two queue pairs"
TESTS=()
for c in "${CASES[@]}"; do
	for t in "${CHECKS[@]}"; do TESTS+=("${c%%|*}: $t"); done
	[ "$(echo "$c" | cut -d'|' -f2)" = tapmq ] && TESTS+=("${c%%|*}: $MQ_CHECK")
done

require_root "${TESTS[@]}"
for cmd in qemu-system-x86_64 ping python3; do
	command -v $cmd >/dev/null ||
		skip_all "needs $cmd (apt-get install qemu-system-x86 iputils-ping python3)" "${TESTS[@]}"
done
WORK=$(mktemp -d /tmp/vhost-user-qemu.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"
HAVE_SLIRP=0
"$NETBE" list 2>/dev/null | grep -q "^slirp" && HAVE_SLIRP=1

# dev_start LOG SOCKET SERVER|CLIENT SPEC: the vhost-user device in the
# namespace, output to LOG, PID in DEV_PID. Returns 0 once it is ready
# (listening, or started as a client). The one place netbe vhost-user is
# run; VHOST_DEV=testpmd runs testpmd's vhost PMD instead (SPEC tap:NAME).
dev_start() {
	local log=$1 sock=$2 mode=$3 spec=$4 client=
	if [ "$VHOST_DEV" = testpmd ]; then
		[ "$mode" = client ] && client=,client=1
		# testpmd exits when its stdin ends: it reads a fifo this shell
		# holds open (a background job's own stdin would be /dev/null)
		[ -p "$WORK/stdin" ] || { mkfifo "$WORK/stdin" && exec 8<>"$WORK/stdin"; }
		# shellcheck disable=SC2016 # expanded by sh -c
		bg_start "$log" "Press enter to exit" 30 ip netns exec "$NS" timeout 300 \
			sh -c 'exec stdbuf -oL "$@" <"$0"' "$WORK/stdin" \
			dpdk-testpmd -l 0,1 --no-huge -m 512 --no-pci --file-prefix "vhq$$" \
			--vdev "net_vhost0,iface=$sock$client" --vdev "net_tap0,iface=${spec#tap:}" \
			-- --forward-mode=io -a --total-num-mbufs=16384
		client=$?
		DEV_PID=$BG_PID
		return $client
	fi
	[ "$mode" = client ] && client=--client
	bg_start "$log" "vhost-user: ready" 10 ip netns exec "$NS" timeout 300 \
		"$NETBE" vhost-user --socket "$sock" $client --queues "$QUEUES" "$spec" </dev/null
	local rc=$?
	DEV_PID=$BG_PID
	return $rc
}

# dev_stop LOG: SIGTERM the device; 0 when it exited 0 without a sanitizer
# report (testpmd: when it exited at all)
dev_stop() {
	local rc
	stop_pid "$DEV_PID" 10
	rc=$?
	DEV_PID=
	echo "# device exit status: $rc"
	[ "$VHOST_DEV" = testpmd ] && [ "$rc" != 124 ] && return 0
	[ "$rc" = 0 ] && no_sanitizer "$1"
}

# start_qemu CONSOLE SOCKET SERVER GUEST_IP PEER_IP ECHOES: boot the guest
# in the namespace (TCG, 240 s at most), console to CONSOLE; SERVER "on"
# makes QEMU listen on SOCKET; the guest waits for ECHOES pings before it
# powers off
start_qemu() {
	local chardev="socket,id=c0,path=$2" mq=
	[ "$3" = on ] && chardev="$chardev,server=on,wait=off"
	# two vCPUs: the guest's virtio_net then uses both queue pairs
	[ "$QUEUES" -gt 1 ] && mq=",mq=on"
	ip netns exec "$NS" timeout 240 qemu-system-x86_64 -M q35 -accel tcg -m 256 -smp "$QUEUES" \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-serial "file:$1" \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 ipv6.disable=1 netbe.mode=ping netbe.ip=$4/24 netbe.peer=$5 netbe.count=$PINGS netbe.echoes=$6 netbe.linger=30 netbe.xfer=$XFER_MIB netbe.port=$XFER_PORT" \
		-chardev "$chardev" -netdev "vhost-user,id=n0,chardev=c0,queues=$QUEUES" \
		-device "virtio-net-pci,netdev=n0,mac=$GUEST_MAC,romfile=,vectors=0$mq" \
		>"$1.qemu" 2>&1 &
	QEMU_PID=$!
	track "$QEMU_PID"
}

# field LINE KEY: the value of KEY=VALUE in LINE
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# upload_ok CONSOLE PEERLOG: the peer got XFER_MIB MiB hashing to what the
# guest sent, and the guest got that hash back
upload_ok() {
	local g p want=$((XFER_MIB << 20))
	g=$(grep -a "^NETBE UPLOAD" "$1" | tr -d '\r')
	p=$(grep "^UPLOAD" "$2")
	echo "# guest: ${g:-no UPLOAD line}"
	echo "# peer: ${p:-no UPLOAD line}"
	[ -n "$g" ] && [ -n "$p" ] &&
		[ "$(field "$g" bytes)" = "$want" ] && [ "$(field "$p" bytes)" = "$want" ] &&
		[ "$(field "$g" sha256)" = "$(field "$p" sha256)" ] &&
		[ "$(field "$g" reply)" = "$(field "$p" sha256)" ]
}

# download_ok CONSOLE PEERLOG: the guest got the peer's XFER_MIB MiB intact
download_ok() {
	local g p want=$((XFER_MIB << 20))
	g=$(grep -a "^NETBE DOWNLOAD" "$1" | tr -d '\r')
	p=$(grep "^DOWNLOAD" "$2")
	echo "# guest: ${g:-no DOWNLOAD line}"
	echo "# peer: ${p:-no DOWNLOAD line}"
	[ -n "$g" ] && [ -n "$p" ] &&
		[ "$(field "$g" bytes)" = "$want" ] &&
		[ "$(field "$g" sha256)" = "$(field "$p" sha256)" ]
}

# run_case INDEX "NAME|KIND|LISTENER": one case, a TAP line per CHECKS
run_case() {
	local name kind listener tap=nbv$1-$$ host=10.56.$1.1 guest=10.56.$1.2
	local log=$WORK/dev$1.log con=$WORK/console$1.log peer=$WORK/peer$1.log
	local sock=$WORK/vhost$1.sock spec mode=server ready=1 booted=1 rc
	local echoes=$PINGS listen=10.56.$1.1
	IFS='|' read -r name kind listener <<<"$2"
	QUEUES=1
	case $kind in
	tapmq) spec=tap:$tap,queues=2 QUEUES=2 ;;
	dgram) spec="dgram:local=$WORK/dev$1.dgram,remote=$WORK/patch$1.dgram" ;;
	slirp)
		spec=slirp guest=10.0.2.15 host=10.0.2.2 listen=127.0.0.1 echoes=0
		if [ $HAVE_SLIRP = 0 ]; then
			for t in "${CHECKS[@]}"; do skip "$name: $t" "this netbe has no slirp"; done
			return
		fi
		;;
	*) spec=tap:$tap ;;
	esac
	[ "$listener" = qemu ] && mode=client
	echo "# $name: vhost-user $mode $spec"
	if [ "$VHOST_DEV" = testpmd ] && [ "$kind" != tap ]; then
		for t in "${CHECKS[@]}"; do skip "$name: $t" "testpmd stands in for tap cases only"; done
		return
	fi
	if [ "$kind" = dgram ]; then
		patch_start "$WORK/patch$1.log" "$NS" \
			"dgram:local=$WORK/patch$1.dgram,remote=$WORK/dev$1.dgram" "tap:$tap" || ready=0
	fi
	if [ "$listener" = qemu ]; then
		start_qemu "$con" "$sock" on "$guest" "$host" "$echoes"
		# QEMU creates the socket before it starts the guest
		wait_for_sock "$sock" || ready=0
	fi
	[ $ready = 1 ] && { dev_start "$log" "$sock" $mode "$spec" || ready=0; }
	[ $ready = 1 ] && [ "$kind" != slirp ] && { tap_setup "$tap" "$host" || ready=0; }
	if [ $ready = 1 ]; then
		bg_start "$peer" "^LISTENING" 10 ip netns exec "$NS" timeout 300 \
			python3 "$HERE/xfer-peer.py" "$listen" $XFER_PORT "$XFER_MIB" || ready=0
		PEER_PID=$BG_PID
	fi
	[ $ready = 1 ] && [ "$listener" = netbe ] &&
		start_qemu "$con" "$sock" off "$guest" "$host" "$echoes"
	check "$name: vhost-user device ready" test $ready = 1
	if [ $ready = 1 ] && wait_for "$con" "^NETBE READY" 120 "$QEMU_PID"; then
		ok "$name: guest boots and configures eth0"
	else
		booted=0
		not_ok "$name: guest boots and configures eth0"
	fi
	if [ $booted = 1 ]; then
		if [ "$kind" != slirp ]; then
			ns_pings "$guest" "$WORK/ping$1.log"
			rc=$?
		fi
		wait_for "$con" "^NETBE PING" 30 "$QEMU_PID"
		check "$name: guest pings the namespace" guest_pinged "$con"
		if [ "$kind" = slirp ]; then
			skip "$name: namespace pings the guest" "the guest is behind slirp's NAT"
		else
			check "$name: namespace pings the guest" test $rc = 0
		fi
		wait_for "$con" "^NETBE DOWNLOAD" 150 "$QEMU_PID"
		check "$name: guest uploads $XFER_MIB MiB intact" upload_ok "$con" "$peer"
		check "$name: guest downloads $XFER_MIB MiB intact" download_ok "$con" "$peer"
	else
		for t in "guest pings the namespace" "namespace pings the guest" \
			"guest uploads $XFER_MIB MiB intact" "guest downloads $XFER_MIB MiB intact"; do
			not_ok "$name: $t"
		done
	fi
	if [ -n "$QEMU_PID" ]; then
		# QEMU exits by itself once the guest is done, else it is ended (124)
		wait_exit "$QEMU_PID" 60
		rc=$?
		QEMU_PID=
	else
		rc=none
	fi
	echo "# qemu exit status: $rc"
	check "$name: guest powers off" powered_off "$con" "$rc"
	[ -f "$con" ] && grep -a "^NETBE\|rror\|anic" "$con" | diag
	[ -s "$con.qemu" ] && diag "$con.qemu"
	if [ -n "$DEV_PID" ]; then
		check "$name: device exits 0 on SIGTERM, no crash" dev_stop "$log"
	else
		not_ok "$name: device exits 0 on SIGTERM, no crash"
	fi
	[ "$kind" = tapmq ] && check "$name: $MQ_CHECK" test "$(grep -c "^pair [01] " "$log")" = 2
	if [ "$VHOST_DEV" = testpmd ]; then
		grep -A3 "statistics for port" "$log" | diag
	else
		diag "$log"
	fi
	if [ -n "$PATCH_PID" ]; then
		patch_stop "$WORK/patch$1.log" || echo "# the dgram-tap patch did not exit 0"
		diag "$WORK/patch$1.log"
	fi
	[ -n "$PEER_PID" ] && stop_pid "$PEER_PID" 2
	PEER_PID=
}

# wait_for_sock PATH: 10 s at most for a unix socket to appear
wait_for_sock() {
	local _
	for _ in $(seq 100); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

ns_create "$NS" || fail_all "cannot create namespace $NS" "${TESTS[@]}"
if ! "$HERE/guest/build-guest.sh" "$GUEST" >"$WORK/build.log" 2>&1; then
	diag "$WORK/build.log"
	fail_all "no guest: $(tail -n 1 "$WORK/build.log")" "${TESTS[@]}"
fi
i=1
for c in "${CASES[@]}"; do
	run_case $i "$c"
	i=$((i + 1))
done
[ "$VHOST_DEV" = testpmd ] && rm -rf "/var/run/dpdk/vhq$$"
tap_done
