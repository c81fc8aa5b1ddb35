#!/bin/bash
# The seed scenario of the aufs walkthrough, as far as the read side goes:
# three branches given as relative paths, the merged listing, the sysfs
# directory of the mount, an append to a file of the writable branch, the
# si= option in /proc/mounts, and the sysfs directory gone after umount.
# vm-kernels: every
. "$(dirname "$0")/lib.sh"
require_module

section "set-up: l1 l2 l3 as in the walkthrough"
W=/tmp/aufs
mkdir -p "$W"
cd "$W"
run mkdir l1 l2 l3 merged
run sh -c 'echo l1 > l1/container.txt'
run sh -c 'echo l2 > l2/image2.txt'
run sh -c 'echo l3 > l3/image3.txt'

# No cppaufs mount yet: nothing in sysfs.
assert_eq "" "$(ls /sys/fs/cppaufs)" "si dirs before the mount"

section "mount with relative branch paths (one with a trailing /)"
run mount -t cppaufs -o dirs=./l1:./l2:./l3/ none ./merged
ok mountpoint -q merged

section "the merged listing"
run ls merged
assert_eq "container.txt
image2.txt
image3.txt" "$(ls merged)" "ls merged"
assert_eq ". .. container.txt image2.txt image3.txt" "$(ls -a merged | tr '\n' ' ' | sed 's/ $//')" "ls -a merged"
assert_file_content merged/container.txt l1
assert_file_content merged/image2.txt l2
assert_file_content merged/image3.txt l3

section "sysfs"
mapfile -t sis < <(ls /sys/fs/cppaufs)
assert_eq 1 "${#sis[@]}" "number of si dirs"
si=${sis[0]:-none}
if [[ $si =~ ^si_[0-9a-f]{16}$ ]]; then pass "si dir name $si"; else fail "si dir name: $si"; fi
S=/sys/fs/cppaufs/$si
run grep -r . "$S"
assert_eq "br0 br1 br2 brid0 brid1 brid2 xi_path" "$(ls "$S" | tr '\n' ' ' | sed 's/ $//')" "files of $S"
assert_file_content "$S/br0" "$W/l1=rw"
assert_file_content "$S/br1" "$W/l2=ro"
assert_file_content "$S/br2" "$W/l3=ro"
assert_file_content "$S/brid0" 0
assert_file_content "$S/brid1" 1
assert_file_content "$S/brid2" 2
assert_file_content "$S/xi_path" "$W/l1/.aufs.xino"
# One value a line, exactly: the file holds "<value>\n".
assert_eq "$(printf '%s\n' "$W/l1=rw" | od -c)" "$(od -c <"$S/br0")" "raw bytes of br0"
# Read-only files.
assert_eq "-r--r--r--" "$(stat -c %A "$S/br0")" "mode of br0"
if (echo x >"$S/br0") 2>/dev/null; then fail "writing $S/br0 succeeded"; else pass "writing $S/br0 is refused"; fi

section "/proc/mounts names the si id"
run grep cppaufs /proc/mounts
line=$(grep " $W/merged cppaufs " /proc/mounts || true)
opt_si=$(sed -n 's/.*[ ,]si=\([0-9a-f]*\)[, ].*/\1/p' <<<"$line")
assert_eq "${si#si_}" "$opt_si" "si= in /proc/mounts"
assert_eq none "$(awk '{print $1}' <<<"$line")" "mount source in /proc/mounts"
# Like aufs, the branches are not in the mount options.
if [[ $line == *dirs=* || $line == *br=* ]]; then fail "branches shown in /proc/mounts: $line"; else pass "no branch list in /proc/mounts"; fi

section "echo update >> merged/container.txt (file of the writable branch)"
run sh -c 'echo update >> merged/container.txt'
run cat merged/container.txt
assert_file_content merged/container.txt "l1
update"
assert_file_content l1/container.txt "l1
update"
assert_file_content l2/image2.txt l2
assert_file_content l3/image3.txt l3
assert_eq "container.txt" "$(ls l1)" "ls l1"

section "umount"
run umount merged
ok test ! -e "$S"
assert_eq "" "$(ls /sys/fs/cppaufs)" "si dirs after umount"
if grep -q " $W/merged " /proc/mounts; then fail "still in /proc/mounts"; else pass "gone from /proc/mounts"; fi
# The branches hold what they held (internal .wh..wh.* / xino files of the
# writable branch aside): the union added no visible name to any of them.
assert_eq "container.txt" "$(ls l1)" "ls l1 after umount"
assert_eq "image2.txt" "$(ls -A l2)" "ls -A l2 after umount"
assert_eq "image3.txt" "$(ls -A l3)" "ls -A l3 after umount"
