#!/bin/bash
# cppaufs benchmarks, guest side: run by scripts/bench.sh through the VM rig
# (scripts/vm/run.sh), as root in a throw-away VM with cppaufs.ko loaded.
#
#   bench/guest.sh SCALE CBENCH [SYSTEMS [FSES]]
#
# SCALE is smoke, quick or full (sizes below); CBENCH is the host-built
# bench/cbench.c binary; SYSTEMS (comma-separated) restricts the systems,
# FSES (comma-separated: tmpfs,ext4) the branch file systems.
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
SYSTEMS=${3:-raw,overlay,cppaufs,fuse-overlayfs,unionfs-fuse,mergerfs}
FSES_ARG=${4:-}

# REPS_FUSE: repetitions for the FUSE unions, which are 10-100x slower under
# TCG; FUSE_FSES: the branch file systems they run on.
case $SCALE in
smoke)
	REPS=1 REPS_FUSE=1 NSTAT=50 NRD=60 TREE_D=5 TREE_F=20 SEQ_MIB=2 NRAND=50
	CU1=1 CU2=2 NCWU=20 NREN=10 NSCALE=20
	BRANCHES="1 100" MOUNTS="1 100" FSES="tmpfs" FUSE_FSES="tmpfs" ;;
quick)
	REPS=5 REPS_FUSE=3 NSTAT=1000 NRD=1500 TREE_D=20 TREE_F=100 SEQ_MIB=64
	NRAND=2000 CU1=8 CU2=64 NCWU=300 NREN=100 NSCALE=500
	BRANCHES="1 10 100 500 1000" MOUNTS="1 100 1000" FSES="tmpfs ext4"
	FUSE_FSES="tmpfs" ;;
full)
	REPS=5 REPS_FUSE=5 NSTAT=10000 NRD=10000 TREE_D=100 TREE_F=500 SEQ_MIB=512
	NRAND=20000 CU1=64 CU2=1024 NCWU=10000 NREN=1000 NSCALE=10000
	BRANCHES="1 10 100 500 1000" MOUNTS="1 100 1000" FSES="tmpfs ext4"
	FUSE_FSES="tmpfs ext4" ;;
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

# -- metadata ---------------------------------------------------------------
meta scale "$SCALE"
meta reps "$REPS"
meta reps_fuse "$REPS_FUSE"
meta fuse_fses "$FUSE_FSES"
meta kernel "$(uname -r)"
meta guest_cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
meta guest_ncpu "$(nproc)"
meta guest_mem_mib "$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)"
meta guest_loadavg_before "$(cut -d' ' -f1-3 /proc/loadavg)"
meta sizes "stat=$NSTAT readdir=$NRD tree=$((TREE_D * TREE_F)) seq_mib=$SEQ_MIB rand=$NRAND copyup_mib=$CU1/$CU2 cwu=$NCWU rename=$NREN scale_stats=$NSCALE"

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

