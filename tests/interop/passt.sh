#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# passt.sh NETBE - the stream backend against passt, a peer nobody here
# wrote (Debian package "passt"; its unix socket speaks the same framing:
# a 4-byte big-endian length, then the frame).
#
# passt runs in a namespace of ours that plays the host (nbpasst-h-PID): a
# veth pair gives it a default route, so passt hands out 10.77.0.1/24 with
# gateway 10.77.0.254 and maps connections to the gateway onto the host
# namespace's loopback, where a small TCP server listens. The guest is:
#  (1) `netbe probe stream:connect=PASST` directly (DHCP, ARP, ping);
#  (2) `netbe probe` on stream:listen=GUEST of
#      `netbe patch stream:listen=GUEST stream:connect=PASST`, then a tap in
#      a guest namespace (nbpasst-g-PID) plugged into GUEST by a second
#      patch: a 1 MiB TCP upload to the host loopback, digest checked;
#  (3) `netbe patch tap:T stream:connect=PASST` with T in the guest
#      namespace: a DHCP lease (busybox udhcpc) and the same upload.
# The upload is guest to host on purpose: passt 2023.03 (Debian 12) on
# recent kernels re-sends already sent host-to-guest data as new data once
# the host side goes quiet (its own pcap shows it), so a large download
# cannot be checked byte for byte against that passt; the small digest
# reply still crosses host to guest.
# Sockets live in a private directory under /tmp (passt drops to "nobody"
# and Debian's AppArmor profile lets it write only under /tmp). Everything
# is removed on exit; only processes started here are killed, by PID.
# Prints TAP; skipped when not root or when passt is missing.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: passt.sh PATH_TO_NETBE}
NSH=nbpasst-h-$$
NSG=nbpasst-g-$$
TAPB=nbpb$$
TAPA=nbpa$$
PORT=5555
UPLOAD=1048576

TESTS=(
	"probe over stream:connect=passt: DHCP lease, ARP, ping"
	"probe on stream:listen of a patch to passt: DHCP lease, ARP, ping"
	"tap namespace via stream:connect -> patch -> passt: 1 MiB TCP upload to host loopback, digest checked"
	"tap:T <-> stream:connect=passt: DHCP lease in the namespace"
	"tap:T <-> stream:connect=passt: 1 MiB TCP upload to host loopback, digest checked"
	"patch counters: no rx_bad_hdr (framing errors)"
)

require_root "${TESTS[@]}"
command -v passt >/dev/null || skip_all "passt not installed (apt-get install passt)" "${TESTS[@]}"
command -v python3 >/dev/null || skip_all "python3 not installed" "${TESTS[@]}"

WORK=$(mktemp -d /tmp/nbpasst.XXXXXX) ||
	skip_all "cannot create a temporary directory" "${TESTS[@]}"
chmod 1777 "$WORK"     # passt runs as nobody and creates its socket here

# host_setup: the host namespace (a default route for passt to copy, a
# gateway address that answers ping) and the guest namespace.
# Return: 0 on success.
host_setup() {
	ns_create "$NSH" ipv6 && ns_create "$NSG" ipv6 &&
	ip -n "$NSH" link add v0 type veth peer name v1 &&
	ip -n "$NSH" addr add 10.77.0.1/24 dev v0 &&
	ip -n "$NSH" addr add 10.77.0.254/24 dev v1 &&
	ip -n "$NSH" link set v0 up && ip -n "$NSH" link set v1 up &&
	ip -n "$NSH" route add default via 10.77.0.254 dev v0 &&
	ip netns exec "$NSH" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
}
host_setup || skip_all "cannot create network namespaces" "${TESTS[@]}"

# the TCP server on the host namespace's loopback
cat > "$WORK/server.py" <<'EOF'
# Up to 4 connections: read until the client shuts down, answer the
# SHA-256 of what arrived.
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
s.settimeout(90)
for _ in range(4):
    c, _ = s.accept()
    c.settimeout(20)
    h = hashlib.sha256()
    while True:
        d = c.recv(65536)
        if not d:
            break
        h.update(d)
    c.sendall((h.hexdigest() + "\n").encode())
    c.close()
EOF
cat > "$WORK/client.py" <<'EOF'
# Upload N random bytes, shut down, expect their SHA-256 back.
import hashlib, os, socket, sys
data = os.urandom(int(sys.argv[3]))
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = b""
while not got.endswith(b"\n"):
    d = s.recv(256)
    if not d:
        break
    got += d
