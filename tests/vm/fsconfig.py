#!/usr/bin/env python3
"""One remount through the new mount API, for the VM tests.

    fsconfig.py TARGET KEY VALUE [KEY VALUE...]

fspick(2) TARGET, one fsconfig(2) FSCONFIG_SET_STRING per KEY VALUE, then
FSCONFIG_CMD_RECONFIGURE. On failure it exits non-zero with the failing
step, its error and the kernel's messages from the fs_context log (what
mount(8) would show), so that a test can match them.
"""
import ctypes
import os
import sys

SYS_FSPICK, SYS_FSCONFIG = 433, 431
FSCONFIG_SET_STRING, FSCONFIG_CMD_RECONFIGURE = 1, 7
AT_FDCWD, FSPICK_CLOEXEC = -100, 1


def messages(fd):
    """The fs_context log, one message per read, until it is empty."""
    out = []
    while True:
        try:
            m = os.read(fd, 4096)
        except OSError:
            break
        if not m:
            break
        out.append(m.decode(errors="replace"))
    return " | ".join(out)


def main():
    if len(sys.argv) < 4 or len(sys.argv) % 2:
        sys.exit("usage: fsconfig.py TARGET KEY VALUE [KEY VALUE...]")
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(SYS_FSPICK, AT_FDCWD, sys.argv[1].encode(),
                      FSPICK_CLOEXEC)
    if fd < 0:
        sys.exit("fspick: " + os.strerror(ctypes.get_errno()))
    args = sys.argv[2:]
    for key, value in zip(args[::2], args[1::2]):
        if libc.syscall(SYS_FSCONFIG, fd, FSCONFIG_SET_STRING, key.encode(),
                        value.encode(), 0) < 0:
            err = ctypes.get_errno()
            sys.exit("fsconfig %s: %s: %s" % (key, os.strerror(err),
                                              messages(fd)))
    if libc.syscall(SYS_FSCONFIG, fd, FSCONFIG_CMD_RECONFIGURE, None, None,
                    0) < 0:
        err = ctypes.get_errno()
        sys.exit("reconfigure: %s: %s" % (os.strerror(err), messages(fd)))


if __name__ == "__main__":
    main()
