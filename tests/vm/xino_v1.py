#!/usr/bin/env python3
"""Write a cppaufs xino file in format 1 (the append-only log that format 2
replaced), for t_xino.sh's conversion test.

The branches are those of an existing format 2 file (its slots, in order):
their identity (filesystem uuid, root inode number and generation, magic)
cannot be read from user space.

  xino_v1.py V2FILE OUT [--extra N [--base B]] SLOT:H_INO:INO...

maps branch inode H_INO of slot SLOT to union number INO (generation 0:
unknown, any), and with --extra N also N branch inodes of slot 1 that do
not exist (2^40 + k) to numbers B + k (B: 100000 unless given).
"""
import argparse
import struct
import sys
import zlib

BLK = 4096


def csum(b):
    # the kernel's crc32_le(~0, ...), without the final inversion
    return zlib.crc32(b) ^ 0xFFFFFFFF


def slots_of(path):
    data = open(path, "rb").read()
    best = None
    for i in (0, 1):
        h = data[i * BLK:i * BLK + 352]
        if len(h) < 352 or h[:8] != b"cppaxino":
            continue
        ver, = struct.unpack_from("<I", h, 8)
        seq, = struct.unpack_from("<Q", h, 16)
        if ver == 2 and (best is None or seq > best[0]):
            best = (seq, h)
    if best is None:
        sys.exit("%s: not a format 2 xino file" % path)
    h = best[1]
    nslots, = struct.unpack_from("<I", h, 48)
    slot_blk = struct.unpack_from("<32Q", h, 96)
    keys = []
    for s in range(nslots):
        blk = slot_blk[s // 64]
        off = blk * BLK + (s % 64) * 64
        keys.append(data[off:off + 32])   # uuid, root_ino, root_gen, magic
    return keys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("v2")
    ap.add_argument("out")
    ap.add_argument("--extra", type=int, default=0)
    ap.add_argument("--base", type=int, default=100000)
    ap.add_argument("maps", nargs="*")
    a = ap.parse_args()
    keys = slots_of(a.v2)
    out = bytearray()
    hdr = bytearray(b"cppaxino" + struct.pack("<III", 1, 64, 32) + bytes(44))
    struct.pack_into("<I", hdr, 20, csum(bytes(hdr)))
    out += hdr
    for s, k in enumerate(keys):
        uuid = k[0:16]
        root_ino, root_gen, magic = struct.unpack_from("<QII", k, 16)
        body = struct.pack("<HHIIQII16s16s", 1, 2, s, root_gen, root_ino,
                           magic, 0, uuid, bytes(16))
        out += struct.pack("<I", csum(body)) + body

    def rec(slot, h_ino, ino):
        body = struct.pack("<HHIIQQ", 2, 1, slot, 0, h_ino, ino)
        return struct.pack("<I", csum(body)) + body

    for m in a.maps:
        slot, h_ino, ino = (int(x) for x in m.split(":"))
        out += rec(slot, h_ino, ino)
    for k in range(a.extra):
        out += rec(1, (1 << 40) + k, a.base + k)
    open(a.out, "wb").write(out)


if __name__ == "__main__":
    main()
