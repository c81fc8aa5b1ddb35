#!/bin/bash
# vm-args: --timeout 480
# Lookup rules of the union: precedence of the topmost branch, directory
# merge, file-over-dir and dir-over-file, whiteouts (and not in their own
# branch), opaque directories, .wh.* names never visible, symlinks, hard
# links, special files, and union inode numbers (unique, stable across cache
# drops, equal in readdir and stat).  Each branch is its own tmpfs, so branch
# inode numbers overlap and the union must renumber them.  Last, on each
# branch file system: whiteouts still hide when branch directories that were
# found free of them are no longer asked for each name.
# vm-kernels: newest
. "$(dirname "$0")/lib.sh"
require_module

T=/tmp/lk
M=$T/m
mkdir -p "$T"
for b in b0 b1 b2; do mkfs_loop tmpfs "$T/$b" 64M; done

section "fixtures (written straight into the branches)"
# b0: the writable top branch
(
	cd "$T/b0"
	echo f0 >f
	echo file >fd
	mkdir df o p d wd2 .wh..wh.plnk
	echo a >df/a
	: >.wh.w
	: >.wh.wd
	: >.wh.ghost
	: >.wh..wh.aufs
	echo s0-b0 >s0
	: >.wh.s0          # hides s0 below b0, not b0's own s0
	: >o/.wh..wh..opq
	echo top >o/top
	echo top >p/top
	echo c0 >d/common
	echo x0 >d/x0
	: >.wh.wd2         # b0's wd2 stays, lower wd2 are hidden
	echo new >wd2/new
)
# b1
(
	cd "$T/b1"
	echo f1 >f
	echo g1 >g
	mkdir fd d d/sub p o wd2
	echo inner >fd/inner
	echo notadir >df
	echo w1 >w
	echo v1 >v
	: >.wh.v           # same branch: v1 stays visible, v2 is hidden
	: >.wh.u
	echo s0-b1 >s0
	echo c1 >d/common
	echo x1 >d/x1
	: >d/.wh.x2
	echo s1 >d/sub/s1
	: >p/.wh..wh..opq
	echo mid >p/mid
	echo low >o/low
	echo old >wd2/old
	ln -s f sl
	echo hl >hl1
	ln hl1 hl2
	ln hl1 d/hl3
	mkfifo fifo
)
# b2
(
	cd "$T/b2"
	echo f2 >f
	echo g2 >g
	echo h2 >h
	echo w2 >w
	echo u2 >u
	echo v2 >v
	mkdir d d/sub p df wd
	echo c2 >d/common
	echo x2 >d/x2
	echo s2 >d/sub/s2
	echo low >p/low
	echo b >df/b
	echo z >wd/z
	ln -s nowhere dl
	ln -s d sd
	mknod null c 1 3
	mknod blk b 7 0
)
run cpa_mount "$M" "$T/b0:$T/b1:$T/b2"

lsA() { ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }

section "precedence: the topmost branch holding a name wins"
assert_file_content "$M/f" f0
assert_file_content "$M/g" g1
assert_file_content "$M/h" h2

section "listings"
run ls -A "$M"
assert_eq "blk d df dl f fd fifo g h hl1 hl2 null o p s0 sd sl v wd2" "$(lsA "$M")" "ls -A of the root"
assert_eq "common hl3 sub x0 x1" "$(lsA "$M/d")" "ls -A d (3 branches merged, x2 whited out in b1)"
assert_eq "s1 s2" "$(lsA "$M/d/sub")" "ls -A d/sub (merged from b1 and b2)"
assert_file_content "$M/d/common" c0
assert_file_content "$M/d/x1" x1
assert_file_content "$M/d/sub/s2" s2

section "file over dir, dir over file"
assert_eq "regular file" "$(stat -c %F "$M/fd")" "type of fd (file in b0 over dir in b1)"
assert_file_content "$M/fd" file
assert_fails_with "Not a directory" stat "$M/fd/inner"
assert_eq "directory" "$(stat -c %F "$M/df")" "type of df (dir in b0 over file in b1)"
# The file in b1 ends the merge: b2's df/ is not merged in.
assert_eq "a" "$(lsA "$M/df")" "ls -A df"
assert_fails_with "No such file or directory" stat "$M/df/b"

