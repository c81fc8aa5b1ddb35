# Bad command lines: a usage error and exit 1; --help exits 0.
. "$CLI_DIR/common.sh"
run "$AUCTL"
expect_rc 1
expect_no_out
expect_err "auctl: error: no command given (list, show, add, append, prepend, del, mod, apply or busy)
Try 'auctl --help' for more information."
run "$AUCTL" lsit
expect_rc 1
expect_err "auctl: error: unknown command 'lsit' (list, show, add, append, prepend, del, mod, apply or busy)
Try 'auctl --help' for more information."
run "$AUCTL" list --nope
expect_rc 1
run "$AUCTL" --help
expect_rc 0
expect_no_err
grep -q '^  auctl \[options\] show' "$T/out" || fail "usage lacks show"
