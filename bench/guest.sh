#!/bin/bash
# cppaufs benchmarks, guest side: run by scripts/bench.sh through the VM rig
# (scripts/vm/run.sh), as root in a throw-away VM with cppaufs.ko loaded.
#
#   bench/guest.sh SCALE CBENCH [SYSTEMS [FSES [GROUPS]]]
#
# SCALE is smoke, quick or full (sizes below); CBENCH is the host-built
# bench/cbench.c binary; SYSTEMS (comma-separated) restricts the systems,
# FSES (comma-separated: tmpfs,ext4) the branch file systems, GROUPS
# (comma-separated: fs,branches,xino; default all) the workload groups.
# Every workload runs on every system, on tmpfs and on ext4 (the virtio disk
# the rig exports as CPPAUFS_DISK_BENCH), in this one boot.
#
# Output: progress for humans, plus machine lines the host collects:
#   @meta KEY=VALUE
#   @csv fs,system,workload,param,ops,median_ns,min_ns,max_ns,reps,status,note
# status is ok, unsupported (the system refused an operation: EROFS,
# EOPNOTSUPP...), error or timeout; a failing workload never stops the run.
set -uo pipefail

SCALE=${1:?scale}
CB=${2:?cbench binary}
SYSTEMS=${3:-raw,overlay,cppaufs,cppaufs-reval,cppaufs-notify,fuse-overlayfs,unionfs-fuse,mergerfs}
FSES_ARG=${4:-}
GROUPS_ARG=${5:-fs,branches,xino}

# REPS: samples of each workload, taken in ROUNDS rounds: every round runs
# every system in turn (the first one changing from round to round), so that
# the slow and fast phases of a TCG guest, which last seconds to minutes,
# fall on every system alike instead of on whichever ran at that time.
# REPS_FUSE: samples for the FUSE unions, which are 10-100x slower under TCG
# (one in each of the first REPS_FUSE rounds); FUSE_FSES: the branch file
# systems they run on.
case $SCALE in
smoke)
	ROUNDS=1 REPS=1 REPS_FUSE=1 NSTAT=50 NRD=60 TREE_D=5 TREE_F=20 SEQ_MIB=2 NRAND=50
	CU1=1 CU2=2 NCWU=20 NREN=10 NSCALE=20
	BRANCHES="1 100" MOUNTS="1 100" FSES="tmpfs" FUSE_FSES="tmpfs"
	BROPS="2 100" NBROPS=3 NBROPS_M=2 NCHURN=200 RCHURN=2 BIG_D=5 BIG_F=100 ;;
quick)
	ROUNDS=5 REPS=5 REPS_FUSE=3 NSTAT=1000 NRD=1500 TREE_D=20 TREE_F=100 SEQ_MIB=64
	NRAND=2000 CU1=8 CU2=64 NCWU=300 NREN=100 NSCALE=500
	BRANCHES="1 10 100 500 1000" MOUNTS="1 100 1000" FSES="tmpfs ext4"
	FUSE_FSES="tmpfs" BROPS="2 100" NBROPS=20 NBROPS_M=10
	NCHURN=10000 RCHURN=3 BIG_D=20 BIG_F=1000 ;;
full)
	ROUNDS=5 REPS=5 REPS_FUSE=5 NSTAT=10000 NRD=10000 TREE_D=100 TREE_F=500 SEQ_MIB=512
	NRAND=20000 CU1=64 CU2=1024 NCWU=10000 NREN=1000 NSCALE=10000
	BRANCHES="1 10 100 500 1000" MOUNTS="1 100 1000" FSES="tmpfs ext4"
	FUSE_FSES="tmpfs ext4" BROPS="2 100" NBROPS=50 NBROPS_M=20
	NCHURN=100000 RCHURN=10 BIG_D=1000 BIG_F=1000 ;;
