#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# guest.sh - checks shared by the tests that boot the interop guest
# (tests/interop/guest) or drive a device in a namespace; sourced after
# netns.sh. They use the caller's $NS (the namespace) and $PINGS.

# tap_setup TAP ADDR: address TAP in $NS and bring it up, once it exists
# (netbe may open its backend only when the frontend arrives: 30 s at most)
tap_setup() {
	local _
	for _ in $(seq 300); do
		ip -n "$NS" link show "$1" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip -n "$NS" addr add "$2/24" dev "$1" && ip -n "$NS" link set "$1" up
}

# guest_pinged CONSOLE: the guest got at least one echo reply
guest_pinged() {
	local line
	line=$(grep -a "^NETBE PING" "$1")
	echo "# guest: ${line:-no PING line}"
	echo "$line" | grep -q "received=[1-9]"
}

# ns_pings ADDR LOG: $NS pings ADDR $PINGS times, output in LOG
ns_pings() {
	ip netns exec "$NS" ping -c "$PINGS" -i 0.2 -W 2 -w 15 "$1" >"$2" 2>&1
	local rc=$?
	echo "# namespace: $(grep 'packets transmitted' "$2")"
	return "$rc"
}

# powered_off CONSOLE QEMU_STATUS: the guest finished and QEMU exited 0
powered_off() {
	grep -aq "^NETBE DONE" "$1" && [ "$2" = 0 ]
}
