# shellcheck shell=bash
# What the power-cut guest scripts share, sourced after lib.sh: the kept
# disk ($dev), the results share ($S), and where the disk ($D) and the
# union of $D/upper over $D/lower ($U) are mounted.
dev=${CPPAUFS_DISK_DATA:?no data disk}
S=$CPPAUFS_VM_STATE
D=/mnt/pc-disk U=/mnt/pc-union
mkdir -p "$D" "$U"

# The kept disk at $D, unmounted at exit.
pc_mount_disk() {
	run mount "$dev" "$D"
	_cpa_mounts+=("$D")
}

# The union at $U, unmounted at exit.
pc_mount_union() {
	run mount -t cppaufs -o "dirs=$D/upper:$D/lower=ro" none "$U"
	_cpa_mounts+=("$U")
}

# pc_fsck FS: after the cut, the disk of type FS needs nothing fixed.
# Mounting it first replays the journal (and ext4 counts anew the free
# blocks it does not journal).
pc_fsck() {
	section "fsck ($1)"
	run mount "$dev" "$D"
	run umount "$D"
	case $1 in
	ext4) ok e2fsck -fn "$dev" ;;
	xfs) ok xfs_repair -n "$dev" ;;
	esac
}
