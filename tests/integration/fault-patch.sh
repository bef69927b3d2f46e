#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# fault-patch.sh NETBE - fault injection end to end, through the kernel.
#
# `netbe patch tap:nfA<pid>,FAULTS tap:nfB<pid>` runs in a forwarder
# namespace; each tap is then moved into its own end namespace
# (10.78.0.1/24 and 10.78.0.2/24, static ARP entries so that only the
# pings cross the patch). Tap A's tx direction carries B's echo replies
# to A, its rx direction A's echo requests to B. Rounds, each a fresh
# patch and a bounded ping from A (200 at 10 ms, or 20 at 50 ms):
#  - tx_loss=20 and rx_loss=20: the loss ping measures is within 8..35 %
#    and equals the drops the patch counted (tx_fault_loss / rx_fault_loss);
#  - tx_delay=50: the smallest round trip is at least 50 ms;
#  - tx_corrupt=100: every frame sent to A is counted as corrupted and
#    A's kernel counts checksum errors (InCsumErrors) for at least 80 % of
#    them (a flip of the IP version/length bits is a header error
#    instead). Not "no reply arrives": ping's raw socket gets a copy of
#    each ICMP reply before the kernel checks its checksum.
# The measured numbers are printed as TAP comments. All namespaces are
# ours (PID in the names) and deleted on exit; every test is skipped
# ("needs root") when not root.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: fault-patch.sh PATH_TO_NETBE}
NSF=nbfp-f-$$
NSA=nbfp-a-$$
NSB=nbfp-b-$$
TAPA=nfA$$
TAPB=nfB$$
IPA=10.78.0.1
IPB=10.78.0.2
MACA=02:00:00:78:00:01
MACB=02:00:00:78:00:02

TESTS=("tx_loss=20: patch ready" "tx_loss=20: loss within 8..35 %"
	"tx_loss=20: lost pings == tx_fault_loss"
	"rx_loss=20: patch ready" "rx_loss=20: loss within 8..35 %"
	"rx_loss=20: lost pings == rx_fault_loss"
	"tx_delay=50: patch ready" "tx_delay=50: every reply, min rtt >= 50 ms"
	"tx_corrupt=100: patch ready" "tx_corrupt=100: every frame to A corrupted"
	"tx_corrupt=100: InCsumErrors in A >= 80 % of tx_fault_corrupted"
	"patches exit 0 on SIGTERM, no sanitizer report")

