#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# slirp-control.sh NETBE - run-time host forwards through the control
# socket, the way rootlesskit and podman drive slirp4netns.
#
# Two namespaces of our own: nbch-<pid> plays the host (only its
# loopback), nbcs-<pid> the guest. `netbe patch --control SOCK tap:t0
# slirp` runs in the host namespace, so slirp's sockets (and forwards)
# live there; its tap goes into the guest namespace as 10.0.2.15/24 and
# fd00::15/64, where python3's http.server serves a file on both
# addresses. A client written as rootlesskit's is (JSON over the unix
# socket, no newline, shutdown(SHUT_WR), read to the end) then:
#  - adds a TCP forward 127.0.0.1:FWD4 -> 10.0.2.15:HTTP; the host fetches
#    the file through it; removes it: the port refuses connections;
#  - the same over IPv6: [::1]:FWD6 -> [fd00::15]:HTTP;
#  - list_hostfwd shows what was added, list and stats answer;
#  - the patch exits 0 on SIGTERM and removes its socket.
# Every wait is bounded. Prints TAP; every test is skipped ("needs root")
# when not root.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: slirp-control.sh PATH_TO_NETBE}
NSH=nbch-$$
NSS=nbcs-$$
HTTP_PORT=8080       # the service in the guest
FWD4=7102            # forwarded host ports, on the host namespace's loopback
FWD6=7106
BODY="netbe-control-$$"

TESTS=(
	"patch ready with the control socket"
	"add_hostfwd tcp 127.0.0.1:$FWD4 -> 10.0.2.15:$HTTP_PORT returns an id"
	"list_hostfwd lists it"
	"host fetches the guest's file via 127.0.0.1:$FWD4"
	"remove_hostfwd returns {}"
	"127.0.0.1:$FWD4 refuses connections after the removal"
	"add_hostfwd tcp6 [::1]:$FWD6 -> [fd00::15]:$HTTP_PORT returns an id"
	"host fetches the guest's file via [::1]:$FWD6"
	"remove_hostfwd of the IPv6 forward returns {}"
	"[::1]:$FWD6 refuses connections after the removal"
	"list_hostfwd is empty again"
	"list and stats answer (the tap end received frames)"
	"bad requests get an error reply"
	"patch exits 0 on SIGTERM"
	"the control socket file is gone"
)

require_root "${TESTS[@]}"
WORK=$(mktemp -d /tmp/slirp-control.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"
SOCK=$WORK/control.sock

# ctl_expect NAME JSON PYEXPR: send JSON the way rootlesskit does (no
# newline, shutdown(SHUT_WR), read to the end), keep the reply in
# REPLY_FILE and print it as a comment; true when PYEXPR holds for the
# parsed reply (as r)
REPLY_FILE=
ctl_expect() {
	REPLY_FILE=$WORK/reply-$N.json
	timeout 10 python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    out += b
open(sys.argv[3], "wb").write(out)
print("# " + sys.argv[4] + ": " + out.decode().strip())
r = json.loads(out)
sys.exit(0 if eval(sys.argv[5]) else 1)' "$SOCK" "$2" "$REPLY_FILE" "$1" "$3" 2>&1
}

# fetch NS URL: print what GET URL returns from NS (10 s at most)
fetch() {
	ip netns exec "$1" timeout 15 python3 -c '
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode().strip())' "$2" 2>&1
}

# refused NS ADDR PORT: true when a TCP connect from NS to ADDR:PORT is refused
refused() {
	ip netns exec "$1" timeout 10 python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).close()
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$2" "$3"
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

# setup: the namespaces, the patch with its control socket in the host
# one, the tap in the guest one (IPv4 and IPv6), the http servers.
# Return: 0 on success.
setup() {
	ns_create "$NSH" ipv6 && ns_create "$NSS" ipv6 || return 1
	patch_start "$WORK/patch.log" "$NSH" --control "$SOCK" tap:t0 slirp || return 1
	grep -q "control socket on $SOCK" "$WORK/patch.log" || return 1
	ip -n "$NSH" link set t0 netns "$NSS" &&
	ip -n "$NSS" addr add 10.0.2.15/24 dev t0 &&
	ip -n "$NSS" addr add fd00::15/64 dev t0 nodad &&
	ip -n "$NSS" link set t0 up &&
	ip -n "$NSS" route add default via 10.0.2.2 || return 1
	mkdir -p "$WORK/www" && echo "$BODY" >"$WORK/www/ok.txt" || return 1
	local addr
	for addr in 10.0.2.15 fd00::15; do
		ip netns exec "$NSS" timeout 120 python3 -m http.server "$HTTP_PORT" \
			--bind "$addr" --directory "$WORK/www" >"$WORK/http-$addr.log" 2>&1 &
		track $!
	done
	listening "$NSS" "$HTTP_PORT"
}

