#!/bin/bash
# vm-args: --timeout 600 --smp 2
# Copy-up under pressure: ENOSPC on a small writable branch (the caller gets
# the error, lower file and union unchanged, no partial copy anywhere, also
# after a remount; a chmod still fits, as a metadata-only copy, and the data
# copy that does not fit leaves it holding no blocks); eight processes copying up one file at once (one
# consistent result, every append kept once); readers during a copy-up see
# the old or the new content, never a mix; a hard link whose one name is
# copied up; union inode numbers across copy-up, drop_caches and remount.
# vm-kernels: newest
. "$(dirname "$0")/lib.sh"
require_module
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

T=/tmp/cow-stress
mkdir -p "$T"
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
internal=".aufs.xino .wh..wh.aufs .wh..wh.orph .wh..wh.plnk"
ls_up() { (cd "$1" && ls -A | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'); }

section "ENOSPC during copy-up"
mkfs_loop tmpfs "$T/small" 1M
mkfs_loop tmpfs "$T/low" 64M
mkdir "$T/small/u" "$T/low/l" "$T/m"
U=$T/small/u L=$T/low/l M=$T/m
# The xino file shares the small branch: a write of it that comes while a
# failing copy-up fills the branch fails too, and is tried again later.
expect_dmesg "cppaufs: xino $U/.aufs.xino: write error -28: kept in memory and tried again"
expect_dmesg "cppaufs: xino $U/.aufs.xino: written again after error -28"
head -c 4M /dev/urandom >"$L/big"
echo small >"$L/small"
sum_before=$(md5sum <"$L/big")
run cpa_mount "$M" "$U:$L"
run df -k "$T/small"
assert_fails_with "No space left" bash -c "echo x >> $M/big"
assert_eq "$internal" "$(ls_up "$U")" "ls -A of the writable branch"
run chmod 600 "$M/big"
assert_eq 0 "$(stat -c %b "$U/big")" "blocks of the metadata-only copy of big"
assert_fails_with "No space left" truncate -s 3M "$M/big"
assert_fails_with "No space left" bash -c "echo x >> $M/big"
assert_eq 0 "$(stat -c %b "$U/big")" "blocks of big after the failed data copies"
assert_eq "$sum_before" "$(md5sum <"$L/big")" "lower big unchanged"
assert_eq "$sum_before" "$(md5sum <"$M/big")" "union big unchanged"
assert_eq 4194304 "$(stat -c %s "$M/big")" "union size of big"
assert_eq 600 "$(stat -c %a "$M/big")" "union mode of big"
assert_eq "$internal big" "$(ls_up "$U")" "ls -A of the writable branch"
assert_eq "" "$(ls -A "$U/.wh..wh.orph")" ".wh..wh.orph is empty"
run df -k "$T/small"
# what fits still works
run_sh "echo more >> $M/small"
assert_file_content "$M/small" $'small\nmore'
run cpa_umount "$M"
assert_eq "" "$(ls -A "$U/.wh..wh.orph")" ".wh..wh.orph is empty after umount"
run cpa_mount "$M" "$U:$L"
assert_eq "" "$(ls -A "$U/.wh..wh.orph")" ".wh..wh.orph is empty after mount"
assert_eq "$sum_before" "$(md5sum <"$M/big")" "union big after remount"
assert_eq 600 "$(stat -c %a "$M/big")" "union mode of big after remount"
assert_eq "$internal big small" "$(ls_up "$U")" "ls -A of the writable branch after remount"
run cpa_umount "$M"
umount "$T/small" "$T/low"

section "concurrent copy-up of one file"
mkfs_loop tmpfs "$T/c" 128M
C=$T/c
mkdir "$C/u" "$C/l" "$C/m"
seq 1 20000 >"$C/l/lines"            # ~110 kB
head -c 8M /dev/zero | tr '\0' o >"$C/l/olds"   # 8 MB of 'o'
sum_old=$(md5sum <"$C/l/olds")
(head -c 3 /dev/zero | tr '\0' n; tail -c +4 "$C/l/olds") | md5sum >"$T/sum_new"
sum_new=$(cat "$T/sum_new")
cpa_mount "$C/m" "$C/u:$C/l"
exec 8>"$T/gate"
flock -x 8
for i in 1 2 3 4 5 6 7 8; do
	flock -s "$T/gate" bash -c "echo 'appended by $i' >> $C/m/lines" &
done
_cpa_say "\$ 8 x (echo 'appended by N' >> m/lines), released at once"
sleep 1
flock -u 8
wait
exec 8>&-
assert_eq 20008 "$(wc -l <"$C/u/lines")" "line count of the copied-up file"
assert_eq "$(seq 1 20000 | md5sum)" "$(head -n 20000 "$C/u/lines" | md5sum)" "lower content first (md5)"
assert_eq "$(printf 'appended by %s\n' 1 2 3 4 5 6 7 8)" "$(tail -n 8 "$C/u/lines" | sort)" "each append exactly once"
assert_eq "$(md5sum <"$C/u/lines")" "$(md5sum <"$C/m/lines")" "union shows the upper file"
assert_eq "$(seq 1 20000 | md5sum)" "$(md5sum <"$C/l/lines")" "lower file unchanged (md5)"
assert_eq "" "$(ls -A "$C/u/.wh..wh.orph")" ".wh..wh.orph is empty"

section "readers during a copy-up"
for r in 1 2 3 4; do
	(for k in 1 2 3 4 5 6; do md5sum <"$C/m/olds"; done >"$T/reader.$r") &
done
sleep 0.5
run_sh "printf nnn | dd of=$C/m/olds conv=notrunc status=none"
wait
cat "$T"/reader.* | sort | uniq -c | sed "s/$sum_old/old/; s/$sum_new/new/"
bad=$(cat "$T"/reader.* | { grep -v -x -e "$sum_old" -e "$sum_new" || true; } | wc -l)
assert_eq 0 "$bad" "reads that saw neither the old nor the new content"
assert_eq "$sum_new" "$(md5sum <"$C/m/olds")" "union content after the write"
assert_eq "$sum_old" "$(md5sum <"$C/l/olds")" "lower content after the write"
cpa_umount "$C/m"

section "hard link whose one name is copied up"
echo hl >"$C/l/hl1"
ln "$C/l/hl1" "$C/l/hl2"
cpa_mount "$C/m" "$C/u:$C/l"
run stat -c '%n ino=%i nlink=%h' "$C/m/hl1" "$C/m/hl2"
ino=$(stat -c %i "$C/m/hl1")
assert_eq "$ino 2" "$(stat -c '%i %h' "$C/m/hl2")" "hl2 before copy-up"
run_sh "echo more >> $C/m/hl1"
run stat -c '%n ino=%i nlink=%h' "$C/m/hl1" "$C/m/hl2"
run stat -c '%n ino=%i nlink=%h' "$C/u/hl1" "$C/l/hl1" "$C/l/hl2"
assert_eq "$ino 2" "$(stat -c '%i %h' "$C/m/hl1")" "hl1 after copy-up of hl1"
assert_eq "$ino 2" "$(stat -c '%i %h' "$C/m/hl2")" "hl2 after copy-up of hl1"
assert_file_content "$C/m/hl1" $'hl\nmore'
assert_file_content "$C/m/hl2" $'hl\nmore'
drop_caches
assert_eq "$ino $ino" "$(stat -c %i "$C/m/hl1") $(stat -c %i "$C/m/hl2")" "both names after drop_caches"
assert_file_content "$C/l/hl1" hl
assert_eq 2 "$(stat -c %h "$C/l/hl1")" "lower link count"
cpa_umount "$C/m"

section "union inode numbers across copy-up, drop_caches, remount"
mkdir -p "$C/l/d/sub"
echo f >"$C/l/d/sub/f"
echo g >"$C/l/g"
echo h >"$C/u/h"
cpa_mount "$C/m" "$C/u:$C/l"
names="d d/sub d/sub/f g h"
inos() { local n; for n in $names; do printf '%s=%s ' "$n" "$(stat -c %i "$C/m/$n")"; done; }
before=$(inos)
_cpa_say "before: $before"
run_sh "echo more >> $C/m/d/sub/f"
run chmod 600 "$C/m/g"
run_sh "echo more >> $C/m/h"
ok test -f "$C/u/d/sub/f"
assert_eq "$before" "$(inos)" "inode numbers after copy-up"
drop_caches
assert_eq "$before" "$(inos)" "inode numbers after drop_caches"
cpa_umount "$C/m"
cpa_mount "$C/m" "$C/u:$C/l"
assert_eq "$before" "$(inos)" "inode numbers after umount + mount"
run ls -i "$C/m" "$C/m/d/sub"
cd /
