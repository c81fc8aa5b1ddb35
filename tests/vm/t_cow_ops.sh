#!/bin/bash
# vm-args: --timeout 420
# Every namespace operation through the union against each place an object
# can live: only on the writable branch (up), only on a lower branch (lo),
# on both (both: the upper one shadows the lower one) and whited out (wh:
# a lower object hidden by .wh.<name>), plus a name that exists nowhere
# (new) for the operations that create: create, mkdir, mknod (fifo, char
# device), symlink, link, unlink, rmdir, rename (files, RENAME_NOREPLACE,
# RENAME_EXCHANGE, directories: upper-only and merged ones; mv(1) where
# rename(2) of a merged one says EXDEV), chmod/chown/truncate/utimes, user.* xattrs (not on tmpfs),
# fallocate, fsync/fdatasync/syncfs, flock, POSIX locks, shared writable
# mmap.  Checked each time: the union view and the writable branch; at the
# end the writable branch holds exactly the expected names and whiteouts,
# .wh..wh.orph is empty, the lower branches are unchanged (names, modes,
# sizes, owners, mtimes, ctimes, link counts, xattrs), and the union view
# (inode numbers included) is the same after umount + mount.  Run with all
# branches on tmpfs, ext4, xfs and btrfs, and with the writable branch on
# tmpfs over ext4 lower branches.
#
# The operations run in one python process per configuration: in the guest
# every exec costs a lot, and this matrix is several hundred operations.
# Its lines "PASS ..." / "FAIL ..." are recorded as assertions.
. "$(dirname "$0")/lib.sh"
require_module
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

PY=/usr/bin/python3
T=/tmp/cow-ops
mkdir -p "$T"
cat >"$T/matrix.py" <<'EOF'
import ctypes, errno, fcntl, json, mmap, os, stat, subprocess, sys

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
phase, CFG, U, L2, L3, M, XATTR, STATE = sys.argv[1:9]
XATTR = XATTR == "1"
PLACES = ["up", "lo", "both", "wh"]
INTERNAL = (".aufs.xino", ".wh..wh.aufs", ".wh..wh.orph", ".wh..wh.plnk")


def say(s):
    print(s, flush=True)


def PASS(m):
    say("PASS " + m)


def FAIL(m):
    say("FAIL " + m)


def eq(exp, act, what):
    if exp == act:
        PASS("%s = %r" % (what, act))
    else:
        FAIL("%s: expected %r, got %r" % (what, exp, act))


def check(cond, what):
    (PASS if cond else FAIL)(what)


def chk(fn, *a):
    """Call fn, return "ok" or the errno name."""
    try:
        fn(*a)
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def do(desc, fn, *a):
    r = chk(fn, *a)
    say("$ %s => %s" % (desc, r))
    return r


def expect(want, desc, fn, *a):
    eq(want, do(desc, fn, *a), desc)


def m(n): return os.path.join(M, n)
def u(n): return os.path.join(U, n)


def content(p):
    try:
        with open(p) as f:
            return f.read()
    except OSError as e:
        return "<%s>" % errno.errorcode.get(e.errno)


def vis(n, place):
    return {"up": "U:%s\n" % n, "both": "U:%s\n" % n, "lo": "L:%s\n" % n}[place]


def absent(n):
    d, b = os.path.split(m(n))
    check(not os.path.lexists(m(n)) and b not in os.listdir(d or M),
          "%s not in the union" % n)


def write(p, s, mode="w"):
    with open(p, mode) as f:
        f.write(s)


def excl(p, s):
    fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, s.encode())
    os.close(fd)


def renameat2(a, b, flags):
    if libc.renameat2(-100, a.encode(), -100, b.encode(), flags):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def fallocate(p, length):
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)   # as fallocate(1)
    try:
        if libc.fallocate(fd, 0, 0, length):
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
    finally:
        os.close(fd)


