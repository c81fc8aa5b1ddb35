#!/bin/bash
# Mount options: every refused option with its exact one-line message, (a)
# through the legacy mount(2) call (mount -i: no helper), read back from the
# kernel log, and (b) through the mount.cppaufs helper, read from its stderr;
# permissions in sysfs, the br= alias, repeated dirs=, relative paths and a
# trailing slash, several writable branches; a failed mount leaves no
# sysfs directory and holds no reference on the branch file systems.
# (The branch limit is tested in t_read_many.sh.)
. "$(dirname "$0")/lib.sh"
require_module
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

T=/tmp/opt
M=$T/m
mkdir -p "$T"/{a,b,c,a/sub,m,rel,uc}
echo f >"$T/file"
cd "$T"

nsi() { local a=(/sys/fs/cppaufs/si_*); [ -e "${a[0]}" ] && echo "${#a[@]}" || echo 0; }
ere_escape() { printf '%s' "$1" | sed 's/[][\.*^$(){}+?|]/\\&/g'; }
is_mounted() { grep -q " $M cppaufs " /proc/mounts; }

# Refused: legacy mount(2) must fail, leave nothing behind, and log exactly
# "cppaufs: MSG" (one line) in the kernel log.
refused_legacy() {
	local msg=$1 n0 si0 out rc=0 log
	shift
	expect_dmesg "cppaufs: $(ere_escape "$msg")\$"
	n0=$(dmesg | wc -l)
	si0=$(nsi)
	out=$(mount -i -t cppaufs "$@" none "$M" 2>&1) || rc=$?
	log=$(dmesg -t | tail -n +$((n0 + 1)) | grep cppaufs || true)
	if [ "$rc" -eq 0 ]; then
		fail "mount -i $* succeeded (expected: $msg)"
		umount "$M"
		return 0
	fi
	assert_eq "cppaufs: $msg" "$log" "kernel log of mount -i $(_cpa_cmdline "$@")"
	assert_eq "$si0" "$(nsi)" "si dirs after the failed mount"
	is_mounted && { fail "mounted after a failure"; umount "$M"; }
	return 0
}

