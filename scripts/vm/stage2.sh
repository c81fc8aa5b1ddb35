#!/bin/bash
# Stage 2 of the cppaufs test VM, run as PID 1 by the initramfs /init after it
# switched into the writable overlay root (the host's root file system over
# 9p + a tmpfs upper layer).  It runs with the host's own bash and tools.
#
#   1. loads cppaufs.ko (unless the run is --no-module) and scratch disks;
#   2. runs the guest test script (bash, cwd = the repository, bounded by
#      `timeout`), its output going to /dev/ttyS1 (the host records and
#      streams it);
#   3. kills what the test left running, unmounts what it left mounted,
#      detaches loop devices and rmmods cppaufs;
#   4. writes dmesg and the status file to the results share and powers off.
#
# The results share (/run/vmrig, a writable 9p export of the host's
# per-run directory) carries vm.env in and dmesg, status out.
# Kernel messages emitted here are prefixed "vmrig:" and never contain the
# module's name, so they cannot trip run.sh's dmesg check.
set -uo pipefail

R=/run/vmrig
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
# shellcheck source=/dev/null
. "$R/vm.env"

out() { printf '%s\n' "$*" >/dev/ttyS1; }
kmsg() { echo "vmrig: $*" >/dev/kmsg 2>/dev/null || true; }
status() { printf '%s=%s\n' "$1" "$2" >>"$R/status.part"; }

finish() {
	status end "$(cut -d" " -f1 /proc/uptime)"
	dmesg >"$R/dmesg" 2>&1
	# status is written last and atomically: its presence means "the
	# guest got to the end"; run.sh treats a missing status as a crash.
	mv "$R/status.part" "$R/status"
	sync
	/run/busybox poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 60
}

# raw: no \r added to line ends, no signals from the line.
stty -F /dev/ttyS1 raw -echo 2>/dev/null
status boot_uptime "$(cut -d' ' -f1 /proc/uptime)"
hostname cppaufs-vm 2>/dev/null || true

# A kernel of another Debian release is unpacked on the host, not installed:
# show its modules at /lib/modules/<kver>, writable (tests install there).
if [ -n "${VM_MODDIR:-}" ]; then
	kmods=/lib/modules/$(uname -r)
	mkdir -p "$kmods" /run/kmods/upper /run/kmods/work
	mount -t overlay -o "lowerdir=$VM_MODDIR,upperdir=/run/kmods/upper,workdir=/run/kmods/work" \
		overlay "$kmods" || out "vmrig: cannot show $VM_MODDIR at $kmods"
fi

# Debug kernels: forget what kmemleak suspects from the boot, so that what
# it reports at the end was allocated during the test.
KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -d /sys/kernel/debug ] && mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null &&
    [ -w "$KMEMLEAK" ]; then
	echo clear >"$KMEMLEAK"
fi

# A host directory whose content outlives the boot (run.sh --state).
if [ -n "${VM_STATE:-}" ]; then
	mkdir -p /run/vmrig-state
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 state \
		/run/vmrig-state || out "vmrig: cannot mount the state share"
	export CPPAUFS_VM_STATE=/run/vmrig-state
fi

# -- 1. module and disks -------------------------------------------------------
insmod_rc=0
if [ -n "${VM_MODULE:-}" ]; then
	kmsg "insmod (module under test)"
	if ! insmod "$VM_MODULE" >/dev/ttyS1 2>&1; then
		insmod_rc=1
		out "vmrig: insmod $VM_MODULE failed"
	fi
fi
status insmod "$insmod_rc"

if [ "${#VM_DISKS[@]}" -gt 0 ]; then
	modprobe virtio_blk 2>/dev/null || true
	letters=(a b c d e f g h i j k l m n o p q r s t u v w x y z)
	i=0
	for d in "${VM_DISKS[@]}"; do
		dev=/dev/vd${letters[i]}
		for _ in $(seq 50); do [ -b "$dev" ] && break; sleep 0.1; done
		[ -b "$dev" ] || out "vmrig: scratch disk $d ($dev) did not appear"
		export "CPPAUFS_DISK_${d^^}=$dev"
		i=$((i + 1))
	done
fi

