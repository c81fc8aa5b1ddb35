#!/bin/bash
# xino: union inode numbers stay the same across drop_caches and across
# umount + mount with the same xino file (and with a copy of it taken while
# mounted, as a crash leaves it), on tmpfs, ext4, xfs and btrfs
# branches (the xino file on the same file systems); a branch inode number
# reused by a new file gets a new union number; xino=PATH (absolute and
# relative), noxino, no writable branch; the xino file is never visible
# through the union; unusable xino files fail the mount with one line; a
# full file system under the xino file loses no number (kept in memory,
# written once there is room).
# Numbers of objects removed through the union are reused and the file does
# not grow with churn, and come back with another generation
# (FS_IOC_GETVERSION); a format 1 file is converted with its numbers.
# Copy-up is not covered here.
# vm-args: --timeout 900
. "$(dirname "$0")/lib.sh"
require_module
section() { _cpa_say ""; _cpa_say "== $* == [${SECONDS}s]"; }

T=/tmp/xi
M=$T/m
mkdir -p "$T"

# sysfs directory of the mount at $1, from the si= option of mountinfo.
si_dir() {
	local m id
	m=$(realpath "$1")
	id=$(awk -v m="$m" '$5 == m' /proc/self/mountinfo |
		grep -o 'si=[0-9a-f]*' | cut -d= -f2)
	printf '/sys/fs/cppaufs/si_%s\n' "$id"
}

xi_path() { cat "$(si_dir "$1")/xi_path"; }

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# Has the kernel logged a cppaufs line matching the fixed string $1?
dmesg_has() { dmesg | grep -F "cppaufs: " | grep -qF -- "$1"; }

# "inode generation" (FS_IOC_GETVERSION) of each path given.
inogen() {
	python3 - "$@" <<'EOF'
import fcntl, os, struct, sys
FS_IOC_GETVERSION = 0x80087601
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY)
    g = struct.unpack("l", fcntl.ioctl(fd, FS_IOC_GETVERSION, bytes(8)))[0]
    print(os.fstat(fd).st_ino, g & 0xffffffff)
    os.close(fd)
EOF
}

# "name inode" for each name under the mount $1, in the order given.  One
# stat for all: every process costs seconds in the VM.
inos() {
	local m=$1 f p=()
	shift
	for f in "$@"; do p+=("$m/$f"); done
	paste -d' ' <(printf '%s\n' "$@") <(stat -c %i -- "${p[@]}")
}

# Every number in the "name inode" file $1 is distinct (h2, the hard link
# of h1, left out).
assert_unique() {
	local dups
	dups=$(awk '$1 != "h2" && n[$2]++ == 1 { printf "%s ", $2 }' "$1")
	assert_eq "" "$dups" "duplicate union inode numbers in $2"
}

# same_numbers EXPECTED ACTUAL WHAT: two "name inode" files are equal.
same_numbers() {
	if cmp -s "$1" "$2"; then
		pass "$3"
	else
		fail "$3: $(diff "$1" "$2" | tr '\n' ' ')"
	fi
}

# The xino file is neither listed nor reachable through the mount $1.
assert_hidden() {
	local m=$1 name=$2 listed
	# shellcheck disable=SC2010 # names are plain here
	listed=$(ls -a "$m" | grep -Fx -- "$name" || true)
	assert_eq "" "$listed" "$name listed by ls -a $m"
	if [ -e "$m/$name" ]; then
		fail "$m/$name is visible through the union"
	else
		pass "$m/$name is not visible"
	fi
}

# mount_fails MSG-ERE DIRS OPTS: the mount fails and the kernel says why.
mount_fails() {
	local ere=$1 dirs=$2 opts=$3 before after
	expect_dmesg "$ere"
	before=$(dmesg | wc -l)
	mkdir -p "$T/fail"
	if mount -t cppaufs -o "dirs=$dirs,$opts" none "$T/fail" 2>/dev/null; then
		fail "mount -o $opts succeeded, expected: $ere"
		umount "$T/fail"
		return 0
	fi
	after=$(dmesg | tail -n +"$((before + 1))")
	_cpa_say "$after"
	if grep -qE -- "$ere" <<<"$after"; then
		pass "mount -o $opts refused: $ere"
	else
		fail "mount -o $opts refused without the message $ere"
	fi
}

