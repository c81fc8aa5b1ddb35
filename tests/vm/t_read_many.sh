#!/bin/bash
# Many branches and many mounts: 1000 branches through the helper (the
# option string is far longer than the one page mount(2) carries), 1024
# refused, and 100 mount/umount cycles of a 3-branch union without leaking
# (the rig then checks that the module unloads cleanly and reports no leak).
# vm-kernels: newest
. "$(dirname "$0")/lib.sh"
require_module
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

T=/tmp/many
M=$T/m
mkdir -p "$T" "$M"
nsi() { find /sys/fs/cppaufs -mindepth 1 -maxdepth 1 -name 'si_*' | wc -l; }
si_of() { sed -n "s|.* $1 cppaufs .*si=\([0-9a-f]*\).*|\1|p" /proc/mounts; }

section "100 mount/umount cycles (mount(2), 3 branches)"
mkdir -p "$T"/{l1,l2,l3}
echo l1 >"$T/l1/f1"
echo l2 >"$T/l2/f2"
mkdir "$T/l3/d"
echo l3 >"$T/l3/d/f3"
# One process does the 100 cycles with mount(2)/umount(2) directly: a
# process per step would make this minutes long under TCG.
out=$(python3 - "$T" "$M" <<'EOF'
import ctypes, os, sys
T, M = sys.argv[1:]
libc = ctypes.CDLL(None, use_errno=True)
opts = ("dirs=%s/l1:%s/l2:%s/l3" % (T, T, T)).encode()
bad = 0
for i in range(100):
    if libc.mount(b"none", M.encode(), b"cppaufs", 0, opts) != 0:
        print("cycle %d: mount: %s" % (i, os.strerror(ctypes.get_errno())))
        bad += 1
        continue
    try:
        c = "".join(open(os.path.join(M, n)).read() for n in ("f1", "f2", "d/f3"))
        l = sorted(os.listdir(M))
        if c != "l1\nl2\nl3\n" or l != ["d", "f1", "f2"]:
            print("cycle %d: content %r, listing %r" % (i, c, l))
            bad += 1
    finally:
        if libc.umount2(M.encode(), 0) != 0:
            print("cycle %d: umount: %s" % (i, os.strerror(ctypes.get_errno())))
            bad += 1
print("bad", bad)
EOF
)
_cpa_say "$out"
bad=${out##*bad }
assert_eq 0 "$bad" "failed cycles"
assert_eq 0 "$(nsi)" "si dirs left after the cycles"
assert_eq 0 "$(cat /sys/module/cppaufs/refcnt)" "module reference count after the cycles"

section "the branch limit through mount(2): 1024 short names fit in one page"
python3 - "$T/s" <<'EOF'
import itertools, os, string, sys
d = sys.argv[1]
names = ["".join(p) for p in itertools.product(string.ascii_lowercase + string.digits, repeat=2)][:1024]
for n in names:
    os.makedirs(os.path.join(d, n))
open(os.path.join(d, names[1022], "b1022"), "w").close()
for k in (1023, 1024):
    with open(os.path.join(d, "..", "short%d" % k), "w") as f:
        f.write(":".join(names[:k]))
EOF
short1023=$(cat "$T/short1023") short1024=$(cat "$T/short1024")
cd "$T/s"
expect_dmesg 'cppaufs: dirs: too many branches \(at most 1023\)$'
t0=$SECONDS
rc=0; mount -i -t cppaufs -o "dirs=$short1024" none "$M" 2>/dev/null || rc=$?
[ "$rc" != 0 ] && pass "mount -i with 1024 branches fails ($rc)" || { fail "mount -i with 1024 branches succeeded"; umount "$M"; }
_cpa_say "(refused in $((SECONDS - t0)) s)"
assert_eq "cppaufs: dirs: too many branches (at most 1023)" "$(dmesg -t | grep cppaufs: | tail -n 1)" "kernel log of the 1024-branch mount(2)"
assert_eq 0 "$(nsi)" "si dirs after the refused mount"
t0=$SECONDS
_cpa_say "\$ mount -i -t cppaufs -o dirs=aa:ab:...:${short1023##*:} none $M"
if mount -i -t cppaufs -o "dirs=$short1023" none "$M"; then
	_cpa_say "(mounted in $((SECONDS - t0)) s)"
	si=$(si_of "$M")
	assert_eq 2047 "$(ls /sys/fs/cppaufs/si_$si | wc -l)" "files in the si dir (br, brid x 1023 + xi_path)"
	assert_file_content "/sys/fs/cppaufs/si_$si/br1022" "$T/s/${short1023##*:}=ro"
	assert_eq b1022 "$(ls "$M")" "ls of the 1023-branch union"
	ok umount "$M"
else
	fail "mount -i with 1023 branches"
fi
cd "$T"

section "1000 branches through the helper"
if ! cpa_install_tools; then
	skip "the tools are not built ($CPPAUFS_BUILD/tools/mount.cppaufs)"
fi
python3 - "$T/br" <<'EOF'
import os, sys
d = sys.argv[1]
for i in range(1024):
    os.makedirs(os.path.join(d, "branch%04d" % i))
    with open(os.path.join(d, "branch%04d" % i, "same"), "w") as f:
        f.write("%d\n" % i)
with open(os.path.join(d, "branch0999", "bottom"), "w") as f:
    f.write("bottom\n")
with open(os.path.join(d, "branch0500", "middle"), "w") as f:
    f.write("middle\n")
for n in (1000, 1024):
    with open(os.path.join(d, "..", "list%d" % n), "w") as f:
        f.write(":".join(os.path.join(d, "branch%04d" % i) for i in range(n)))
EOF
list1000=$(cat "$T/list1000") list1024=$(cat "$T/list1024")
_cpa_say "option string: dirs= and ${#list1000} bytes of branches"
t0=$SECONDS
_cpa_say "\$ mount -t cppaufs -o dirs=$T/br/branch0000:...:$T/br/branch0999 none $M"
if mount -t cppaufs -o "dirs=$list1000" none "$M"; then
	_cpa_say "(mounted in $((SECONDS - t0)) s)"
	pass "mount -t cppaufs with 1000 branches (helper)"
	si=$(si_of "$M")
	S=/sys/fs/cppaufs/si_$si
	assert_eq 2001 "$(ls "$S" | wc -l)" "files in $S"
	assert_file_content "$S/br0" "$T/br/branch0000=rw"
	assert_file_content "$S/br500" "$T/br/branch0500=ro"
	assert_file_content "$S/br999" "$T/br/branch0999=ro"
	assert_file_content "$S/brid999" 999
	ok test ! -e "$S/br1000"
	bad=$(python3 -c '
import sys
S, T = sys.argv[1:]
bad = [i for i in range(1000)
       if open("%s/br%d" % (S, i)).read() != "%s/br/branch%04d=%s\n" % (T, i, "rw" if i == 0 else "ro")
       or open("%s/brid%d" % (S, i)).read() != "%d\n" % i]
print(len(bad))
' "$S" "$T")
	assert_eq 0 "$bad" "br0..br999 and brid0..brid999 with the right content"
	assert_eq "bottom middle same" "$(ls "$M" | tr '\n' ' ' | sed 's/ $//')" "ls of the 1000-branch union"
	assert_file_content "$M/bottom" bottom
	assert_file_content "$M/middle" middle
	assert_file_content "$M/same" 0
	ok umount "$M"
	ok test ! -e "$S"
else
	fail "mount -t cppaufs with 1000 branches (helper)"
fi
# the helper called directly, as mount(8) calls it
_cpa_say "\$ $CPPAUFS_BUILD/tools/mount.cppaufs none $M -o dirs=<the same 1000 branches>"
if "$CPPAUFS_BUILD/tools/mount.cppaufs" none "$M" -o "dirs=$list1000"; then
	assert_file_content "$M/bottom" bottom
	assert_eq 1000 "$(ls /sys/fs/cppaufs/si_"$(si_of "$M")" | grep -c '^brid')" "brid files"
	ok umount "$M"
else
	fail "mount.cppaufs none $M -o dirs=<1000 branches>"
fi

section "1024 branches are refused"
rc=0; err=$(mount -t cppaufs -o "dirs=$list1024" none "$M" 2>&1) || rc=$?
if [ "$rc" = 0 ]; then
	fail "mount with 1024 branches through the helper succeeded"; umount "$M"
elif [[ $err == *"dirs: too many branches (at most 1023)"* ]]; then
	pass "mount with 1024 branches through the helper fails ($rc): $err"
else
	fail "mount with 1024 branches through the helper ($rc): $err"
fi
assert_eq 0 "$(nsi)" "si dirs after the refused mount"
