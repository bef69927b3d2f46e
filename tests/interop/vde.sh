#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# vde.sh NETBE GUEST_DIR - netbe's vde backend as a port of a real
# vde_switch (vde2), next to ports that are not netbe's.
#
# One vde_switch runs in the foreground in the work directory (control
# directory sw, management socket mgmt); its stdin is a fifo this script
# holds open, so it also ends when the script does. On it:
#  - `netbe patch vde:SW,descr=... tap:TA` in namespace A (10.57.0.1);
#  - vde_plug (vdeplug4) joining the switch to tap TB in namespace B
#    (10.57.0.2);
#  - a QEMU guest (TCG, the interop guest built into GUEST_DIR) on
#    `-netdev vde,sock=SW` (10.57.0.3).
# Checks: A and B ping each other through the switch; the switch's
# management "port/print" (a small python3 client on the unix socket)
# lists netbe's port by its description; the guest pings A and A pings the
# guest; stopping the switch makes netbe report the link down, and a
# switch started again on the same directory gets netbe's port back
# (reconnect=1); the patch exits 0 on SIGTERM.
#
# Prints TAP. Skips everything without root (namespaces, taps) or without
# vde_switch, vde_plug, qemu-system-x86_64, ping or python3; fails when
# this netbe has no vde backend. Every process is started by this script
# and ended by PID; the namespaces and the work directory go on exit.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "$0")/../lib/guest.sh"

