#!/bin/bash
# vm-args: --timeout 600
# udba=reval and udba=notify: files created, removed and renamed straight
# in the writable and in a read-only branch show up or go through the
# union at the next stat and listing, on tmpfs and ext4 branches; so do a directory made
# directly, a whiteout and an opaque marker made directly, a directory
# made directly on the writable branch above a lower one, and a file
# replaced directly.  A shell working in a merged directory sees the
# changes; files open before keep working; writes through the union still
# work.  reval is the default, which /proc/mounts does not show.
# udba=none keeps what the union cached: a name looked up and not found
# stays missing, a listing stays as it was read.
# udba=notify passes the same (on tmpfs), and inotify on a union directory reports
# what was created, removed and renamed directly in its branches, once,
# and changes through the union once too; hundreds of changes leave no
# busy inode at umount.  The option shows in /proc/mounts; a bad value and
# a change on remount are refused with one line.
. "$(dirname "$0")/lib.sh"
require_module

T=/tmp/udba
mkdir -p "$T"
names() { ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }
expect_dmesg 'cppaufs: udba'

# udba_changes FS MODE: the changes made directly in branches under
# $B/MODE, mounted with udba=MODE (reval: without the option, the default).
udba_changes() {
	local fs=$1 mode=$2
	M=$B/$mode/m
	U=$B/$mode/u
	L=$B/$mode/lo
	mkdir -p "$U/d" "$L/d" "$L/od" "$U/od" "$L/ld"
	echo lower-a >"$L/a"
	echo lower-b >"$L/b"
	echo upper-x >"$U/x"
	echo lower-dx >"$L/d/x"
	echo lower-ox >"$L/od/x"
	echo lower-lx >"$L/ld/x"
	if [ "$mode" = reval ]; then
		cpa_mount "$M" "$U:$L"
	else
		cpa_mount "$M" "$U:$L" "udba=$mode"
	fi

	section "$fs, $mode: the option"
	if [ "$mode" = reval ]; then
		ok bash -c "! grep -q ' $M cppaufs .*udba' /proc/mounts"
	else
		ok grep -q " $M cppaufs .*,udba=$mode" /proc/mounts
	fi

	section "$fs, $mode: warm names and listings first"
	assert_eq "a b d ld od x" "$(names "$M")" "listing of the root"
	assert_eq "x" "$(names "$M/d")" "listing of d"
	assert_fails_with "No such file" stat "$M/new"
	assert_fails_with "No such file" stat "$M/d/new"
	ok stat "$M/a" "$M/b" "$M/x" "$M/d/x"
	exec 7<"$M/a"
	# a shell working in the merged directory d
	bash -c "cd '$M/d' && while :; do sleep 0.1; done" &
	shell=$!
	cwd=/proc/$shell/cwd

	section "$fs, $mode: created directly in the read-only branch"
	echo lower-new >"$L/new"
	assert_file_content "$M/new" lower-new
	assert_eq "a b d ld new od x" "$(names "$M")" "listing of the root"

	section "$fs, $mode: created directly in the writable branch"
	echo upper-new2 >"$U/new2"
	assert_file_content "$M/new2" upper-new2
	ok grep -qx new2 <<<"$(ls "$M")"

	section "$fs, $mode: removed directly"
	rm "$L/a"
	assert_fails_with "No such file" stat "$M/a"
	assert_eq "b d ld new new2 od x" "$(names "$M")" "listing of the root"
	assert_file_content /proc/self/fd/7 lower-a
	rm "$U/new2"
	assert_fails_with "No such file" stat "$M/new2"

	section "$fs, $mode: renamed directly"
	mv "$U/x" "$U/y"
	assert_fails_with "No such file" stat "$M/x"
	assert_file_content "$M/y" upper-x
	mv "$L/b" "$L/c"
	assert_fails_with "No such file" cat "$M/b"
	assert_file_content "$M/c" lower-b
	assert_eq "c d ld new od y" "$(names "$M")" "listing of the root"

	section "$fs, $mode: replaced directly"
	exec 8<"$M/c"
	rm "$L/c"
	echo lower-c2 >"$L/c"
	assert_file_content "$M/c" lower-c2
	assert_file_content /proc/self/fd/8 lower-b
	exec 8<&-
	echo upper-c >"$U/c"
	assert_file_content "$M/c" upper-c
	rm "$U/c"
	assert_file_content "$M/c" lower-c2

	section "$fs, $mode: a directory made directly"
	mkdir "$L/nd"
	echo lower-ndf >"$L/nd/f"
	assert_file_content "$M/nd/f" lower-ndf
	assert_eq "f" "$(names "$M/nd")" "listing of nd"
	echo lower-ndg >"$L/nd/g"
	assert_eq "f g" "$(names "$M/nd")" "listing of nd, again"
	rm -r "$L/nd"
	assert_fails_with "No such file" stat "$M/nd"

	section "$fs, $mode: a whiteout made directly hides the lower name"
	assert_file_content "$M/new" lower-new
	ln "$U/.wh..wh.aufs" "$U/.wh.new" 2>/dev/null || : >"$U/.wh.new"
	assert_fails_with "No such file" stat "$M/new"
	assert_eq "c d ld od y" "$(names "$M")" "listing of the root"
	rm "$U/.wh.new"
	assert_file_content "$M/new" lower-new

	section "$fs, $mode: an opaque marker made directly"
	assert_eq "x" "$(names "$M/od")" "listing of od"
	assert_file_content "$M/od/x" lower-ox
	: >"$U/od/.wh..wh..opq"
	assert_fails_with "No such file" stat "$M/od/x"
	assert_eq "" "$(names "$M/od")" "listing of od, opaque"
	rm "$U/od/.wh..wh..opq"
	assert_file_content "$M/od/x" lower-ox

	section "$fs, $mode: a directory made directly above a lower one"
	assert_file_content "$M/ld/x" lower-lx
	mkdir "$U/ld"
	echo upper-ly >"$U/ld/y"
	assert_eq "x y" "$(names "$M/ld")" "listing of the merged ld"
	assert_file_content "$M/ld/y" upper-ly
	echo more >>"$M/ld/x"
	assert_file_content "$U/ld/x" "lower-lx
more"

	section "$fs, $mode: a shell working in d sees the changes"
	assert_eq "x" "$(names "$cwd/")" "listing of the shell's directory"
	echo lower-dy >"$L/d/y"
	assert_eq "x y" "$(names "$cwd/")" "after a file was made in a branch"
	assert_file_content "$cwd/y" lower-dy
	rm "$L/d/x"
	assert_eq "y" "$(names "$cwd/")" "after a file was removed"
	assert_fails_with "No such file" stat "$cwd/x"
	ok bash -c "cd '$M/d' && test -f y && ! test -e x"

	section "$fs, $mode: through the union"
	echo made >"$M/made"
	assert_file_content "$U/made" made
	mv "$M/made" "$M/made2"
	assert_file_content "$M/made2" made
	rm "$M/made2" "$M/y"
	assert_fails_with "No such file" stat "$M/y"
	echo more >>"$M/new"
	assert_file_content "$M/new" "lower-new
more"
	assert_file_content "$L/new" lower-new
	assert_file_content /proc/self/fd/7 lower-a
	exec 7<&-
	kill "$shell"
	wait "$shell" 2>/dev/null || true

	section "$fs, $mode: made directly in the clock tick of a change through the union"
	# The union takes its own change into the directory's stamp; a direct
	# change in the same tick leaves the ctime as it is, and must show
	# once the tick is over.
	assert_eq ok "$(python3 "$T/tick.py" "$M" "$U" 40 2>&1)" \
		"40 names made directly in the tick of a create through the union"

	section "$fs, $mode: remount"
	ok mount -o remount,"udba=$mode" "$M"
	assert_fails_with "" mount -o remount,udba=none "$M"
	ok grep -q "cppaufs: udba cannot be changed on remount" <<<"$(dmesg)"
	[ "$mode" = reval ] || ok grep -q " $M cppaufs .*,udba=$mode" /proc/mounts
	run cpa_umount "$M"
}

