#!/bin/bash
# vm-args: --timeout 600
# Several writable branches, at any index (a=rw:b=ro:c=rw:e=ro): each gets
# its internal files; an object on a writable branch changes in place,
# below a read-only one too; a lower object is copied up to the branch
# cpup= picks (tdp: the parent's topmost writable branch above it, else
# the nearest one above; bu: the nearest one), its parents first; a new
# object goes to the topmost writable branch that holds its parent
# (create=tdp); a whiteout goes beside the object it hides, on the
# writable branch of the removed object or of its would-be copy; rename
# and link stay on the branch of the object (a target directory that
# another writable branch made is copied down); readdir merges; create=
# and cpup= are parsed with one-line errors (mfs copies a parent down to the branch
# it picks, unless an opaque directory would hide the copy), change on
# remount and show in /proc/mounts when not the default; a remount adds a writable branch
# below the others or makes one writable there, makes one read-only or
# removes it (each refused while a file its entry would write the wrong
# way is in use), and rr and cpup= follow; read-only branches are never
# written.  Hard-linked lower files go to the branch of the pseudo-links,
# the first writable one, whatever cpup= says (a directory of theirs that
# another writable branch holds is copied over), and their names stay one
# file.  Then a union whose only writable branch is not branch 0, and
# a branch made read-only while a copy-up and creates are under way: the
# remount waits for them, and none lands on the branch after it.
. "$(dirname "$0")/lib.sh"
require_module

T=/tmp/mrw
mkfs_loop tmpfs "$T"
cd "$T"
on_exit cd /
mkdir -p a b/d b/shared c/cdir c/shared e m
echo b >b/bfile
echo b2 >b/bfile2
echo bx >b/d/bx
echo s1 >b/shared/s1
echo bdup >b/dup
echo c >c/cfile
echo c1 >c/cdir/c1
echo s2 >c/shared/s2
echo cdup >c/dup
echo ce >c/ce
echo ece >e/ce
echo e >e/eonly
echo e2 >e/eonly2
# What the read-only branches hold, to check at the end.
sums() { (cd "$T" && find b e -printf '%p %s %m\n' | sort && find b e -type f -exec md5sum {} + | sort); }
before=$(sums)

cpa_mount m "$T/a=rw:$T/b=ro:$T/c=rw:$T/e=ro" "xino=$T/xino"
names() { LC_ALL=C ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }

section "internal files on every writable branch"
for br in a c; do
	ok test -d "$br/.wh..wh.orph"
	ok test -f "$br/.wh..wh.aufs"
done
ok test ! -e b/.wh..wh.orph
ok test ! -e e/.wh..wh.orph
assert_eq "bfile bfile2 cdir ce cfile d dup eonly eonly2 shared" "$(names m)" "merged root"
assert_eq "s1 s2" "$(names m/shared)" "merged shared"

section "an object of a writable branch changes in place"
run_sh "echo c-new >$T/m/cfile"
assert_file_content c/cfile c-new
ok test ! -e a/cfile
run chmod 0600 m/cdir/c1
assert_eq 600 "$(stat -c %a c/cdir/c1)" "mode of c/cdir/c1"
ok test ! -e a/cdir

section "copy-up goes above the read-only branch (cpup=tdp)"
run_sh "echo b-new >$T/m/bfile"
assert_file_content a/bfile b-new
assert_file_content m/bfile b-new
# shared: on b (top) and c; no writable branch holds it above b: the
# nearest one above, a, gets the parent too.
run_sh "echo s1-new >$T/m/shared/s1"
assert_file_content a/shared/s1 s1-new
ok test -d a/shared
ok test ! -e c/shared/s1

section "new objects go to the parent's topmost writable branch (create=tdp)"
run_sh "echo n >$T/m/new"
assert_file_content a/new n
run_sh "echo n2 >$T/m/cdir/new2"
assert_file_content c/cdir/new2 n2
ok test ! -e a/cdir
run mkdir m/cdir/sub
ok test -d c/cdir/sub
run_sh "echo n3 >$T/m/cdir/sub/n3"
assert_file_content c/cdir/sub/n3 n3
# d is on b only: copied up to a first.
run_sh "echo n4 >$T/m/d/n4"
assert_file_content a/d/n4 n4
# shared has its copy on a now, the topmost.
run_sh "echo n5 >$T/m/shared/n5"
assert_file_content a/shared/n5 n5
assert_eq "n5 s1 s2" "$(names m/shared)" "merged shared"

