#!/bin/bash
# Power cut during xino reclamation, part 1 (guest; tests/vm/powercut.sh
# runs it with CPPAUFS_POWERCUT_SCENARIO=xino): on a fresh file system of
# type $1 on the kept disk, with the xino file on that disk, create a few
# thousand objects through the union in directories spread over the branch
# inode numbers (several leaves and interior blocks of the forward tree),
# record their union inode numbers, unmount and mount again (the numbers
# must not change), then at once:
#   - remove most of them through the union: numbers are freed, leaves and
#     interior blocks emptied and put on the free list, and later numbers
#     reuse the freed ones;
#   - create files and fsync them, one every 0.2 s, each recorded with its
#     union inode number once fsync returned;
# and reset the machine without sync after $2 milliseconds.
# xino_verify.sh, after the next boot, checks every object kept its number.
. "$(dirname "$0")/../lib.sh"
require_module

. "$(dirname "$0")/common.sh"

fs=$1 delay_ms=$2
NDIRS=8 NFILES=600
: >"$S/created"
: >"$S/timing"

# "path inode" of every object under the union, sorted: one find for all.
union_inos() { (cd "$U" && find . -mindepth 1 -printf '%P %i\n' | sort); }

section "prepare ($fs, cut after $delay_ms ms)"
case $fs in
# More, smaller groups than the default and no flex groups, inode tables
# written now: directories get branch inode numbers on both sides of 2^17,
# in more than one subtree of the forward tree.
ext4) run mkfs.ext4 -q -F -g 8192 -G 1 -N 300000 \
	-E lazy_itable_init=0,lazy_journal_init=0 "$dev" ;;
xfs) run mkfs.xfs -q -f "$dev" ;;
*) fail "unknown fs $fs"; exit 1 ;;
esac
pc_mount_disk
mkdir -p "$D/upper" "$D/lower"
# ext4 spreads the subdirectories of a top directory over its groups; xfs
# spreads new directories over its allocation groups anyway.
[ "$fs" != ext4 ] || run chattr +T "$D/upper"
pc_mount_union
python3 - "$U" "$NDIRS" "$NFILES" <<'EOF'
import os, sys
u, ndirs, nfiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(ndirs):
    dp = os.path.join(u, "d%d" % d)
    os.mkdir(dp)
    for i in range(nfiles):
        os.close(os.open(os.path.join(dp, "f%d" % i),
                         os.O_CREAT | os.O_WRONLY, 0o644))
EOF
union_inos >"$S/old"
assert_eq $((NDIRS * (NFILES + 1))) "$(wc -l <"$S/old")" "objects created"
(cd "$D/upper" && find . -mindepth 1 -maxdepth 1 -type d -printf '%P %i\n' |
	sort) >"$S/branch-dirs"
_cpa_say "branch inode numbers of the directories: $(tr '\n' ' ' <"$S/branch-dirs")"
_cpa_say "forward subtrees of 2^17 branch inode numbers they use: $(awk '
	$1 ~ /^d[0-9]/ && !(int($2 / 131072) in s) { s[int($2 / 131072)]; n++ }
	END { print n }' "$S/branch-dirs")"
sync
run cpa_umount "$U"
run mount -t cppaufs -o "dirs=$D/upper:$D/lower=ro" none "$U"
_cpa_mounts+=("$U")
if union_inos | cmp -s "$S/old" -; then
	pass "union inode numbers after a remount"
else
	fail "union inode numbers changed by a remount"
fi
if [ "$_cpa_fail" -gt 0 ]; then
	exit 1	# not armed: the run fails
fi
sync

section "cut"
# run.sh --powercut wants this line; the serial line needs a moment to
# carry it out before the reset.
echo "vmrig-powercut: armed"
sleep 0.5
# Remove d0 to d5 whole and every other file of d6; d7 stays.  The times
# (on the results share, as seconds after the operations start) tell where
# a cut fell.
t0=$EPOCHREALTIME
python3 - "$U" "$NDIRS" "$NFILES" "$S/timing" "$t0" <<'EOF' &
import os, sys, time
u, ndirs, nfiles, tlog = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
t0 = float(sys.argv[5])
with open(tlog, "a", buffering=1) as log:
    def say(what):
        log.write("%.3f %s\n" % (time.time() - t0, what))
    say("remove start")
    for d in range(ndirs - 1):
        dp = os.path.join(u, "d%d" % d)
        whole = d < ndirs - 2
        for i in range(0, nfiles, 1 if whole else 2):
            os.unlink(os.path.join(dp, "f%d" % i))
        if whole:
            os.rmdir(dp)
        say("removed d%d" % d)
    say("remove done")
EOF
# A file every 0.2 s: each fsync commits the branch's journal, which
# would hide removals that the xino file records before their filesystem.
"$(dirname "$0")/fsync_creates.py" --interval 0.2 "$U" "$S/created" &
# No process between here and the reset: each costs time under TCG.
printf -v ms '%03d' $((delay_ms % 1000))
sleep "$((delay_ms / 1000)).$ms"
t=$((${EPOCHREALTIME/./} - ${t0/./}))
printf '%d.%03d reset\n' $((t / 1000000)) $((t / 1000 % 1000)) >>"$S/timing"
echo b >/proc/sysrq-trigger
sleep 30
fail "still running after the reset"
