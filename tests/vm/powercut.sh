#!/bin/bash
# Power cuts (host side): for each round and branch file system, boot once
# to build a union on a kept virtual disk and reset the machine without
# sync at a random moment while five operations run (powercut/cut.sh), then
# boot again to fsck the disk and check every object (powercut/verify.sh).
#
#   tests/vm/powercut.sh KVER [ROUNDS] [FS...]     default: 2 rounds, ext4 xfs
#
# The moments come from CPPAUFS_POWERCUT_SEED (default 1), so a run can be
# repeated (CPPAUFS_POWERCUT_DELAY=MS fixes it); each is printed.  Ends with "N passed, M failed" (rounds).
#
# CPPAUFS_POWERCUT_SCENARIO picks what runs at the cut: "ops" (default, the
# above) or "xino": objects removed through the union while others are
# created, so that numbers, xino leaves and interior blocks are freed and
# numbers reused (powercut/xino_cut.sh, powercut/xino_verify.sh).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kver=${1:?usage: powercut.sh KVER [ROUNDS] [FS...]}
rounds=${2:-2}
shift $(($# >= 2 ? 2 : 1))
fss=("$@")
[ ${#fss[@]} -gt 0 ] || fss=(ext4 xfs)
RANDOM=${CPPAUFS_POWERCUT_SEED:-1}
scenario=${CPPAUFS_POWERCUT_SCENARIO:-ops}
case $scenario in
# 0 to 2 s after the operations start: before, during and after each of
# them (under TCG they take 0.2 to 1.5 s).
ops) cut=cut.sh verify=verify.sh min_delay=0 max_delay=2000 ;;
# 0.1 to 1.9 s, and about 0.45 s more before the reset under TCG: the
# removal runs from about 0.5 s to about 1.7 s after the operations start,
# and the xino file is written several times while it runs.
xino) cut=xino_cut.sh verify=xino_verify.sh min_delay=100 max_delay=1900 ;;
*) echo "powercut: unknown scenario $scenario (ops, xino)" >&2; exit 2 ;;
esac
run=$REPO/scripts/vm/run.sh
mod=(--module "${CPPAUFS_MODDIR:-$REPO/build/mod}/$kver/kmod/cppaufs.ko")
[ -z "${CPPAUFS_BUILD:-}" ] || mod+=(--build "$CPPAUFS_BUILD")
work=$(mktemp -d "${TMPDIR:-/tmp}/cppaufs-powercut.XXXXXX")
trap 'rm -rf "$work"' EXIT

passed=0 failed=0
for ((r = 1; r <= rounds; r++)); do
	for fs in "${fss[@]}"; do
		delay=$((min_delay + (RANDOM * 32768 + RANDOM) % (max_delay - min_delay)))
		delay=${CPPAUFS_POWERCUT_DELAY:-$delay}
		st=$work/$fs-$r
		mkdir -p "$st"
		disk=(--disk-image "data:400M:$st/disk.img" --state "$st")
		echo "powercut: $scenario, round $r, $fs, reset $delay ms after the operations start"
		if "$run" --kernel "$kver" "${mod[@]}" "${disk[@]}" --powercut \
		    --timeout 300 -- "$REPO/tests/vm/powercut/$cut" "$fs" "$delay" &&
		    "$run" --kernel "$kver" "${mod[@]}" "${disk[@]}" \
		    --timeout 300 -- "$REPO/tests/vm/powercut/$verify" "$fs"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			echo "powercut: FAILED $scenario round $r, $fs, delay $delay ms"
		fi
		rm -f "$st/disk.img"
	done
done
echo "powercut: $scenario, $kver, ${fss[*]}, $rounds round(s) each"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