want = hashlib.sha256(data).hexdigest()
print("digest", got.decode(errors="replace").strip(), "want", want)
# passt 2023.03 on this kernel sometimes resends its reply as new data, so
# the digest line may arrive more than once; every line must still be it.
lines = got.decode(errors="replace").split()
sys.exit(0 if lines and all(l == want for l in lines) else 1)
EOF
cat > "$WORK/udhcpc.sh" <<'EOF'
#!/bin/sh
case "$1" in
bound|renew)
	ip addr add "$ip/$subnet" dev "$interface"
	[ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
	;;
esac
exit 0
EOF
chmod +x "$WORK/udhcpc.sh"

ip netns exec "$NSH" python3 "$WORK/server.py" "$PORT" > "$WORK/server.log" 2>&1 &
track $!

# start_passt NAME: passt for one client on $WORK/NAME.sock. Return: 0 when
# its socket appeared.
start_passt() {
	local _
	ip netns exec "$NSH" passt -f -1 -4 -e -s "$WORK/$1.sock" > "$WORK/$1.log" 2>&1 &
	track $!
	for _ in $(seq 100); do
		[ -S "$WORK/$1.sock" ] && return 0
		sleep 0.05
	done
	diag "$WORK/$1.log"
	return 1
}

probe() {
	timeout 30 "$NETBE" probe --timeout 20 "$1" > "$WORK/probe.log" 2>&1
	local rc=$?
	diag "$WORK/probe.log"
	[ "$rc" = 0 ] && grep -q "^lease 10.77.0.1/24 gateway 10.77.0.254" "$WORK/probe.log"
}

upload() {
	timeout 60 ip netns exec "$NSG" python3 "$WORK/client.py" 10.77.0.254 "$PORT" "$UPLOAD" \
		> "$WORK/client.log" 2>&1
	local rc=$?
	diag "$WORK/client.log"
	return "$rc"
}

guest_static() {
	ip -n "$NSG" addr add 10.77.0.1/24 dev "$1" &&
	ip -n "$NSG" link set "$1" up &&
	ip -n "$NSG" route add default via 10.77.0.254 dev "$1"
}

guest_dhcp() {
	ip -n "$NSG" link set "$1" up &&
	timeout 20 ip netns exec "$NSG" busybox udhcpc -i "$1" -f -q -n -t 5 -T 1 \
		-s "$WORK/udhcpc.sh" > "$WORK/udhcpc.log" 2>&1
	local rc=$?
	diag "$WORK/udhcpc.log"
	[ "$rc" = 0 ] && ip -n "$NSG" -4 addr show dev "$1" | grep -q "10.77.0.1/24"
}

# (1) the probe straight on passt's socket
if start_passt p1; then
	check "${TESTS[0]}" probe "stream:connect=$WORK/p1.sock"
else
	not_ok "${TESTS[0]}"
fi

# (2) through a listen/connect patch: the probe, then a tap namespace
ok2=false
if start_passt p2 &&
   patch_start "$WORK/patch-b.log" - "stream:listen=$WORK/guest.sock" \
	"stream:connect=$WORK/p2.sock"; then
	PATCH_B=$PATCH_PID
	ok2=true
fi
if $ok2; then
	check "${TESTS[1]}" probe "stream:connect=$WORK/guest.sock"
	if patch_start "$WORK/patch-g.log" "$NSG" "tap:$TAPB" \
		"stream:connect=$WORK/guest.sock" && guest_static "$TAPB"; then
		check "${TESTS[2]}" upload
		stop_pid "$PATCH_PID"
	else
		not_ok "${TESTS[2]}"
	fi
	stop_pid "$PATCH_B"
else
	not_ok "${TESTS[1]}"
	not_ok "${TESTS[2]}"
fi

# (3) a tap straight on passt, DHCP in the namespace
if start_passt p3 &&
   patch_start "$WORK/patch-a.log" "$NSG" "tap:$TAPA" \
	"stream:connect=$WORK/p3.sock"; then
	check "${TESTS[3]}" guest_dhcp "$TAPA"
	check "${TESTS[4]}" upload
	stop_pid "$PATCH_PID"
else
	not_ok "${TESTS[3]}"
	not_ok "${TESTS[4]}"
fi

no_bad_hdr() {
	local f
	for f in "$WORK"/patch-*.log; do
		diag "$f"
		if grep -q "rx_bad_hdr" "$f"; then
			return 1
		fi
	done
	return 0
}
check "${TESTS[5]}" no_bad_hdr
tap_done