# -- 1. the default xino file on tmpfs ----------------------------------------
section "default xino file, tmpfs branches"
mkfs_loop tmpfs "$T/t0" 64M
mkfs_loop tmpfs "$T/t1" 64M
echo a >"$T/t0/a"
mkdir -p "$T/t1/d/e"
echo b >"$T/t1/b"
echo c >"$T/t1/d/c"
echo h >"$T/t1/h1"
ln "$T/t1/h1" "$T/t1/h2"
names=(. a b d d/c d/e h1 h2)

run cpa_mount "$M" "$T/t0:$T/t1"
assert_eq "$T/t0/.aufs.xino" "$(xi_path "$M")" "xi_path"
ok test -f "$T/t0/.aufs.xino"
assert_eq 600 "$(stat -c %a "$T/t0/.aufs.xino")" "mode of the xino file"
assert_hidden "$M" .aufs.xino
run ls -ai "$M"
inos "$M" "${names[@]}" >"$T/ino.1"
run cat "$T/ino.1"
assert_eq 2 "$(stat -c %i "$M")" "root inode number"
assert_unique "$T/ino.1" "the first mount"
assert_eq "$(stat -c %i "$M/h1")" "$(stat -c %i "$M/h2")" "hard links share a number"

drop_caches
inos "$M" "${names[@]}" >"$T/ino.2"
same_numbers "$T/ino.1" "$T/ino.2" "same numbers after drop_caches"

run cpa_umount "$M"
run cpa_mount "$M" "$T/t0:$T/t1"
# Look up in another order: numbers come from the file, not from the order.
inos "$M" h2 d/e d/c b a h1 d . | sort >"$T/ino.3"
same_numbers <(sort "$T/ino.1") "$T/ino.3" "same numbers after umount + mount"
# A new file gets a number never handed out before.
echo n >"$T/t1/new"
inos "$M" new >>"$T/ino.3"
assert_unique "$T/ino.3" "the second mount"
run cpa_umount "$M"

