#!/usr/bin/env python3
"""Fuzz cppaufs's mount options and xino files (run by t_fuzz_options.sh).

Random and mutated option strings go through every way in:
  fsconfig  fsopen(2) + fsconfig(2), one parameter a call, + FSCONFIG_CMD_CREATE
  mount2    the legacy mount(2) call with the whole string as data
  remount   fspick(2) + fsconfig(2) + FSCONFIG_CMD_RECONFIGURE on a live union,
            and mount(2) with MS_REMOUNT
  mount8    mount(8) -t cppaufs, which runs the helper mount.cppaufs
  helper    mount.cppaufs itself
and damaged copies of a real xino file (bits flipped, truncated, records
overwritten) are mounted with xino=.

Each case must end in a clean mount (then used and unmounted) or a refusal;
a refusal by the kernel through fsconfig must come with exactly one error
line in the fs_context log, one line with no newline in it, and a refusal by
the helper or mount(8) with a non-zero status and one line on stderr.
A case that takes longer than --case-timeout seconds is a hang.  The kernel
side (oops, WARN, lockdep, leaks at rmmod) is judged by the VM rig.

Prints a summary line per channel and "N passed, M failed"; exits 1 on any
failure.  Deterministic for a given --seed.
"""
import argparse
import ctypes
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick = 430, 431, 432, 433
FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING = 0, 1
FSCONFIG_CMD_CREATE, FSCONFIG_CMD_RECONFIGURE = 6, 7
MS_REMOUNT = 32
MNT_DETACH = 2


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def sysc(*args):
    r = libc.syscall(*args)
    if r < 0:
        return -ctypes.get_errno()
    return r


def read_log(fd):
    """Every message queued in an fs_context's log, as (kind, text)."""
    out = []
    while True:
        try:
            b = os.read(fd, 4096)
        except OSError:
            break
        if not b:
            break
        s = b.decode(errors="replace")
        out.append((s[:1], s[2:]))
    return out


