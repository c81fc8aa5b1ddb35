#!/bin/bash
# Merged directory listings: a big directory merged from three branches
# (tmpfs, ext4, tmpfs) with overlapping names, whiteouts and dir/file clashes
# lists each name exactly once with the right type and inode number;
# positions (d_off) are exact seek targets; rewinding gives the same
# listing; concurrent readers with small getdents buffers each see the full
# listing; empty and opaque directories.
# vm-kernels: newest
. "$(dirname "$0")/lib.sh"
require_module
# Elapsed time in each heading: the script must stay well under a minute.
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

T=/tmp/rd
M=$T/m
mkdir -p "$T"
mkfs_loop tmpfs "$T/b0" 256M
mkfs_loop ext4 "$T/b1" 64M
mkfs_loop tmpfs "$T/b2" 256M

section "fixtures"
# Big directory "big": branch k holds f<i> for i in [2000k, 2000k+3000);
# every name with i % 97 == 0 is a directory in b1; b0 whites out 3000-3499
# (in b1) and 2500-2599 (its own names: stay); b1 whites out 6000-6499 (in
# b2).  Plus internal .wh..wh.* entries that are never listed.
python3 - "$T" <<'EOF'
import os, sys
t = sys.argv[1]
for k in range(3):
    d = os.path.join(t, "b%d" % k, "big")
    os.makedirs(d)
    for i in range(2000 * k, 2000 * k + 3000):
        p = os.path.join(d, "f%05d" % i)
        if k == 1 and i % 97 == 0:
            os.mkdir(p)
        elif i % 50 == 0:
            with open(p, "w") as f:
                f.write("%d:%d\n" % (k, i))
        else:
            os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
def wh(k, lo, hi):
    for i in range(lo, hi):
        open(os.path.join(t, "b%d" % k, "big", ".wh.f%05d" % i), "w").close()
wh(0, 3000, 3500)
wh(0, 2500, 2600)
wh(1, 6000, 6500)
open(os.path.join(t, "b0", "big", ".wh..wh.aufs"), "w").close()
os.mkdir(os.path.join(t, "b0", "big", ".wh..wh.plnk"))
# empty directories
os.mkdir(os.path.join(t, "b0", "e1"))
os.mkdir(os.path.join(t, "b1", "e1"))
os.mkdir(os.path.join(t, "b2", "e1"))
# everything below whited out
os.mkdir(os.path.join(t, "b0", "e2"))
open(os.path.join(t, "b0", "e2", ".wh.x"), "w").close()
open(os.path.join(t, "b0", "e2", ".wh.y"), "w").close()
os.mkdir(os.path.join(t, "b1", "e2"))
open(os.path.join(t, "b1", "e2", "x"), "w").close()
os.mkdir(os.path.join(t, "b2", "e2"))
open(os.path.join(t, "b2", "e2", "y"), "w").close()
# only internal names
os.mkdir(os.path.join(t, "b1", "e3"))
open(os.path.join(t, "b1", "e3", ".wh..wh.aufs"), "w").close()
# opaque directory in the middle branch
for k, names in ((0, ["a"]), (1, ["b", ".wh..wh..opq"]), (2, ["c", "a2"])):
    d = os.path.join(t, "b%d" % k, "op")
    os.mkdir(d)
    for n in names:
        open(os.path.join(d, n), "w").close()
EOF
# The expected listing of big, computed independently of the fixture code.
{ seq 0 2999; seq 3500 5999; seq 6500 6999; } | awk '{printf "f%05d\n", $1}' >"$T/expected"
run wc -l "$T/expected"
# Names of big that must be directories: i % 97 == 0 in b1's range
# [2000, 5000) not whited out and not shadowed by a file of b0 (i < 3000).
seq 3500 4999 | awk '$1 % 97 == 0 {printf "f%05d\n", $1}' >"$T/expected.dirs"

run cpa_mount "$M" "$T/b0:$T/b1:$T/b2"

section "big: each name once"
ls -A "$M/big" >"$T/ls"
if cmp -s "$T/expected" "$T/ls"; then
	pass "ls -A big: the expected 6000 names"
else
	fail "ls -A big differs from the expected names: $(diff "$T/expected" "$T/ls" | head -10)"
fi
# Unsorted, with the dots.
ls -f "$M/big" >"$T/lsf"
assert_eq 6002 "$(wc -l <"$T/lsf")" "number of entries of ls -f big"
assert_eq "" "$(sort "$T/lsf" | uniq -d)" "names listed twice by ls -f"
assert_eq "1 1" "$(grep -cx '\.' "$T/lsf") $(grep -cx '\.\.' "$T/lsf")" ". and .. each listed once"
assert_file_content "$M/big/f02550" "0:2550"
assert_file_content "$M/big/f02000" "0:2000"
assert_file_content "$M/big/f03600" "1:3600"
assert_file_content "$M/big/f04500" "1:4500"
assert_file_content "$M/big/f05500" "2:5500"
assert_file_content "$M/big/f06900" "2:6900"
assert_fails_with "No such file or directory" stat "$M/big/f03100"
assert_fails_with "No such file or directory" stat "$M/big/f06100"

section "big: types and inode numbers"
out=$(python3 - "$M/big" "$T/expected.dirs" <<'EOF'
import os, sys
d = sys.argv[1]
want_dirs = set(open(sys.argv[2]).read().split())
bad = []
inos = {}
for e in os.scandir(d):
    st = os.lstat(e.path)
    if e.inode() != st.st_ino:
        bad.append("d_ino %s %d != %d" % (e.name, e.inode(), st.st_ino))
    if e.is_dir(follow_symlinks=False) != (e.name in want_dirs):
        bad.append("type of %s" % e.name)
    inos.setdefault(st.st_ino, []).append(e.name)
bad += ["shared ino %d: %s" % (i, n) for i, n in inos.items() if len(n) > 1]
print("\n".join(bad[:10]) if bad else "ok")
EOF
)
assert_eq ok "$out" "d_type and d_ino of every entry (d_ino == st_ino, all distinct)"

