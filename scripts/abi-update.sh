#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Regenerate the ABI baseline abi/libnetbe.abi from a build's libnetbe.so
# (abidw from abigail-tools; scripts/setup.sh installs it).
# usage: scripts/abi-update.sh [BUILD_DIR]   (default: build; a gcc build
#        with debug information, e.g. the default debugoptimized one)
#
# The test abi-baseline (tests/abi/abidiff.sh) compares each build against
# this baseline with abidiff and fails only on an incompatible change
# (abidiff exit bit 8: a symbol removed, a type or a signature changed).
# Additions (new netbe_* functions, exit bit 4 alone) are compatible and
# pass, so the baseline need not be regenerated for each new call; do it
#  - when the soname moves after an incompatible change (bump soversion in
#    meson.build, add a version node to src/libnetbe.map, run this script);
#  - when a release fixes the ABI it promises (additions included), so that
#    removing one of the added calls later fails the test.
# Commit abi/libnetbe.abi with the change that needed it.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
command -v abidw >/dev/null || { echo "abi-update: abidw not found: apt-get install abigail-tools" >&2; exit 1; }
so=$(readlink -f "$BUILD/libnetbe.so")
[ -f "$so" ] || { echo "abi-update: no $BUILD/libnetbe.so (build first: ninja -C $BUILD)" >&2; exit 1; }
readelf -S "$so" | grep -q '\.debug_info' ||
	{ echo "abi-update: $so has no debug information (use a debug or debugoptimized build)" >&2; exit 1; }
mkdir -p abi
abidw --headers-dir include --no-corpus-path --no-comp-dir-path --no-show-locs \
	--drop-undefined-syms --no-elf-needed --out-file abi/libnetbe.abi "$so"
echo "abi-update: abi/libnetbe.abi from $so ($(grep -c '<elf-symbol ' abi/libnetbe.abi) symbols," \
	"soname $(sed -n "s/.*soname='\([^']*\)'.*/\1/p" abi/libnetbe.abi | head -1))"
