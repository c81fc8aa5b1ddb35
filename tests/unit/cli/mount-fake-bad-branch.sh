# mount.cppaufs -f with bad branches: the kernel's message, exit 32.
. "$CLI_DIR/common.sh"
mkdir -p "$T/u/a/in" "$T/u/b" "$T/u/merged"
: >"$T/u/file"
ln -s a "$T/u/alias"
cd "$T/u"
check() {
	opts=$1 msg=$2
	run "$MOUNT_HELPER" none merged -f -o "$opts"
	expect_rc 32
	expect_no_out
	expect_err "mount.cppaufs: $msg"
}
check 'dirs=a:nope' 'dirs: nope: no such file or directory'
check 'dirs=a:file' 'dirs: file: not a directory'
check 'dirs=a,br=alias/' 'br: alias/: given twice'
check 'dirs=a:a/in' 'dirs: a/in: overlaps branch a'
check 'dirs=a:b=rx' "dirs: b: bad permission 'rx' (expected rw, ro or rr)"
check 'dirs=a::b' 'dirs: empty branch path'
check 'noatime' 'no branches: use dirs=<dir>[:<dir>...]'

run "$MOUNT_HELPER" none nowhere -f -o dirs=a
expect_rc 32
expect_err 'mount.cppaufs: mount point nowhere does not exist'
