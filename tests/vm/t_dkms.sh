#!/bin/bash
# DKMS packaging: the module that `dkms add`, `dkms build` and `dkms install`
# made on the host (in isolation, see dkms_host.sh) is loaded by modprobe in
# the VM, and a union is mounted through mount(8) -t cppaufs, which runs the
# /sbin/mount.cppaufs helper installed into the VM's root.
# vm-kernels: oldest
# vm-args: --no-module --timeout 900
# vm-host-prepare: tests/vm/dkms_host.sh
. "$(dirname "$0")/lib.sh"

kver=$(uname -r)
D=$CPPAUFS_VM_DIR/dkms

section "dkms install (done on the host, see dkms_host.sh)"
# What `dkms install` and depmod wrote into /lib/modules/$kver on the host
# (an overlay there): apply it to this VM's own, throw-away /lib/modules.
run cp -a "$D/modules-upper/." "/lib/modules/$kver/"
# (No `dkms status` here: it reads and decompresses modules, which takes a
# minute under TCG; dkms_host.sh checked it.)
ko=$(modinfo -k "$kver" -n cppaufs)
assert_eq "/lib/modules/$kver/updates/dkms" "$(dirname "$ko")" "directory of $ko"

section "modprobe"
ok test ! -d /sys/module/cppaufs
run modprobe cppaufs
require_module
ok grep -qw cppaufs /proc/filesystems

section "mount(8) -t cppaufs"
if cpa_install_tools; then
	ok test -x /sbin/mount.cppaufs
else
	fail "tools not built in ${CPPAUFS_BUILD:-?}: mount(8) cannot use the helper"
fi
W=/tmp/dkms-walk
mkdir -p "$W/l1" "$W/l2" "$W/merged"
echo l1 >"$W/l1/container.txt"
echo l2 >"$W/l2/image2.txt"
cd "$W" || exit 1
run mount -v -t cppaufs -o dirs=./l1:./l2 none ./merged
_cpa_mounts+=("$W/merged")
run ls merged
assert_file_content merged/container.txt l1
assert_file_content merged/image2.txt l2
run findmnt -no FSTYPE,OPTIONS "$W/merged"
cpa_umount "$W/merged"
cd "$CPPAUFS_REPO" || exit 1

section "unload"
run modprobe -r cppaufs
ok test ! -d /sys/module/cppaufs