fwd_json() { # PROTO HOSTADDR HOSTPORT GUESTADDR
	printf '{"execute": "add_hostfwd", "arguments": {"proto": "%s", "host_addr": "%s", "host_port": %s, "guest_addr": "%s", "guest_port": %s}}' \
		"$1" "$2" "$3" "$4" "$HTTP_PORT"
}

run_tests() {
	local id4 id6 out
	check "${TESTS[1]}" ctl_expect add4 "$(fwd_json tcp 127.0.0.1 $FWD4 10.0.2.15)" \
		'r["return"]["id"] >= 1'
	id4=$(json_get "$REPLY_FILE" 'd["return"]["id"]')
	check "${TESTS[2]}" ctl_expect list '{"execute": "list_hostfwd"}' \
		"r[\"return\"][\"entries\"] == [{\"id\": ${id4:-0}, \"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": $FWD4, \"guest_addr\": \"10.0.2.15\", \"guest_port\": $HTTP_PORT}]"
	out=$(fetch "$NSH" "http://127.0.0.1:$FWD4/ok.txt")
	echo "# fetched: $out"
	check "${TESTS[3]}" test "$out" = "$BODY"
	check "${TESTS[4]}" ctl_expect remove4 "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": ${id4:-0}}}" \
		'r == {"return": {}}'
	check "${TESTS[5]}" refused "$NSH" 127.0.0.1 "$FWD4"
	check "${TESTS[6]}" ctl_expect add6 "$(fwd_json tcp6 ::1 $FWD6 fd00::15)" \
		'r["return"]["id"] >= 1'
	id6=$(json_get "$REPLY_FILE" 'd["return"]["id"]')
	out=$(fetch "$NSH" "http://[::1]:$FWD6/ok.txt")
	echo "# fetched: $out"
	check "${TESTS[7]}" test "$out" = "$BODY"
	check "${TESTS[8]}" ctl_expect remove6 "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": ${id6:-0}}}" \
		'r == {"return": {}}'
	check "${TESTS[9]}" refused "$NSH" ::1 "$FWD6"
	check "${TESTS[10]}" ctl_expect empty '{"execute": "list_hostfwd"}' \
		'r == {"return": {"entries": []}}'
	check "${TESTS[11]}" list_and_stats
	check "${TESTS[12]}" bad_requests
}

# list_and_stats: list names both ends, stats of "a" counts received frames
list_and_stats() {
	ctl_expect list '{"execute": "list"}' \
		'[h["name"] + ":" + h["backend"] for h in r["return"]["handles"]] == ["a:tap", "b:slirp"]' &&
		ctl_expect stats '{"execute": "stats", "arguments": {"handle": "a"}}' \
			'r["return"]["rx_frames"] > 0 and "tx_bad_hdr" in r["return"]["drops"]'
}

# bad_requests: a bad argument and bad JSON each get an error reply
bad_requests() {
	ctl_expect bad '{"execute": "add_hostfwd", "arguments": {"proto": "sctp"}}' \
		'r == {"error": {"desc": "bad request: add_hostfwd: bad arguments.proto"}}' &&
		ctl_expect bad '{"execute"' \
			'r["error"]["desc"].startswith("bad request: cannot parse JSON")'
}

test_sigterm() {
	patch_stop "$WORK/patch.log"
	local rc=$?
	diag "$WORK/patch.log"
	return "$rc"
}

if setup; then
	ok "${TESTS[0]}"
	run_tests
	check "${TESTS[13]}" test_sigterm
	check "${TESTS[14]}" test ! -e "$SOCK"
else
	diag "$WORK/patch.log"
	fail_names "${TESTS[@]}"
fi
tap_done