*) echo "guest.sh: unknown scale $SCALE" >&2; exit 2 ;;
esac
[ -n "$FSES_ARG" ] && FSES=${FSES_ARG//,/ }

# The rig's dmesg check fails the run on any line naming the module: the
# lines benchmarks are expected to cause are declared here.
expect() { [ -n "${CPPAUFS_EXPECT_DMESG:-}" ] && printf '%s\n' "$1" >>"$CPPAUFS_EXPECT_DMESG"; }

say() { printf '%s\n' "$*"; }
meta() { say "@meta $1=$2"; }
emit() { # fs sys workload param ops med min max reps status note
	local note=${11//,/;}
	say "@csv $1,$2,$3,$4,$5,$6,$7,$8,$9,${10},${note//$'\n'/ }"
}

has_sys() { [[ ,$SYSTEMS, == *,$1,* ]]; }
want() { [[ ,$GROUPS_ARG, == *,$1,* ]]; }

# -- metadata ---------------------------------------------------------------
meta scale "$SCALE"
meta reps "$REPS"
meta rounds "$ROUNDS"
meta reps_fuse "$REPS_FUSE"
meta fuse_fses "$FUSE_FSES"
meta kernel "$(uname -r)"
meta guest_cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
meta guest_ncpu "$(nproc)"
meta guest_mem_mib "$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)"
meta guest_loadavg_before "$(cut -d' ' -f1-3 /proc/loadavg)"
meta sizes "stat=$NSTAT readdir=$NRD tree=$((TREE_D * TREE_F)) seq_mib=$SEQ_MIB rand=$NRAND copyup_mib=$CU1/$CU2 cwu=$NCWU rename=$NREN scale_stats=$NSCALE branch_ops=$NBROPS churn=${NCHURN}x$RCHURN big_tree=$((BIG_D * BIG_F))"

modprobe fuse 2>/dev/null || true
if [ -x "${CPPAUFS_BUILD:-}/tools/mount.cppaufs" ]; then
	install -m 0755 "$CPPAUFS_BUILD/tools/mount.cppaufs" /sbin/mount.cppaufs
else
	say "bench: no mount.cppaufs in ${CPPAUFS_BUILD:-?}/tools: cppaufs mounts of many branches will fail"
fi
for s in fuse-overlayfs unionfs-fuse mergerfs; do
	if has_sys "$s" && ! command -v "$s" >/dev/null; then
		say "bench: $s is not installed: skipped"
		SYSTEMS=${SYSTEMS//$s/}
	fi
done
if has_sys fuse-overlayfs || has_sys unionfs-fuse || has_sys mergerfs; then
	[ -c /dev/fuse ] || say "bench: no /dev/fuse: the FUSE unions will fail to mount"
fi
meta systems "$SYSTEMS"
for s in fuse-overlayfs unionfs-fuse mergerfs; do
	has_sys "$s" && meta "version_$s" "$("$s" --version 2>&1 | grep -m1 -iE 'version|[0-9]+\.[0-9]+' | tr ',' ' ')"
done

# A workload that takes longer is reported as a timeout (unionfs-fuse's
# rename takes minutes under TCG).
WTIMEOUT=${BENCH_WORKLOAD_TIMEOUT:-$([ "$SCALE" = full ] && echo 600 || echo 120)}

# The sample store: the rounds add samples to one key per
# fs,system,workload,param; flush emits one @csv line per key, in the order
# the keys first appeared.  A key that failed once stays failed (its first
# error is the one reported) and is not run again.
SAMP=/tmp/bench-samples
rm -rf "$SAMP"
mkdir -p "$SAMP"
: >"$SAMP/order"
key_new() { [ -e "$SAMP/$1.st" ] || { printf '%s\n' "$1" >>"$SAMP/order"; echo ok >"$SAMP/$1.st"; }; }
failed() { [ -e "$SAMP/$1.st" ] && [ "$(cat "$SAMP/$1.st")" != ok ]; }
record_ok() { # KEY OPS NOTE SAMPLE...
	local k=$1 ops=$2 note=$3
	shift 3
	key_new "$k"
	failed "$k" && return 0
	printf '%s\n' "$@" >>"$SAMP/$k.s"
	printf '%s' "$ops" >"$SAMP/$k.ops"
	printf '%s' "$note" >"$SAMP/$k.note"
}
record_fail() { # KEY STATUS NOTE
	key_new "$1"
	failed "$1" && return 0
	echo "$2" >"$SAMP/$1.st"
	printf '%s' "$3" >"$SAMP/$1.note"
}
flush() {
	local k st med min max n
	while read -r k; do
		st=$(cat "$SAMP/$k.st")
		IFS=, read -r f s w p <<<"$k"
		if [ "$st" = ok ] && read -r med min max n < <(stats <"$SAMP/$k.s"); then
			emit "$f" "$s" "$w" "$p" "$(cat "$SAMP/$k.ops")" "$med" "$min" "$max" "$n" ok "$(cat "$SAMP/$k.note")"
		else
			emit "$f" "$s" "$w" "$p" 0 "" "" "" 0 "$st" "$(cat "$SAMP/$k.note" 2>/dev/null)"
		fi
	done <"$SAMP/order"
	rm -rf "$SAMP"
	mkdir -p "$SAMP"
	: >"$SAMP/order"
}

# run_cb FS SYS WORKLOAD PARAM CBENCH-ARGS...: one timed cbench run, its
# samples added to the store.
run_cb() {
	local fs=$1 sys=$2 wl=$3 param=$4 out rc med ops samples
	local k="$1,$2,$3,$4"
	shift 4
	failed "$k" && return 0
	out=$(timeout -k 5 "$WTIMEOUT" "$CB" "$@" 2>/tmp/cb.err)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		read -r med _ _ _ ops samples <<<"$out"
		# shellcheck disable=SC2086 # one argument per sample
		record_ok "$k" "$ops" "" $samples
		say "  $sys $wl $param: $(awk -v n="$med" 'BEGIN {printf "%.3f ms", n / 1e6}')"
	else
		local st=error
		[ "$rc" -eq 3 ] && st=unsupported
		[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && st=timeout
		record_fail "$k" "$st" "$(head -c 200 /tmp/cb.err)"
		say "  $sys $wl $param: $st $(head -c 200 /tmp/cb.err)"
	fi
	return 0
}

# Median, min, max and count of the samples (ns, one a line) on stdin.
stats() { sort -n | awk '{ v[NR] = $1 } END {
	if (!NR) exit 1
	m = NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)
	# %.0f: print would write a median over 2^31 as 4.8582e+09
	printf "%.0f %s %s %d\n", m, v[1], v[NR], NR }'; }

# -- the 3-branch layout ----------------------------------------------------
# $R/u (upper, rw), $R/l1, $R/l2 (lowers); $R/m the mount point.
#   s/f%05d          NSTAT files in l2; s/ exists in all three branches
#   rd/e%05d         NRD entries, entry i in branch i%3; raw/rd has them all
#   tree/dNNN/fNNNNN the find tree, in l2 (tree/ in all three)
#   big              SEQ_MIB MiB, in l2
#   c1, c2           CU1 and CU2 MiB, in l2 (copy-up, chmod)
#   rl/r%05d         NREN files in l2 (rename of lower files)
#   wr/              in u: create/unlink and rename of new files
populate() {
	local R=$1 b
	for b in u l1 l2; do mkdir -p "$R/$b/s" "$R/$b/rd" "$R/$b/tree"; done
	mkdir -p "$R/w" "$R/fw" "$R/m" "$R/raw/rd" "$R/rawcw" "$R/u/wr" "$R/l2/rl"
	"$CB" mkfiles "$R/l2/s/f%05d" 0 "$NSTAT"
	"$CB" mkfiles "$R/u/rd/e%05d" 0 "$NRD" 3 0
	"$CB" mkfiles "$R/l1/rd/e%05d" 0 "$NRD" 3 1
	"$CB" mkfiles "$R/l2/rd/e%05d" 0 "$NRD" 3 2
	"$CB" mkfiles "$R/raw/rd/e%05d" 0 "$NRD"
	"$CB" mktree "$R/l2/tree" "$TREE_D" "$TREE_F"
	"$CB" mkfile "$R/l2/big" "$SEQ_MIB"
	"$CB" mkfile "$R/l2/c1" "$CU1"
	"$CB" mkfile "$R/l2/c2" "$CU2"
	"$CB" mkfiles "$R/l2/rl/r%05d" 0 "$NREN"
	sync
}

# Remove what the write workloads of one system left in the upper branch and
# the work directories, so that every system and repetition starts alike.
reset_upper() {
	local R=$1
	rm -rf "$R/u/c1" "$R/u/c2" "$R/u/rl" "$R/u/big" "$R/u/.unionfs-fuse" \
		"$R/u/.unionfs" "$R"/u/.wh.* "$R/w" "$R/fw" "$R/rawrl" 2>/dev/null
	rm -rf "$R/u/wr" "$R/rawcw"
	mkdir -p "$R/u/wr" "$R/rawcw" "$R/w" "$R/fw"
}

MOUNT_ERR=''
# SYS_MOUNT=-i: mount(8) without helpers (mount(2) alone) for the unions
# the kernel mounts.
mount_sys() { # SYS R
	local sys=$1 R=$2 rc=0
	case $sys in
	raw) return 0 ;;
	overlay)
		mount ${SYS_MOUNT:-} -t overlay overlay -o "lowerdir=$R/l1:$R/l2,upperdir=$R/u,workdir=$R/w" "$R/m" ;;
	cppaufs)
		mount ${SYS_MOUNT:-} -t cppaufs -o "dirs=$R/u=rw:$R/l1=ro:$R/l2=ro,udba=none" none "$R/m" ;;
	cppaufs-reval)
		mount ${SYS_MOUNT:-} -t cppaufs -o "dirs=$R/u=rw:$R/l1=ro:$R/l2=ro,udba=reval" none "$R/m" ;;
	cppaufs-notify)
		mount ${SYS_MOUNT:-} -t cppaufs -o "dirs=$R/u=rw:$R/l1=ro:$R/l2=ro,udba=notify" none "$R/m" ;;
	fuse-overlayfs)
		fuse-overlayfs -o "lowerdir=$R/l1:$R/l2,upperdir=$R/u,workdir=$R/fw" "$R/m" ;;
	unionfs-fuse)
		unionfs-fuse -o cow "$R/u=RW:$R/l1=RO:$R/l2=RO" "$R/m" ;;
	mergerfs)
		mergerfs -o category.create=ff,cache.files=partial "$R/u=RW:$R/l1=RO:$R/l2=RO" "$R/m" ;;
	esac >/tmp/mount.err 2>&1 || rc=$?
	MOUNT_ERR=$(head -c 200 /tmp/mount.err)
	# FUSE daemons may return before the mount is visible.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		mountpoint -q "$R/m" && break
		sleep 0.2
	done
	[ "$rc" -eq 0 ] && mountpoint -q "$R/m"
}

