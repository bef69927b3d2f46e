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
# numbers are printed as TAP comments. A second round limits the same
# direction on the receive side instead, `tap:A tap:B,rx_bytes=1250k/100`
# (frames wait in tap B's queue), with the same checks. Both rounds run
# again with `netbe patch --threads 2` (each direction on its own thread:
# the tx limit's timer and wake-up are on the thread that writes into A,
# the rx limit's on the one that reads B). All namespaces
# are ours (PID in the names) and deleted on exit; every test is skipped
# ("needs root") when not root.
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

ROUND_TESTS=("patch ready"
	"ping A->B"
	"iperf3 B->A (limited) within 10% of 100 Mbit/s"
	"iperf3 A->B (not limited) above 110 Mbit/s"
	"patch exits 0 on SIGTERM"
	"no drop counted on either end"
	"throttled counted on the limited end only")
TESTS=()
round_names "tx_bytes on A" "rx_bytes on B" "threads=2 tx_bytes on A" "threads=2 rx_bytes on B"

require_root "${TESTS[@]}"
command -v iperf3 >/dev/null || skip_all "needs iperf3 (apt-get install iperf3)" "${TESTS[@]}"
WORK=$(mktemp -d /tmp/controls-patch.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

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
		grep -qE "(tx|rx)_(bad_hdr|offload|runt|too_big|error|discarded|overflow|foreign|bad_framing|fragment|spoofed|link_down) [0-9]"
}

# throttled_only LOG END WHAT: END's (A or B) last counter line has WHAT
# (tx_throttled or rx_throttled) counted, the other end's no throttling
throttled_only() {
	local other=A
	[ "$2" = A ] && other=B
	grep -E "^$2 " "$1" | tail -n 1 | grep -q "$3 [1-9]" &&
		! grep -E "^$other " "$1" | tail -n 1 | grep -q "throttled"
}

# limit_round LABEL END WHAT SPEC_A SPEC_B: the ROUND_TESTS (prefixed by
# LABEL) with `netbe patch SPEC_A SPEC_B`, the limit counted as WHAT on END
limit_round() {
	local label=$1 end=$2 what=$3 log=$WORK/patch-${1// /_}.log ba ab t
	if ! { patch_start "$log" "$NSF" "$4" "$5" && taps_to_ends ""; }; then
		patch_kill
		diag "$log"
		for t in "${ROUND_TESTS[@]}"; do not_ok "$label: $t"; done
		return
	fi
	ok "$label: ${ROUND_TESTS[0]}"
	check "$label: ${ROUND_TESTS[1]}" ping_ns "$NSA" "$IPB"
	iperf_server "$NSB" "$IPB"
	iperf_tcp "$NSA" "$IPB" "$WORK/ba-${label// /_}.json" -R
	ba=$(bps_of "$WORK/ba-${label// /_}.json")
	iperf_tcp "$NSA" "$IPB" "$WORK/ab-${label// /_}.json"
	ab=$(bps_of "$WORK/ab-${label// /_}.json")
	iperf_server_stop
	echo "# $label: B->A ${ba:-?} bit/s (limit $LIMIT_BPS: $((${ba:-0} * 100 / LIMIT_BPS))%), A->B ${ab:-?} bit/s"
	check "$label: ${ROUND_TESTS[2]}" within_10pct "${ba:-}"
	check "$label: ${ROUND_TESTS[3]}" above_limit "${ab:-}"
	check "$label: ${ROUND_TESTS[4]}" patch_stop "$log"
	diag "$log"
	check "$label: ${ROUND_TESTS[5]}" no_drops "$log"
	check "$label: ${ROUND_TESTS[6]}" throttled_only "$log" "$end" "$what"
	taps_gone || echo "# taps still present after the patch exited"
}

ends_ns_create || fail_all "namespace setup failed" "${TESTS[@]}"
limit_round "tx_bytes on A" A tx_throttled "tap:$TAPA,tx_bytes=1250k/100" "tap:$TAPB"
limit_round "rx_bytes on B" B rx_throttled "tap:$TAPA" "tap:$TAPB,rx_bytes=1250k/100"
PATCH_OPTS=(--threads 2)
limit_round "threads=2 tx_bytes on A" A tx_throttled "tap:$TAPA,tx_bytes=1250k/100" "tap:$TAPB"
limit_round "threads=2 rx_bytes on B" B rx_throttled "tap:$TAPA" "tap:$TAPB,rx_bytes=1250k/100"
PATCH_OPTS=()
tap_done
