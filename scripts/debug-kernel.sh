#!/bin/bash
# Build (once, cached) a debug kernel for the VM tests from Debian's
# linux-source-6.1: KASAN, lockdep (PROVE_LOCKING), kmemleak and
# debugobjects, with everything the rig needs built in (virtio, 9p,
# overlayfs, ext4, xfs, btrfs, tmpfs, loop).  It is laid out like the
# kernels scripts/kernels.sh unpacks, under build/debug-kernels/<kver>/
# (root/, vmlinuz, modules, build, done), so scripts/vm/run.sh boots it with
# CPPAUFS_KERNELS_DIR=build/debug-kernels.
#
#   scripts/debug-kernel.sh           build if needed, print the kernel version
#
# A build takes 15-25 minutes on two cores.  The cache key is the source
# package's version and this script's own contents.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${CPPAUFS_DEBUG_KERNELS_DIR:-$REPO/build/debug-kernels}
TARBALL=$(find /usr/src -maxdepth 1 -name 'linux-source-6.1.tar.*' | head -n 1)
LOCALVERSION=-cppaufs-debug

say() { echo "debug-kernel: $*" >&2; }

[ -n "$TARBALL" ] || { say "linux-source-6.1 is not installed (scripts/setup.sh)"; exit 1; }
key=$( {
	dpkg-query -W -f='${Version}\n' linux-source-6.1
	sha256sum "${BASH_SOURCE[0]}"
} | sha256sum | cut -d' ' -f1)

if [ -r "$OUT/key" ] && [ "$(cat "$OUT/key")" = "$key" ] &&
    [ -e "$OUT/current" ]; then
	cat "$OUT/current"
	exit 0
fi

src=$OUT/src
obj=$OUT/obj
mkdir -p "$OUT"
if [ ! -f "$src/Makefile" ]; then
	say "unpacking $TARBALL"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xf "$TARBALL" -C "$src.tmp" --strip-components=1
	mv "$src.tmp" "$src"
fi

# Options: what the rig's guest needs, built in, and the debug facilities.
ENABLE=(
	# boot: qemu's PVH entry, serial console, initramfs, devtmpfs
	PVH SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD DEVTMPFS
	DEVTMPFS_MOUNT PROC_FS SYSFS TMPFS TMPFS_POSIX_ACL TMPFS_XATTR
	RANDOM_TRUST_CPU UNIX NAMESPACES USER_NS FHANDLE
	# the host root over virtio-9p, the overlay root, scratch disks
	VIRTIO VIRTIO_PCI VIRTIO_BLK NET_9P NET_9P_VIRTIO 9P_FS
	9P_FS_POSIX_ACL OVERLAY_FS BLK_DEV_LOOP
	# branch file systems and what tests use of them
	EXT4_FS EXT4_FS_POSIX_ACL EXT4_FS_SECURITY XFS_FS XFS_POSIX_ACL
	BTRFS_FS BTRFS_FS_POSIX_ACL FS_POSIX_ACL FANOTIFY
	FANOTIFY_ACCESS_PERMISSIONS INOTIFY_USER FUSE_FS
	# the module under test
	MODULES MODULE_UNLOAD KALLSYMS KALLSYMS_ALL
	# the debug facilities
	DEBUG_FS KASAN KASAN_GENERIC KASAN_OUTLINE PROVE_LOCKING
	DEBUG_KMEMLEAK DEBUG_OBJECTS DEBUG_OBJECTS_FREE DEBUG_OBJECTS_TIMERS
	DEBUG_OBJECTS_WORK DEBUG_OBJECTS_RCU_HEAD DEBUG_OBJECTS_PERCPU_COUNTER
	DEBUG_LIST DEBUG_ATOMIC_SLEEP DEBUG_VM
)
DISABLE=(
	# kmemleak scans are started by the rig, at the end of each test
	DEBUG_KMEMLEAK_AUTO_SCAN DEBUG_KMEMLEAK_DEFAULT_OFF
	# nothing needs them, and they slow the build
	DEBUG_INFO DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT DEBUG_INFO_BTF
	DRM SOUND USB_SUPPORT WLAN WIRELESS HID INPUT_JOYSTICK
	MODULE_SIG RANDOMIZE_BASE
)

say "configuring"
mkdir -p "$obj"
make -s -C "$src" O="$obj" x86_64_defconfig
args=()
for o in "${ENABLE[@]}"; do
	[[ $o == \#* ]] && continue
	args+=(-e "$o")
done
for o in "${DISABLE[@]}"; do args+=(-d "$o"); done
"$src/scripts/config" --file "$obj/.config" "${args[@]}" \
	--set-val DEBUG_OBJECTS_ENABLE_DEFAULT 1 \
	--set-val DEBUG_KMEMLEAK_MEM_POOL_SIZE 65536 \
	--set-str LOCALVERSION "$LOCALVERSION" -d LOCALVERSION_AUTO
make -s -C "$src" O="$obj" olddefconfig
# Every option asked for must have survived olddefconfig's dependencies.
missing=()
for o in "${ENABLE[@]}"; do
	grep -q "^CONFIG_$o=y" "$obj/.config" || missing+=("$o")
done
[ ${#missing[@]} -eq 0 ] || { say "options not set: ${missing[*]}"; exit 1; }

say "building (about 15-25 minutes on two cores)"
nice make -s -C "$src" O="$obj" -j"$(nproc)" bzImage modules
kver=$(make -s -C "$src" O="$obj" kernelrelease)
dir=$OUT/$kver
rm -rf "$dir"
mkdir -p "$dir/root/boot"
make -s -C "$src" O="$obj" INSTALL_MOD_PATH="$dir/root" modules_install
cp "$obj/arch/x86/boot/bzImage" "$dir/root/boot/vmlinuz-$kver"
ln -sfn "root/boot/vmlinuz-$kver" "$dir/vmlinuz"
ln -sfn "root/lib/modules/$kver" "$dir/modules"
ln -sfn "$(realpath --relative-to="$dir" "$obj")" "$dir/build"
echo debug >"$dir/done"
echo "$kver" >"$OUT/current"
echo "$key" >"$OUT/key"
say "$kver ready in ${dir#"$REPO"/}"
echo "$kver"
