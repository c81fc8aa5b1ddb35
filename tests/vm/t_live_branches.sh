#!/bin/bash
# vm-args: --timeout 600
# Branches added to a mounted union, removed and their permissions
# changed, through mount(8) (legacy mount(2) options) and through
# fspick(2) + fsconfig(2): add:<index>:, ins:, append:, mod:, del:; a
# shell working in a merged directory sees the new branch's files there,
# and keeps working when the branch of its directory is removed; del:
# refuses a branch with an open file, a mapping (its file closed) or a
# directory in use that exists only there; negative lookups cached before a
# change see names a new branch brings; union inode numbers of kept
# objects do not change, and a new branch's objects keep theirs across a
# remount with the same xino file; sysfs and /proc/mounts follow; a
# remount that fails at any step leaves the union as it was, with a
# message naming the step; copy-up from an added branch leaves it intact.
# Branches added above the writable branch (prepend:, add:0:), read-only
# and writable, made writable there and removed again: the directory in
# use takes its new top's attributes and then its old one's, new objects
# and whiteouts go to the writable branch that the policy picks, and with
# udba=none a file in use that a new branch hides is looked up anew, and
# a directory in use shows its new top's attributes.  The branch of the
# pseudo-links made read-only and removed: the copies of hard-linked files
# stay readable, then go with it, and its file system can be unmounted.
# A merged directory first seen from an added branch keeps its number
# once that branch is removed.
. "$(dirname "$0")/lib.sh"
require_module

T=/tmp/live
mkfs_loop tmpfs "$T"
cd "$T"
mkdir -p u base/d mod1/d mod2/d mod3 m
echo base >base/file
echo base-x >base/d/x
echo one >mod1/mod1
echo one-y >mod1/d/y
echo one-x >mod1/d/x
echo two >mod2/mod2
echo two-x >mod2/d/x
echo three >mod3/later
mkdir mod3/only
echo only >mod3/only/f
cpa_mount m "$T/u:$T/base" "xino=$T/xino"

si=$(sed -n 's/.*si=\([0-9a-f]*\).*/\1/p' <<<"$(grep " $T/m " /proc/mounts)")
sys=/sys/fs/cppaufs/si_$si
# sysfs_list br|brid: every br<N> ("path=perm") or brid<N>, in order.
sysfs_list() {
	local i out=()
	for ((i = 0; ; i++)); do
		[ -e "$sys/$1$i" ] || break
		out+=("$(cat "$sys/$1$i")")
	done
	echo "${out[*]}"
}
branches() { sysfs_list br; }
brids() { sysfs_list brid; }
names() { ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }
# fsconfig KEY VALUE...: one remount through fspick(2) + fsconfig(2);
# prints the kernel's messages and fails like the remount.
fsconfig() { "$CPA_TESTS/fsconfig.py" "$T/m" "$@"; }

section "before"
assert_eq "$T/u=rw $T/base=ro" "$(branches)" "branches"
assert_eq "0 1" "$(brids)" "brids"
ino_file=$(stat -c %i m/file)
ino_d=$(stat -c %i m/d)
assert_file_content m/d/x base-x
assert_fails_with "No such file" stat m/later
assert_fails_with "No such file" stat m/d/y
# a shell working in a merged directory, and a file held open
bash -c 'cd m/d && while :; do sleep 0.1; done' &
shell=$!
on_exit kill "$shell"
exec 7<m/file

section "add:1: through mount(8)"
run mount -o "remount,add:1:$T/mod1=rr" m
assert_eq "$T/u=rw $T/mod1=rr $T/base=ro" "$(branches)" "branches"
assert_eq "0 2 1" "$(brids)" "brids: the new branch gets a new one"
assert_eq "d file mod1" "$(names m)" "listing of the root"
assert_eq "x y" "$(names m/d)" "listing of the merged directory"
assert_file_content m/d/x one-x
assert_file_content m/d/y one-y
assert_eq "x y" "$(ls -A /proc/$shell/cwd/ | tr '\n' ' ' | sed 's/ $//')" \
	"listing of the shell's working directory"
assert_eq "$ino_file" "$(stat -c %i m/file)" "inode number of a kept file"
assert_eq "$ino_d" "$(stat -c %i m/d)" "inode number of the merged directory"
assert_file_content /proc/self/fd/7 base
ok grep -q " $T/m cppaufs .*si=$si" /proc/mounts

