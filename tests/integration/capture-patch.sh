#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# capture-patch.sh NETBE - netbe's capture against the kernel's, frame for
# frame.
#
# `netbe patch tap:nbcA<pid>,capture=F tap:nbcB<pid>` runs in a forwarder
# namespace; each tap then moves into its own end namespace (10.78.0.1/24
# and 10.78.0.2/24, as in tap-patch.sh). tcpdump captures tap A where the
# device now lives (namespace A), once per direction (-Q in, -Q out),
# while ping goes both ways and iperf3 moves a bounded 16 MiB of TCP each
# way, rate-limited so that tcpdump keeps up. The taps carry virtio-net
# headers, so TSO super-frames go through whole. tcpdump runs in
# immediate mode, else the frames of a ring block not yet handed to it
# when it stops are lost.
#
# Handle A's frontend is the patch, so what netbe receives from tap A is
# what namespace A sent (the kernel's outbound) and what netbe sends into
# tap A is what namespace A receives (the kernel's inbound): netbe's
# inbound frames must equal tcpdump's -Q out capture and its outbound
# frames tcpdump's -Q in capture, in order, by length and MD5 of the
# bytes. capinfos and tshark must read netbe's file with the same frame
# count, and show super-frames (with their GSO fields in the comment, in
# pcapng). A second round does the same with capture_format=pcap, which
# has no direction: there the frames of both directions are compared as
# one sorted list. All namespaces are ours (PID in the names) and deleted
# on exit. Prints TAP; every test is skipped ("needs root") when not root.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: capture-patch.sh PATH_TO_NETBE}
NSF=nbcp-f-$$
NSA=nbcp-a-$$
NSB=nbcp-b-$$
TAPA=nbcA$$
TAPB=nbcB$$
IPA=10.78.0.1
IPB=10.78.0.2
MACA=02:00:00:78:00:01
MACB=02:00:00:78:00:02
IPERF_BYTES=16M
IPERF_RATE=200M

ROUND=("patch ready" "tcpdump ready (both directions)" "ping A->B" "ping B->A"
	"iperf3 16 MiB A->B" "iperf3 16 MiB B->A" "patch exits 0 on SIGTERM"
	"capinfos and tshark read netbe's file, same frame count"
	"super-frames captured whole"
	"netbe's frames equal the kernel's, frame for frame")
TESTS=()
for t in "${ROUND[@]}"; do TESTS+=("pcapng: $t"); done
for t in "${ROUND[@]}"; do TESTS+=("pcap: $t"); done

require_root "${TESTS[@]}"
for tool in tcpdump tshark capinfos iperf3 python3; do
	command -v "$tool" >/dev/null ||
		skip_all "needs $tool (scripts/setup.sh installs it)" "${TESTS[@]}"