# run_cb FS SYS WORKLOAD PARAM CBENCH-ARGS...: one timed cbench run.
run_cb() {
	local fs=$1 sys=$2 wl=$3 param=$4 out rc med min max reps ops
	shift 4
	out=$(timeout -k 5 "$WTIMEOUT" "$CB" "$@" 2>/tmp/cb.err)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		read -r med min max reps ops <<<"$out"
		emit "$fs" "$sys" "$wl" "$param" "$ops" "$med" "$min" "$max" "$reps" ok ""
		say "  $sys $wl $param: $(awk -v n="$med" 'BEGIN {printf "%.3f ms", n / 1e6}')"
	else
		local st=error
		[ "$rc" -eq 3 ] && st=unsupported
		[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && st=timeout
		emit "$fs" "$sys" "$wl" "$param" 0 "" "" "" 0 "$st" "$(head -c 200 /tmp/cb.err)"
		say "  $sys $wl $param: $st $(head -c 200 /tmp/cb.err)"
	fi
	return 0
}

# Medians of samples (ns) given one a line on stdin: "med min max n".
stats() { sort -n | awk '{ v[NR] = $1 } END {
	if (!NR) exit 1
	m = NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)
	print m, v[1], v[NR], NR }'; }

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
mount_sys() { # SYS R
	local sys=$1 R=$2 rc=0
	case $sys in
	raw) return 0 ;;
	overlay)
		mount -t overlay overlay -o "lowerdir=$R/l1:$R/l2,upperdir=$R/u,workdir=$R/w" "$R/m" ;;
	cppaufs)
		mount -t cppaufs -o "dirs=$R/u=rw:$R/l1=ro:$R/l2=ro" none "$R/m" ;;
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
	shift 6
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
		local med min max n
		read -r med min max n < <(printf '%s' "$samples" | stats)
		emit "$fs" "$sys" "$wl" "$param" 1 "$med" "$min" "$max" "$n" ok "$note"
		say "  $sys $wl $param: $(awk -v n="$med" 'BEGIN {printf "%.3f ms", n / 1e6}') $note"
	else
		emit "$fs" "$sys" "$wl" "$param" 0 "" "" "" 0 "$st" "$note"
		say "  $sys $wl $param: $st $note"
	fi
}

bench_system() { # FS SYS R
	# WREPS: the warm-cache workloads take milliseconds and TCG makes
	# single samples bimodal (a read of 64 MiB takes 45 or 75 ms, whatever
	# the system): three times the repetitions for the kernel systems.
	# CREPS: the copy-up workloads, one sample per mount: copying 8 MiB
	# takes about 25 or about 45 ms, on overlayfs as on cppaufs.
	local fs=$1 sys=$2 R=$3 M wl REPS=$REPS WREPS=$((REPS * 3)) CREPS=$((REPS * 3))
	case $sys in
	fuse-overlayfs | unionfs-fuse | mergerfs)
		[[ " $FUSE_FSES " == *" $fs "* ]] || { say "-- $fs / $sys: skipped (FUSE on $FUSE_FSES only at this scale)"; return 0; }
		REPS=$REPS_FUSE WREPS=$REPS_FUSE CREPS=$REPS_FUSE ;;
	esac
	M=$R/m
	[ "$sys" = raw ] && M=$R/l2
	say "-- $fs / $sys"
	reset_upper "$R"
	if ! mount_sys "$sys" "$R"; then
		say "  $sys: mount failed: $MOUNT_ERR"
		for wl in stat_cold stat_warm neg_lookup readdir_cold readdir_warm find seqread randread cwu rename copyup_small copyup_large chmod_large rename_lower; do
			emit "$fs" "$sys" "$wl" "" 0 "" "" "" 0 error "mount: $MOUNT_ERR"
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
	"$CB" seqread "$M/big" >/dev/null
	run_cb "$fs" "$sys" seqread "${SEQ_MIB}MiB" -r "$WREPS" seqread "$M/big"
	run_cb "$fs" "$sys" randread "$NRAND" -r "$WREPS" randread "$M/big" "$NRAND"
	# 6. create + write 4 KiB + unlink, rename of new files
	run_cb "$fs" "$sys" cwu "$NCWU" -r "$REPS" cwu "$cw" "$NCWU"
	run_cb "$fs" "$sys" rename "$NREN" -r "$REPS" rename "$cw" "$NREN"
	umount_sys "$sys" "$R"
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

