#!/usr/bin/env python3
"""Concurrent stress on a union, checked against a model (t_stress_mixed.sh).

  stress_model.py prepare LOWER STATE      lower files the run starts from
  stress_model.py run UNION STATE SECONDS  the workers; the model goes to STATE
  stress_model.py check UNION LOWER STATE  after a remount: union == model

Workers, all at once, for SECONDS:
  - writers (4 processes) write records into files that start on the lower
    branch: the first write copies a file up, while the others write the
    same file; each process owns slot <its number> of every file, so the
    last record it wrote there is what the slot must hold;
  - mmap writers (2) map the same kind of lower files shared and writable,
    write their slot and msync;
  - a namespace worker per directory (2) creates, renames (over lower and
    upper names), links and unlinks names, lower ones included, keeping
    the set of names and their contents;
  - readers (2) list the directories over and over: no name twice in one
    listing, no internal .wh. name, every name one the run can make.
Any error a worker meets is a failure, except ENOENT for a reader racing a
rename.  The check compares every file's content and every directory's
names with the model, and the lower branch with what prepare made.
"""
import errno
import hashlib
import json
import mmap
import multiprocessing as mp
import os
import random
import sys
import time

NFILES = 16          # files of the writers, f0..f15, on the lower branch
NMAP = 4             # files of the mmap writers, m0..m3
SLOT = 64            # bytes per slot
NWRITERS = 4
NMAPPERS = 2
DIRS = ("d0", "d1")
NLOWER = 12          # lower names per namespace directory


def lower_content(name):
    return (name.encode() * SLOT * 8)[:SLOT * 8]


def prepare(lower):
    for i in range(NFILES):
        with open(os.path.join(lower, "f%d" % i), "wb") as f:
            f.write(lower_content("f%d" % i))
    for i in range(NMAP):
        with open(os.path.join(lower, "m%d" % i), "wb") as f:
            f.write(lower_content("m%d" % i))
    for d in DIRS:
        os.makedirs(os.path.join(lower, d), exist_ok=True)
        for i in range(NLOWER):
            with open(os.path.join(lower, d, "l%d" % i), "wb") as f:
                f.write(("%s/l%d lower\n" % (d, i)).encode())
    return prepare_sums(lower)


def record(w, seq):
    return ("w%d:%08d:" % (w, seq)).encode().ljust(SLOT, b".")


