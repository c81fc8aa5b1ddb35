#!/bin/bash
# Rig self-test, must PASS: the library's helpers on every branch file
# system type and a kernel message the test declares as expected.
. "$(dirname "$0")/../lib.sh"

section "environment"
assert_eq "$CPPAUFS_REPO" "$PWD" "cwd"
ok test -n "$CPPAUFS_KVER"
assert_eq "$CPPAUFS_KVER" "$(uname -r)" "booted kernel"
ok touch /cannot-touch-the-host

section "branch file systems"
for fs in tmpfs ext4 xfs btrfs; do
	mkfs_loop "$fs" "/tmp/br-$fs"
	echo "$fs" >"/tmp/br-$fs/f"
	assert_file_content "/tmp/br-$fs/f" "$fs"
	assert_eq "$fs" "$(findmnt -no FSTYPE "/tmp/br-$fs")" "type of /tmp/br-$fs"
done

section "assertions"
assert_fails_with "No such file" cat /nonexistent
run_sh 'echo transcript | tr a-z A-Z'

section "expected kernel message"
expect_dmesg 'cppaufs: rig self-test, declared'
echo "cppaufs: rig self-test, declared" >/dev/kmsg
