#!/bin/bash
# Smoke test: the VM boots, cppaufs.ko is loaded and registered, and the rig
# can rmmod it afterwards (run.sh fails the run otherwise).
# vm-kernels: every
. "$(dirname "$0")/lib.sh"

[ -n "${CPPAUFS_MODULE:-}" ] || skip "run without the module"
require_module

section "module"
run uname -r
run grep -w cppaufs /proc/filesystems
ok test -d /sys/module/cppaufs
assert_eq 0 "$(cat /sys/module/cppaufs/refcnt)" "refcount with nothing mounted"
run_sh 'ls /sys/fs/cppaufs 2>/dev/null || echo "(no /sys/fs/cppaufs)"'
