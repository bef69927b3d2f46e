#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# qemu-vhost-user.sh NETBE GUEST_DIR - real QEMU as the vhost-user frontend
# of `netbe vhost-user slirp`: a guest (TCG; the kernel and busybox init of
# tests/interop/guest, built by build-guest.sh into GUEST_DIR) with a
# virtio-net-pci device on -netdev vhost-user, its memory a shared memfd,
# configures eth0 and pings slirp's gateway through netbe's device model.
# Two cases: netbe listens and QEMU connects; QEMU listens and netbe
# connects (--client). Nothing needs root: slirp's network is private and
# the socket lives in a private temporary directory; every run is bounded
# by timeout. Prints TAP.
#
# The device has no MSI-X vectors (vectors=0): QEMU 7.2 (Debian 12) under
# TCG crashes in msix_set_vector_notifiers() when vhost starts on a device
# with MSI-X, whatever the backend; with INTx it polls the call eventfd.
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: qemu-vhost-user.sh PATH_TO_NETBE GUEST_DIR}
GUEST=${2:?usage: qemu-vhost-user.sh PATH_TO_NETBE GUEST_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
CASES=("netbe listens" "QEMU listens, netbe connects")
CHECKS=("netbe ready" "guest boots and configures eth0" "guest pings slirp's gateway"
	"guest powers off" "netbe saw the frontend come and go"
	"netbe exits 0 on SIGTERM, no crash")
TESTS=()
for c in "${CASES[@]}"; do
	for t in "${CHECKS[@]}"; do TESTS+=("$c: $t"); done
done

command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	skip_all "needs qemu-system-x86_64 (apt-get install qemu-system-x86)" "${TESTS[@]}"
"$NETBE" list 2>/dev/null | grep -q '^slirp' ||
	skip_all "netbe built without slirp" "${TESTS[@]}"
WORK=$(mktemp -d /tmp/nbqemu-vhu-XXXXXX) || fail_all "no work directory" "${TESTS[@]}"
if ! "$HERE/guest/build-guest.sh" "$GUEST" >"$WORK/build.log" 2>&1; then
	diag "$WORK/build.log"
	fail_all "no guest: $(tail -n 1 "$WORK/build.log")" "${TESTS[@]}"
fi

# start_qemu CONSOLE CHARDEV: the guest, its NIC on a vhost-user chardev
start_qemu() {
	timeout 150 qemu-system-x86_64 -M q35 -accel tcg -m 256 \
		-object memory-backend-memfd,id=mem,size=256M,share=on \
		-machine memory-backend=mem \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-serial "file:$1" -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 ipv6.disable=1 netbe.mode=ping netbe.ip=10.0.2.15/24 netbe.peer=10.0.2.2 netbe.count=3 netbe.echoes=0 netbe.linger=1" \
		-chardev "$2" -netdev vhost-user,id=n0,chardev=c0 \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:55:00:02,romfile=,vectors=0 \
		>"$1.qemu" 2>&1 &
	QEMU_PID=$!
	track "$QEMU_PID"
}

# came_and_went LOG: the device saw a frontend connect, then leave
came_and_went() {
	grep -q "frontend connected" "$1" &&
		sed -n '/frontend connected/,$p' "$1" | grep -q "frontend disconnected"
}

# run_case N NAME: one guest run, netbe listening (1) or connecting (2)
run_case() {
	local sock=$WORK/vu$1.sock con=$WORK/console$1.log log=$WORK/netbe$1.log
	local name=$2 ready=0 rc
	if [ "$1" = 1 ]; then
		bg_start "$log" "ready on" 10 "$NETBE" vhost-user --socket "$sock" slirp && ready=1
		NB_PID=$BG_PID
		start_qemu "$con" "socket,id=c0,path=$sock"
	else
		start_qemu "$con" "socket,id=c0,path=$sock,server=on"
		wait_for "$con.qemu" "waiting for connection" 10 "$QEMU_PID"
		bg_start "$log" "ready on" 10 "$NETBE" vhost-user --client --socket "$sock" slirp && ready=1
		NB_PID=$BG_PID
	fi
	check "$name: netbe ready" test $ready = 1
	check "$name: guest boots and configures eth0" wait_for "$con" "^NETBE READY" 90 "$QEMU_PID"
	wait_for "$con" "^NETBE DONE" 60 "$QEMU_PID"
	check "$name: guest pings slirp's gateway" grep -aq "^NETBE PING.*received=[1-9]" "$con"
	wait_exit "$QEMU_PID" 30
	rc=$?
	check "$name: guest powers off" test "$rc" = 0
	sleep 0.3
	check "$name: netbe saw the frontend come and go" came_and_went "$log"
	stop_pid "$NB_PID" 5
	rc=$EXIT_RC
	check "$name: netbe exits 0 on SIGTERM, no crash" test "$rc" = 0
	grep -a "^NETBE\|rror\|anic" "$con" | diag
	[ -s "$con.qemu" ] && diag "$con.qemu"
	diag "$log"
}

i=1
for c in "${CASES[@]}"; do
	run_case $i "$c"
	i=$((i + 1))
done
tap_done
