#!/bin/bash
# Build the Debian packages (debian/) and check them the way a user gets them:
#  1. dpkg-buildpackage -us -uc -b in a scratch copy of the tree (git archive
#     of the tracked files, uncommitted edits included), so the worktree stays
#     clean and every artefact lands in a temporary directory;
#  2. unpack libnetbe0, libnetbe-dev and netbe with dpkg-deb -x into a clean
#     root (nothing is installed system-wide);
#  3. compile a consumer against that root with pkg-config, linked to the
#     shared library and (pkg-config --static) to libnetbe.a, and run it: it
#     opens "null" and closes it; run the packaged CLI;
#  4. lintian on the .changes: any error fails.
# Prints TAP; the last line is "N passed, M failed, K skipped" (the closing
# count .ci/run adds up) unless --tap-only (meson test: TAP lines only).
# Needs dpkg-dev, debhelper, lintian and the Build-Depends (scripts/setup.sh).
# usage: scripts/deb-check.sh [--tap-only]   NETBE_DEB_KEEP=1 keeps the
#        temporary directory (its path is printed) for inspection.
set -uo pipefail
TAP_ONLY=0
[ "${1:-}" = --tap-only ] && TAP_ONLY=1
cd "$(dirname "$0")/.."
SRC=$PWD
n=0 passed=0 failed=0 skipped=0
ok()   { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $1"; }
nok()  { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
comment() { sed 's/^/# /'; }
finish() {
	echo "1..$n"
	[ $TAP_ONLY = 1 ] || echo "$passed passed, $failed failed, $skipped skipped"
	[ $failed = 0 ]
	exit
}
PKGS=(libnetbe0 libnetbe-dev netbe)
STEPS=("build the packages" "the three packages are built" "unpack into a clean root"
       "the packages hold the library, headers, .so link, libnetbe.a, netbe.pc, the CLI"
       "debian/changelog version is meson.build's project version"
       "consumer compiles and links against the root with pkg-config"
       "consumer opens null and closes it, with the packaged library"
       "consumer links statically with pkg-config --static"
       "static consumer opens null and closes it"
       "the packaged CLI runs (netbe list)"
       "lintian: no errors")
skip_all() { local s; for s in "${STEPS[@]}"; do skip "$s" "$1"; done; finish; }

if [ -n "${NETBE_TEST_SANITIZED:-}" ]; then
	skip_all "the packages do not depend on the build under test; checked in the plain run"
fi
for t in dpkg-buildpackage dh lintian git gcc pkg-config; do
	command -v $t >/dev/null || skip_all "$t not installed (scripts/setup.sh installs it)"
done
git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1 || skip_all "not a git checkout"

TMP=$(mktemp -d /tmp/netbe-deb-check.XXXXXX)
if [ -n "${NETBE_DEB_KEEP:-}" ]; then echo "# keeping $TMP"; else trap 'rm -rf "$TMP"' EXIT; fi
VER=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" meson.build | head -1)
TREE=$TMP/netbe-$VER
mkdir -p "$TREE" "$TMP/root"

# 1. build, from the tracked files as they are now (a stash commit when the
#    tree has edits, HEAD otherwise); the worktree is not touched
rev=$(git -C "$SRC" stash create 2>/dev/null); rev=${rev:-HEAD}
start=$SECONDS
if git -C "$SRC" archive "$rev" | tar -x -C "$TREE" &&
   (cd "$TREE" && dpkg-buildpackage -us -uc -b) >"$TMP/build.log" 2>&1; then
	ok "build the packages ($((SECONDS - start)) s)"
else
	tail -40 "$TMP/build.log" | comment
	nok "build the packages"
fi
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
DEBVER=$(dpkg-parsechangelog -l "$TREE/debian/changelog" -SVersion 2>/dev/null)
debs=()
for p in "${PKGS[@]}"; do debs+=("$TMP/${p}_${DEBVER}_${ARCH}.deb"); done
all_built() { local d; for d in "${debs[@]}"; do [ -f "$d" ] || { echo "# missing $d"; return 1; }; done; }
check "the three packages are built (${PKGS[*]} $DEBVER)" all_built

# 2. unpack into a clean root
unpack() { local d; for d in "${debs[@]}"; do dpkg-deb -x "$d" "$TMP/root" || return 1; done; }
check "unpack into a clean root" unpack
R=$TMP/root
L=$R/usr/lib/$MA
for p in "${PKGS[@]}"; do
	[ -f "$TMP/${p}_${DEBVER}_${ARCH}.deb" ] &&
		dpkg-deb -c "$TMP/${p}_${DEBVER}_${ARCH}.deb" | awk '{print "#   '"$p"': " $6 ($7 ? " " $7 " " $8 : "")}' | grep -v '/$'
done
contents() {
	local f
	for f in usr/include/netbe.h usr/include/netbe-virtio.h "usr/lib/$MA/libnetbe.a" \
		 "usr/lib/$MA/pkgconfig/netbe.pc" usr/bin/netbe; do
		[ -f "$R/$f" ] || { echo "# missing $f"; return 1; }
	done
	[ -L "$L/libnetbe.so" ] && [ -e "$L/libnetbe.so" ] || { echo "# libnetbe.so is not a working link"; return 1; }
	[ -e "$L/libnetbe.so.0" ] || { echo "# missing libnetbe.so.0"; return 1; }
}
check "the packages hold the library, headers, .so link, libnetbe.a, netbe.pc, the CLI" contents
check "debian/changelog version ($DEBVER) is meson.build's project version ($VER)" \
	test "${DEBVER%-*}" = "$VER"

# 3. a consumer, built the way a user of libnetbe-dev builds one
cat >"$TMP/consumer.c" <<'EOF'
#include <stdio.h>
#include <netbe.h>

int main(void)
{
	struct netbe_epoll *ep;
	struct netbe *be;
	int r = netbe_epoll_new(&ep);

	if (r < 0) {
		fprintf(stderr, "netbe_epoll_new: %d\n", r);
		return 1;
	}
	r = netbe_open(&be, "null", NULL, netbe_epoll_loop(ep));
	if (r < 0) {
		fprintf(stderr, "netbe_open(null): %s\n", netbe_last_error());
		return 1;
	}
	netbe_close(be);
	netbe_epoll_free(ep);
	puts("consumer: opened null and closed it");
	return 0;
}
EOF
export PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_PATH=$L/pkgconfig
build_consumer() {
	local flags
	flags=$(pkg-config --cflags --libs netbe) || return 1
	echo "# pkg-config --cflags --libs netbe: $flags"
	# only what pkg-config says: PKG_CONFIG_SYSROOT_DIR turns netbe.pc's
	# /usr/include and /usr/lib/$MA into the root's (it prefixes slirp's and
	# glib's -I too, which netbe.h does not need)
	gcc -Wall -Werror -o "$TMP/consumer" "$TMP/consumer.c" $flags 2>&1 | comment
	[ "${PIPESTATUS[0]}" = 0 ]
}
check "consumer compiles and links against the root with pkg-config" build_consumer
run_consumer() {
	local lib
	[ -x "$TMP/consumer" ] || return 1
	lib=$(LD_LIBRARY_PATH=$L ldd "$TMP/consumer" | awk '/libnetbe\.so/ {print $3}')
	echo "# libnetbe resolves to $lib"
	[ "$lib" = "$L/libnetbe.so.0" ] || return 1
	LD_LIBRARY_PATH=$L "$TMP/consumer" 2>&1 | comment
	[ "${PIPESTATUS[0]}" = 0 ]
}
check "consumer opens null and closes it, with the packaged library" run_consumer
build_static() {
	local flags
	flags=$(pkg-config --static --cflags --libs netbe) || return 1
	echo "# pkg-config --static --cflags --libs netbe: $flags"
	# libnetbe.a itself, the libraries it needs (Requires.private) shared
	flags=${flags/-lnetbe/-Wl,-Bstatic -lnetbe -Wl,-Bdynamic}
	gcc -Wall -Werror -o "$TMP/consumer-static" "$TMP/consumer.c" $flags 2>&1 | comment
	[ "${PIPESTATUS[0]}" = 0 ]
}
check "consumer links statically with pkg-config --static (libnetbe.a)" build_static
run_static() {
	[ -x "$TMP/consumer-static" ] || return 1
	if ldd "$TMP/consumer-static" | grep -q libnetbe; then echo "# still linked to libnetbe.so"; return 1; fi
	"$TMP/consumer-static" 2>&1 | comment
	[ "${PIPESTATUS[0]}" = 0 ]
}
check "static consumer opens null and closes it" run_static
run_cli() {
	[ -x "$R/usr/bin/netbe" ] || return 1
	LD_LIBRARY_PATH=$L "$R/usr/bin/netbe" list >"$TMP/list.out" 2>&1 || { comment <"$TMP/list.out"; return 1; }
	grep -q null "$TMP/list.out"
}
check "the packaged CLI runs (netbe list)" run_cli

# 4. lintian: errors fail, warnings and infos are printed
changes=$TMP/netbe_${DEBVER}_${ARCH}.changes
if [ -f "$changes" ]; then
	lintian --fail-on error --display-info "$changes" >"$TMP/lintian.out" 2>&1
	lrc=$?
	grep -v 'running with root privileges' "$TMP/lintian.out" | comment
	if [ $lrc = 0 ]; then ok "lintian: no errors"; else nok "lintian: no errors"; fi
else
	nok "lintian: no errors (no .changes to check)"
fi
finish
