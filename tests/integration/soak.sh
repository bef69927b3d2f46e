#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# soak.sh NETBE - `netbe patch` under faults counts every frame.
#
# A generator (`netbe bench tx`) feeds one end of a patch, a sink (`netbe
# bench rx`) drains the other, and the peers misbehave while frames flow:
# stopped and continued (SIGSTOP/SIGCONT: back-pressure), killed mid-frame
# (SIGKILL) and started again (reconnect), extra peers knocking on a
# listening end, a patch short of file descriptors (EMFILE), a tap deleted
# under load. Whatever happens, the patch's own counters reconcile exactly,
# per direction: frames received at one end = frames sent at the other +
# the drops counted there + the frames still held for a sink that pushed
# back when the patch stopped. And the patch never crashes.
#
# Families: stream (TCP listen on both ends), dgram (UDP), vxlan (UDP
# with VXLAN headers), all on loopback and unprivileged; tap (root: a tap
# moved into a namespace this test creates, then deleted). Every run is
# bounded in time; ports are free ones on 127.0.0.1. Prints TAP.
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: soak.sh PATH_TO_NETBE}
NS=nbsoak-$$
WORK=$(mktemp -d /tmp/soak.XXXXXX) || fail_all "no work directory" "soak"

# free_ports: P1..P4, four consecutive ports no socket uses now
free_ports() {
	local _ p
	for _ in $(seq 50); do
		P1=$((20000 + RANDOM % 12000)) P2=$((P1 + 1)) P3=$((P1 + 2)) P4=$((P1 + 3))
		p=$(ss -Hantu "( sport >= :$P1 and sport <= :$P4 )" 2>/dev/null)
		[ -z "$p" ] && return 0
	done
}

# stat_of LOG END NAME: the counter NAME on END's ("A" or "B") final line
stat_of() {
	grep "^$2 " "$1" | tail -n1 | sed -n "s/.*[ ,]$3 \([0-9][0-9]*\).*/\1/p" | head -n1
}

# end_frames LOG END WHAT: END's "tx" or "rx" frame count
end_frames() {
	grep "^$2 " "$1" | tail -n1 | sed -n "s/.* $3 \([0-9][0-9]*\) frames.*/\1/p"
}

# tx_drops LOG END: the sum of END's tx_* drop counters
tx_drops() {
	grep "^$2 " "$1" | tail -n1 | grep -o 'tx_[a-z_]* [0-9]*' | grep -v '^tx_eagain' |
		awk '{ s += $2 } END { print s + 0 }'
}

# held LOG DIR: frames held at exit for direction DIR ("A->B" or "B->A")
held() {
	sed -n "s/.*$2: [0-9]* frames in [0-9]* bursts, \([0-9]*\) held.*/\1/p" "$1" | tail -n1
}

