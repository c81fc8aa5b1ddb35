#!/bin/bash
# Fuzzing: at least 10,000 random and mutated option strings through
# fsconfig(2), mount(2), remount (fspick(2) and MS_REMOUNT), mount(8) and the
# helper, and damaged xino files (bits flipped, truncated, records
# overwritten): each is a clean mount or a refusal with one clear line,
# never a hang; the rig judges the kernel (oops, WARN, lockdep, leaks at
# rmmod).  fuzz_options.py does the work, with a fixed seed so that CI
# runs the same cases every time (CPPAUFS_FUZZ_SEED picks another).
# vm-kernels: newest
# vm-args: --timeout 900
. "$(dirname "$0")/lib.sh"
require_module

# Every refusal writes its line to the kernel log too.
expect_dmesg '^\[[ 0-9.]+\] cppaufs: '
helper=''
if cpa_install_tools; then
	helper=/sbin/mount.cppaufs
fi
seed=${CPPAUFS_FUZZ_SEED:-1}
section "fuzz (seed $seed)"
if python3 "$(dirname "$0")/fuzz_options.py" --seed "$seed" \
    --helper "$helper" --root /tmp/fuzz; then
	pass "fuzzing found nothing"
else
	fail "fuzzing (seed $seed): see the FAIL lines above"
fi
section "the module still works"
mkdir -p /tmp/fz2/{a,b,m}
echo x >/tmp/fz2/b/f
cpa_mount /tmp/fz2/m /tmp/fz2/a:/tmp/fz2/b
assert_file_content /tmp/fz2/m/f x
cpa_umount /tmp/fz2/m
