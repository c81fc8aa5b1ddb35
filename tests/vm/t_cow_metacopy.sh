#!/bin/bash
# vm-args: --timeout 900
# Metadata-only copy-up: chmod, chown, utimes and setting an xattr of a
# lower regular file copy its attributes to the writable branch, not its
# data (0 blocks there, the mark trusted.cppaufs.metacopy), while the union
# shows the same content, size and block count as before, also after a
# remount.  The first write, truncation, O_TRUNC open, rename, link or
# rename of the directory holding it copies the data and drops the mark,
# keeping mode, set-id bits, file capabilities, times and holes.
# Hard-linked and empty files are copied whole, as is everything with
# nometacopy (which shows in /proc/mounts and may change on remount).  A marked file on a
# lower branch reads its data from further down; a marked file whose data
# is gone gives EIO.  The mark never shows through the union.  Run on
# tmpfs, ext4, xfs and btrfs (the last two: the data paths only).
. "$(dirname "$0")/lib.sh"
require_module
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

PY=/usr/bin/python3
MARK=trusted.cppaufs.metacopy

# setx NAME VALUE FILE: set an extended attribute (no attr(1) needed)
setx() {
	"$PY" -c 'import os, sys
os.setxattr(sys.argv[3], sys.argv[1], sys.argv[2].encode())' "$@"
}
# xattr NAME FILE: the value of an extended attribute, or its errno name.
xattr() {
	"$PY" -c 'import errno, os, sys
try:
    print(os.getxattr(sys.argv[2], sys.argv[1]).decode())
except OSError as e:
    print(errno.errorcode[e.errno])' "$1" "$2"
}
# marked FILE: does the branch file carry the metacopy mark?
marked() { [ "$(xattr "$MARK" "$1")" = "" ]; }
blocks() { stat -c %b -- "$1"; }
# a lower file of N KiB of random data, with a reference copy in $REF
mkdata() {
	head -c "$(($2 * 1024))" /dev/urandom >"$1"
	cp -- "$1" "$REF/${1##*/}"
}
# the branch file holds metadata only, the union shows the reference data
assert_meta() {
	local name=$1
	ok marked "u/$name"
	assert_eq 0 "$(blocks "u/$name")" "blocks of u/$name"
	ok cmp "m/$name" "$REF/$name"
	assert_eq "$(blocks "l2/$name")" "$(blocks "m/$name")" "blocks of m/$name"
}
# the branch file holds the data, unmarked
assert_whole() {
	local name=$1
	ok test "$(xattr "$MARK" "u/$name")" = ENODATA
	ok test "$(blocks "u/$name")" -gt 0
}

