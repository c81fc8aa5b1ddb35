#!/bin/bash
# vm-args: --timeout 600
# POSIX ACLs through the union, compared each time with the same operation
# on a plain directory of the same file system: getfacl of lower files and
# directories shows their ACLs (without a copy-up); setfacl on a lower file
# copies it up and changes the copy only; access is granted and denied by
# named entries and the mask, at once after every change; chmod updates the
# mask; setfacl -b / -k remove; only the owner may change an ACL; default
# ACLs of union directories (lower ones too) are inherited by what is
# created through the union, with the caller's umask where there is none.
# Branches on ext4 and tmpfs (and xfs outside CTest's subset).
. "$(dirname "$0")/lib.sh"
require_module
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

if ! command -v getfacl >/dev/null || ! command -v setfacl >/dev/null; then
	skip "getfacl/setfacl (package acl) not installed"
fi

T=/tmp/acl
mkdir -p "$T"
# users by number: no supplementary groups, no capabilities
as() {
	local id=$1
	shift
	setpriv --reuid="$id" --regid="$id" --clear-groups -- "$@"
}
acl() { getfacl -n -p --omit-header -- "$@" 2>&1; }
# the same command on the plain directory and through the union
both() {
	local cmd=$1
	run_sh "cd $P && $cmd"
	run_sh "cd $M && $cmd"
}
same_acl() {
	assert_eq "$(acl "$P/$1")" "$(acl "$M/$1")" "$2: ACL of $1 as on the plain fs"
	assert_eq "$(stat -c '%A %u:%g' "$P/$1")" "$(stat -c '%A %u:%g' "$M/$1")" \
		"$2: mode and owner of $1 as on the plain fs"
}

# fixtures, made in the lower branch and in the plain directory alike
fixtures() {
	local d=$1
	(
		cd "$d" || exit
		umask 022
		echo data >f && chmod 0640 f
		setfacl -m u:1001:r,g:1002:rw f
		echo data >g && chmod 0644 g
		echo data >h && chmod 0600 h
		setfacl -m u:1001:rw h
		mkdir d && chmod 0750 d
		setfacl -m u:1001:rwx d
		setfacl -d -m u:1001:rw,g::r,o::- d
		echo old >d/old
		mkdir e && chmod 0755 e
		mkdir ld && chmod 0755 ld
		setfacl -d -m u:1001:r,m::rwx ld
	)
}