section "changes reach the file on syncfs, or soon after"
# New numbers are queued and written a moment later, or at once by syncfs
# and unmount.  A copy of the file taken then (not unmounted cleanly, as
# after a crash) gives the same numbers.
mkdir "$T/t1/many"
for i in $(seq 1 300); do : >"$T/t1/many/f$i"; done
run cpa_mount "$M" "$T/t0:$T/t1"
stat -c %i "$M"/many/* >/dev/null
run sync -f "$M"
cp "$T/t0/.aufs.xino" "$T/synced.xino"
for i in $(seq 1 300); do : >"$M/many/g$i"; done
sleep 2
cp "$T/t0/.aufs.xino" "$T/soon.xino"
many=() fonly=()
for i in $(seq 1 300); do
	many+=("many/f$i" "many/g$i")
	fonly+=("many/f$i")
done
inos "$M" "${many[@]}" >"$T/many.1"
run cpa_umount "$M"
run cpa_mount "$M" "$T/t0:$T/t1" "xino=$T/soon.xino"
inos "$M" "${many[@]}" >"$T/many.2"
same_numbers "$T/many.1" "$T/many.2" \
	"600 new numbers in the file within 2 s, without syncfs (a crash copy)"
run cpa_umount "$M"
run cpa_mount "$M" "$T/t0:$T/t1" "xino=$T/synced.xino"
inos "$M" "${fonly[@]}" >"$T/many.3"
same_numbers <(awk 'NR % 2 == 1' "$T/many.1") "$T/many.3" \
	"syncfs wrote the numbers of 300 new names (a crash copy)"
run cpa_umount "$M"

section "torn and zeroed tails are ignored"
cp "$T/t0/.aufs.xino" "$T/xino.saved"
# a record torn by a crash, then units of zeros (xfs after a crash)
printf 'torn-record' >>"$T/t0/.aufs.xino"
run cpa_mount "$M" "$T/t0:$T/t1"
inos "$M" h2 d/e d/c b a h1 d . new | sort >"$T/ino.4"
same_numbers <(sort "$T/ino.3") "$T/ino.4" "numbers kept with a torn last record"
echo n2 >"$T/t1/new2"
inos "$M" new2 >>"$T/ino.4"
assert_unique "$T/ino.4" "the mount after a torn record"
run cpa_umount "$M"
head -c 96 /dev/zero >>"$T/t0/.aufs.xino"
run cpa_mount "$M" "$T/t0:$T/t1"
inos "$M" h2 d/e d/c b a h1 d . new new2 | sort >"$T/ino.5"
same_numbers <(sort "$T/ino.4") "$T/ino.5" \
	"numbers kept after the torn record was replaced and zeros added"
run cpa_umount "$M"

section "branches reordered and made read-only keep their numbers"
# Branch t1 on top (read-only), t0 below: t1's objects keep their numbers.
run cpa_mount "$M" "$T/t1=ro:$T/t0=ro" "xino=$T/t0/.aufs.xino"
inos "$M" b d/c h1 a | sort >"$T/ino.6"
same_numbers <(grep -E '^(b|d/c|h1|a) ' "$T/ino.5" | sort) "$T/ino.6" \
	"numbers follow the branch, not its position"
run cpa_umount "$M"

section "a format 1 file is converted, every number kept; mount does not read it"
mkfs_loop tmpfs "$T/u0" 64M
mkfs_loop tmpfs "$T/u1" 64M
ufiles=() umap=()
for i in $(seq 1 20); do
	echo "$i" >"$T/u1/f$i"
	ufiles+=("f$i")
	umap+=("1:$(stat -c %i "$T/u1/f$i"):$((5000 + i))")
done
# A format 2 file names the two branches; the format 1 file copies them.
run cpa_mount "$M" "$T/u0:$T/u1" "xino=$T/small.xino"
run cpa_umount "$M"
# f1..f20 are 5001..5020, and objects that do not exist any more hold a
# run of numbers above them: 200,000 from 100,000 on the kernel that runs
# the whole matrix, 20,000 from 10,000 on the others (the conversion is
# the module's own arithmetic, and its reads and writes are the same
# calls at any size).  Either way more than half the numbers are in use,
# so new ones come from above (xino.c).
if vm_full_matrix; then extra=200000 base=100000; else extra=20000 base=10000; fi
run python3 "$(dirname "$0")/xino_v1.py" --extra "$extra" --base "$base" \
	"$T/small.xino" \
	"$T/big.xino" "${umap[@]}"
run ls -l "$T/big.xino"
paste -d' ' <(printf '%s\n' "${ufiles[@]}") <(seq 5001 5020) >"$T/up.0"
expect_dmesg "cppaufs: xino $T/big.xino: converted to format 2 \($((extra + 20)) numbers in use\)"
t0=$(date +%s%N)
run cpa_mount "$M" "$T/u0:$T/u1" "xino=$T/big.xino"
t1=$(date +%s%N)
_cpa_say "conversion mount: $(((t1 - t0) / 1000000)) ms"
inos "$M" "${ufiles[@]}" >"$T/up.1"
same_numbers "$T/up.0" "$T/up.1" "numbers of a format 1 file kept by the conversion"
ok test ! -e "$T/big.xino.v2"
assert_eq 2 "$(od -An -tu4 -j8 -N4 "$T/big.xino" | tr -d ' ')" "format of the converted file"
echo n >"$T/u1/new"
new_u=$(stat -c %i "$M/new")
if [ "$new_u" -ge $((base + extra)) ]; then
	pass "a new object gets a number never handed out ($new_u)"
else
	fail "a new object got $new_u, below $((base + extra))"
fi
run cpa_umount "$M"
run cpa_mount "$M" "$T/u0:$T/u1" "xino=$T/big.xino"
inos "$M" "${ufiles[@]}" >"$T/up.2"
same_numbers "$T/up.0" "$T/up.2" "the same numbers after a remount of the converted file"
assert_eq "$new_u" "$(stat -c %i "$M/new")" "the new object's number after a remount"
run cpa_umount "$M"
# mount_ms XINO: the fastest of 3 mounts + first stat, and of 3 umounts, in ms.
mount_ms() {
	local best='' bestu='' t0 t1 t2 i
	for i in 1 2 3; do
		t0=$(date +%s%N)
		cpa_mount "$M" "$T/u0:$T/u1" "xino=$1"
		stat "$M/f7" >/dev/null
		t1=$(date +%s%N)
		cpa_umount "$M"
		t2=$(date +%s%N)
		t2=$(((t2 - t1) / 1000000))
		t1=$(((t1 - t0) / 1000000))
		if [ -z "$best" ] || [ "$t1" -lt "$best" ]; then best=$t1; fi
		if [ -z "$bestu" ] || [ "$t2" -lt "$bestu" ]; then bestu=$t2; fi
	done
	echo "$best $bestu"
}
read -r small_ms small_u < <(mount_ms "$T/small.xino")
read -r big_ms big_u < <(mount_ms "$T/big.xino")
_cpa_say "mount + first stat: $small_ms ms with 20 objects, $big_ms ms with $((extra + 20)) ($(stat -c %s "$T/big.xino") bytes); umount: $small_u ms, $big_u ms"
# Times in the emulated guest are noisy; what is read is not.  On ext4,
# with cold caches, a mount and a lookup read a few blocks of the file:
# of the big one, where readahead is a small part of it.
if vm_full_matrix; then
	mkfs_loop ext4 "$T/xe"
	cp "$T/big.xino" "$T/xe/big.xino"
	drop_caches
	cpa_mount "$M" "$T/u0:$T/u1" "xino=$T/xe/big.xino"
	stat "$M/f7" >/dev/null
	pages=$(fincore -n -b -o PAGES "$T/xe/big.xino" | tr -d ' ')
	cpa_umount "$M"
	total=$(($(stat -c %s "$T/xe/big.xino") / 4096))
	# Readahead brings in some more than the blocks read; format 1 read all.
	if [ $((pages * 4)) -le "$total" ]; then
		pass "a mount and a lookup read $pages of the $total pages of a file of 200,020 objects"
	else
		fail "a mount and a lookup read $pages of the $total pages of a file of 200,020 objects"
	fi
fi

section "numbers of removed objects are reused; the file stays the same size"
# Churn: 1,000 files created, looked up and removed through the union, 5
# rounds.  The numbers and the blocks of removed objects are freed: the
# file does not grow after the first round, and the numbers stay within
# about twice the most objects alive at once.
mkfs_loop tmpfs "$T/c0" 64M
mkfs_loop tmpfs "$T/c1" 64M
echo keep >"$T/c1/keep"
run cpa_mount "$M" "$T/c0:$T/c1"
keep_u=$(stat -c %i "$M/keep")
mkdir "$M/d"
sizes='' maxu=0
for r in 1 2 3 4 5; do
	for i in $(seq 1 1000); do : >"$M/d/f$i"; done
	stat -c '%n %i' "$M"/d/f* | sort >"$T/churn.$r"
	dups=$(awk '{print $2}' "$T/churn.$r" | sort | uniq -d | head -3)
	assert_eq "" "$dups" "round $r: numbers of live objects are distinct"
	u=$(awk '{print $2}' "$T/churn.$r" | sort -n | tail -1)
	[ "$u" -le "$maxu" ] || maxu=$u
	if grep -qw "$keep_u" <(awk '{print $2}' "$T/churn.$r"); then
		fail "round $r: a new file got the number of a live one ($keep_u)"
	fi
	[ "$r" -gt 2 ] || inogen "$M"/d/f* >"$T/gen.$r"
	rm -f "$M"/d/f*
	run sync -f "$M"
	sizes+="$(stat -c %s "$T/c0/.aufs.xino") "
done
_cpa_say "xino file size after each round: $sizes; highest number $maxu"
read -r _ s2 _ _ s5 <<<"$sizes"
if [ "$s5" -le "$s2" ]; then
	pass "the xino file stays at $s5 bytes after the first rounds ($sizes)"
else
	fail "the xino file grows with churn: $sizes"
fi
if [ "$maxu" -le 2100 ]; then
	pass "numbers are reused: the highest after 5,000 objects is $maxu"
else
	fail "numbers are not reused: the highest after 5,000 objects is $maxu"
fi
assert_eq "$keep_u" "$(stat -c %i "$M/keep")" "a live object keeps its number"
# A number handed out again comes with another generation: whoever holds
# (number, generation) of the removed object can tell.
same=$(awk 'NR == FNR { g[$1] = $2; next } ($1 in g) { n++; if (g[$1] == $2) s++ }
	END { print n + 0, s + 0 }' "$T/gen.1" "$T/gen.2")
read -r reused samegen <<<"$same"
if [ "$reused" -gt 0 ] && [ "$samegen" -eq 0 ]; then
	pass "$reused numbers of round 1 reused in round 2, each with another generation"
else
	fail "numbers of round 1 reused in round 2: $reused, with the same generation: $samegen"
fi
keep_g=$(inogen "$M/keep")
run cpa_umount "$M"
run cpa_mount "$M" "$T/c0:$T/c1"
assert_eq "$keep_u" "$(stat -c %i "$M/keep")" "... after a remount"
assert_eq "$keep_g" "$(inogen "$M/keep")" "... and its generation"
: >"$M/d/again"
u=$(stat -c %i "$M/d/again")
if [ "$u" -le 2100 ] && [ "$u" != "$keep_u" ]; then
	pass "after a remount a new object gets a free number ($u)"
else
	fail "after a remount a new object got $u"
fi
run cpa_umount "$M"

# -- 2. each branch file system, the xino file on it -------------------------
for fs in $(vm_fs_list ext4 xfs btrfs); do
	section "$fs branches, xino file on $fs"
	# Both branches on one file system: one image per type is enough.
	mkfs_loop "$fs" "$T/$fs"
	B0=$T/$fs/b0 B1=$T/$fs/b1 MF=$T/m.$fs
	mkdir -p "$B0" "$B1/d"
	for i in $(seq 1 8); do echo "$i" >"$B1/d/f$i"; done
	echo x >"$B1/x"
	echo y >"$B0/y"
	fnames=(. d x y)
	for i in $(seq 1 8); do fnames+=("d/f$i"); done

	run cpa_mount "$MF" "$B0:$B1"
	assert_eq "$B0/.aufs.xino" "$(xi_path "$MF")" "xi_path on $fs"
	assert_hidden "$MF" .aufs.xino
	ls -a "$MF/d" >/dev/null
	N=$T/n.$fs
	inos "$MF" "${fnames[@]}" >"$N.1"
	assert_unique "$N.1" "$fs"
	drop_caches
	inos "$MF" "${fnames[@]}" >"$N.2"
	same_numbers "$N.1" "$N.2" "$fs: same numbers after drop_caches"
	run cpa_umount "$MF"
	run cpa_mount "$MF" "$B0:$B1"
	inos "$MF" "${fnames[@]}" >"$N.3"
	same_numbers "$N.1" "$N.3" "$fs: same numbers after umount + mount"
	run cpa_umount "$MF"

	# Behind the union: x is removed and a new file created; the branch
	# file system may give it x's inode number again, with a new
	# generation.  It must not get x's union number.
	old_h=$(stat -c %i "$B1/x")
	rm "$B1/x"
	echo z >"$B1/z"
	new_h=$(stat -c %i "$B1/z")
	if [ "$old_h" = "$new_h" ]; then
		_cpa_say "$fs reused branch inode $old_h for the new file"
	else
		_cpa_say "$fs did not reuse branch inode $old_h (new file is $new_h)"
	fi
	run cpa_mount "$MF" "$B0:$B1"
	{ grep -v '^x ' "$N.1"; inos "$MF" z; } >"$N.4"
	old_u=$(awk '$1 == "x" {print $2}' "$N.1")
	new_u=$(stat -c %i "$MF/z")
	if [ "$old_u" != "$new_u" ]; then
		pass "$fs: the new file got a new number ($old_u -> $new_u)"
	else
		fail "$fs: the new file got the removed file's number $old_u"
	fi
	assert_unique "$N.4" "$fs with the new file"
	inos "$MF" "${fnames[@]:0:2}" "${fnames[@]:3}" >"$N.5"
	same_numbers <(grep -v '^x ' "$N.1") "$N.5" \
		"$fs: the other numbers are unchanged"
	run cpa_umount "$MF"
done

# -- 3. xino=PATH, noxino, no writable branch --------------------------------
section "xino=PATH elsewhere (ext4), absolute and relative"
run cpa_mount "$M" "$T/t0:$T/t1" "xino=$T/ext4/sub.xino"
assert_eq "$T/ext4/sub.xino" "$(xi_path "$M")" "xi_path"
ok test -f "$T/ext4/sub.xino"
inos "$M" a b d/c >"$T/x.1"
run cpa_umount "$M"
run cpa_mount "$M" "$T/t0:$T/t1" "xino=$T/ext4/sub.xino"
inos "$M" a b d/c >"$T/x.2"
same_numbers "$T/x.1" "$T/x.2" "same numbers with xino=PATH"
run cpa_umount "$M"
mkdir -p "$M"
run_sh "cd $T && mount -t cppaufs -o dirs=t0:t1,xino=rel.xino none m"
_cpa_mounts+=("$M")
assert_eq "$T/rel.xino" "$(xi_path "$M")" "xi_path of a relative xino="
ok test -f "$T/rel.xino"
run cpa_umount "$M"

section "a full file system under the xino file: nothing lost, written once there is room"
# New numbers need new blocks of the file; while they cannot be written the
# union keeps them in memory and tries again, and the file catches up once
# there is room.  Dropping written blocks instead would give objects new
# numbers after drop_caches, and free numbers in use.
mkfs_loop tmpfs "$T/full" 256k
mkdir "$T/t1/many2"
full=()
for i in $(seq 1 400); do
	: >"$T/t1/many2/f$i"
	full+=("many2/f$i")
done
X=$T/full/x.xino
expect_dmesg "cppaufs: xino $X: write error -28: kept in memory and tried again"
expect_dmesg "cppaufs: xino $X: written again after error -28"
run cpa_mount "$M" "$T/t0:$T/t1" "xino=$X"
dd if=/dev/zero of="$T/full/fill" bs=4k status=none 2>/dev/null || true
run df -k "$T/full"
inos "$M" "${full[@]}" >"$T/full.1"
assert_unique "$T/full.1" "400 new names, the xino file system full"
run_sh "sync -f $M || true"
sleep 1.5
ok dmesg_has "xino $X: write error -28"
drop_caches
inos "$M" "${full[@]}" >"$T/full.2"
same_numbers "$T/full.1" "$T/full.2" \
	"same numbers after drop_caches while the xino file cannot be written"
run rm "$T/full/fill"
sleep 2.5
ok dmesg_has "xino $X: written again"
run cpa_umount "$M"
run cpa_mount "$M" "$T/t0:$T/t1" "xino=$X"
inos "$M" "${full[@]}" >"$T/full.3"
same_numbers "$T/full.1" "$T/full.3" "same numbers after umount + mount"
# Full again at unmount: the new numbers are lost, and said so; what the
# file held stays readable, as nothing on disk points at an unwritten block.
mkdir "$T/t1/many3"
for i in $(seq 1 300); do : >"$T/t1/many3/f$i"; done
expect_dmesg "cppaufs: xino $X: unmounted unwritten \(error -28\): numbers handed out since the last write are lost"
dd if=/dev/zero of="$T/full/fill" bs=4k status=none 2>/dev/null || true
stat "$M"/many3/* >/dev/null
run cpa_umount "$M"
ok dmesg_has "xino $X: unmounted unwritten (error -28)"
run rm "$T/full/fill"
run cpa_mount "$M" "$T/t0:$T/t1" "xino=$X"
inos "$M" "${full[@]}" >"$T/full.4"
same_numbers "$T/full.1" "$T/full.4" \
	"same numbers after an unmount that could not write the file"
run cpa_umount "$M"
umount "$T/full"

section "the xino file inside a lower branch is hidden"
mkdir -p "$T/t1/sub"
run cpa_mount "$M" "$T/t0:$T/t1" "xino=$T/t1/sub/lower.xino"
assert_hidden "$M/sub" lower.xino
run cpa_umount "$M"

section "noxino"
rm -f "$T/t0/.aufs.xino"
run cpa_mount "$M" "$T/t0:$T/t1" noxino
assert_eq "" "$(xi_path "$M")" "xi_path with noxino"
ok test ! -e "$T/t0/.aufs.xino"
inos "$M" "${names[@]}" >"$T/nx.1"
assert_unique "$T/nx.1" noxino
drop_caches
inos "$M" "${names[@]}" >"$T/nx.2"
same_numbers "$T/nx.1" "$T/nx.2" "noxino: same numbers after drop_caches"
run cpa_umount "$M"
# the last of xino= and noxino wins
run cpa_mount "$M" "$T/t0:$T/t1" "xino=$T/t0/.aufs.xino,noxino"
assert_eq "" "$(xi_path "$M")" "xi_path with xino=...,noxino"
run cpa_umount "$M"

section "no writable branch: no xino file"
run cpa_mount "$M" "$T/t0=ro:$T/t1=ro"
assert_eq "" "$(xi_path "$M")" "xi_path without a writable branch"
ok test ! -e "$T/t0/.aufs.xino"
run cpa_umount "$M"

# -- 4. xino files that cannot be used ---------------------------------------
section "unusable xino files fail the mount"
mount_fails "cppaufs: xino: $T/t1: is a directory" "$T/t0:$T/t1" "xino=$T/t1"
mount_fails "cppaufs: xino: $T/nodir/x: no such directory" "$T/t0:$T/t1" \
	"xino=$T/nodir/x"
mount_fails "cppaufs: xino: $T/t1/b/x: a path component is not a directory" \
	"$T/t0:$T/t1" "xino=$T/t1/b/x"
mkfifo "$T/fifo"
mount_fails "cppaufs: xino: $T/fifo: not a regular file" "$T/t0:$T/t1" \
	"xino=$T/fifo"
mkfs_loop tmpfs "$T/rofs" 8M
mount -o remount,ro "$T/rofs"
mount_fails "cppaufs: xino: $T/rofs/x: read-only file system" "$T/t0:$T/t1" \
	"xino=$T/rofs/x"
echo "not an xino file, but it has some content" >"$T/junk"
mount_fails "cppaufs: xino: $T/junk: not a cppaufs xino file" "$T/t0:$T/t1" \
	"xino=$T/junk"
# poke FILE OFFSET BYTE: in both copies of the header (blocks 0 and 1).
poke() {
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
	printf "$3" | dd of="$1" bs=1 seek=$(($2 + 4096)) conv=notrunc status=none
}
cp "$T/xino.saved" "$T/badver"
poke "$T/badver" 8 '\x07'
mount_fails "cppaufs: xino: $T/badver: unsupported version 7" "$T/t0:$T/t1" \
	"xino=$T/badver"
cp "$T/xino.saved" "$T/badhdr"
poke "$T/badhdr" 40 X
mount_fails "cppaufs: xino: $T/badhdr: corrupt header" "$T/t0:$T/t1" \
	"xino=$T/badhdr"
run cpa_mount "$M" "$T/t0:$T/t1"
mkdir -p "$T/other"
mount_fails "cppaufs: xino: $T/t0/.aufs.xino: in use by another cppaufs mount" \
	"$T/other:$T/t1=ro" "xino=$T/t0/.aufs.xino"
run cpa_umount "$M"
# once the first mount is gone the file can be used again
run cpa_mount "$M" "$T/other:$T/t1=ro" "xino=$T/t0/.aufs.xino"
run cpa_umount "$M"

section "one damaged copy of the header: the other one counts"
cp "$T/xino.saved" "$T/onehdr"
printf 'X' | dd of="$T/onehdr" bs=1 seek=40 conv=notrunc status=none
run cpa_mount "$M" "$T/t0:$T/t1" "xino=$T/onehdr"
inos "$M" "${names[@]}" new | sort >"$T/oh.1"
same_numbers <(sort "$T/ino.3") "$T/oh.1" "numbers kept with one header copy damaged"
run cpa_umount "$M"

section "damaged blocks are skipped with a warning"
# A byte in every block after the headers: a slot, a record, a pointer.
cp "$T/xino.saved" "$T/damaged"
nb=$(($(stat -c %s "$T/damaged") / 4096))
for ((b = 2; b < nb; b++)); do
	printf 'X' | dd of="$T/damaged" bs=1 seek=$((b * 4096 + 100)) \
		conv=notrunc status=none
done
expect_dmesg "cppaufs: xino $T/damaged: "
run cpa_mount "$M" "$T/t0:$T/t1" "xino=$T/damaged"
inos "$M" "${names[@]}" new new2 >"$T/dm.1"
run cat "$T/dm.1"
assert_unique "$T/dm.1" "the mount with damaged blocks"
run cpa_umount "$M"