# getdents64 through ctypes, with a small buffer: many calls per listing.
cat >"$T/gd.py" <<'EOF'
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_getdents64 = 217
def getdents(fd, size=512):
    buf = ctypes.create_string_buffer(size)
    n = libc.syscall(SYS_getdents64, fd, buf, size)
    if n < 0:
        raise OSError(ctypes.get_errno(), "getdents64")
    out, off = [], 0
    raw = buf.raw
    while off < n:
        ino, doff, reclen, typ = struct.unpack_from("<QqHB", raw, off)
        name = raw[off + 19:off + reclen].split(b"\0", 1)[0].decode()
        out.append((name, doff, ino, typ))
        off += reclen
    return out
def listing(fd, size=512):
    ents = []
    while True:
        batch = getdents(fd, size)
        if not batch:
            return ents
        ents += batch
EOF

section "big: positions are exact, rewind gives the same listing"
out=$(python3 - "$M/big" "$T" <<'EOF'
import os, random, sys
sys.path.insert(0, sys.argv[2])
from gd import getdents, listing
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
first = listing(fd)
names = [e[0] for e in first]
bad = []
if len(names) != 6002 or len(set(names)) != 6002:
    bad.append("first pass: %d entries, %d distinct" % (len(names), len(set(names))))
# rewind (lseek 0) and read again: the same entries in the same order
os.lseek(fd, 0, os.SEEK_SET)
again = listing(fd, 4096)
if [e[0] for e in again] != names:
    bad.append("after rewind: different listing")
# seekdir(telldir()) to 300 random places: the next entry is the one
# that followed in the first pass
rnd = random.Random(7)
for k in rnd.sample(range(len(first) - 1), 300):
    os.lseek(fd, first[k][1], os.SEEK_SET)
    nxt = getdents(fd, 512)
    if not nxt or nxt[0][0] != names[k + 1]:
        bad.append("seek to d_off of %s: got %s, want %s" % (names[k], nxt[0][0] if nxt else None, names[k + 1]))
        break
# seek to the middle and read to the end
k = 3001
os.lseek(fd, first[k][1], os.SEEK_SET)
tail = [e[0] for e in listing(fd)]
if tail != names[k + 1:]:
    bad.append("tail after seek: %d entries, want %d" % (len(tail), len(names) - k - 1))
# past the end: nothing
os.lseek(fd, first[-1][1], os.SEEK_SET)
if getdents(fd):
    bad.append("entries after the last d_off")
os.close(fd)
# a second open directory sees the same order (shared snapshot)
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
if [e[0] for e in listing(fd, 32768)] != names:
    bad.append("second open: different listing")
os.close(fd)
print("\n".join(bad) if bad else "ok")
EOF
)
assert_eq ok "$out" "d_off seeks, rewind and reopen"

section "big: concurrent readers"
cat >"$T/reader.py" <<'EOF'
import os, sys
sys.path.insert(0, sys.argv[3])
from gd import listing
want = open(sys.argv[2]).read().split()
want_set = set(want) | {".", ".."}
for it in range(int(sys.argv[4])):
    fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
    names = [e[0] for e in listing(fd, 256 + 128 * (it % 5))]
    os.close(fd)
    if len(names) != len(want_set) or set(names) != want_set:
        print("iteration %d: %d names, %d distinct" % (it, len(names), len(set(names))))
        sys.exit(1)
print("ok")
EOF
pids=()
for r in 1 2 3; do
	python3 "$T/reader.py" "$M/big" "$T/expected" "$T" 5 >"$T/reader.$r" 2>&1 &
	pids+=($!)
done
# and the listing cache dropped meanwhile, as far as it can be
for _ in 1 2 3; do echo 3 >/proc/sys/vm/drop_caches; sleep 0.3; done
for r in 1 2 3; do
	rc=0
	wait "${pids[r - 1]}" || rc=$?
	assert_eq "ok 0" "$(cat "$T/reader.$r") $rc" "reader $r (5 listings, small buffers)"
done

section "empty and opaque directories"
assert_eq "" "$(ls -A "$M/e1")" "ls -A e1 (empty in all branches)"
assert_eq ". .." "$(ls -a "$M/e1" | tr '\n' ' ' | sed 's/ $//')" "ls -a e1"
assert_eq "" "$(ls -A "$M/e2")" "ls -A e2 (everything whited out)"
assert_eq ". .." "$(ls -af "$M/e2" | sort | tr '\n' ' ' | sed 's/ $//')" "ls -af e2"
assert_eq "" "$(ls -A "$M/e3")" "ls -A e3 (only internal names)"
assert_eq "a b" "$(ls -A "$M/op" | tr '\n' ' ' | sed 's/ $//')" "ls -A op (opaque in b1: nothing from b2)"
assert_fails_with "No such file or directory" stat "$M/op/c"
assert_eq "big e1 e2 e3 lost+found op" "$(ls -A "$M" | tr '\n' ' ' | sed 's/ $//')" "ls -A of the root"
# find sees each name once and never a whiteout
assert_eq 6000 "$(find "$M/big" -mindepth 1 -maxdepth 1 | wc -l)" "find big -maxdepth 1"
assert_eq 0 "$(find "$M" -name '.wh.*' | wc -l)" ".wh.* names found"

run cpa_umount "$M"
