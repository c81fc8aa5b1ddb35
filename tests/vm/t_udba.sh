#!/bin/bash
# vm-args: --timeout 600
# udba=reval: files created, removed and renamed straight in the writable
# and in a read-only branch show up or go through the union at the next
# stat and listing, on tmpfs and ext4 branches; so do a directory made
# directly, a whiteout and an opaque marker made directly, a directory
# made directly on the writable branch above a lower one, and a file
# replaced directly.  A shell working in a merged directory sees the
# changes; files open before keep working; writes through the union still
# work.  udba=none (the default) keeps what the union cached: a name
# looked up and not found stays missing, a listing stays as it was read.
# The option shows in /proc/mounts; udba=notify, a bad value and a change
# on remount are refused with one line.
. "$(dirname "$0")/lib.sh"
require_module

T=/tmp/udba
mkdir -p "$T"
names() { ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }
expect_dmesg 'cppaufs: udba'

for fs in $(vm_fs_list tmpfs ext4); do
	B=$T/$fs
	mkfs_loop "$fs" "$B" 128M
	M=$B/m
	U=$B/u
	L=$B/lo
	mkdir -p "$U/d" "$L/d" "$L/od" "$U/od" "$L/ld"
	echo lower-a >"$L/a"
	echo lower-b >"$L/b"
	echo upper-x >"$U/x"
	echo lower-dx >"$L/d/x"
	echo lower-ox >"$L/od/x"
	echo lower-lx >"$L/ld/x"
	cpa_mount "$M" "$U:$L" udba=reval

	section "$fs: the option"
	ok grep -q " $M cppaufs .*,udba=reval" /proc/mounts

	section "$fs: warm names and listings first"
	assert_eq "a b d ld od x" "$(names "$M")" "listing of the root"
	assert_eq "x" "$(names "$M/d")" "listing of d"
	assert_fails_with "No such file" stat "$M/new"
	assert_fails_with "No such file" stat "$M/d/new"
	ok stat "$M/a" "$M/b" "$M/x" "$M/d/x"
	exec 7<"$M/a"
	# a shell working in the merged directory d
	bash -c "cd '$M/d' && while :; do sleep 0.1; done" &
	shell=$!
	cwd=/proc/$shell/cwd

	section "$fs: created directly in the read-only branch"
	echo lower-new >"$L/new"
	assert_file_content "$M/new" lower-new
	assert_eq "a b d ld new od x" "$(names "$M")" "listing of the root"

	section "$fs: created directly in the writable branch"
	echo upper-new2 >"$U/new2"
	assert_file_content "$M/new2" upper-new2
	ok grep -qx new2 <<<"$(ls "$M")"

	section "$fs: removed directly"
	rm "$L/a"
	assert_fails_with "No such file" stat "$M/a"
	assert_eq "b d ld new new2 od x" "$(names "$M")" "listing of the root"
	assert_file_content /proc/self/fd/7 lower-a
	rm "$U/new2"
	assert_fails_with "No such file" stat "$M/new2"

	section "$fs: renamed directly"
	mv "$U/x" "$U/y"
	assert_fails_with "No such file" stat "$M/x"
	assert_file_content "$M/y" upper-x
	mv "$L/b" "$L/c"
	assert_fails_with "No such file" cat "$M/b"
	assert_file_content "$M/c" lower-b
	assert_eq "c d ld new od y" "$(names "$M")" "listing of the root"

	section "$fs: replaced directly"
	exec 8<"$M/c"
	rm "$L/c"
	echo lower-c2 >"$L/c"
	assert_file_content "$M/c" lower-c2
	assert_file_content /proc/self/fd/8 lower-b
	exec 8<&-
	echo upper-c >"$U/c"
	assert_file_content "$M/c" upper-c
	rm "$U/c"
	assert_file_content "$M/c" lower-c2

	section "$fs: a directory made directly"
	mkdir "$L/nd"
	echo lower-ndf >"$L/nd/f"
	assert_file_content "$M/nd/f" lower-ndf
	assert_eq "f" "$(names "$M/nd")" "listing of nd"
	echo lower-ndg >"$L/nd/g"
	assert_eq "f g" "$(names "$M/nd")" "listing of nd, again"
	rm -r "$L/nd"
	assert_fails_with "No such file" stat "$M/nd"

	section "$fs: a whiteout made directly hides the lower name"
	assert_file_content "$M/new" lower-new
	ln "$U/.wh..wh.aufs" "$U/.wh.new" 2>/dev/null || : >"$U/.wh.new"
	assert_fails_with "No such file" stat "$M/new"
	assert_eq "c d ld od y" "$(names "$M")" "listing of the root"
	rm "$U/.wh.new"
	assert_file_content "$M/new" lower-new

	section "$fs: an opaque marker made directly"
	assert_eq "x" "$(names "$M/od")" "listing of od"
	assert_file_content "$M/od/x" lower-ox
	: >"$U/od/.wh..wh..opq"
	assert_fails_with "No such file" stat "$M/od/x"
	assert_eq "" "$(names "$M/od")" "listing of od, opaque"
	rm "$U/od/.wh..wh..opq"
	assert_file_content "$M/od/x" lower-ox

	section "$fs: a directory made directly above a lower one"
	assert_file_content "$M/ld/x" lower-lx
	mkdir "$U/ld"
	echo upper-ly >"$U/ld/y"
	assert_eq "x y" "$(names "$M/ld")" "listing of the merged ld"
	assert_file_content "$M/ld/y" upper-ly
	echo more >>"$M/ld/x"
	assert_file_content "$U/ld/x" "lower-lx
