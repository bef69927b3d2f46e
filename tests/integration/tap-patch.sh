#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# tap-patch.sh NETBE - end-to-end test of the tap backend through the kernel.
#
# `netbe patch tap:nbA<pid> tap:nbB<pid>` runs in a forwarder namespace; each
# tap is then moved into its own end namespace (10.77.0.1/24 and
# 10.77.0.2/24), so every ping and iperf3 byte crosses the two taps and the
# patch. Run once with virtio-net headers (the kernel hands GSO super-frames
# and partial checksums through), once with vnet_hdr=off (end hosts'
# offloads off) and once with the loop busy polling (--busy-poll). The end
# namespaces must see no checksum errors, and the final counters must show
# frames both ways. Then a tap is deleted under load: the patch must exit
# non-zero, naming the tap, without crashing. All of it runs twice: with
# both directions on one thread, then with --threads 2 (a thread each,
# and --stats 1 reading the counters of both while they run).
# All namespaces are ours (PID in the names) and deleted on exit. Prints
# TAP; every test is skipped ("needs root") when not root.
# shellcheck disable=SC2317 # functions run through check and the lib's rounds
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: tap-patch.sh PATH_TO_NETBE}
NSF=nbtp-f-$$
NSA=nbtp-a-$$
NSB=nbtp-b-$$
TAPA=nbA$$
TAPB=nbB$$
IPA=10.77.0.1
IPB=10.77.0.2
MACA=02:00:00:77:00:01
MACB=02:00:00:77:00:02

ROUND_TESTS=("${PATCH_ROUND_TESTS[@]}")
DELETE_TESTS=("delete: patch ready"
	"delete: patch exits non-zero within 5 s of the tap deletion"
	"delete: no crash (no signal exit, no sanitizer report)"
	"delete: error message names the tap")
THREADS_DELETE_TESTS=("${DELETE_TESTS[@]/#/threads=2 }")
TESTS=()
round_names "vnet_hdr=on" "vnet_hdr=off" "busy-poll"
TESTS+=("${DELETE_TESTS[@]}")
round_names "threads=2 vnet_hdr=on" "threads=2 vnet_hdr=off" "threads=2 busy-poll"
TESTS+=("${THREADS_DELETE_TESTS[@]}")

require_root "${TESTS[@]}"
WORK=$(mktemp -d /tmp/tap-patch.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

# patch_then_taps LOG OPTS [nooffload]: the patch with OPTS appended to
# both specs, then both taps into their end namespaces. Return: 0 on success.
patch_then_taps() {
	patch_start "$1" "$NSF" "tap:$TAPA$2" "tap:$TAPB$2" && taps_to_ends "${3:-}"
}

# patch_busy_then_taps LOG: patch_then_taps with the loop busy polling.
patch_busy_then_taps() {
	patch_start "$1" "$NSF" --busy-poll 100 "tap:$TAPA" "tap:$TAPB" && taps_to_ends
}

# all_rounds PREFIX: the three rounds and the deletion, labels and logs
# prefixed by PREFIX
all_rounds() {
	local p=$1
	patch_round "${p}vnet_hdr=on" "$WORK/${p// /-}patch-on.log" patch_then_taps ""
	taps_gone || echo "# taps still present after the patch exited"
	patch_round "${p}vnet_hdr=off" "$WORK/${p// /-}patch-off.log" patch_then_taps \
		",vnet_hdr=off" nooffload
	taps_gone || echo "# taps still present after the patch exited"
	patch_round "${p}busy-poll" "$WORK/${p// /-}patch-busy.log" patch_busy_then_taps
	taps_gone || echo "# taps still present after the patch exited"
	# delete tap B under iperf3 load; the patch must notice and exit
	delete_round "$WORK/${p// /-}patch-delete.log" "$TAPB" 8 1.5 "$NSB" patch_then_taps ""
}

ends_ns_create || fail_all "namespace setup failed" "${TESTS[@]}"
all_rounds ""
# shellcheck disable=SC2034 # read by patch_start and delete_round
PATCH_OPTS=(--threads 2 --stats 1)   # the stats timer reads both threads' counters
# shellcheck disable=SC2034
DELETE_TESTS=("${THREADS_DELETE_TESTS[@]}")
all_rounds "threads=2 "
tap_done
