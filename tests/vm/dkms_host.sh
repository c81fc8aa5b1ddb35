#!/bin/bash
# Host half of t_dkms.sh (its "vm-host-prepare" step, run by run.sh before
# the boot): `dkms add`, `dkms build -k $CPPAUFS_KVER` and `dkms install -k
# $CPPAUFS_KVER` of the working tree, natively on the host (the guest, under
# TCG, needs minutes to compile and, through 9p, minutes more for depmod).
#
# Nothing of the host changes: everything runs in a private mount namespace
# where
#   - the DKMS trees are private (--dkmstree/--sourcetree under
#     $CPPAUFS_VM_DIR/dkms, not /var/lib/dkms and /usr/src);
#   - /var/lib/dkms, where DKMS generates its module signing key, is a
#     scratch directory;
#   - /lib/modules/$CPPAUFS_KVER is an overlay whose upper layer,
#     $CPPAUFS_VM_DIR/dkms/modules-upper, catches what `dkms install` and its
#     depmod write.
# The guest copies that upper layer into its own throw-away /lib/modules
# (it sees $CPPAUFS_VM_DIR at the same path) and modprobes the module.
set -euo pipefail
: "${CPPAUFS_KVER:?}" "${CPPAUFS_REPO:?}" "${CPPAUFS_VM_DIR:?}"

if [ "${1:-}" != --in-namespace ]; then
	exec unshare -m --propagation private "$0" --in-namespace
fi

command -v dkms >/dev/null || { echo "dkms_host: dkms is not installed"; exit 1; }
src=$CPPAUFS_REPO
if [ ! -f "$src/kmod/Kbuild" ] && [ ! -f "$src/kmod/Makefile" ]; then
	echo "dkms_host: no kernel module sources in $src/kmod"
	exit 77
fi
ver=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$src/dkms.conf")
kver=$CPPAUFS_KVER
D=$CPPAUFS_VM_DIR/dkms
rm -rf "$D"
mkdir -p "$D/src/cppaufs-$ver" "$D/tree" "$D/var-lib-dkms" \
	"$D/modules-upper" "$D/modules-work"
mount --bind "$D/var-lib-dkms" /var/lib/dkms
# A kernel of another release (scripts/kernels.sh) is unpacked under
# build/kernels/<kver>, not installed: in this namespace, /lib/modules shows
# its modules, and dkms gets its headers by path.
moddir=/lib/modules/$kver
ksrc=(--kernelsourcedir "$moddir/build")
unpacked=${CPPAUFS_KERNELS_DIR:-$src/build/kernels}/$kver
if [ ! -d "$moddir" ] && [ -e "$unpacked/done" ]; then
	mkdir -p "$D/lib-modules"
	mount --bind "$D/lib-modules" /lib/modules
	mkdir -p "$moddir"
	mount --bind "$(realpath "$unpacked/modules")" "$moddir"
	ksrc=(--kernelsourcedir "$(realpath "$unpacked/build")")
fi
mount -t overlay -o "lowerdir=$moddir,upperdir=$D/modules-upper,workdir=$D/modules-work" \
	overlay "$moddir"

# The source as `dkms add` expects it (<sourcetree>/<name>-<version>), from
# the working tree (uncommitted edits included), minus build products.
# The Makefile includes mk/packages.mk.
cp -a "$src/dkms.conf" "$src/Makefile" "$src/Kbuild" "$src/kmod" "$src/include" \
	"$src/mk" "$D/src/cppaufs-$ver/"
find "$D/src/cppaufs-$ver" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
	-o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.order' -o -name '*.symvers' \
	-o -name '*.d' \) -delete

trees=(--dkmstree "$D/tree" --sourcetree "$D/src")
dkms add -m cppaufs -v "$ver" "${trees[@]}"
if ! dkms build -m cppaufs -v "$ver" -k "$kver" "${ksrc[@]}" "${trees[@]}"; then
	cat "$D/tree/cppaufs/$ver/build/make.log" 2>/dev/null || true
	exit 1
fi
dkms install -m cppaufs -v "$ver" -k "$kver" "${ksrc[@]}" "${trees[@]}"
st=$(dkms status -m cppaufs "${trees[@]}" 2>&1)
echo "$st"
grep -q "^cppaufs/$ver, $kver, .*: installed" <<<"$st" || {
	echo "dkms_host: dkms status does not say installed"
	exit 1
}
modinfo -k "$kver" -n cppaufs