one_fs() {
	local fs=$1
	local B=$T/$fs
	section "$fs: branches"
	mkfs_loop "$fs" "$B"
	U=$B/u L=$B/l P=$B/plain M=$T/m-$fs
	mkdir -m 0755 "$U" "$L" "$P"
	fixtures "$L"
	fixtures "$P"
	(cd "$L" && getfacl -R -n . && find . -printf '%p %m %U:%G %s\n') \
		>"$T/lower.before" 2>&1
	run cpa_mount "$M" "$U:$L"

	section "$fs: getfacl of lower objects"
	for o in f g h d d/old e ld; do
		assert_eq "$(acl "$L/$o")" "$(acl "$M/$o")" "$fs: ACL of lower $o through the union"
	done
	ok test ! -e "$U/f"
	ok test ! -e "$U/d"

	section "$fs: access granted and denied by ACL entries"
	run as 1001 cat "$M/f"
	assert_file_content "$M/f" data
	ok as 1001 cat "$M/f"
	assert_fails_with "Permission denied" as 1003 cat "$M/f"
	assert_fails_with "Permission denied" as 1001 sh -c "echo x >>$M/f"
	ok as 1002 sh -c "echo g1002 >>$M/f"   # group entry rw: copies f up
	ok test -f "$U/f"
	assert_eq "$(acl "$L/f")" "$(acl "$U/f")" "$fs: ACL of the copy of f"
	assert_eq "$(acl "$L/f")" "$(acl "$M/f")" "$fs: ACL of f after its copy-up"
	ok as 1001 cat "$M/f"
	assert_fails_with "Permission denied" as 1003 cat "$M/f"
	ok as 1001 ls "$M/d"
	assert_fails_with "Permission denied" as 1003 ls "$M/d"

	section "$fs: setfacl on a lower file copies it up"
	both "setfacl -m u:1001:rw g"
	ok test -f "$U/g"
	same_acl g "$fs: setfacl -m u:1001:rw"
	assert_eq "$(acl "$M/g")" "$(acl "$U/g")" "$fs: the copy of g holds the ACL"
	assert_eq "" "$(getfacl -s --omit-header "$L/g")" "$fs: lower g still without ACL"
	ok as 1001 sh -c "echo by1001 >>$M/g"
	assert_file_content "$M/g" "$(printf 'data\nby1001')"
	assert_fails_with "Permission denied" as 1003 sh -c "echo x >>$M/g"
	assert_file_content "$L/g" data

	section "$fs: the mask restricts, chmod changes the mask"
	both "setfacl -m m::r g"
	same_acl g "$fs: mask r"
	assert_fails_with "Permission denied" as 1001 sh -c "echo x >>$M/g"
	ok as 1001 cat "$M/g"
	both "chmod 0660 g"
	same_acl g "$fs: chmod 0660"
	ok as 1001 sh -c "echo again >>$M/g"
	both "chmod 0600 g"
	same_acl g "$fs: chmod 0600"
	assert_fails_with "Permission denied" as 1001 cat "$M/g"

	section "$fs: no stale ACL after a change"
	ok as 1001 cat "$M/h"
	both "setfacl -x u:1001 h"
	same_acl h "$fs: setfacl -x"
	assert_fails_with "Permission denied" as 1001 cat "$M/h"
	both "setfacl -m u:1001:r h"
	ok as 1001 cat "$M/h"
	# a change made in the writable branch itself counts at once too
	run setfacl -x u:1001 "$U/h"
	assert_fails_with "Permission denied" as 1001 cat "$M/h"
	run setfacl -m u:1001:r "$U/h"
	ok as 1001 cat "$M/h"

	section "$fs: only the owner changes an ACL"
	assert_fails_with "Operation not permitted" as 1001 setfacl -m u:1003:rw "$M/f"
	assert_fails_with "Operation not permitted" as 1001 setfacl -m u:1003:r "$M/e"
	ok test ! -e "$U/e"
	both "chown 1001 e"
	ok as 1001 setfacl -m u:1003:rx "$M/e"
	ok as 1001 setfacl -m u:1003:rx "$P/e"
	same_acl e "$fs: setfacl by the owner"

	section "$fs: setfacl -b and -k remove"
	both "setfacl -b g"
	same_acl g "$fs: setfacl -b"
	assert_eq "$(acl "$M/g")" "$(acl "$U/g")" "$fs: the copy of g lost its ACL"
	both "setfacl -k d"
	same_acl d "$fs: setfacl -k"
	ok test -d "$U/d"
	both "setfacl -b d"
	same_acl d "$fs: setfacl -b on a directory"

	section "$fs: default ACLs are inherited"
	# d lost its ACLs above: set them again through the union
	both "setfacl -m u:1001:rwx d && setfacl -d -m u:1001:rw,g::r,o::- d"
	same_acl d "$fs: default ACL set again"
	both "umask 022 && touch d/new && mkdir d/sub && mkfifo d/fifo"
	for o in d/new d/sub d/fifo; do
		same_acl "$o" "$fs: inherited"
	done
	ok as 1001 sh -c "umask 077 && echo mine >$M/d/byuser"
	ok as 1001 sh -c "umask 077 && echo mine >$P/d/byuser"
	same_acl d/byuser "$fs: created by a user the ACL lets write"
	run_sh "cd $M && umask 022 && touch d/sub/deeper"
	run_sh "cd $P && umask 022 && touch d/sub/deeper"
	same_acl d/sub/deeper "$fs: inherited two levels down"
	# a lower directory that has a default ACL: its copy keeps it
	ok test ! -e "$U/ld"
	both "umask 027 && touch ld/n && mkdir ld/s"
	ok test -d "$U/ld"
	same_acl ld "$fs: copied-up directory"
	same_acl ld/n "$fs: inherited from a lower directory"
	same_acl ld/s "$fs: inherited from a lower directory"
	# without a default ACL, the umask of the caller
	both "umask 027 && touch e/u027 && mkdir e/d027"
	same_acl e/u027 "$fs: umask 027"
	same_acl e/d027 "$fs: umask 027"

	section "$fs: lower branch unchanged"
	(cd "$L" && getfacl -R -n . && find . -printf '%p %m %U:%G %s\n') \
		>"$T/lower.after" 2>&1
	if diff "$T/lower.before" "$T/lower.after" >"$T/lower.diff"; then
		pass "$fs: lower branch unchanged"
	else
		fail "$fs: lower branch changed: $(head -20 "$T/lower.diff")"
	fi
	cpa_umount "$M"
	umount "$B"
}

for fs in $(vm_fs_list ext4 tmpfs xfs); do
	one_fs "$fs"
done
cd /