def in_child(fn):
    """Run fn in a child process: "ok" or the errno name."""
    pid = os.fork()
    if pid == 0:
        try:
            fn()
            os._exit(0)
        except OSError as e:
            os._exit(e.errno)
    _, st = os.waitpid(pid, 0)
    c = os.waitstatus_to_exitcode(st)
    return errno.errorcode.get(c, str(c)) if c else "ok"


def flock_test(p):
    fd = os.open(p, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)

    def other():
        fcntl.flock(os.open(p, os.O_RDONLY), fcntl.LOCK_EX | fcntl.LOCK_NB)
    held = in_child(other)
    fcntl.flock(fd, fcntl.LOCK_UN)
    free = in_child(other)
    os.close(fd)
    return "held:%s free:%s" % (held, free)


def posix_test(p):
    fd = os.open(p, os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX)

    def other():
        fcntl.lockf(os.open(p, os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)
    held = in_child(other)
    fcntl.lockf(fd, fcntl.LOCK_UN)
    free = in_child(other)
    os.close(fd)
    return "held:%s free:%s" % (held, free)


def mmap_write(p):
    with open(p, "r+b") as f:
        mm = mmap.mmap(f.fileno(), 0, mmap.MAP_SHARED,
                       mmap.PROT_READ | mmap.PROT_WRITE)
        mm[0:4] = b"MMAP"
        mm.flush()
        mm.close()


def upper_list():
    out = set()
    for d, dirs, files in os.walk(U):
        rel = os.path.relpath(d, U)
        if rel == ".":
            dirs[:] = [x for x in dirs if x not in INTERNAL]
            files = [x for x in files if x not in INTERNAL]
        for x in dirs + files:
            out.add(os.path.normpath(os.path.join(rel, x)))
    return out


def lower_state():
    res = []
    for top in (L2, L3):
        for d, dirs, files in os.walk(top):
            for p in [d] + [os.path.join(d, x) for x in files]:
                s = os.lstat(p)
                x = []
                if XATTR and not stat.S_ISLNK(s.st_mode):
                    x = sorted((n, os.getxattr(p, n).hex()) for n in os.listxattr(p))
                res.append([p, s.st_mode, s.st_size, s.st_uid, s.st_gid,
                            s.st_mtime_ns, s.st_ctime_ns, s.st_nlink, x])
    return sorted(res)


# ---------------------------------------------------------------- fixtures
def fixtures():
    exp = set()

    def make(kind, path, tag):
        if kind == "f":
            write(path, tag + "\n")
        else:
            os.mkdir(path)
            if kind == "d":
                write(os.path.join(path, tag.split(":")[0] + "in"), tag + "\n")

    def fx(kind, n, place):
        if place in ("up", "both"):
            make(kind, u(n), "U:" + n)
            exp.add(n)
            if kind == "d":
                exp.add(n + "/Uin")
        if place in ("lo", "both", "wh"):
            p = os.path.join(L2, n)
            make(kind, p, "L:" + n)
            if kind == "d":
                os.chown(os.path.join(p, "Lin"), 4321, 4321)
            os.chown(p, 4321, 4321)
            if kind == "f":
                os.chmod(p, 0o640)
            os.utime(p, (1500000000, 1500000000))
        if place == "wh":
            write(u(".wh." + n), "")
            exp.add(".wh." + n)

    for p in PLACES:
        for op in ("app", "trunc", "create", "mkdir", "fifo", "chr", "sym",
                   "link", "rm", "mv", "chmod", "chown", "truncate",
                   "utimes", "falloc", "flock", "posix", "mmap", "fsync"):
            fx("f", "%s.%s" % (op, p), p)
        fx("e", "rmdir." + p, p)
        fx("d", "mvd." + p, p)
        if XATTR:
            fx("f", "xattr." + p, p)
    fx("d", "mkdird.wh", "wh")
    for a, b in (("nr.up", "nr.lo"), ("ex.up", "ex.lo"), ("mvo.up", "mvo.lo")):
        fx("f", a, "up")
        fx("f", b, "lo")
    fx("f", "mvw.up", "up")
    fx("f", "mvw.wh", "wh")
    os.makedirs(os.path.join(L3, "deep/sub"))
    write(os.path.join(L3, "deep/sub/f"), "L3\n")
    write(os.path.join(L3, "lo3"), "L3\n")
    if XATTR:
        for p in PLACES:
            if p != "up":
                os.setxattr(os.path.join(L2, "xattr." + p), "user.a", b"low")
            if p in ("up", "both"):
                os.setxattr(u("xattr." + p), "user.a", b"up")
    json.dump(sorted(exp), open(STATE + ".exp", "w"))
    say("fixtures: %d names in the writable branch, %d in l2" %
        (len(exp), len(os.listdir(L2))))


# ---------------------------------------------------------------- the ops
def ops():
    exp = set(json.load(open(STATE + ".exp")))
    before = lower_state()

    say("\n== %s: open for write (append, O_TRUNC) ==" % CFG)
    for p in PLACES:
        n = "app." + p
        do("echo app >> m/" + n, write, m(n), "app\n", "a")
        want = "app\n" if p == "wh" else vis(n, p) + "app\n"
        eq(want, content(m(n)), "union content of " + n)
        eq(want, content(u(n)), "upper content of " + n)
        exp.add(n)
        exp.discard(".wh." + n)
        n = "trunc." + p
        do("echo new > m/" + n, write, m(n), "new\n")
        eq("new\n", content(m(n)), "union content of " + n)
        eq("new\n", content(u(n)), "upper content of " + n)
        exp.add(n)
        exp.discard(".wh." + n)
    s = os.stat(u("app.lo"))
    eq((4321, 4321, 0o640), (s.st_uid, s.st_gid, stat.S_IMODE(s.st_mode)),
       "owner and mode of the copied-up app.lo")

    say("\n== %s: create (O_EXCL), mkdir, mkfifo, mknod, symlink ==" % CFG)
    for p in PLACES + ["new"]:
        mk = [("create", "open O_CREAT|O_EXCL", excl, ("created\n",)),
              ("mkdir", "mkdir", os.mkdir, ()),
              ("fifo", "mkfifo", os.mkfifo, ()),
              ("chr", "mknod c 1 3", os.mknod, (0o644 | stat.S_IFCHR, os.makedev(1, 3))),
              ("sym", "ln -s target", lambda q: os.symlink("target", q), ())]
        for op, desc, fn, args in mk:
            n = "%s.%s" % (op, p)
            r = do("%s m/%s" % (desc, n), fn, m(n), *args)
            if p in ("up", "lo", "both"):
                eq("EEXIST", r, "%s of existing %s" % (desc, n))
                continue
            eq("ok", r, "%s of %s" % (desc, n))
            exp.add(n)
            exp.discard(".wh." + n)
            check(not os.path.lexists(u(".wh." + n)), "whiteout of %s removed" % n)
        if p in ("up", "lo", "both"):
            eq(vis("create." + p, p), content(m("create." + p)), "create.%s unchanged" % p)
            continue
        eq("created\n", content(m("create." + p)), "union content of create." + p)
        eq("created\n", content(u("create." + p)), "upper content of create." + p)
        check(os.path.isdir(m("mkdir." + p)), "mkdir.%s is a directory" % p)
        check(stat.S_ISFIFO(os.lstat(m("fifo." + p)).st_mode), "fifo.%s is a fifo" % p)
        check(stat.S_ISFIFO(os.lstat(u("fifo." + p)).st_mode), "upper fifo.%s is a fifo" % p)
        s = os.lstat(m("chr." + p))
        eq((True, 1, 3), (stat.S_ISCHR(s.st_mode), os.major(s.st_rdev), os.minor(s.st_rdev)),
           "chr.%s is char device 1,3" % p)
        s = os.lstat(u("chr." + p))
        eq((True, 1, 3), (stat.S_ISCHR(s.st_mode), os.major(s.st_rdev), os.minor(s.st_rdev)),
           "upper chr.%s is char device 1,3" % p)
        eq("target", os.readlink(m("sym." + p)), "readlink sym." + p)
        eq("target", os.readlink(u("sym." + p)), "upper readlink sym." + p)
    do("mkdir m/mkdird.wh", os.mkdir, m("mkdird.wh"))
    eq([], os.listdir(m("mkdird.wh")), "ls -A mkdird.wh (lower content hidden)")
    check(os.path.lexists(u("mkdird.wh/.wh..wh..opq")), "mkdird.wh is opaque on the writable branch")
    check(os.path.lexists(u("mkdir.wh/.wh..wh..opq")), "mkdir.wh is opaque on the writable branch")
    check(not os.path.lexists(u("mkdir.new/.wh..wh..opq")), "mkdir.new is not opaque")
    exp |= {"mkdird.wh", "mkdird.wh/.wh..wh..opq", "mkdir.wh/.wh..wh..opq"}
    exp.discard(".wh.mkdird.wh")

    say("\n== %s: link ==" % CFG)
    for p in PLACES:
        n = "link." + p
        r = do("ln m/%s m/%s.2" % (n, n), os.link, m(n), m(n + ".2"))
        if p == "wh":
            eq("ENOENT", r, "link of whited-out " + n)
            continue
        eq("ok", r, "link " + n)
        a, b = os.stat(m(n)), os.stat(m(n + ".2"))
        eq((a.st_ino, 2, 2), (b.st_ino, a.st_nlink, b.st_nlink), "union inode and link counts of %s, %s.2" % (n, n))
        eq(vis(n, p), content(m(n + ".2")), "content of %s.2" % n)
        a, b = os.stat(u(n)), os.stat(u(n + ".2"))
        eq((a.st_ino, 2), (b.st_ino, b.st_nlink), "%s.2 is a hard link of %s on the writable branch" % (n, n))
        exp |= {n, n + ".2"}

    say("\n== %s: unlink, rmdir ==" % CFG)
    for p in PLACES:
        for op, fn in (("rm", os.unlink), ("rmdir", os.rmdir)):
            n = "%s.%s" % (op, p)
            r = do("%s m/%s" % (op, n), fn, m(n))
            if p == "wh":
                eq("ENOENT", r, "%s of whited-out %s" % (op, n))
                continue
            eq("ok", r, "%s %s" % (op, n))
            absent(n)
            check(not os.path.lexists(u(n)), "%s gone from the writable branch" % n)
            exp.discard(n)
            if p == "up":
                check(not os.path.lexists(u(".wh." + n)), "no whiteout for " + n)
            else:
                check(os.path.isfile(u(".wh." + n)), "whiteout .wh.%s" % n)
                exp.add(".wh." + n)
    eq(os.stat(u(".wh..wh.aufs")).st_ino, os.stat(u(".wh.rm.lo")).st_ino,
       "whiteout .wh.rm.lo links to .wh..wh.aufs")

    say("\n== %s: rename files ==" % CFG)
    for p in PLACES:
        n = "mv." + p
        r = do("mv m/%s m/%s.new" % (n, n), os.rename, m(n), m(n + ".new"))
        if p == "wh":
            eq("ENOENT", r, "rename of whited-out " + n)
            continue
        eq("ok", r, "rename " + n)
        absent(n)
        eq(vis(n, p), content(m(n + ".new")), "union content of %s.new" % n)
        eq(vis(n, p), content(u(n + ".new")), "upper content of %s.new" % n)
        exp.discard(n)
        exp.add(n + ".new")
        if p == "up":
            check(not os.path.lexists(u(".wh." + n)), "no whiteout for " + n)
        else:
            check(os.path.isfile(u(".wh." + n)), "whiteout .wh." + n)
            exp.add(".wh." + n)
    expect("ok", "mv m/mvo.up m/mvo.lo (a lower-only name)", os.rename, m("mvo.up"), m("mvo.lo"))
    eq("U:mvo.up\n", content(m("mvo.lo")), "union content of mvo.lo")
    absent("mvo.up")
    exp.discard("mvo.up")
    exp.add("mvo.lo")
    expect("ok", "mv m/mvw.up m/mvw.wh (a whited-out name)", os.rename, m("mvw.up"), m("mvw.wh"))
    eq("U:mvw.up\n", content(m("mvw.wh")), "union content of mvw.wh")
    check(not os.path.lexists(u(".wh.mvw.wh")), "whiteout of mvw.wh removed")
    exp -= {"mvw.up", ".wh.mvw.wh"}
    exp.add("mvw.wh")
    expect("EEXIST", "renameat2 RENAME_NOREPLACE m/nr.up m/nr.lo", renameat2, m("nr.up"), m("nr.lo"), 1)
    eq(("U:nr.up\n", "L:nr.lo\n"), (content(m("nr.up")), content(m("nr.lo"))), "nr.up, nr.lo unchanged")
    expect("ok", "renameat2 RENAME_NOREPLACE m/nr.up m/nr.new", renameat2, m("nr.up"), m("nr.new"), 1)
    exp.discard("nr.up")
    exp.add("nr.new")
    expect("ok", "renameat2 RENAME_EXCHANGE m/ex.up m/ex.lo", renameat2, m("ex.up"), m("ex.lo"), 2)
    eq(("L:ex.lo\n", "U:ex.up\n"), (content(m("ex.up")), content(m("ex.lo"))), "union ex.up, ex.lo exchanged")
    eq(("L:ex.lo\n", "U:ex.up\n"), (content(u("ex.up")), content(u("ex.lo"))), "upper ex.up, ex.lo exchanged")
    exp.add("ex.lo")

    say("\n== %s: rename directories ==" % CFG)
    expect("ok", "mv m/mvd.up m/mvd.up.new", os.rename, m("mvd.up"), m("mvd.up.new"))
    eq("U:mvd.up\n", content(m("mvd.up.new/Uin")), "content of mvd.up.new/Uin")
    absent("mvd.up")
    check(not os.path.lexists(u(".wh.mvd.up")), "no whiteout for mvd.up")
    exp -= {"mvd.up", "mvd.up/Uin"}
    exp |= {"mvd.up.new", "mvd.up.new/Uin"}
    for p in ("lo", "both"):
        n = "mvd." + p
        if p == "lo":
            # rename(2) of a directory that lower branches hold: recorded
            r = do("os.rename m/%s m/%s.new (recorded, not asserted)" % (n, n), os.rename, m(n), m(n + ".new"))
        if p == "both" or r != "ok":
            # mv falls back to copy + remove when rename(2) says EXDEV
            cp = subprocess.run(["mv", "-T", m(n), m(n + ".new")], capture_output=True, text=True)
            say("$ mv -T m/%s m/%s.new => exit %d %s" % (n, n, cp.returncode, cp.stderr.strip()))
            eq(0, cp.returncode, "mv of merged directory " + n)
        absent(n)
        eq("L:%s\n" % n, content(m(n + ".new/Lin")), "content of %s.new/Lin" % n)
        want = ["Lin", "Uin"] if p == "both" else ["Lin"]
        eq(want, sorted(os.listdir(m(n + ".new"))), "ls -A m/%s.new" % n)
        check(os.path.isfile(u(".wh." + n)), "whiteout .wh." + n)
        check(not os.path.lexists(u(n)), "%s gone from the writable branch" % n)
        exp -= {n, n + "/Uin"}
        exp.add(".wh." + n)
        # the writable branch holds the moved tree: whatever it is made of
        # (a copy, an opaque directory), it shows what the union shows
        got = {x for x in upper_list() if x == n + ".new" or x.startswith(n + ".new/")}
        say("writable branch: %s" % " ".join(sorted(got)))
        check({n + ".new/" + x for x in want} <= got, "%s.new holds %s on the writable branch" % (n, want))
        exp |= got
        if p == "both":
            eq("U:%s\n" % n, content(m(n + ".new/Uin")), "content of %s.new/Uin" % n)
    expect("ENOENT", "mv m/mvd.wh m/mvd.wh.new", os.rename, m("mvd.wh"), m("mvd.wh.new"))

    say("\n== %s: setattr (chmod, chown, truncate, utimes) ==" % CFG)
    for p in PLACES:
        sa = [("chmod", "chmod 600", lambda q: os.chmod(q, 0o600)),
              ("chown", "chown 1234:5678", lambda q: os.chown(q, 1234, 5678)),
              ("truncate", "truncate -s 3", lambda q: os.truncate(q, 3)),
              ("utimes", "touch -d @1000000000", lambda q: os.utime(q, (1000000000, 1000000000)))]
        for op, desc, fn in sa:
            n = "%s.%s" % (op, p)
            r = do("%s m/%s" % (desc, n), fn, m(n))
            if p == "wh":
                eq("ENOENT", r, "%s of whited-out %s" % (op, n))
                absent(n)
                continue
            eq("ok", r, "%s %s" % (op, n))
            exp.add(n)
        if p == "wh":
            continue
        for w in (M, U):
            s = os.stat(os.path.join(w, "chmod." + p))
            eq(0o600, stat.S_IMODE(s.st_mode), "mode of %s/chmod.%s" % (os.path.basename(w), p))
            s = os.stat(os.path.join(w, "chown." + p))
            eq((1234, 5678), (s.st_uid, s.st_gid), "owner of %s/chown.%s" % (os.path.basename(w), p))
            eq(vis("truncate." + p, p)[:3], content(os.path.join(w, "truncate." + p)),
               "content of %s/truncate.%s" % (os.path.basename(w), p))
            eq(1000000000, int(os.stat(os.path.join(w, "utimes." + p)).st_mtime),
               "mtime of %s/utimes.%s" % (os.path.basename(w), p))
        eq(vis("chmod." + p, p), content(m("chmod." + p)), "content of chmod." + p)
    s = os.stat(u("chmod.lo"))
    eq((4321, 4321, 1500000000), (s.st_uid, s.st_gid, int(s.st_mtime)), "owner and mtime of the copied-up chmod.lo")
    s = os.stat(u("chown.lo"))
    eq((0o640, 1500000000), (stat.S_IMODE(s.st_mode), int(s.st_mtime)), "mode and mtime of the copied-up chown.lo")

    if XATTR:
        say("\n== %s: user.* xattrs ==" % CFG)
        for p in PLACES:
            n = "xattr." + p
            try:
                v = os.getxattr(m(n), "user.a").decode()
            except OSError as e:
                v = errno.errorcode[e.errno]
            say("$ getfattr -n user.a m/%s => %s" % (n, v))
            eq({"up": "up", "both": "up", "lo": "low", "wh": "ENOENT"}[p], v, "user.a of " + n)
            r = do("setfattr -n user.b -v 2 m/" + n, os.setxattr, m(n), "user.b", b"2")
            eq("ENOENT" if p == "wh" else "ok", r, "setxattr " + n)
            if p == "wh":
                continue
            eq(["user.a", "user.b"], sorted(x for x in os.listxattr(u(n)) if x.startswith("user.")),
               "upper xattrs of %s after setxattr" % n)
            expect("ok", "setfattr -x user.a m/" + n, os.removexattr, m(n), "user.a")
            for w in (M, U):
                eq(["user.b"], sorted(x for x in os.listxattr(os.path.join(w, n)) if x.startswith("user.")),
                   "%s xattrs of %s after removexattr" % (os.path.basename(w), n))
            exp.add(n)

    say("\n== %s: fallocate, fsync, syncfs, flock, POSIX locks, shared mmap ==" % CFG)
    for p in PLACES:
        n = "falloc." + p
        expect("ok", "fallocate -l 65536 m/" + n, fallocate, m(n), 65536)
        eq((65536, 65536), (os.stat(m(n)).st_size, os.stat(u(n)).st_size), "union and upper size of " + n)
        if p != "wh":
            eq(vis(n, p), content(m(n))[:len(vis(n, p))], n + " starts with its data")
        exp.add(n)
        exp.discard(".wh." + n)    # fallocate(1) opens with O_CREAT

        n = "fsync." + p
        if p != "wh":
            def fs(q):
                fd = os.open(q, os.O_WRONLY | os.O_APPEND)
                os.write(fd, b"sync\n")
                os.fsync(fd)
                os.fdatasync(fd)
                if libc.syncfs(fd):
                    raise OSError(ctypes.get_errno(), "syncfs")
                os.close(fd)
            expect("ok", "append, fsync, fdatasync, syncfs m/" + n, fs, m(n))
            eq(vis(n, p) + "sync\n", content(u(n)), "upper content of " + n)
            exp.add(n)

        n = "flock." + p
        try:
            r = flock_test(m(n))
        except OSError as e:
            r = errno.errorcode[e.errno]
        say("$ flock m/%s, then flock -n from another process => %s" % (n, r))
        eq("ENOENT" if p == "wh" else "held:EWOULDBLOCK free:ok".replace("EWOULDBLOCK", errno.errorcode[errno.EWOULDBLOCK]),
           r, "flock on %s conflicts only while held" % n)
        if p in ("up", "both"):
            exp.add(n)
        n = "posix." + p
        try:
            r = posix_test(m(n))
        except OSError as e:
            r = errno.errorcode[e.errno]
        say("$ lockf m/%s, then lockf F_TLOCK from another process => %s" % (n, r))
        eq("ENOENT" if p == "wh" else "held:EAGAIN free:ok", r, "POSIX lock on %s conflicts only while held" % n)
        if p != "wh":
            exp.add(n)
        n = "mmap." + p
        r = do("mmap MAP_SHARED m/%s, write MMAP at 0, msync" % n, mmap_write, m(n))
        if p == "wh":
            eq("ENOENT", r, "mmap of whited-out " + n)
            continue
        eq("ok", r, "shared writable mmap of " + n)
        want = "MMAP" + vis(n, p)[4:]
        eq(want, content(m(n)), "union content of " + n)
        eq(want, content(u(n)), "upper content of " + n)
        exp.add(n)
    check(not os.path.lexists(u("flock.lo")), "flock of a lower file (read-only open) copied nothing up")
    try:
        fd = os.open(M, os.O_TMPFILE | os.O_RDWR, 0o600)
        os.close(fd)
        r = "ok"
    except OSError as e:
        r = errno.errorcode[e.errno]
    say("$ open(m, O_TMPFILE|O_RDWR) => %s (recorded, not asserted)" % r)

    say("\n== %s: parents copied up from the lowest branch ==" % CFG)
    do("echo more >> m/deep/sub/f", write, m("deep/sub/f"), "more\n", "a")
    eq("L3\nmore\n", content(m("deep/sub/f")), "union content of deep/sub/f")
    eq("L3\nmore\n", content(u("deep/sub/f")), "upper content of deep/sub/f")
    do("chmod 600 m/lo3", os.chmod, m("lo3"), 0o600)
    eq(0o600, stat.S_IMODE(os.stat(u("lo3")).st_mode), "mode of lo3 copied up from the lowest branch")
    exp |= {"deep", "deep/sub", "deep/sub/f", "lo3"}

    say("\n== %s: branches after the operations ==" % CFG)
    after = lower_state()
    if before == after:
        PASS("%s: lower branches unchanged (%d objects)" % (CFG, len(after)))
    else:
        bd = {x[0]: x for x in before}
        ad = {x[0]: x for x in after}
        diffs = [(k, bd.get(k), ad.get(k)) for k in sorted(set(bd) | set(ad)) if bd.get(k) != ad.get(k)]
        FAIL("%s: lower branches changed: %r" % (CFG, diffs[:10]))
    act = upper_list()
    if act == exp:
        PASS("%s: writable branch holds exactly the expected %d names" % (CFG, len(act)))
    else:
        FAIL("%s: writable branch differs: missing %r, unexpected %r" % (CFG, sorted(exp - act), sorted(act - exp)))
    eq([], os.listdir(u(".wh..wh.orph")), "%s: .wh..wh.orph is empty" % CFG)


def view():
    for d, dirs, files in sorted(os.walk(M)):
        for x in sorted(dirs + files):
            p = os.path.join(d, x)
            s = os.lstat(p)
            print(os.path.relpath(p, M), oct(s.st_mode), s.st_size, s.st_uid, s.st_gid, s.st_ino)


{"fixtures": fixtures, "ops": ops, "view": view}[phase]()
EOF

# matrix.py PHASE ...: relay its transcript, record its assertions.
matrix_py() {
	local line
	while IFS= read -r line; do
		case $line in
		"PASS "*) pass "${line#PASS }" ;;
		"FAIL "*) fail "${line#FAIL }" ;;
		rc=0) ;;
		rc=*) fail "matrix.py $1 exited ${line#rc=}" ;;
		*) _cpa_say "$line" ;;
		esac
	done < <("$PY" "$T/matrix.py" "$@" "$CFG" "$U" "$L2" "$L3" "$M" "$XATTR" "$D/state" 2>&1; echo "rc=$?")
}

