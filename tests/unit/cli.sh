#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# cli.sh - the netbe tool's help, version, man pages and bash completion,
# TAP output. Usage: cli.sh NETBE VERSION MANDIR COMPLETION
#
# - every command of `netbe --help` (the one command table, tools/netbe.c)
#   answers --help and -h with "usage:" on stdout and exit 0, an unknown
#   option with "usage:" on stderr and exit 2, and `netbe help COMMAND`
#   prints the same as `netbe COMMAND --help`;
# - `netbe --version` and `netbe version` print "netbe VERSION";
# - each man page in MANDIR renders without a warning (man --warnings, and
#   groff -ww where groff is installed);
# - the completion script parses (bash -n) and completes `netbe pa` to
#   `patch`, `netbe patch --st` to `--stats` and a SPEC type and key;
# - `netbe patch --control` and `netbe vhost-user --control` serve the
#   control socket with their handles attached ("a"/"b", "pair0"), and
#   remove its file when they end.
# Nothing here needs root or the network.
set -u
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

NETBE=${1:?usage: cli.sh NETBE VERSION MANDIR COMPLETION}
VERSION=${2:?usage: cli.sh NETBE VERSION MANDIR COMPLETION}
MANDIR=${3:?usage: cli.sh NETBE VERSION MANDIR COMPLETION}
COMPLETION=${4:?usage: cli.sh NETBE VERSION MANDIR COMPLETION}
WORK=$(mktemp -d)

# help_ok ARG...: `netbe ARG...` exits 0 with "usage:" on stdout.
help_ok() {
	"$NETBE" "$@" >"$WORK/out" 2>"$WORK/err" && grep -q '^usage:' "$WORK/out"
}

# usage_error CMD: an unknown option exits 2 with "usage:" on stderr only.
usage_error() {
	local rc
	"$NETBE" "$1" --no-such-option >"$WORK/out" 2>"$WORK/err"
	rc=$?
	[ "$rc" = 2 ] && grep -q 'usage:' "$WORK/err" && ! grep -q 'usage:' "$WORK/out"
}

# same_help CMD: `netbe help CMD` prints what `netbe CMD --help` prints.
same_help() {
	[ "$("$NETBE" help "$1")" = "$("$NETBE" "$1" --help)" ]
}

# man_clean PAGE: the page renders, and without a warning.
man_clean() {
	local out
	out=$(MANWIDTH=80 man --warnings -l -Tutf8 "$1" 2>&1 >"$WORK/page") || return 1
	if [ -n "$out" ] || [ ! -s "$WORK/page" ]; then
		echo "$out" | diag
		return 1
	fi
	if command -v groff >/dev/null; then
		out=$(groff -man -ww -z "$1" 2>&1)
		[ -z "$out" ] || { echo "$out" | diag; return 1; }
	fi
}

# complete_to EXPECT WORD...: completing the command line WORD... offers
# EXPECT among its candidates.
complete_to() {
	local expect=$1 reply
	shift
	reply=$(
		# shellcheck source=/dev/null
		. "$COMPLETION"
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_netbe
		printf '%s\n' "${COMPREPLY[@]}"
	)
	grep -qxF -- "$expect" <<<"$reply" || { echo "got: $reply" | diag; return 1; }
}

# patch_threads_refused N: `netbe patch --threads N` with two specs exits 2
# naming the option, before opening anything.
patch_threads_refused() {
	local rc=0
	"$NETBE" patch --threads "$1" null null >/dev/null 2>"$WORK/threads.err" || rc=$?
	[ "$rc" = 2 ] && grep -q -- "--threads" "$WORK/threads.err"
}