section "whiteouts"
assert_fails_with "No such file or directory" stat "$M/w"
assert_fails_with "No such file or directory" cat "$M/u"
assert_fails_with "No such file or directory" ls "$M/wd"
assert_fails_with "No such file or directory" stat "$M/d/x2"
assert_fails_with "No such file or directory" stat "$M/ghost"
# A whiteout does not hide its own branch's entry.
assert_file_content "$M/v" v1
assert_file_content "$M/s0" s0-b0
# A whiteout beside a directory hides only the lower directories.
assert_eq "new" "$(lsA "$M/wd2")" "ls -A wd2"
assert_fails_with "No such file or directory" stat "$M/wd2/old"

section "opaque directories"
assert_eq "top" "$(lsA "$M/o")" "ls -A o (opaque in b0)"
assert_fails_with "No such file or directory" stat "$M/o/low"
assert_eq "mid top" "$(lsA "$M/p")" "ls -A p (opaque in b1)"
assert_fails_with "No such file or directory" stat "$M/p/low"

section ".wh.* names are never visible"
n=$(find "$M" -name '.wh.*' | wc -l)
assert_eq 0 "$n" "names starting with .wh. found by find"
for name in .wh.w .wh.ghost .wh.s0 .wh.v .wh..wh.aufs .wh..wh.plnk o/.wh..wh..opq p/.wh..wh..opq d/.wh.x2 .wh.nothing; do
	assert_fails_with "No such file or directory" stat "$M/$name"
done
assert_fails_with "No such file or directory" cat "$M/.wh..wh.aufs"
assert_fails_with "No such file or directory" ls "$M/.wh..wh.plnk"
out=$(python3 - "$M" <<'EOF'
import errno, os, sys
m = sys.argv[1]
for n in (".wh.w", ".wh..wh.aufs", "o/.wh..wh..opq", ".wh.v"):
    try:
        os.close(os.open(os.path.join(m, n), os.O_RDONLY))
        print("opened", n)
    except OSError as e:
        if e.errno != errno.ENOENT:
            print(n, e)
print("done")
EOF
)
assert_eq done "$out" "open(2) of .wh.* names: all ENOENT"

section "symlinks"
assert_eq "f" "$(readlink "$M/sl")" "readlink sl"
assert_eq "symbolic link" "$(stat -c %F "$M/sl")" "type of sl"
# Followed inside the union: f resolves to b0's f, not b1's.
assert_file_content "$M/sl" f0
assert_eq "nowhere" "$(readlink "$M/dl")" "readlink dl (dangling)"
assert_fails_with "No such file or directory" cat "$M/dl"
assert_eq "common hl3 sub x0 x1" "$(lsA "$M/sd/")" "ls -A sd/ (symlink to the merged d)"

section "hard links"
i1=$(stat -c %i "$M/hl1") i2=$(stat -c %i "$M/hl2") i3=$(stat -c %i "$M/d/hl3")
assert_eq "$i1 $i1" "$i2 $i3" "st_ino of hl2 and d/hl3 equal to hl1's"
assert_eq "3 3 3" "$(stat -c %h "$M/hl1" "$M/hl2" "$M/d/hl3" | tr '\n' ' ' | sed 's/ $//')" "nlink of the three links"

section "special files"
assert_eq "fifo" "$(stat -c %F "$M/fifo")" "type of fifo"
out=$(timeout 10 python3 - "$M/fifo" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.write(fd, b"through the union")
print(os.read(fd, 100).decode())
os.close(fd)
EOF
) || true
assert_eq "through the union" "$out" "write then read an O_RDWR fifo"
out=$(timeout 10 sh -c "cat '$M/fifo' & echo hello >'$M/fifo'; wait") || true
assert_eq hello "$out" "reader and writer of the fifo through the union"
assert_eq "fifo" "$(stat -c %F "$T/b1/fifo")" "b1/fifo still a fifo"
assert_eq "character special file 1 3" "$(stat -c '%F %t %T' "$M/null")" "type and rdev of null"
assert_eq "block special file 7 0" "$(stat -c '%F %t %T' "$M/blk")" "type and rdev of blk"
ok cat "$M/null"

