#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# slirp-ns.sh NETBE - end-to-end test of the slirp backend, the way a
# rootless container uses it.
#
# Two namespaces of our own: nbh-<pid> plays the host (only its loopback),
# nbs-<pid> the guest. `netbe patch tap:t0 slirp,...` runs in the host
# namespace, so slirp's sockets live there; the tap it creates is moved
# into the guest namespace and given 10.0.2.15/24 with the default route via
# the slirp gateway 10.0.2.2. Then:
#  - a TCP server on the host's 127.0.0.1 is reached from the guest through
#    10.0.2.2 (slirp maps the gateway to the host loopback);
#  - hostfwd: a server on the guest's 10.0.2.15:8080 is reached from the
#    host through 127.0.0.1:FWD_PORT;
#  - a 3 s iperf3 from the guest to 10.0.2.2 moves data, and the guest sees
#    no checksum errors;
#  - the patch exits 0 on SIGTERM.
# Every wait is bounded. Prints TAP; every test is skipped ("needs root")
# when not root.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: slirp-ns.sh PATH_TO_NETBE}
NSH=nbh-$$
NSS=nbs-$$
SRV_PORT=7001        # host loopback server
FWD_PORT=7002        # hostfwd port on the host loopback
IPERF_PORT=7003
GUEST_PORT=8080

TESTS=(
	"patch ready"
	"guest reaches host 127.0.0.1:$SRV_PORT via 10.0.2.2"
	"hostfwd: host 127.0.0.1:$FWD_PORT reaches guest 10.0.2.15:$GUEST_PORT"
	"iperf3 guest->host moves data"
	"no checksum errors in the guest"
	"patch exits 0 on SIGTERM"
)

require_root "${TESTS[@]}"
WORK=$(mktemp -d /tmp/slirp-ns.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

# serve NS ADDR PORT TAG: one-shot TCP server answering "TAG:<what it got>"
serve() {
	ip netns exec "$1" timeout 30 python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(25)
c, _ = s.accept()
c.settimeout(5)
c.sendall(sys.argv[3].encode() + b":" + c.recv(100))
c.close()' "$2" "$3" "$4" &
	track $!
}

# ask NS ADDR PORT: connect, send "hi", print the answer
ask() {
	ip netns exec "$1" timeout 15 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
c.sendall(b"hi")
print(c.recv(100).decode())' "$2" "$3" 2>&1
}

# listening NS PORT: true once a TCP socket listens on PORT in NS (<= 5 s)
listening() {
	local _
	for _ in $(seq 50); do
		ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# slirp_setup: the two namespaces, the patch in the host one, its tap in the
# guest one with 10.0.2.15/24 and a default route via 10.0.2.2.
# Return: 0 on success.
slirp_setup() {
	ns_create "$NSH" ipv6 && ns_create "$NSS" ipv6 || return 1
	patch_start "$WORK/patch.log" "$NSH" tap:t0 \
		"slirp,hostfwd=tcp::$FWD_PORT-10.0.2.15:$GUEST_PORT" || return 1
	ip -n "$NSH" link set t0 netns "$NSS" &&
	ip -n "$NSS" addr add 10.0.2.15/24 dev t0 &&
	ip -n "$NSS" link set t0 up &&
	ip -n "$NSS" route add default via 10.0.2.2
}

test_host_loopback() {
	local out
	serve "$NSH" 127.0.0.1 "$SRV_PORT" host
	listening "$NSH" "$SRV_PORT" || return 1
	out=$(ask "$NSS" 10.0.2.2 "$SRV_PORT")
	echo "$out" | diag
	[ "$out" = "host:hi" ]
}

test_hostfwd() {
	local out
	serve "$NSS" 10.0.2.15 "$GUEST_PORT" guest
	listening "$NSS" "$GUEST_PORT" || return 1
	out=$(ask "$NSH" 127.0.0.1 "$FWD_PORT")
	echo "$out" | diag
	[ "$out" = "guest:hi" ]
}

test_iperf() {
	iperf_server "$NSH" 127.0.0.1 -1 -p "$IPERF_PORT"
	listening "$NSH" "$IPERF_PORT" || return 1
	iperf_tcp "$NSS" 10.0.2.2 "$WORK/iperf.json" -p "$IPERF_PORT"
}

test_sigterm() {
	patch_stop "$WORK/patch.log"
	local rc=$?
	diag "$WORK/patch.log"
	return "$rc"
}

if slirp_setup; then
	ok "${TESTS[0]}"
	check "${TESTS[1]}" test_host_loopback
	check "${TESTS[2]}" test_hostfwd
	check "${TESTS[3]}" test_iperf
	check "${TESTS[4]}" no_csum_errors "$NSS"
	check "${TESTS[5]}" test_sigterm
else
	fail_names "${TESTS[@]}"
fi
tap_done
