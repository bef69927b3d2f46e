# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
#
# tests/lib/netns.sh - helpers shared by the shell integration and interop
# tests (tests/integration/*.sh, tests/interop/*.sh); each test sources it
# right after `set -u`:
#     . "$(dirname "$0")/../lib/netns.sh"
#
# - TAP output: ok, not_ok, skip, check, diag, skip_all, fail_all, tap_done
#   (counters N and FAILED);
# - processes: everything started in the background is tracked (track) and
#   only those PIDs are ever signalled, and only while they are still our
#   own children; bg_start, wait_for, wait_exit, stop_pid;
# - namespaces: ns_create makes one with a name the test chose (it must
#   hold $$), and only namespaces created that way are deleted on exit;
# - `netbe patch` (NETBE): patch_start waits for "patch: ready" (options
#   in PATCH_OPTS go first, e.g. --threads 2), patch_stop checks the exit
#   status of SIGTERM, flows_counted the per-direction frame counts;
# - traffic: ping_ns, iperf_server, iperf_tcp (every run bounded by
#   timeout(1)), csum_errors / no_csum_errors (InCsumErrors in a namespace);
# - the two-ended patch tests (tap-patch, af-packet-patch, af-xdp-patch,
#   offload-patch): a patch in a forwarder namespace NSF joins end
#   namespaces NSA (IPA, MACA) and NSB (IPB, MACB) through taps TAPA/TAPB
#   or veth pairs EA-FA/EB-FB; patch_round and delete_round run their
#   common rounds of checks (names ROUND_TESTS and DELETE_TESTS).
# The EXIT trap (netns_cleanup) stops our processes, deletes our namespaces
# and removes WORK.

N=0              # TAP lines printed so far
FAILED=0         # 1 once a test failed
OWN_PIDS=        # background processes this test started
OWN_NETNS=       # namespaces this test created
IPERF_PIDS=      # running iperf3 processes (iperf_server_stop ends them)
PATCH_PID=       # the `netbe patch` of patch_start
PATCH_OPTS=()    # options patch_start passes before its arguments
BG_PID=          # the process of the last bg_start
EXIT_RC=         # wait_exit: the exit status, "none" when it had to be ended
WORK=            # the test's temporary directory, removed on exit
READY_SECS=5     # how long patch_start waits for "patch: ready"
IPERF_SECS=3     # duration of an iperf_tcp run

# ok NAME: print a passing TAP line
ok() { N=$((N + 1)); echo "ok $N - $1"; }
# not_ok NAME: print a failing TAP line and remember the failure
not_ok() { N=$((N + 1)); echo "not ok $N - $1"; FAILED=1; }
# skip NAME REASON: print a skipped TAP line
skip() { N=$((N + 1)); echo "ok $N - $1 # SKIP $2"; }
# check NAME CMD...: one TAP line from CMD's exit status
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
# diag [FILE...]: print FILEs (or stdin) as TAP comments
diag() { sed 's/^/# /' "$@" 2>/dev/null; }
# fail_names NAME...: a failing TAP line for each NAME
fail_names() { local t; for t in "$@"; do not_ok "$t"; done; }
# tap_done: print the plan and exit 1 when a test failed, else 0
tap_done() { echo "1..$N"; exit "$FAILED"; }

# skip_all REASON NAME...: every NAME skipped for REASON, plan, exit 0
skip_all() {
	local why=$1 t
	shift
	for t in "$@"; do skip "$t" "$why"; done
	echo "# skipped: $why"
	echo "1..$N"
	exit 0
}

# fail_all REASON NAME...: REASON as a comment, every NAME failed, plan, exit 1
fail_all() {
	echo "# $1"
	shift
	fail_names "$@"
	echo "1..$N"
	exit 1
}

# require_root NAME...: unless root, skip_all NAMEs ("needs root")
require_root() { [ "$(id -u)" = 0 ] || skip_all "needs root" "$@"; }

# own_child PID: true while PID is a live (not zombie) child of this shell
own_child() {
	local f
	read -r -a f < <(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "${f[0]:-Z}" != Z ] && [ "${f[1]:-}" = "$$" ]
}

