#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# slirp-ns.sh PROGRAM [ARGS...] - run the slirp fuzz target (its corpus
# replay, or the libFuzzer binary) inside a network namespace of its own
# with only lo (up), so whatever sockets libslirp opens for the fuzzed
# guest reach nothing real. Needs root for `unshare -n`; otherwise prints
# one TAP test skipped with "needs root".
set -u
[ $# -ge 1 ] || { echo "usage: slirp-ns.sh PROGRAM [ARGS...]" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
	echo "1..1"
	echo "ok 1 - fuzz-slirp corpus in a private network namespace # SKIP needs root"
	echo "# skipped: needs root"
	exit 0
fi
exec unshare -n sh -c 'ip link set lo up && exec "$@"' slirp-ns "$@"
