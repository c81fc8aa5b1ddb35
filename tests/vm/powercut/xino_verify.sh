#!/bin/bash
# Power cut during xino reclamation, part 2 (guest; tests/vm/powercut.sh
# runs it after xino_cut.sh): fsck the disk of type $1, mount the same
# union (the xino file was not unmounted cleanly: a recovery walk) and check
# that every object recorded before the cut that is still there has its old
# union inode number, that every file fsync'd before the cut is there with
# the number it had, that no two objects share a number, and that the
# union still hands out, frees and keeps numbers.
. "$(dirname "$0")/../lib.sh"
require_module

. "$(dirname "$0")/common.sh"

fs=$1

union_inos() { (cd "$U" && find . -mindepth 1 -printf '%P %i\n' | sort); }

# Objects of the list $1 ("path inode") that are in the union now ($2) with
# another number, as "path old new".
changed() {
	awk 'NR == FNR { now[$1] = $2; next }
		($1 in now) && now[$1] != $2 { print $1, $2, now[$1] }' "$2" "$1"
}

# Numbers that name more than one object of the list $1.
shared() { awk '{ print $2 }' "$1" | sort | uniq -d | head -n 5; }

if [ -s "$S/timing" ]; then
	_cpa_say "before the cut (seconds after the operations started):"
	sed 's/^/  /' "$S/timing"
fi

pc_fsck "$fs"

section "the union after the cut"
pc_mount_disk
pc_mount_union
union_inos >/tmp/now
kept=$(awk 'NR == FNR { now[$1]; next } $1 in now' /tmp/now "$S/old" | wc -l)
_cpa_say "$kept of $(wc -l <"$S/old") objects recorded before the cut are left"
assert_eq "" "$(changed "$S/old" /tmp/now | head -n 10)" \
	"objects left from before the cut with another number (path old new)"

n=$(wc -l <"$S/created")
assert_eq "" "$(awk 'NR == FNR { now[$1]; next } !($1 in now) { print $1 }' \
	/tmp/now "$S/created" | head -n 10)" "files fsync'd before the cut that are gone"
_cpa_say "$n files were fsync'd before the cut"
assert_eq "" "$(changed "$S/created" /tmp/now | head -n 10)" \
	"files fsync'd before the cut with another number (path old new)"
assert_eq "" "$(shared /tmp/now)" "numbers shared by two objects"

section "the union still works"
python3 - "$U" <<'EOF'
import os, sys
u = sys.argv[1]
os.mkdir(os.path.join(u, "after"))
for i in range(300):
    os.close(os.open(os.path.join(u, "after", "a%d" % i),
                     os.O_CREAT | os.O_WRONLY, 0o644))
for i in range(0, 300, 3):
    os.unlink(os.path.join(u, "after", "a%d" % i))
EOF
union_inos >/tmp/now2
assert_eq "" "$(changed /tmp/now /tmp/now2 | head -n 10)" \
	"numbers changed by new files"
assert_eq "" "$(shared /tmp/now2)" "numbers shared by two objects"
run cpa_umount "$U"
pc_mount_union
union_inos >/tmp/now3
if cmp -s /tmp/now2 /tmp/now3; then
	pass "union inode numbers after a clean remount"
else
	fail "union inode numbers changed by a clean remount"
fi
run cpa_umount "$U"