# `mount -o loop` needs /dev/loop-control, which appears only once the loop
# driver (a module in Debian) is loaded.
modprobe loop 2>/dev/null || true

# Mounts present before the test (by mount id): everything else is a leftover.
mapfile -t base_ids < <(awk '{print $1}' /proc/self/mountinfo)

# -- 2. the test ---------------------------------------------------------------
test_rc=1
if [ "$insmod_rc" -eq 0 ]; then
	export CPPAUFS_REPO CPPAUFS_BUILD CPPAUFS_KVER CPPAUFS_VM_DIR CPPAUFS_FULL_MATRIX
	export CPPAUFS_MODULE="${VM_MODULE:-}"
	export CPPAUFS_EXPECT_DMESG="$R/expect-dmesg" CPPAUFS_VM=1
	: >"$CPPAUFS_EXPECT_DMESG"
	cd "$CPPAUFS_REPO" || exit 1
	kmsg "test start: ${VM_SCRIPT##*/}"
	status test_start "$(cut -d' ' -f1 /proc/uptime)"
	# The output goes straight to ttyS1, which the host records: no pipe,
	# so a background process that the test leaves behind cannot keep us
	# waiting for EOF.  setsid: the test gets a session of its own (and no
	# controlling terminal); timeout -k: SIGKILL if SIGTERM is ignored.
	# What is left of run.sh's budget, less ~5 s before the kernel's clock
	# starts and 30 s for the clean-up and the report (a loaded host makes
	# both slow).
	up=$(cut -d. -f1 /proc/uptime)
	test_timeout=$((VM_TOTAL_TIMEOUT - up - 35))
	[ "$test_timeout" -ge 5 ] || test_timeout=5
	status test_timeout "$test_timeout"
	timeout -k 5 "$test_timeout" setsid bash "$VM_SCRIPT" \
		"${VM_ARGS[@]}" </dev/null >/dev/ttyS1 2>&1
	test_rc=$?
	cd /
	status test_end "$(cut -d' ' -f1 /proc/uptime)"
	kmsg "test end: status $test_rc"
fi
status test "$test_rc"

# -- 3. cleanup ----------------------------------------------------------------
# kill(-1) from PID 1 signals every process but PID 1 itself.
kill -KILL -1 2>/dev/null
sleep 0.2

is_base() {
	local id
	for id in "${base_ids[@]}"; do [ "$id" = "$1" ] && return 0; done
	return 1
}
leftover=0
umount_rc=0
# Innermost first: mountinfo lists in mount order, so reverse it.
while read -r id m; do
	is_base "$id" && continue
	m=$(printf '%b' "$m") # mountinfo escapes blanks as \040
	leftover=$((leftover + 1))
	out "vmrig: unmounting leftover $m"
	umount "$m" >/dev/ttyS1 2>&1 || {
		umount_rc=1
		out "vmrig: umount $m failed"
	}
done < <(awk '{print $1, $5}' /proc/self/mountinfo | tac)
losetup -D 2>/dev/null || true
status leftover_mounts "$leftover"
status umount "$umount_rc"

rmmod_rc=0
if [ -d /sys/module/cppaufs ]; then
	rmmod cppaufs >/dev/ttyS1 2>&1 || {
		rmmod_rc=1
		out "vmrig: rmmod failed (refcount $(cat /sys/module/cppaufs/refcnt 2>/dev/null))"
	}
	status rmmod "$rmmod_rc"
fi
# Let deferred work (RCU callbacks, workqueues) print what it has to say.
sleep 0.5

# Debug kernels (scripts/debug-kernel.sh): lockdep turns itself off after
# its first report, so say whether it is still on; kmemleak reports what
# nothing references any more, after two scans (an object must be seen
# unreferenced twice) of what was allocated since the test started.
if [ -r /proc/lockdep_stats ]; then
	status debug_locks "$(awk '/debug_locks:/ { print $2 }' /proc/lockdep_stats)"
fi
if [ -w "$KMEMLEAK" ]; then
	echo scan >"$KMEMLEAK"
	sleep 5
	echo scan >"$KMEMLEAK"
	cat "$KMEMLEAK" >"$R/kmemleak" 2>&1
	status kmemleak "$(grep -c '^unreferenced object' "$R/kmemleak")"
fi
finish