# Python helper: walk the union with os.scandir; print "path ino dev"
# with the inode number of stat(2).  With --dino, check every readdir
# d_ino against it and print mismatches.
cat >"$T/walk.py" <<'EOF'
import os, sys
root = sys.argv[1]
check_dino = "--dino" in sys.argv
def walk(d):
    with os.scandir(d) as it:
        for e in it:
            st = os.lstat(e.path)
            rel = os.path.relpath(e.path, root)
            if check_dino and e.inode() != st.st_ino:
                print("MISMATCH", rel, "d_ino", e.inode(), "st_ino", st.st_ino)
            if not check_dino:
                print(rel, st.st_ino, st.st_dev)
            if e.is_dir(follow_symlinks=False):
                walk(e.path)
walk(root)
EOF

section "union inode numbers"
python3 "$T/walk.py" "$M" | sort >"$T/inos.before"
run wc -l "$T/inos.before"
dups=$(awk '{print $2}' "$T/inos.before" | sort | uniq -d)
dup_paths=$(awk -v d=" $(echo $dups) " 'index(d, " " $2 " ") {print $1}' "$T/inos.before" | sort | tr '\n' ' ')
assert_eq "d/hl3 hl1 hl2 " "$dup_paths" "paths sharing an st_ino (only the hard links)"
# The branches' own numbers do overlap (separate tmpfs): the union renumbers.
b_dups=$(for b in b0 b1 b2; do stat -c %i "$T/$b/f"; done | sort | uniq -d | wc -l)
run stat -c '%n %i' "$T/b0/f" "$T/b1/f" "$T/b2/f" "$T/b2/h" "$M/f" "$M/g" "$M/h"
[ "$b_dups" -gt 0 ] || echo "note: the branches' inode numbers happen not to overlap"
mdev=$(stat -c %d "$M")
ndev=$(awk -v d="$mdev" '$3 != d' "$T/inos.before" | wc -l)
assert_eq 0 "$ndev" "entries whose st_dev is not the union's"
if [ "$mdev" != "$(stat -c %d "$T/b0")" ]; then pass "union st_dev differs from b0's"; else fail "union st_dev is b0's"; fi

sync
echo 3 >/proc/sys/vm/drop_caches
python3 "$T/walk.py" "$M" | sort >"$T/inos.after"
if cmp -s "$T/inos.before" "$T/inos.after"; then
	pass "st_ino of every entry unchanged after drop_caches"
else
	fail "st_ino changed after drop_caches: $(diff "$T/inos.before" "$T/inos.after" | head -20)"
fi

mism=$(python3 "$T/walk.py" "$M" --dino)
assert_eq "" "$mism" "readdir d_ino == stat st_ino for every entry"
echo 3 >/proc/sys/vm/drop_caches
mism=$(python3 "$T/walk.py" "$M" --dino)
assert_eq "" "$mism" "readdir d_ino == stat st_ino after drop_caches"
# "." and ".." of the root: both the root's number.
assert_eq "$(stat -c %i "$M")" "$(stat -c %i "$M/.")" "st_ino of ."
assert_eq "$(stat -c %i "$M/d")" "$(stat -c %i "$M/d/sub/..")" "st_ino of d/sub/.."

run cpa_umount "$M"

# A branch directory that lookups found free of whiteouts is read once and
# then not asked for ".wh.<name>" again while its ctime stays.  Whiteouts
# that turn up later, made beside the union or through it, must still hide.
cat >"$T/wh_hint.py" <<'PY'
import os, sys
M, B, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
bad = []
def seen(p):
    try:
        os.lstat(p)
        return True
    except FileNotFoundError:
        return False
def want(p, vis, why):
    if seen(p) != vis:
        bad.append("%s %s (%s)" % (p, "hidden" if vis else "visible", why))
def drop():
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("2")
pin = [os.open(M + d, os.O_RDONLY) for d in ("/d1", "/d2", "/d4")]
for i in range(N):
    want("%s/d1/n%d" % (M, i), True, "lower file")
