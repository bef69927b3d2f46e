#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Build the installed static library libnetbe.a from the internal one so that
# it defines no global symbol outside the netbe_ namespace (a program with its
# own iov_from_buf, ol_check, ... must link statically against it):
#   1. partial-link every object of the internal archive into one relocatable
#      object (calls between internal files are resolved inside it);
#   2. objcopy --localize-hidden: the internal library is compiled with
#      -fvisibility=hidden and the public API is NETBE_EXPORT (visibility
#      default), so every hidden global becomes a local symbol; the compat
#      functions behind symbol versions (netbe_compat_*, NAME@VERSION) are
#      made local too: a static program links against the current calls;
#   3. archive that one object.
# usage (meson custom_target): mkstatic.sh OUT.a INTERNAL.a
# environment: NETBE_CC (the compiler driver, words split on blanks),
#              OBJCOPY, AR (default: objcopy, ar)
set -euo pipefail
out=$1 in=$2
read -r -a cc <<< "${NETBE_CC:-cc}"
obj=${out%.a}-all.o
rm -f "$out" "$obj"
"${cc[@]}" -r -nostdlib -o "$obj" -Wl,--whole-archive "$in" -Wl,--no-whole-archive
"${OBJCOPY:-objcopy}" --localize-hidden --wildcard \
	--localize-symbol='netbe_compat_*' --localize-symbol='*@*' "$obj"
"${AR:-ar}" rcs "$out" "$obj"
rm -f "$obj"