section "whiteouts beside what they hide"
# On c only: removed there, nothing to hide.
run rm m/cdir/c1
ok test ! -e c/cdir/c1
ok test ! -e c/cdir/.wh.c1
# On c above e: removed from c, whited out on c.
run rm m/ce
ok test ! -e c/ce
ok test -e c/.wh.ce
assert_file_content e/ce ece
ok test ! -e a/.wh.ce
ok test ! -e m/ce
# On b (read-only) above c: the whiteout goes to a.
run rm m/dup
ok test -e a/.wh.dup
assert_file_content b/dup bdup
assert_file_content c/dup cdup
ok test ! -e m/dup
run rm m/bfile2
ok test -e a/.wh.bfile2
ok test ! -e m/bfile2
# Made again: on a, where the whiteout was, which goes.
run_sh "echo again >$T/m/dup"
assert_file_content a/dup again
ok test ! -e a/.wh.dup
# s2 lives on c, below the copy of shared on a.
run rm m/shared/s2
ok test ! -e c/shared/s2
assert_eq "n5 s1" "$(names m/shared)" "merged shared"
run rm m/cdir/sub/n3
run rmdir m/cdir/sub
ok test ! -e c/cdir/sub

section "rename stays on the branch of the object"
run mv m/cfile m/cfile2
assert_file_content c/cfile2 c-new
ok test ! -e c/cfile
ok test ! -e a/cfile2
run mv m/cdir/new2 m/cdir/new3
assert_file_content c/cdir/new3 n2
run mv m/bfile m/bfile3
assert_file_content a/bfile3 b-new
ok test -e a/.wh.bfile
# Into a directory whose copy on c is not its top: still on c.
run mv m/cdir/new3 m/shared/new3
assert_file_content c/shared/new3 n2
ok test ! -e m/cdir/new3
# Onto a file of another writable branch: mv copies (EXDEV inside).
run mv m/cfile2 m/shared/n5
assert_file_content m/shared/n5 c-new
assert_file_content a/shared/n5 c-new
ok test ! -e m/cfile2
ok test ! -e c/cfile2
assert_eq "bfile3 cdir d dup eonly eonly2 new shared" "$(names m)" "merged root"
# Into a directory that only a above c holds: ln and rename copy it down
# to c, with its mode, and keep the object there (no EXDEV, no copy).
run mkdir -p m/adir/sub
run chmod 0751 m/adir
ok test ! -e c/adir
run_sh "echo hl >$T/m/cdir/hl"
assert_file_content c/cdir/hl hl
ok ln m/cdir/hl m/adir/hl2
assert_eq "$(stat -c %i c/cdir/hl)" "$(stat -c %i c/adir/hl2 2>&1)" "branch inode of the new link"
assert_eq 751 "$(stat -c %a c/adir)" "mode of adir copied down to c"
ok python3 -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' m/cdir/hl m/adir/sub/hl3
assert_file_content c/adir/sub/hl3 hl
ok test ! -e c/cdir/hl
assert_eq "" "$(find a/adir -mindepth 1 ! -type d)" "files on a in adir"
assert_eq "hl2 sub" "$(names m/adir)" "listing of adir"
assert_eq "2 2" "$(stat -c %h m/adir/hl2 m/adir/sub/hl3 | tr '\n' ' ' | sed 's/ $//')" "link counts through the union"

section "create= and cpup= options"
# fsconfig KEY VALUE...: one remount of $fsc_target through fspick(2) +
# fsconfig(2), which prints the kernel's message and fails like the
# remount.
fsc_target=$T/m
fsconfig() { "$CPA_TESTS/fsconfig.py" "$fsc_target" "$@"; }
expect_dmesg 'cppaufs: (create|cpup)='
expect_dmesg 'cppaufs: (append|add|mod|del)[:=]'
assert_fails_with "cpup=xx: bad value (expected tdp, bup or bu)" fsconfig cpup xx
assert_fails_with "create=tdmfs: tdmfs needs the free space under which it changes course, e.g. tdmfs:1G" \
	fsconfig create tdmfs
assert_fails_with "create=mfsrr:1Q:3: bad size 1Q (bytes, or with k, m, g or t)" \
	fsconfig create mfsrr:1Q:3
assert_fails_with "create=nope: bad value (expected tdp, rr, mfs[:secs], pmfs[:secs], tdmfs:low[:secs], mfsrr:low[:secs] or pmfsrr:low[:secs])" \
	fsconfig create nope