# made beside the union after d1's branch directories were read
open(B + "/m/d1/.wh.late", "w").close()
want(M + "/d1/late", False, "whiteout made in m/d1 after the lookups")
# a change, a read of the directory and a whiteout, often within one
# clock tick (so within one ctime value): d4 is free of whiteouts before
# each round
for k in range(40):
    open("%s/m/d4/plain%d" % (B, k), "w").close()
    for j in range(20):
        want("%s/d4/p%d_%d" % (M, k, j), True, "lower file")
    open("%s/m/d4/.wh.r%d" % (B, k), "w").close()
    want("%s/d4/r%d" % (M, k), False, "whiteout made right after a change")
    os.unlink("%s/m/d4/.wh.r%d" % (B, k))
# made through the union: unlink of a lower file
os.unlink(M + "/d1/n5")
drop()
want(M + "/d1/n5", False, "unlinked through the union, after drop_caches")
if "n5" in os.listdir(M + "/d1"):
    bad.append("n5 still listed")
# a directory with a whiteout keeps hiding, and shows when it goes
for i in range(N):
    want("%s/d2/n%d" % (M, i), True, "lower file")
want(M + "/d2/hidden", False, "whited out in m/d2")
os.unlink(B + "/m/d2/.wh.hidden")
drop()
want(M + "/d2/hidden", True, "its whiteout removed beside the union")
for fd in pin:
    os.close(fd)
print("\n".join(bad[:10]) if bad else "ok")
PY
dyn=/proc/dynamic_debug/control
for fs in $(vm_fs_list tmpfs ext4 xfs btrfs); do
	section "branch directories without whiteouts are read once ($fs)"
	W=$T/wh-$fs
	mkfs_loop "$fs" "$W/br"
	(
		cd "$W/br"
		mkdir -p {u,m,l}/d1 {u,m,l}/d2 {u,m,l}/d3 {u,m,l}/d4
		for d in l/d1 l/d2 l/d3; do
			(cd "$d" && touch $(seq -f 'n%g' 0 299) late hidden keep q{0..99})
		done
		(cd l/d4 && touch r{0..39} $(for k in {0..39}; do seq -f "p${k}_%g" 0 19; done))
		: >m/d2/.wh.hidden
		: >m/d2/.wh.keep
		echo top >u/d1/top
	)
	run cpa_mount "$W/m" "$W/br/u:$W/br/m=ro:$W/br/l=ro"
	assert_eq ok "$(python3 "$T/wh_hint.py" "$W/m" "$W/br" 300)" \
		"whiteouts made after the directory was read still hide ($fs)"
	# Count the whiteout lookups through the union's debug trace: d3 has
	# none, so its branch directories are read and asked no more (ext4's
	# one-block directories after 16 lookups); m/d2 holds .wh.keep, so it
	# is asked for each of the 100 names.
	if [ -w "$dyn" ]; then
		expect_dmesg 'cppaufs: lookup\('
		echo 'module cppaufs format "lookup(" +p' >"$dyn"
		expect_dmesg "cppaufs-test: mark $fs\$"
		echo "cppaufs-test: mark $fs" >/dev/kmsg
		stat "$W"/m/d3/q{0..99} "$W"/m/d2/q{0..99} >/dev/null
		echo 'module cppaufs -p' >"$dyn"
		trace=$(dmesg | sed -n "/cppaufs-test: mark $fs\$/,\$p")
		n3=$(grep -c 'd3/\.wh\.q' <<<"$trace" || true)
		n2=$(grep -c 'm/d2/\.wh\.q' <<<"$trace" || true)
		u2=$(grep -c 'u/d2/\.wh\.q' <<<"$trace" || true)
		echo "whiteout lookups: d3 $n3, m/d2 $n2, u/d2 $u2 (100 names each)"
		if [ "$n3" -lt 50 ] && [ "$u2" -lt 25 ]; then
			pass "directories free of whiteouts: asked $n3 + $u2 times for 300 names ($fs)"
		else
			fail "directories free of whiteouts: asked $n3 + $u2 times for 300 names ($fs)"
		fi
		assert_eq 100 "$n2" "whiteout lookups in m/d2, which holds one ($fs)"
	else
		echo "note: no $dyn: whiteout lookups not counted"
	fi
	run cpa_umount "$W/m"
done
