#!/bin/bash
# Power cut, part 1 (guest; tests/vm/powercut.sh runs it): on a fresh file
# system of type $1 on the kept disk, build a union, record its state on the
# results share, start five operations at once and reset the machine
# without sync after $2 milliseconds:
#   - copy-up of a 32 MiB lower file (an append through the union);
#   - whiteouts (rm of lower files);
#   - the rename of a merged directory (copied up into an opaque one first);
#   - metadata-only copy-ups (chmod of lower files);
#   - files created and fsync'd one after another, each recorded with its
#     checksum and union inode number once fsync returned (xino appends).
# verify.sh, after the next boot, checks every object is in its old or its
# new state.
. "$(dirname "$0")/../lib.sh"
require_module

. "$(dirname "$0")/common.sh"

fs=$1 delay_ms=$2
: >"$S/created"

section "prepare ($fs, cut after $delay_ms ms)"
case $fs in
ext4) run mkfs.ext4 -q -F "$dev" ;;
xfs) run mkfs.xfs -q -f "$dev" ;;
*) fail "unknown fs $fs"; exit 1 ;;
esac
pc_mount_disk
mkdir -p "$D/upper" "$D/lower/dir/sub" "$D/upper/dir"
head -c $((32 << 20)) /dev/urandom >"$D/lower/big"
for i in 1 2 3 4 5; do
	echo "whiteout $i" >"$D/lower/wh$i"
	echo "meta $i" >"$D/lower/meta$i"
	chmod 644 "$D/lower/meta$i"
	echo "lower $i" >"$D/lower/dir/l$i"
	echo "upper $i" >"$D/upper/dir/u$i"
	echo "sub $i" >"$D/lower/dir/sub/s$i"
done
sync
pc_mount_union
# The state before: checksums of everything the union shows.
(cd "$U" && find . -type f ! -name big -print0 | sort -z |
	xargs -0 sha256sum) >"$S/before.sums"
sha256sum <"$U/big" | cut -d' ' -f1 >"$S/big.old"
{ cat "$U/big"; echo x; } | sha256sum | cut -d' ' -f1 >"$S/big.new"
(cd "$U/dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum) \
	>"$S/dir.sums"
(cd "$D/lower" && find . -type f -print0 | sort -z | xargs -0 sha256sum) \
	>"$S/lower.sums"
sync

section "cut"
# run.sh --powercut wants this line; the serial line needs a moment to
# carry it out before the reset.
echo "vmrig-powercut: armed"
sleep 0.5
echo x >>"$U/big" &
rm -f "$U/wh1" "$U/wh2" "$U/wh3" "$U/wh4" "$U/wh5" &
mv "$U/dir" "$U/dir2" &
chmod 600 "$U/meta1" "$U/meta2" "$U/meta3" "$U/meta4" "$U/meta5" &
"$(dirname "$0")/fsync_creates.py" --repeat 500 "$U" "$S/created" &
sleep "$(awk -v m="$delay_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
echo b >/proc/sysrq-trigger
sleep 30
fail "still running after the reset"