require_root "${TESTS[@]}"
command -v ping >/dev/null || skip_all "needs ping (apt-get install iputils-ping)" "${TESTS[@]}"
WORK=$(mktemp -d /tmp/fault-patch.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"
EXITS_OK=1

# start_patch LOG FAULTS: the patch with FAULTS on tap A, both taps into
# their end namespaces, static neighbours. Returns 0 on success.
start_patch() {
	patch_start "$1" "$NSF" "tap:$TAPA,$2" "tap:$TAPB" && taps_to_ends "" &&
		ip -n "$NSA" neigh replace "$IPB" lladdr "$MACB" dev "$TAPA" nud permanent &&
		ip -n "$NSB" neigh replace "$IPA" lladdr "$MACA" dev "$TAPB" nud permanent
}

# stop_patch LOG: SIGTERM the patch; remember a bad exit; print LOG
stop_patch() {
	patch_stop "$1" || EXITS_OK=0
	diag "$1"
	taps_gone || echo "# taps still present after the patch exited"
}

# ping_a COUNT INTERVAL OUT: COUNT pings from A to B (30 s at most), the
# summary in OUT. Prints "SENT RECEIVED".
ping_a() {
	ip netns exec "$NSA" timeout 30 ping -q -c "$1" -i "$2" -W 2 "$IPB" >"$3" 2>&1
	sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$3"
}

# counter LOG NAME: the value of NAME on the patch's "A ..." stats line, 0
# when absent
counter() {
	local v
	v=$(grep -a "^A tap:" "$1" | sed -n "s/.*[ ,]$2 \([0-9]*\).*/\1/p" | tail -n 1)
	echo "${v:-0}"
}

# loss_round KEY: ping through a patch with KEY=20 on A; checks its range
# and that every lost ping was counted as KEY's drop reason
loss_round() {
	local key=$1 log=$WORK/$1.log sent rcvd lost counted pct
	if ! start_patch "$log" "$key=20"; then
		fail_names "$key=20: patch ready" "$key=20: loss within 8..35 %" \
			"$key=20: lost pings == ${key/loss/fault_loss}"
		patch_kill
		return
	fi
	ok "$key=20: patch ready"
	read -r sent rcvd < <(ping_a 200 0.01 "$WORK/$key.ping")
	stop_patch "$log"
	sent=${sent:-0}
	rcvd=${rcvd:-0}
	lost=$((sent - rcvd))
	counted=$(counter "$log" "${key/loss/fault_loss}")
	pct=$((sent ? 100 * lost / sent : 0))
	echo "# $key=20: $sent pings, $rcvd replies, $lost lost ($pct %), ${key/loss/fault_loss} $counted"
	check "$key=20: loss within 8..35 %" test "$sent" = 200 -a "$pct" -ge 8 -a "$pct" -le 35
	check "$key=20: lost pings == ${key/loss/fault_loss}" test "$lost" = "$counted"
}

# delay_round: min rtt through tx_delay=50
delay_round() {
	local log=$WORK/delay.log sent rcvd rtt min
	if ! start_patch "$log" "tx_delay=50"; then
		fail_names "tx_delay=50: patch ready" "tx_delay=50: every reply, min rtt >= 50 ms"
		patch_kill
		return
	fi
	ok "tx_delay=50: patch ready"
	read -r sent rcvd < <(ping_a 20 0.05 "$WORK/delay.ping")
	stop_patch "$log"
	rtt=$(sed -n 's/^rtt min\/avg\/max\/mdev = \([0-9.\/]*\).*/\1/p' "$WORK/delay.ping")
	min=${rtt%%.*}
	echo "# tx_delay=50: ${sent:-0} pings, ${rcvd:-0} replies, rtt min/avg/max/mdev ${rtt:-?} ms"
	check "tx_delay=50: every reply, min rtt >= 50 ms" \
		test "${sent:-0}" = 20 -a "${rcvd:-0}" = 20 -a "${min:-0}" -ge 50
}

# corrupt_round: every reply to A corrupted; A's kernel must see it
corrupt_round() {
	local log=$WORK/corrupt.log before after corrupted txd
	if ! start_patch "$log" "tx_corrupt=100"; then
		fail_names "tx_corrupt=100: patch ready" "tx_corrupt=100: every frame to A corrupted" \
			"tx_corrupt=100: InCsumErrors in A >= 80 % of tx_fault_corrupted"
		patch_kill
		return
	fi
	ok "tx_corrupt=100: patch ready"
	before=$(csum_errors "$NSA")
	ping_a 50 0.01 "$WORK/corrupt.ping" >/dev/null
	after=$(csum_errors "$NSA")
	stop_patch "$log"
	corrupted=$(counter "$log" tx_fault_corrupted)
	txd=$(grep -a "^A tap:" "$log" | sed -n 's/.*: tx \([0-9]*\) frames.*/\1/p' | tail -n 1)
	# ping's own summary is not reliable here: it reads corrupted timestamps
	echo "# tx_corrupt=100: 50 pings, A tx ${txd:-?} frames, tx_fault_corrupted $corrupted, InCsumErrors in A $before -> $after"
	check "tx_corrupt=100: every frame to A corrupted" test "${txd:-0}" -ge 40 -a "${txd:-0}" = "$corrupted"
	check "tx_corrupt=100: InCsumErrors in A >= 80 % of tx_fault_corrupted" \
		test "$corrupted" -ge 40 -a $((100 * (after - before))) -ge $((80 * corrupted))
}

ends_ns_create || fail_all "namespace setup failed" "${TESTS[@]}"
loss_round tx_loss
loss_round rx_loss
delay_round
corrupt_round
check "patches exit 0 on SIGTERM, no sanitizer report" test "$EXITS_OK" = 1
tap_done
