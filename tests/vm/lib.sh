# shellcheck shell=bash
# Assertion library for cppaufs VM tests (guest scripts run by
# scripts/vm/run.sh).  Source it first thing:
#
#   . "$(dirname "$0")/lib.sh"        # also sets -euo pipefail
#
# Assertions record a failure and let the script go on, so one run reports
# every broken check; any other failing command aborts the script (set -e),
# which counts as one more failure.  At exit the library unmounts what its
# helpers mounted, detaches their loop devices and prints
#   <script>: N passed, M failed
# The script's exit status is 0 when nothing failed, 77 after skip, else 1.
#
# Transcript:   run CMD...            print "$ CMD", run it, show its output;
#                                     returns CMD's status (use `run ... || true`
#                                     for a step that may fail)
#               run_sh 'TEXT'         the same for a shell command line
#                                     (redirections, pipes), run by bash -c
#               section TITLE         print a heading
# Assertions:   ok CMD...             CMD succeeds
#               assert_eq EXPECTED ACTUAL [WHAT]
#               assert_file_content FILE EXPECTED   (exact content; a single
#                                     trailing newline of the file is ignored)
#               assert_fails_with SUBSTRING CMD...  CMD fails and its stderr
#                                     contains SUBSTRING ("" = any stderr)
#               pass MSG / fail MSG   record a result by hand
# Kernel log:   expect_dmesg ERE      declare an expected kernel message (else
#                                     run.sh fails the run on any line naming
#                                     cppaufs, any WARNING, oops...)
# Set-up:       mkfs_loop FSTYPE DIR [SIZE [MKFS-OPTION...]]
#                                     make and mount a scratch branch
#                                     file system: tmpfs|ext4|xfs|btrfs
#                                     (default size 320M, xfs's minimum is 300M)
#               cpa_mount TARGET DIRS [OPTS]  mount -t cppaufs -o dirs=DIRS[,OPTS]
#               cpa_umount TARGET
#               cpa_install_tools     put mount.cppaufs and auctl from
#                                     $CPPAUFS_BUILD into the guest's root
#               require_module        skip unless cppaufs is registered
#               skip REASON           print "skipped: REASON", exit 77
#               on_exit CMD...        run CMD at exit (before the unmounts)
# Helpers:      $CPA_TESTS             this directory (tests/vm), absolute,
#                                     for the Python helpers beside the tests
#
# Everything runs in the VM's throw-away root: writing to /, /tmp or /sbin is
# fine.  Kernel modules of the booted kernel (loop, ext4, xfs, btrfs) come
# from the host's /lib/modules and load on demand.

set -eEuo pipefail

_cpa_name=${0##*/}
CPA_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_cpa_pass=0
_cpa_fail=0
_cpa_mounts=()   # mount points to unmount at exit, in mount order
_cpa_loops=()    # image files of loop mounts
_cpa_atexit=()   # commands from on_exit
_cpa_skipped=''
_cpa_last_err=''

_cpa_say() { printf '%s\n' "$*"; }

# Quote a command for the transcript.
_cpa_cmdline() {
	local a out=''
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then out+=" $a"; else out+=" $(printf '%q' "$a")"; fi
	done
	printf '%s' "${out# }"
}

pass() { _cpa_pass=$((_cpa_pass + 1)); _cpa_say "ok: $*"; }
fail() { _cpa_fail=$((_cpa_fail + 1)); _cpa_say "FAIL: $*"; }

section() { _cpa_say ""; _cpa_say "== $* =="; }

run() {
	_cpa_say "\$ $(_cpa_cmdline "$@")"
	local rc=0
	"$@" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || _cpa_say "[exit status $rc]"
	return "$rc"
}

# run_sh 'SHELL TEXT': like run, for steps with redirections or pipes.
run_sh() {
	_cpa_say "\$ $1"
	local rc=0
	bash -c "$1" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || _cpa_say "[exit status $rc]"
	return "$rc"
}

ok() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$(_cpa_cmdline "$@")"
	else
		fail "$(_cpa_cmdline "$@") exited $rc: $out"
	fi
}

assert_eq() {
	local exp=$1 act=$2 what=${3:-value}
	if [ "$exp" = "$act" ]; then
		pass "$what = $(printf '%q' "$act")"
	else
		fail "$what: expected $(printf '%q' "$exp"), got $(printf '%q' "$act")"
	fi
}

assert_file_content() {
	local file=$1 exp=$2 act
	if [ ! -e "$file" ]; then
		fail "$file: does not exist"
		return 0
	fi
	if ! act=$(cat -- "$file" 2>&1); then
		fail "$file: cannot read: $act"
		return 0
	fi
	# $(...) strips trailing newlines: compare with the expectation likewise.
	assert_eq "$(printf '%s' "$exp")" "$act" "content of $file"
}

assert_fails_with() {
	local want=$1 err rc=0
	shift
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" -eq 0 ]; then
		fail "$(_cpa_cmdline "$@") succeeded, expected a failure ($want)"
	elif [[ $err != *"$want"* ]]; then
		fail "$(_cpa_cmdline "$@") failed ($rc) without \"$want\" in stderr: $err"
	else
		pass "$(_cpa_cmdline "$@") fails: ${err//$'\n'/ }"
	fi
}

expect_dmesg() {
	local f=${CPPAUFS_EXPECT_DMESG:-}
	if [ -z "$f" ]; then
		_cpa_say "expect_dmesg: not in a VM run, ignored: $1"
		return 0
	fi
	printf '%s\n' "$1" >>"$f"
}

skip() {
	_cpa_skipped=$*
	exit 77
}