def write_slot(path, slot, seq):
    """pwrite(2) a record into slot @slot of @path."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, record(slot, seq), slot * SLOT)
    finally:
        os.close(fd)


def map_slot(path, slot, seq):
    """Write a record into slot @slot of @path through a shared mapping."""
    fd = os.open(path, os.O_RDWR)
    try:
        m = mmap.mmap(fd, SLOT * 8, mmap.MAP_SHARED,
                      mmap.PROT_READ | mmap.PROT_WRITE)
        m[slot * SLOT:(slot + 1) * SLOT] = record(slot, seq)
        m.flush()
        m.close()
    finally:
        os.close(fd)


def slot_writer(kind, union, w, seconds, out):
    """Write slot <slot> of random files, remembering the last record."""
    if kind == "writer":
        prefix, nfiles, slot, write = "f", NFILES, w, write_slot
    else:
        prefix, nfiles, slot, write = "m", NMAP, NWRITERS + w, map_slot
    rnd = random.Random(slot)
    last = {}
    errors = []
    seq = 0
    end = time.time() + seconds
    while time.time() < end:
        name = "%s%d" % (prefix, rnd.randrange(nfiles))
        seq += 1
        try:
            write(os.path.join(union, name), slot, seq)
            last[name] = seq
        except OSError as e:
            errors.append("%s %d: %s: %s" % (kind, w, name, e))
    out.put((kind, w, last, errors))


def namespace(union, d, seconds, out):
    """Create, rename, link and unlink in one directory, keeping a model."""
    rnd = random.Random(d)
    base = os.path.join(union, d)
    # name -> [content, inode id]: names made by link() share the id, and
    # rename() between two names of one inode does nothing (POSIX).
    model = {"l%d" % i: [("%s/l%d lower\n" % (d, i)).encode(), "l%d" % i]
             for i in range(NLOWER)}
    errors = []
    n = 0
    end = time.time() + seconds
    while time.time() < end:
        n += 1
        op = rnd.random()
        names = sorted(model)
        try:
            if op < 0.3 or not names:
                name = "n%d" % n
                data = ("%s/%s %d\n" % (d, name, n)).encode()
                with open(os.path.join(base, name), "wb") as f:
                    f.write(data)
                model[name] = [data, name]
            elif op < 0.55:
                a = rnd.choice(names)
                b = rnd.choice(names + ["r%d" % n])
                os.rename(os.path.join(base, a), os.path.join(base, b))
                if b not in model or model[a][1] != model[b][1]:
                    model[b] = model.pop(a)
            elif op < 0.7:
                a = rnd.choice(names)
                b = "h%d" % n
                os.link(os.path.join(base, a), os.path.join(base, b))
                model[b] = model[a]
            elif op < 0.9:
                a = rnd.choice(names)
                os.unlink(os.path.join(base, a))
                del model[a]
            else:
                a = rnd.choice(names)
                with open(os.path.join(base, a), "rb") as f:
                    got = f.read()
                if got != model[a][0]:
                    errors.append("%s/%s: read %r, model %r"
                                  % (d, a, got[:40], model[a][0][:40]))
        except OSError as e:
            errors.append("namespace %s: %s" % (d, e))
    out.put(("namespace", d,
             {k: hashlib.sha256(v[0]).hexdigest() for k, v in model.items()},
             errors))


def reader(union, r, seconds, out):
    errors = []
    lists = 0
    end = time.time() + seconds
    while time.time() < end:
        for d in DIRS:
            try:
                names = os.listdir(os.path.join(union, d))
            except OSError as e:
                errors.append("reader: %s: %s" % (d, e))
                continue
            lists += 1
            if len(names) != len(set(names)):
                errors.append("reader: %s listed a name twice" % d)
            for n in names:
                if n.startswith(".wh.") or n[:1] not in "lnrh":
                    errors.append("reader: %s: unexpected name %r" % (d, n))
            for n in names[:3]:
                try:
                    os.stat(os.path.join(union, d, n))
                except OSError as e:
                    if e.errno != errno.ENOENT:
                        errors.append("reader: stat %s/%s: %s" % (d, n, e))
    out.put(("reader", r, lists, errors))


def run(union, state, seconds):
    out = mp.Queue()
    procs = [mp.Process(target=slot_writer,
                        args=("writer", union, w, seconds, out))
             for w in range(NWRITERS)]
    procs += [mp.Process(target=slot_writer,
                         args=("mapper", union, w, seconds, out))
              for w in range(NMAPPERS)]
    procs += [mp.Process(target=namespace, args=(union, d, seconds, out))
              for d in DIRS]
    procs += [mp.Process(target=reader, args=(union, r, seconds, out))
              for r in range(2)]
    for p in procs:
        p.start()
    results = []
    deadline = time.time() + seconds + 300
    while len(results) < len(procs) and time.time() < deadline:
        try:
            results.append(out.get(timeout=5))
        except Exception:
            if all(p.exitcode is not None for p in procs) and out.empty():
                break
    for p in procs:
        p.join(timeout=max(1, deadline - time.time()))
    crashed = ["worker %s exited with %s" % (p.name, p.exitcode)
               for p in procs if p.exitcode != 0]
    if len(results) < len(procs):
        crashed.append("%d of %d workers reported"
                       % (len(results), len(procs)))
    model = {"files": {}, "dirs": {}}
    errors = crashed
    for kind, who, data, errs in results:
        errors += errs
        if kind in ("writer", "mapper"):
            slot = who if kind == "writer" else NWRITERS + who
            for name, seq in data.items():
                model["files"].setdefault(name, {})[str(slot)] = seq
        elif kind == "namespace":
            model["dirs"][who] = data
        else:
            print("reader %d: %d listings" % (who, data))
    with open(state, "w") as f:
        json.dump(model, f)
    for e in errors[:20]:
        print("FAIL:", e)
    print("run: %d errors" % len(errors))
    return 1 if errors else 0


def expected(name, slots):
    b = bytearray(lower_content(name))
    for slot, seq in slots.items():
        s = int(slot)
        b[s * SLOT:(s + 1) * SLOT] = record(s, seq)
    return bytes(b)


def check(union, lower, state):
    model = json.load(open(state))
    bad = []
    for i in range(NFILES):
        name = "f%d" % i
        got = open(os.path.join(union, name), "rb").read()
        if got != expected(name, model["files"].get(name, {})):
            bad.append("%s: content differs from the model" % name)
    for i in range(NMAP):
        name = "m%d" % i
        got = open(os.path.join(union, name), "rb").read()
        if got != expected(name, model["files"].get(name, {})):
            bad.append("%s: content differs from the model" % name)
    for d, names in model["dirs"].items():
        got = {}
        for n in os.listdir(os.path.join(union, d)):
            got[n] = hashlib.sha256(
                open(os.path.join(union, d, n), "rb").read()).hexdigest()
        if got != names:
            extra = sorted(set(got) - set(names))[:5]
            missing = sorted(set(names) - set(got))[:5]
            changed = sorted(n for n in set(got) & set(names)
                             if got[n] != names[n])[:5]
            bad.append("%s: names or contents differ: extra %s, missing %s, "
                       "changed %s" % (d, extra, missing, changed))
    lower_now = prepare_sums(lower)
    if lower_now != model_lower(state):
        bad.append("the lower branch changed")
    for b in bad:
        print("FAIL:", b)
    print("check: %d files, %d directories, %d differences"
          % (NFILES + NMAP, len(model["dirs"]), len(bad)))
    return 1 if bad else 0


def prepare_sums(lower):
    sums = {}
    for root, _, files in os.walk(lower):
        for n in files:
            p = os.path.join(root, n)
            sums[os.path.relpath(p, lower)] = hashlib.sha256(
                open(p, "rb").read()).hexdigest()
    return sums


def model_lower(state):
    return json.load(open(state + ".lower"))


def main():
    cmd = sys.argv[1]
    if cmd == "prepare":
        sums = prepare(sys.argv[2])
        json.dump(sums, open(sys.argv[3] + ".lower", "w"))
        return 0
    if cmd == "run":
        return run(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    if cmd == "check":
        return check(sys.argv[2], sys.argv[3], sys.argv[4])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