# tick.py M U N: N times, a name looked up and not found, then made
# through the union and another one made directly in the writable branch
# at once; "ok", or the first name not seen 30 ms later.
cat >"$T/tick.py" <<'PY'
import os, sys, time
m, u, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.mkdir(m + "/tick")
def make(p):
    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
for i in range(n):
    b = "%s/tick/b%d" % (m, i)
    if os.path.exists(b):
        sys.exit(b + " before it was made")
    make("%s/tick/a%d" % (m, i))
    make("%s/tick/b%d" % (u, i))
    time.sleep(0.03)
    if not os.path.exists(b):
        sys.exit(b + ", made directly with a%d, not seen" % i)
    if "b%d" % i not in os.listdir(m + "/tick"):
        sys.exit("b%d not listed" % i)
print("ok")
PY

for fs in $(vm_fs_list tmpfs ext4); do
	B=$T/$fs
	mkfs_loop "$fs" "$B" 128M
	# notify checks as reval when told of a change: once is enough
	[ "$fs" != tmpfs ] || udba_changes "$fs" notify
	udba_changes "$fs" reval

	section "$fs: udba=none keeps what it cached"
	cpa_mount "$M" "$U:$L" udba=none
	ok grep -q " $M cppaufs .*,udba=none" /proc/mounts
	assert_fails_with "No such file" stat "$M/late"
	before=$(names "$M")
	echo lower-late >"$L/late"
	# the negative dentry and the listing were cached: not seen
	assert_fails_with "No such file" stat "$M/late"
	assert_eq "$before" "$(names "$M")" "listing of the root, cached"
	echo 2 >/proc/sys/vm/drop_caches
	assert_file_content "$M/late" lower-late
	run cpa_umount "$M"
