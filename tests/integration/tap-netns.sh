#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# tap-netns.sh NETBE - netbe as a drop-in for slirp4netns, run the way
# podman runs slirp4netns: everything as an unprivileged user (uid 65534,
# through setpriv).
#
#  - `unshare --user --map-root-user --net sleep` holds a rootless user and
#    network namespace;
#  - from outside, the same user runs
#    `netbe patch tap:tap0,netns=PID,configure=on slirp,mtu=65520`
#    (what `slirp4netns --configure --mtu=65520 PID tap0` does);
#  - inside (nsenter -U -n --preserve-credentials, as that user) tap0 has
#    10.0.2.100/24, MTU 1500 and the default route via 10.0.2.2, slirp's
#    gateway answers ping, and a server the test runs on the host's
#    127.0.0.1 answers through 10.0.2.2;
#  - a 3 s iperf3 from inside to the host's 127.0.0.1 moves data (its rate
#    is printed, not judged);
#  - IPv6 needs no configuration: the kernel takes an fd00::/64 address
#    from slirp's router advertisements, and fd00::2 answers ping;
#  - the tap is not in the host's namespace; the patch exits 0 on SIGTERM;
#  - the same user pointing netns= at PID 1 (root's) is refused with
#    advice.
# Every wait and every client is bounded by time. Needs root (to become
# uid 65534 and to end the user's processes by PID); skipped with the
# reason when not root, when uid 65534 cannot read the build, or when user
# namespaces are unavailable.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: tap-netns.sh PATH_TO_NETBE}
USER_ID=65534
AS_USER=(setpriv "--reuid=$USER_ID" "--regid=$USER_ID" --clear-groups)
SPEC_A=tap:tap0,netns=PID,configure=on
SPEC_B=slirp,mtu=65520
HOLDER=          # the PID holding the namespaces

TESTS=(
	"holder: a rootless user + network namespace"
	"netbe patch $SPEC_A $SPEC_B as uid $USER_ID: ready"
	"tap0 inside: 10.0.2.100/24, up, MTU 1500"
	"tap0 inside: default route via 10.0.2.2"
	"tap0 inside: lo up"
	"tap0 not in the host namespace"
	"ping 10.0.2.2 (slirp's gateway) from inside"
	"fetch from the host's 127.0.0.1 via 10.0.2.2 from inside"
	"iperf3 from inside to the host's 127.0.0.1 via 10.0.2.2 moves data"
	"IPv6: SLAAC address in fd00::/64 from slirp, ping fd00::2"
	"patch exits 0 on SIGTERM"
	"tap0 gone with the patch"
	"netns=1 (root's process) as uid $USER_ID: exit 1 with advice"
)

require_root "${TESTS[@]}"
"${AS_USER[@]}" "$NETBE" --version >/dev/null 2>&1 ||
	skip_all "uid $USER_ID cannot run $NETBE (is the build directory readable by others?)" "${TESTS[@]}"
"${AS_USER[@]}" unshare --user --map-root-user --net true 2>/dev/null ||
	skip_all "unprivileged user namespaces are unavailable (unshare --user as uid $USER_ID failed)" "${TESTS[@]}"