# -- 1..6 on each branch file system -----------------------------------------
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
	for sys in ${SYSTEMS//,/ }; do
		bench_system "$fs" "$sys" "$R"
	done
	umount "$R" || umount -l "$R"
done

# -- 7, 8: branch-count scaling and mount time (tmpfs) -----------------------
if has_sys overlay || has_sys cppaufs; then
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
			mount $MOUNT_I -t cppaufs -o "dirs=$(dirs_of "$2")" none $B/m ;;
		esac >/tmp/mount.err 2>&1 || { MOUNT_ERR=$(head -c 200 /tmp/mount.err); return 1; }
	}
	for n in $BRANCHES; do
		for sys in raw overlay cppaufs; do
			has_sys "$sys" || continue
			if [ "$sys" = raw ]; then
				run_cb tmpfs raw scale_top "$n" -r "$REPS" stat "$B/1/top" "$NSCALE"
				run_cb tmpfs raw scale_bottom "$n" -r "$REPS" stat "$B/$n/b$n" "$NSCALE"
				continue
			fi
			rc=0
			mount_n "$sys" "$n" || rc=$?
			if [ "$rc" -ne 0 ]; then
				st=error
				[ "$rc" -eq 3 ] && st=unsupported
				emit tmpfs "$sys" scale_top "$n" 0 "" "" "" 0 "$st" "$MOUNT_ERR"
				emit tmpfs "$sys" scale_bottom "$n" 0 "" "" "" 0 "$st" "$MOUNT_ERR"
				say "  $sys $n branches: $st $MOUNT_ERR"
				continue
			fi
			"$CB" stat "$B/m/top" 1 >/dev/null
			"$CB" stat "$B/m/b$n" 1 >/dev/null
			run_cb tmpfs "$sys" scale_top "$n" -r "$REPS" stat "$B/m/top" "$NSCALE"
			run_cb tmpfs "$sys" scale_bottom "$n" -r "$REPS" stat "$B/m/b$n" "$NSCALE"
			# cold: the first lookup after the union's dentries are dropped
			run_cb tmpfs "$sys" scale_bottom_cold "$n" -r "$REPS" -c stat "$B/m/b$n" 1
			umount $B/m
		done
	done

	say "== mount + umount time"
	# mount(8), which runs mount.cppaufs, and mount -i, which calls mount(2)
	# directly: the kernel's share (up to the one page mount(2) takes).
	for n in $MOUNTS ${MOUNTS// /i }i; do
		MOUNT_I='' mwl=mount uwl=umount how="mount(8)"
		if [ "${n%i}" != "$n" ]; then
			n=${n%i} MOUNT_I=-i mwl=mount_kernel uwl='' how="mount -i"
			[ "${#n}" -le 3 ] || continue
		fi
		for sys in overlay cppaufs; do
			has_sys "$sys" || continue
			ms='' us='' st=ok
			for ((i = 0; i < REPS; i++)); do
				t0=$EPOCHREALTIME
				rc=0
				mount_n "$sys" "$n" || rc=$?
				t1=$EPOCHREALTIME
				if [ "$rc" -ne 0 ]; then
					st=error
					[ "$rc" -eq 3 ] && st=unsupported
					break
				fi
				umount $B/m
				t2=$EPOCHREALTIME
				ms+=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%d", (b - a) * 1e9}')$'\n'
				us+=$(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%d", (b - a) * 1e9}')$'\n'
			done
			if [ "$st" = ok ]; then
				read -r med min max c < <(printf '%s' "$ms" | stats)
				emit tmpfs "$sys" "$mwl" "$n" 1 "$med" "$min" "$max" "$c" ok "$how"
				say "  $sys $mwl $n: $(awk -v n="$med" 'BEGIN {printf "%.3f ms", n / 1e6}')"
				read -r med min max c < <(printf '%s' "$us" | stats)
				[ -z "$uwl" ] || emit tmpfs "$sys" "$uwl" "$n" 1 "$med" "$min" "$max" "$c" ok "umount(8)"
			else
				emit tmpfs "$sys" "$mwl" "$n" 0 "" "" "" 0 "$st" "$MOUNT_ERR"
				[ -z "$uwl" ] || emit tmpfs "$sys" "$uwl" "$n" 0 "" "" "" 0 "$st" "$MOUNT_ERR"
				say "  $sys $mwl $n: $st $MOUNT_ERR"
			fi
		done
	done
	umount $B
fi

meta guest_loadavg_after "$(cut -d' ' -f1-3 /proc/loadavg)"
say "@end"
exit 0