metacopy_on() {
	local fs=$1 T=/tmp/mc-$1
	mkfs_loop "$fs" "$T"
	cd "$T" || return 1
	mkdir u l2 l3 m u2 m2 ref
	REF=$T/ref
	for f in chmod chown utimes xattr remount write trunc otrunc mv ln dmv \
		suid caps mmap chain lost nometa; do
		mkdata "l2/$f" 256
	done
	mkdir l2/dir && mkdata l2/dir/inner 64
	mkdata l2/linked 64 && ln l2/linked l2/linked2
	: >l2/empty
	# 8 MiB with 64 KiB of data at 4 MiB: the rest is holes
	truncate -s 8M l2/sparse
	head -c 65536 /dev/urandom | dd of=l2/sparse bs=64k seek=64 conv=notrunc status=none
	cp --sparse=always l2/sparse "$REF/sparse"
	chmod 4755 l2/suid
	chmod 0755 l2/caps && setcap cap_net_raw+ep l2/caps
	mkdata l3/deep 128
	# (l2/lost is moved behind the union's back below, changing l2 itself)
	snap() { find l2 l3 -mindepth 1 ! -name lost -printf '%p %y %s %m %U:%G %T@ %C@ %n\n' | LC_ALL=C sort; }
	snap >"$T/lower.before"
	run cpa_mount m ./u:./l2:./l3

	section "$fs: attribute changes copy no data"
	run chmod 0600 m/chmod
	assert_meta chmod
	assert_eq 600 "$(stat -c %a m/chmod)" "mode through the union"
	run chown 1:2 m/chown
	assert_meta chown
	assert_eq 1:2 "$(stat -c %u:%g m/chown)" "owner through the union"
	# (touch(1) opens the file for writing, which copies the data)
	run "$PY" -c 'import os; os.utime("m/utimes", (1000000000, 1000000000))'
	assert_meta utimes
	assert_eq 1000000000 "$(stat -c %Y m/utimes)" "mtime through the union"
	run setx trusted.t one m/xattr
	assert_meta xattr
	assert_eq one "$(xattr trusted.t m/xattr)" "xattr through the union"
	assert_eq "$(stat -c %s l2/chmod)" "$(stat -c %s m/chmod)" "size through the union"

	section "$fs: the mark is the union's own"
	assert_eq ENODATA "$(xattr "$MARK" m/chmod)" "the mark read through the union"
	ok test -z "$("$PY" -c 'import os, sys; print(*[n for n in os.listxattr(sys.argv[1]) if "cppaufs" in n])' m/xattr)"
	assert_fails_with "Operation not permitted" setx "$MARK" x m/chmod
	assert_fails_with "Operation not permitted" setx trusted.cppaufs.other x m/chown

	section "$fs: a remount reads the data below, same inode number"
	run chmod 0640 m/remount
	local ino
	ino=$(stat -c %i m/remount)
	run cpa_umount m
	run cpa_mount m ./u:./l2:./l3
	assert_meta remount
	assert_eq "$ino" "$(stat -c %i m/remount)" "inode number after remount"
	assert_eq 640 "$(stat -c %a m/remount)" "mode after remount"

	section "$fs: writes copy the data, then drop the mark"
	run chmod 0604 m/write
	run "$PY" -c 'import os; os.utime("m/write", (1200000000, 1200000000))'
	run_sh ": >> m/write"
	assert_whole write
	assert_eq 1200000000 "$(stat -c %Y m/write)" "mtime after the data copy"
	ok cmp m/write ref/write
	run_sh "printf tail >> m/write"
	assert_whole write
	run_sh "cat ref/write > ref/write.exp && printf tail >> ref/write.exp"
	ok cmp m/write ref/write.exp
	ok cmp u/write ref/write.exp
	assert_eq 604 "$(stat -c %a m/write)" "mode after the data copy"
	run chmod 0600 m/trunc
	run truncate -s 1000 m/trunc
	assert_whole trunc
	ok cmp m/trunc <(head -c 1000 ref/trunc)
	run chmod 0600 m/otrunc
	run_sh ": > m/otrunc"
	ok test "$(xattr "$MARK" u/otrunc)" = ENODATA
	assert_eq 0 "$(stat -c %s m/otrunc)" "size after O_TRUNC"

	section "$fs: rename, link and directory rename take the data along"
	run chmod 0600 m/mv
	run mv m/mv m/mv2
	ok cmp m/mv2 ref/mv
	assert_whole mv2
	ok test -e u/.wh.mv
	run chmod 0600 m/ln
	run ln m/ln m/ln2
	ok cmp m/ln ref/ln
	ok cmp m/ln2 ref/ln
	ok test "$(xattr "$MARK" u/ln)" = ENODATA
	run chmod 0600 m/dir/inner
	ok marked u/dir/inner
	run mv m/dir m/dir2
	ok cmp m/dir2/inner ref/inner
	ok test "$(xattr "$MARK" u/dir2/inner)" = ENODATA
	ok test "$(blocks u/dir2/inner)" -gt 0

	section "$fs: set-id bits and file capabilities survive the data copy"
	run chmod 4750 m/suid
	assert_meta suid
	run_sh "printf x >> m/suid"
	assert_eq 4750 "$(stat -c %a m/suid)" "mode of the setuid file after the data copy"
	run chmod 0750 m/caps
	assert_meta caps
	ok getcap m/caps
	assert_eq cap_net_raw=ep "$(getcap m/caps | awk '{print $2}')" "capabilities before the write"
	# an open for writing copies the data; a write would drop them, as anywhere
	run_sh ": >> m/caps"
	assert_whole caps
	assert_eq cap_net_raw=ep "$(getcap m/caps | awk '{print $2}')" "capabilities after the data copy"
	ok cmp m/caps ref/caps

	# What follows does not depend on the branch file system: xfs and btrfs
	# (run on the newest kernel only) skip it, which keeps the suite short.
	if [ "$fs" = tmpfs ] || [ "$fs" = ext4 ]; then
		section "$fs: mmap of a metadata-only copy reads the data"
		run chmod 0600 m/mmap
		ok "$PY" -c 'import mmap, sys
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "rb") as r:
    assert mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)[:] == r.read()' m/mmap ref/mmap
		run chmod 0600 m/deep
		ok marked u/deep
		ok cmp m/deep ref/deep

		section "$fs: linked and empty files are copied whole"
		run chmod 0600 m/linked
		assert_whole linked
		ok cmp m/linked2 ref/linked
		run chmod 0600 m/empty
		assert_eq ENODATA "$(xattr "$MARK" u/empty)" "mark of an empty file"

		section "$fs: the holes of a sparse file stay holes in its copy"
		run_sh ": >> m/sparse"
		assert_whole sparse
		ok cmp m/sparse ref/sparse
		ok cmp u/sparse ref/sparse
		# 64 KiB of data: 128 blocks of 512 bytes, far below the 16384 of 8 MiB
		ok test "$(blocks u/sparse)" -lt 2048

		section "$fs: nometacopy, on remount"
		run mount -o remount,nometacopy m
		ok grep -q "$T/m cppaufs .*nometacopy" /proc/mounts
		run chmod 0600 m/nometa
		assert_whole nometa
		ok cmp m/nometa ref/nometa
		run mount -o remount,metacopy m
		ok test -z "$(grep "$T/m cppaufs .*nometacopy" /proc/mounts)"

		section "$fs: a marked file on a lower branch reads from below it"
		run chmod 0600 m/chain
		ok marked u/chain
		run cpa_mount m2 ./u2:./u:./l2:./l3
		ok cmp m2/chain ref/chain
		run chmod 0604 m2/chain
		ok marked u2/chain
		ok cmp m2/chain ref/chain
		run_sh "printf x >> m2/chain"
		run_sh "cat ref/chain > ref/chain.exp && printf x >> ref/chain.exp"
		ok cmp u2/chain ref/chain.exp
		run chmod 0600 m2/write
		run_sh "printf y >> m2/write"
		ok cmp m2/write <(cat ref/write.exp; printf y)
		run cpa_umount m2

		section "$fs: a marked file whose data is gone gives EIO"
		run chmod 0600 m/lost
		run cpa_umount m
		# the lower branch changed behind the union: stash and bring back
		run mv l2/lost "$T/lost.stash"
		run cpa_mount m ./u:./l2:./l3
		expect_dmesg 'cppaufs: lost: metadata-only copy without data below$'
		assert_fails_with "Input/output error" cat m/lost
		run cpa_umount m
		run mv "$T/lost.stash" l2/lost
	fi

	section "$fs: the lower branches are unchanged"
	snap >"$T/lower.after"
	ok diff "$T/lower.before" "$T/lower.after"
	ok test -z "$(ls -A u/.wh..wh.orph)"
	cd /
}

for fs in $(vm_fs_list tmpfs ext4 xfs btrfs); do
	metacopy_on "$fs"
done
