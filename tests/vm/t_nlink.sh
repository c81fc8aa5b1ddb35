#!/bin/bash
# vm-args: --timeout 600
# Link counts of hard-linked lower files: every name of one union inode
# shows the same count, the number of its names visible through the union,
# at all times: after link, unlink, rename over a name, copy-up of one name
# or another, a cache drop and a remount; as the raw file system shows for
# the same operations (a mirror directory gets each one too).  An unlinked
# file still open shows 0.  On tmpfs and ext4.
# vm-kernels: newest
. "$(dirname "$0")/lib.sh"
require_module

# counts DIR NAME...: the link count of each name in DIR: m, the union,
# or raw, the mirror that had the same operations on a plain fs.
counts() {
	local d=$1 n out=()
	shift
	for n in "$@"; do
		out+=("$(stat -c '%h' "$d/$n")")
	done
	echo "${out[*]}"
}
# One inode number for all names.
same_ino() {
	local n first
	first=$(stat -c %i "m/$1")
	for n in "$@"; do
		[ "$(stat -c %i "m/$n")" = "$first" ] || return 1
	done
}
# both CMD...: run a command line with "D" standing for m, then for raw.
both() {
	run_sh "${1//D/m}"
	run_sh "${1//D/raw}"
}
check() {
	local what=$1
	shift
	assert_eq "$(counts raw "$@")" "$(counts m "$@")" "link counts of $* $what"
	ok same_ino "$@"
}
drop() { run_sh 'echo 3 >/proc/sys/vm/drop_caches'; }
remount() { run cpa_umount m; run cpa_mount m ./u:./l; }

for fs in $(vm_fs_list tmpfs ext4); do
	T=/tmp/nlink-$fs
	mkfs_loop "$fs" "$T"
	cd "$T"
	mkdir u l m raw
	echo data >l/a
	ln l/a l/b
	ln l/a l/c
	echo single >l/s
	cp -a l/. raw/
	cpa_mount m ./u:./l

	section "$fs: the issue's reproducer: ln, then stat every name"
	check "at mount" a b c
	both 'ln D/a D/d'
	check "after ln a d" a b c d
	drop
	check "after a cache drop" a b c d
	remount
	check "after a remount" a b c d

	section "$fs: rm of a name not copied up, then a write"
	both 'rm D/b'
	check "after rm b" a c d
	both 'echo more >>D/c'
	check "after appending to c" a c d
	assert_file_content m/a "data
more"
	drop
	check "after a cache drop" a c d

	section "$fs: rename over a lower name, and of one"
	for d in l raw; do
		echo other >$d/x
		ln $d/x $d/y
		ln $d/x $d/z
	done
	drop
	check "of the second file" x y z
	both 'echo new >D/n'
	both 'mv D/n D/y'
	check "after mv n over y" x z
	assert_eq 1 "$(stat -c %h m/y)" "links of the new y"
	both 'mv D/z D/w'
	check "after mv z w" x w
	remount
	check "after a remount" x w
	check "of the first file after a remount" a c d

	section "$fs: every name removed"
	both 'rm D/x'
	check "after rm x" w
	exec 7<m/w
	both 'rm D/w'
	assert_eq 0 "$(stat -L -c %h /proc/self/fd/7)" "links of the open, removed w"
	exec 7<&-
	exec 7<m/s
	run rm m/s
	assert_eq 0 "$(stat -L -c %h /proc/self/fd/7)" "links of the open, removed s"
	exec 7<&-
	assert_eq "data" "$(cat l/a)" "the lower file, copied up, unchanged"
	assert_eq "3 3" "$(stat -c %h l/a l/x | tr '\n' ' ' | sed 's/ $//')" \
		"lower link counts, unchanged"
	run cpa_umount m
	cd /
done
