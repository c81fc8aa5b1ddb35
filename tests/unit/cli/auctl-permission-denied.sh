# Root-only sysfs files: the error names the file.
. "$CLI_DIR/common.sh"
[ "$(id -u)" -ne 0 ] || skip "root reads any file"
cp -r "$FIXTURES/sysfs" "$T/sysfs"
chmod 000 "$T/sysfs/fs/cppaufs/si_5d2a9c0e1f3b4a67/br1"
run "$AUCTL" --sysfs-root "$T/sysfs" --mountinfo "$FIXTURES/mountinfo" \
	show si_5d2a9c0e1f3b4a67
expect_rc 1
expect_err "auctl: error: permission denied reading $T/sysfs/fs/cppaufs/si_5d2a9c0e1f3b4a67/br1"