assert_fails_with "create=rr:5: rr takes no interval" fsconfig create rr:5
assert_fails_with "create=pmfsrr:1G:x: bad interval (0 to 3600 seconds)" \
	fsconfig create pmfsrr:1G:x
assert_fails_with "create=mfs:x: bad interval (0 to 3600 seconds)" fsconfig create mfs:x
ok sh -c "! grep -q 'cpup=' /proc/mounts"
run mount -o remount,cpup=bu m
ok grep -q " $T/m cppaufs .*,cpup=bu" /proc/mounts
# bu: the nearest writable branch above e is c.
run_sh "echo e-new >$T/m/eonly"
assert_file_content c/eonly e-new
ok test ! -e a/eonly
run mount -o remount,cpup=bup m
ok grep -q " $T/m cppaufs .*,cpup=bup" /proc/mounts
run mount -o remount,cpup=tdp m
ok sh -c "! grep -q 'cpup=' /proc/mounts"
run_sh "echo e2-new >$T/m/eonly2"
assert_file_content a/eonly2 e2-new
ok test ! -e c/eonly2
run fsconfig create pmfs
ok grep -q " $T/m cppaufs .*,create=pmfs:30" /proc/mounts
run fsconfig create mfs:5
ok grep -q " $T/m cppaufs .*,create=mfs:5" /proc/mounts
run mount -o remount,create=tdp m
ok sh -c "! grep -q 'create=' /proc/mounts"

section "changes of branches: writable branches added and made writable below the others"
si=$(sed -n 's/.*si=\([0-9a-f]*\).*/\1/p' <<<"$(grep " $T/m " /proc/mounts)")
branches() {
	local i out=()
	for ((i = 0; ; i++)); do
		[ -e "/sys/fs/cppaufs/si_$si/br$i" ] || break
		out+=("$(cat "/sys/fs/cppaufs/si_$si/br$i")")
	done
	echo "${out[*]}"
}
mkdir -p "$T/f" "$T/k/kdir" "$T/k/kcwd"
echo k >"$T/k/kfile"
echo kk >"$T/k/kdir/kk"
echo busy >"$T/k/kbusy"
cur="$T/a=rw $T/b=ro $T/c=rw $T/e=ro"
# a step that fails after f=rw was added: neither is left
assert_fails_with "no index 42" fsconfig append "$T/f=rw" add "42:$T/k"
assert_eq "$cur" "$(branches)" "branches after the refused remounts"
ok test ! -e f/.wh..wh.orph
run fsconfig append "$T/f=rw" append "$T/k=ro"
assert_eq "$cur $T/f=rw $T/k=ro" "$(branches)" "branches"
ok test -d f/.wh..wh.orph
ok test -f f/.wh..wh.aufs
# create=rr turns through the three writable branches
run fsconfig create rr
for i in 1 2 3 4 5 6; do run_sh "echo $i >$T/m/rr$i"; done
assert_eq 2 "$(ls f | grep -c '^rr')" "files create=rr put on the added branch"
assert_eq 6 "$(ls m | grep -c '^rr')" "files create=rr made"
run fsconfig create tdp
# cpup=bu: the nearest writable branch above, the added one
run fsconfig cpup bu
run_sh "echo kk2 >>$T/m/kdir/kk"
assert_file_content f/kdir/kk "kk
kk2"
assert_file_content k/kdir/kk kk
run fsconfig cpup tdp
# mod k=rw: refused while a file read from k is in use
ino_k=$(stat -c %i m/kfile)
exec 7<"$T/m/kbusy"
assert_fails_with "mod:$T/k=rw: branch busy: file /kbusy is in use" \
	fsconfig mod "$T/k=rw"
exec 7<&-
assert_eq "$cur $T/f=rw $T/k=ro" "$(branches)" "branches after the busy mod"
# a shell's working directory on k is no obstacle
(cd "$T/m/kcwd" && exec sleep infinity) &
cwd_pid=$!
sleep 0.5
run fsconfig mod "$T/k=rw"
assert_eq "$cur $T/f=rw $T/k=rw" "$(branches)" "branches"
ok test -d k/.wh..wh.orph
# its objects now change in place
run_sh "echo k2 >>$T/m/kfile"
assert_file_content k/kfile "k
k2"
ok test ! -e a/kfile
ok test ! -e f/kfile
assert_eq "$ino_k" "$(stat -c %i m/kfile)" "union number of kfile"
run_sh "echo in-cwd >$T/m/kcwd/new"
assert_file_content k/kcwd/new in-cwd
kill "$cwd_pid"
wait "$cwd_pid" 2>/dev/null || :
run rm m/kbusy
ok test ! -e k/kbusy
ok test ! -e a/.wh.kbusy
ok test ! -e f/.wh.kbusy
section "changes of branches: writable branches made read-only and removed"
# mod k=ro: refused while a file found there is in use
exec 7<"$T/m/kfile"
assert_fails_with "mod:$T/k=ro: branch busy: file /kfile is in use" \
	fsconfig mod "$T/k=ro"
