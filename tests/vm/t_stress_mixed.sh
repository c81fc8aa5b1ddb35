#!/bin/bash
# Stress: for a fixed time, on the same union at once, processes copy up and
# write the same lower files, mmap writers write lower files through shared
# mappings, namespace workers create, rename, link and unlink (lower names
# too) while readers list the directories (stress_model.py keeps a model of
# it all); stress-ng's directory, rename and link stressors run in a
# directory of their own, and fio writes files with verify=crc32c.  Then
# the union is mounted again and compared with the model, the lower branch
# with what it was.  On tmpfs, ext4, xfs and btrfs.
# vm-kernels: newest
# vm-args: --timeout 900 --smp 2
. "$(dirname "$0")/lib.sh"
require_module

T=/tmp/stress
SECS=${CPPAUFS_STRESS_SECONDS:-12}
model=$(dirname "$0")/stress_model.py
for fs in $(vm_fs_list tmpfs ext4 xfs btrfs); do
	section "$fs: $SECS s of everything at once"
	B=$T/$fs
	mkfs_loop "$fs" "$B" 400M
	mkdir -p "$B/upper" "$B/lower" "$B/m" "$B/state"
	ok python3 "$model" prepare "$B/lower" "$B/state/model"
	cpa_mount "$B/m" "$B/upper:$B/lower=ro"
	mkdir "$B/m/stress-ng" "$B/m/fio"
	python3 "$model" run "$B/m" "$B/state/model" "$SECS" >"$B/state/run.log" 2>&1 &
	p_model=$!
	stress-ng --dir 2 --rename 2 --link 2 --timeout "${SECS}s" \
		--temp-path "$B/m/stress-ng" --metrics-brief >"$B/state/stress-ng.log" 2>&1 &
	p_sng=$!
	fio --name=verify --directory="$B/m/fio" --rw=randwrite --bs=4k \
		--size=8m --numjobs=2 --verify=crc32c --verify_fatal=1 \
		--time_based=0 --loops=3 >"$B/state/fio.log" 2>&1 &
	p_fio=$!
	rc=0
	wait "$p_model" || rc=$?
	run cat "$B/state/run.log"
	assert_eq 0 "$rc" "model workers' status"
	rc=0
	wait "$p_sng" || rc=$?
	run_sh "tail -n 8 '$B/state/stress-ng.log'"
	assert_eq 0 "$rc" "stress-ng's status"
	rc=0
	wait "$p_fio" || rc=$?
	run_sh "grep -E 'err=|verify|WRITE:' '$B/state/fio.log' | head -n 6"
	assert_eq 0 "$rc" "fio's status (verify=crc32c)"

	section "$fs: mounted again, compared with the model"
	cpa_umount "$B/m"
	cpa_mount "$B/m" "$B/upper:$B/lower=ro"
	ok python3 "$model" check "$B/m" "$B/lower" "$B/state/model"
	leaked=$(find "$B/m" -name '.wh.*' | head -n 3)
	assert_eq "" "$leaked" "internal names seen through the union"
	cpa_umount "$B/m"
done
