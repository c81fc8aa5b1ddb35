# mount.cppaufs -f -v on remount: the branch operations become one fsconfig
# call each, paths absolute; on a first mount they are refused.
. "$CLI_DIR/common.sh"
mkdir -p "$T/u/a" "$T/u/b" "$T/u/merged"
real=$(cd "$T/u" && pwd -P)
cd "$T/u"
run "$MOUNT_HELPER" none merged -fv -o remount,del:./b,add:1:b=rr,append:a=ro,metacopy
expect_rc 0
expect_no_err
expect_out "mount.cppaufs: fspick merged
mount.cppaufs: fsconfig del=$real/b
mount.cppaufs: fsconfig add=1:$real/b=rr
mount.cppaufs: fsconfig append=$real/a=ro
mount.cppaufs: fsconfig metacopy
mount.cppaufs: fsconfig rw
mount.cppaufs: fsconfig reconfigure
mount.cppaufs: mount(2) merged flags bind,remount (mount attributes)"

run "$MOUNT_HELPER" none merged -f -o remount,mod:a
expect_rc 32
expect_no_out
expect_err "mount.cppaufs: mod:a: no permission (expected mod:<path>=rw|ro|rr)"

run "$MOUNT_HELPER" none merged -f -o dirs=a,prepend:b
expect_rc 32
expect_err "mount.cppaufs: prepend:b: changes the branches of a mounted union: use -o remount,prepend:b"
