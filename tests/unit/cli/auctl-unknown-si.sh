# auctl show of an si id without a sysfs directory.
. "$CLI_DIR/common.sh"
run auctl_fx show si_0123456789abcdef
expect_rc 1
expect_no_out
expect_err 'auctl: error: si_0123456789abcdef: no such cppaufs instance'