done
WORK=$(mktemp -d /tmp/capture-patch.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

# frames.py FILE [DIR]: one line "LEN MD5" per frame of FILE (pcap or
# pcapng); DIR "in"/"out" keeps only pcapng frames with that direction
cat >"$WORK/frames.py" <<'PY'
import hashlib, struct, sys

def pcap(b):
    snap, = struct.unpack_from("<I", b, 16)
    off = 24
    while off < len(b):
        _, _, cap, orig = struct.unpack_from("<IIII", b, off)
        yield orig, b[off + 16:off + 16 + cap], 0
        off += 16 + cap

def pcapng(b):
    off = 0
    while off < len(b):
        typ, ln = struct.unpack_from("<II", b, off)
        if typ == 6:
            cap, orig = struct.unpack_from("<II", b, off + 20)
            data = b[off + 28:off + 28 + cap]
            opt, flags = off + 28 + ((cap + 3) & ~3), 0
            while opt < off + ln - 4:
                code, olen = struct.unpack_from("<HH", b, opt)
                if code == 0:
                    break
                if code == 2:
                    flags, = struct.unpack_from("<I", b, opt + 4)
                opt += 4 + ((olen + 3) & ~3)
            yield orig, data, flags & 3
        off += ln

b = open(sys.argv[1], "rb").read()
want = {"in": 1, "out": 2}.get(sys.argv[2] if len(sys.argv) > 2 else "")
gen = pcapng(b) if b[:4] == b"\x0a\x0d\x0d\x0a" else pcap(b)
for orig, data, d in gen:
    if want is None or d == want:
        if len(data) != orig:
            print("truncated %d of %d" % (len(data), orig))
        print(orig, hashlib.md5(data).hexdigest())
PY

# patch_then_taps LOG OPTS: the patch capturing tap A with OPTS appended
# to its capture key, then both taps into their end namespaces
patch_then_taps() {
	patch_start "$1" "$NSF" "tap:$TAPA,capture=$WORK/netbe.cap$2" "tap:$TAPB" &&
		taps_to_ends ""
}

# tcpdump_start DIR: tcpdump -Q DIR on tap A in NSA into WORK/kernel-DIR.pcap
# (60 s at most), PID in TD_DIR. Returns 0 once it listens.
tcpdump_start() {
	bg_start "$WORK/tcpdump-$1.log" "listening on" 5 \
		ip netns exec "$NSA" timeout 60 tcpdump -i "$TAPA" -Q "$1" -s 0 -B 65536 -U -n --immediate-mode \
		-w "$WORK/kernel-$1.pcap"
	local rc=$?
	eval "TD_$1=$BG_PID"
	return $rc
}

# iperf_bytes NS SERVER [ARGS...]: iperf3 moving IPERF_BYTES at IPERF_RATE
# (20 s at most), so that tcpdump, one CPU shared with everything else,
# loses nothing
iperf_bytes() {
	ip netns exec "$1" timeout 20 iperf3 -c "$2" -n "$IPERF_BYTES" -b "$IPERF_RATE" \
		"${@:3}" >/dev/null 2>&1
}

# same_frames A B: files A and B list the same lines; else a diff excerpt
same_frames() {
	echo "# $(wc -l <"$1") frames in $(basename "$1"), $(wc -l <"$2") in $(basename "$2")"
	cmp -s "$1" "$2" && [ -s "$1" ] && return 0
	diff "$1" "$2" | head -n 20 | diag
	return 1
}

# tools_agree FILE: capinfos and tshark read FILE, with the frame count of
# frames.py
tools_agree() {
	local n c t
	n=$(python3 "$WORK/frames.py" "$1" | wc -l)
	c=$(capinfos -c -M "$1" 2>/dev/null | awk -F: '/Number of packets/ { gsub(/ /, "", $2); print $2 }')
	t=$(tshark -r "$1" -T fields -e frame.number 2>/dev/null | wc -l)
	echo "# frames: netbe $n, capinfos ${c:-?}, tshark $t"
	[ "$n" -gt 0 ] && [ "$c" = "$n" ] && [ "$t" = "$n" ]
}

# superframes FORMAT: tshark finds frames longer than 1514 bytes in
# netbe's file; in pcapng with a "gso=tcpv4" comment
superframes() {
	local filter="frame.len > 1514 && frame.len == frame.cap_len" n
	[ "$1" = pcapng ] && filter="$filter && frame.comment contains \"gso=tcpv4\""
	n=$(tshark -r "$WORK/netbe.cap" -Y "$filter" -T fields -e frame.number 2>/dev/null | wc -l)
	echo "# $n super-frames ($filter)"
	[ "$n" -gt 0 ]
}

# compare FORMAT: netbe's file against the kernel's two captures
compare() {
	local py=("python3" "$WORK/frames.py")
	"${py[@]}" "$WORK/kernel-out.pcap" >"$WORK/k-out"
	"${py[@]}" "$WORK/kernel-in.pcap" >"$WORK/k-in"
	if [ "$1" = pcapng ]; then
		"${py[@]}" "$WORK/netbe.cap" in >"$WORK/n-in"
		"${py[@]}" "$WORK/netbe.cap" out >"$WORK/n-out"
		# netbe inbound = kernel outbound, and the other way round
		same_frames "$WORK/n-in" "$WORK/k-out" && same_frames "$WORK/n-out" "$WORK/k-in"
	else
		"${py[@]}" "$WORK/netbe.cap" | sort >"$WORK/n-all"
		sort "$WORK/k-out" "$WORK/k-in" >"$WORK/k-all"
		same_frames "$WORK/n-all" "$WORK/k-all"
	fi
}

# capture_round FORMAT OPTS: one round of ROUND, prefixed by FORMAT
capture_round() {
	local fmt=$1 log="$WORK/patch-$1.log" t
	rm -f "$WORK"/netbe.cap "$WORK"/kernel-*.pcap
	if ! patch_then_taps "$log" "$2"; then
		for t in "${ROUND[@]}"; do not_ok "$fmt: $t"; done
		patch_kill
		return
	fi
	ok "$fmt: patch ready"
	if tcpdump_start in && tcpdump_start out; then
		ok "$fmt: tcpdump ready (both directions)"
	else
		not_ok "$fmt: tcpdump ready (both directions)"
	fi
	sleep 0.5
	check "$fmt: ping A->B" ping_ns "$NSA" "$IPB"
	check "$fmt: ping B->A" ping_ns "$NSB" "$IPA"
	iperf_server "$NSB" "$IPB"
	check "$fmt: iperf3 16 MiB A->B" iperf_bytes "$NSA" "$IPB"
	check "$fmt: iperf3 16 MiB B->A" iperf_bytes "$NSA" "$IPB" -R
	iperf_server_stop
	sleep 0.5
	check "$fmt: patch exits 0 on SIGTERM" patch_stop "$log"
	stop_pid "${TD_in:-0}" 5 >/dev/null
	stop_pid "${TD_out:-0}" 5 >/dev/null
	diag "$log"
	grep -h "dropped by kernel" "$WORK"/tcpdump-*.log | diag
	check "$fmt: capinfos and tshark read netbe's file, same frame count" \
		tools_agree "$WORK/netbe.cap"
	check "$fmt: super-frames captured whole" superframes "$fmt"
	check "$fmt: netbe's frames equal the kernel's, frame for frame" compare "$fmt"
	taps_gone || echo "# taps still present after the patch exited"
}

ends_ns_create || fail_all "namespace setup failed" "${TESTS[@]}"
capture_round pcapng ""
capture_round pcap ",capture_format=pcap"
tap_done