exec 7<&-
assert_eq "$cur $T/f=rw $T/k=rw" "$(branches)" "branches after the busy mod"
run fsconfig mod "$T/k=ro"
assert_eq "$cur $T/f=rw $T/k=ro" "$(branches)" "branches"
# its objects are copied up again (tdp: the root's topmost writable branch)
run_sh "echo k3 >>$T/m/kfile"
assert_file_content a/kfile "k
k2
k3"
assert_file_content k/kfile "k
k2"
assert_eq "$ino_k" "$(stat -c %i m/kfile)" "union number of kfile"
# rr turns over the writable branches left
run fsconfig create rr
for i in 7 8 9 10 11 12; do run_sh "echo $i >$T/m/rr$i"; done
assert_eq 0 "$(ls k | grep -c '^rr')" "files create=rr put on the read-only branch"
run fsconfig create tdp
# del f: refused while a file copied up there is in use
exec 7<"$T/m/kdir/kk"
assert_fails_with "del:$T/f: branch busy: 1 open file" fsconfig del "$T/f"
exec 7<&-
run rm m/kdir/kk
ok test -e f/kdir/.wh.kk
ok test ! -e m/kdir/kk
on_f=$(ls f | grep -c '^rr')
run fsconfig del "$T/f"
assert_eq "$cur $T/k=ro" "$(branches)" "branches"
# what f held, whiteouts too, left with it
assert_file_content m/kdir/kk kk
assert_eq "$((12 - on_f))" "$(ls m | grep -c '^rr')" "files create=rr left"
run_sh "echo k4 >>$T/m/kdir/kk"
assert_file_content m/kdir/kk "kk
k4"
assert_file_content k/kdir/kk kk
# a step undone by a later one changes nothing
run fsconfig mod "$T/k=rw" mod "$T/k=ro"
assert_eq "$cur $T/k=ro" "$(branches)" "branches"
ok cpa_umount m
assert_eq "$before" "$(sums)" "read-only branches"

section "create=rr, mfs and pmfs"
# Two writable branches on file systems of their own: x small, y large.
mkfs_loop tmpfs "$T/x" 16M
mkfs_loop tmpfs "$T/y" 48M
mkdir -p x/xonly x/both y/both y/yonly p
on_x() { local n=0 f; for f in "$@"; do [ ! -e "x/$f" ] || n=$((n + 1)); done; echo $n; }
on_y() { local n=0 f; for f in "$@"; do [ ! -e "y/$f" ] || n=$((n + 1)); done; echo $n; }
cpa_mount p "$T/x=rw:$T/y=rw" "create=rr,noxino"
fsc_target=$T/p
ok grep -q " $T/p cppaufs .*,create=rr" /proc/mounts
for i in 1 2 3 4; do run_sh "echo $i >$T/p/rr$i"; done
assert_eq 2 "$(on_x rr1 rr2 rr3 rr4)" "rr files on x"
assert_eq 2 "$(on_y rr1 rr2 rr3 rr4)" "rr files on y"
# Directories stay with their parent's topmost writable branch.
run mkdir p/rd1 p/rd2
assert_eq 2 "$(on_x rd1 rd2)" "rr directories on x"
run fsconfig create mfs:0
ok grep -q " $T/p cppaufs .*,create=mfs:0" /proc/mounts
run_sh "echo m1 >$T/p/m1"
assert_file_content y/m1 m1
# Fill y through the union: the next create lands where there is room.
run dd if=/dev/zero of=p/m1 bs=1M count=44 status=none
ok test -s y/m1
run_sh "echo m2 >$T/p/m2"
assert_file_content x/m2 m2
# yonly is upper on y: its children stay there (as with tdp).
run_sh "echo m3 >$T/p/yonly/m3"
assert_file_content y/yonly/m3 m3
ok test ! -e x/yonly
run fsconfig create pmfs:0
# both: on x and y; y is nearly full.
run_sh "echo p1 >$T/p/both/p1"
assert_file_content x/both/p1 p1
run dd if=/dev/zero of=p/both/p1 bs=1M count=14 status=none
run_sh "echo p2 >$T/p/both/p2"
assert_file_content y/both/p2 p2
# xonly: on x only; pmfs keeps to the parent's branches.
run_sh "echo p3 >$T/p/xonly/p3"
assert_file_content x/xonly/p3 p3
assert_eq "both m1 m2 m3 p1 p2 p3 rd1 rd2 rr1 rr2 rr3 rr4 xonly yonly" \
	"$(cd p && LC_ALL=C find . -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ' | sed 's/ $//')" "union"