done

# inotify on DIR while CMD... runs: the events, "EVENT[,ISDIR][#pair]:name"
# separated by spaces; a pair of MOVED_FROM/MOVED_TO shares a cookie.
cat >"$T/inw.py" <<'PY'
import ctypes, os, struct, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
if fd < 0 or libc.inotify_add_watch(fd, sys.argv[1].encode(), 0x3c0) < 0:
    sys.exit("inotify: " + os.strerror(ctypes.get_errno()))
subprocess.run(sys.argv[2:], check=True)
names = ((0x100, "CREATE"), (0x200, "DELETE"), (0x40, "MOVED_FROM"),
         (0x80, "MOVED_TO"))
buf, out, pairs = b"", [], {}
while True:
    try:
        got = os.read(fd, 65536)
    except BlockingIOError:
        break
    buf += got
i = 0
while i < len(buf):
    wd, mask, cookie, ln = struct.unpack_from("iIII", buf, i)
    name = buf[i + 16:i + 16 + ln].split(b"\0")[0].decode()
    i += 16 + ln
    ev = "+".join(n for b, n in names if mask & b) or hex(mask)
    if mask & 0x40000000:
        ev += ",ISDIR"
    if mask & 0xc0:
        ev += "#%d" % pairs.setdefault(cookie, len(pairs) + 1)
    out.append(ev + ":" + name)
print(" ".join(out))
PY
# Many changes, directly in branches and through the union, each seen at
# once; "ok", or the first thing wrong.
cat >"$T/churn.py" <<'PY'
import os, sys
m, u, lo, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def exists(p):
    try:
        os.stat(p)
        return True
    except FileNotFoundError:
        return False
for i in range(n):
    for br in (u, lo):
        f = "%s/d/c%d" % (br, i)
        name = "%s/d/c%d" % (m, i)
        if exists(name):
            sys.exit("%s before it was made" % name)
        open(f, "w").close()
        if not exists(name) or "c%d" % i not in os.listdir(m + "/d"):
            sys.exit("%s not seen once made" % name)
        os.rename(f, f + "r")
        if exists(name) or not exists(name + "r"):
            sys.exit("%s not seen renamed" % name)
        os.unlink(f + "r")
        if exists(name + "r"):
            sys.exit("%sr still seen once removed" % name)
    t = "%s/d/t%d" % (m, i)
    open(t, "w").close()
    os.unlink(t)
    if exists(t) or exists("%s/d/t%d" % (u, i)):
        sys.exit("%s still there" % t)
print("ok")
PY

section "udba=notify: inotify on the union sees changes made in branches"
B=$T/events
mkfs_loop tmpfs "$B" 64M
M=$B/m
U=$B/u
L=$B/lo
mkdir -p "$U/d" "$L/d" "$L/e"
echo lower-x >"$L/x"
cpa_mount "$M" "$U:$L" udba=notify
ok stat "$M/d" "$M/e" "$M/x"
assert_eq "CREATE:f CREATE,ISDIR:nd MOVED_FROM#1:x MOVED_TO#1:y DELETE:f" \
	"$(python3 "$T/inw.py" "$M" sh -c "echo f >'$L/f' && mkdir '$U/nd' &&
		mv '$L/x' '$L/y' && : >'$U/.wh.y' && rm '$U/.wh.y' '$L/f'")" \
	"events on the root for changes in both branches, whiteouts left out"
assert_eq "CREATE:g DELETE:g" \
	"$(python3 "$T/inw.py" "$M/d" sh -c "echo g >'$L/d/g' && rm '$L/d/g'")" \
	"events on a merged directory"
