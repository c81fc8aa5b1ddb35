#!/bin/bash
# vm-args: --timeout 900 --smp 2
# Branches added and removed on a busy union, and long runs of changes:
#   - a live-system scenario (udba=notify): a read-only base and a tmpfs
#     writable branch; three modules added with add:1:<module>=rr and
#     removed again, in both orders, while a shell keeps working inside
#     the union; auctl show after each step; a module on a filesystem of
#     its own unmounts once removed;
#   - readers (find, cat, stat), a writer of the writable branch and a
#     shell in a merged directory work on the union while modules are added
#     and removed in a loop: each change succeeds or is refused as busy,
#     the union always lists what its branches hold, nothing the writer
#     wrote is lost, and the kernel reports nothing (the rig checks);
#   - a writable branch appended, made read-only, writable again and
#     removed in a loop while a writer creates files spread over the
#     writable branches (create=rr): every file is on one branch, as written;
#   - a branch of a file system of its own removed while names of it are
#     looked up: it unmounts right after (within the 5 s of cpa_umount);
#   - 1000 appends one by one, then 1000 removals one by one, each followed
#     by sysfs and /proc/mounts, and the union's listing after the runs.
. "$(dirname "$0")/lib.sh"
require_module
cpa_install_tools || fail "tools not built in ${CPPAUFS_BUILD:-?}"
# A change that meets a file in use is refused, and retried, with a line
# in the kernel log.
expect_dmesg 'cppaufs: (del|mod):[^ ]*: branch busy'

T=/tmp/lstress
mkfs_loop tmpfs "$T" 900M
cd "$T"
mkdir -p rw base/usr/bin base/etc m
echo base >base/etc/os-release
for i in 1 2 3; do
	mkdir -p "mod$i/usr/bin" "mod$i/opt/mod$i"
	echo "tool $i" >"mod$i/usr/bin/tool$i"
	echo "data $i" >"mod$i/opt/mod$i/data"
done
# As a live system would, with the branches watched (udba=notify).
cpa_mount m "$T/rw:$T/base=rr" udba=notify
si=$(sed -n 's/.*si=\([0-9a-f]*\).*/\1/p' <<<"$(grep " $T/m " /proc/mounts)")
sys=/sys/fs/cppaufs/si_$si
names() { ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }
# nbr: the number of br<N> files in sysfs
nbr() { find "$sys" -maxdepth 1 -name 'br[0-9]*' | wc -l; }

section "live system: modules added and removed under a running shell"
# The shell lists its working directory again and again, each listing
# numbered, into a file outside the union.
bash -c "cd $T/m/usr/bin && n=0 && while :; do
	n=\$((n + 1)); { echo \$n; ls; } >$T/ls.tmp; mv $T/ls.tmp $T/ls.out
done" &
shell=$!
on_exit kill "$shell"
# shell_ls: what the shell in m/usr/bin lists, in a listing begun after now
shell_ls() {
	local seq now
	seq=$(head -n1 "$T/ls.out" 2>/dev/null || echo 0)
	for _ in $(seq 300); do
		now=$(head -n1 "$T/ls.out" 2>/dev/null || echo 0)
		[ "$now" -lt $((seq + 2)) ] || break
		sleep 0.1
	done
	tail -n +2 "$T/ls.out" | tr '\n' ' ' | sed 's/ $//'
}
assert_eq "" "$(shell_ls)" "the shell's directory before any module"
want=""
for i in 1 2 3; do
	run mount -o "remount,add:1:$T/mod$i=rr" m
	want="tool$i${want:+ $want}"
	assert_eq "$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ' | sed 's/ $//')" \
		"$(shell_ls)" "the shell's directory with modules up to $i"
	assert_file_content "m/opt/mod$i/data" "data $i"
	run auctl show m
	assert_eq "$T/mod$i=rr" "$(cat "$sys/br1")" "br1 is the newest module"
done
assert_eq "$((3 + 2))" "$(nbr)" "br<N> files"
for i in 2 1 3; do
	run mount -o "remount,del:$T/mod$i" m
	assert_fails_with "No such file" stat "m/usr/bin/tool$i"
	assert_fails_with "No such file" stat "m/opt/mod$i"
	run auctl show m
