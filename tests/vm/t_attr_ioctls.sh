#!/bin/bash
# vm-args: --timeout 600
# Attribute ioctls through the union, on ext4, xfs and tmpfs branches (xfs
# on the full matrix, see lib.sh): inode flags (lsattr/chattr:
# FS_IOC_GETFLAGS/SETFLAGS), project ids (FS_IOC_FSGETXATTR/FSSETXATTR:
# xfs_io chproj/lsproj) and FIEMAP.
#
# Every step runs on a plain directory of the same file system as well
# (the reference): through the union it must give the same answer.  Where
# the file system keeps flags (ext4, xfs, tmpfs from 6.0), also checked:
# a lower file shows its own flags; chattr copies it up whole and sets the
# flags on the copy, the lower file keeps its own; an immutable or
# append-only file refuses writes and unlink through the union (EPERM) and
# takes them again once the flag is gone; a user other than root cannot
# set +i, nor change the flags of a file it does not own, and neither
# copies anything up.  Project ids: on xfs, and on ext4 made with the
# project feature.  FIEMAP through the union shows the extents of the file
# holding the data: the lower file, also under a metadata-only copy, then
# the copy once the data was copied.
. "$(dirname "$0")/lib.sh"
require_module

nob() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

# res CMD...: output and exit status of CMD, union and reference paths as @.
res() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	out=${out//"$M"/@}
	out=${out//"$R"/@}
	printf '%s [%s]' "$out" "$rc"
}

# same CMD...: run CMD with @ standing for the reference directory, then
# for the union; both give the same output and status.
same() {
	local a b
	a=$(res "${@//@/$R}")
	b=$(res "${@//@/$M}")
	_cpa_say "\$ $* => $b"
	assert_eq "$a" "$b" "$(_cpa_cmdline "$@") through the union as on plain $FS"
}

# refused CMD...: like same, for a change the caller may not make.  Before
# 5.13 ext4 refused a caller who does not own the file with EACCES, where
# the VFS now says EPERM; the union says EPERM on every kernel.
refused() {
	local a b
	a=$(res "${@//@/$R}")
	b=$(res "${@//@/$M}")
	a=${a//Permission denied/Operation not permitted}
	_cpa_say "\$ $* => $b"
	assert_eq "$a" "$b" "$(_cpa_cmdline "$@") refused through the union as on plain $FS"
}

# The flags column of lsattr, or the error.
flags() {
	local out rc=0
	out=$(lsattr -d -- "$1" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		printf '%s' "${out%% *}"
	else
		printf 'error %s' "${out//"$1"/@}"
	fi
}

# The extents of FIEMAP (or the error), without the file's name.
extents() {
	xfs_io -r -c 'fiemap -v' "$1" 2>&1 | grep -vxF "$1:" |
		sed "s|$1|@|g" || true
}

projid() {
	xfs_io -r -c lsproj "$1" 2>&1 | sed -n 's/^projid = //p'
}

# A file of several extents: 1 MiB, written in two pieces with a hole.
mkdata() {
	head -c 524288 /dev/urandom >"$1"
	head -c 262144 /dev/urandom | dd of="$1" bs=256k seek=3 conv=notrunc \
		status=none
}

attr_on() {
	FS=$1
	local B=/tmp/attr-$FS
	shift
	section "$FS: set-up"
	mkfs_loop "$FS" "$B" 320M "$@"
	U=$B/u L=$B/l M=$B/m R=$B/r
	mkdir -p "$U" "$L" "$M" "$R"
	local d f
	for d in "$L" "$R"; do
		for f in f g h x imm mc p pd owned; do
			mkdata "$d/$f"
		done
		mkdir "$d/dir"
		echo inner >"$d/dir/inner"
		chown 65534:65534 "$d/owned"
	done
	# Flags set on the branch: nodump, and an immutable file.
	local sup=1
	chattr +d "$L/h" 2>/dev/null || sup=0
	if [ "$sup" = 1 ]; then
		chattr +d "$R/h"
		chattr +i "$L/imm" "$R/imm"
	fi
	local lower_before
	lower_before=$(lsattr -R "$L" 2>&1 || true)
	run cpa_mount "$M" "$U:$L=ro"

	section "$FS: flags of lower files"
	for f in f h imm dir; do
		assert_eq "$(flags "$L/$f")" "$(flags "$M/$f")" "lsattr $f through the union"
		same lsattr -d @/$f
	done

	section "$FS: chattr +i copies up, the union refuses writes"
	same chattr +i @/f
	if [ "$sup" = 1 ]; then
		ok test -f "$U/f"
		assert_eq "$(flags "$U/f")" "$(flags "$M/f")" "flags of the copy"
		ok grep -q i <<<"$(flags "$M/f")"
		ok cmp "$L/f" "$U/f"
		ok test -z "$(getfattr --absolute-names -d -m trusted.cppaufs "$U/f" 2>/dev/null)"
		assert_fails_with "Operation not permitted" \
			bash -c "echo x >>'$M/f'"
		assert_fails_with "Operation not permitted" rm -f "$M/f"
		assert_fails_with "Operation not permitted" mv "$M/f" "$M/f2"
		assert_fails_with "Operation not permitted" chmod 600 "$M/f"
	else
		ok test ! -e "$U/f"
	fi
	same bash -c 'echo x >>@/f'
	same rm -f @/f
	same chattr -i @/f
	same bash -c 'echo x >>@/f'
	assert_eq "$(tail -c 2 "$R/f" | od -An -c)" "$(tail -c 2 "$M/f" | od -An -c)" "appended through the union"

	section "$FS: chattr +a"
	same chattr +a @/g
	same bash -c 'echo y >>@/g'
	same bash -c 'echo y >@/g'
	same rm -f @/g
	same chattr -a @/g
	same rm -f @/g
	ok test ! -e "$M/g"

	section "$FS: a lower immutable file"
	if [ "$sup" = 1 ]; then
		ok grep -q i <<<"$(flags "$M/imm")"
		assert_fails_with "Operation not permitted" \
			bash -c "echo x >>'$M/imm'"
		assert_fails_with "Operation not permitted" rm -f "$M/imm"
		ok test ! -e "$U/imm"
	fi
	same bash -c 'echo x >>@/imm'
	same chattr -i @/imm
	same bash -c 'echo x >>@/imm'
	same rm -f @/imm

	section "$FS: an immutable directory"
	same chattr +i @/dir
	same touch @/dir/new
	same rm -f @/dir/inner
	same chattr -i @/dir
	same touch @/dir/new
	[ "$sup" = 0 ] || assert_eq "$(flags "$U/dir")" "$(flags "$M/dir")" "flags of the copied directory"

	section "$FS: other users"
	refused nob chattr +i @/owned
	refused nob chattr +d @/h
	refused nob chattr +d @/p
	ok test ! -e "$U/owned"
	ok test ! -e "$U/h"
	ok test ! -e "$U/p"
	if [ "$sup" = 1 ]; then
		assert_fails_with "Operation not permitted" nob chattr +i "$M/owned"
		assert_fails_with "Operation not permitted" nob chattr +d "$M/h"
	fi
	# The owner may set the flags that need no capability.
	same nob chattr +d @/owned
	same lsattr -d @/owned
	same nob chattr -d @/owned

	section "$FS: project ids (FS_IOC_FSGETXATTR/FSSETXATTR)"
	same xfs_io -c 'chproj 42' @/p
	same xfs_io -r -c lsproj @/p
	same xfs_io -c 'chproj 7' @/pd
	if [ "$(projid "$R/p")" = 42 ]; then
		assert_eq 42 "$(projid "$M/p")" "project id through the union"
		assert_eq 42 "$(projid "$U/p")" "project id of the copy"
		assert_eq 0 "$(projid "$L/p")" "project id of the lower file"
		same lsattr -pd @/p
		assert_eq 42 "$(lsattr -pd "$M/p" | awk '{ print $1 }')" "lsattr -p through the union"
		same nob xfs_io -c 'chproj 9' @/owned
		assert_eq 0 "$(projid "$L/owned")" "project id of the lower file"
	else
		_cpa_say "(no project ids on this $FS: the union answers as it does)"
	fi

	section "$FS: FIEMAP shows the extents of the data"
	run xfs_io -r -c 'fiemap -v' "$M/x" || true
	assert_eq "$(extents "$L/x")" "$(extents "$M/x")" "extents of a lower file"
	assert_eq "$(extents "$L/h")" "$(extents "$M/h")" "extents of a lower file"
	if [ -e "$U/pd" ]; then
		assert_eq "$(extents "$U/pd")" "$(extents "$M/pd")" "extents of a file copied up by chproj"
	fi
	# a metadata-only copy: its data, and so its extents, are below
	run chmod 0640 "$M/mc"
	ok test -f "$U/mc"
	assert_eq "$(extents "$L/mc")" "$(extents "$M/mc")" "extents under a metadata-only copy"
	run chattr +d "$M/mc" || true
	sync
	assert_eq "$(extents "$U/mc")" "$(extents "$M/mc")" "extents of the copy after chattr"
	ok cmp "$L/mc" "$M/mc"
	sync
	assert_eq "$(extents "$U/f")" "$(extents "$M/f")" "extents of a copied-up file"
	if grep -q 0x <<<"$(extents "$R/f")"; then
		ok grep -q 0x <<<"$(extents "$M/f")"
	fi

	section "$FS: the lower branch is unchanged"
	assert_eq "$lower_before" "$(lsattr -R "$L" 2>&1 || true)" "lsattr -R of the lower branch"
	run cpa_umount "$M"
}

for fs in $(vm_fs_list ext4 xfs tmpfs); do
	case $fs in
	ext4) attr_on ext4 -O project,quota -I 256 ;;
	*) attr_on "$fs" ;;
	esac
done