# mfs, y has room again: xonly (on x only) gets a copy on y, with its
# mode, below its top (copy-down), and the file goes there.
run fsconfig create mfs:0
run rm p/m1
run chmod 0750 p/xonly
# made on x directly, before the union lists xonly again
mkdir -p x/xonly/deep/er x/xonly/opq
: >x/xonly/opq/.wh..wh..opq
run_sh "echo d1 >$T/p/xonly/d1"
assert_file_content y/xonly/d1 d1
ok test ! -e x/xonly/d1
assert_eq "750 750" "$(stat -c %a x/xonly y/xonly | tr '\n' ' ' | sed 's/ $//')" "modes of xonly on x and y"
# two levels at once
run_sh "echo d2 >$T/p/xonly/deep/er/d2"
assert_file_content y/xonly/deep/er/d2 d2
assert_file_content p/xonly/deep/er/d2 d2
# below an opaque directory a copy would be hidden: tdp decides
run_sh "echo d3 >$T/p/xonly/opq/d3"
assert_file_content x/xonly/opq/d3 d3
ok test ! -e y/xonly/opq
assert_eq "d1 deep opq p3" "$(names p/xonly)" "listing of xonly"
ok cpa_umount p

section "create=tdmfs, mfsrr and pmfsrr"
# v (16 MiB) above w (32 MiB); the low mark is 8 MiB.
mkfs_loop tmpfs "$T/v" 16M
mkfs_loop tmpfs "$T/w" 32M
mkdir -p v/both w/both q
on_v() { local n=0 f; for f in "$@"; do [ ! -e "v/$f" ] || n=$((n + 1)); done; echo $n; }
on_w() { local n=0 f; for f in "$@"; do [ ! -e "w/$f" ] || n=$((n + 1)); done; echo $n; }
cpa_mount q "$T/v=rw:$T/w=rw" "create=tdmfs:8M:0,noxino"
fsc_target=$T/q
ok grep -q " $T/q cppaufs .*,create=tdmfs:8388608:0" /proc/mounts
# tdmfs: the topmost branch with more than 8 MiB free...
run_sh "echo t1 >$T/q/t1"
assert_file_content v/t1 t1
run dd if=/dev/zero of=q/t1 bs=1M count=10 status=none
# ... v has 6 MiB left: the next one with room.
run_sh "echo t2 >$T/q/t2"
assert_file_content w/t2 t2
run dd if=/dev/zero of=q/t2 bs=1M count=28 status=none
# Neither has 8 MiB: the one with the most free space (v, 6 MiB).
run_sh "echo t3 >$T/q/t3"
assert_file_content v/t3 t3
# mfsrr: both below the mark, so in turn.
run fsconfig create mfsrr:8M:0
ok grep -q " $T/q cppaufs .*,create=mfsrr:8388608:0" /proc/mounts
for i in 1 2 3 4; do run_sh "echo $i >$T/q/r$i"; done
assert_eq 2 "$(on_v r1 r2 r3 r4)" "mfsrr files on v, both short of room"
assert_eq 2 "$(on_w r1 r2 r3 r4)" "mfsrr files on w, both short of room"
# v has room again: the one with the most free space, every time.
run rm q/t1
# The branch frees the space at once (the union holds nothing of t1).
assert_eq 1 "$(stat -f -c '%a %S' v | awk '{ print ($1 * $2 > 15 * 2^20) }')" \
	"v has its space back after rm"
