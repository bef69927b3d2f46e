#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# libnetbe.so against the committed ABI baseline abi/libnetbe.abi (issue 18,
# item 6), with abidiff from abigail-tools (scripts/setup.sh installs it).
# abidiff's exit status is a bit set: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible ABI change. Only 8 (or an error) fails: additions (new
# netbe_* calls) are compatible and pass with the report as TAP comments;
# scripts/abi-update.sh regenerates the baseline (when to: see there).
# A build whose soname differs from the baseline's (the soname moved) is not
# compared: it passes with a note to regenerate the baseline.
# usage: abidiff.sh SRC_DIR LIBNETBE_SO
set -u
. "$(dirname "$0")/../lib/netns.sh"
SRC=$1 SO=$2
BASE=$SRC/abi/libnetbe.abi
NAME="libnetbe.so has no incompatible change against abi/libnetbe.abi"
WORK=$(mktemp -d /tmp/netbe-abidiff-XXXXXX)

if ! command -v abidiff >/dev/null; then
	fail_all "abidiff not found: apt-get install abigail-tools (scripts/setup.sh installs it)" "$NAME"
fi
[ -f "$BASE" ] || fail_all "no baseline $BASE: run scripts/abi-update.sh" "$NAME"
# without DWARF abidiff compares symbol names only: not an ABI check
readelf -S "$SO" 2>/dev/null | grep -q '\.debug_info' ||
	skip_all "$SO has no debug information (a release build); the check needs -g" "$NAME"
soname=$(readelf -d "$SO" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
base_soname=$(sed -n "1s/.*soname='\([^']*\)'.*/\1/p" "$BASE")
if [ "$soname" != "$base_soname" ]; then
	echo "# the soname moved: $base_soname in the baseline, $soname built;"
	echo "# regenerate the baseline with scripts/abi-update.sh"
	ok "$NAME # soname moved ($base_soname -> $soname), not compared"
	tap_done
fi
abidiff --headers-dir2 "$SRC/include" --no-show-locs "$BASE" "$SO" > "$WORK/report" 2>&1
rc=$?
echo "# abidiff exit status $rc (1 error, 2 usage, 4 change, 8 incompatible change)"
diag "$WORK/report"
if [ $((rc & 3)) != 0 ]; then
	not_ok "$NAME (abidiff failed)"
elif [ $((rc & 8)) != 0 ]; then
	echo "# an incompatible ABI change: keep the old ABI, or move the soname"
	echo "# (soversion in meson.build) and run scripts/abi-update.sh"
	not_ok "$NAME"
elif [ $((rc & 4)) != 0 ]; then
	echo "# compatible changes only (additions): the baseline may be refreshed"
	echo "# with scripts/abi-update.sh when the ABI is released"
	ok "$NAME (compatible additions)"
else
	ok "$NAME"
fi
tap_done
