#!/bin/bash
# vm-args: --timeout 600
# Directories through the union: rmdir only of logically empty directories
# (whiteouts do not count), a removed directory recreated is opaque, rm -rf
# of a tree merged from three branches, mkdir -p deep in a lower-only tree
# (parents copied up with their own mode, owner and times), names beginning
# with .wh. refused, and names too long for an aufs whiteout.  Branches
# on one ext4 (on tmpfs, creating a new name currently deadlocks;
# t_cow_ops.sh covers tmpfs).
. "$(dirname "$0")/lib.sh"
require_module
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

T=/tmp/cow-dirs
mkfs_loop ext4 "$T"
cd "$T"
mkdir u l2 l3 m

# lower-only tree with distinct metadata at every level
mkdir -p l2/a/b/c
echo lc >l2/a/b/c/f
chown 1001:1002 l2/a
chmod 0751 l2/a
chown 1003:1004 l2/a/b
chmod 0715 l2/a/b
chown 1005:1006 l2/a/b/c
chmod 0705 l2/a/b/c
touch -d @1400000000 l2/a/b/c
touch -d @1300000000 l2/a/b
touch -d @1200000000 l2/a
# rmdir fixtures
mkdir l2/logical l2/full l3/full2 l3/logical
echo a >l2/logical/a
echo z >l3/logical/z
echo f >l2/full/f
mkdir l2/full2            # empty here, l3/full2 holds a file
echo g >l3/full2/g
mkdir u/full3 l2/full3    # empty above, a file below
echo h >l2/full3/h
# a tree spread over all three branches
mkdir -p u/tree/up l2/tree/sub/deeper l3/tree/sub/deeper l3/tree/low
echo u >u/tree/x
echo u >u/tree/up/y
echo l2 >l2/tree/sub/y
echo l2 >l2/tree/sub/deeper/z
echo l3 >l3/tree/sub/deeper/z3
echo l3 >l3/tree/low/w
echo l3 >l3/tree/x3
echo file >l2/file
: >u/.wh.hidden
echo hidden >l2/hidden

snap() { find l2/ l3/ -printf '%p %y %s %m %U:%G %T@ %C@\n' | LC_ALL=C sort; }
snap >"$T/lower.before"
run cpa_mount m ./u:./l2:./l3

section "rmdir"
# logically empty: everything inside is whited out
run rm m/logical/a m/logical/z
run ls -a u/logical
run rmdir m/logical
assert_fails_with "No such file" stat m/logical
ok test -f u/.wh.logical
ok test ! -e u/logical
# not empty: content on a lower branch
assert_fails_with "Directory not empty" rmdir m/full
assert_fails_with "Directory not empty" rmdir m/full2
assert_fails_with "Directory not empty" rmdir m/full3
assert_eq "f g h" "$(cat m/full/f m/full2/g m/full3/h | tr '\n' ' ' | sed 's/ $//')" "content of the non-empty directories"
ok test ! -e u/full
ok test ! -e u/.wh.full
ok test ! -e u/.wh.full2
ok test -d u/full3

section "a removed directory recreated is opaque"
run mkdir m/logical
assert_eq "" "$(ls -A m/logical)" "ls -A m/logical"
run ls -a u/logical
assert_eq ".wh..wh..opq" "$(ls -A u/logical)" "ls -A u/logical"
ok test ! -e u/.wh.logical
run_sh 'echo new > m/logical/a'
assert_eq "a" "$(ls -A m/logical)" "ls -A m/logical after creating a"
assert_file_content m/logical/a new
assert_fails_with "No such file" stat m/logical/z

section "rm -rf of a merged tree"
run_sh 'cd m && find tree | LC_ALL=C sort'
run rm -rf m/tree
assert_fails_with "No such file" stat m/tree
ok test ! -e u/tree
ok test -f u/.wh.tree
run mkdir -p m/tree/sub
assert_eq "sub" "$(ls -A m/tree)" "ls -A m/tree after mkdir -p"
assert_eq "" "$(ls -A m/tree/sub)" "ls -A m/tree/sub (nothing from below)"
ok test -e u/tree/.wh..wh..opq

