#!/bin/bash
# Power cut, part 2 (guest; tests/vm/powercut.sh runs it after cut.sh): fsck
# the disk of type $1, mount the same union and check that every object
# cut.sh was changing is in its old or its new state, that no internal name
# shows, that the lower branch is untouched, and that every file fsync'd
# before the cut has its data and its union inode number.
. "$(dirname "$0")/../lib.sh"
require_module

. "$(dirname "$0")/common.sh"

fs=$1
pc_fsck "$fs"

section "the union after the cut"
pc_mount_disk
pc_mount_union
run ls -la "$U"
# No internal name of the on-disk format shows through the union.
leaked=$(find "$U" -name '.wh.*' 2>&1 | head -n 5)
assert_eq "" "$leaked" "internal names seen through the union"

# The lower branch was never written.
lower_now=$(cd "$D/lower" && find . -type f -print0 | sort -z |
	xargs -0 sha256sum)
assert_eq "$(cat "$S/lower.sums")" "$lower_now" "the lower branch's files"

# Copy-up: the whole old file, or the whole new one.
big=$(sha256sum <"$U/big" | cut -d' ' -f1)
if [ "$big" = "$(cat "$S/big.old")" ]; then
	pass "big: old content"
elif [ "$big" = "$(cat "$S/big.new")" ]; then
	pass "big: new content (copied up and appended)"
else
	fail "big: neither old nor new content ($(stat -c %s "$U/big") bytes)"
fi

# Whiteouts: each file is there with its content, or gone.
for i in 1 2 3 4 5; do
	if [ -e "$U/wh$i" ]; then
		assert_file_content "$U/wh$i" "whiteout $i"
	else
		pass "wh$i: removed"
	fi
done

# Metadata-only copy-up: the data is the lower file's, the mode old or new.
for i in 1 2 3 4 5; do
	assert_file_content "$U/meta$i" "meta $i"
	m=$(stat -c %a "$U/meta$i")
	case $m in
	644 | 600) pass "meta$i: mode $m" ;;
	*) fail "meta$i: mode $m, neither 644 nor 600" ;;
	esac
done

# Rename of a merged directory: exactly one of the two names, whole.
if [ -d "$U/dir" ] && [ -d "$U/dir2" ]; then
	fail "dir and dir2 both exist"
elif [ -d "$U/dir" ] || [ -d "$U/dir2" ]; then
	d=$U/dir
	[ -d "$d" ] || d=$U/dir2
	got=$(cd "$d" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
	assert_eq "$(cat "$S/dir.sums")" "$got" "content of ${d##*/}"
else
	fail "neither dir nor dir2 exists"
fi

# fsync'd files: data and union inode number kept.
n=0
while read -r name ino sum; do
	n=$((n + 1))
	if [ ! -e "$U/$name" ]; then
		fail "$name was fsync'd before the cut and is gone"
		continue
	fi
	assert_eq "$sum" "$(sha256sum <"$U/$name" | cut -d' ' -f1)" "data of $name"
	assert_eq "$ino" "$(stat -c %i "$U/$name")" "union inode number of $name"
done <"$S/created"
_cpa_say "$n files were fsync'd before the cut"

# The union still works: a write, a listing, an unmount.
echo after >"$U/after"
assert_file_content "$U/after" after
run cpa_umount "$U"
