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
set -u

NETBE=${1:?usage: slirp-ns.sh PATH_TO_NETBE}
NSH=nbh-$$
NSS=nbs-$$
SRV_PORT=7001        # host loopback server
FWD_PORT=7002        # hostfwd port on the host loopback
IPERF_PORT=7003
GUEST_PORT=8080
WORK=$(mktemp -d /tmp/slirp-ns.XXXXXX)
PATCH_PID=
BG_PIDS=
N=0

TESTS=(
	"patch ready"
	"guest reaches host 127.0.0.1:$SRV_PORT via 10.0.2.2"
	"hostfwd: host 127.0.0.1:$FWD_PORT reaches guest 10.0.2.15:$GUEST_PORT"
	"iperf3 guest->host moves data"
	"no checksum errors in the guest"
	"patch exits 0 on SIGTERM"
)

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); echo "not ok $N - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
diag() { sed 's/^/# /' "$@"; }

if [ "$(id -u)" != 0 ]; then
	for t in "${TESTS[@]}"; do
		N=$((N + 1)); echo "ok $N - $t # SKIP needs root"
	done
	echo "# skipped: needs root"
	echo "1..$N"
	exit 0
fi

cleanup() {
	local p
	for p in $BG_PIDS $PATCH_PID; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $BG_PIDS $PATCH_PID; do kill -9 "$p" 2>/dev/null; done
	ip netns del "$NSH" 2>/dev/null
	ip netns del "$NSS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

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
	BG_PIDS="$BG_PIDS $!"
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
	local i
	for i in $(seq 50); do
		ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# wait_ready: true once the patch printed "patch: ready" (<= 5 s)
wait_ready() {
	local i
	for i in $(seq 50); do
		grep -q "patch: ready" "$WORK/patch.out" && return 0
		kill -0 "$PATCH_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

setup() {
	ip netns add "$NSH" && ip netns add "$NSS" || return 1
	ip -n "$NSH" link set lo up && ip -n "$NSS" link set lo up || return 1
	ip netns exec "$NSH" "$NETBE" patch tap:t0 \
		"slirp,hostfwd=tcp::$FWD_PORT-10.0.2.15:$GUEST_PORT" \
		> "$WORK/patch.out" 2> "$WORK/patch.err" &
	PATCH_PID=$!
	wait_ready || return 1
	ip -n "$NSH" link set t0 netns "$NSS" &&
	ip -n "$NSS" addr add 10.0.2.15/24 dev t0 &&
	ip -n "$NSS" link set t0 up &&
	ip -n "$NSS" route add default via 10.0.2.2
}

test_host_loopback() {
	local out
	serve "$NSH" 127.0.0.1 $SRV_PORT host
	listening "$NSH" $SRV_PORT || return 1
	out=$(ask "$NSS" 10.0.2.2 $SRV_PORT)
	echo "$out" | diag
	[ "$out" = "host:hi" ]
}

test_hostfwd() {
	local out
	serve "$NSS" 10.0.2.15 $GUEST_PORT guest
	listening "$NSS" $GUEST_PORT || return 1
	out=$(ask "$NSH" 127.0.0.1 $FWD_PORT)
	echo "$out" | diag
	[ "$out" = "guest:hi" ]
}

test_iperf() {
	local bps
	ip netns exec "$NSH" timeout 30 iperf3 -s -1 -B 127.0.0.1 -p $IPERF_PORT > /dev/null 2>&1 &
	BG_PIDS="$BG_PIDS $!"
	listening "$NSH" $IPERF_PORT || return 1
	ip netns exec "$NSS" timeout 20 iperf3 -c 10.0.2.2 -p $IPERF_PORT -t 3 -J \
		> "$WORK/iperf.json" 2>&1
	bps=$(python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))' \
		"$WORK/iperf.json" 2>/dev/null)
	echo "iperf3 guest->host: ${bps:-none} bit/s" | diag
	[ -n "$bps" ] && [ "$bps" -gt 0 ]
}

test_no_csum_errors() {
	local bad
	bad=$(NSTAT_HISTORY=$WORK/nstat.hist ip netns exec "$NSS" nstat -az \
		IpExtInCsumErrors TcpInCsumErrors UdpInCsumErrors |
		awk '/CsumErrors/ { s += $2 } END { print s + 0 }')
	echo "checksum errors: $bad" | diag
	[ "$bad" = 0 ]
}

test_sigterm() {
	local i rc
	kill -TERM "$PATCH_PID"
	for i in $(seq 50); do
		kill -0 "$PATCH_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$PATCH_PID"
	rc=$?
	PATCH_PID=
	diag "$WORK/patch.out"
	[ "$rc" = 0 ]
}

if setup; then
	ok "${TESTS[0]}"
	check "${TESTS[1]}" test_host_loopback
	check "${TESTS[2]}" test_hostfwd
	check "${TESTS[3]}" test_iperf
	check "${TESTS[4]}" test_no_csum_errors
	check "${TESTS[5]}" test_sigterm
else
	diag "$WORK/patch.err"
	for t in "${TESTS[@]}"; do not_ok "$t"; done
fi
echo "1..$N"
