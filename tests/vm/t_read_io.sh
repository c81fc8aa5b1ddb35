#!/bin/bash
# Reading through the union on ext4, xfs and tmpfs branches: read, pread,
# mmap, sendfile/splice/copy_file_range, SEEK_DATA/SEEK_HOLE, O_DIRECT,
# statfs, xattrs; in-place writes to files of the writable branch; writes to
# lower files never change the lower branch, and on a union without a
# writable branch every write is refused with EROFS.
. "$(dirname "$0")/lib.sh"
require_module
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

T=/tmp/io
mkdir -p "$T"

cat >"$T/io.py" <<'EOF'
import contextlib, ctypes, errno, hashlib, io, mmap, os, shlex, struct, sys
import select, threading
libc = ctypes.CDLL(None, use_errno=True)
def check(ret):
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return ret
def sha(b):
    return hashlib.sha256(b).hexdigest()
def run(cmd, args):
  if cmd == "setxattr-raw":     # FILE NAME VALUE
    os.setxattr(args[0], args[1], args[2].encode())
  elif cmd == "pwrite":         # FILE OFFSET DATA
    fd = os.open(args[0], os.O_WRONLY)
    os.pwrite(fd, args[2].encode(), int(args[1]))
  elif cmd == "pread":              # FILE REF: pread at odd offsets, compare
      f, ref = (os.open(p, os.O_RDONLY) for p in args)
      size = os.fstat(ref).st_size
      for off, n in ((0, 1), (12345, 7777), (1000003, 65536), (size - 10, 100), (size, 10), (size + 4096, 10)):
          a, b = os.pread(f, n, off), os.pread(ref, n, off)
          if a != b:
              print("pread(%d, %d): %d bytes, want %d" % (off, n, len(a), len(b)))
      print("done")
  elif cmd == "mmap":           # FILE: sha of a whole-file and an offset mapping
      fd = os.open(args[0], os.O_RDONLY)
      with mmap.mmap(fd, 0, prot=mmap.PROT_READ) as m:
          whole = sha(m[:])
      with mmap.mmap(fd, 1 << 20, prot=mmap.PROT_READ, offset=1 << 20) as m:
          part = sha(m[:])
      print(whole, part)
  elif cmd == "sendfile":       # FILE OUT: os.sendfile the whole file to OUT
      fd = os.open(args[0], os.O_RDONLY)
      out = os.open(args[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
      size, off = os.fstat(fd).st_size, 0
      while off < size:
          n = os.sendfile(out, fd, off, size - off)
          if n <= 0:
              break
          off += n
      print(off)
  elif cmd == "splice":         # FILE: splice 1 MiB at 512 KiB into a pipe, sha
      fd = os.open(args[0], os.O_RDONLY)
      os.lseek(fd, 512 << 10, os.SEEK_SET)
      r, w = os.pipe()
      got = b""
      while len(got) < (1 << 20):
          n = os.splice(fd, w, min(65536, (1 << 20) - len(got)))
          if n <= 0:
              break
          got += os.read(r, n)
      print(sha(got))
  elif cmd == "cfr":            # FILE OUT: copy_file_range the whole file
      fd = os.open(args[0], os.O_RDONLY)
      out = os.open(args[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
      size, done = os.fstat(fd).st_size, 0
      try:
          while done < size:
              n = os.copy_file_range(fd, out, size - done)
              if n <= 0:
                  break
              done += n
          print(done)
      except OSError as e:
          print(errno.errorcode[e.errno])
  elif cmd == "seek":           # FILE: SEEK_DATA / SEEK_HOLE map
      fd = os.open(args[0], os.O_RDONLY)
      res = []
      for whence, name in ((os.SEEK_DATA, "data"), (os.SEEK_HOLE, "hole")):
          for off in (0, 4 << 20, (4 << 20) + 100, (6 << 20)):
              try:
                  res.append("%s@%d=%d" % (name, off, os.lseek(fd, off, whence)))
              except OSError as e:
                  res.append("%s@%d=%s" % (name, off, errno.errorcode[e.errno]))
      print(" ".join(res))
  elif cmd == "inotify-read":   # FILE WATCHED: IN_ACCESS on WATCHED after
      ino = check(libc.inotify_init1(os.O_NONBLOCK))   # reading FILE?
      check(libc.inotify_add_watch(ino, args[1].encode(), 0x1))
      fd = os.open(args[0], os.O_RDONLY)
      os.pread(fd, 4096, 8192)
      try:
          ev = os.read(ino, 4096)
          print("access" if struct.unpack_from("iI", ev)[1] & 0x1 else "other")
      except BlockingIOError:
          print("none")
  elif cmd == "fanotify-deny":  # FILE WATCHED: read FILE while fanotify
      # answers every FAN_ACCESS_PERM on WATCHED with FAN_DENY
      fan = check(libc.fanotify_init(0x4 | 0x2, os.O_RDONLY))  # CLASS_CONTENT|NONBLOCK
      check(libc.fanotify_mark(fan, 0x1, ctypes.c_uint64(0x20000),  # ADD, ACCESS_PERM
                               -100, args[1].encode()))
      seen, done = [], threading.Event()
      def answer():
          while not done.is_set():
              if not select.select([fan], [], [], 0.1)[0]:
                  continue
              ev = os.read(fan, 4096)
              _, _, _, _, mask, efd, _ = struct.unpack_from("IBBHQii", ev)
              seen.append(mask)
              os.write(fan, struct.pack("iI", efd, 0x2))   # FAN_DENY
              os.close(efd)
      t = threading.Thread(target=answer)
      t.start()
      try:
          fd = os.open(args[0], os.O_RDONLY)
          os.pread(fd, 4096, 0)
          r = "ok"
      except OSError as e:
          r = errno.errorcode[e.errno]
      done.set()
      t.join()
      os.close(fan)
      print(r, "asked" if seen else "not-asked")
  elif cmd == "xattr":          # FILE: list and get user.* xattrs
      names = sorted(n for n in os.listxattr(args[0]) if n.startswith("user."))
      print(" ".join("%s=%s" % (n, os.getxattr(args[0], n).decode()) for n in names))
  elif cmd == "errno":          # OP FILE: print the errno name of OP, or "ok"
      op, p = args
      try:
          if op == "open-rdwr":
              os.close(os.open(p, os.O_RDWR))
          elif op == "open-wronly":
              os.close(os.open(p, os.O_WRONLY))
          elif op == "open-trunc":
              os.close(os.open(p, os.O_WRONLY | os.O_TRUNC))
          elif op == "truncate":
              os.truncate(p, 1)
          elif op == "chmod":
              os.chmod(p, 0o600)
          elif op == "utime":
              os.utime(p, (1, 1))
          elif op == "setxattr":
              os.setxattr(p, "user.new", b"x")
          elif op == "getxattr-missing":
              os.getxattr(p, "user.missing")
          elif op == "mmap-shared-write":
              fd = os.open(p, os.O_RDONLY)
              mmap.mmap(fd, 4096, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
          print("ok")
      except OSError as e:
          print(errno.errorcode[e.errno])
# Serve one command a line on stdin, one result line on stdout: a python
# start per check costs seconds under TCG.  Descriptors a command opened
# are closed after it, so that nothing keeps the union busy.
base = set(os.listdir("/proc/self/fd"))
for line in sys.stdin:
    argv = shlex.split(line)
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            run(argv[0], argv[1:])
    except Exception as e:
        buf.write("EXC %s" % e)
    for fd in set(os.listdir("/proc/self/fd")) - base:
        try:
            os.close(int(fd))
        except OSError:
            pass
    print(buf.getvalue().strip().replace("\n", " "), flush=True)
EOF
io_start() { coproc IOSRV { exec python3 -u "$T/io.py"; }; }
# Stop the server before unmounting: whatever it may still hold goes away.
io_stop() {
	local pid=${IOSRV_PID:-}
	[ -n "$pid" ] || return 0
	eval "exec ${IOSRV[1]}>&-"
	wait "$pid" 2>/dev/null || true
}
io() {
	local line
	printf '%q ' "$@" >&"${IOSRV[1]}"
	printf '\n' >&"${IOSRV[1]}"
	IFS= read -r line <&"${IOSRV[0]}"
	printf '%s\n' "$line"
}

for fs in $(vm_fs_list ext4 xfs tmpfs); do
	section "$fs branches"
	D=$T/$fs M=$T/m-$fs
	case $fs in
	xfs) mkfs_loop xfs "$D" ;;
	*) mkfs_loop "$fs" "$D" 64M ;;
	esac
	mkdir "$D/up" "$D/low"
	head -c $((5 << 20)) /dev/urandom >"$D/low/big"
	# sparse: 64 KiB of data at 4 MiB in an 8 MiB file
	truncate -s 8M "$D/low/sparse"
	head -c 65536 /dev/urandom | dd of="$D/low/sparse" bs=64K seek=64 conv=notrunc status=none
	printf 'abc\n' >"$D/up/w.txt"
	printf 'lower\n' >"$D/low/l.txt"
	sync
	low_sha=$(sha256sum <"$D/low/big")
	run cpa_mount "$M" "$D/up:$D/low"
	io_start

	# read
	ok cmp "$M/big" "$D/low/big"
	assert_eq "$(stat -c %s "$D/low/big")" "$(stat -c %s "$M/big")" "$fs: size of big"
	# pread (dd skip= and python os.pread at odd offsets)
	assert_eq "$(dd if="$D/low/big" bs=4096 skip=333 count=5 status=none | sha256sum)" \
		"$(dd if="$M/big" bs=4096 skip=333 count=5 status=none | sha256sum)" "$fs: dd skip=333 count=5"
	assert_eq done "$(io pread "$M/big" "$D/low/big")" "$fs: os.pread at odd offsets and past EOF"
	# Reads skip the second pass through the VFS, not the branch file's
	# watchers: inotify sees the access, fanotify can refuse it.
	assert_eq access "$(io inotify-read "$M/big" "$D/low/big")" "$fs: IN_ACCESS on the branch file of a read"
	assert_eq "EPERM asked" "$(io fanotify-deny "$M/big" "$D/low/big")" "$fs: FAN_ACCESS_PERM on the branch file refuses a read"
	assert_eq "ok not-asked" "$(io fanotify-deny "$M/l.txt" "$D/low/big")" "$fs: ... and only of that file"
	# mmap
	assert_eq "$(io mmap "$D/low/big")" "$(io mmap "$M/big")" "$fs: mmap (whole file, and 1 MiB at 1 MiB)"
	assert_eq EACCES "$(io errno mmap-shared-write "$M/big")" "$fs: shared writable mmap of a read-only open"
	# sendfile, splice, copy_file_range
	rm -f "$T/out"
	assert_eq $((5 << 20)) "$(io sendfile "$M/big" "$T/out")" "$fs: os.sendfile byte count"
	ok cmp "$T/out" "$D/low/big"
	assert_eq "$(io splice "$D/low/big")" "$(io splice "$M/big")" "$fs: os.splice 1 MiB at 512 KiB"
	# copy_file_range to another file system: as from the branch file
	# (the VFS may refuse a cross-device copy with EXDEV)
	rm -f "$T/out"
	want=$(io cfr "$D/low/big" "$T/out")
	rm -f "$T/out"
	assert_eq "$want" "$(io cfr "$M/big" "$T/out")" "$fs: os.copy_file_range to /tmp: result as from the branch"
	[ "$want" != $((5 << 20)) ] || ok cmp "$T/out" "$D/low/big"
	# SEEK_DATA / SEEK_HOLE: the union reports what the branch reports
	want=$(io seek "$D/low/sparse")
	got=$(io seek "$M/sparse")
	_cpa_say "branch: $want"
	assert_eq "$want" "$got" "$fs: SEEK_DATA/SEEK_HOLE map of sparse"
	[[ $got == *"data@0=$((4 << 20))"* && $got == *"data@$((6 << 20))=ENXIO"* ]] &&
		pass "$fs: data starts at 4 MiB, none after 6 MiB" || fail "$fs: SEEK_DATA map: $got"
	ok cmp "$M/sparse" "$D/low/sparse"
	# O_DIRECT
	if [ "$fs" = tmpfs ]; then
		# tmpfs has O_DIRECT only on newer kernels: behave as the branch does
		b_rc=0 u_rc=0
		dd if="$D/low/big" of=/dev/null bs=64K iflag=direct status=none 2>/dev/null || b_rc=$?
		dd if="$M/big" of=/dev/null bs=64K iflag=direct status=none 2>/dev/null || u_rc=$?
		assert_eq "$b_rc" "$u_rc" "$fs: dd iflag=direct status as on the branch"
	else
		assert_eq "$low_sha" "$(dd if="$M/big" bs=64K iflag=direct status=none | sha256sum)" "$fs: dd iflag=direct"
		assert_eq "$(dd if="$D/low/big" bs=4096 skip=100 count=3 status=none | sha256sum)" \
			"$(dd if="$M/big" bs=4096 skip=100 count=3 iflag=direct status=none | sha256sum)" "$fs: dd iflag=direct skip=100"
	fi
	# statfs
	assert_eq 43504155 "$(stat -f -c %t "$M")" "$fs: statfs f_type"
	assert_eq "$(stat -f -c '%S %b' "$D/up")" "$(stat -f -c '%S %b' "$M")" "$fs: statfs block size and blocks (the writable branch's)"
	# xattrs (tmpfs user.* xattrs need a newer kernel: only ext4 and xfs)
	if [ "$fs" != tmpfs ]; then
		io setxattr-raw "$D/low/big" user.color blue >/dev/null
		io setxattr-raw "$D/low/big" user.size big >/dev/null
		io setxattr-raw "$D/up/w.txt" user.up yes >/dev/null
		assert_eq "user.color=blue user.size=big" "$(io xattr "$M/big")" "$fs: listxattr/getxattr of a lower file"
		assert_eq ENODATA "$(io errno getxattr-missing "$M/big")" "$fs: getxattr of a missing name"
		r=$(io errno setxattr "$M/big")
		[[ $r == EROFS || $r == ok ]] && pass "$fs: setxattr on a lower file: $r (refused, or applied to a copy-up)" ||
			fail "$fs: setxattr on a lower file: $r"
		assert_eq "user.color=blue user.size=big" "$(io xattr "$D/low/big")" "$fs: xattrs of the lower file unchanged"
		assert_eq "user.up=yes" "$(io xattr "$M/w.txt")" "$fs: xattr of an upper file"
		assert_eq ok "$(io errno setxattr "$M/w.txt")" "$fs: setxattr on an upper file"
		assert_eq "user.new=x user.up=yes" "$(io xattr "$D/up/w.txt")" "$fs: the xattr reached the branch"
	fi

	# in-place writes on the writable branch
	run sh -c "echo more >> '$M/w.txt'"
	assert_file_content "$D/up/w.txt" "abc
more"
	assert_eq 9 "$(stat -c %s "$M/w.txt")" "$fs: size after append"
	assert_eq "" "$(io pwrite "$M/w.txt" 1 X)" "$fs: pwrite of one byte at offset 1"
	assert_file_content "$D/up/w.txt" "aXc
more"
	run truncate -s 2 "$M/w.txt"
	assert_eq "aX" "$(cat "$D/up/w.txt")" "$fs: branch content after truncate -s 2"
	assert_eq 2 "$(stat -c %s "$M/w.txt")" "$fs: union size after truncate"
	run sh -c "echo replaced > '$M/w.txt'"
	assert_file_content "$D/up/w.txt" replaced
	assert_file_content "$M/w.txt" replaced
	ok chmod 600 "$M/w.txt"
	assert_eq 600 "$(stat -c %a "$D/up/w.txt")" "$fs: chmod reached the branch"

	# Writes to a lower file never modify the lower branch: refused with
	# EROFS, or (once copy-up exists) applied to a copy on the writable
	# branch; either way the union shows the outcome and the lower file
	# keeps its data, size, mode and times.
	low_stat=$(stat -c '%s %a %Y' "$D/low/l.txt")
	for op in open-rdwr chmod utime truncate; do
		r=$(io errno "$op" "$M/l.txt")
		case $r in
		EROFS) pass "$fs: $op of a lower file refused (EROFS)" ;;
		ok) pass "$fs: $op of a lower file applied (copy-up)" ;;
		*) fail "$fs: $op of a lower file: $r (expected EROFS or success)" ;;
		esac
	done
	if [ "$r" = ok ]; then
		assert_eq 1 "$(stat -c %s "$M/l.txt")" "$fs: union size after truncate to 1"
		assert_eq 1 "$(stat -c %s "$D/up/l.txt")" "$fs: size of the copy on the writable branch"
	fi
	r=0; (echo x >>"$M/big") 2>/dev/null || r=$?
	if [ "$r" = 0 ]; then
		assert_eq $(((5 << 20) + 2)) "$(stat -c %s "$M/big")" "$fs: union size after appending to big"
	fi
	assert_eq "$low_sha" "$(sha256sum <"$D/low/big")" "$fs: lower big unchanged"
	assert_eq lower "$(cat "$D/low/l.txt")" "$fs: lower l.txt unchanged"
	assert_eq "$low_stat" "$(stat -c '%s %a %Y' "$D/low/l.txt")" "$fs: size, mode and mtime of lower l.txt unchanged"

	io_stop
	run cpa_umount "$M"

	# Without a writable branch every write is refused.
	run mount -i -t cppaufs -o "dirs=$D/up=ro:$D/low" none "$M"
	io_start
	assert_fails_with "Read-only file system" sh -c "echo x >> '$M/big'"
	assert_fails_with "Read-only file system" truncate -s 0 "$M/big"
	for op in open-rdwr open-wronly open-trunc truncate chmod utime; do
		assert_eq EROFS "$(io errno "$op" "$M/sparse")" "$fs: read-only union: $op of a lower file"
		assert_eq EROFS "$(io errno "$op" "$M/w.txt")" "$fs: read-only union: $op of a file of the (ro) top branch"
	done
	[ "$fs" = tmpfs ] || assert_eq EROFS "$(io errno setxattr "$M/big")" "$fs: read-only union: setxattr"
	assert_eq "$low_sha" "$(sha256sum <"$D/low/big")" "$fs: lower big unchanged"
	ok cmp "$M/sparse" "$D/low/sparse"
	io_stop
	ok umount "$M"
done
