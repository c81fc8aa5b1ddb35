#!/bin/bash
# Boot a Debian kernel of this host in qemu (TCG) and run a guest test script
# in it, with cppaufs.ko loaded.  See usage() and tests/vm/README.md.
#
# Host side of the rig: builds (and caches) a busybox initramfs, shares the
# host root read-only and a per-run directory writable over virtio-9p, boots,
# streams the test's output, then judges the run from the status file, the
# guest's dmesg and the test's declared expected kernel messages.
#
# Exit status: 0 pass, 1 fail, 2 usage error, 77 skip (the test exited 77,
# or cppaufs.ko is not built and the run was not --no-module).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMDIR=$REPO/scripts/vm

usage() {
	cat <<EOF
usage: ${0##*/} --kernel KVER [options] -- GUEST-SCRIPT [ARGS...]

  --kernel KVER     kernel to boot: /boot/vmlinuz-KVER and /lib/modules/KVER,
                    or one that scripts/kernels.sh unpacked under
                    build/kernels/KVER (another Debian release's)
  --no-module       do not insmod cppaufs.ko before the test
  --module PATH     module to insmod (default:
                    \$CPPAUFS_MODDIR/KVER/kmod/cppaufs.ko, CPPAUFS_MODDIR
                    defaulting to <repo>/build/mod)
  --build DIR       CMake build dir with the tools, exported to the guest as
                    CPPAUFS_BUILD (default: \$CPPAUFS_BUILD or <repo>/build/cmake)
  --timeout S       whole-run limit in seconds, boot included (default 300)
  --mem M           guest memory in MiB (default 2048)
  --smp N           guest CPUs (default 1; see below)
  --disk NAME:SIZE  add a virtio-blk scratch disk (sparse file, SIZE as for
                    truncate(1), e.g. 1G); the guest gets CPPAUFS_DISK_NAME=/dev/vdX.
                    Repeatable.
  --disk-image NAME:SIZE:PATH
                    the same, backed by the image file PATH, which is kept
                    (created with SIZE if missing): a later run sees what
                    this one wrote (power-cut tests)
  --state DIR       share the host directory DIR with the guest, writable,
                    at \$CPPAUFS_VM_STATE: what a test writes there outlives
                    the boot (and a reset: writes go straight to the host)
  --powercut        the guest is meant to die: the run passes when the test
                    printed "vmrig-powercut: armed" and then the guest went
                    away (echo b >/proc/sysrq-trigger: a reset without sync)
                    with no oops or warning before it
  --icount          deterministic guest clock: qemu -icount shift=0,sleep=on
                    (1 ns per guest instruction while busy, real time while
                    idle), so timings do not follow the host's load (bench)
  --keep            keep the per-run directory (console log, dmesg, output)
  --console         also stream the kernel console (ttyS0) live
  -h, --help        this help

Options may also come from a "# vm-args: ..." line of the guest script (the
command line's win), and host commands to run before the boot from
"# vm-host-prepare: CMD" lines (see below).

The guest script runs with bash as root in a writable overlay of the host
root, cwd = the repository, with CPPAUFS_REPO, CPPAUFS_BUILD, CPPAUFS_KVER,
CPPAUFS_MODULE and CPPAUFS_EXPECT_DMESG (append EREs of expected kernel
messages there; tests/vm/lib.sh has expect_dmesg) in its environment.
EOF
}

die() { echo "vm-run: $*" >&2; exit 2; }

# A guest script may carry default options on a line of its own, e.g.
#   # vm-args: --no-module --timeout 400
# They go before the command line's, which therefore win.
for ((i = 1; i < $#; i++)); do
	if [ "${!i}" = -- ]; then
		j=$((i + 1))
		if [ -r "${!j}" ]; then
			read -ra file_args <<<"$(sed -n 's/^# vm-args:[[:space:]]*//p' "${!j}" | head -n 1)"
			set -- "${file_args[@]}" "$@"
		fi
		break
	fi
done

kver='' module='' no_module=0 timeout_s=300 mem=2048 keep=0 console=0 icount=0
powercut=0 state_dir=''
# One guest CPU unless a test asks for more.  ctest runs two VMs at once on
# a two-core host: with two vCPUs each, four vCPU threads share two cores,
# and a guest that waits on a descheduled vCPU (a spinlock holder, a TLB
# shootdown, qemu's own all-CPU sync points) loses its time slice.  The same
# short test took 75-78 s per VM with two such VMs side by side and 25 s
# with one vCPU each (22 s alone either way).  The stress tests ask for two
# CPUs (`# vm-args: --smp 2`): their races need real parallelism.
smp=1
build_dir=${CPPAUFS_BUILD:-$REPO/build/cmake}
disks=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kver=${2:?}; shift 2 ;;
	--no-module) no_module=1; shift ;;
	--module) module=${2:?}; shift 2 ;;
	--build) build_dir=${2:?}; shift 2 ;;
	--timeout) timeout_s=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--disk) disks+=("${2:?}"); shift 2 ;;
	--disk-image) disks+=("${2:?}"); shift 2 ;;
	--powercut) powercut=1; shift ;;
	--state) state_dir=$(realpath -e "${2:?}") || die "no directory $2"; shift 2 ;;
	--icount) icount=1; shift ;;
	--keep) keep=1; shift ;;
	--console) console=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) usage >&2; exit 2 ;;
	esac
