# Sourced by every cli/*.sh test. CTest sets AUCTL, MOUNT_HELPER, FIXTURES
# and CLI_DIR; exit 77 means skipped.
set -eu
: "${AUCTL:?}" "${MOUNT_HELPER:?}" "${FIXTURES:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/cppaufs-cli.XXXXXX")
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT

# auctl on the fixture tree and mount table, with the module "loaded".
auctl_fx() {
	"$AUCTL" --sysfs-root "$FIXTURES/sysfs" --mountinfo "$FIXTURES/mountinfo" \
		--filesystems "$FIXTURES/filesystems-with" "$@"
}

fail() {
	echo "FAIL: $*" >&2
	echo "--- stdout:" >&2; cat "$T/out" >&2
	echo "--- stderr:" >&2; cat "$T/err" >&2
	exit 1
}

# run CMD...: exit code in $rc, output in $T/out and $T/err.
run() {
	set +e
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
}

expect_rc() {
	[ "$rc" -eq "$1" ] || fail "exit code $rc, expected $1"
}

# expect_out TEXT / expect_err TEXT: the whole stream, plus a final newline.
expect_out() {
	printf '%s\n' "$1" >"$T/want"
	diff -u "$T/want" "$T/out" >&2 || fail "unexpected stdout"
}

expect_err() {
	printf '%s\n' "$1" >"$T/want"
	diff -u "$T/want" "$T/err" >&2 || fail "unexpected stderr"
}

expect_no_out() {
	[ ! -s "$T/out" ] || fail "stdout should be empty"
}

expect_no_err() {
	[ ! -s "$T/err" ] || fail "stderr should be empty"
}

skip() {
	echo "SKIP: $*"
	exit 77
}