assert_eq "CREATE:h DELETE:h" \
	"$(python3 "$T/inw.py" "$M/e" sh -c "echo h >'$M/e/h' && rm '$M/e/h'")" \
	"changes through the union are told once (copy-up, whiteouts not)"
assert_eq "CREATE,ISDIR:ud MOVED_FROM,ISDIR#1:ud MOVED_TO,ISDIR#1:ud2" \
	"$(python3 "$T/inw.py" "$M" sh -c "mkdir '$M/ud' && mv '$M/ud' '$M/ud2'")" \
	"a directory made and renamed through the union"

section "udba=notify: warm lookups compare a count, not stamps"
# calls of cpa_udba_stamp_now() while NAMES are looked up again 50 times each
stamps() {
	local tr=/sys/kernel/tracing before
	before=$(awk '$1 == "cpa_stamp" { print $2 }' "$tr/kprobe_profile")
	python3 -c 'import os, sys
for _ in range(50):
    for p in sys.argv[1:]:
        try:
            os.stat(p)
        except FileNotFoundError:
            pass' "$@"
	awk -v b="$before" '$1 == "cpa_stamp" { print $2 - b }' "$tr/kprobe_profile"
}
tr=/sys/kernel/tracing
[ -e "$tr/kprobe_events" ] || mount -t tracefs nodev "$tr" 2>/dev/null || :
if echo 'p:cpa_stamp cppaufs:cpa_udba_stamp_now' >>"$tr/kprobe_events" 2>/dev/null &&
	echo 1 >"$tr/events/kprobes/cpa_stamp/enable"; then
	warm=("$M/d" "$M/d/missing" "$M/e/h2" "$M/x2" "$M/y")
	echo h2 >"$M/e/h2"
	stamps "${warm[@]}" >/dev/null	# the first look arms the count
	assert_eq 0 "$(stamps "${warm[@]}")" "stamps computed for warm names"
	echo z >"$L/d/z"
	ok test "$(stamps "${warm[@]}")" -gt 0
	assert_eq 0 "$(stamps "${warm[@]}")" "... and none once checked again"
	R=$B/r
	cpa_mount "$R" "$U:$L" udba=reval,noxino
	ok test "$(stamps "$R/d" "$R/d/missing" "$R/y")" -gt 100
	run cpa_umount "$R"
	rm "$M/e/h2" "$L/d/z"
	echo 0 >"$tr/events/kprobes/cpa_stamp/enable"
	echo -:cpa_stamp >>"$tr/kprobe_events"
else
	_cpa_say "no kprobe events: the fast path is not measured"
fi

section "udba=notify: many changes leave nothing behind"
assert_eq ok "$(python3 "$T/churn.py" "$M" "$U" "$L" 100 2>&1)" \
	"100 rounds of changes in both branches and through the union"
assert_eq "" "$(ls -A "$M/d")" "listing of d afterwards"

section "udba=notify: a branch added: its directories are watched; removed"
X=$B/x
mkdir -p "$X"
mount -t tmpfs tmpfs "$X"
mkdir "$X/d"
assert_fails_with "No such file" stat "$M/d/late" "$M/late"
run mount -o "remount,append:$X" "$M"
ok stat "$M/d"
assert_fails_with "No such file" stat "$M/d/late" "$M/late"
assert_eq "CREATE:late" "$(python3 "$T/inw.py" "$M/d" sh -c "echo x-late >'$X/d/late'")" \
	"events on d from the branch added"
assert_file_content "$M/d/late" x-late
echo x-late >"$X/late"
assert_file_content "$M/late" x-late
rm "$X/d/late" "$X/late"
assert_fails_with "No such file" stat "$M/d/late" "$M/late"
echo x-gone >"$X/d/gone"
ok stat "$M/d/gone"
run mount -o "remount,del:$X" "$M"
assert_fails_with "No such file" stat "$M/d/gone"
# Its marks do not keep its filesystem: it unmounts at once.
ok umount "$X"
ok stat "$M/d"
run cpa_umount "$M"
ok bash -c "! dmesg | grep -q 'Busy inodes'"

section "refused values"
mkdir -p "$T/r/u" "$T/r/m"
assert_fails_with "" mount -t cppaufs -o "dirs=$T/r/u,udba=sometimes" none "$T/r/m"
ok grep -q "cppaufs: udba=sometimes: bad value (expected none, reval or notify)" \
	<<<"$(dmesg)"
cd /
