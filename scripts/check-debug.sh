#!/bin/bash
# make check-debug: a chosen part of the VM suite on a debug kernel (KASAN,
# lockdep, kmemleak, debugobjects; scripts/debug-kernel.sh builds it once).
# A run fails on any report of theirs: run.sh judges the guest's dmesg,
# lockdep's debug_locks after the test and kmemleak's two scans at its end.
#
#   scripts/check-debug.sh [TEST...]     default: the tests below
#
# Filesystem calls run 20-40 times slower on this kernel under TCG: each
# test's time limit is multiplied by CPPAUFS_DEBUG_SLOWDOWN (default 6).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] ||
	TESTS=(read_seed cow_seed cow_ops cow_dirs cow_stress xino rename_whiteout
	       nlink long_names live_branches udba)
slow=${CPPAUFS_DEBUG_SLOWDOWN:-6}

kver=$(scripts/debug-kernel.sh)
export CPPAUFS_KERNELS_DIR=$REPO/build/debug-kernels
d=$REPO/build/mod/$kver
mkdir -p "$d"
cp -a Kbuild kmod include "$d/"
make -s -C "$CPPAUFS_KERNELS_DIR/$kver/build" M="$d" W=1 modules

passed=0 failed=0 names=()
for t in "${TESTS[@]}"; do
	script=tests/vm/t_$t.sh
	limit=$(sed -n 's/^# vm-args:.*--timeout[[:space:]]*\([0-9]*\).*/\1/p' "$script")
	limit=$(( ${limit:-300} * slow ))
	echo "check-debug: $t on $kver (limit ${limit}s)"
	if scripts/vm/run.sh --kernel "$kver" --module "$d/kmod/cppaufs.ko" \
	    --build "$REPO/build/cmake" --timeout "$limit" -- "$script"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		names+=("$t")
	fi
done
echo "check-debug: kernel $kver"
[ $failed -eq 0 ] || echo "check-debug: failed: ${names[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
