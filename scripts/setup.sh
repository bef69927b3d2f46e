#!/bin/bash
# Install what netbe needs to build and test on Debian 12, then build it.
# Idempotent: packages already present are skipped, an existing build
# directory is reconfigured. Needs root for apt-get (run it with sudo).
# usage: scripts/setup.sh [--bench] [BUILD_DIR]   (default: build)
#   --bench  also install the peers bench/suite.sh compares against (DPDK
#            testpmd with its af_xdp/af_packet drivers, slirp4netns);
#            opt-in: CI and the tests do not need them
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=0
[ "${1:-}" = --bench ] && { BENCH=1; shift; }
BUILD=${1:-build}
PKGS=(gcc clang libclang-rt-14-dev meson ninja-build pkg-config libslirp-dev
      libglib2.0-dev iproute2 iputils-ping iperf3 ethtool procps util-linux
      python3 valgrind kmod passt busybox-static tshark tcpdump qemu-system-x86 cpio
      xz-utils libxdp-dev libbpf-dev abigail-tools libvdeplug-dev vde2
      dpdk-dev librte-bus-vdev23 librte-mempool-ring23 librte-net-virtio23
      librte-net-vhost23 librte-net-null23
      git build-essential dpkg-dev debhelper lintian)
# libvdeplug-dev: the vde backend; vde2: vde_switch and vde_plug, its peers
# in the tests (tests/interop/vde.sh, the conformance suite).
# abigail-tools: abidw/abidiff for the ABI check (tests/abi/abidiff.sh,
# scripts/abi-update.sh).
# dpdk-dev (dpdk-testpmd is in it) and the drivers it loads at run time for the vhost-user
# tests (tests/interop/vhost-user-*.sh, bench/vhost-user.sh): the vdev bus,
# the ring mempool, virtio_user (a frontend without a VM), the vhost PMD (the
# reference device) and the null PMD (a sink); dpdk only recommends them.
# git .. lintian: scripts/deb-check.sh (the 'package' test) builds debian/
# with dpkg-buildpackage (no fakeroot: Rules-Requires-Root: no) and lints it
[ $BENCH = 1 ] && PKGS+=(librte-net-af-packet23 librte-net-af-xdp23 slirp4netns)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  [ "$(id -u)" = 0 ] || { echo "setup: need root to install packages (run with sudo)" >&2; exit 1; }
  # tshark asks whether non-root users may capture: answer no, unattended
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
reconf=(); [ -d "$BUILD" ] && reconf=(--reconfigure)
meson setup "${reconf[@]}" "$BUILD" --werror > "$BUILD.setup.log" 2>&1 || { cat "$BUILD.setup.log" >&2; exit 1; }
sed -n '/Backends/,/^$/p' "$BUILD.setup.log"
rm -f "$BUILD.setup.log"
ninja -C "$BUILD" >/dev/null
echo "setup: built $BUILD/tools/netbe and $BUILD/libnetbe.so"
