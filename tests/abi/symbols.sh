#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The libraries define nothing outside the netbe_ namespace (issue 18, item 5):
#  - libnetbe.a: no global symbol without the netbe_ prefix (undefined
#    references to libc and the backends' libraries are not counted);
#  - libnetbe.so: only netbe_* exported, each at a version node of
#    src/libnetbe.map (NETBE_0, the first ABI, or NETBE_0.1, calls added
#    since), plus the one compat alias netbe_get_stats@NETBE_0;
#  - a program with its own iov_from_buf and ol_check (names netbe uses
#    inside) links statically against libnetbe.a, with the libraries of
#    `pkg-config --static --libs netbe` (the uninstalled netbe.pc), and
#    opens and closes a null backend.
# usage: symbols.sh SRC_DIR BUILD_DIR LIBNETBE_SO LIBNETBE_A
# environment: NETBE_CC (compiler driver), NETBE_SANITIZE (meson's
# b_sanitize: the consumer is linked with the same -fsanitize=)
set -u
. "$(dirname "$0")/../lib/netns.sh"
SRC=$1 BUILD=$2 SO=$3 LIB=$4
WORK=$(mktemp -d /tmp/netbe-abi-XXXXXX)

# (a) libnetbe.a
nm -g --defined-only "$LIB" > "$WORK/a.syms" 2>"$WORK/nm.err" || diag "$WORK/nm.err"
awk 'NF >= 3 && $2 ~ /^[A-Z]$/ && $3 !~ /^netbe_/ { print $3 }' "$WORK/a.syms" > "$WORK/a.bad"
na=$(awk 'NF >= 3 && $2 ~ /^[A-Z]$/ && $3 ~ /^netbe_/' "$WORK/a.syms" | wc -l)
if [ -s "$WORK/a.bad" ] || [ "$na" = 0 ]; then
	echo "# libnetbe.a: $na netbe_ symbols; global symbols outside netbe_:"
	diag "$WORK/a.bad"
	not_ok "libnetbe.a defines no global symbol outside netbe_"
else
	ok "libnetbe.a defines no global symbol outside netbe_ ($na netbe_ symbols)"
fi

# (b) libnetbe.so: dynamic symbols defined, with their versions
nm -D --defined-only "$SO" > "$WORK/so.syms" 2>"$WORK/nm.err" || diag "$WORK/nm.err"
# the version definitions themselves show as "A NETBE_0", "A NETBE_0.1"
awk 'NF >= 3 && !($2 == "A" && $3 ~ /^NETBE_0(\.1)?$/) &&
     $3 !~ /^netbe_[A-Za-z0-9_]*@@NETBE_0(\.1)?$/ && $3 != "netbe_get_stats@NETBE_0" { print $3 }' \
	"$WORK/so.syms" > "$WORK/so.bad"
ns=$(grep -c ' netbe_[A-Za-z0-9_]*@@NETBE_0' "$WORK/so.syms")
if [ -s "$WORK/so.bad" ] || [ "$ns" = 0 ]; then
	echo "# libnetbe.so: $ns netbe_* symbols at NETBE_0 or NETBE_0.1; exported otherwise:"
	diag "$WORK/so.bad"
	not_ok "libnetbe.so exports only netbe_* at versions NETBE_0 and NETBE_0.1"
else
	ok "libnetbe.so exports only netbe_* at versions NETBE_0 and NETBE_0.1 ($ns symbols)"
fi
if grep -q ' netbe_get_stats@NETBE_0$' "$WORK/so.syms"; then
	ok "libnetbe.so keeps netbe_get_stats@NETBE_0 for programs linked against the first ABI"
else
	not_ok "libnetbe.so keeps netbe_get_stats@NETBE_0 for programs linked against the first ABI"
fi
na_names=$(awk 'NF >= 3 && $3 ~ /^netbe_/ { print $3 }' "$WORK/a.syms" | sort)
# compat aliases (NAME@VERSION, not the default @@) exist only in the .so
ns_names=$(awk '$3 ~ /^netbe_.*@@/ { sub(/@.*/, "", $3); print $3 }' "$WORK/so.syms" | sort)
if [ "$na_names" = "$ns_names" ]; then
	ok "libnetbe.a and libnetbe.so define the same netbe_ symbols"
else
	diff <(echo "$na_names") <(echo "$ns_names") | diag
	not_ok "libnetbe.a and libnetbe.so define the same netbe_ symbols"
fi

# (c) a static consumer with its own iov_from_buf and ol_check
read -r -a CC <<< "${NETBE_CC:-cc}"
san=()
[ -n "${NETBE_SANITIZE:-}" ] && [ "$NETBE_SANITIZE" != none ] && san=("-fsanitize=$NETBE_SANITIZE")
if ! libs=$(PKG_CONFIG_PATH="$BUILD/meson-uninstalled" pkg-config --static --libs netbe 2>"$WORK/pc.err"); then
	diag "$WORK/pc.err"
	fail_all "pkg-config --static --libs netbe failed (meson-uninstalled/netbe-uninstalled.pc)" \
		"a program defining iov_from_buf and ol_check links statically against libnetbe.a" \
		"the static program opens and closes a null backend"
fi
# -lnetbe would pick libnetbe.so next to libnetbe.a: name the archive
link=()
for w in $libs; do
	if [ "$w" = -lnetbe ]; then link+=("$LIB"); else link+=("$w"); fi
done
echo "# ${CC[*]} ${san[*]} -I$SRC/include static-consumer.c ${link[*]}"
if "${CC[@]}" "${san[@]}" -std=gnu11 -Wall -Wextra -Werror -I"$SRC/include" \
	-o "$WORK/static-consumer" "$SRC/tests/abi/static-consumer.c" "${link[@]}" \
	> "$WORK/cc.log" 2>&1; then
	ok "a program defining iov_from_buf and ol_check links statically against libnetbe.a"
	if "$WORK/static-consumer" > "$WORK/run.log" 2>&1; then
		ok "the static program opens and closes a null backend"
	else
		diag "$WORK/run.log"
		not_ok "the static program opens and closes a null backend"
	fi
else
	diag "$WORK/cc.log"
	not_ok "a program defining iov_from_buf and ol_check links statically against libnetbe.a"
	skip "the static program opens and closes a null backend" "it did not link"
fi
tap_done