class Fuzzer:
    def __init__(self, seed, root, helper):
        self.rnd = random.Random(seed)
        self.root = root
        self.helper = helper
        self.stats = {}
        self.failures = []
        self.mountpoint = os.path.join(root, "mnt")

    # -- bookkeeping ---------------------------------------------------------
    def note(self, channel, outcome):
        s = self.stats.setdefault(channel, {})
        s[outcome] = s.get(outcome, 0) + 1

    def fail(self, channel, case, why):
        self.note(channel, "FAILED")
        if self.stats[channel]["FAILED"] <= 10:
            self.failures.append("%s: %s: %r" % (channel, why, case[:300]))

    # -- the world the options talk about -------------------------------------
    def make_tree(self):
        r = self.root
        if os.path.isdir(r):
            shutil.rmtree(r)
        for d in ("a", "b", "c", "d", "a/sub", "mnt", "x", "busy"):
            os.makedirs(os.path.join(r, d), exist_ok=True)
        for d in ("a", "b", "c", "d"):
            with open(os.path.join(r, d, "f-" + d), "w") as f:
                f.write(d * 100)
        with open(os.path.join(r, "file"), "w") as f:
            f.write("not a dir")
        os.symlink(os.path.join(r, "b"), os.path.join(r, "link-b"))
        os.symlink("/nonexistent", os.path.join(r, "dangling"))
        self.paths = [os.path.join(r, p) for p in (
            "a", "b", "c", "d", "a/sub", "link-b", "file", "dangling",
            "missing", "busy", "x")] + [
            "/", "", ".", "..", "a", "./b", "/proc", "/dev/null",
            "/sys/fs", "/tmp", r + "/", r + "//a", r + "/a/../b",
            "/" + "z" * 300, "/" + "/".join(["q"] * 2000)]
        self.words = ["dirs", "br", "xino", "noxino", "metacopy",
                      "nometacopy", "si", "ro", "rw", "sync", "udba",
                      "create", "dirperm1", "", "=", "dirs=", "br:",
                      "x" * 300, "\xff\xfe", "dirs=dirs=", "source"]

    def branch(self):
        p = self.rnd.choice(self.paths)
        if self.rnd.random() < 0.4:
            p += "=" + self.rnd.choice(["rw", "ro", "rr", "wh", "RW", "",
                                        "rw+nolwh", "ro=rw", "xx"])
        return p

    def random_value(self):
        k = self.rnd.random()
        if k < 0.6:
            n = self.rnd.choice([1, 1, 2, 3, 5, 40])
            sep = self.rnd.choice([":", ":", ":", "::", ";", ""])
            return sep.join(self.branch() for _ in range(n))
        if k < 0.8:
            return self.rnd.choice(self.paths)
        n = self.rnd.choice([0, 1, 8, 100, 255, 256, 4095, 5000])
        return "".join(chr(self.rnd.randint(1, 255)) for _ in range(n))

    def random_options(self):
        """A list of (key, value-or-None) pairs."""
        opts = []
        for _ in range(self.rnd.randint(0, 6)):
            k = self.rnd.random()
            if k < 0.45:
                opts.append((self.rnd.choice(["dirs", "br"]),
                             self.random_value()))
            elif k < 0.6:
                opts.append(("xino", self.rnd.choice(
                    [os.path.join(self.root, "x", "xi"),
                     os.path.join(self.root, "file"),
                     os.path.join(self.root, "a"), "/proc/version",
                     "/nonexistent/x", "", "relative", "/dev/null"])))
            elif k < 0.75:
                opts.append((self.rnd.choice(
                    ["noxino", "metacopy", "nometacopy", "ro", "rw"]), None))
            elif k < 0.85:
                opts.append(("si", self.random_value()[:40]))
            else:
                w = self.rnd.choice(self.words)
                opts.append((w, None if self.rnd.random() < 0.5
                             else self.random_value()))
        return opts

    def valid_options(self):
        r = self.root
        opts = [("dirs", "%s/a:%s/b=ro:%s/c=rr" % (r, r, r))]
        if self.rnd.random() < 0.3:
            opts.append(("xino", os.path.join(r, "x", "xi")))
        if self.rnd.random() < 0.3:
            opts.append(("nometacopy", None))
        return opts

    @staticmethod
    def to_string(opts):
        return ",".join(k if v is None else "%s=%s" % (k, v) for k, v in opts)

    def mutate(self, s):
        b = bytearray(s.encode(errors="surrogateescape"))
        for _ in range(self.rnd.randint(1, 8)):
            op = self.rnd.random()
            pos = self.rnd.randint(0, len(b))
            if op < 0.3 and b:
                b[min(pos, len(b) - 1)] ^= 1 << self.rnd.randint(0, 7)
            elif op < 0.5:
                b[pos:pos] = bytes([self.rnd.choice(b":,=/.\xff")])
            elif op < 0.7 and b:
                del b[pos:pos + self.rnd.randint(1, 20)]
            elif op < 0.85 and b:
                j = self.rnd.randint(0, len(b))
                b[pos:pos] = b[min(pos, j):max(pos, j)][:400]
            else:
                b[pos:pos] = self.rnd.choice([b",", b"=", b"::", b",,"])
        b = bytes(x for x in b if x != 0)
        return b.decode(errors="surrogateescape")

    def case(self):
        """An option string: random, or a valid one mutated, or valid."""
        k = self.rnd.random()
        if k < 0.45:
            return self.to_string(self.random_options())
        if k < 0.95:
            return self.mutate(self.to_string(self.valid_options()))
        return self.to_string(self.valid_options())

    @staticmethod
    def split(s):
        out = []
        for part in s.split(","):
            if part == "":
                continue
            k, eq, v = part.partition("=")
            out.append((k, v if eq else None))
        return out

    # -- channels -------------------------------------------------------------
    def run_fsconfig(self, s, remount_fd=None):
        channel = "remount" if remount_fd is not None else "fsconfig"
        if remount_fd is None:
            fd = sysc(SYS_fsopen, b"cppaufs", 1)
            if fd < 0:
                self.fail(channel, s, "fsopen: %s" % os.strerror(-fd))
                return
        else:
            fd = remount_fd
        try:
            err = 0
            # fsconfig(2) itself takes keys and values of at most 255
            # bytes, and refuses longer ones with EINVAL and no message.
            too_long = False
            for k, v in self.split(s):
                kb = k.encode(errors="surrogateescape")
                too_long = len(kb) > 255 or (
                    v is not None and
                    len(v.encode(errors="surrogateescape")) > 255)
                if v is None:
                    r = sysc(SYS_fsconfig, fd, FSCONFIG_SET_FLAG, kb, None, 0)
                else:
                    r = sysc(SYS_fsconfig, fd, FSCONFIG_SET_STRING, kb,
                             v.encode(errors="surrogateescape"), 0)
                if r < 0:
                    err = r
                    break
            if err == 0:
                cmd = FSCONFIG_CMD_RECONFIGURE if remount_fd is not None \
                    else FSCONFIG_CMD_CREATE
                err = sysc(SYS_fsconfig, fd, cmd, None, None, 0)
            log = read_log(fd)
            errors = [t for kind, t in log if kind == "e"]
            if err < 0:
                if -err == errno.EINVAL and too_long and not errors:
                    self.note(channel, "refused by fsconfig(2)")
                    return
                if -err == errno.EINVAL:
                    if len(errors) != 1:
                        self.fail(channel, s, "refused (%s) with %d error "
                                  "lines: %r" % (os.strerror(-err),
                                                 len(errors), log))
                        return
                elif -err not in (errno.ENOENT, errno.ENOTDIR, errno.EBUSY,
                                  errno.ENAMETOOLONG, errno.EACCES,
                                  errno.ELOOP, errno.EROFS, errno.EPERM):
                    self.fail(channel, s, "unexpected error %s"
                              % os.strerror(-err))
                    return
                if any("\n" in t.rstrip("\n") for t in errors):
                    self.fail(channel, s, "multi-line error: %r" % errors)
                    return
                self.note(channel, "refused")
                return
            if remount_fd is None:
                mfd = sysc(SYS_fsmount, fd, 1, 0)
                if mfd < 0:
                    self.fail(channel, s, "fsmount: %s" % os.strerror(-mfd))
                    return
                try:
                    self.use_mount(mfd)
                finally:
                    os.close(mfd)
            self.note(channel, "mounted" if remount_fd is None else "changed")
        finally:
            if remount_fd is None:
                os.close(fd)

    def run_mount2(self, s):
        data = s.encode(errors="surrogateescape")[:4095]
        r = libc.mount(b"none", self.mountpoint.encode(), b"cppaufs", 0,
                       data)
        if r == 0:
            os.listdir(self.mountpoint)
            if libc.umount2(self.mountpoint.encode(), 0) != 0:
                self.fail("mount2", s, "umount: %s"
                          % os.strerror(ctypes.get_errno()))
                libc.umount2(self.mountpoint.encode(), MNT_DETACH)
                return
            self.note("mount2", "mounted")
        else:
            self.note("mount2", "refused")

    def run_command(self, channel, argv, s):
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            self.fail(channel, s, "hang")
            return
        err = p.stderr.decode(errors="replace").strip("\n")
        if p.returncode == 0:
            if libc.umount2(self.mountpoint.encode(), 0) != 0:
                self.fail(channel, s, "mounted, then umount failed")
                libc.umount2(self.mountpoint.encode(), MNT_DETACH)
                return
            self.note(channel, "mounted")
            return
        if p.returncode < 0:
            self.fail(channel, s, "killed by signal %d" % -p.returncode)
        elif not err:
            self.fail(channel, s, "refused without a message")
        elif "\n" in err:
            self.fail(channel, s, "several lines on stderr: %r" % err)
        else:
            self.note(channel, "refused")

    def remount_cases(self, n):
        """Reconfigure a live union with fuzzed options, both ways in."""
        r = self.root
        base = "dirs=%s/a:%s/b=ro" % (r, r)
        if libc.mount(b"none", self.mountpoint.encode(), b"cppaufs", 0,
                      base.encode()) != 0:
            self.fail("remount", base, "cannot mount the union to remount")
            return
        try:
            for i in range(n):
                s = self.case()
                if i % 2 == 0:
                    fd = sysc(SYS_fspick, -100, self.mountpoint.encode(), 1)
                    if fd < 0:
                        self.fail("remount", s, "fspick: %s"
                                  % os.strerror(-fd))
                        continue
                    try:
                        self.guard(lambda: self.run_fsconfig(s, fd),
                                   "remount", s)
                    finally:
                        os.close(fd)
                else:
                    data = s.encode(errors="surrogateescape")[:4095]
                    rr = libc.mount(b"none", self.mountpoint.encode(),
                                    b"cppaufs", MS_REMOUNT, data)
                    self.note("remount2", "changed" if rr == 0 else "refused")
                # The union still shows its branches after every attempt.
                if not self.union_ok():
                    self.fail("remount", s, "union listing changed")
        finally:
            if libc.umount2(self.mountpoint.encode(), 0) != 0:
                self.fail("remount", base, "final umount failed")
                libc.umount2(self.mountpoint.encode(), MNT_DETACH)

    @staticmethod
    def use_mount(mfd, write=False):
        """List and stat a detached mount (fsmount(2) gives an O_PATH fd)."""
        d = os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=mfd)
        try:
            for name in os.listdir(d):
                # Branches such as /proc or /sys change under the union
                # (which does not watch its branches): a listed name may
                # be gone when it is looked up.
                try:
                    os.stat(name, dir_fd=d, follow_symlinks=False)
                except FileNotFoundError:
                    pass
            if write:
                os.close(os.open("new-file", os.O_CREAT | os.O_WRONLY,
                                 0o644, dir_fd=d))
        finally:
            os.close(d)

    def union_ok(self):
        try:
            names = set(os.listdir(self.mountpoint))
        except OSError:
            return False
        return {"f-a", "f-b", "sub"} <= names

    # -- xino files -------------------------------------------------------------
    def xino_cases(self, n):
        r = self.root
        good = os.path.join(r, "x", "good.xino")
        opts = "dirs=%s/a:%s/b=ro:%s/c=ro,xino=%s" % (r, r, r, good)
        if libc.mount(b"none", self.mountpoint.encode(), b"cppaufs", 0,
                      opts.encode()) != 0:
            self.fail("xino", opts, "cannot make a xino file")
            return
        for d in ("a", "b", "c"):
            for i in range(20):
                open(os.path.join(r, d, "n%d" % i), "w").close()
        for name in os.listdir(self.mountpoint):
            os.stat(os.path.join(self.mountpoint, name))
        os.sync()
        libc.umount2(self.mountpoint.encode(), 0)
        data = open(good, "rb").read()
        if len(data) < 16:
            self.fail("xino", opts, "xino file too small: %d" % len(data))
            return
        bad = os.path.join(r, "x", "bad.xino")
        for i in range(n):
            b = bytearray(data)
            k = self.rnd.random()
            if k < 0.4:
                for _ in range(self.rnd.randint(1, 16)):
                    j = self.rnd.randrange(len(b))
                    b[j] ^= 1 << self.rnd.randint(0, 7)
            elif k < 0.6:
                b = b[:self.rnd.randrange(len(b))]
            elif k < 0.9:
                j = self.rnd.randrange(len(b))
                m = self.rnd.randint(1, 64)
                b[j:j + m] = bytes(self.rnd.getrandbits(8) for _ in range(m))
            else:
                b += bytes(self.rnd.getrandbits(8)
                           for _ in range(self.rnd.randint(1, 200)))
            with open(bad, "wb") as f:
                f.write(b)
            s = "dirs=%s/a:%s/b=ro:%s/c=ro,xino=%s" % (r, r, r, bad)

            def one():
                fd = sysc(SYS_fsopen, b"cppaufs", 1)
                try:
                    for k2, v in self.split(s):
                        sysc(SYS_fsconfig, fd, FSCONFIG_SET_STRING,
                             k2.encode(), v.encode(), 0)
                    err = sysc(SYS_fsconfig, fd, FSCONFIG_CMD_CREATE, None,
                               None, 0)
                    log = read_log(fd)
                    if err < 0:
                        errs = [t for kind, t in log if kind == "e"]
                        if len(errs) != 1 or "xino" not in errs[0]:
                            self.fail("xino", s, "refused with %r" % log)
                        else:
                            self.note("xino", "refused")
                        return
                    mfd = sysc(SYS_fsmount, fd, 1, 0)
                    try:
                        self.use_mount(mfd, write=True)
                    finally:
                        os.close(mfd)
                    self.note("xino", "mounted")
                finally:
                    os.close(fd)
            self.guard(one, "xino", s)

    # -- driver -----------------------------------------------------------------
    def guard(self, fn, channel, s):
        signal.alarm(self.case_timeout)
        try:
            fn()
        except Hang:
            self.fail(channel, s, "hang")
        except OSError as e:
            self.fail(channel, s, "OSError %s" % e)
        finally:
            signal.alarm(0)

    def run(self, n_fsconfig, n_mount2, n_remount, n_cmd, n_xino):
        self.make_tree()
        # Relative branch paths ("." and the like) name the scratch tree,
        # not the directory the test started in (the repository).
        os.chdir(self.root)
        for _ in range(n_fsconfig):
            s = self.case()
            self.guard(lambda: self.run_fsconfig(s), "fsconfig", s)
        for _ in range(n_mount2):
            s = self.case()
            self.guard(lambda: self.run_mount2(s), "mount2", s)
        self.remount_cases(n_remount)
        for i in range(n_cmd):
            s = self.case().replace("\n", "")
            if not s or "\0" in s:
                continue
            sb = s.encode(errors="surrogateescape")
            if i % 2 == 0:
                self.run_command("mount8", [b"mount", b"-t", b"cppaufs",
                                            b"-o", sb, b"none",
                                            self.mountpoint.encode()], s)
            elif self.helper:
                self.run_command("helper", [self.helper.encode(), b"none",
                                            self.mountpoint.encode(), b"-o",
                                            sb], s)
        self.xino_cases(n_xino)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--root", default="/tmp/fuzz")
    ap.add_argument("--helper", default="")
    ap.add_argument("--fsconfig", type=int, default=10000)
    ap.add_argument("--mount2", type=int, default=2000)
    ap.add_argument("--remount", type=int, default=2000)
    ap.add_argument("--commands", type=int, default=300)
    ap.add_argument("--xino", type=int, default=1000)
    ap.add_argument("--case-timeout", type=int, default=30)
    a = ap.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    fz = Fuzzer(a.seed, a.root, a.helper)
    fz.case_timeout = a.case_timeout
    t0 = time.time()
    fz.run(a.fsconfig, a.mount2, a.remount, a.commands, a.xino)
    total = 0
    for ch, st in sorted(fz.stats.items()):
        n = sum(st.values())
        total += n
        print("%-9s %6d cases: %s" % (ch, n, ", ".join(
            "%s %d" % kv for kv in sorted(st.items()))))
    for f in fz.failures:
        print("FAIL:", f)
    nfail = sum(st.get("FAILED", 0) for st in fz.stats.values())
    print("fuzz: %d cases in %.0f s (seed %d)" % (total, time.time() - t0,
                                                  a.seed))
    print("%d passed, %d failed" % (total - nfail, nfail))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