done
assert_eq "" "$(shell_ls)" "the shell's directory after the modules went"
assert_eq "$T/rw=rw $T/base=rr" "$(cat "$sys/br0") $(cat "$sys/br1")" "branches"
assert_eq 2 "$(nbr)" "br<N> files"
assert_file_content m/etc/os-release base
# A module on a filesystem of its own (a squashfs image on a live
# system): once removed and the shell's directory listed again, nothing
# holds it, and it unmounts.
mkfs_loop tmpfs "$T/mod4" 16M
mkdir -p "$T/mod4/usr/bin"
echo "tool 4" >"$T/mod4/usr/bin/tool4"
run mount -o "remount,add:1:$T/mod4=rr" m
assert_eq "tool4" "$(shell_ls)" "the shell's directory with module 4"
assert_file_content m/usr/bin/tool4 "tool 4"
run mount -o "remount,del:$T/mod4" m
assert_eq "" "$(shell_ls)" "the shell's directory after module 4 went"
ls m >/dev/null
gone=0
# (cpa_umount tries for 5 s: the old entries go after a grace period)
if cpa_umount "$T/mod4" 2>/dev/null; then
	gone=1
fi
assert_eq 1 "$gone" "the filesystem of a removed module unmounts"
assert_fails_with "" mountpoint -q "$T/mod4"
kill "$shell"