section "mkdir -p deep inside a lower-only tree"
run mkdir -p m/a/b/c/d/e
ok test -d u/a/b/c/d/e
for d in a a/b; do
	assert_eq "$(stat -c '%a %u:%g %Y' "l2/$d")" "$(stat -c '%a %u:%g %Y' "u/$d")" "mode, owner, mtime of copied-up $d"
	assert_eq "$(stat -c '%a %u:%g %Y' "l2/$d")" "$(stat -c '%a %u:%g %Y' "m/$d")" "mode, owner, mtime of $d in the union"
done
# c gained an entry: its mtime moves, its mode and owner stay
assert_eq "$(stat -c '%a %u:%g' l2/a/b/c)" "$(stat -c '%a %u:%g' u/a/b/c)" "mode, owner of copied-up a/b/c"
assert_eq "e" "$(ls -A u/a/b/c/d)" "ls -A u/a/b/c/d"
assert_eq "c" "$(ls -A u/a/b)" "only the path was copied up (u/a/b)"
assert_eq "d f" "$(ls m/a/b/c | tr '\n' ' ' | sed 's/ $//')" "ls m/a/b/c"
ok test ! -e u/a/b/c/f

section "names beginning with .wh."
assert_fails_with "Invalid argument" touch m/.wh.foo
assert_fails_with "Invalid argument" mkdir m/.wh.dir
assert_fails_with "Invalid argument" mkfifo m/.wh.fifo
assert_fails_with "Invalid argument" ln -s file m/.wh.sym
# mv words EINVAL from rename(2) as "a subdirectory of itself": ask rename(2).
assert_fails_with "Invalid argument" python3 -c 'import os; os.rename("m/file", "m/.wh.file")'
assert_fails_with "Invalid argument" touch m/logical/.wh..wh..opq
assert_fails_with "Invalid argument" touch m/a/.wh.x
assert_file_content m/file file
assert_fails_with "No such file" stat m/.wh.hidden
assert_fails_with "No such file" stat m/hidden
assert_eq "" "$(ls -a m m/logical m/a | grep '^\.wh\.' || true)" ".wh.* names listed through the union"
ok test ! -e u/.wh.foo
ok test ! -e u/.wh.dir
ok test ! -e u/file
# a refused link should not have copied its source up either
assert_fails_with "Invalid argument" ln m/file m/.wh.link
ok test ! -e u/file

section "names too long for an aufs whiteout (t_long_names.sh has more)"
n251=$(printf 'n%.0s' $(seq 251))
n252=$(printf 'n%.0s' $(seq 252))
n255=$(printf 'n%.0s' $(seq 255))
# the union root has lower branches: names up to NAME_MAX all work
run touch "m/$n252"
run mkdir "m/$n255"
run mv m/file "m/$n255/$n252"
ok test -f "u/$n252"
ok test -f "u/$n255/$n252"
run mv "m/$n255/$n252" m/file
run rm "m/$n252"
run rmdir "m/$n255"
ok test ! -e "u/$n252"
ok test ! -e "u/$n255"
run touch "m/$n251"
ok test -f "u/$n251"
run rm "m/$n251"
ok test ! -e "u/$n251"

section "after umount + mount"
run cpa_umount m
run cpa_mount m ./u:./l2:./l3
assert_eq "a" "$(ls -A m/logical)" "ls -A m/logical"
assert_eq "sub" "$(ls -A m/tree)" "ls -A m/tree"
assert_eq "d f" "$(ls m/a/b/c | tr '\n' ' ' | sed 's/ $//')" "ls m/a/b/c"
assert_fails_with "No such file" stat m/hidden
snap >"$T/lower.after"
if cmp -s "$T/lower.before" "$T/lower.after"; then
	pass "lower branches unchanged"
else
	fail "lower branches changed: $(diff "$T/lower.before" "$T/lower.after" | head)"
fi
assert_eq "" "$(ls -A u/.wh..wh.orph)" ".wh..wh.orph is empty"
cd /
