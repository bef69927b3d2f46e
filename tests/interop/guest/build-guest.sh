#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# build-guest.sh OUTDIR - build the small Linux guest the interop tests boot
# under qemu-system-x86_64 (TCG): OUTDIR/vmlinuz and OUTDIR/initrd.gz.
#
# Everything comes from Debian packages, nothing is installed on the host:
#  - the kernel is Debian's cloud kernel (linux-image-cloud-amd64's versioned
#    dependency), fetched with `apt-get download` (or taken from
#    $NETBE_GUEST_KERNEL_DEB / /var/cache/apt/archives) and unpacked with
#    `dpkg-deb -x` into OUTDIR/pkg;
#  - the modules a virtio-net NIC needs (virtio_pci and virtio_mmio with
#    virtio_net and what modinfo says they depend on) are copied, in load
#    order, into the initramfs; .ko.xz/.ko.zst are decompressed here;
#  - /bin/busybox comes from busybox-static, /init is guest/init next to
#    this script (it reads netbe.* parameters from the kernel command line).
# The result is cached: a stamp records the kernel package and a hash of
# this script and init; while the hash matches, a run returns at once
# (delete OUTDIR to pick up a newer kernel).
# Concurrent runs serialise on OUTDIR.lock. Exit status: 0 built or cached,
# 1 failed (the reason is printed on stderr, one line, with what to do).
set -u

OUT=${1:?usage: build-guest.sh OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
INIT=$HERE/init
MODULES="virtio_pci virtio_mmio virtio_net"

die() { echo "build-guest: $*" >&2; exit 1; }

# need CMD PACKAGE: fail unless CMD exists
need() { command -v "$1" >/dev/null || die "$1 not found: apt-get install $2"; }

# kernel_pkg: the versioned cloud kernel package name. Prints it.
kernel_pkg() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

# fetch_kernel DIR PKG: put the kernel package PKG into DIR (or find it in
# apt's cache, or take $NETBE_GUEST_KERNEL_DEB). Prints the .deb's path.
fetch_kernel() {
	local dir=$1 pkg=$2 deb
	if [ -n "${NETBE_GUEST_KERNEL_DEB:-}" ]; then
		echo "$NETBE_GUEST_KERNEL_DEB"
		return 0
	fi
	[ -n "$pkg" ] || return 1
	deb=$(ls /var/cache/apt/archives/"${pkg}"_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		# apt's sandbox user must be able to write the download directory
		chmod 777 "$dir"
		(cd "$dir" && apt-get download -q "$pkg" >"$dir/download.log" 2>&1)
		deb=$(ls "$dir/${pkg}"_*.deb 2>/dev/null | head -n 1)
	fi
	[ -n "$deb" ] && echo "$deb"
}

# module_path MODDIR NAME: the file of module NAME (- and _ are the same).
module_path() {
	find "$1" \( -name "$2.ko*" -o -name "$(echo "$2" | tr _ -).ko*" \) | head -n 1
}

# add_module MODDIR NAME DEST ORDERFILE: copy NAME and, first, its
# dependencies (modinfo's "depends"), once each, uncompressed, into DEST;
# append load order to ORDERFILE. Return: 0 on success.
add_module() {
	local moddir=$1 name=$2 dest=$3 order=$4 f dep
	grep -qx "$name" "$order" && return 0
	f=$(module_path "$moddir" "$name")
	[ -n "$f" ] || { echo "build-guest: module $name not in the kernel package" >&2; return 1; }
	for dep in $(modinfo -F depends "$f" | tr , ' '); do
		add_module "$moddir" "$dep" "$dest" "$order" || return 1
	done
	case $f in
	*.ko.xz) xz -dc "$f" >"$dest/$name.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$dest/$name.ko" ;;
	*) cp "$f" "$dest/$name.ko" ;;
	esac || return 1
	echo "$name" >>"$order"
}

# build: the whole build into OUT (lock held). Exits on failure.
build() {
	local pkg hash have_hash deb pkgdir moddir root m vmlinuz
	need apt-get apt
	need dpkg-deb dpkg
	need modinfo kmod
	need cpio cpio
	need gzip gzip
	[ -x /bin/busybox ] && /bin/busybox --list | grep -qx udhcpc ||
		die "/bin/busybox not found: apt-get install busybox-static"
	readelf -l /bin/busybox 2>/dev/null | grep -q INTERP &&
		die "/bin/busybox is dynamically linked: apt-get install busybox-static"
	[ -r "$INIT" ] || die "$INIT missing"

	hash=$(cat "$0" "$INIT" | sha256sum | cut -c1-16)
	# up to date: built by this script with this init (the kernel package
	# is recorded but not compared: asking apt would cost a second a run)
	if [ -f "$OUT/stamp" ] && [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ]; then
		read -r _ have_hash <"$OUT/stamp"
		[ "$have_hash" = "$hash" ] && return 0
	fi
	pkg=${NETBE_GUEST_KERNEL_DEB:+$(basename "$NETBE_GUEST_KERNEL_DEB" .deb)}
	[ -n "$pkg" ] || pkg=$(kernel_pkg)
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq >/dev/null 2>&1
		pkg=$(kernel_pkg)
	fi
	rm -f "$OUT/stamp"
	rm -rf "$OUT/dl"
	mkdir -p "$OUT/dl"
	deb=$(fetch_kernel "$OUT/dl" "$pkg") ||
		die "cannot get the cloud kernel package ${pkg:-linux-image-cloud-amd64} (see $OUT/dl/download.log): run apt-get update, or set NETBE_GUEST_KERNEL_DEB=/path/to/linux-image-*-cloud-amd64.deb"

	pkgdir=$OUT/pkg
	rm -rf "$pkgdir"
	dpkg-deb -x "$deb" "$pkgdir" || die "dpkg-deb -x $deb failed"
	vmlinuz=$(ls "$pkgdir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in $deb"
	moddir=$(ls -d "$pkgdir"/lib/modules/* 2>/dev/null | head -n 1)
	[ -n "$moddir" ] || die "no /lib/modules in $deb"

	root=$OUT/root
	rm -rf "$root"
	mkdir -p "$root"/bin "$root"/dev "$root"/proc "$root"/sys "$root"/tmp \
		"$root"/lib/modules || die "cannot create $root"
	cp /bin/busybox "$root/bin/busybox" || die "cannot copy busybox"
	cp "$INIT" "$root/init" && chmod 755 "$root/init" || die "cannot copy init"
	: >"$root/lib/modules/order"
	for m in $MODULES; do
		add_module "$moddir" "$m" "$root/lib/modules" "$root/lib/modules/order" ||
			die "cannot collect kernel module $m"
	done

	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$OUT/initrd.gz.tmp" || die "cpio of $root failed"
	cp "$vmlinuz" "$OUT/vmlinuz.tmp" || die "cannot copy $vmlinuz"
	mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz" && mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz" ||
		die "cannot write $OUT"
	rm -rf "$pkgdir" "$root" "$OUT/dl"
	echo "$pkg $hash" >"$OUT/stamp"
	echo "build-guest: built $OUT/vmlinuz and $OUT/initrd.gz from $pkg" >&2
}

mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
exec 9>"$OUT.lock"
flock 9
build
