#!/bin/sh
# Install every Debian package cppaufs needs to build, test and demo, and
# fetch the other releases' kernels (scripts/kernels.sh).
# Idempotent: packages already present are skipped without touching apt.
#   scripts/setup.sh           what build, tests and demo need
#   scripts/setup.sh --bench   plus the FUSE unions and plotting for make bench
#   scripts/setup.sh --debug   plus what building the debug kernel needs
set -eu

PKGS="build-essential make cmake pkg-config g++ git
libmount-dev libsmartcols-dev libboost-program-options-dev catch2
linux-image-amd64 linux-headers-amd64
linux-image-6.12-amd64 linux-headers-6.12-amd64
qemu-system-x86 busybox-static kmod cpio gzip dkms
e2fsprogs xfsprogs btrfs-progs util-linux acl sparse linux-source-6.1
xz-utils zstd shellcheck openssl python3 libcap2-bin patchelf stress-ng fio
debhelper dh-dkms lintian fakeroot rpm groff mandoc bash-completion"

# make check-debug builds a kernel from linux-source-6.1.
if [ "${1:-}" = "--debug" ]; then
	PKGS="$PKGS flex bison bc libelf-dev libssl-dev"
fi
if [ "${1:-}" = "--bench" ]; then
	PKGS="$PKGS fuse3 fuse-overlayfs unionfs-fuse mergerfs python3-matplotlib"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "setup: installing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: must run as root to install packages" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The kernels of other Debian releases (5.10, the newest in sid), unpacked
# under build/kernels/ rather than installed.
"$(dirname "$0")/kernels.sh"
