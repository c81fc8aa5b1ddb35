# mount.cppaufs command-line errors exit 1 (MNT_EX_USAGE).
. "$CLI_DIR/common.sh"
run "$MOUNT_HELPER" none
expect_rc 1
expect_err "mount.cppaufs: expected <spec> and <dir>
Try 'mount.cppaufs --help' for more information."
run "$MOUNT_HELPER" none /mnt -Z
expect_rc 1
run "$MOUNT_HELPER" none /mnt -t ext4 -o dirs=/
expect_rc 1
expect_err "mount.cppaufs: unsupported filesystem type 'ext4'"
run "$MOUNT_HELPER" --help
expect_rc 0
grep -q '^Usage: mount.cppaufs <spec> <dir>' "$T/out" || fail "no usage"