require_module() {
	grep -qw cppaufs /proc/filesystems 2>/dev/null ||
		skip "the cppaufs file system is not registered (module not loaded)"
}

# Branch file systems: every kernel runs each script on ext4 and tmpfs; the
# other types (xfs, btrfs) run on the kernel CTest marks with
# CPPAUFS_FULL_MATRIX=1 (the newest), or always outside CTest.
vm_full_matrix() { [ "${CPPAUFS_FULL_MATRIX:-1}" = 1 ]; }
# vm_fs_list FS...: the FS this run covers, in the order given.
vm_fs_list() {
	local fs
	for fs in "$@"; do
		case $fs in
		ext4 | tmpfs) echo "$fs" ;;
		*) ! vm_full_matrix || echo "$fs" ;;
		esac
	done
}
on_exit() { _cpa_atexit+=("$(_cpa_cmdline "$@")"); }

mkfs_loop() {
	local fstype=$1 dir=$2 size=${3:-320M} img
	shift $(($# < 3 ? $# : 3))
	mkdir -p -- "$dir"
	case $fstype in
	tmpfs)
		mount -t tmpfs -o "size=$size" tmpfs "$dir"
		;;
	ext4 | xfs | btrfs)
		modprobe loop 2>/dev/null || true
		modprobe "$fstype" 2>/dev/null || true
		img=$(mktemp "/tmp/cpa-branch.XXXXXX.$fstype")
		truncate -s "$size" "$img"
		case $fstype in
		ext4) mkfs.ext4 -q -F "$@" "$img" ;;
		xfs) mkfs.xfs -q -f "$@" "$img" ;;
		btrfs) mkfs.btrfs -q -f "$@" "$img" >/dev/null ;;
		esac
		mount -o loop -t "$fstype" "$img" "$dir"
		_cpa_loops+=("$img")
		;;
	*)
		echo "mkfs_loop: unknown file system type $fstype" >&2
		return 2
		;;
	esac
	_cpa_mounts+=("$(realpath "$dir")")
}

cpa_mount() {
	local target=$1 dirs=$2 opts=${3:-}
	mkdir -p -- "$target"
	mount -t cppaufs -o "dirs=$dirs${opts:+,$opts}" none "$target"
	_cpa_mounts+=("$(realpath "$target")")
}

# A process killed just before may still be exiting with its working
# directory in the union: umount is tried again for up to 5 s, then fails.
cpa_umount() {
	local target i n
	target=$(realpath "$1")
	for ((n = 1; n < 50; n++)); do
		umount "$target" 2>/dev/null && break
		sleep 0.1
	done
	[ "$n" -lt 50 ] || umount "$target" || return
	for i in "${!_cpa_mounts[@]}"; do
		[ "${_cpa_mounts[i]}" = "$target" ] && unset '_cpa_mounts[i]'
	done
	_cpa_mounts=("${_cpa_mounts[@]}")
}

# Install the helper and the admin tool from the CMake build into the guest's
# root (the VM root is a throw-away overlay): prefer the project's install
# rules, else copy the two binaries.  Returns 1 if the tools are not built.
cpa_install_tools() {
	local b=${CPPAUFS_BUILD:-}
	[ -n "$b" ] && [ -x "$b/tools/mount.cppaufs" ] || return 1
	if [ -f "$b/cmake_install.cmake" ] &&
		cmake --install "$b" --prefix /usr >/dev/null 2>&1 &&
		[ -x /sbin/mount.cppaufs ]; then
		:
	else
		install -m 0755 "$b/tools/mount.cppaufs" /sbin/mount.cppaufs
		[ ! -x "$b/tools/auctl" ] || install -m 0755 "$b/tools/auctl" /usr/local/bin/auctl
	fi
	return 0
}

_cpa_on_err() { _cpa_last_err="line $1: $2 (status $3)"; }

_cpa_on_exit() {
	local rc=$? i
	set +e
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		fail "aborted at ${_cpa_last_err:-exit status $rc}"
	fi
	for i in "${_cpa_atexit[@]}"; do eval "$i"; done
	# Unmount in reverse order: union mounts before their branches.
	for ((i = ${#_cpa_mounts[@]} - 1; i >= 0; i--)); do
		mountpoint -q "${_cpa_mounts[i]}" || continue
		umount "${_cpa_mounts[i]}" 2>/dev/null ||
			fail "cleanup: cannot unmount ${_cpa_mounts[i]}"
	done
	for i in "${_cpa_loops[@]}"; do
		losetup -j "$i" -O NAME -n 2>/dev/null | xargs -r losetup -d 2>/dev/null
		rm -f "$i"
	done
	_cpa_say ""
	if [ -n "$_cpa_skipped" ] || { [ "$rc" -eq 77 ] && [ "$_cpa_fail" -eq 0 ]; }; then
		_cpa_say "skipped: ${_cpa_skipped:-exit status 77}"
		_cpa_say "$_cpa_name: $_cpa_pass passed, $_cpa_fail failed, 1 skipped"
		[ "$_cpa_fail" -eq 0 ] && exit 77
		exit 1
	fi
	_cpa_say "$_cpa_name: $_cpa_pass passed, $_cpa_fail failed"
	[ "$_cpa_fail" -eq 0 ] && exit 0
	exit 1
}

# A signal (the rig's timeout sends TERM) is a failure, not a clean exit.
_cpa_on_signal() {
	_cpa_last_err="signal $1 (timeout?) during: $2"
	exit 143
}
trap '_cpa_on_signal TERM "$BASH_COMMAND"' TERM
trap '_cpa_on_signal INT "$BASH_COMMAND"' INT
trap '_cpa_on_err "$LINENO" "$BASH_COMMAND" "$?"' ERR
trap _cpa_on_exit EXIT