commands=$("$NETBE" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
check "netbe --help lists list patch probe bench vhost-user help version" \
	[ "$(tr '\n' ' ' <<<"$commands")" = "list patch probe bench vhost-user help version " ]
check "netbe --help exits 0 with usage on stdout" help_ok --help
check "netbe help exits 0 with usage on stdout" help_ok help
check "netbe with no command exits 2" [ "$("$NETBE" >/dev/null 2>&1; echo $?)" = 2 ]
check "netbe bogus-command exits 2" [ "$("$NETBE" bogus-command >/dev/null 2>&1; echo $?)" = 2 ]
for cmd in $commands; do
	check "netbe $cmd --help: usage on stdout, exit 0" help_ok "$cmd" --help
	check "netbe $cmd -h: usage on stdout, exit 0" help_ok "$cmd" -h
	check "netbe $cmd --no-such-option: usage on stderr, exit 2" usage_error "$cmd"
	check "netbe help $cmd = netbe $cmd --help" same_help "$cmd"
done
check "netbe bench tx null --help: usage on stdout, exit 0" help_ok bench tx null --help

check "netbe --version prints netbe $VERSION" [ "$("$NETBE" --version)" = "netbe $VERSION" ]
check "netbe version prints netbe $VERSION" [ "$("$NETBE" version)" = "netbe $VERSION" ]
check "netbe --version extra exits 2" [ "$("$NETBE" --version extra >/dev/null 2>&1; echo $?)" = 2 ]

for page in netbe.1 netbe-spec.7 netbe.3; do
	check "man page $page renders without warnings" man_clean "$MANDIR/$page"
	check "man page $page carries version $VERSION" grep -q "\"netbe $VERSION\"" "$MANDIR/$page"
done

check "completion: bash -n" bash -n "$COMPLETION"
check "completion: netbe pa -> patch" complete_to patch "$NETBE" pa
check "completion: netbe help vh -> vhost-user" complete_to vhost-user "$NETBE" help vh
check "completion: netbe patch --st -> --stats" complete_to --stats "$NETBE" patch --st
check "completion: netbe patch --th -> --threads" complete_to --threads "$NETBE" patch --th
check "completion: netbe patch --threads '' -> 2" complete_to 2 "$NETBE" patch --threads ""
check "netbe patch --threads 3: usage error, exit 2" patch_threads_refused 3
check "completion: netbe probe --t -> --timeout" complete_to --timeout "$NETBE" probe --t
check "completion: netbe patch ta -> tap" complete_to tap "$NETBE" patch ta
check "completion: netbe patch pair,de -> pair,depth=" complete_to pair,depth= "$NETBE" patch pair,de
check "completion: netbe patch udp,lo -> udp,local=" complete_to udp,local= "$NETBE" patch udp,lo
check "completion: netbe patch --cont -> --control" complete_to --control "$NETBE" patch --cont

# control_list SOCK EXPECT: the control socket at SOCK answers "list" with
# the handles EXPECT ("name:backend ...")
control_list() {
	timeout 10 python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"{\"execute\": \"list\"}\n")
r = json.loads(s.makefile().readline())
got = " ".join(h["name"] + ":" + h["backend"] for h in r["return"]["handles"])
print("# list: " + got)
sys.exit(0 if got == sys.argv[2] else 1)' "$1" "$2"
}

# control_serves READY EXPECT CMD...: run `netbe CMD...` (with --control
# $WORK/ctl.sock) until READY, check the list, SIGTERM it, and check that it
# exited 0 and removed the socket file.
control_serves() {
	local ready=$1 expect=$2 rc
	shift 2
	bg_start "$WORK/control.log" "$ready" 5 "$NETBE" "$@" || return 1
	control_list "$WORK/ctl.sock" "$expect"
	rc=$?
	stop_pid "$BG_PID" 5 || rc=1
	[ "$rc" = 0 ] && [ ! -e "$WORK/ctl.sock" ]
}
check "patch --control serves the ends as a and b" control_serves "patch: ready" \
	"a:pair b:null" patch --control "$WORK/ctl.sock" "pair:cli$$" null
check "vhost-user --control serves the backend as pair0" control_serves "vhost-user: ready" \
	"pair0:null" vhost-user --socket "$WORK/vu.sock" --control "$WORK/ctl.sock" null
# control_bad_path: --control on a file that is not a socket fails (exit 1)
control_bad_path() {
	"$NETBE" patch --control "$COMPLETION" null null >"$WORK/out" 2>"$WORK/err"
	[ $? = 1 ] && grep -q "not a socket" "$WORK/err"
}
check "patch --control on a path that is not a socket fails" control_bad_path
tap_done
