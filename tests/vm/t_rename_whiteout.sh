#!/bin/bash
# renameat2(RENAME_WHITEOUT) through the union, of a file of the writable
# branch and of a lower one: the new name has the data, the old one is a
# 0/0 character device (what overlayfs calls a whiteout), the lower file
# is untouched; and overlayfs stacked on the union (upperdir and workdir
# in it) removes and renames lower files, which it does with whiteouts.
. "$(dirname "$0")/lib.sh"
require_module

T=/tmp/rwh
mkfs_loop tmpfs "$T"
mkdir -p "$T/up" "$T/lo" "$T/m"
echo upper >"$T/up/u"
echo lower >"$T/lo/l"
# udba=none: overlayfs refuses an upper layer whose dentries revalidate.
cpa_mount "$T/m" "$T/up:$T/lo" udba=none

rename_whiteout() {
	python3 - "$1" "$2" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
RENAME_WHITEOUT = 4
r = libc.syscall(316, -100, sys.argv[1].encode(), -100, sys.argv[2].encode(),
                 RENAME_WHITEOUT)
if r != 0:
    e = ctypes.get_errno()
    sys.exit("renameat2: %s" % os.strerror(e))
PY
}

section "RENAME_WHITEOUT through the union"
for f in u l; do
	run rename_whiteout "$T/m/$f" "$T/m/$f.new"
	assert_eq "character special file 0 0" \
		"$(stat -c '%F %t %T' "$T/m/$f")" "what $f became"
done
assert_file_content "$T/m/u.new" upper
assert_file_content "$T/m/l.new" lower
assert_file_content "$T/lo/l" lower
ok test ! -e "$T/up/.wh.l"

section "overlayfs on the union"
mkdir -p "$T/ol" "$T/m/ou" "$T/m/ow" "$T/om"
echo a >"$T/ol/a"
echo b >"$T/ol/b"
if run mount -t overlay -o "lowerdir=$T/ol,upperdir=$T/m/ou,workdir=$T/m/ow" \
    overlay "$T/om"; then
	_cpa_mounts+=("$T/om")
	run rm "$T/om/a"
	run mv "$T/om/b" "$T/om/c"
	assert_eq "c" "$(ls "$T/om")" "overlayfs listing"
	assert_file_content "$T/om/c" b
	run umount "$T/om"
	_cpa_mounts=("${_cpa_mounts[@]/$T\/om/}")
else
	fail "overlayfs refused the union as its upper layer"
fi