for i in 5 6; do run_sh "echo $i >$T/q/r$i"; done
assert_eq 2 "$(on_v r5 r6)" "mfsrr files on v, the one with room"
# pmfsrr: the parent's branch with the most room while it has 8 MiB...
run mount -o remount,create=pmfsrr:8M:0 q
ok grep -q " $T/q cppaufs .*,create=pmfsrr:8388608:0" /proc/mounts
run_sh "echo p1 >$T/q/both/p1"
assert_file_content v/both/p1 p1
# ... then any branch, as mfsrr: both short of room, so in turn.
run dd if=/dev/zero of=q/both/p1 bs=1M count=10 status=none
for i in 2 3 4 5; do run_sh "echo $i >$T/q/both/p$i"; done
assert_eq 2 "$(on_v both/p2 both/p3 both/p4 both/p5)" "pmfsrr files on v, both short of room"
assert_eq 2 "$(on_w both/p2 both/p3 both/p4 both/p5)" "pmfsrr files on w, both short of room"

section "statfs: nosum, sum and wsum"
# A read-only branch on a third file system ($T's), added below.
run fsconfig append "$T/b=ro"
size() { stat -f -c '%b %S' "$1" | awk '{ printf "%d\n", $1 * $2 }'; }
assert_eq "$(size v)" "$(size q)" "nosum: branch 0's size"
run mount -o remount,sum q
ok grep -q " $T/q cppaufs .*,sum" /proc/mounts
assert_eq "$(( $(size v) + $(size w) + $(size "$T") ))" "$(size q)" \
	"sum: every file system once"
run mount -o remount,wsum q
ok grep -q " $T/q cppaufs .*,wsum" /proc/mounts
assert_eq "$(( $(size v) + $(size w) ))" "$(size q)" "wsum: the writable branches'"
run mount -o remount,nosum q
ok sh -c "! grep -q ',w*sum' /proc/mounts"
ok cpa_umount q

section "hard-linked lower files: every name to one copy, whatever cpup= says"
# The pseudo-links live on the first writable branch as mounted, p1 here
# (branch 0 is read-only).  cpup=bu would copy to p2, the nearest one above
# pl: hard-linked files go to p1 all the same, so that their names stay
# one file; a file with one name goes where cpup= says.  A name in a
# directory that p2 holds already gets that directory on p1 too (copied
# over), which still merges what p2 holds.
mkdir -p p0 p1 p2 pl/x pl/y pl/w pq
echo lk >pl/x/l1
ln pl/x/l1 pl/y/l2
ln pl/x/l1 pl/w/l3
echo zz >pl/x/z1
ln pl/x/z1 pl/y/z2
echo plain >pl/w/plain
lsums=$(cd pl && find . -printf '%p %n %s\n' | sort && find . -type f -exec md5sum {} + | sort)
cpa_mount pq "$T/p0=ro:$T/p1=rw:$T/p2=rw:$T/pl=ro" cpup=bu
ok test -d p1/.wh..wh.plnk
ok test ! -e p2/.wh..wh.plnk
ok test ! -e p0/.wh..wh.plnk
run_sh "echo p >>$T/pq/w/plain"
assert_file_content p2/w/plain "plain
p"
ok test ! -e p1/w
assert_eq "$(stat -c %i pq/x/l1) $(stat -c %i pq/x/l1)" "$(stat -c %i pq/y/l2) $(stat -c %i pq/w/l3)" "inode numbers of the three names"
run_sh "echo one >>$T/pq/x/l1"
assert_file_content p1/x/l1 "lk
one"
ok test ! -e p2/x/l1
assert_file_content pq/y/l2 "lk
one"
run_sh "echo two >>$T/pq/y/l2"
assert_eq "$(stat -c %i p1/x/l1)" "$(stat -c %i p1/y/l2 2>&1)" "branch inodes of the two copied names"
ok test ! -e p2/y
# w is on p2: its hard-linked name still goes to p1, linked as soon as
# it is looked at, now that another name was copied.
assert_eq "3 3 3" "$(stat -c %h pq/x/l1 pq/y/l2 pq/w/l3 | tr '\n' ' ' | sed 's/ $//')" "link counts through the union"
assert_eq "$(stat -c %i p1/x/l1)" "$(stat -c %i p1/w/l3 2>&1)" "branch inodes of l1 and l3"
ok test ! -e p2/w/l3
run_sh "echo three >>$T/pq/w/l3"
assert_eq "l3 plain" "$(names pq/w)" "listing of w"
assert_file_content pq/w/plain "plain
p"
assert_eq "3 3 3" "$(stat -c %h pq/x/l1 pq/y/l2 pq/w/l3 | tr '\n' ' ' | sed 's/ $//')" "link counts with every name copied"
# A name removed: its whiteout goes where its copy would, on p1.
run rm pq/x/z1
ok test -e p1/x/.wh.z1
ok test ! -e p2/x/.wh.z1
assert_eq 1 "$(stat -c %h pq/y/z2)" "link count of the other name"
run_sh "sync; echo 2 >/proc/sys/vm/drop_caches"
assert_eq "$(stat -c %i pq/x/l1) $(stat -c %i pq/x/l1)" "$(stat -c %i pq/y/l2) $(stat -c %i pq/w/l3)" "inode numbers after drop_caches"
for f in pq/x/l1 pq/y/l2 pq/w/l3; do
	assert_file_content "$f" "lk