command -v curl >/dev/null || skip_all "needs curl (apt-get install curl)" "${TESTS[@]}"
WORK=$(mktemp -d /tmp/tap-netns.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"
chmod 755 "$WORK"

# inside CMD...: run CMD as the user inside the holder's namespaces (15 s)
inside() {
	"${AS_USER[@]}" timeout 15 nsenter -t "$HOLDER" -U -n --preserve-credentials "$@"
}

# holder_start: the rootless namespaces, HOLDER once its network namespace
# is not ours (5 s at most). Returns 0 on success.
holder_start() {
	local _ ours
	ours=$(readlink /proc/self/ns/net)
	"${AS_USER[@]}" unshare --user --map-root-user --net sleep 120 &
	HOLDER=$!
	track "$HOLDER"
	for _ in $(seq 50); do
		[ -n "$(readlink "/proc/$HOLDER/ns/net" 2>/dev/null)" ] &&
			[ "$(readlink "/proc/$HOLDER/ns/net")" != "$ours" ] && return 0
		sleep 0.1
	done
	return 1
}

# serve: a one-shot HTTP server on the host's 127.0.0.1 (port chosen by
# the kernel, written to WORK/port), answering "hello-netns-$$"
serve() {
	timeout 60 python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(50)
c, _ = s.accept()
c.settimeout(5)
c.recv(1000)
body = sys.argv[2].encode()
c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
c.close()' "$WORK/port" "hello-netns-$$" &
	track $!
}

# test_fetch: serve, then curl it from inside through 10.0.2.2
test_fetch() {
	local _ port out
	serve
	for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
	port=$(cat "$WORK/port" 2>/dev/null) || return 1
	out=$(inside curl -s --max-time 10 "http://10.0.2.2:$port/" 2>&1)
	echo "# curl http://10.0.2.2:$port/ -> $out"
	[ "$out" = "hello-netns-$$" ]
}

# test_refused: netns=1 as the user: exit 1, the message says what to do
test_refused() {
	local rc
	"${AS_USER[@]}" timeout 10 "$NETBE" patch tap:tap0,netns=1 slirp >"$WORK/refused.log" 2>&1
	rc=$?
	diag "$WORK/refused.log"
	[ "$rc" = 1 ] && grep -q "netns=1: cannot open /proc/1/ns/net: Permission denied - run netbe as the user running process 1 (uid 0), or as root" "$WORK/refused.log"
}

# test_addr: WORK/addr and WORK/link show 10.0.2.100/24, MTU 1500, up
test_addr() {
	grep -q "inet 10.0.2.100/24 brd 10.0.2.255" "$WORK/addr" &&
		grep -q "mtu 1500 " "$WORK/link" && grep -q "[<,]UP[,>]" "$WORK/link"
}

# not_here: the host namespace has no tap0, or another one (another MAC)
not_here() {
	local mac_in mac_here
	mac_in=$(sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p' "$WORK/link")
	[ -n "$mac_in" ] || return 1
	mac_here=$(ip -o link show tap0 2>/dev/null | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	[ "$mac_here" != "$mac_in" ]
}

# ping_inside: 3 pings to 10.0.2.2 from inside; one answered is enough
ping_inside() { inside ping -c 3 -i 0.2 -W 2 -w 10 10.0.2.2 >/dev/null 2>&1; }

# free_port: print a TCP port of 127.0.0.1 that is free now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# test_iperf: IPERF_SECS s of iperf3 from inside to an iperf3 server on the
# host's 127.0.0.1 (reached as 10.0.2.2); the rate is printed
test_iperf() {
	local port bps
	command -v iperf3 >/dev/null || { echo "# iperf3 missing (apt-get install iperf3)"; return 1; }
	port=$(free_port) || return 1
	timeout 60 iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
	track $!
	sleep 0.5
	inside timeout 20 iperf3 -c 10.0.2.2 -p "$port" -t "$IPERF_SECS" -J >"$WORK/iperf.json" 2>&1
	bps=$(json_get "$WORK/iperf.json" 'int(d["end"]["sum_received"]["bits_per_second"])')
	echo "# iperf3 TCP inside -> host 127.0.0.1 as uid $USER_ID: ${bps:-?} bit/s"
	[ -n "$bps" ] && [ "$bps" -gt 0 ]
}

# test_ipv6: a global fd00:: address past duplicate address detection
# (10 s at most), then a ping to slirp's fd00::2
test_ipv6() {
	local _ a
	for _ in $(seq 50); do
		a=$(inside ip -6 -o addr show dev tap0 scope global 2>/dev/null)
		case $a in *fd00:*) case $a in *tentative*) ;; *) break ;; esac ;; esac
		sleep 0.2
	done
	echo "# ${a:-no global IPv6 address}"
	case $a in *fd00:*) ;; *) return 1 ;; esac
	inside ping -6 -c 3 -i 0.2 -W 2 -w 10 fd00::2 >/dev/null 2>&1
}

# tap_gone: tap0 vanished from the holder's namespace (5 s at most)
tap_gone() {
	local _
	for _ in $(seq 50); do
		inside ip link show tap0 >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}

if ! holder_start; then
	fail_names "${TESTS[@]}"
	tap_done
fi
ok "${TESTS[0]}"
echo "# holder PID $HOLDER, $(readlink "/proc/$HOLDER/ns/user") $(readlink "/proc/$HOLDER/ns/net")"
t0=$(date +%s%N)
if ! bg_start "$WORK/patch.log" "patch: ready" 10 \
	"${AS_USER[@]}" "$NETBE" patch "${SPEC_A/PID/$HOLDER}" "$SPEC_B"; then
	fail_names "${TESTS[@]:1}"
	tap_done
fi
PATCH_PID=$BG_PID
echo "# patch ready after $((($(date +%s%N) - t0) / 1000000)) ms (started as uid $USER_ID)"
ok "${TESTS[1]}"
inside ip -o -4 addr show dev tap0 >"$WORK/addr" 2>&1
inside ip -o link show tap0 >"$WORK/link" 2>&1
inside ip -4 route show default >"$WORK/route" 2>&1
inside ip -o link show lo >"$WORK/lo" 2>&1
diag "$WORK/addr" "$WORK/link" "$WORK/route"
check "${TESTS[2]}" test_addr
check "${TESTS[3]}" grep -q "default via 10.0.2.2 dev tap0" "$WORK/route"
check "${TESTS[4]}" grep -q "[<,]UP[,>]" "$WORK/lo"
check "${TESTS[5]}" not_here
check "${TESTS[6]}" ping_inside
check "${TESTS[7]}" test_fetch
check "${TESTS[8]}" test_iperf
check "${TESTS[9]}" test_ipv6
check "${TESTS[10]}" patch_stop "$WORK/patch.log"
diag "$WORK/patch.log"
check "${TESTS[11]}" tap_gone
check "${TESTS[12]}" test_refused
tap_done