umount_sys() { # SYS R
	[ "$1" = raw ] && return 0
	umount "$2/m" 2>/dev/null || { sleep 1; umount -l "$2/m"; }
	sleep 0.1
}

# Per-repetition workloads: each repetition mounts a fresh union over a clean
# upper branch, runs one operation, unmounts.
per_rep() { # FS SYS R WORKLOAD PARAM KIND ARG...
	local fs=$1 sys=$2 R=$3 wl=$4 param=$5 kind=$6 i out rc samples='' note='' st=ok
	local k="$1,$2,$4,$5"
	shift 6
	failed "$k" && return 0
	for ((i = 0; i < CREPS; i++)); do
		reset_upper "$R"
		if [ "$sys" = raw ] && [ "$kind" = renamelower ]; then
			mkdir -p "$R/rawrl"
			"$CB" mkfiles "$R/rawrl/r%05d" 0 "$NREN"
		fi
		if ! mount_sys "$sys" "$R"; then
			st=error note="mount: $MOUNT_ERR"
			break
		fi
		# A union must not change the lower file (mergerfs writes it in
		# place: that is no copy-up, and no figure to compare).
		local lower="$R/l2/${*##*/}" before=''
		[ "$sys" = raw ] || before=$(stat -c '%y %s %a' "$lower" 2>/dev/null)
		out=$(timeout -k 5 "$WTIMEOUT" "$CB" "$kind" "$@" 2>/tmp/cb.err)
		rc=$?
		if [ "$rc" -eq 0 ] && [ -n "$before" ] &&
			[ "$before" != "$(stat -c '%y %s %a' "$lower" 2>/dev/null)" ]; then
			echo "unsupported: changes the lower file in place (no copy-on-write)" >/tmp/cb.err
			rc=3
		fi
		if [ "$rc" -eq 0 ] && [ "$kind" = chmod ] && [ "$sys" != raw ]; then
			# Did the metadata change copy the data up?
			local up
			up=$("$CB" blocks "$R/u/${*##*/}" 2>/dev/null || echo 0)
			note="copied_bytes=$up"
		fi
		umount_sys "$sys" "$R"
		if [ "$rc" -ne 0 ]; then
			st=error
			[ "$rc" -eq 3 ] && st=unsupported
			[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && st=timeout
			note=$(head -c 200 /tmp/cb.err)
			break
		fi
		samples+="${out%% *}"$'\n'
	done
	reset_upper "$R"
	if [ "$st" = ok ]; then
		# shellcheck disable=SC2086 # one argument per sample
		record_ok "$k" 1 "$note" $samples
		say "  $sys $wl $param: $(printf '%s' "$samples" | awk '{printf "%.3f ", $1 / 1e6}')ms $note"
	else
		record_fail "$k" "$st" "$note"
		say "  $sys $wl $param: $st $note"
	fi
}

bench_system() { # FS SYS R ROUND
	# REPS: this round's share of the samples.  WREPS: the warm-cache
	# workloads take milliseconds and TCG makes single samples bimodal (a
	# read of 64 MiB takes 45 or 75 ms, whatever the system): three times
	# the samples for the kernel systems.  CREPS: the copy-up workloads,
	# one sample per mount: copying 8 MiB takes about 25 or about 45 ms,
	# on overlayfs as on cppaufs: three times the samples too.
	local fs=$1 sys=$2 R=$3 round=$4 M wl REPS=$(((REPS + ROUNDS - 1) / ROUNDS))
	local WREPS CREPS
	case $sys in
	fuse-overlayfs | unionfs-fuse | mergerfs)
		[[ " $FUSE_FSES " == *" $fs "* ]] || { [ "$round" -gt 0 ] || say "-- $fs / $sys: skipped (FUSE on $FUSE_FSES only at this scale)"; return 0; }
		[ "$round" -lt "$REPS_FUSE" ] || return 0
		REPS=1 WREPS=1 CREPS=1 ;;
	*) WREPS=$((REPS * 3)) CREPS=$((REPS * 3)) ;;
	esac
	M=$R/m
	[ "$sys" = raw ] && M=$R/l2
	say "-- $fs / $sys (round $((round + 1)) of $ROUNDS)"
	reset_upper "$R"
	if ! mount_sys "$sys" "$R"; then
		say "  $sys: mount failed: $MOUNT_ERR"
		for wl in stat_cold,$NSTAT stat_warm,$NSTAT neg_lookup,$NSTAT \
			readdir_cold,$NRD readdir_warm,$NRD find,$((TREE_D * TREE_F)) \
			seqread,${SEQ_MIB}MiB randread,$NRAND cwu,$NCWU rename,$NREN \
			copyup_small,${CU1}MiB copyup_large,${CU2}MiB \
			chmod_large,${CU2}MiB rename_lower,$NREN; do
			record_fail "$fs,$sys,$wl" error "mount: $MOUNT_ERR"
		done
		return 0
	fi
	local rd=$M/rd cw=$M/wr
	[ "$sys" = raw ] && rd=$R/raw/rd cw=$R/rawcw
	# 1. stat of files in the bottom branch, cold then warm
	run_cb "$fs" "$sys" stat_cold "$NSTAT" -r "$REPS" -c stat "$M/s/f%05d" "$NSTAT"
	"$CB" stat "$M/s/f%05d" "$NSTAT" >/dev/null
	run_cb "$fs" "$sys" stat_warm "$NSTAT" -r "$WREPS" stat "$M/s/f%05d" "$NSTAT"
	# 2. negative lookups
	"$CB" neg "$M/s/n%05d" "$NSTAT" >/dev/null
	run_cb "$fs" "$sys" neg_lookup "$NSTAT" -r "$WREPS" neg "$M/s/n%05d" "$NSTAT"
	# 3. merged readdir, find
	run_cb "$fs" "$sys" readdir_cold "$NRD" -r "$REPS" -c readdir "$rd"
	"$CB" readdir "$rd" >/dev/null
	run_cb "$fs" "$sys" readdir_warm "$NRD" -r "$WREPS" readdir "$rd"
	"$CB" find "$M/tree" >/dev/null
	run_cb "$fs" "$sys" find "$((TREE_D * TREE_F))" -r "$WREPS" find "$M/tree"
	# 4. reads (page cache warm: the union's own overhead)
	if [ "$sys" != cppaufs-reval ] && [ "$sys" != cppaufs-notify ]; then
		"$CB" seqread "$M/big" >/dev/null
		run_cb "$fs" "$sys" seqread "${SEQ_MIB}MiB" -r "$WREPS" seqread "$M/big"
		run_cb "$fs" "$sys" randread "$NRAND" -r "$WREPS" randread "$M/big" "$NRAND"
	fi
	# 6. create + write 4 KiB + unlink, rename of new files
	run_cb "$fs" "$sys" cwu "$NCWU" -r "$REPS" cwu "$cw" "$NCWU"
	run_cb "$fs" "$sys" rename "$NREN" -r "$REPS" rename "$cw" "$NREN"
	umount_sys "$sys" "$R"
	# udba=reval|notify change lookups only: the copy-up workloads, which
	# take most of a round, are the same code as udba=none's
	[ "$sys" != cppaufs-reval ] && [ "$sys" != cppaufs-notify ] || return 0
	# 5. copy-up on first write, chmod of a large lower file; rename of
	#    lower files: a fresh union every repetition
	"$CB" seqread "$R/l2/c1" >/dev/null
	"$CB" seqread "$R/l2/c2" >/dev/null
	per_rep "$fs" "$sys" "$R" copyup_small "${CU1}MiB" write1 "$M/c1"
	per_rep "$fs" "$sys" "$R" copyup_large "${CU2}MiB" write1 "$M/c2"
	per_rep "$fs" "$sys" "$R" chmod_large "${CU2}MiB" chmod "$M/c2"
	local rl="$M/rl/r%05d"
	[ "$sys" = raw ] && rl="$R/rawrl/r%05d"
	per_rep "$fs" "$sys" "$R" rename_lower "$NREN" renamelower "$rl" "$NREN"
}

