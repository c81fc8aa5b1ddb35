# Neither /sys/fs/cppaufs nor cppaufs in /proc/filesystems.
. "$CLI_DIR/common.sh"
for cmd in list "show si_5d2a9c0e1f3b4a67"; do
	# shellcheck disable=SC2086
	run "$AUCTL" --sysfs-root "$FIXTURES/sysfs-empty" \
		--filesystems "$FIXTURES/filesystems-without" \
		--mountinfo "$FIXTURES/mountinfo" $cmd
	expect_rc 1
	expect_no_out
	expect_err 'auctl: error: cppaufs module is not loaded'
done