# track PID...: remember PIDs as ours, for netns_cleanup
track() { OWN_PIDS="$OWN_PIDS $*"; }

# netns_cleanup: (EXIT trap) SIGTERM our live children, SIGKILL whatever
# is left after 3 s, delete our namespaces, remove WORK
netns_cleanup() {
	local p n _ left
	for p in $OWN_PIDS; do own_child "$p" && kill "$p" 2>/dev/null; done
	for _ in $(seq 30); do
		left=
		for p in $OWN_PIDS; do own_child "$p" && left=1; done
		[ -z "$left" ] && break
		sleep 0.1
	done
	for p in $OWN_PIDS; do own_child "$p" && kill -9 "$p" 2>/dev/null; done
	for n in $OWN_NETNS; do ip netns del "$n" 2>/dev/null; done
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap netns_cleanup EXIT

# ns_create NS [ipv6]: create namespace NS (its name must hold $$) with
# loopback up and, unless "ipv6", IPv6 off. Returns 0 on success.
ns_create() {
	ip netns add "$1" || return 1
	OWN_NETNS="$OWN_NETNS $1"
	ip -n "$1" link set lo up || return 1
	[ "${2:-}" = ipv6 ] ||
		ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
}

# wait_for FILE PATTERN SECS PID: wait (SECS at most, while PID lives) for
# PATTERN in FILE. Returns 0 when it showed up.
wait_for() {
	local _
	for _ in $(seq $(($3 * 10))); do
		grep -aq "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || break
		sleep 0.1
	done
	grep -aq "$2" "$1" 2>/dev/null
}

# bg_start LOG PATTERN SECS CMD...: run CMD in the background (BG_PID,
# tracked), output to LOG, and wait_for PATTERN. Returns 0 when it showed
# up; else LOG is printed as comments.
bg_start() {
	local log=$1 pat=$2 secs=$3
	shift 3
	"$@" >"$log" 2>&1 &
	BG_PID=$!
	track "$BG_PID"
	wait_for "$log" "$pat" "$secs" "$BG_PID" && return 0
	diag "$log"
	return 1
}

# wait_exit PID SECS: wait SECS at most for PID to exit, else end it
# (SIGTERM, SIGKILL 3 s later). Returns its exit status, 124 when it was
# ended; EXIT_RC is the status or "none".
wait_exit() {
	local pid=$1 _ rc
	for _ in $(seq $(($2 * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		for _ in $(seq 30); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		EXIT_RC=none
		return 124
	fi
	wait "$pid"
	rc=$?
	EXIT_RC=$rc
	return $rc
}

# stop_pid PID [SECS]: SIGTERM PID and wait_exit (5 s by default).
# Returns its exit status (124 when it had to be killed).
stop_pid() { kill -TERM "$1" 2>/dev/null; wait_exit "$1" "${2:-5}"; }

# no_sanitizer LOG: LOG holds no AddressSanitizer/LeakSanitizer/UBSan report
no_sanitizer() { ! grep -qE "AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:" "$1"; }

# no_crash RC LOG: RC is not a signal death (134 abort, 139 segfault, ...)
# and LOG holds no sanitizer report
no_crash() { { [ "$1" = none ] || [ "$1" -lt 128 ]; } && no_sanitizer "$2"; }

# patch_start LOG NS SPEC...: `netbe patch PATCH_OPTS... SPEC...` in
# namespace NS ("-": this one), output to LOG, PID in PATCH_PID. Returns 0
# once it printed "patch: ready" (READY_SECS at most); else LOG is printed
# as comments.
patch_start() {
	local log=$1 ns=$2 rc
	shift 2
	if [ "$ns" = - ]; then
		bg_start "$log" "patch: ready" "$READY_SECS" "$NETBE" patch "${PATCH_OPTS[@]}" "$@"
	else
		bg_start "$log" "patch: ready" "$READY_SECS" ip netns exec "$ns" "$NETBE" patch \
			"${PATCH_OPTS[@]}" "$@"
	fi
	rc=$?
	PATCH_PID=$BG_PID
	return $rc
}

# patch_stop [LOG]: SIGTERM the patch of PATCH_PID (5 s, then killed).
# Returns 0 when it exited 0 and, given LOG, LOG holds no sanitizer report.
patch_stop() {
	local rc
	stop_pid "$PATCH_PID" 5
	rc=$?
	PATCH_PID=
	[ "$rc" = 0 ] || echo "# patch exited with $rc"
	[ "$rc" = 0 ] && { [ -z "${1:-}" ] || no_sanitizer "$1"; }
}

# patch_kill: SIGKILL the patch of PATCH_PID, if any, and reap it
patch_kill() {
	[ -n "$PATCH_PID" ] || return 0
	kill -9 "$PATCH_PID" 2>/dev/null
	wait "$PATCH_PID" 2>/dev/null
	PATCH_PID=
}

# ping_ns NS ADDR: 3 pings from NS to ADDR (15 s at most). Returns 0 when
# one was answered.
ping_ns() { ip netns exec "$1" timeout 15 ping -c 3 -i 0.2 -W 2 -w 10 "$2" >/dev/null 2>&1; }

# json_get FILE EXPR: print Python EXPR evaluated on the JSON in FILE (as d)
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$1" "$2" 2>/dev/null
}

# iperf_server NS ADDR [ARGS...]: an iperf3 server in NS bound to ADDR
# (120 s at most, tracked in IPERF_PIDS), given 0.5 s to start
iperf_server() {
	local ns=$1 addr=$2
	shift 2
	ip netns exec "$ns" timeout 120 iperf3 -s -B "$addr" "$@" >/dev/null 2>&1 &
	IPERF_PIDS="$IPERF_PIDS $!"
	track $!
	sleep 0.5
}

# iperf_server_stop: end every iperf3 process of IPERF_PIDS
iperf_server_stop() {
	local p
	for p in $IPERF_PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	IPERF_PIDS=
}

# iperf_tcp NS SERVER OUT [ARGS...]: IPERF_SECS s of iperf3 TCP from NS to
# SERVER (-R: back), JSON in OUT, 20 s at most. Returns 0 when more than 0
# bit/s arrived; else the end of OUT is printed as comments.
iperf_tcp() {
	local ns=$1 srv=$2 out=$3 bps
	shift 3
	ip netns exec "$ns" timeout 20 iperf3 -c "$srv" -t "$IPERF_SECS" -J "$@" >"$out" 2>&1
	bps=$(json_get "$out" 'int(d["end"]["sum_received"]["bits_per_second"])')
	echo "# iperf3 TCP $ns -> $srv${*:+ $*}: ${bps:-?} bit/s"
	[ -n "$bps" ] && [ "$bps" -gt 0 ] && return 0
	tail -n 5 "$out" | diag
	return 1
}

# snmp_value NS LINE FIELD: print one counter of NS's /proc/net/snmp
# (LINE as "Udp:", FIELD as "RcvbufErrors")
snmp_value() {
	ip netns exec "$1" cat /proc/net/snmp | awk -v l="$2" -v f="$3" '
		$1 != l { next }
		!hdr { hdr = 1; for (i = 2; i <= NF; i++) col[i] = $i; next }
		{ for (i = 2; i <= NF; i++) if (col[i] == f) print $i }'
}

# csum_errors NS: print the sum of every InCsumErrors counter (Icmp, Tcp,
# Udp, UdpLite, IpExt) of NS's /proc/net/snmp and /proc/net/netstat
csum_errors() {
	ip netns exec "$1" cat /proc/net/snmp /proc/net/netstat | awk '
		/InCsumErrors/ && !hdr[$1] { hdr[$1] = 1; for (i = 2; i <= NF; i++) col[$1, i] = $i; next }
		hdr[$1] { for (i = 2; i <= NF; i++) if (col[$1, i] == "InCsumErrors") s += $i }
		END { print s + 0 }'
}

# no_csum_errors NS...: print each NS's csum_errors as a comment. Returns
# 0 when all are 0.
no_csum_errors() {
	local ns n bad=0 msg=
	for ns in "$@"; do
		n=$(csum_errors "$ns")
		msg="$msg${msg:+, }$ns $n"
		[ "$n" = 0 ] || bad=1
	done
	echo "# InCsumErrors: $msg"
	[ $bad = 0 ]
}

# --- two-ended patch tests (NSF, NSA, NSB, IPA, IPB, MACA, MACB) ---

# ends_ns_create: create NSF, NSA and NSB (IPv6 off). Returns 0 on success.
ends_ns_create() { ns_create "$NSF" && ns_create "$NSA" && ns_create "$NSB"; }

# end_config NS DEV MAC IP [MODE]: address DEV in NS (IP/24, MAC); MODE
# "nooffload" turns TSO/GSO/GRO and tx checksumming off, "csumonly" turns
# TSO/GSO off and tx checksumming on. Returns 0 on success (DEV still down).
end_config() {
	ip -n "$1" link set "$2" address "$3" || return 1
	ip -n "$1" addr add "$4"/24 dev "$2" || return 1
	case ${5:-} in
	nooffload)
		ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off >/dev/null 2>&1 ;;
	csumonly)
		ip netns exec "$1" ethtool -K "$2" tso off gso off tx on >/dev/null 2>&1
		ip netns exec "$1" ethtool -k "$2" |
			grep -E "^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload):" |
			sed "s/^/# $1: /" ;;
	esac
	return 0
}

# tap_to TAP NS MAC IP [MODE]: move the patch's TAP from NSF (waiting 5 s
# at most for it) into NS, end_config it, bring it up. Returns 0 on success.
tap_to() {
	local _
	for _ in $(seq 50); do
		ip -n "$NSF" link show "$1" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip -n "$NSF" link set "$1" netns "$2" || return 1
	end_config "$2" "$1" "$3" "$4" "${5:-}" || return 1
	ip -n "$2" link set "$1" up
}

# taps_to_ends [MODE]: tap_to TAPA into NSA and TAPB into NSB
taps_to_ends() {
	tap_to "$TAPA" "$NSA" "$MACA" "$IPA" "${1:-}" &&
		tap_to "$TAPB" "$NSB" "$MACB" "$IPB" "${1:-}"
}

# taps_gone: true once TAPA and TAPB have vanished from all three
# namespaces (with the patch that made them; 5 s at most)
taps_gone() {
	local _ n left
	for _ in $(seq 50); do
		left=0
		for n in "$NSF" "$NSA" "$NSB"; do
			ip -n "$n" link show "$TAPA" >/dev/null 2>&1 && left=1
			ip -n "$n" link show "$TAPB" >/dev/null 2>&1 && left=1
		done
		[ $left = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# veth_end NS END FWD MAC IP [MODE]: a veth pair END (in NS, MTU 1500,
# end_config'd, up) <-> FWD (in NSF, up). Returns 0 on success.
veth_end() {
	ip link add "$2" netns "$1" type veth peer name "$3" netns "$NSF" || return 1
	ip -n "$1" link set "$2" mtu 1500 || return 1
	end_config "$1" "$2" "$4" "$5" "${6:-}" || return 1
	ip -n "$1" link set "$2" up && ip -n "$NSF" link set "$3" up
}

# veths_to_ends [MODE]: the veth pairs EA-FA (NSA) and EB-FB (NSB), after
# deleting left-over ones. Returns 0 on success.
veths_to_ends() {
	ip -n "$NSF" link del "$FA" 2>/dev/null
	ip -n "$NSF" link del "$FB" 2>/dev/null
	veth_end "$NSA" "$EA" "$FA" "$MACA" "$IPA" "${1:-}" &&
		veth_end "$NSB" "$EB" "$FB" "$MACB" "$IPB" "${1:-}"
}

# round_names LABEL...: append "LABEL: T" to TESTS for every T of ROUND_TESTS
round_names() {
	local l t
	for l in "$@"; do
		for t in "${ROUND_TESTS[@]}"; do TESTS+=("$l: $t"); done
	done
}

# flows_counted LOG: the final counters of a patch in LOG add up: each
# direction moved frames, as many as its source handle received
flows_counted() {
	python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rx = {}
for end, n in re.findall(r"^([AB]) .*: tx \d+ frames \d+ bytes, rx (\d+) frames", text, re.M):
    rx[end] = int(n)       # the last line of each end: the final counters
m = re.findall(r"^A->B: (\d+) frames .* B->A: (\d+) frames", text, re.M)
if not m or len(rx) != 2:
    sys.exit("# no final counters in the log")
ab, ba = int(m[-1][0]), int(m[-1][1])
print(f"# A->B {ab} frames (A rx {rx['A']}), B->A {ba} frames (B rx {rx['B']})")
sys.exit(0 if ab > 0 and ba > 0 and ab == rx["A"] and ba == rx["B"] else 1)
PY
}

# the checks of patch_round, in order
# shellcheck disable=SC2034 # used by the tests
PATCH_ROUND_TESTS=("patch ready" "ping A->B" "ping B->A" "iperf3 A->B > 0"
	"iperf3 B->A > 0" "no InCsumErrors" "patch exits 0 on SIGTERM"
	"frames counted both ways")

# patch_round LABEL LOG SETUP [ARG...]: `SETUP LOG ARG...` starts the
# patch (log LOG) and wires the ends; then PATCH_ROUND_TESTS, prefixed by
# LABEL: patch ready, ping both ways (skipped without ping unless
# PING_REQUIRED is set), iperf3 TCP both ways, no InCsumErrors in NSA and
# NSB, exit 0 on SIGTERM with no sanitizer report in LOG, frames counted
# both ways in the final counters (flows_counted). Returns 0; when
# SETUP fails, every ROUND_TESTS (prefixed by LABEL) fails and returns 1.
patch_round() {
	local label=$1 log=$2 setup=$3 t why="needs ping (apt-get install iputils-ping)"
	shift 3
	if ! "$setup" "$log" "$@"; then
		for t in "${ROUND_TESTS[@]}"; do not_ok "$label: $t"; done
		patch_kill
		return 1
	fi
	ok "$label: patch ready"
	if command -v ping >/dev/null || [ -n "${PING_REQUIRED:-}" ]; then
		check "$label: ping A->B" ping_ns "$NSA" "$IPB"
		check "$label: ping B->A" ping_ns "$NSB" "$IPA"
	else
		skip "$label: ping A->B" "$why"
		skip "$label: ping B->A" "$why"
	fi
	iperf_server "$NSB" "$IPB"
	check "$label: iperf3 A->B > 0" iperf_tcp "$NSA" "$IPB" "$WORK/iperf-$label-ab.json"
	check "$label: iperf3 B->A > 0" iperf_tcp "$NSA" "$IPB" "$WORK/iperf-$label-ba.json" -R
	iperf_server_stop
	check "$label: no InCsumErrors" no_csum_errors "$NSA" "$NSB"
	check "$label: patch exits 0 on SIGTERM" patch_stop "$log"
	check "$label: frames counted both ways" flows_counted "$log"
	diag "$log"
	return 0
}

# delete_round LOG IFACE LOAD SETTLE DELNS SETUP [ARG...]: the DELETE_TESTS
# (patch ready; exit non-zero within 5 s of the deletion; no crash; the
# error names IFACE): `SETUP LOG ARG...` starts the patch (log LOG) and
# wires the ends; after SETTLE s of LOAD s of iperf3 from NSA to IPB,
# IFACE is deleted in DELNS.
delete_round() {
	local log=$1 iface=$2 load=$3 settle=$4 delns=$5 setup=$6 rc
	shift 6
	if ! "$setup" "$log" "$@"; then
		fail_names "${DELETE_TESTS[@]}"
		patch_kill
		return
	fi
	ok "${DELETE_TESTS[0]}"
	iperf_server "$NSB" "$IPB"
	ip netns exec "$NSA" timeout 20 iperf3 -c "$IPB" -t "$load" >/dev/null 2>&1 &
	IPERF_PIDS="$IPERF_PIDS $!"
	track $!
	sleep "$settle"
	ip -n "$delns" link del "$iface"
	wait_exit "$PATCH_PID" 5
	rc=$EXIT_RC
	[ "$rc" = none ] && echo "# patch still running 5 s after the deletion"
	PATCH_PID=
	iperf_server_stop
	echo "# patch exit status: $rc"
	diag "$log"
	check "${DELETE_TESTS[1]}" test "$rc" != none -a "$rc" != 0
	check "${DELETE_TESTS[2]}" no_crash "$rc" "$log"
	check "${DELETE_TESTS[3]}" grep -q "$iface" "$log"
}