# rotate N WORD...: the words, starting from the (N mod count)th.
rotate() {
	local r=$1
	shift
	local a=("$@") i
	for ((i = 0; i < $#; i++)); do printf '%s ' "${a[(i + r) % $#]}"; done
}

# -- 1..6 on each branch file system -----------------------------------------
want fs || FSES=''
for fs in $FSES; do
	R=/bench/$fs
	mkdir -p "$R"
	case $fs in
	tmpfs)
		mount -t tmpfs -o size=90% tmpfs "$R" ;;
	ext4)
		dev=${CPPAUFS_DISK_BENCH:-}
		if [ -z "$dev" ] || [ ! -b "$dev" ]; then
			say "bench: no scratch disk (--disk bench:SIZE): ext4 skipped"
			continue
		fi
		modprobe ext4 2>/dev/null || true
		mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$dev" &&
			mount -t ext4 "$dev" "$R" || { say "bench: ext4 set-up failed"; continue; }
		;;
	*) say "bench: unknown branch file system $fs: skipped"; continue ;;
	esac
	say "== $fs: populating"
	t0=$EPOCHREALTIME
	populate "$R"
	say "   ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}') s)"
	for ((round = 0; round < ROUNDS; round++)); do
		# shellcheck disable=SC2086 # one word per system
		for sys in $(rotate "$round" ${SYSTEMS//,/ }); do
			bench_system "$fs" "$sys" "$R" "$round"
		done
	done
	flush
	umount "$R" || umount -l "$R"
done

# -- 7, 8: branch-count scaling and mount time (tmpfs) -----------------------
if want branches && { has_sys overlay || has_sys cppaufs || has_sys cppaufs-reval ||
	has_sys cppaufs-notify; }; then
	say "== branch-count scaling"
	B=/b MOUNT_I=''
	mkdir -p $B
	mount -t tmpfs -o size=64m tmpfs $B
	max=1
	for n in $BRANCHES $MOUNTS; do [ "$n" -gt "$max" ] && max=$n; done
	# one mkdir: a thousand fork+execs cost minutes under TCG
	(cd $B && mkdir $(seq 1 "$max"))
	mkdir -p $B/m $B/e
	: >$B/1/top
	for n in $BRANCHES; do : >"$B/$n/b$n"; done
	dirs_of() { local i s=$B/1; for ((i = 2; i <= $1; i++)); do s+=:$B/$i; done; printf '%s' "$s"; }
	# overlayfs: read-only, every branch a lower layer (at most 500; with one
	# branch, an empty second layer, as a read-only overlay needs two);
	# cppaufs: the first branch rw (its default), the others ro.
	mount_n() { # SYS N
		case $1 in
		overlay)
			[ "$2" -le 500 ] || { MOUNT_ERR="overlayfs takes at most 500 lower layers"; return 3; }
			# a read-only overlay needs two layers: add an empty one
			local l; l=$(dirs_of "$2"); [ "$2" -gt 1 ] || l+=:$B/e
			mount $MOUNT_I -t overlay overlay -o "lowerdir=$l" $B/m ;;
		cppaufs)
			mount $MOUNT_I -t cppaufs -o "dirs=$(dirs_of "$2"),udba=none" none $B/m ;;
		cppaufs-reval)
			mount $MOUNT_I -t cppaufs -o "dirs=$(dirs_of "$2"),udba=reval" none $B/m ;;
		cppaufs-notify)
			mount $MOUNT_I -t cppaufs -o "dirs=$(dirs_of "$2"),udba=notify" none $B/m ;;
		esac >/tmp/mount.err 2>&1 || { MOUNT_ERR=$(head -c 200 /tmp/mount.err); return 1; }
	}
	SREPS=$(((REPS + ROUNDS - 1) / ROUNDS))
	for ((round = 0; round < ROUNDS; round++)); do
		say "-- round $((round + 1)) of $ROUNDS"
		for n in $BRANCHES; do
			for sys in $(rotate "$round" raw overlay cppaufs cppaufs-reval cppaufs-notify); do
				has_sys "$sys" || continue
				if [ "$sys" = raw ]; then
					run_cb tmpfs raw scale_top "$n" -r "$SREPS" stat "$B/1/top" "$NSCALE"
					run_cb tmpfs raw scale_bottom "$n" -r "$SREPS" stat "$B/$n/b$n" "$NSCALE"
					continue
				fi
				failed "tmpfs,$sys,scale_top,$n" && continue
				rc=0
				mount_n "$sys" "$n" || rc=$?
				if [ "$rc" -ne 0 ]; then
					st=error
					[ "$rc" -eq 3 ] && st=unsupported
					for wl in scale_top scale_bottom scale_bottom_cold; do
						record_fail "tmpfs,$sys,$wl,$n" "$st" "$MOUNT_ERR"
					done
					say "  $sys $n branches: $st $MOUNT_ERR"
					continue
				fi
				"$CB" stat "$B/m/top" 1 >/dev/null
				"$CB" stat "$B/m/b$n" 1 >/dev/null
				run_cb tmpfs "$sys" scale_top "$n" -r "$SREPS" stat "$B/m/top" "$NSCALE"
				run_cb tmpfs "$sys" scale_bottom "$n" -r "$SREPS" stat "$B/m/b$n" "$NSCALE"
				# cold: the first lookup after the union's dentries
				# are dropped
				run_cb tmpfs "$sys" scale_bottom_cold "$n" -r "$SREPS" -c stat "$B/m/b$n" 1
				umount $B/m
			done
		done
	done
	flush

	say "== mount + umount time"
	# mount(8), which runs mount.cppaufs, and mount -i, which calls mount(2)
	# directly: the kernel's share (up to the one page mount(2) takes).
	# One sample of each in turn, REPS times over.
	for ((i = 0; i < REPS; i++)); do
		for n in $MOUNTS ${MOUNTS// /i }i; do
			MOUNT_I='' mwl=mount uwl=umount how="mount(8)"
			if [ "${n%i}" != "$n" ]; then
				n=${n%i} MOUNT_I=-i mwl=mount_kernel uwl='' how="mount -i"
				[ "${#n}" -le 3 ] || continue
			fi
			for sys in $(rotate "$i" overlay cppaufs); do
				has_sys "$sys" || continue
				failed "tmpfs,$sys,$mwl,$n" && continue
				t0=$EPOCHREALTIME
				rc=0
				mount_n "$sys" "$n" || rc=$?
				t1=$EPOCHREALTIME
				if [ "$rc" -ne 0 ]; then
					st=error
					[ "$rc" -eq 3 ] && st=unsupported
					record_fail "tmpfs,$sys,$mwl,$n" "$st" "$MOUNT_ERR"
					[ -z "$uwl" ] || record_fail "tmpfs,$sys,$uwl,$n" "$st" "$MOUNT_ERR"
					say "  $sys $mwl $n: $st $MOUNT_ERR"
					continue
				fi
				umount $B/m
				t2=$EPOCHREALTIME
				ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%d", (b - a) * 1e9}')
				us=$(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%d", (b - a) * 1e9}')
				record_ok "tmpfs,$sys,$mwl,$n" 1 "$how" "$ms"
				[ -z "$uwl" ] || record_ok "tmpfs,$sys,$uwl,$n" 1 "umount(8)" "$us"
				say "  $sys $mwl $n: $(awk -v n="$ms" 'BEGIN {printf "%.3f ms", n / 1e6}')"
			done
		done
	done
	flush

	# 9. live branch operations (cppaufs): a remount that appends a branch
	# and one that removes it again, on a union of N branches, and the
	# first stat through the union after each (see cbench brops).  cbench
	# times mount(2) itself, NBROPS cycles a sample; mount(8), which runs
	# mount.cppaufs (fspick + fsconfig), is timed here, one sample per
	# operation, NBROPS_M of each.
	if has_sys cppaufs; then
		say "== live branch operations"
		mkdir -p $B/x
		: >$B/x/xnew
		for ((i = 0; i < REPS; i++)); do
			for n in $BROPS; do
				failed "tmpfs,cppaufs,br_append_kernel,$n" && continue
				MOUNT_I=''
				if ! mount_n cppaufs "$n"; then
					for wl in br_append_kernel br_del_kernel br_append br_del; do
						record_fail "tmpfs,cppaufs,$wl,$n" error "$MOUNT_ERR"
					done
					say "  cppaufs $n branches: error $MOUNT_ERR"
					continue
				fi
				out=$(timeout -k 5 "$WTIMEOUT" "$CB" brops $B/m $B/x "$NBROPS" top xnew 2>/tmp/cb.err)
				rc=$?
				if [ "$rc" -ne 0 ]; then
					for wl in append stat_append stat_new stat_warm del stat_del; do
						record_fail "tmpfs,cppaufs,br_$wl,$n" error "$(head -c 200 /tmp/cb.err)"
					done
					say "  cppaufs brops $n: error $(head -c 200 /tmp/cb.err)"
				else
					while read -r step med _ _ _ ops samples; do
						wl=br_$step
						[ "$step" = append ] || [ "$step" = del ] && wl+=_kernel
						# shellcheck disable=SC2086 # one argument per sample
						record_ok "tmpfs,cppaufs,$wl,$n" "$ops" "" $samples
						say "  cppaufs $wl $n: $(awk -v n="$med" -v o="$ops" 'BEGIN {printf "%.1f us an operation", n / o / 1e3}')"
					done <<<"$out"
				fi
				# mount(8): the first round only (a process each)
				if [ "$i" -eq 0 ] && ! failed "tmpfs,cppaufs,br_append,$n"; then
					ta='' td='' st=ok
					for ((j = 0; j < NBROPS_M; j++)); do
						t0=$EPOCHREALTIME
						mount -o "remount,append:$B/x=ro" $B/m >/tmp/mount.err 2>&1 || { st=error; break; }
						t1=$EPOCHREALTIME
						mount -o "remount,del:$B/x" $B/m >/tmp/mount.err 2>&1 || { st=error; break; }
						t2=$EPOCHREALTIME
						ta+=" $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%d", (b - a) * 1e9}')"
						td+=" $(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%d", (b - a) * 1e9}')"
					done
					if [ "$st" = ok ]; then
						# shellcheck disable=SC2086 # one argument per sample
						record_ok "tmpfs,cppaufs,br_append,$n" 1 "mount(8)" $ta
						# shellcheck disable=SC2086
						record_ok "tmpfs,cppaufs,br_del,$n" 1 "mount(8)" $td
						say "  cppaufs br_append / br_del $n (mount(8)):$ta /$td ns"
					else
						record_fail "tmpfs,cppaufs,br_append,$n" error "$(head -c 200 /tmp/mount.err)"
						record_fail "tmpfs,cppaufs,br_del,$n" error "$(head -c 200 /tmp/mount.err)"
						say "  cppaufs br_append $n (mount(8)): error $(head -c 200 /tmp/mount.err)"
					fi
				fi
				umount $B/m
			done
		done
		flush
	fi
	umount $B
