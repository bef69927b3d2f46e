#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# af-xdp-patch.sh NETBE - end-to-end test of the af_xdp backend.
#
# Two end namespaces (10.77.0.1/24 and 10.77.0.2/24, offloads off, MTU
# 1500) each reach a forwarder namespace over a veth pair; `netbe patch
# af_xdp:fA af_xdp:fB` in the forwarder joins the two veth ends, so every
# ping and iperf3 byte crosses both XDP sockets and the patch. Run once in
# the default mode (native XDP on veth), once with mode=skb and once with
# busy_poll=20 (preferred busy polling). After each
# patch exits, libxdp must have detached its XDP program from both veth
# ends. Finally a forwarder-side veth is deleted under load: the patch must
# exit non-zero, naming the interface, without crashing. All namespaces are
# ours (PID in the names) and deleted on exit. Prints TAP; every test is
# skipped when not root or when netbe was built without af_xdp.
# shellcheck disable=SC2317 # functions run through check and the lib's rounds
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: af-xdp-patch.sh PATH_TO_NETBE}
NSF=nbxp-f-$$
NSA=nbxp-a-$$
NSB=nbxp-b-$$
FA=xA$$
FB=xB$$
EA=eA$$
EB=eB$$
IPA=10.77.0.1
IPB=10.77.0.2
MACA=02:00:00:77:00:01
MACB=02:00:00:77:00:02
IPERF_SECS=2
PING_REQUIRED=1

ROUND_TESTS=("${PATCH_ROUND_TESTS[@]}" "XDP program detached after exit")
DELETE_TESTS=("delete: patch ready"
	"delete: patch exits non-zero within 5 s of the deletion"
	"delete: no crash (no signal exit, no sanitizer report)"
	"delete: error message names the interface")
TESTS=()
round_names native skb busy
TESTS+=("${DELETE_TESTS[@]}" "busy_poll=abc is refused, naming the key")

require_root "${TESTS[@]}"
"$NETBE" list 2>/dev/null | grep -q '^af_xdp' ||
	skip_all "netbe built without af_xdp (apt-get install libxdp-dev libbpf-dev)" "${TESTS[@]}"
command -v iperf3 >/dev/null || skip_all "needs iperf3" "${TESTS[@]}"
WORK=$(mktemp -d /tmp/af-xdp-patch.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

# xdp_setup LOG OPTS [EXPECT]: both veth pairs (offloads off: af_xdp
# carries no virtio-net header), then the patch with OPTS appended to both
# specs; EXPECT is the attach mode `ip link` should show (xdp, xdpgeneric).
# Return: 0 on success.
xdp_setup() {
	veths_to_ends nooffload &&
		patch_start "$1" "$NSF" "af_xdp:$FA$2" "af_xdp:$FB$2" || return 1
	[ -z "${3:-}" ] ||
		echo "# $FA attach mode: $(ip -n "$NSF" -d link show "$FA" | grep -o 'xdp[a-z]*' | head -1) (expected $3)"
}

# bad_busy_poll_refused: does a non-numeric busy_poll fail, naming the key?
bad_busy_poll_refused() {
	! "$NETBE" patch af_xdp:lo,busy_poll=abc null 2>"$WORK/bad.log" &&
		grep -q busy_poll "$WORK/bad.log"
}

# xdp_attached: is any XDP program attached to either forwarder veth end?
xdp_attached() {
	ip -n "$NSF" -d link show "$FA" | grep -q 'prog/xdp' ||
		ip -n "$NSF" -d link show "$FB" | grep -q 'prog/xdp'
}

ends_ns_create || fail_all "namespace setup failed" "${TESTS[@]}"
for r in "native||xdp" "skb|,mode=skb|xdpgeneric" "busy|,busy_poll=20|xdp"; do
	IFS='|' read -r label opts expect <<<"$r"
	patch_round "$label" "$WORK/patch-$label.log" xdp_setup "$opts" "$expect" &&
		check "$label: XDP program detached after exit" eval '! xdp_attached'
done
# delete the forwarder's veth end B under iperf3 load; the patch must
# notice (the backend's one-second check) and exit
delete_round "$WORK/patch-delete.log" "$FB" 6 1 "$NSF" xdp_setup ""
check "busy_poll=abc is refused, naming the key" bad_busy_poll_refused
tap_done
