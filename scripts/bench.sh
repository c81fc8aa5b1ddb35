#!/bin/bash
# cppaufs benchmarks: boot the VM once per kernel and run every workload on
# the raw branch file system, overlayfs, cppaufs and the FUSE unions
# (fuse-overlayfs, unionfs-fuse, mergerfs, when installed), on tmpfs and on
# ext4 on a virtio disk.  Run by `make bench` (after modules-all and tools);
# see bench/README.md.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
	cat <<EOF
usage: ${0##*/} [--smoke|--quick|--full] [options]

  --smoke           one repetition of tiny workloads, tmpfs only (CI, ~2 min)
  --quick           scaled-down workloads, 5 repetitions (default, ~15 min)
  --full            the spec's sizes (10k files, 512 MiB, 1 GiB copy-up...);
                    hours under TCG
  --kernel KVER     kernel to boot (repeatable; default: the newest with a
                    built module)
  --systems LIST    comma-separated subset of raw,overlay,cppaufs,
                    cppaufs-reval,cppaufs-notify,fuse-overlayfs,
                    unionfs-fuse,mergerfs (cppaufs-reval, -notify: cppaufs
                    with udba=reval, udba=notify)
  --fs LIST         comma-separated subset of tmpfs,ext4
  --only LIST       comma-separated subset of the workload groups fs (1-6,
                    on each branch file system), branches (7, 8: branch
                    count and branch operations) and xino (10: churn and a
                    big tree)
  --out DIR         results directory (default: bench/results)
  --no-plot         do not draw the PNG plots
  --smp N           guest CPUs (default 2; 6.1 under -icount hangs while
                    bringing up its second CPU: use --smp 1 there)
  --no-icount       time with the host's clock instead of qemu's instruction
                    counter (faster, but the host's load shows in the numbers)
  -h, --help        this help

Writes DIR/SCALE-KVER.csv (metadata in '#' lines), DIR/SCALE-KVER.txt (the
table), DIR/SCALE-KVER-{ratios,scaling}.png and the guest's log
DIR/SCALE-KVER.log.
EOF
}

scale=quick kernels=() systems='' fses='' only='' out=$REPO/bench/results plot=1
icount=1 smp=2
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) scale=smoke; shift ;;
	--quick) scale=quick; shift ;;
	--full) scale=full; shift ;;
	--kernel) kernels+=("${2:?}"); shift 2 ;;
	--systems) systems=${2:?}; shift 2 ;;
	--fs) fses=${2:?}; shift 2 ;;
	--only) only=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--no-plot) plot=0; shift ;;
	--no-icount) icount=0; shift ;;
	--smp) smp=${2:?}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

