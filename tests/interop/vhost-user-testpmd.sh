#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# vhost-user-testpmd.sh NETBE - DPDK testpmd's virtio_user PMD (a
# vhost-user frontend without a VM) against `netbe vhost-user`.
#
# netbe serves a tap in the test's namespace (address 10.57.CASE.1/24);
# testpmd, also in the namespace, drives the device from the other side of
# the vhost-user socket with --forward-mode=icmpecho: it answers ARP and
# ICMP echo requests for any address, so the namespace pings 10.57.CASE.2
# and every reply has gone namespace -> tap -> netbe -> virtio_user ->
# testpmd -> virtio_user -> netbe -> tap. Cases:
#  1. netbe listens, one queue pair;
#  2. netbe listens with --queues 2 over a multiqueue tap, testpmd with
#     queues=2 --rxq=2 --txq=2;
#  3. testpmd listens (virtio_user server=1), `netbe vhost-user --client`.
# In cases 1 and 3 a second testpmd then takes the first one's place on the
# same socket, and the pings must get through again.
# testpmd runs without hugepages (--no-huge -m 512: DPDK then backs its
# memory with memfds that vhost-user can share) and reads its stdin from a
# `sleep`: it quits when that ends; timeout(1) bounds it too.
# netbe must exit 0 on SIGTERM, with frames counted both ways.
#
# Prints TAP. Skips everything without root (namespaces, taps) or without
# dpdk-testpmd (apt-get install dpdk-dev librte-net-virtio23 ...: see
# scripts/setup.sh); a testpmd that cannot load its virtio_user driver
# fails the cases.
# shellcheck disable=SC2317 # functions run through check
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "$0")/../lib/guest.sh"

NETBE=${1:?usage: vhost-user-testpmd.sh PATH_TO_NETBE}
NS=nbvht-$$
TESTPMD_SECS=40          # testpmd's life (its stdin is a sleep)
DEV_PID=
TPMD_PID=

# CASES: name|queue pairs|who listens on the socket|"again": a second
# testpmd on the same socket once the first has gone (netbe listening
# takes the next frontend; netbe --client reconnects to the new server)
CASES=(
	"one queue pair, netbe listens|1|netbe|again"
	"two queue pairs, netbe listens|2|netbe|-"
	"one queue pair, testpmd listens, netbe --client|1|testpmd|again"
)
AGAIN_CHECK="a second testpmd on the same socket gets pings through"
CHECKS=("netbe ready" "testpmd's virtio_user port starts"
	"namespace pings through netbe and testpmd" "netbe exits 0 on SIGTERM, no crash"
	"netbe counted frames both ways")
# (with two pairs, which pair carries a flow is the tap's hash: not checked)

TESTS=()
for c in "${CASES[@]}"; do
	for t in "${CHECKS[@]}"; do TESTS+=("${c%%|*}: $t"); done
	[ "${c##*|}" = again ] && TESTS+=("${c%%|*}: $AGAIN_CHECK")
done

require_root "${TESTS[@]}"
for cmd in dpdk-testpmd ping; do
	command -v $cmd >/dev/null ||
		skip_all "needs $cmd (apt-get install dpdk-dev librte-net-virtio23 iputils-ping)" "${TESTS[@]}"
