#!/bin/bash
# Debian packages: `apt-get install ./cppaufs-*.deb`, an upgrade of
# cppaufs-dkms and a purge, in a throw-away root on the host (deb_host.sh
# explains why there and checks the package side: DKMS builds for this
# kernel, the rebuild on upgrade, nothing left after the purge).  Here, for
# the installed and the upgraded state: what the packages and DKMS put in
# /lib/modules/<kver> and the files of cppaufs-tools go into this VM's
# throw-away root, `modprobe cppaufs` loads the module DKMS built, and
# mount(8) -t cppaufs mounts a union through the packaged
# /sbin/mount.cppaufs; the packaged auctl shows it.
# vm-kernels: newest
# vm-args: --no-module --timeout 900
# vm-host-prepare: tests/vm/deb_host.sh
. "$(dirname "$0")/lib.sh"

kver=$(uname -r)
D=$CPPAUFS_VM_DIR/deb

section "host: install, upgrade and purge in a throw-away root (deb_host.sh)"
if [ -s "$D/host-results" ]; then
	while IFS= read -r line; do
		case $line in
		"ok: "*) pass "host: ${line#ok: }" ;;
		"FAIL: "*) fail "host: ${line#FAIL: }" ;;
		esac
	done <"$D/host-results"
else
	fail "no results from deb_host.sh in $D/host-results"
fi

W=/tmp/deb-walk
for state in install upgrade; do
	S=$D/state-$state
	section "$state ($(cat "$S/version" 2>/dev/null)): modprobe, mount(8) -t cppaufs"
	if [ ! -s "$S/module-path" ]; then
		fail "no $state state from deb_host.sh"
		continue
	fi
	# Over what the previous state left: the same paths, new content.
	run cp -a "$S/modules/." "/lib/modules/$kver/"
	run cp -a "$S/root/." /
	ko=$(modinfo -k "$kver" -n cppaufs)
	assert_eq "/lib/modules/$kver/$(cat "$S/module-path")" "$ko" "module modprobe uses"
	assert_eq "$(cat "$S/module-sha256")" "$(sha256sum <"$ko" | cut -d' ' -f1)" \
		"sha256 of $ko (the one DKMS installed)"
	assert_eq "$(cat "$S/helper-sha256")" \
		"$(sha256sum </sbin/mount.cppaufs | cut -d' ' -f1)" \
		"sha256 of /sbin/mount.cppaufs (the packaged helper)"

	ok test ! -d /sys/module/cppaufs
	run modprobe cppaufs
	require_module

	rm -rf "$W"
	mkdir -p "$W/l1" "$W/l2" "$W/merged"
	echo l1 >"$W/l1/top.txt"
	echo l2 >"$W/l2/lower.txt"
	cd "$W" || exit 1
	run mount -v -t cppaufs -o dirs=./l1:./l2 none ./merged
	_cpa_mounts+=("$W/merged")
	assert_file_content merged/top.txt l1
	assert_file_content merged/lower.txt l2
	run rm merged/lower.txt
	ok test -f l1/.wh.lower.txt
	ok test -f l2/lower.txt
	run auctl list
	assert_eq "$W/merged" "$(auctl list -n -r -o TARGET)" "auctl list"
	assert_eq "$W/l1 rw
$W/l2 ro" "$(auctl show -n -r -o PATH,PERM "$W/merged")" "auctl show"
	cpa_umount "$W/merged"
	cd "$CPPAUFS_REPO" || exit 1

	run modprobe -r cppaufs
	ok test ! -d /sys/module/cppaufs
done