moddir=${CPPAUFS_MODDIR:-$REPO/build/mod}
if [ ${#kernels[@]} -eq 0 ]; then
	k=$(ls -d "$moddir"/*/kmod/cppaufs.ko 2>/dev/null | sed "s|^$moddir/||; s|/kmod/cppaufs.ko$||" |
		sort -V | tail -n 1)
	[ -n "$k" ] || { echo "bench: no module built in $moddir (make modules-all)" >&2; exit 1; }
	kernels=("$k")
fi

case $scale in
smoke) mem=2048 disk=1G timeout=300 ;;
quick) mem=3072 disk=2G timeout=3600 ;;
full) mem=6144 disk=6G timeout=14400 ;;
esac

# The guest runs host binaries: build the timing program here, then run a
# private copy (a `make clean` elsewhere during a long run must not pull it
# from under the guest).  The guest cannot see the host's /tmp: the run
# directory lives in the results directory.
bdir=$REPO/build/bench
mkdir -p "$bdir" "$out"
out=$(cd "$out" && pwd -P)
case $out in
/tmp | /tmp/*)
	echo "bench: --out $out: the guest has a /tmp of its own and cannot see this one; choose a directory elsewhere" >&2
	exit 2 ;;
esac
cc=${CC:-gcc}
"$cc" -O2 -Wall -Wextra -o "$bdir/cbench" "$REPO/bench/cbench.c"
rundir=$(mktemp -d "$out/.run.XXXXXX")
trap 'rm -rf "$rundir"' EXIT
cp "$bdir/cbench" "$rundir/cbench"

# A python3 with matplotlib (a pyenv shim may hide Debian's).
py=''
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import matplotlib' 2>/dev/null; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	py=$(command -v python3 || true)
	[ "$plot" -eq 0 ] || echo "bench: no python3 with matplotlib: no plots (apt install python3-matplotlib)"
	plot=0
fi

host_cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
rc_all=0
for kver in "${kernels[@]}"; do
	base=$out/$scale-$kver
	log=$rundir/$scale-$kver.log
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	# The tree the module was built from: taken now, not after a long run.
	commit=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)
	echo "bench: $scale run on $kver"
	vmargs=(--kernel "$kver" --mem "$mem" --smp "$smp" --timeout "$timeout")
	# Guest time counted in instructions: see "How it is measured" in
	# bench/README.md.
	[ "$icount" -eq 0 ] || vmargs+=(--icount)
	# ext4 branches live on a virtio scratch disk (smoke: tmpfs only).
	if [ -n "$fses" ]; then
		[[ ,$fses, != *,ext4,* ]] || vmargs+=(--disk "bench:$disk")
	elif [ "$scale" != smoke ]; then
		vmargs+=(--disk "bench:$disk")
	fi
	set +e
	"$REPO/scripts/vm/run.sh" "${vmargs[@]}" -- "$REPO/bench/guest.sh" \
		"$scale" "$rundir/cbench" "${systems:-raw,overlay,cppaufs,cppaufs-reval,cppaufs-notify,fuse-overlayfs,unionfs-fuse,mergerfs}" \
		"$fses" "$only" 2>&1 | tee "$log" | grep --line-buffered -av '^@'
	vrc=${PIPESTATUS[0]}
	set -e
	load_after=$(cut -d' ' -f1-3 /proc/loadavg)
	{
		echo "# cppaufs benchmark ($scale) in a qemu TCG guest: times are relative, not absolute"
		echo "# started=$started"
		echo "# commit=$commit"
		echo "# host_cpu=$host_cpu"
		echo "# host_ncpu=$(nproc)"
		echo "# host_loadavg_before=$load_before"
		echo "# host_loadavg_after=$load_after"
		echo "# vm_mem_mib=$mem"
		echo "# vm_cpus=$smp"
		echo "# vm_clock=$([ "$icount" -eq 1 ] && echo 'icount (qemu -icount shift=0,sleep=on: 1 ns per guest instruction, real time while idle)' || echo host)"
		echo "# module_srcversion=$(modinfo -F srcversion "$moddir/$kver/kmod/cppaufs.ko" 2>/dev/null)"
		echo "# vm_verdict=$(grep -aoE 'vm-run: (PASS|FAIL|SKIP)' "$log" | tail -n 1 | cut -d' ' -f2)"
		grep -a '^vm-run: note: ' "$log" | sed 's/^vm-run: note: /# vm_note=/' | tr -d '\r' || true
		sed -n 's/^@meta /# /p' "$log" | tr -d '\r'
		echo "fs,system,workload,param,ops,median_ns,min_ns,max_ns,reps,status,note"
		sed -n 's/^@csv //p' "$log" | tr -d '\r'
	} >"$base.csv"
	if ! grep -q '^@end' "$log"; then
		echo "bench: the guest did not finish ($kver): partial results in ${base#"$REPO"/}.csv" >&2
		rc_all=1
	elif [ "$vrc" -ne 0 ]; then
		echo "bench: the VM run reported a failure ($kver, status $vrc); results kept" >&2
		rc_all=1
	fi
	# A run in which no workload was measured is a failure too.
	nok=$(sed -n 's/^@csv //p' "$log" | awk -F, '$10 == "ok"' | wc -l)
	if [ "$nok" -eq 0 ]; then
		echo "bench: no workload measured on $kver (see ${base#"$REPO"/}.log)" >&2
		rc_all=1
	fi
	cp "$log" "$base.log"
	pargs=("$base.csv" --table "$base.txt")
	[ "$plot" -eq 1 ] && pargs+=(--plot "$base")
	"$py" "$REPO/bench/report.py" "${pargs[@]}" || rc_all=1
done
exit "$rc_all"