one
two
three"
done
assert_eq "3 3 3" "$(stat -c %h pq/x/l1 pq/y/l2 pq/w/l3 | tr '\n' ' ' | sed 's/ $//')" "link counts after drop_caches"
assert_file_content pq/w/plain "plain
p"
assert_eq 1 "$(stat -c %h pq/y/z2)" "link count of z2 after drop_caches"
ok cpa_umount pq
assert_eq "$lsums" "$(cd pl && find . -printf '%p %n %s\n' | sort && find . -type f -exec md5sum {} + | sort)" "the read-only branch"
ok test -z "$(ls -A p0)"

section "the only writable branch below a read-only one"
mkdir -p g/gd h/hd n
echo g >g/gfile
echo h >h/hfile
echo hd >h/hd/x
cpa_mount n "$T/g=ro:$T/h=rw"
assert_fails_with "Read-only file system" sh -c "echo x >$T/n/gfile"
assert_file_content g/gfile g
run_sh "echo h-new >$T/n/hfile"
assert_file_content h/hfile h-new
run_sh "echo new >$T/n/hd/new"
assert_file_content h/hd/new new
# The root is on h too: new names at the root go there.
run_sh "echo top >$T/n/top"
assert_file_content h/top top
assert_fails_with "Read-only file system" rm "$T/n/gfile"
run rm n/hd/x
ok test ! -e h/hd/x
ok test ! -e g/.wh.x
assert_fails_with "Read-only file system" mkdir "$T/n/gd/sub"
# Branch 0 as mounted, read-only: made writable, then removed.  It keeps
# no pseudo-links: h, the first writable branch at mount, does.
chmod 705 g
run mount -o "remount,mod:$T/g=rw" n
run_sh "echo x >>$T/n/gfile"
assert_file_content g/gfile "g
x"
ok test ! -e g/.wh..wh.plnk
ok test -d h/.wh..wh.plnk
assert_eq 705 "$(stat -c %a n)" "mode of the root: branch 0's"
run mount -o "remount,del:$T/g" n
assert_fails_with "No such file" stat n/gfile
assert_file_content n/hfile h-new
assert_eq "$(stat -c %a h)" "$(stat -c %a n)" "mode of the root: the new branch 0's"
run_sh "echo after >$T/n/after"
assert_file_content h/after after
ok cpa_umount n

section "a read-only union gets a writable branch"
mkdir -p r1/rd r2 r3 rou
echo r1 >r1/rd/x
cpa_mount rou "$T/r1=ro"
ok grep -q " $T/rou cppaufs ro[, ]" /proc/mounts
expect_dmesg 'cppaufs: no writable branch'
assert_fails_with "" mount -o remount,rw "$T/rou"
run mount -o "remount,append:$T/r2=rw" "$T/rou"
ok grep -q " $T/rou cppaufs ro[, ]" /proc/mounts
run mount -o remount,rw "$T/rou"
run_sh "echo y >$T/rou/y"
assert_file_content r2/y y
# below the read-only branch, nothing of it is copied up
assert_fails_with "Read-only file system" sh -c "echo y >$T/rou/rd/y"
ok test ! -e r1/rd/y
assert_file_content r1/rd/x r1

section "a read-write union keeps a writable branch"
expect_dmesg 'cppaufs: (mod|del):[^ ]*: no writable branch would be left'
fsc_target=$T/rou
assert_fails_with "mod:$T/r2=ro: no writable branch would be left in a read-write union" \
	fsconfig mod "$T/r2=ro"
assert_fails_with "del:$T/r2: no writable branch would be left" \
	fsconfig append "$T/r3=ro" del "$T/r2"