# reconcile NAME LOG: both directions of the patch in LOG balance
reconcile() {
	local name=$1 log=$2 from to in out drops h dir
	for dir in A-B B-A; do
		from=${dir%-*} to=${dir#*-}
		in=$(end_frames "$log" "$from" rx)
		out=$(end_frames "$log" "$to" tx)
		drops=$(tx_drops "$log" "$to")
		h=$(held "$log" "$from->$to")
		echo "# $name $from->$to: received ${in:-?} = sent ${out:-?} + counted drops ${drops:-?} + held ${h:-?}"
		if [ -n "$in" ] && [ -n "$out" ] && [ -n "$h" ] && [ "$in" = $((out + drops + h)) ]; then
			ok "$name: $from->$to frames in = out + counted drops + held"
		else
			diag "$log"
			not_ok "$name: $from->$to frames in = out + counted drops + held"
		fi
	done
}

# gen LOG SPEC SECS: a generator at 20000 frames/s for SECS (GEN_PID)
gen() {
	"$NETBE" bench tx "$2" --rate 20000 --duration "$3" >"$1" 2>&1 &
	GEN_PID=$!
	track "$GEN_PID"
}

# sink LOG SPEC: a sink until stopped (SINK_PID)
sink() {
	"$NETBE" bench rx "$2" --duration 0 >"$1" 2>&1 &
	SINK_PID=$!
	track "$SINK_PID"
}

# knock PORT N SECS: N peers connect to 127.0.0.1:PORT (without waiting
# for an answer), each sends one 60-byte frame, and all hang up after SECS
knock() {
	timeout 10 python3 - "$@" <<'PY' >/dev/null 2>&1
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
peers = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    peers.append(s)
time.sleep(0.2)
for s in peers:
    try:
        s.send(b"\0\0\0\x3c" + b"\xff" * 60)
    except OSError:
        pass
time.sleep(secs)
PY
}

# hiccup PID: stop PID for half a second, then let it go on
hiccup() { kill -STOP "$1" 2>/dev/null; sleep 0.5; kill -CONT "$1" 2>/dev/null; }

# end_patch NAME LOG: SIGINT the patch; it exits 0 without a sanitizer
# report, then the counters reconcile
end_patch() {
	local rc
	kill -INT "$PATCH_PID" 2>/dev/null
	wait_exit "$PATCH_PID" 5
	rc=$?
	check "$1: patch exits 0 after the faults" [ "$rc" = 0 ]
	check "$1: no crash, no sanitizer report" no_crash "$EXIT_RC" "$2"
	reconcile "$1" "$2"
}

# --- stream: peers stopped, killed mid-frame, reconnecting, knocking ------
soak_stream() {
	local log=$WORK/stream.log refused
	free_ports
	if ! patch_start "$log" - "stream:listen=127.0.0.1:$P1" "stream:listen=127.0.0.1:$P2"; then
		fail_names "stream: patch ready"
		return
	fi
	ok "stream: patch ready"
	sink "$WORK/stream-sink1.log" "stream:connect=127.0.0.1:$P2"
	gen "$WORK/stream-gen1.log" "stream:connect=127.0.0.1:$P1" 3
	sleep 0.5
	hiccup "$SINK_PID"                       # back-pressure through the patch
	hiccup "$GEN_PID"
	knock "$P1" 3 0.3                        # more peers are turned away
	kill -9 "$SINK_PID"                      # killed mid-frame
	wait "$SINK_PID" 2>/dev/null
	sleep 0.3
	sink "$WORK/stream-sink2.log" "stream:connect=127.0.0.1:$P2"
	sleep 0.3
	kill -9 "$GEN_PID"                       # the generator too
	wait "$GEN_PID" 2>/dev/null
	gen "$WORK/stream-gen2.log" "stream:connect=127.0.0.1:$P1" 1
	wait_exit "$GEN_PID" 5
	sleep 0.3
	end_patch stream "$log"
	refused=$(stat_of "$log" A peers_refused)
	[ "$refused" = 3 ] || diag "$log"
	check "stream: the three extra peers counted as refused" [ "$refused" = 3 ]
	stop_pid "$SINK_PID" 5 >/dev/null
}

# --- dgram: the sink stopped, killed (ECONNREFUSED) and back --------------
soak_dgram() {
	local log=$WORK/dgram.log
	free_ports
	# generator P3 -> A on P1; B on P2 -> sink on P4
	if ! patch_start "$log" - "dgram:local=127.0.0.1:$P1,remote=127.0.0.1:$P3" \
		"dgram:local=127.0.0.1:$P2,remote=127.0.0.1:$P4"; then
		fail_names "dgram: patch ready"
		return
	fi
	ok "dgram: patch ready"
	sink "$WORK/dgram-sink1.log" "dgram:local=127.0.0.1:$P4,remote=127.0.0.1:$P2"
	gen "$WORK/dgram-gen.log" "dgram:local=127.0.0.1:$P3,remote=127.0.0.1:$P1" 3
	sleep 0.5
	hiccup "$SINK_PID"
	kill -9 "$SINK_PID"                      # nobody listens: refused sends
	wait "$SINK_PID" 2>/dev/null
	sleep 0.5
	sink "$WORK/dgram-sink2.log" "dgram:local=127.0.0.1:$P4,remote=127.0.0.1:$P2"
	hiccup "$GEN_PID"
	wait_exit "$GEN_PID" 5
	sleep 0.3
	end_patch dgram "$log"
	stop_pid "$SINK_PID" 5 >/dev/null
}

# --- vxlan: the same with VXLAN encapsulation on the patch's A end --------
soak_vxlan() {
	local log=$WORK/vxlan.log
	free_ports
	if ! patch_start "$log" - "vxlan:vni=42,local=127.0.0.1:$P1,remote=127.0.0.1:$P3" \
		"dgram:local=127.0.0.1:$P2,remote=127.0.0.1:$P4"; then
		fail_names "vxlan: patch ready"
		return
	fi
	ok "vxlan: patch ready"
	sink "$WORK/vxlan-sink.log" "dgram:local=127.0.0.1:$P4,remote=127.0.0.1:$P2"
	gen "$WORK/vxlan-gen1.log" "vxlan:vni=42,local=127.0.0.1:$P3,remote=127.0.0.1:$P1" 2
	sleep 0.5
	hiccup "$SINK_PID"
	kill -9 "$GEN_PID"
	wait "$GEN_PID" 2>/dev/null
	gen "$WORK/vxlan-gen2.log" "vxlan:vni=42,local=127.0.0.1:$P3,remote=127.0.0.1:$P1" 1
	wait_exit "$GEN_PID" 5
	sleep 0.3
	end_patch vxlan "$log"
	stop_pid "$SINK_PID" 5 >/dev/null
}

# --- EMFILE: a patch out of file descriptors while frames flow ------------
soak_emfile() {
	local log=$WORK/emfile.log nfd refused
	free_ports
	if ! patch_start "$log" - "stream:listen=127.0.0.1:$P1" \
		"dgram:local=127.0.0.1:$P2,remote=127.0.0.1:$P4"; then
		fail_names "emfile: patch ready"
		return
	fi
	ok "emfile: patch ready"
	sink "$WORK/emfile-sink.log" "dgram:local=127.0.0.1:$P4,remote=127.0.0.1:$P2"
	gen "$WORK/emfile-gen.log" "stream:connect=127.0.0.1:$P1" 2
	sleep 0.5
	# no descriptor left above the ones open now: every accept fails
	nfd=$(ls "/proc/$PATCH_PID/fd" | wc -l)
	prlimit --pid "$PATCH_PID" --nofile="$nfd:$nfd"
	knock "$P1" 6 1
	wait_exit "$GEN_PID" 5
	sleep 0.3
	end_patch emfile "$log"
	refused=$(stat_of "$log" A peers_refused)
	[ "$refused" = 6 ] || diag "$log"
	check "emfile: the six peers out of descriptors counted as refused" [ "$refused" = 6 ]
	check "emfile: frames flowed meanwhile" [ "$(end_frames "$log" A rx)" -gt 0 ]
	stop_pid "$SINK_PID" 5 >/dev/null
}

# --- tap (root): deleted under load ---------------------------------------
soak_tap() {
	local log=$WORK/tap.log rc tap=nbsk$$
	tap=${tap:0:15}
	free_ports
	if [ "$(id -u)" != 0 ]; then
		for t in "tap: patch ready" "tap: patch exits 1 when the tap goes" \
			"tap: no crash, no sanitizer report" "tap: A->B frames in = out + counted drops + held" \
			"tap: B->A frames in = out + counted drops + held"; do
			skip "$t" "needs root"
		done
		return
	fi
	if ! ns_create "$NS" || ! patch_start "$log" - "dgram:local=127.0.0.1:$P1,remote=127.0.0.1:$P3" \
		"tap:$tap"; then
		fail_names "tap: patch ready"
		return
	fi
	ip link set "$tap" netns "$NS" && ip -n "$NS" link set "$tap" up
	ok "tap: patch ready"
	gen "$WORK/tap-gen.log" "dgram:local=127.0.0.1:$P3,remote=127.0.0.1:$P1" 3
	sleep 0.7
	ip -n "$NS" link del "$tap"
	wait_exit "$PATCH_PID" 5
	rc=$?
	check "tap: patch exits 1 when the tap goes" [ "$rc" = 1 ]
	check "tap: no crash, no sanitizer report" no_crash "$EXIT_RC" "$log"
	reconcile tap "$log"
	stop_pid "$GEN_PID" 5 >/dev/null
}

soak_stream
soak_dgram
soak_vxlan
soak_emfile
soak_tap
tap_done