more"

	section "$fs: a shell working in d sees the changes"
	assert_eq "x" "$(names "$cwd/")" "listing of the shell's directory"
	echo lower-dy >"$L/d/y"
	assert_eq "x y" "$(names "$cwd/")" "after a file was made in a branch"
	assert_file_content "$cwd/y" lower-dy
	rm "$L/d/x"
	assert_eq "y" "$(names "$cwd/")" "after a file was removed"
	assert_fails_with "No such file" stat "$cwd/x"
	ok bash -c "cd '$M/d' && test -f y && ! test -e x"

	section "$fs: through the union"
	echo made >"$M/made"
	assert_file_content "$U/made" made
	mv "$M/made" "$M/made2"
	assert_file_content "$M/made2" made
	rm "$M/made2" "$M/y"
	assert_fails_with "No such file" stat "$M/y"
	echo more >>"$M/new"
	assert_file_content "$M/new" "lower-new
more"
	assert_file_content "$L/new" lower-new
	assert_file_content /proc/self/fd/7 lower-a
	exec 7<&-
	kill "$shell"
	wait "$shell" 2>/dev/null || true

	section "$fs: remount"
	ok mount -o remount,udba=reval "$M"
	assert_fails_with "" mount -o remount,udba=none "$M"
	ok grep -q "cppaufs: udba cannot be changed on remount" <<<"$(dmesg)"
	ok grep -q " $M cppaufs .*,udba=reval" /proc/mounts
	run cpa_umount "$M"

	section "$fs: udba=none keeps what it cached"
	cpa_mount "$M" "$U:$L"
	ok bash -c "! grep -q ' $M cppaufs .*udba' /proc/mounts"
	assert_fails_with "No such file" stat "$M/late"
	before=$(names "$M")
	echo lower-late >"$L/late"
	# the negative dentry and the listing were cached: not seen
	assert_fails_with "No such file" stat "$M/late"
	assert_eq "$before" "$(names "$M")" "listing of the root, cached"
	echo 2 >/proc/sys/vm/drop_caches
	assert_file_content "$M/late" lower-late
	run cpa_umount "$M"
done

section "refused values"
mkdir -p "$T/r/u" "$T/r/m"
assert_fails_with "" mount -t cppaufs -o "dirs=$T/r/u,udba=notify" none "$T/r/m"
ok grep -q "cppaufs: udba=notify: not supported yet" <<<"$(dmesg)"
assert_fails_with "" mount -t cppaufs -o "dirs=$T/r/u,udba=sometimes" none "$T/r/m"
ok grep -q "cppaufs: udba=sometimes: bad value (expected none or reval)" \
	<<<"$(dmesg)"
cd /
