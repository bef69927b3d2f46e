#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# controls-patch.sh NETBE - the rate limit end to end through the kernel.
#
# `netbe patch tap:nbA<pid>,tx_bytes=1250k/100 tap:nbB<pid>` runs in a
# forwarder namespace; each tap is moved into its own end namespace
# (10.78.0.1/24 and 10.78.0.2/24). tx on tap A is what the patch writes
# into A, so iperf3 from B to A (a client in A with -R) crosses the limit
# of 1250000 bytes per 100 ms = 100 Mbit/s, and A to B does not. Each
# runs 10 s; B->A must measure within 10% of 100 Mbit/s, A->B above
# 110 Mbit/s, and the patch's drop counters must all be zero (the limit
# holds frames back, it drops none) with tx_throttled counted on A. The
# numbers are printed as TAP comments. All namespaces are ours (PID in
# the names) and deleted on exit; every test is skipped ("needs root")
# when not root.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: controls-patch.sh PATH_TO_NETBE}
NSF=nbcp-f-$$
NSA=nbcp-a-$$
NSB=nbcp-b-$$
TAPA=nbcA$$
TAPB=nbcB$$
IPA=10.78.0.1
IPB=10.78.0.2
MACA=02:00:00:78:00:01
MACB=02:00:00:78:00:02
LIMIT_BPS=100000000
IPERF_SECS=10

TESTS=("patch ready with tx_bytes=1250k/100 on A"
	"ping A->B"
	"iperf3 B->A (limited) within 10% of 100 Mbit/s"
	"iperf3 A->B (not limited) above 110 Mbit/s"
	"patch exits 0 on SIGTERM"
	"no drop counted on either end"
	"tx_throttled counted on A, not on B")

require_root "${TESTS[@]}"
command -v iperf3 >/dev/null || skip_all "needs iperf3 (apt-get install iperf3)" "${TESTS[@]}"
WORK=$(mktemp -d /tmp/controls-patch.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"
LOG=$WORK/patch.log

# bps_of FILE: the received bit/s of iperf3's JSON in FILE
bps_of() { json_get "$1" 'int(d["end"]["sum_received"]["bits_per_second"])'; }

# within_10pct BPS: BPS is within 10% of LIMIT_BPS
within_10pct() {
	[ -n "$1" ] && [ "$1" -ge $((LIMIT_BPS * 9 / 10)) ] &&
		[ "$1" -le $((LIMIT_BPS * 11 / 10)) ]
}

# above_limit BPS: BPS is more than 10% above LIMIT_BPS
above_limit() { [ -n "$1" ] && [ "$1" -gt $((LIMIT_BPS * 11 / 10)) ]; }

# no_drops LOG: the final counter lines of LOG name no drop reason
no_drops() {
	! grep -E "^[AB] " "$1" |
		grep -qE "(tx|rx)_(bad_hdr|offload|runt|too_big|error|discarded|overflow|foreign|bad_framing|fragment) [0-9]"
}

# throttled_on_a_only LOG: A's last counter line has tx_throttled, B's none
throttled_on_a_only() {
	grep -E "^A " "$1" | tail -n 1 | grep -q "tx_throttled [1-9]" &&
		! grep -E "^B " "$1" | tail -n 1 | grep -q "throttled"
}

ends_ns_create || fail_all "namespace setup failed" "${TESTS[@]}"
if ! { patch_start "$LOG" "$NSF" "tap:$TAPA,tx_bytes=1250k/100" "tap:$TAPB" &&
	taps_to_ends; }; then
	patch_kill
	diag "$LOG"
	fail_all "the patch or the taps did not come up" "${TESTS[@]}"
fi
ok "${TESTS[0]}"
check "${TESTS[1]}" ping_ns "$NSA" "$IPB"
iperf_server "$NSB" "$IPB"
iperf_tcp "$NSA" "$IPB" "$WORK/ba.json" -R
BA=$(bps_of "$WORK/ba.json")
iperf_tcp "$NSA" "$IPB" "$WORK/ab.json"
AB=$(bps_of "$WORK/ab.json")
iperf_server_stop
echo "# B->A through tx_bytes=1250k/100: ${BA:-?} bit/s (limit $LIMIT_BPS, $((${BA:-0} * 100 / LIMIT_BPS))%)"
echo "# A->B, no limit: ${AB:-?} bit/s"
check "${TESTS[2]}" within_10pct "${BA:-}"
check "${TESTS[3]}" above_limit "${AB:-}"
check "${TESTS[4]}" patch_stop "$LOG"
diag "$LOG"
check "${TESTS[5]}" no_drops "$LOG"
check "${TESTS[6]}" throttled_on_a_only "$LOG"
tap_done