done
[ $# -ge 1 ] || { usage >&2; exit 2; }
[ -n "$kver" ] || die "--kernel is required"
[[ $timeout_s =~ ^[0-9]+$ && $timeout_s -ge 30 ]] || die "--timeout: >= 30 s"
[[ $mem =~ ^[0-9]+$ ]] || die "--mem: MiB"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "--smp: a number of CPUs"
script=$(realpath -e "$1") || die "no such guest script: $1"
shift

kernel_img=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
# A kernel of another release is not installed: scripts/kernels.sh unpacked
# it, and the guest sees its modules at /lib/modules/KVER through an overlay
# (stage2.sh).
unpacked=${CPPAUFS_KERNELS_DIR:-$REPO/build/kernels}/$kver
guest_moddir=''
if [ ! -r "$kernel_img" ] && [ -e "$unpacked/done" ]; then
	kernel_img=$(realpath "$unpacked/vmlinuz")
	moddir=$(realpath "$unpacked/modules")
	guest_moddir=$moddir
fi
[ -r "$kernel_img" ] || die "no kernel image $kernel_img"
[ -r "$moddir/modules.dep" ] || die "no $moddir/modules.dep"
for tool in qemu-system-x86_64 cpio timeout flock; do
	command -v "$tool" >/dev/null || die "$tool is not installed (make setup)"
done
busybox=$(command -v busybox) || die "busybox-static is not installed"

test_name=${script#"$REPO"/}
if [ "$no_module" -eq 1 ]; then
	module=''
else
	module=${module:-${CPPAUFS_MODDIR:-$REPO/build/mod}/$kver/kmod/cppaufs.ko}
	if [ ! -r "$module" ]; then
		echo "vm-run: SKIP kernel=$kver test=$test_name: $module is not built"
		exit 77
	fi
	module=$(realpath "$module")
fi

# -- initramfs (cached per kernel, rebuilt when an input changes) -------------
# Modules the initramfs must insmod to reach the host root; whatever Debian
# builds in is simply absent from modules.dep.
INITRD_MODULES=(virtio_pci 9pnet_virtio 9p overlay)

# Print the modules.dep paths of $@ and of their dependencies, dependencies
# first, each once.
resolve_modules() {
	awk -v want="$*" '
	function base(p) { sub(/.*\//, "", p); sub(/\.ko(\..*)?$/, "", p); gsub(/-/, "_", p); return p }
	function visit(m,    n, i, d) {
		if (m in done || !(m in path)) return
		done[m] = 1
		n = split(deps[m], d, " ")
		# modules.dep lists a closure, deepest dependencies last
		for (i = n; i >= 1; i--) visit(base(d[i]))
		print path[m]
	}
	{
		p = $1; sub(/:$/, "", p); m = base(p)
		path[m] = p; $1 = ""; deps[m] = $0
	}
	END { n = split(want, w, " "); for (i = 1; i <= n; i++) visit(w[i]) }
	' "$moddir/modules.dep"
}

build_initramfs() {
	local cache=$1
	local out=$cache/initramfs.cpio mods key stage f
	mods=$(resolve_modules "${INITRD_MODULES[@]}")
	# The key covers every input: /init, busybox, the module files.
	key=$( {
		sha256sum "$VMDIR/init" "$busybox"
		echo "$kver"
		for f in $mods; do stat -c '%n %s %Y' "$moddir/$f"; done
	} | sha256sum | cut -d' ' -f1)
	if [ -r "$out" ] && [ "$(cat "$cache/initramfs.key" 2>/dev/null)" = "$key" ]; then
		return 0
	fi
	echo "vm-run: building initramfs for $kver"
	stage=$(mktemp -d "$cache/stage.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,modules,host,rw,newroot}
	cp "$busybox" "$stage/bin/busybox"
	cp "$VMDIR/init" "$stage/init"
	chmod 0755 "$stage/init" "$stage/bin/busybox"
	# The kernel opens /dev/console before running /init (needs root).
	mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
	: >"$stage/modules.order"
	for f in $mods; do
		local name=${f##*/}
		name=${name%%.ko*}.ko
		# busybox insmod passes the image to init_module(2): decompress.
		case $f in
		*.ko.xz) xz -dc "$moddir/$f" >"$stage/modules/$name" ;;
		*.ko.zst) zstd -qdc "$moddir/$f" >"$stage/modules/$name" ;;
		*.ko.gz) gzip -dc "$moddir/$f" >"$stage/modules/$name" ;;
		*) cp "$moddir/$f" "$stage/modules/$name" ;;
		esac
		echo "$name" >>"$stage/modules.order"
	done
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0) >"$out.tmp"
	rm -rf "$stage"
	mv "$out.tmp" "$out"
	echo "$key" >"$cache/initramfs.key"
}

# Debian's bzImage spends ~5 s of TCG time decompressing itself.  The kernels
# have CONFIG_PVH, so qemu can boot the uncompressed ELF vmlinux directly
# (PVH entry): extract it once from the xz/zstd payload of the bzImage.
extract_vmlinux() {
	local cache=$1
	local out=$cache/vmlinux key off
	key=$(stat -c '%n %s %Y' "$kernel_img")
	if [ -r "$out" ] && [ "$(cat "$cache/vmlinux.key" 2>/dev/null)" = "$key" ]; then
		return 0
	fi
	rm -f "$out" "$cache/vmlinux.key"
	# Try each xz / zstd magic in the image until one decompresses to ELF.
	# shellcheck disable=SC2013 # byte offsets, one a line
	for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00|\x28\xb5\x2f\xfd' \
		"$kernel_img" | cut -d: -f1); do
		{ tail -c +$((off + 1)) "$kernel_img" | xz -dcq --single-stream ||
			tail -c +$((off + 1)) "$kernel_img" | zstd -dcq; } \
			>"$out.tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			mv "$out.tmp" "$out"
			echo "$key" >"$cache/vmlinux.key"
			return 0
		fi
	done
	rm -f "$out.tmp"
	return 1
}

cache=${CPPAUFS_VM_CACHE:-$REPO/build/vm}/$kver
mkdir -p "$cache"
# Two VMs may start at once (ctest -j2): build under a lock.
exec 9>"$cache/.lock"
flock 9
build_initramfs "$cache"
boot_img=$kernel_img
if extract_vmlinux "$cache"; then
	boot_img=$cache/vmlinux
else
	echo "vm-run: cannot extract vmlinux from $kernel_img; booting the bzImage"
fi
flock -u 9
exec 9>&-

# -- host-side preparation ----------------------------------------------------
# A guest script may ask for host work before the boot (e.g. building with
# dkms, which is slow under TCG), one command a line:
#   # vm-host-prepare: tests/vm/dkms_host.sh
# run with bash in the repository, with CPPAUFS_KVER, CPPAUFS_REPO and
# CPPAUFS_VM_DIR (build/vm/<kver>, also visible in the guest at the same
# path) set.  Exit status 77 skips the run, any other failure fails it.
while IFS= read -r prep; do
	echo "vm-run: host-prepare: $prep"
	prc=0
	(cd "$REPO" && CPPAUFS_KVER=$kver CPPAUFS_REPO=$REPO CPPAUFS_VM_DIR=$cache \
		bash -c "$prep") || prc=$?
	if [ "$prc" -eq 77 ]; then
		echo "vm-run: SKIP kernel=$kver test=$test_name: host preparation skipped"
		exit 77
	elif [ "$prc" -ne 0 ]; then
		echo "vm-run: FAIL kernel=$kver test=$test_name: host preparation failed ($prc): $prep"
		exit 1
	fi
done < <(sed -n 's/^# vm-host-prepare:[[:space:]]*//p' "$script")

# -- per-run directory (the guest's writable "results" share) -----------------
run=$(mktemp -d "${TMPDIR:-/tmp}/cppaufs-vm.XXXXXX")
qpid='' tpid='' cpid=''
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
	local p
	for p in $qpid $tpid $cpid; do kill "$p" 2>/dev/null || true; done
	if [ "$keep" -eq 1 ]; then
		echo "vm-run: run directory kept: $run"
	else
		rm -rf "$run"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The guest mounts fresh file systems on these: a script there would be
# invisible in the guest, so ship a copy in the results share.
case $script in
"$REPO"/*) guest_script=$script ;;	# the guest sees the repository
/tmp/* | /run/* | /dev/* | /proc/* | /sys/*)
	cp "$script" "$run/guest-script"
	guest_script=/run/vmrig/guest-script ;;
*) guest_script=$script ;;
esac

# The guest sources vm.env with bash: quote everything with %q.
{
	printf 'CPPAUFS_REPO=%q\n' "$REPO"
	printf 'CPPAUFS_BUILD=%q\n' "$build_dir"
	printf 'CPPAUFS_KVER=%q\n' "$kver"
	printf 'CPPAUFS_VM_DIR=%q\n' "$cache"
	printf 'CPPAUFS_FULL_MATRIX=%q\n' "${CPPAUFS_FULL_MATRIX:-1}"
	printf 'VM_MODDIR=%q\n' "$guest_moddir"
	printf 'VM_STATE=%q\n' "${state_dir:+1}"
	printf 'VM_MODULE=%q\n' "$module"
	printf 'VM_SCRIPT=%q\n' "$guest_script"
	printf 'VM_TOTAL_TIMEOUT=%q\n' "$timeout_s"
	printf 'VM_ARGS=('; printf ' %q' "$@"; printf ' )\n'
	printf 'VM_DISKS=('
	for d in "${disks[@]}"; do printf ' %q' "${d%%:*}"; done
	printf ' )\n'
} >"$run/vm.env"
echo "$VMDIR/stage2.sh" >"$run/stage2.path"
echo "$REPO" >"$run/repo.path"
: >"$run/console.log"
: >"$run/transcript.log"

# disk_file NAME:SIZE[:PATH]: the image of a disk (PATH: kept across runs).
disk_file() {
	local rest=${1#*:}
	case $rest in
	*:*) echo "${rest#*:}" ;;
	*) echo "$run/disk-${1%%:*}.img" ;;
	esac
}
disk_args=()
for d in "${disks[@]}"; do
	name=${d%%:*}
	[[ $name =~ ^[A-Za-z0-9_]+$ && $d == *:* ]] || die "--disk NAME:SIZE, got $d"
	disk_args+=(-drive "file=$(disk_file "$d"),if=virtio,format=raw,cache=unsafe")
done

# Kernel command line:
#  - ignore_loglevel: every message reaches the console log, which is the
#    fallback dmesg when the guest dies before saving its own;
#  - no oops=panic: after an oops the guest keeps running, so the test ends,
#    the rig saves dmesg and reports it (an oops is still a failure); a real
#    panic reboots at once (panic=-1), which -no-reboot turns into a qemu exit,
#    and the oops text is already in the console log;
#  - printk.devkmsg=on: writes to /dev/kmsg are never rate limited away.
append="console=ttyS0,115200 ignore_loglevel panic=-1 printk.devkmsg=on"
append+=" rdinit=/init 8250.nr_uarts=2 mitigations=off random.trust_cpu=on"
# no_timer_check: on a loaded host the vCPUs run too irregularly for the
# IO-APIC timer check, which then panics ("IO-APIC + timer doesn't work").
append+=" no_timer_check"
# tsc=unstable: a loaded host makes the clocksource watchdog find the TSC
# unstable in the middle of a test; the kernel then switches clocksources
# and patches its sched_clock static keys at run time, which crashed a 6.12
# guest under TCG (an int3 oops in sched_clock_tick).  Decided at boot,
# nothing is patched later.
append+=" tsc=unstable"
# norandmaps: programs map at the same addresses every time.  qemu reuses
# the code it translated for a program only at the same addresses, and a
# test runs hundreds of host tools: a VM test takes about a sixth less
# time without the randomisation.  Kernel addresses stay randomised.
append+=" norandmaps"
# CPPAUFS_VM_APPEND: more kernel parameters, e.g. "slub_debug=FZPU" to have
# the allocator check every slab object the module touches.
append+=${CPPAUFS_VM_APPEND:+" $CPPAUFS_VM_APPEND"}

# -cpu qemu64,+rdrand: with random.trust_cpu=on the kernel's random pool is
# ready at boot.  Without RDRAND it became ready seconds into a test, and
# the static keys that flips are patched into running code: under TCG a
# CPU once hit the patching breakpoint after it was gone (an oops in
# urandom_read_iter, "int3").
# shellcheck disable=SC2054 # the commas belong to qemu's option syntax
qemu=(qemu-system-x86_64 -accel tcg -cpu qemu64,+rdrand -m "$mem" -smp "$smp" -nographic -nodefaults
	-no-reboot -monitor none
	-serial "file:$run/console.log" -serial "file:$run/transcript.log"
	-kernel "$boot_img" -initrd "$cache/initramfs.cpio" -append "$append"
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=results,path=$run,security_model=none"
	-device virtio-9p-pci,fsdev=results,mount_tag=results
	"${disk_args[@]}")
# shellcheck disable=SC2054 # qemu option syntax
[ -z "$state_dir" ] || qemu+=(
	-fsdev "local,id=state,path=$state_dir,security_model=none"
	-device virtio-9p-pci,fsdev=state,mount_tag=state)
# With -icount the guest's clocks count executed instructions (shift=0: one
# nanosecond each) instead of following the host, whose other load then no
# longer shows in guest timings; sleep=on lets an idle guest (waiting for
# its disk) wait in real time rather than jump to its next timer.
# shellcheck disable=SC2054 # qemu option syntax
[ "$icount" -eq 0 ] || qemu+=(-icount shift=0,sleep=on)

# run_guest: one run of the guest; qrc is qemu's exit status.
run_guest() {
	local d
	: >"$run/console.log"
	: >"$run/transcript.log"
	for d in "${disks[@]}"; do
		size=${d#*:} size=${size%%:*}
		if [[ ${d#*:} == *:* ]]; then
			[ -e "$(disk_file "$d")" ] || truncate -s "$size" "$(disk_file "$d")"
		else
			rm -f "$(disk_file "$d")"
			truncate -s "$size" "$(disk_file "$d")"
		fi
	done
	echo "vm-run: booting $kver for $test_name (timeout ${timeout_s}s)"
	t0=$(date +%s.%N)
	# timeout(1) is the backstop if the guest hangs; -k: SIGKILL 5 s later.
	timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null >"$run/qemu.log" 2>&1 &
	qpid=$!
	# Stream the test's output (ttyS1) and optionally the console while it runs.
	tail -n +1 -F --pid="$qpid" "$run/transcript.log" 2>/dev/null &
	tpid=$!
	if [ "$console" -eq 1 ]; then
		tail -n +1 -F --pid="$qpid" "$run/console.log" 2>/dev/null | sed 's/^/console: /' &
		cpid=$!
	fi
	qrc=0
	wait "$qpid" || qrc=$?
	qpid=''
	wait "$tpid" 2>/dev/null || true
	tpid=''
	t1=$(date +%s.%N)
}

run_guest
# A stock kernel sometimes dies while booting under TCG (an int3 oops in
# code that was being live-patched), before the module is even loaded: that
# is the emulator's failure, not the test's, so boot once more.  A guest
# that died after insmod is never retried.
if [ "$qrc" -eq 0 ] && [ ! -e "$run/status" ] && [ "$powercut" -eq 0 ] &&
	! grep -aq 'vmrig: insmod' "$run/console.log"; then
	echo "vm-run: the guest died while booting, before insmod: booting again once"
	grep -aE 'Oops|Kernel panic|RIP:' "$run/console.log" | head -n 3 | sed 's/^/    /'
	run_guest
fi
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

# -- verdict --------------------------------------------------------------------
declare -A st=()
if [ -r "$run/status" ]; then
	while IFS='=' read -r k v; do st[$k]=$v; done <"$run/status"
fi
reasons=()
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	reasons+=("timeout: the VM ran longer than ${timeout_s}s and was killed")
elif [ "$qrc" -ne 0 ]; then
	reasons+=("qemu exited with status $qrc: $(tail -n 3 "$run/qemu.log" | tr '\n' ' ')")
fi
if [ "$powercut" -eq 1 ]; then
	if [ -r "$run/status" ]; then
		reasons+=("--powercut: the guest ended its test instead of being reset")
	elif ! grep -aq '^vmrig-powercut: armed' "$run/transcript.log"; then
		reasons+=("--powercut: the guest died before the test reset it")
	fi
elif [ ! -r "$run/status" ]; then
	[ "$qrc" -eq 0 ] && reasons+=("the guest died before reporting (panic or init failure)")
else
	[ "${st[insmod]:-0}" = 0 ] || reasons+=("insmod $module failed")
	case ${st[test]:-missing} in
	0 | 77) ;;
	124 | 137) reasons+=("the test timed out in the guest (after ${st[test_timeout]:-?}s)") ;;
	*) reasons+=("the test exited with status ${st[test]:-missing}") ;;
	esac
	[ "${st[umount]:-0}" = 0 ] || reasons+=("leftover mounts could not be unmounted")
	[ "${st[debug_locks]:-1}" = 1 ] ||
		reasons+=("lockdep turned itself off (debug_locks=0): it found a problem")
	if [ "${st[kmemleak]:-0}" != 0 ]; then
		reasons+=("kmemleak: ${st[kmemleak]} unreferenced object(s):")
		sed 's/^/    /' "$run/kmemleak" | head -n 80
	fi
	[ "${st[rmmod]:-0}" = 0 ] || reasons+=("rmmod cppaufs failed")
fi

# Guest dmesg: the one it saved, else (crash) the console log.
dmesg_file=$run/dmesg
[ -s "$dmesg_file" ] || dmesg_file=$run/console.log
# Suspicious kernel messages.  Any of them, or any line naming cppaufs, fails
# the run unless it matches an ERE of tests/vm/dmesg-allow.ere (messages every
# run may print, like the out-of-tree taint) or of the test's expect file.
bad='(Oops|BUG:|WARNING:|Call Trace|general protection fault|Kernel panic'
bad+='|kernel BUG|unable to handle|possible recursive locking|circular locking'
bad+='|lock held when returning|inconsistent lock state|KASAN|UBSAN|kmemleak'
bad+='|Slab cache still has objects|Busy inodes after unmount|refcount_t:'
bad+='|list_(add|del) corruption|blocked for more than|ODEBUG:|cppaufs)'
allow=$run/allow.ere
cat "$REPO/tests/vm/dmesg-allow.ere" "$run/expect-dmesg" 2>/dev/null |
	grep -Ev '^[[:space:]]*(#|$)' >"$allow" || true
# Under -icount, qemu 7.2 now and then delivers a single-step debug trap
# to a guest kernel that never set the trap flag, and the kernel warns
# (exc_debug_kernel) from wherever it happened to be (seen in the slab
# allocator under 9p and overlayfs, and in insmod).  The module never
# touches the trap flag or debug registers: that warning is the
# emulator's.  It is left out of the judgement, from its "cut here" line
# to its "end trace" line, and the run says so.
if [ "$icount" -eq 1 ]; then
	judged=$run/dmesg.judged
	awk -v skipped="$run/db-artefacts" '
		/------------\[ cut here \]------------/ { blk = $0 "\n"; inb = 1; db = 0; next }
		inb && /WARNING: .* exc_debug_kernel/ { db = 1 }
		inb { blk = blk $0 "\n"
		      if (/---\[ end trace/) { if (db) { print blk > skipped } else { printf "%s", blk }; inb = 0 }
		      next }
		{ print }
		END { if (inb) printf "%s", blk }' "$dmesg_file" >"$judged"
	if [ -s "$run/db-artefacts" ]; then
		echo "vm-run: note: $(grep -c 'WARNING: .*exc_debug_kernel' "$run/db-artefacts") spurious kernel debug exception(s) under -icount (a qemu artefact) not judged:"
		grep -a 'WARNING:' "$run/db-artefacts" | sed 's/^/    /'
		dmesg_file=$judged
	fi
fi
flagged=$(grep -aE "$bad" "$dmesg_file" | grep -avE -f "$allow" || true)
if [ -n "$flagged" ]; then
	reasons+=("unexpected kernel messages (declare expected ones with expect_dmesg):")
fi

boot=${st[test_start]:-?}
summary="kernel=$kver test=$test_name (${elapsed}s, test started at guest uptime ${boot}s)"
if [ ${#reasons[@]} -eq 0 ]; then
	if [ "${st[test]:-0}" = 77 ]; then
		echo "vm-run: SKIP $summary"
		exit 77
	fi
	echo "vm-run: PASS $summary"
	exit 0
fi
# The verdict is printed before the dmesg and again after it: a log cut in
# the middle (a CI page showing only its head and tail) still says why.
verdict() {
	local r l
	for r in "${reasons[@]}"; do echo "vm-run: $r"; done
	[ -z "$flagged" ] || while IFS= read -r l; do echo "    $l"; done <<<"$flagged"
}
verdict
echo "---- guest dmesg ($dmesg_file) ----"
cat "$dmesg_file"
echo "---- end of guest dmesg ----"
verdict
echo "vm-run: FAIL $summary"
exit 1