section "changes of branches under load"
mkdir -p m/work
# writer: files in the writable branch, each with its own content
(
	n=0
	while [ ! -e "$T/stop" ]; do
		n=$((n + 1))
		echo "w$n" >"m/work/f$n.tmp" && mv "m/work/f$n.tmp" "m/work/f$n"
		[ $((n % 7)) -ne 0 ] || rm -f "m/work/f$((n - 3))"
	done
	echo "$n" >"$T/written"
) &
writer=$!
# readers: walk, read and stat the union
(
	while [ ! -e "$T/stop" ]; do
		find m -type f -exec cat {} + >/dev/null 2>&1 || true
		stat m/usr/bin/* m/opt/* >/dev/null 2>&1 || true
	done
) &
reader=$!
(
	cd m/usr/bin
	while [ ! -e "$T/stop" ]; do ls -l >/dev/null 2>&1 || true; done
) &
walker=$!
on_exit touch "$T/stop"
changes=0 busy=0 bad=0
for round in $(seq 1 8); do
	for i in 1 2 3; do
		mount -o "remount,add:1:$T/mod$i=rr" m 2>/dev/null || bad=$((bad + 1))
		changes=$((changes + 1))
	done
	for i in 3 1 2; do
		out=$(mount -o "remount,del:$T/mod$i" m 2>&1) && {
			changes=$((changes + 1))
			continue
		}
		if [[ $out == *"branch busy"* ]]; then
			busy=$((busy + 1))
			# a reader has a file of it open: try again until it closes
			for _ in $(seq 50); do
				mount -o "remount,del:$T/mod$i" m 2>/dev/null && break
				sleep 0.1
			done
		else
			bad=$((bad + 1))
			_cpa_say "del:$T/mod$i: $out"
		fi
	done
	[ "$(nbr)" -eq 2 ] || bad=$((bad + 1))
done
touch "$T/stop"
wait "$writer" "$reader" "$walker"
assert_eq 0 "$bad" "changes that failed other than busy, or a wrong number of branches"
pass "$changes changes of branches under load, $busy refused as busy and retried"
assert_eq "$T/rw=rw $T/base=rr" "$(cat "$sys/br0") $(cat "$sys/br1")" "branches"
# What the writer left: f<n> for every n not removed, with its content.
n=$(cat "$T/written")
lost=0
for ((k = 1; k <= n; k++)); do
	if [ $(((k + 3) % 7)) -eq 0 ] && [ $((k + 3)) -le "$n" ]; then
		[ ! -e "m/work/f$k" ] || lost=$((lost + 1))
	else
		[ "$(cat "m/work/f$k" 2>/dev/null)" = "w$k" ] || lost=$((lost + 1))
	fi
done
assert_eq 0 "$lost" "files of the writer ($n written) not as written"
assert_eq "$(names rw/work | md5sum)" "$(names m/work | md5sum)" \
	"the writer's directory: union and branch"

section "a branch removed while lookups in it run unmounts right after"
# Nothing may keep a removed branch once del: is done: a lookup under way
# during the change, or a directory inode that udba=notify's marks kept
# and a lookup finds again.  Its file system would stay busy until memory
# pressure.  The names are in a merged directory (m/usr/bin): one of them
# in use does not make the branch busy, as a directory only there would.
# A looker stats 3000 names of the branch, each a fresh lookup, while
# del: runs.
mkdir -p "$T/own"
stuck=0 rounds=8
for round in $(seq 1 "$rounds"); do
	mount -t tmpfs -o size=16M tmpfs "$T/own"
	mkdir -p "$T/own/usr/bin"
	python3 -c 'import sys
for i in range(3000): open("%s/usr/bin/n%d" % (sys.argv[1], i), "w").close()' "$T/own"
	run mount -o "remount,add:1:$T/own=rr" m
	rm -f "$T/looking"
	python3 - "$T/m/usr/bin" "$T/looking" <<'PY' &
import os, sys
d, flag = sys.argv[1:]
for i in range(3000):
    if i == 200:
        open(flag, "w").close()
    try:
        os.stat("%s/n%d" % (d, i))
    except OSError:
        pass
PY
	looker=$!
	for _ in $(seq 100); do [ ! -e "$T/looking" ] || break; sleep 0.05; done
	for _ in $(seq 100); do
		mount -o "remount,del:$T/own" m 2>/dev/null && break
		sleep 0.05
	done
	wait "$looker"
	[ "$(nbr)" -eq 2 ] || fail "round $round: del:$T/own did not happen"
	ls m/usr/bin >/dev/null
	# (cpa_umount tries for 5 s: old entries go after a grace period)
	if ! cpa_umount "$T/own" 2>/dev/null; then
		stuck=$((stuck + 1))
		_cpa_say "round $round: $T/own still busy after del:"
		# Let go by looking the names up again, then unmount.
		ls -l m/usr/bin >/dev/null 2>&1
		echo 2 >/proc/sys/vm/drop_caches
		cpa_umount "$T/own" || break
	fi
done
assert_eq 0 "$stuck" "rounds of $rounds whose removed branch stayed busy"
ok test ! -e m/usr/bin/n0

section "1000 appends one by one, then 1000 removals"
# One mkdir: a thousand would take minutes (under emulation a program
# started in the VM costs about 0.1 s).
mkdir -p many/b{0..999}
for i in {0..999}; do echo "$i" >"many/b$i/f$i"; done
# steps append|del: one process makes 1000 remounts, each through
# fspick(2) and fsconfig(2), and reads sysfs and /proc/mounts after each;
# prints "append N" or "del N" for every step that failed or was not shown.
steps() {
	python3 - "$T" "$sys" "$si" "$1" <<'PY'
import ctypes, os, sys
T, sysdir, si, what = sys.argv[1:]
libc = ctypes.CDLL(None, use_errno=True)
SYS_fspick, SYS_fsconfig = 433, 431
FSCONFIG_SET_STRING, FSCONFIG_CMD_RECONFIGURE = 1, 7
def remount(key, value):
    fd = libc.syscall(SYS_fspick, -100, (T + "/m").encode(), 1)
    if fd < 0:
        return False
    try:
        return (libc.syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING, key.encode(),
                             value.encode(), 0) == 0 and
                libc.syscall(SYS_fsconfig, fd, FSCONFIG_CMD_RECONFIGURE,
                             None, None, 0) == 0)
    finally:
        os.close(fd)
def br(n):
    try:
        with open("%s/br%d" % (sysdir, n)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None
def mounted():
    with open("/proc/mounts") as f:
        return any(" %s/m cppaufs " % T in l and "si=" + si in l for l in f)
for i in range(1000 if what == "append" else 0):
    b = "%s/many/b%d" % (T, i)
    if not (remount("append", b + "=ro") and br(i + 2) == b + "=ro" and
            br(i + 3) is None and mounted()):
        print("append", i)
for i in range(1000 if what == "del" else 0):
    ok = remount("del", "%s/many/b%d" % (T, i)) and br(1001 - i) is None
    if i < 999:
        ok = ok and br(2) == "%s/many/b%d=ro" % (T, i + 1)
    if not (ok and mounted()):
        print("del", i)
PY
}
assert_eq "" "$(steps append)" "appends that failed or that sysfs or /proc/mounts did not show"
assert_eq 1002 "$(nbr)" "br<N> files"
assert_file_content m/f0 0
assert_file_content m/f999 999
assert_eq 1000 "$(ls m | grep -c '^f[0-9]')" "files of the 1000 branches in the union"
assert_eq "" "$(steps del)" "removals that failed or that sysfs or /proc/mounts did not show"
assert_eq 2 "$(nbr)" "br<N> files"
assert_eq 0 "$(ls m | grep -c '^f[0-9]' || true)" "files of removed branches in the union"
assert_eq "etc usr work" "$(names m)" "listing of the root"
cd /
run cpa_umount "$T/m"

section "writable branches added, made read-only and removed under load"
cd "$T"
cpa_mount m "$T/rw:$T/base=rr"
si=$(sed -n 's/.*si=\([0-9a-f]*\).*/\1/p' <<<"$(grep " $T/m " /proc/mounts)")
sys=/sys/fs/cppaufs/si_$si
# create=rr spreads new names at the root over the writable branches,
# pool among them while it is writable; the writer never rewrites a file.
mkdir -p pool
rm -f "$T/stop"
run mount -o remount,create=rr m
(
	n=0
	while [ ! -e "$T/stop" ]; do
		n=$((n + 1))
		echo "p$n" >"m/p$n" 2>/dev/null || echo "$n" >>"$T/pfailed"
	done
	echo "$n" >"$T/pwritten"
) &
writer=$!
(
	# (paced: the root grows by thousands of names, and an unpaced reader
	# of all of them starves the remounts of CPU)
	while [ ! -e "$T/stop" ]; do
		cat m/p* >/dev/null 2>&1 || true
		stat m/p* >/dev/null 2>&1 || true
		sleep 0.5
	done
) &
reader=$!
# remount OPTION: one change, retried while the branch is busy (a reader
# has a file of it open); counts other failures in bad.
remount() {
	local out tries
	for tries in $(seq 100); do
		out=$(mount -o "remount,$1" m 2>&1) && return 0
		[[ $out == *"branch busy"* ]] || break
		busy=$((busy + 1))
		sleep 0.05
	done
	bad=$((bad + 1))
	_cpa_say "$1: $out"
}
changes=0 busy=0 bad=0
for round in $(seq 1 4); do
	remount "append:$T/pool=rw"
	sleep 0.2
	remount "mod:$T/pool=ro"
	sleep 0.1
	remount "mod:$T/pool=rw"
	sleep 0.2
	remount "del:$T/pool"
	changes=$((changes + 4))
	[ "$(nbr)" -eq 2 ] || bad=$((bad + 1))
done
touch "$T/stop"
wait "$writer" "$reader"
run mount -o remount,create=tdp m
assert_eq 0 "$bad" "changes that failed other than busy, or a wrong number of branches"
pass "$changes changes of a writable branch under load, $busy refused as busy and retried"
# Every file the writer made is on one of the two writable branches, once,
# as written; the union shows those of rw.  A name made on pool between the
# busy check of mod:pool=ro and the change fails its open with EROFS
# (docs/design.md, "Changes of branches"): such a name is on pool or
# nowhere, never on rw.  Prints: failed, failed on rw, lost, twice, on pool.
counts=$(python3 - "$T" <<'PY'
import os, sys
T = sys.argv[1]
n = int(open(T + "/pwritten").read())
failed = set()
if os.path.exists(T + "/pfailed"):
    failed = {int(l) for l in open(T + "/pfailed") if l.strip()}
def content(p):
    try:
        with open(p) as f:
            return f.readline().rstrip("\n")
    except FileNotFoundError:
        return None
onrw = lost = twice = onpool = 0
for k in range(1, n + 1):
    rw, pool = content("%s/rw/p%d" % (T, k)), content("%s/pool/p%d" % (T, k))
    if k in failed:
        onrw += rw is not None
    elif rw is not None and pool is not None:
        twice += 1
    elif (pool if pool is not None else rw) != "p%d" % k:
        lost += 1
    else:
        onpool += pool is not None
print(len(failed), onrw, lost, twice, onpool, n)
PY
)
read -r nfailed onrw lost twice onpool n <<<"$counts"
assert_eq 0 "$onrw" "failed creates ($nfailed of $n) that left a file on rw"
assert_eq 0 "$lost" "files of the writer ($n written) not as written"
assert_eq 0 "$twice" "files on both writable branches"
ok test "$onpool" -gt 0
assert_eq "$(cd rw && ls -d p[0-9]* | sort | md5sum)" \
	"$(cd m && ls -d p[0-9]* | sort | md5sum)" "the root's p<n>: union and rw"
cd /
run cpa_umount "$T/m"
