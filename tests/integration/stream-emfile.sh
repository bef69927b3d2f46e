#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# stream-emfile.sh NETBE - `netbe patch stream:listen=127.0.0.1:P null` out
# of file descriptors does not spin (issue 14): three peers connect while
# accept() can get no fd; each is refused (closed at once, counted in
# peers_refused) and the process stays idle: its CPU time over 2 s, read
# from /proc/PID/stat (utime + stime), stays below 0.5 s (it was ~1.9 s).
# Once the limit is back, the next peer is accepted (link up); SIGINT ends
# the patch with exit code 0 and its counters show peers_refused 3.
#
# The issue's reproducer was `prlimit --nofile=9 netbe patch ...`; how many
# fds netbe holds at that point depends on the build and on what the
# caller left open, so the test lowers the running patch's soft limit to
# its lowest free fd instead (prlimit --pid): the same state, on any
# machine. Unprivileged, loopback only, every wait bounded.
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: stream-emfile.sh PATH_TO_NETBE}
TESTS=(patch-starts peers-refused-and-closed cpu-bounded log-bounded next-peer-accepted
       sigint-exit-0 counters-show-refused)
if ! command -v prlimit >/dev/null || ! command -v python3 >/dev/null; then
	skip_all "needs prlimit and python3" "${TESTS[@]}"
fi
WORK=$(mktemp -d /tmp/stream-emfile.XXXXXX) || fail_all "no work directory" "${TESTS[@]}"

# peers PORT N SECS: connect N peers to 127.0.0.1:PORT at once and wait
# (SECS at most) until the other end closed each; print how many it closed
peers() {
	python3 - "$@" <<'PY'
import select, socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
open_ = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    open_.append(s)
closed, end = 0, time.monotonic() + secs
while open_ and time.monotonic() < end:
    r, _, _ = select.select(open_, [], [], 0.1)
    for s in r:
        try:
            gone = s.recv(1) == b""
        except BlockingIOError:
            gone = False
        except OSError:
            gone = True
        if gone:
            closed += 1
            open_.remove(s)
            s.close()
print(closed)
PY
}

# cpu_ticks PID: utime + stime of PID, in clock ticks
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# lowest_free_fd PID: the lowest fd number PID does not have open
lowest_free_fd() {
	local fd=0
	while [ -e "/proc/$1/fd/$fd" ]; do fd=$((fd + 1)); done
	echo "$fd"
}

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$WORK/patch.log
if ! patch_start "$LOG" - "stream:listen=127.0.0.1:$PORT" null; then
	not_ok patch-starts
	fail_all "netbe patch did not start" "${TESTS[@]:1}"
fi
ok patch-starts
SOFT=$(prlimit --pid "$PATCH_PID" --nofile --noheadings --output SOFT)
LIMIT=$(lowest_free_fd "$PATCH_PID")
prlimit --pid "$PATCH_PID" --nofile="$LIMIT:" || fail_all "prlimit failed" "${TESTS[@]:1}"
echo "# netbe patch $PATCH_PID: open file limit $LIMIT (was $SOFT)"

TICKS0=$(cpu_ticks "$PATCH_PID")
START=$(date +%s%N)
CLOSED=$(peers "$PORT" 3 5)
sleep "$(awk -v s="$START" -v n="$(date +%s%N)" 'BEGIN { r = 2 - (n - s) / 1e9; print (r > 0 ? r : 0) }')"
TICKS=$(($(cpu_ticks "$PATCH_PID") - TICKS0))
HZ=$(getconf CLK_TCK)
echo "# 3 peers: $CLOSED closed by netbe; CPU $TICKS ticks ($HZ/s) in 2 s"
check peers-refused-and-closed [ "$CLOSED" = 3 ]
check cpu-bounded [ "$((TICKS * 2))" -lt "$HZ" ]
check log-bounded [ "$(wc -l <"$LOG")" -lt 100 ]

prlimit --pid "$PATCH_PID" --nofile="$SOFT:"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
check next-peer-accepted wait_for "$LOG" "link up" 5 "$PATCH_PID"
kill -INT "$PATCH_PID"
wait_exit "$PATCH_PID" 5
check sigint-exit-0 [ "$EXIT_RC" = 0 ]
exec 3<&-
check counters-show-refused grep -q "^A stream:listen=127.0.0.1:$PORT: .*peers_refused 3\$" "$LOG"
[ "$FAILED" = 0 ] || diag "$LOG"
tap_done
