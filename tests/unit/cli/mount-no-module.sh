# A real mount attempt without the module: one clear line, exit 32.
. "$CLI_DIR/common.sh"
[ "$(id -u)" -eq 0 ] || skip "fsopen needs CAP_SYS_ADMIN"
! grep -qw cppaufs /proc/filesystems || skip "the module is loaded here"
! modinfo cppaufs >/dev/null 2>&1 || skip "the module could be auto-loaded"
mkdir -p "$T/a" "$T/merged"
run "$MOUNT_HELPER" none "$T/merged" -o "dirs=$T/a"
expect_rc 32
expect_no_out
expect_err 'mount.cppaufs: filesystem cppaufs is not available (is the module loaded?)'