# Refused by the helper (run by mount(8)): its stderr names the reason.
refused_helper() {
	local msg=$1 si0 out rc=0
	shift
	si0=$(nsi)
	out=$(mount -t cppaufs "$@" none "$M" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		fail "mount $* succeeded through the helper (expected: $msg)"
		umount "$M"
		return 0
	fi
	if [[ $out == *"$msg"* ]]; then
		pass "helper: mount $(_cpa_cmdline "$@") fails ($rc): ${out//$'\n'/ }"
	else
		fail "helper: mount $(_cpa_cmdline "$@") ($rc): expected \"$msg\", got: ${out//$'\n'/ }"
	fi
	assert_eq "$si0" "$(nsi)" "si dirs after the failed helper mount"
	is_mounted && { fail "mounted after a failure"; umount "$M"; }
	return 0
}

# A union to refuse as a branch.
mkdir -p "$T/uc/sub"
run cpa_mount "$T/u" "$T/uc"

# msg|options, one case a line
cases=(
	"dirs: empty branch path|-o dirs=a::b"
	"dirs: empty branch path|-o dirs=a:"
	"dirs: empty branch path|-o dirs==rw"
	"br: empty branch path|-o br=:a"
	"dirs: empty branch path|-o dirs="
	"dirs: $T/nope: no such file or directory|-o dirs=$T/nope"
	"br: nope/x: no such file or directory|-o br=a:nope/x"
	"dirs: $T/file: not a directory|-o dirs=$T/file"
	"dirs: file/x: not a directory|-o dirs=a:file/x"
	"dirs: a: given twice|-o dirs=a:b:a"
	"dirs: ./a/: given twice|-o dirs=$T/a:./a/"
	"br: a: given twice|-o dirs=a,br=a"
	"dirs: a/sub: overlaps branch a|-o dirs=a:a/sub"
	"dirs: $T: overlaps branch a/sub|-o dirs=a/sub:$T"
	"dirs: $T/u: is a cppaufs mount|-o dirs=a:$T/u"
	"dirs: u/sub: is a cppaufs mount|-o dirs=u/sub"
	"dirs: a: bad permission 'rx' (expected rw, ro or rr)|-o dirs=a=rx"
	"dirs: b: bad permission '' (expected rw, ro or rr)|-o dirs=a:b="
	"dirs: b: bad permission 'RW' (expected rw, ro or rr)|-o dirs=a:b=RW"
	"create=mfsrr:2x: bad size 2x (bytes, or with k, m, g or t)|-o dirs=a,create=mfsrr:2x"
	"cpup=up: bad value (expected tdp, bup or bu)|-o dirs=a,cpup=up"
	"no branches: use dirs=<dir>[:<dir>...]|-o noatime"
	"Unknown parameter 'foo'|-o dirs=a,foo=1"
	"si: set by the kernel, not an option|-o dirs=a,si=1234"
)

section "(a) refused by the kernel: mount(2), message in the kernel log"
# One process makes every mount(2) call and reads the new kernel log lines
# from /dev/kmsg (a process per step would take minutes under TCG).
cat >"$T/legacy.py" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
M = sys.argv[1]
def nsi():
    return len([n for n in os.listdir("/sys/fs/cppaufs") if n.startswith("si_")])
def new_kmsg(fd):
    lines = []
    while True:
        try:
            rec = os.read(fd, 8192).decode(errors="replace")
        except BlockingIOError:
            return lines
        lines.append(rec.split(";", 1)[1].rstrip("\n").split("\n")[0])
for line in sys.stdin.read().splitlines():
    msg, data = line.split("|", 1)
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    os.lseek(fd, 0, os.SEEK_END)
    n0 = nsi()
    rc = libc.mount(b"none", M.encode(), b"cppaufs", 0, data.encode() if data else None)
    err = ctypes.get_errno()
    log = [l for l in new_kmsg(fd) if "cppaufs" in l]
    os.close(fd)
    what = "mount(2) data=%r" % data
    if rc == 0:
        print("FAIL\t%s succeeded (expected: %s)" % (what, msg))
        libc.umount2(M.encode(), 0)
        continue
    if log != ["cppaufs: " + msg]:
        print("FAIL\t%s (%s): kernel log %r, expected %r" % (what, os.strerror(err), log, "cppaufs: " + msg))
    else:
        print("PASS\t%s fails (%s), kernel log: %s" % (what, os.strerror(err), log[0]))
    if nsi() != n0:
        print("FAIL\t%s: %d si dirs after the failure, %d before" % (what, nsi(), n0))
EOF
legacy_cases() { # msg|data lines on stdin
	local verdict text
	while IFS=$'\t' read -r verdict text; do
		if [ "$verdict" = PASS ]; then pass "$text"; else fail "$text"; fi
	done < <(python3 "$T/legacy.py" "$M")  # reads the cases on our stdin
	is_mounted && { fail "mounted after a failure"; umount "$M"; }
	return 0
}
# (a pipe into legacy_cases would run it in a subshell and lose its results)
: >"$T/cases"
for c in "${cases[@]}"; do
	expect_dmesg "cppaufs: $(ere_escape "${c%%|*}")\$"
	data=${c#*|}
	data=${data#-o }
	[ "$data" = noatime ] && data=''
	printf '%s|%s\n' "${c%%|*}" "$data" >>"$T/cases"
done
legacy_cases <"$T/cases"
# and two of them through mount(8) -i (no helper): same log line
refused_legacy "dirs: a: bad permission 'rx' (expected rw, ro or rr)" -o dirs=a=rx
refused_legacy "Unknown parameter 'foo'" -o dirs=a,foo=1

section "a failed mount holds no reference on a branch file system"
mkfs_loop ext4 "$T/ext" 32M
mkdir "$T/ext/x"
for c in "dirs: $T/nope: no such file or directory|dirs=$T/ext/x:$T/nope" \
	"dirs: $T/ext/x/..: given twice|dirs=$T/ext:$T/ext/x/.." \
	"dirs: $T/ext/x: overlaps branch $T/ext|dirs=$T/ext:$T/ext/x" \
	"Unknown parameter 'bogus'|dirs=$T/ext/x,bogus"; do
	expect_dmesg "cppaufs: $(ere_escape "${c%%|*}")\$"
	printf '%s\n' "$c"
done >"$T/cases"
legacy_cases <"$T/cases"
if run umount "$T/ext"; then
	pass "the ext4 branch file system unmounts right after the failed mounts"
else
	fail "umount of the ext4 branch failed: a failed mount kept a reference"
fi

section "accepted options and sysfs"
check_sysfs() { # what, then expected lines: br0 br1 ... then xi_path
	local what=$1 si n=0 got
	shift
	si=$(sed -n "s|.* $M cppaufs .*si=\([0-9a-f]*\).*|\1|p" /proc/mounts)
	got=$(while [ -e "/sys/fs/cppaufs/si_$si/br$n" ]; do cat "/sys/fs/cppaufs/si_$si/br$n"; n=$((n + 1)); done
		cat "/sys/fs/cppaufs/si_$si/xi_path")
	assert_eq "$(printf '%s\n' "$@")" "$got" "$what: sysfs br<N> and xi_path"
}
ok mount -i -t cppaufs -o "dirs=a=ro:b=rr:c=rw" none "$M"
check_sysfs "perms ro/rr/rw" "$T/a=ro" "$T/b=rr" "$T/c=rw" "$T/c/.aufs.xino"
ok umount "$M"
ok mount -i -t cppaufs -o "br=a:b" none "$M"
check_sysfs "br= alias" "$T/a=rw" "$T/b=ro" "$T/a/.aufs.xino"
ok umount "$M"
ok mount -i -t cppaufs -o "dirs=a,dirs=b=rr,br=c" none "$M"
check_sysfs "repeated dirs= and br= append" "$T/a=rw" "$T/b=rr" "$T/c=ro" "$T/a/.aufs.xino"
ok umount "$M"
cd "$T/rel"
ok mount -i -t cppaufs -o "dirs=../a/:./../b//=ro:../c/.=ro" none "$M"
check_sysfs "relative paths, trailing slashes" "$T/a=rw" "$T/b=ro" "$T/c=ro" "$T/a/.aufs.xino"
ok umount "$M"
cd "$T"
# No writable branch: xi_path is an empty line and the mount is read-only.
ok mount -i -t cppaufs -o "dirs=a=ro:b" none "$M"
check_sysfs "no writable branch" "$T/a=ro" "$T/b=ro" ""
opts=$(awk -v m="$M" '$2 == m {print $4}' /proc/mounts)
[[ ,$opts, == *,ro,* ]] && pass "mounted read-only without a writable branch ($opts)" || fail "not read-only: $opts"
ok umount "$M"
# A writable branch may be any of them.
ok mount -i -t cppaufs -o "dirs=a=rr:b:c=rw" none "$M"
check_sysfs "writable bottom branch" "$T/a=rr" "$T/b=ro" "$T/c=rw" "$T/c/.aufs.xino"
ok umount "$M"
# Any number of them: the xino file goes to the first.
ok mount -i -t cppaufs -o "dirs=a=ro:b=rw:c=rw" none "$M"
check_sysfs "two writable branches" "$T/a=ro" "$T/b=rw" "$T/c=rw" "$T/b/.aufs.xino"
ok umount "$M"

section "(b) the mount.cppaufs helper"
if ! cpa_install_tools; then
	_cpa_say "note: the tools are not built ($CPPAUFS_BUILD/tools/mount.cppaufs): helper part skipped"
else
	ok test -x /sbin/mount.cppaufs
	for i in 0 4 5 7 9 12 14 16 19 21 22; do
		c=${cases[i]}
		refused_helper "${c%%|*}" ${c#*|}
	done
	cd "$T/rel"
	ok mount -t cppaufs -o "dirs=../a/:./../b//=ro:../c/.=ro" none "$M"
	check_sysfs "helper: relative paths, trailing slashes" "$T/a=rw" "$T/b=ro" "$T/c=ro" "$T/a/.aufs.xino"
	ok umount "$M"
	cd "$T"

	# mount(8) repeats the options of /etc/fstab on remount, dirs= and
	# xino= included: the union's own branches are fine, others are not.
	echo "none $M cppaufs dirs=$T/a:$T/b=ro,xino=$T/x/fstab.xino 0 0" >>/etc/fstab
	mkdir -p "$T/x"
	ok mount "$M"
	ok mount -o remount,ro "$M"
	opts=$(awk -v m="$M" '$2 == m {print $4}' /proc/mounts)
	[[ ,$opts, == *,ro,* ]] && pass "fstab remount,ro ($opts)" || fail "not read-only: $opts"
	ok mount -o remount,rw "$M"
	ok touch "$M/after-remount"
	ok test -e "$T/a/after-remount"
	# After a change of branches too: the dirs= of /etc/fstab are the
	# branches as mounted, and change nothing.
	ok mount -o "remount,append:$T/c=ro" "$M"
	ok mount -o remount,ro "$M"
	ok mount -o remount,rw "$M"
	si=$(sed -n "s|.* $M cppaufs .*si=\([0-9a-f]*\).*|\1|p" /proc/mounts)
	assert_eq "$T/c=ro" "$(cat "/sys/fs/cppaufs/si_$si/br2")" "the appended branch after two fstab remounts"
	assert_fails_with "" /sbin/mount.cppaufs none "$M" -o "remount,dirs=$T/a:$T/c=ro"
	assert_fails_with "" /sbin/mount.cppaufs none "$M" -o "remount,xino=$T/x/other.xino"
	ok /sbin/mount.cppaufs none "$M" -o "remount,xino=$T/x/../x/fstab.xino"
	ok umount "$M"
	sed -i "\\|^none $M cppaufs|d" /etc/fstab
	expect_dmesg 'cppaufs: (branches|xino) cannot be changed on remount$'
fi

cpa_umount "$T/u"
assert_eq 0 "$(nsi)" "si dirs at the end"