section "append: and mod: through fspick + fsconfig"
run fsconfig append "$T/mod2"
assert_eq "$T/u=rw $T/mod1=rr $T/base=ro $T/mod2=ro" "$(branches)" "branches"
assert_eq "0 2 1 3" "$(brids)" "brids"
assert_eq "d file mod1 mod2" "$(names m)" "listing of the root"
assert_file_content m/d/x one-x
run fsconfig mod "$T/mod2=rr" mod "$T/mod1=ro"
assert_eq "$T/u=rw $T/mod1=ro $T/base=ro $T/mod2=rr" "$(branches)" "branches"

section "a negative lookup cached before the change"
assert_fails_with "No such file" stat m/later
run mount -o "remount,ins:2:$T/mod3" m
assert_file_content m/later three
assert_eq "$T/u=rw $T/mod1=ro $T/mod3=ro $T/base=ro $T/mod2=rr" \
	"$(branches)" "branches"

section "copy-up from an added branch"
run_sh "echo more >>m/mod1"
assert_file_content m/mod1 "one
more"
assert_file_content mod1/mod1 one
assert_file_content u/mod1 "one
more"
ino_later=$(stat -c %i m/later)

section "refused changes leave the union as it was"
# Each refusal is one line in the fs_context log and in the kernel log.
expect_dmesg 'cppaufs: (add|ins|append|prepend|del|mod)[:=]'
before=$(branches)
# mount(2) has no log to read: mount(8) says EINVAL, the kernel log why.
assert_fails_with "" mount -o "remount,add:9:$T/mod3" m
ok grep -q "cppaufs: add:9:$T/mod3: no index 9: the union has 5 branches" \
	<<<"$(dmesg)"
assert_fails_with "no index 9: the union has 5 branches" \
	fsconfig add "9:$T/mod3"
assert_fails_with "already branch 2" fsconfig append "$T/mod3"
assert_fails_with "overlaps branch $T/base" fsconfig append "$T/base/d"
mkdir -p extra
assert_fails_with "not a branch of this union" fsconfig mod "$T/extra=ro"
assert_fails_with "expected add:<index>:<path>" fsconfig add "$T/mod3"
assert_fails_with "bad permission 'xx'" fsconfig append "$T/mod3=xx"
# the first step is fine, the second is not: nothing changes
assert_fails_with "no index 42" fsconfig append "$T/extra" add "42:$T/mod3"
assert_eq "$before" "$(branches)" "branches after the refused remounts"
assert_eq "d file later mod1 mod2 only" "$(names m)" "listing of the root"
assert_fails_with "" mount -t cppaufs \
	-o "dirs=$T/u:$T/base,append:$T/mod2" none "$T/extra"
ok grep -q "cppaufs: append:$T/mod2: branches are changed on remount only" \
	<<<"$(dmesg)"

section "del: refused while the branch is in use"
assert_eq "0 2 4 1 3" "$(brids)" "brids"
exec 8<m/mod2
assert_fails_with "del:$T/mod2: branch busy: 1 open file" fsconfig del "$T/mod2"
if cpa_install_tools; then
	# auctl names who keeps the branch busy
	assert_fails_with "auctl: error: del:$T/mod2: branch busy: 1 open file (pid $$ " \
		auctl del "$T/m" "$T/mod2"
	# so does mount(8), through the helper now installed
	assert_fails_with "mount.cppaufs: del:$T/mod2: branch busy: 1 open file (pid $$ " \
		mount -o "remount,del:$T/mod2" m
else
	fail "tools not built in ${CPPAUFS_BUILD:-?}"
fi
exec 8<&-
# a mapping outlives its file descriptor, and keeps the branch busy
# (with mmap(2) itself: Python's mmap module keeps a duplicate descriptor)
python3 -c 'import ctypes, mmap, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
		      ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open(sys.argv[1], os.O_RDONLY)
