#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# af-packet-patch.sh NETBE - end-to-end test of the af_packet backend.
#
# Two end namespaces (10.78.0.1/24 and 10.78.0.2/24) each reach a forwarder
# namespace over a veth pair; `netbe patch af_packet:fA af_packet:fB` in the
# forwarder joins the two veth ends, so every ping and iperf3 byte crosses
# both packet sockets and the patch. Run once with virtio-net headers (GSO
# super-frames and partial checksums pass through) and once with
# vnet_hdr=off (end hosts' offloads off). The end namespaces must see no
# checksum errors. Finally a forwarder-side veth is deleted under load: the
# patch must exit non-zero, naming the interface, without crashing. All
# namespaces are ours (PID in the names) and deleted on exit. Prints TAP;
# every test is skipped ("needs root") when not root.
# shellcheck disable=SC2317 # functions run through check and the lib's rounds
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: af-packet-patch.sh PATH_TO_NETBE}
NSF=nbap-f-$$
NSA=nbap-a-$$
NSB=nbap-b-$$
FA=fA$$
FB=fB$$
EA=eA$$
EB=eB$$
IPA=10.78.0.1
IPB=10.78.0.2
MACA=02:00:00:78:00:01
MACB=02:00:00:78:00:02

ROUND_TESTS=("${PATCH_ROUND_TESTS[@]}")
DELETE_TESTS=("delete: patch ready"
	"delete: patch exits non-zero within 5 s of the deletion"
	"delete: no crash (no signal exit, no sanitizer report)"
	"delete: error message names the interface")
TESTS=()
round_names "vnet_hdr=on" "vnet_hdr=off"
TESTS+=("${DELETE_TESTS[@]}")

require_root "${TESTS[@]}"
WORK=$(mktemp -d /tmp/af-packet-patch.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

# veths_then_patch LOG OPTS [nooffload]: both veth pairs, then the patch
# with OPTS appended to both specs. Return: 0 on success.
veths_then_patch() {
	veths_to_ends "${3:-}" && patch_start "$1" "$NSF" "af_packet:$FA$2" "af_packet:$FB$2"
}

ends_ns_create || fail_all "namespace setup failed" "${TESTS[@]}"
patch_round "vnet_hdr=on" "$WORK/patch-on.log" veths_then_patch ""
patch_round "vnet_hdr=off" "$WORK/patch-off.log" veths_then_patch \
	",vnet_hdr=off" nooffload
# delete the forwarder's veth end B under iperf3 load; the patch must
# notice and exit
delete_round "$WORK/patch-delete.log" "$FB" 8 1.5 "$NSF" veths_then_patch ""
tap_done
