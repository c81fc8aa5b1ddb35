# shellcheck shell=bash
# Helpers of the packaging tests (tests/pkg/*.sh), sourced first thing.
# Checks record a failure and go on, so one run reports everything that is
# wrong; at exit "<test>: N passed, M failed" and status 0 or 1 (77: skip).
# CTest sets REPO (the source tree) and WORK (a scratch directory of the
# build tree, emptied here).
set -uo pipefail
: "${REPO:?}" "${WORK:?}"

_pkg_name=${0##*/}
_pkg_pass=0
_pkg_fail=0

pass() { _pkg_pass=$((_pkg_pass + 1)); printf 'ok: %s\n' "$*"; }
fail() { _pkg_fail=$((_pkg_fail + 1)); printf 'FAIL: %s\n' "$*"; }
skip() { printf 'skipped: %s\n' "$*"; exit 77; }
section() { printf '\n== %s ==\n' "$*"; }

# check WHAT CMD...: CMD succeeds.
check() {
	local what=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$what"
	else
		fail "$what: $* exited $rc${out:+: $out}"
	fi
}

# check_eq WHAT EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1: expected [$2], got [$3]"
	fi
}

# check_has WHAT TEXT LINE...: every LINE is a whole line of TEXT.
check_has() {
	local what=$1 text=$2 l missing=()
	shift 2
	for l in "$@"; do
		grep -qxF -- "$l" <<<"$text" || missing+=("$l")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		pass "$what"
	else
		fail "$what: missing ${missing[*]}"
	fi
}

# check_grep WHAT ERE TEXT: some line of TEXT matches ERE.
check_grep() {
	if grep -qE -- "$2" <<<"$3"; then
		pass "$1"
	else
		fail "$1: no line matches /$2/ in: $3"
	fi
}

# The project version, from each place that states it; they must agree.
pkg_version() {
	sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$REPO/dkms.conf"
}

# pkg_source_files DIR...: the files of DIR the packages ship, as
# packaging/copy-tree.sh selects them, without version control files.
pkg_source_files() {
	local top
	top=$(git -C "$REPO" rev-parse --show-toplevel 2>/dev/null || true)
	if [ -n "$top" ] && [ "$top" = "$(cd "$REPO" && pwd -P)" ]; then
		(cd "$REPO" && git ls-files --cached --others --exclude-standard -- "$@" |
			while IFS= read -r f; do [ -e "$f" ] && echo "$f"; done)
	else
		(cd "$REPO" && find "$@" -type f)
	fi | grep -vE '(^|/)\.git' | sort
}

# What a package build would leave in the source tree if it built there
# (it builds in a copy): debhelper's and CMake's products and packages.
tree_products() {
	(cd "$REPO" && find . -maxdepth 2 \( -path ./build -prune \) -o \( \
		-path './debian/.debhelper' -o -path './debian/tmp' -o \
		\( -path './debian/cppaufs-*' -type d \) -o -path './debian/files' -o \
		-path './debian/debhelper-build-stamp' -o -name '*.substvars' -o \
		-name 'obj-*' -o -name 'rpm-build' -o -name '*.deb' -o \
		-name '*.rpm' -o -name '*.changes' -o -name '*.buildinfo' \) -print)
}

_pkg_exit() {
	local rc=$?
	[ "$rc" -eq 77 ] && exit 77
	[ "$rc" -eq 0 ] || fail "aborted (status $rc)"
	printf '\n%s: %d passed, %d failed\n' "$_pkg_name" "$_pkg_pass" "$_pkg_fail"
	[ "$_pkg_fail" -eq 0 ] && exit 0
	exit 1
}
trap _pkg_exit EXIT

rm -rf "$WORK"
mkdir -p "$WORK"