p = libc.mmap(None, 4096, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
if p in (None, ctypes.c_void_p(-1).value):
	sys.exit("mmap: " + os.strerror(ctypes.get_errno()))
os.close(fd)
if ctypes.string_at(p, 3) != b"two":
	sys.exit("mapped content")
open(sys.argv[2], "w").close()
time.sleep(3600)' m/mod2 "$T/mapped" &
mapper=$!
on_exit kill "$mapper"
# until it has mapped the file: up to 2 minutes on a slow (debug) kernel
for _ in $(seq 1200); do
	[ -e "$T/mapped" ] && break
	sleep 0.1
done
assert_fails_with "del:$T/mod2: branch busy: 1 mapped file" fsconfig del "$T/mod2"
if cpa_install_tools; then
	assert_fails_with "auctl: error: del:$T/mod2: branch busy: 1 mapped file (pid $mapper " \
		auctl del "$T/m" "$T/mod2"
fi
kill "$mapper"
wait "$mapper" 2>/dev/null || true
bash -c 'cd m/only && while :; do sleep 0.1; done' &
shell2=$!
on_exit kill "$shell2"
for _ in $(seq 50); do
	[ "$(readlink "/proc/$shell2/cwd")" = "$T/m/only" ] && break
	sleep 0.1
done
assert_fails_with "del:$T/mod3: branch busy: directory /only is in use and exists only there" \
	fsconfig del "$T/mod3"
assert_fails_with "" mount -o "remount,del:$T/mod3" m
ok grep -q "cppaufs: del:$T/mod3: branch busy: directory /only" <<<"$(dmesg)"
kill "$shell2"
wait "$shell2" 2>/dev/null || true
assert_fails_with "del:$T/extra: not a branch of this union" \
	fsconfig del "$T/extra"
# the first step is fine, the second is not: nothing changes
assert_fails_with "not a branch" fsconfig del "$T/mod2" del "$T/extra"
assert_eq "$before" "$(branches)" "branches after the refused removals"
assert_eq "0 2 4 1 3" "$(brids)" "brids after the refused removals"
assert_file_content m/mod2 two

section "del: of a branch that a shell's merged directory uses"
# The shell's working directory m/d has its top object on mod1.
run mount -o "remount,del:$T/mod1" m
assert_eq "$T/u=rw $T/mod3=ro $T/base=ro $T/mod2=rr" "$(branches)" "branches"
assert_eq "0 4 1 3" "$(brids)" "brids: kept branches keep theirs"
ok test ! -e "$sys/br4"
assert_eq "x" "$(ls -A /proc/$shell/cwd/ | tr '\n' ' ' | sed 's/ $//')" \
	"listing of the shell's working directory"
assert_file_content m/d/x base-x
assert_fails_with "No such file" stat m/d/y
assert_eq "$ino_d" "$(stat -c %i m/d)" "inode number of the merged directory"
assert_eq "$ino_file" "$(stat -c %i m/file)" "inode number of a kept file"
assert_file_content m/mod1 "one
more"
assert_eq "d file later mod1 mod2 only" "$(names m)" "listing of the root"

section "del: and append: in one remount; a branch removed and added back"
run fsconfig del "$T/mod3" append "$T/extra" del "$T/extra"
assert_eq "$T/u=rw $T/base=ro $T/mod2=rr" "$(branches)" "branches"
ok test ! -e "$sys/br3"
assert_fails_with "No such file" stat m/later
assert_eq "d file mod1 mod2" "$(names m)" "listing of the root"
run mount -o "remount,append:$T/mod3" m
assert_eq "$T/u=rw $T/base=ro $T/mod2=rr $T/mod3=ro" "$(branches)" "branches"
assert_eq "0 1 3 6" "$(brids)" "brids: a branch added back gets a new one"
assert_file_content m/later three
assert_eq "$ino_later" "$(stat -c %i m/later)" \
	"inode number of a file of a branch added back"
assert_file_content m/only/f only

section "the same numbers after a remount with the same xino file"
exec 7<&-
kill "$shell"
wait "$shell" 2>/dev/null || true
run cpa_umount m
run cpa_mount m "$T/u:$T/mod1=ro:$T/mod3:$T/base:$T/mod2=rr" "xino=$T/xino"
assert_eq "$ino_file" "$(stat -c %i m/file)" "inode number of file"
assert_eq "$ino_later" "$(stat -c %i m/later)" \
	"inode number of a file of an added branch"
assert_file_content mod2/mod2 two

section "prepend: and add:0: above the writable branch"
# Branches added above the writable branch, read-only and writable, and
# removed again, while a shell works in a merged directory and a file of
# the writable branch is open.
mkdir -p pu/d pl/d top/d top2 pm
echo low >pl/d/f
echo low-g >pl/g
echo up-x >pu/x
echo up-h >pu/d/h
echo top-f >top/d/f
chmod 751 top/d
chmod 755 pu/d
cpa_mount pm "$T/pu:$T/pl" "xino=$T/pxino,udba=reval"
# branches and brids read this mount's sysfs from now on
psi=$(sed -n 's/.*si=\([0-9a-f]*\).*/\1/p' <<<"$(grep " $T/pm " /proc/mounts)")
sys=/sys/fs/cppaufs/si_$psi
pfsconfig() { "$CPA_TESTS/fsconfig.py" "$T/pm" "$@"; }
ino_pd=$(stat -c %i pm/d)
ino_px=$(stat -c %i pm/x)
assert_file_content pm/d/f low
(cd pm/d && exec sleep infinity) &
pshell=$!
on_exit kill "$pshell"
exec 5<pm/x
run mount -o "remount,prepend:$T/top=ro" pm
assert_eq "$T/top=ro $T/pu=rw $T/pl=ro" "$(branches)" "branches"
assert_file_content pm/d/f top-f
assert_eq "f h" "$(names pm/d)" "listing of the merged directory"
assert_eq "f h" "$(ls -A /proc/$pshell/cwd/ | tr '\n' ' ' | sed 's/ $//')" \
	"listing of the shell's working directory"
assert_eq 751 "$(stat -c %a pm/d)" "mode of the directory: its new top's"
assert_eq "$ino_pd" "$(stat -c %i pm/d)" "inode number of the merged directory"
assert_eq "$ino_pd" "$(python3 -c 'import os, sys
print(*[e.inode() for e in os.scandir(sys.argv[1]) if e.name == "d"])' pm)" \
	"inode number of the merged directory in its parent's listing"
assert_eq "$ino_px" "$(stat -c %i pm/x)" "inode number of a kept file"
assert_file_content /proc/self/fd/5 up-x
# New objects and copies go to the writable branch below the new top.
run_sh "echo new >$T/pm/d/n"
assert_file_content pu/d/n new
ok test ! -e top/d/n
run_sh "echo more >>$T/pm/g"
assert_file_content pu/g "low-g
more"
assert_file_content pl/g low-g
assert_fails_with "Read-only file system" sh -c "echo z >>$T/pm/d/f"
assert_file_content top/d/f top-f
# made writable above the writable branch: written in place
run pfsconfig mod "$T/top=rw"
run_sh "echo z >>$T/pm/d/f"
assert_file_content top/d/f "top-f
z"
run pfsconfig mod "$T/top=ro"
run pfsconfig add "0:$T/top2=rw"
assert_eq "$T/top2=rw $T/top=ro $T/pu=rw $T/pl=ro" "$(branches)" "branches"
run_sh "echo t2 >$T/pm/new2"
assert_file_content top2/new2 t2
# removed where it is, hidden there from the branch below
run_sh "rm $T/pm/g"
ok test -e pu/.wh.g
ok test ! -e top2/.wh.g
assert_file_content pl/g low-g
assert_fails_with "No such file" stat pm/g
# both removed again: the directory takes its old top back
run pfsconfig del "$T/top2" del "$T/top"
assert_eq "$T/pu=rw $T/pl=ro" "$(branches)" "branches"
assert_eq 755 "$(stat -c %a pm/d)" "mode of the directory: its top's again"
assert_file_content pm/d/f low
assert_file_content pm/x up-x
assert_fails_with "No such file" stat pm/g
assert_eq "$ino_pd" "$(stat -c %i pm/d)" "inode number of the merged directory"
assert_eq "$ino_px" "$(stat -c %i pm/x)" "inode number of a kept file"
assert_eq "f h n" "$(ls -A /proc/$pshell/cwd/ | tr '\n' ' ' | sed 's/ $//')" \
	"listing of the shell's working directory"
exec 5<&-
kill "$pshell"
wait "$pshell" 2>/dev/null || true
run cpa_umount pm

section "udba=none: names in use that a branch added above hides"
mkdir -p nu nl/d nt/d
echo low >nl/f
echo top >nt/f
chmod 755 nl/d
chmod 705 nt/d
cpa_mount nm "$T/nu:$T/nl" "udba=none,noxino"
exec 5<nm/f
(cd nm/d && exec sleep infinity) &
nshell=$!
on_exit kill "$nshell"
assert_eq 755 "$(stat -c %a nm/d)" "mode of the directory in use"
ino_nd=$(stat -c %i nm/d)
run mount -o "remount,prepend:$T/nt=ro" nm
# listed before it is looked at again: the number of the inode in use
assert_eq "$ino_nd" "$(python3 -c 'import os, sys
print(*[e.inode() for e in os.scandir(sys.argv[1]) if e.name == "d"])' nm)" \
	"inode number of the directory in use in its parent's listing"
assert_eq "$ino_nd" "$(stat -c %i nm/d)" "inode number of the directory in use"
assert_file_content nm/f top
assert_file_content /proc/self/fd/5 low
assert_eq 705 "$(stat -c %a nm/d)" "mode of the directory in use: its new top's"
exec 5<&-
kill "$nshell"
wait "$nshell" 2>/dev/null || true
run cpa_umount nm

section "the branch of the pseudo-links: made read-only, then removed"
mkdir -p kl kw km
mkfs_loop tmpfs "$T/ku" 16M
echo linked >kl/h1
for n in h2 h3 h4; do ln kl/h1 "kl/$n"; done
cpa_mount km "$T/ku:$T/kl" "xino=$T/kxino"
# branches reads this mount's sysfs from now on
sys=/sys/fs/cppaufs/si_$(sed -n 's/.*si=\([0-9a-f]*\).*/\1/p' <<<"$(grep " $T/km " /proc/mounts)")
ino=$(stat -c %i km/h1)
run_sh "echo more >>$T/km/h1"
ok test -f "ku/.wh..wh.plnk/$ino"
# opened, a name links to the copy; only looked at, it shows the copy
assert_file_content km/h2 "linked
more"
assert_eq "$(stat -c %i ku/h1)" "$(stat -c %i ku/h2)" "h2 linked to the copy of h1"
assert_eq 12 "$(stat -c %s km/h3)" "size of a name not opened: the copy's"
run rm km/h4
ok test -f ku/.wh.h4
# read-only under a new writable branch: what is there stays readable
run mount -o "remount,add:0:$T/kw=rw,mod:$T/ku=ro" km
assert_eq "$T/kw=rw $T/ku=ro $T/kl=ro" "$(branches)" "branches"
assert_file_content km/h1 "linked
more"
assert_eq "$ino" "$(stat -c %i km/h1)" "inode number of the copy"
assert_fails_with "No such file" stat km/h4
# written now, a name is copied to the writable branch, a copy of its own
run_sh "echo w >>$T/km/h2"
assert_file_content kw/h2 "linked
more
w"
assert_file_content ku/h1 "linked
more"
ok test ! -e kw/.wh..wh.plnk
# removed: its copies and whiteouts go with it
run mount -o "remount,del:$T/ku" km
assert_eq "$T/kw=rw $T/kl=ro" "$(branches)" "branches"
assert_file_content km/h1 linked
assert_file_content km/h3 linked
assert_file_content km/h4 linked
assert_file_content km/h2 "linked
more
w"
run_sh "echo z >>$T/km/h3"
assert_file_content kw/h3 "linked
z"
assert_file_content kl/h1 linked
ok test ! -e kw/.wh..wh.plnk
# its file system can be unmounted once the root, which merged it, was
# looked in again (the old entry goes after a grace period)
for _ in $(seq 200); do umount "$T/ku" 2>/dev/null && break; sleep 0.1; done
ok sh -c "! mountpoint -q $T/ku"
run cpa_umount km

section "a merged directory first seen from an added branch keeps its number"
# Looked up first while a branch added above gives its top object, with
# no number yet on the branch below: once that branch is removed and the
# dentry gone, the directory is the same number.
mkdir -p nw nb/dd nt/dd nm
echo b >nb/dd/f
cpa_mount nm "$T/nw:$T/nb" "xino=$T/nxino"
run mount -o "remount,add:1:$T/nt=ro" nm
ino_dd=$(stat -c %i nm/dd)
run_sh "echo 2 >/proc/sys/vm/drop_caches"
run mount -o "remount,del:$T/nt" nm
run_sh "echo 2 >/proc/sys/vm/drop_caches"
assert_eq "$ino_dd" "$(stat -c %i nm/dd)" "inode number of the directory"
assert_file_content nm/dd/f b
run cpa_umount nm
cd /