assert_fails_with "" mount -o "remount,mod:$T/r2=rr" "$T/rou"
# nothing changed
rsys=/sys/fs/cppaufs/si_$(sed -n 's/.*si=\([0-9a-f]*\).*/\1/p' <<<"$(grep " $T/rou " /proc/mounts)")
assert_eq "$T/r1=ro $T/r2=rw" "$(cat "$rsys/br0" "$rsys/br1" | tr '\n' ' ' | sed 's/ $//')" "branches"
ok test ! -e "$rsys/br2"
ok grep -q " $T/rou cppaufs rw[, ]" /proc/mounts
run_sh "echo z >$T/rou/z"
assert_file_content r2/z z
# with ro in the same remount
run mount -o "remount,ro,mod:$T/r2=ro" "$T/rou"
ok grep -q " $T/rou cppaufs ro[, ]" /proc/mounts
assert_eq "$T/r2=ro" "$(cat "$rsys/br1")" "branch 1"
assert_fails_with "Read-only file system" touch "$T/rou/z2"
ok test ! -e r2/z2
# and back, in one remount
run mount -o "remount,rw,mod:$T/r2=rw" "$T/rou"
run_sh "echo z3 >$T/rou/z3"
assert_file_content r2/z3 z3
ok cpa_umount rou

section "a remount that changes a branch waits for the writes under way"
# A copy-up under way (truncate(2) of a lower file: its copy staged in
# w2's work directory) when mod:w2=ro comes: the remount publishes once
# it is done, so no staged copy is left on w2 when it returns.
mkfs_loop tmpfs "$T/h" 640M
cd "$T/h"
mkdir -p w1 w2/p lo/p wm
dd if=/dev/zero of=lo/p/big bs=1M count=256 status=none
sum=$(head -c 192M lo/p/big | md5sum)
for i in 1 2 3 4; do mkdir w2/r$i; done
cpa_mount wm "$T/h/w1=rw:$T/h/w2=rw:$T/h/lo=ro"
python3 -c 'import os; os.truncate("wm/p/big", 192 << 20)' &
cpid=$!
staged= n=0
while [ -z "$staged" ] && [ $n -lt 2000 ] && kill -0 "$cpid" 2>/dev/null; do
	staged=$(ls -A w2/.wh..wh.orph)
	n=$((n + 1))
done
assert_eq 1 "$([ -n "$staged" ] && echo 1)" "a copy staged on w2 before the remount"
# The remount waits for truncate's operation on the union; the system
# call may still hold the file a moment longer, which makes the branch
# busy (the copy on w2 is complete then): once it has returned, again.
rc=0
if ! mount -o "remount,mod:$T/h/w2=ro" "$T/h/wm"; then
	ok grep -q "cppaufs: mod:$T/h/w2=ro: branch busy: file /p/big is in use" \
		<<<"$(dmesg | tail -n 5)"
	wait "$cpid" || rc=$?
	cpid=
	run mount -o "remount,mod:$T/h/w2=ro" "$T/h/wm"
fi
assert_eq "" "$(ls -A w2/.wh..wh.orph)" "copies staged on w2 after the remount"
[ -z "$cpid" ] || wait "$cpid" || rc=$?
assert_eq 0 "$rc" "truncate's status"
assert_eq "$sum" "$(md5sum <wm/p/big)" "data"
run mount -o "remount,mod:$T/h/w2=rw" "$T/h/wm"
# Directories made in a loop while w2 turns read-only and back: none
# lands on w2 once the remount has returned.
for i in 1 2 3 4; do
	rm -f stop
	sh -c 'n=0; while [ ! -e stop ]; do mkdir "wm/r$1/x$n" 2>/dev/null; n=$((n + 1)); done' sh "$i" &
	wpid=$!
	sleep 0.2
	run mount -o "remount,mod:$T/h/w2=ro" "$T/h/wm"
	seen=$(ls w2/r$i | wc -l)
	sleep 0.3
	assert_eq "$seen" "$(ls w2/r$i | wc -l)" "round $i: directories on w2 since it was made read-only"
	touch stop
	rc=0; wait "$wpid" || rc=$?
	assert_eq 0 "$rc" "round $i: the loop's status"
	run mount -o "remount,mod:$T/h/w2=rw" "$T/h/wm"
	assert_eq "$(ls w1/r$i w2/r$i 2>/dev/null | grep -c '^x')" "$(ls wm/r$i | wc -l)" "round $i: every directory made is there"
done
ok cpa_umount wm