# matrix NAME UPPER-FS LOWER-FS
matrix() {
	CFG=$1
	local ufs=$2 lfs=$3
	D=$T/$1
	mkdir -p "$D"
	XATTR=1
	[ "$ufs" != tmpfs ] && [ "$lfs" != tmpfs ] || XATTR=0
	section "$CFG: branches ($ufs writable, $lfs lower)"
	if [ "$ufs" = "$lfs" ]; then
		mkfs_loop "$ufs" "$D/b"
		U=$D/b/u L2=$D/b/l2 L3=$D/b/l3
	else
		mkfs_loop "$ufs" "$D/bu"
		mkfs_loop "$lfs" "$D/bl"
		U=$D/bu/u L2=$D/bl/l2 L3=$D/bl/l3
	fi
	M=$D/m
	mkdir "$U" "$L2" "$L3" "$M"
	matrix_py fixtures
	run cpa_mount "$M" "$U:$L2:$L3"
	matrix_py ops
	"$PY" "$T/matrix.py" view "$CFG" "$U" "$L2" "$L3" "$M" "$XATTR" "$D/state" >"$D/union.before"
	run cpa_umount "$M"
	run cpa_mount "$M" "$U:$L2:$L3"
	"$PY" "$T/matrix.py" view "$CFG" "$U" "$L2" "$L3" "$M" "$XATTR" "$D/state" >"$D/union.after"
	if cmp -s "$D/union.before" "$D/union.after"; then
		pass "$CFG: union view (names, modes, sizes, owners, inode numbers) the same after umount + mount"
	else
		fail "$CFG: union view changed by remount: $(diff "$D/union.before" "$D/union.after" | head -20)"
	fi
	cpa_umount "$M"
	if [ "$ufs" = "$lfs" ]; then umount "$D/b"; else umount "$D/bu" "$D/bl"; fi
}

matrix ext4 ext4 ext4
if vm_full_matrix; then
	matrix xfs xfs xfs
	matrix btrfs btrfs btrfs
fi
matrix tmpfs-over-ext4 tmpfs ext4
matrix tmpfs tmpfs tmpfs
cd /