done
WORK=$(mktemp -d /tmp/vhost-user-testpmd.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

# dev_start LOG SOCKET SERVER|CLIENT QUEUES MAC SPEC: `netbe vhost-user` in
# the namespace, output to LOG, PID in DEV_PID. Returns 0 once it is ready.
dev_start() {
	local log=$1 sock=$2 mode=$3 queues=$4 mac=$5 spec=$6 client='' rc
	[ "$mode" = client ] && client=--client
	bg_start "$log" "vhost-user: ready" 10 ip netns exec "$NS" timeout 300 \
		"$NETBE" vhost-user --socket "$sock" $client --queues "$queues" --mac "$mac" \
		"$spec" </dev/null
	rc=$?
	DEV_PID=$BG_PID
	return $rc
}

# testpmd_launch LOG DEVARGS QUEUES: testpmd in the namespace, icmpecho on
# net_virtio_user0,DEVARGS, output to LOG, PID in TPMD_PID (tracked)
testpmd_launch() {
	ip netns exec "$NS" timeout $((TESTPMD_SECS + 20)) \
		bash -c 'exec stdbuf -oL "$@" < <(sleep '"$TESTPMD_SECS"')' testpmd \
		dpdk-testpmd -l 0,1 --no-huge -m 512 --no-pci --file-prefix "vht$$" \
		--vdev "net_virtio_user0,$2" \
		-- --forward-mode=icmpecho -a --rxq="$3" --txq="$3" --total-num-mbufs=16384 \
		>"$1" 2>&1 </dev/null &
	TPMD_PID=$!
	track "$TPMD_PID"
}

# testpmd_started LOG: 30 s at most for testpmd to start forwarding
testpmd_started() {
	wait_for "$1" "Press enter to exit" 30 "$TPMD_PID" && return 0
	diag "$1"
	return 1
}

# port_mac LOG MAC: testpmd printed "Port 0: MAC" with netbe's MAC
port_mac() {
	local got
	got=$(sed -n 's/^Port 0: \([0-9A-Fa-f:]*\)$/\1/p' "$1" | head -n 1)
	echo "# testpmd port 0: ${got:-?}, netbe --mac $2"
	[ "$(echo "$got" | tr 'A-F' 'a-f')" = "$2" ]
}

# pings ADDR OUT: 5 pings from the namespace; 0 when all were answered
pings() {
	ip netns exec "$NS" timeout 20 ping -c 5 -i 0.2 -W 2 -w 15 "$1" >"$2" 2>&1
	local rc=$?
	echo "# namespace: $(grep 'packets transmitted' "$2")"
	[ "$rc" = 0 ] && grep -q " 5 received" "$2"
}

# counted LOG PAIRS: netbe printed one counter line per queue pair (on
# SIGTERM), and they show frames sent to and received from the backend
counted() {
	[ "$(grep -c "^pair [0-9]* " "$1")" = "$2" ] &&
		grep -q "tx [1-9][0-9]* frames" "$1" && grep -q "rx [1-9][0-9]* frames" "$1"
}

# run_case INDEX "NAME|QUEUES|LISTENER"
run_case() {
	local name q listener again tap=nbt$1-$$ host=10.57.$1.1 peer=10.57.$1.2
	local mac=02:00:00:57:00:0$1 log=$WORK/dev$1.log tlog=$WORK/testpmd$1.log
	local sock=$WORK/vhost$1.sock spec devargs ready=1 started=1 rc _
	IFS='|' read -r name q listener again <<<"$2"
	spec=tap:$tap
	[ "$q" -gt 1 ] && spec="$spec,queues=$q"
	devargs="path=$sock,queues=$q"
	[ "$listener" = testpmd ] && devargs="$devargs,server=1"
	echo "# $name: netbe vhost-user --queues $q $spec / virtio_user $devargs"
	if [ "$listener" = testpmd ]; then
		# testpmd listens and waits for the device before it goes on
		testpmd_launch "$tlog" "$devargs" "$q"
		for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
		dev_start "$log" "$sock" client "$q" "$mac" "$spec" || ready=0
		testpmd_started "$tlog" || started=0
	else
		dev_start "$log" "$sock" server "$q" "$mac" "$spec" || ready=0
		if [ $ready = 1 ]; then
			testpmd_launch "$tlog" "$devargs" "$q"
			testpmd_started "$tlog" || started=0
		fi
	fi
	check "$name: netbe ready" test $ready = 1
	[ $ready = 1 ] && { tap_setup "$tap" "$host" || started=0; }
	[ $ready = 1 ] || started=0
	check "$name: testpmd's virtio_user port starts" test $started = 1
	# informational: DPDK 22.11's virtio_user does not read the MAC from a
	# vhost-user device's config space ("No valid MAC in devargs or device")
	port_mac "$tlog" "$mac"
	if [ $started = 1 ]; then
		check "$name: namespace pings through netbe and testpmd" pings "$peer" "$WORK/ping$1.log"
	else
		not_ok "$name: namespace pings through netbe and testpmd"
	fi
	[ -n "$TPMD_PID" ] && stop_pid "$TPMD_PID" 10 >/dev/null
	if [ "$again" = again ]; then
		# a listening testpmd cannot bind over the old socket file
		[ "$listener" = testpmd ] && rm -f "$sock"
		testpmd_launch "$tlog.2" "$devargs" "$q"
		if [ $started = 1 ] && testpmd_started "$tlog.2"; then
			check "$name: $AGAIN_CHECK" pings "$peer" "$WORK/ping$1.2.log"
		else
			not_ok "$name: $AGAIN_CHECK"
		fi
		stop_pid "$TPMD_PID" 10 >/dev/null
	fi
	if [ -n "$DEV_PID" ]; then
		stop_pid "$DEV_PID" 10
		rc=$?
		echo "# netbe exit status: $rc"
		check "$name: netbe exits 0 on SIGTERM, no crash" test "$rc" = 0 -a -z "$(grep -E 'AddressSanitizer|runtime error:' "$log")"
	else
		not_ok "$name: netbe exits 0 on SIGTERM, no crash"
	fi
	check "$name: netbe counted frames both ways" counted "$log" "$q"
	diag "$log"
	grep -E "^Port 0:|virtio|VHOST|RX-packets|TX-packets|rror" "$tlog" | sort -u | diag
}

ns_create "$NS" || fail_all "cannot create namespace $NS" "${TESTS[@]}"
i=1
for c in "${CASES[@]}"; do
	run_case $i "$c"
	i=$((i + 1))
done
# testpmd's run-time directory (--file-prefix), left behind by DPDK
rm -rf "/var/run/dpdk/vht$$"
tap_done
