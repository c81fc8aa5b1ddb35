#!/bin/bash
# The whole aufs walkthrough of the seed with -t cppaufs: copy-up of a file
# of a read-only branch, a whiteout for a removed lower file, the internal
# files of the writable branch, and lower branches left untouched.
# vm-kernels: every
. "$(dirname "$0")/lib.sh"
require_module

mkfs_loop tmpfs /tmp/seed 64M
cd /tmp/seed
mkdir l1 l2 l3 merged
echo l1 > l1/container.txt
echo l2 > l2/image2.txt
echo l3 > l3/image3.txt
run cpa_mount merged ./l1:./l2:./l3/

section "internal files of the writable branch"
assert_eq ".aufs.xino .wh..wh.aufs .wh..wh.orph .wh..wh.plnk container.txt" \
	"$(cd l1 && ls -A | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" "ls -A l1 after mount"
assert_eq "container.txt image2.txt image3.txt" "$(ls merged | tr '\n' ' ' | sed 's/ $//')" "ls merged"

section "write in place on the writable branch"
run_sh 'echo update >> ./merged/container.txt'
assert_file_content merged/container.txt $'l1\nupdate'
assert_file_content l1/container.txt $'l1\nupdate'

section "copy-up of a read-only branch's file"
ino_before=$(stat -c %i merged/image2.txt)
run_sh 'echo update >> ./merged/image2.txt'
assert_eq "container.txt image2.txt image3.txt" "$(ls merged | tr '\n' ' ' | sed 's/ $//')" "ls merged"
assert_file_content merged/image2.txt $'l2\nupdate'
assert_file_content l2/image2.txt 'l2'
assert_eq "container.txt image2.txt" "$(ls l1 | tr '\n' ' ' | sed 's/ $//')" "ls l1"
assert_file_content l1/image2.txt $'l2\nupdate'
assert_eq "$ino_before" "$(stat -c %i merged/image2.txt)" "union inode number across copy-up"
run_sh 'echo 3 > /proc/sys/vm/drop_caches'
assert_eq "$ino_before" "$(stat -c %i merged/image2.txt)" "union inode number after drop_caches"

section "removing a read-only branch's file"
run rm merged/image3.txt
assert_eq "container.txt image2.txt" "$(ls merged | tr '\n' ' ' | sed 's/ $//')" "ls merged"
assert_eq ".aufs.xino .wh..wh.aufs .wh..wh.orph .wh..wh.plnk .wh.image3.txt container.txt image2.txt" \
	"$(cd l1 && ls -A | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" "ls -A l1"
run ls -a l1
ok test -f l3/image3.txt
assert_file_content l3/image3.txt 'l3'
# Whiteouts are hard links to the base file, saving inodes.
assert_eq "$(stat -c %i l1/.wh..wh.aufs)" "$(stat -c %i l1/.wh.image3.txt)" "whiteout links to .wh..wh.aufs"
assert_fails_with "No such file" stat merged/image3.txt
assert_fails_with "No such file" stat merged/.wh.image3.txt

section "after remount"
run cpa_umount merged
run cpa_mount merged ./l1:./l2:./l3/
assert_eq "container.txt image2.txt" "$(ls merged | tr '\n' ' ' | sed 's/ $//')" "ls merged after remount"
assert_file_content merged/image2.txt $'l2\nupdate'
cd /
