#!/usr/bin/env python3
"""Create files n0, n1, ... in a union and fsync each, until killed.

    fsync_creates.py DIR RECORD [--repeat N] [--interval SECONDS]

File nI holds its name N times. Once its fsync returned, the line
"nI <inode number> <sha256 of the data>" is appended to RECORD and RECORD
is fsync'd too, so that after a power cut RECORD lists files that must be
there, with their data and union inode number. A pause of SECONDS between
files leaves the branch's journal alone meanwhile (each fsync commits it).
"""
import argparse
import hashlib
import os
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("record")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--interval", type=float, default=0)
    a = ap.parse_args()
    i = 0
    with open(a.record, "a", buffering=1) as log:
        while True:
            name = "n%d" % i
            data = (name * a.repeat).encode()
            fd = os.open(os.path.join(a.dir, name),
                         os.O_CREAT | os.O_WRONLY, 0o644)
            os.write(fd, data)
            os.fsync(fd)
            ino = os.fstat(fd).st_ino
            os.close(fd)
            log.write("%s %d %s\n" % (name, ino,
                                      hashlib.sha256(data).hexdigest()))
            os.fsync(log.fileno())
            i += 1
            if a.interval:
                time.sleep(a.interval)


if __name__ == "__main__":
    main()