NETBE=${1:?usage: vde.sh PATH_TO_NETBE GUEST_DIR}
GUEST=${2:?usage: vde.sh PATH_TO_NETBE GUEST_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
NSA=nbvdea-$$
NSB=nbvdeb-$$
NS=$NSA
TA=nbvta$$
TB=nbvtb$$
IPA=10.57.0.1
IPB=10.57.0.2
IPG=10.57.0.3
GUEST_MAC=52:54:00:57:00:03
DESCR=netbe-interop-$$
PINGS=3
READY_SECS=10

TESTS=("vde_switch starts" "netbe patch vde tap ready" "vde_plug joins a tap to the switch"
	"the switch's port/print lists netbe's port" "namespace A pings B through the switch"
	"namespace B pings A through the switch" "guest on -netdev vde boots and configures eth0"
	"guest pings namespace A" "namespace A pings the guest" "guest powers off"
	"netbe reports the switch going away (link down)"
	"netbe joins the restarted switch (reconnect=1): link up, port listed"
	"patch exits 0 on SIGTERM, no crash")

require_root "${TESTS[@]}"
for cmd in vde_switch:vde2 vde_plug:vde2 qemu-system-x86_64:qemu-system-x86 ping:iputils-ping python3:python3; do
	command -v "${cmd%%:*}" >/dev/null ||
		skip_all "needs ${cmd%%:*} (apt-get install ${cmd##*:})" "${TESTS[@]}"
done
"$NETBE" list 2>/dev/null | grep -q '^vde$' ||
	fail_all "this netbe has no vde backend (apt-get install libvdeplug-dev, reconfigure)" "${TESTS[@]}"
WORK=$(mktemp -d /tmp/vde-interop.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"
SW=$WORK/sw
MGMT=$WORK/mgmt

# switch_start: vde_switch in the foreground, stdin a fifo held on fd 9;
# SW_PID. Returns 0 once its control socket exists (5 s at most).
switch_start() {
	local _
	rm -f "$WORK/sw.in"
	mkfifo "$WORK/sw.in" || return 1
	vde_switch -s "$SW" -M "$MGMT" <"$WORK/sw.in" >>"$WORK/switch.log" 2>&1 &
	SW_PID=$!
	track "$SW_PID"
	exec 9>"$WORK/sw.in"
	for _ in $(seq 50); do
		[ -S "$SW/ctl" ] && [ -S "$MGMT" ] && return 0
		sleep 0.1
	done
	return 1
}

# mgmt CMD: run one command on the switch's management socket, print its
# answer (5 s at most)
mgmt() {
	timeout 5 python3 - "$MGMT" "$1" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(2)
s.connect(sys.argv[1])
end, got = time.time() + 4, b""
while b"$ " not in got and time.time() < end:
    got += s.recv(4096)
s.sendall(sys.argv[2].encode() + b"\n")
got = b""
while b"\n1000 " not in got and b"\n15" not in got and time.time() < end:
    d = s.recv(4096)
    if not d:
        break
    got += d
print(got.decode(errors="replace"))
EOF
}

# port_listed: port/print names netbe's port by its description
port_listed() {
	mgmt port/print >"$WORK/ports.txt" 2>&1
	diag "$WORK/ports.txt"
	grep -q "$DESCR" "$WORK/ports.txt"
}

# plug_start: vde_plug from the switch to tap TB in namespace B, addressed
plug_start() {
	ip netns exec "$NSB" vde_plug -D vde-interop-plug "$SW" "tap://$TB" >"$WORK/plug.log" 2>&1 &
	PLUG_PID=$!
	track "$PLUG_PID"
	NS=$NSB tap_setup "$TB" "$IPB"
}

# start_qemu CONSOLE: boot the guest on the switch (120 s at most)
start_qemu() {
	timeout 120 qemu-system-x86_64 -M q35 -accel tcg -m 256 \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-serial "file:$1" \
		-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 ipv6.disable=1 netbe.mode=ping netbe.ip=$IPG/24 netbe.peer=$IPA netbe.count=$PINGS netbe.echoes=$PINGS netbe.linger=30" \
		-netdev "vde,id=n0,sock=$SW" -device "virtio-net-pci,netdev=n0,mac=$GUEST_MAC,romfile=" \
		>"$1.qemu" 2>&1 &
	QEMU_PID=$!
	track "$QEMU_PID"
}

# guest_case: boot, ping both ways, power off (4 checks)
guest_case() {
	local con=$WORK/console.log rc
	if ! "$HERE/guest/build-guest.sh" "$GUEST" >"$WORK/build.log" 2>&1; then
		diag "$WORK/build.log"
		fail_names "${TESTS[@]:6:4}"
		return
	fi
	start_qemu "$con"
	if ! wait_for "$con" "^NETBE READY" 90 "$QEMU_PID"; then
		fail_names "${TESTS[@]:6:3}"
	else
		ok "${TESTS[6]}"
		ns_pings "$IPG" "$WORK/ping-guest.log"
		rc=$?
		wait_for "$con" "^NETBE PING" 30 "$QEMU_PID"
		check "${TESTS[7]}" guest_pinged "$con"
		check "${TESTS[8]}" test $rc = 0
	fi
	wait_exit "$QEMU_PID" 40
	rc=$?
	echo "# qemu exit status: $rc"
	check "${TESTS[9]}" powered_off "$con" "$rc"
	[ -f "$con" ] && grep -a "^NETBE\|rror\|anic" "$con" | diag
	[ -s "$con.qemu" ] && diag "$con.qemu"
}

# link_down_logged: after the switch stopped, netbe said so (5 s at most)
link_down_logged() {
	stop_pid "$SW_PID" 5 >/dev/null
	exec 9>&-
	wait_for "$WORK/patch.log" "closed this port" 5 "$PATCH_PID"
}

# rejoined: a switch started again on the same directory gets netbe's port
# back within a few reconnect periods (10 s at most)
rejoined() {
	switch_start || return 1
	wait_for "$WORK/patch.log" "joined the switch .* again: link up" 10 "$PATCH_PID" &&
		port_listed
}

{ ns_create "$NSA" && ns_create "$NSB"; } || fail_all "cannot create the namespaces" "${TESTS[@]}"
if ! switch_start; then
	diag "$WORK/switch.log"
	fail_all "vde_switch did not start" "${TESTS[@]}"
fi
ok "${TESTS[0]}"
if patch_start "$WORK/patch.log" "$NSA" "vde:$SW,descr=$DESCR,reconnect=1" "tap:$TA" &&
	NS=$NSA tap_setup "$TA" "$IPA"; then
	ok "${TESTS[1]}"
else
	not_ok "${TESTS[1]}"
fi
check "${TESTS[2]}" plug_start
check "${TESTS[3]}" port_listed
check "${TESTS[4]}" ping_ns "$NSA" "$IPB"
check "${TESTS[5]}" ping_ns "$NSB" "$IPA"
guest_case
check "${TESTS[10]}" link_down_logged
check "${TESTS[11]}" rejoined
check "${TESTS[12]}" patch_stop "$WORK/patch.log"
diag "$WORK/patch.log"
stop_pid "$PLUG_PID" 5 >/dev/null
tap_done
