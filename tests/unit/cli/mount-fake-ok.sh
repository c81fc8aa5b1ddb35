# mount.cppaufs -f: checks the seed walkthrough's options, mounts nothing.
. "$CLI_DIR/common.sh"
mkdir -p "$T/aufs/l1" "$T/aufs/l2" "$T/aufs/l3" "$T/aufs/merged"
cd "$T/aufs"
run "$MOUNT_HELPER" none ./merged -f -o dirs=./l1:./l2:./l3/
expect_rc 0
expect_no_out
expect_no_err

real=$(cd "$T/aufs" && pwd -P)
run "$MOUNT_HELPER" none ./merged -fv -o dirs=./l1:./l2:./l3/,nosuid,x-mine
expect_rc 0
expect_no_err
expect_out "mount.cppaufs: branch ./l1 -> $real/l1=rw
mount.cppaufs: branch ./l2 -> $real/l2=ro
mount.cppaufs: branch ./l3/ -> $real/l3=ro
mount.cppaufs: fsconfig br=$real/l1=rw:$real/l2=ro:$real/l3=ro
mount.cppaufs: fsmount attrs 0x2, move_mount to ./merged"