fi

# -- 10. xino on a long-lived union (tmpfs) ------------------------------------
# churn: NCHURN files created, stat-ed and removed through the union,
# RCHURN rounds on one mount; after each round the slab (dentries and
# inodes dropped first: what is left is what nobody can reclaim) and
# cppaufs's xino file.  Big tree: BIG_D x BIG_F files on a lower branch,
# walked once with find; then, after drop_caches, the slab against before
# the walk, and mount + the first stat of one file, with the xino file the
# walk filled.
slab_kib() {
	sync
	echo 2 >/proc/sys/vm/drop_caches
	awk '/^Slab:/ {print $2}' /proc/meminfo
}
xino_kib() { # R: cppaufs's default xino file, in its writable branch
	echo $(($(stat -c %s "$1/u/.aufs.xino" 2>/dev/null || echo 0) / 1024))
}
set_note() { # KEY NOTE: of a workload that ran
	[ "$(cat "$SAMP/$1.st" 2>/dev/null)" = ok ] && printf '%s' "$2" >"$SAMP/$1.note"
	return 0
}
if want xino && { has_sys overlay || has_sys cppaufs; }; then
	say "== xino: churn and a big tree (tmpfs)"
	X=/xb
	mkdir -p $X
	# nr_inodes=0: tmpfs's default allows fewer inodes than the big tree
	mount -t tmpfs -o size=90%,nr_inodes=0 tmpfs $X
	for sys in $(rotate 0 raw overlay cppaufs); do
		has_sys "$sys" || continue
		rm -rf "${X:?}"/*
		mkdir -p $X/u/c $X/l1 $X/l2 $X/w $X/m
		d=$X/u/c
		if [ "$sys" != raw ]; then
			if ! mount_sys "$sys" $X; then
				record_fail "tmpfs,$sys,churn,$NCHURN" error "mount: $MOUNT_ERR"
				say "  $sys churn: mount failed: $MOUNT_ERR"
				continue
			fi
			d=$X/m/c
		fi
		s0=$(slab_kib) slabs='' sizes=''
		for ((r = 0; r < RCHURN; r++)); do
			run_cb tmpfs "$sys" churn "$NCHURN" -r 1 churn "$d" "$NCHURN"
			# slab_kib syncs: the xino file has its records then
			slabs+=" $(($(slab_kib) - s0))"
			[ "$sys" != cppaufs ] || sizes+=" $(xino_kib $X)"
		done
		note="slab KiB over the start after each round:$slabs"
		[ -z "$sizes" ] || note="xino KiB:$sizes; $note"
		set_note "tmpfs,$sys,churn,$NCHURN" "$note"
		say "  $sys churn: $note"
		[ "$sys" = raw ] || umount_sys "$sys" $X
	done
	flush

	NBIG=$((BIG_D * BIG_F))
	for sys in overlay cppaufs; do
		has_sys "$sys" || continue
		rm -rf "${X:?}"/*
		mkdir -p $X/u $X/l1 $X/l2 $X/w $X/m
		"$CB" mktree $X/l2/tree "$BIG_D" "$BIG_F"
		m0=$(slab_kib)
		if ! mount_sys "$sys" $X; then
			record_fail "tmpfs,$sys,bigtree_find,$NBIG" error "mount: $MOUNT_ERR"
			record_fail "tmpfs,$sys,bigtree_mount_stat,$NBIG" error "mount: $MOUNT_ERR"
			say "  $sys big tree: mount failed: $MOUNT_ERR"
			continue
		fi
		run_cb tmpfs "$sys" bigtree_find "$NBIG" -r 1 find $X/m/tree
		umount_sys "$sys" $X
		sync
		echo 3 >/proc/sys/vm/drop_caches
		m1=$(slab_kib)
		note="slab after the walk and drop_caches: $((m1 - m0)) KiB over before ($(awk -v a="$m0" -v b="$m1" 'BEGIN {printf "%+.1f", (b - a) * 100 / a}') %)"
		[ "$sys" != cppaufs ] || note+="; xino $(xino_kib $X) KiB"
		# mount(8) as users run it (for cppaufs, the mount.cppaufs helper
		# too, read from a cold page cache), then mount -i: mount(2)
		# alone, the kernel's share
		for how in helper kernel; do
			wl=bigtree_mount_stat SYS_MOUNT=''
			[ "$how" = helper ] || wl=bigtree_mnt_kernel SYS_MOUNT=-i
			samples='' st=ok
			for ((i = 0; i < REPS; i++)); do
				sync
				echo 3 >/proc/sys/vm/drop_caches
				t0=$EPOCHREALTIME
				if ! mount_sys "$sys" $X; then
					st="mount: $MOUNT_ERR"
					break
				fi
				stat $X/m/tree/d000/f00000 >/dev/null || st="stat failed"
				t1=$EPOCHREALTIME
				umount_sys "$sys" $X
				[ "$st" = ok ] || break
				samples+=" $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%d", (b - a) * 1e9}')"
			done
			if [ "$st" = ok ]; then
				# shellcheck disable=SC2086 # one argument per sample
				record_ok "tmpfs,$sys,$wl,$NBIG" 1 "$note" $samples
			else
				record_fail "tmpfs,$sys,$wl,$NBIG" error "$st"
			fi
			say "  $sys big tree: mount + first stat ($how):$samples ns"
		done
		SYS_MOUNT=''
		set_note "tmpfs,$sys,bigtree_find,$NBIG" "$note"
		say "  $sys big tree: $note"
	done
	flush
	umount $X
fi

meta guest_loadavg_after "$(cut -d' ' -f1-3 /proc/loadavg)"
say "@end"
exit 0
